"""The review pages of the consultant portal, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re

import pytest

from stappen import audit
from stappen.consultant import review_views
from stappen.consultant.review_texts import REVIEW_TEXTS
from stappen.review.evidencecheck import check_document
from tests.consultants import add_consultant, login
from tests.reviewsetup import apply, make_review_api, revoke_issued

LIST = "/consultant/applications"


@pytest.fixture
def portal(tmp_path, database_url):
    setup = make_review_api(tmp_path, database_url)
    setup.application_id, setup.issuing = apply(setup)
    add_consultant(setup.app, "anna", "utrecht", name="Anna de Vries")
    add_consultant(setup.app, "bert", "amersfoort", name="Bert Jansen")
    return setup


def _detail(setup) -> str:
    return f"/consultant/applications/{setup.application_id}"


def _application(setup) -> dict:
    with setup.app.extensions["stappen.storage"].connection() as db:
        return db.application(setup.application_id)


def _events(setup, kind: str) -> list:
    with setup.app.extensions["stappen.storage"].connection() as db:
        return [
            event
            for event in audit.read_events(db)
            if event.kind == kind and event.subject == setup.application_id
        ]


def _decide(client, setup, csrf: str, **fields):
    data = {
        "csrf_token": csrf,
        "outcome": "granted",
        "motivation": "Voldoet aan de voorwaarden.",
        "amount": "264",
        **fields,
    }
    return client.post(_detail(setup) + "/decision", data=data)


def test_review_texts_have_same_keys():
    assert set(REVIEW_TEXTS["nl"]) == set(REVIEW_TEXTS["en"])


def test_list_shows_own_applications(portal):
    client = portal.app.test_client()
    login(client, "anna")
    page = client.get("/consultant/").get_data(as_text=True)
    reference = _application(portal)["reference"]

    assert reference in page
    assert "Individuele inkomenstoeslag" in page
    assert "&euro; 264" in page
    assert "Klopt met de voucher" in page


def test_list_hides_other_municipality(portal):
    client = portal.app.test_client()
    login(client, "bert")
    page = client.get(LIST).get_data(as_text=True)

    assert _application(portal)["reference"] not in page
    assert "Er zijn geen aanvragen" in page


def test_list_filters_by_status(portal):
    client = portal.app.test_client()
    reference = _application(portal)["reference"]
    login(client, "anna")
    submitted = client.get(LIST + "?status=submitted").get_data(as_text=True)
    granted = client.get(LIST + "?status=granted").get_data(as_text=True)
    other_scheme = client.get(LIST + "?scheme=Onbekend").get_data(as_text=True)

    assert reference in submitted
    assert reference not in granted
    assert reference in other_scheme


def test_list_paginates_newest_first(portal, monkeypatch):
    second, _ = apply(portal)
    with portal.app.extensions["stappen.storage"].connection() as db:
        newest = db.application(second)["reference"]
    oldest = _application(portal)["reference"]
    monkeypatch.setattr(review_views, "PAGE_SIZE", 1)
    client = portal.app.test_client()
    login(client, "anna")
    first = client.get(LIST).get_data(as_text=True)
    following = client.get(LIST + "?page=2").get_data(as_text=True)

    assert newest in first
    assert oldest not in first
    assert "Aanvragen 1 tot en met 1 van 2" in first
    assert 'rel="next" href="/consultant/applications?page=2"' in first
    assert oldest in following
    assert "Pagina 2 van 2" in following
    assert 'rel="prev"' in following


def test_list_marks_outcome_mismatch(portal):
    with portal.app.extensions["stappen.storage"].connection() as db:
        db._execute(
            "UPDATE applications SET outcome_matches = :no WHERE id = :id",
            {"no": False, "id": portal.application_id},
        )
    client = portal.app.test_client()
    login(client, "anna")
    page = client.get(LIST).get_data(as_text=True)

    assert "Wijkt af van de voucher" in page
    assert "review-row--attention" in page


def test_detail_shows_all_checks_passed(portal):
    client = portal.app.test_client()
    login(client, "anna")
    response = client.get(_detail(portal))
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "Alle controles geslaagd" in page
    assert "Mislukt" not in page
    assert "review-row--matched" in page
    assert "<code>alleenstaande</code>" in page
    assert "Toegepaste regels" in page
    assert "netto_per_maand" in page
    assert len(_events(portal, "consultant.viewed")) == 1


def test_detail_in_english(portal):
    add_consultant(portal.app, "carla", "utrecht", lang="en")
    client = portal.app.test_client()
    login(client, "carla")
    page = client.get(_detail(portal)).get_data(as_text=True)

    assert "All checks passed" in page
    assert '<html lang="en">' in page


def test_detail_shows_revoked_credential_now(portal):
    portal.clock.advance(60)
    revoke_issued(portal, portal.issuing, "urn:stappen:vil:inkomen")
    client = portal.app.test_client()
    login(client, "anna")
    page = client.get(_detail(portal)).get_data(as_text=True)

    assert "Niet alle controles zijn geslaagd" in page
    assert "1 controle(s) mislukken nu." in page
    assert "mislukten bij het aanbieden" not in page
    assert "credential is revoked" in page
    assert page.count("review-row--failed") == 1
    assert "Niet uitgevoerd" in page  # the query check, after the failed status


def test_detail_shows_changed_amount(portal):
    record = _application(portal)["record"]
    record["voucher"]["bedrag"] = "364"
    with portal.app.extensions["stappen.storage"].connection() as db:
        db._execute(
            "UPDATE applications SET record = :record WHERE id = :id",
            {"record": db.backend.dump_json(record), "id": portal.application_id},
        )
    client = portal.app.test_client()
    login(client, "anna")
    page = client.get(_detail(portal)).get_data(as_text=True)

    assert "1 verschil(len) tussen de voucher en de herberekening." in page
    comparison = page[page.index('id="comparison-caption"') :]
    row = re.search(
        r'<tr class="review-row--failed">\s*<th scope="row">(\w+)</th>', comparison
    )
    assert row is not None
    assert row.group(1) == "bedrag"
    assert "Verschilt" in comparison[row.end() : row.end() + 400]


def test_detail_shows_erased_record(portal):
    client = portal.app.test_client()
    csrf = login(client, "anna")
    _decide(client, portal, csrf)
    portal.clock.advance(1)
    with portal.app.extensions["stappen.storage"].connection() as db:
        erased = db.erase_application_records(portal.clock.now, now=portal.clock.now)
    assert erased == [portal.application_id]
    page = client.get(_detail(portal)).get_data(as_text=True)

    assert "Het bewijs is gewist" in page
    assert "Toegekend" in page


def test_decide_grant_records_audit(portal):
    client = portal.app.test_client()
    csrf = login(client, "anna")
    response = _decide(client, portal, csrf)
    application = _application(portal)
    [event] = _events(portal, "decision.made")

    assert response.status_code == 303
    assert response.headers["Location"].endswith("notice=decided#notice")
    assert application["status"] == "granted"
    assert application["decision"]["amount"] == "264"
    assert application["decision"]["motivation"] == "Voldoet aan de voorwaarden."
    assert json.loads(event.data) == {"amount": "264", "outcome": "granted"}
    assert event.personal_digest is not None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Het besluit is opgeslagen." in page
    assert "Anna de Vries" in page


def test_second_decision_says_decided(portal):
    client = portal.app.test_client()
    csrf = login(client, "anna")
    _decide(client, portal, csrf)
    again = _decide(client, portal, csrf, outcome="rejected", amount="")
    page = client.get(again.headers["Location"]).get_data(as_text=True)

    assert again.headers["Location"].endswith("notice=already_decided#notice")
    assert "Over deze aanvraag is al besloten." in page
    assert _application(portal)["status"] == "granted"
    assert len(_events(portal, "decision.made")) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"outcome": ""}, "Kies toekennen of afwijzen."),
        ({"motivation": "  "}, "Vul een motivering in."),
        ({"motivation": "x" * 2001}, "De motivering is te lang"),
        ({"amount": "veel"}, "Vul bij toekennen een bedrag in euro in"),
        ({"amount": "-5"}, "Vul bij toekennen een bedrag in euro in"),
    ],
)
def test_invalid_decision_shows_errors(portal, fields, message):
    client = portal.app.test_client()
    csrf = login(client, "anna")
    response = _decide(client, portal, csrf, **fields)
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert 'class="consultant-error-summary"' in page
    assert message in page
    assert _application(portal)["status"] == "submitted"


def test_reject_stores_no_amount(portal):
    client = portal.app.test_client()
    csrf = login(client, "anna")
    _decide(client, portal, csrf, outcome="rejected", amount="264")

    assert _application(portal)["decision"]["amount"] is None
    assert _application(portal)["status"] == "rejected"


def test_amount_with_comma_is_decimal(portal):
    client = portal.app.test_client()
    csrf = login(client, "anna")
    _decide(client, portal, csrf, amount="264,50")

    assert _application(portal)["decision"]["amount"] == "264.50"


def test_decision_without_csrf_rejected(portal):
    client = portal.app.test_client()
    login(client, "anna")
    response = _decide(client, portal, "")

    assert response.status_code == 400
    assert _application(portal)["status"] == "submitted"
    assert _events(portal, "decision.made") == []


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("get", "/evidence.json"), ("post", "/decision")],
)
def test_other_municipality_gets_404(portal, method, suffix):
    client = portal.app.test_client()
    csrf = login(client, "bert")
    data = {"csrf_token": csrf, "outcome": "granted", "motivation": "x", "amount": "1"}
    response = getattr(client, method)(_detail(portal) + suffix, data=data)

    assert response.status_code == 404
    assert _application(portal)["status"] == "submitted"
    assert _events(portal, "consultant.viewed") == []
    assert _events(portal, "evidence.exported") == []


def test_unknown_application_404(portal):
    client = portal.app.test_client()
    login(client, "anna")

    assert client.get("/consultant/applications/onbekend").status_code == 404


def test_export_downloads_verifiable_evidence(portal):
    client = portal.app.test_client()
    csrf = login(client, "anna")
    _decide(client, portal, csrf)
    response = client.get(_detail(portal) + "/evidence.json")
    document = response.get_json()
    failed = [line.text() for line in check_document(document) if not line.passed]

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert failed == []
    assert len(_events(portal, "evidence.exported")) == 1
    assert "secret_hash" not in document["application"]


def test_anonymous_export_rejected(portal):
    response = portal.app.test_client().get(_detail(portal) + "/evidence.json")

    assert response.status_code in (302, 303)
    assert _events(portal, "evidence.exported") == []
