"""Redeeming a voucher, POST /api/v1/applications, on the VIL flow.

The project's test wallet receives a persona's data, shares it with the
check step, receives the voucher and then presents it at the application
step, all on the real API app and a real database (SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import UTC, datetime

import pytest

from stappen import apiconfig
from stappen.wallet.store import Wallet
from tests.conftest import PROJECT

APPLICATIONS = "/api/v1/applications"
CHECKS = "/api/v1/checks"
IN_PERIOD = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
VOUCHER_VCT = "urn:stappen:vil:voucher"
REFERENCE_CHARACTERS = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


@pytest.fixture
def e2e(tmp_path, database_url):
    from tests.test_wallet import make_e2e

    steps = tmp_path / "steps"
    shutil.copytree(PROJECT / "steps" / "vil", steps / "vil")
    setup = make_e2e(tmp_path, steps, database_url)
    setup.clock.now = IN_PERIOD
    apiconfig.generate_keys(setup.app, force=True)
    setup.steps = steps
    return setup


def _receive(e2e, persona: str) -> None:
    issuing = e2e.start("gegevens-ophalen", persona=persona)
    e2e.holder.receive(issuing["wallet_url"])


def _get_voucher(e2e, persona: str = "sanne") -> dict:
    """Check a persona's data at step toets and put the voucher in the wallet."""
    _receive(e2e, persona)
    presenting = e2e.start("gegevens-delen")
    e2e.holder.present(presenting["wallet_url"])
    assert e2e.status(presenting) == "verified"
    body = {
        "flow": "vil",
        "step": "toets",
        "lang": "nl",
        "presentation": presenting["transaction_id"],
    }
    checked = e2e.client.post(CHECKS, json=body).get_json()
    assert checked["eligible"] is True, checked
    e2e.holder.receive(checked["voucher"]["wallet_url"])
    return checked


def _present_voucher(e2e) -> str:
    """Present the voucher and data at step aanvragen; return the session id."""
    session = e2e.start("aanvragen", lang="nl")
    e2e.holder.present(session["wallet_url"])
    assert e2e.status(session) == "verified"
    return session["transaction_id"]


def _apply(e2e, presentation: str, step: str = "aanvragen"):
    body = {"flow": "vil", "step": step, "presentation": presentation, "lang": "nl"}
    return e2e.client.post(APPLICATIONS, json=body)


def _stored(e2e, reference: str) -> dict:
    with e2e.app.extensions["stappen.storage"].connection() as db:
        return db.application_by_reference(reference)


def _swap_credentials(e2e, persona: str, kinds: set[str]) -> None:
    """Replace the wallet's credentials of ``kinds`` by those of ``persona``."""
    vcts = {f"urn:stappen:vil:{kind}" for kind in kinds}
    wallet = Wallet.load(e2e.holder.wallet_path)
    kept = [c for c in wallet.credentials if c.vct not in vcts]
    wallet.credentials = kept
    wallet.save()
    _receive(e2e, persona)
    wallet = Wallet.load(e2e.holder.wallet_path)
    old = {c.id for c in kept}
    wallet.credentials = [c for c in wallet.credentials if c.id in old or c.vct in vcts]
    wallet.save()


def _audit_events(e2e, kind: str) -> list[dict]:
    with e2e.app.extensions["stappen.storage"].connection() as db:
        rows = db.raw.execute(
            db.backend.sql(
                "SELECT subject, actor, data FROM audit_events WHERE kind = :kind"
            ),
            {"kind": kind},
        ).fetchall()
    return [{**dict(row), "data": _json(row["data"])} for row in rows]


def _json(value):
    return json.loads(value) if isinstance(value, str | bytes) else value


def test_redeem_creates_application(e2e):
    checked = _get_voucher(e2e)
    response = _apply(e2e, _present_voucher(e2e))
    created = response.get_json()

    assert response.status_code == 201, created
    assert response.headers["Cache-Control"] == "no-store"
    assert created["status"] == "submitted"
    assert created["scheme"] == "Individuele inkomenstoeslag"
    assert created["outcome_matches"] is True
    prefix, first, second = created["reference"].split("-")
    assert prefix == "VIL"
    assert len(first) == len(second) == 4
    assert set(first + second) <= REFERENCE_CHARACTERS
    assert len(created["secret"]) >= 32

    stored = _stored(e2e, created["reference"])
    assert stored["municipality"] == "utrecht"
    assert stored["amount"] == "264"
    assert stored["outcome_matches"] is True
    record = stored["record"]
    assert record["version"] == 1
    assert record["voucher"]["besluit_id"] == checked["check_id"]
    assert all(line["equal"] for line in record["comparison"]), record["comparison"]
    assert record["recomputed"]["result"] == "eligible"
    assert record["check"]["sha256"] == checked["rules"]["sha256"]


def test_record_keeps_presentation_evidence(e2e):
    _get_voucher(e2e)
    created = _apply(e2e, _present_voucher(e2e)).get_json()
    presentation = _stored(e2e, created["reference"])["record"]["presentation"]

    assert set(presentation["vp_token"]) == {
        "voucher",
        "inkomen",
        "huishouden",
        "leeftijd",
        "woonplaats",
        "vermogen",
    }
    assert presentation["vp_token"]["voucher"][0].count("~") >= 2
    assert presentation["response_mode"] == "direct_post.jwt"
    assert presentation["nonce"]
    assert presentation["client_id"]
    assert "https://regelingen.vil.example" in presentation["trusted_issuers"]
    assert "https://regelingen.vil.example" in presentation["issuer_keys"]
    assert presentation["report"]
    assert all(line["passed"] for line in presentation["report"])
    assert presentation["presented_at"].endswith("Z")
    query_ids = [q["id"] for q in presentation["dcql_query"]["credentials"]]
    assert query_ids[0] == "voucher"


def test_secret_finds_application(e2e):
    _get_voucher(e2e)
    created = _apply(e2e, _present_voucher(e2e)).get_json()

    with e2e.app.extensions["stappen.storage"].connection() as db:
        found = db.citizen_application(created["reference"], created["secret"])
        wrong = db.citizen_application(created["reference"], "not-the-secret")
    assert found is not None
    assert wrong is None


def test_voucher_redeems_once(e2e):
    _get_voucher(e2e)
    first = _apply(e2e, _present_voucher(e2e))
    second = _apply(e2e, _present_voucher(e2e))

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.get_json()["error"] == "voucher_redeemed"
    assert "this voucher was redeemed before" in second.get_json()["message"]


def test_presentation_used_once(e2e):
    _get_voucher(e2e)
    presentation = _present_voucher(e2e)
    first = _apply(e2e, presentation)
    again = _apply(e2e, presentation)

    assert first.status_code == 201
    assert again.status_code == 409
    assert "was used before" in again.get_json()["message"]


def test_presentation_of_other_step_rejected(e2e):
    _receive(e2e, "sanne")
    presenting = e2e.start("gegevens-delen")
    e2e.holder.present(presenting["wallet_url"])
    response = _apply(e2e, presenting["transaction_id"])

    assert response.status_code == 409
    assert "belongs to another step" in response.get_json()["message"]


def test_unverified_presentation_rejected(e2e):
    session = e2e.start("aanvragen")
    response = _apply(e2e, session["transaction_id"])

    assert response.status_code == 409
    assert "not verified" in response.get_json()["message"]


def test_unknown_presentation_not_found(e2e):
    response = _apply(e2e, "no-such-session")

    assert response.status_code == 404
    assert response.get_json()["message"].startswith("presentation not found")


def test_other_step_kind_not_found(e2e):
    response = _apply(e2e, "x", step="toets")

    assert response.status_code == 404
    assert "no application step 'toets'" in response.get_json()["message"]


def test_changed_income_differs(e2e):
    _get_voucher(e2e, "sanne")
    _swap_credentials(e2e, "jeroen", {"inkomen"})
    response = _apply(e2e, _present_voucher(e2e))
    created = response.get_json()

    assert response.status_code == 201, created
    assert created["outcome_matches"] is False
    record = _stored(e2e, created["reference"])["record"]
    differing = {line["field"] for line in record["comparison"] if not line["equal"]}
    assert "gebruikte_gegevens" in differing
    assert "uitkomst" in differing
    assert "regels_sha256" not in differing
    assert record["recomputed"]["result"] == "not-eligible"
    assert record["claims"]["inkomen"][0]["claims"]["netto_per_maand"] == 3140
    events = _audit_events(e2e, "application.created")
    assert "uitkomst" in events[0]["data"]["differing_fields"]


def test_same_income_other_credential_differs(e2e):
    _get_voucher(e2e, "sanne")
    _swap_credentials(e2e, "sanne", {"inkomen"})
    created = _apply(e2e, _present_voucher(e2e)).get_json()
    record = _stored(e2e, created["reference"])["record"]
    lines = {line["field"]: line for line in record["comparison"]}

    # Same claims from the same issuer give the same digest: the data did not
    # change, so the application matches.
    assert lines["gebruikte_gegevens"]["equal"] is True
    assert created["outcome_matches"] is True


def _change_rules(e2e) -> None:
    dmn = e2e.steps / "vil" / "iit-utrecht.dmn"
    dmn.write_bytes(dmn.read_bytes() + b"\n<!-- rules 2026-3 -->\n")
    e2e.app.extensions.pop("stappen.dmn_models", None)
    e2e.app.extensions.pop("stappen.pinned_rules", None)


def _forge_voucher(e2e, **changes) -> None:
    """Replace the wallet's voucher by one the pilot issuer signs with ``changes``.

    The check step never offers a voucher that is not eligible, so the test
    offers one itself, the way the check endpoint does.
    """
    from stappen import checkstep, issuer, sessions, storage

    wallet = Wallet.load(e2e.holder.wallet_path)
    old = next(c for c in wallet.credentials if c.vct == VOUCHER_VCT)
    wallet.credentials = [c for c in wallet.credentials if c.vct != VOUCHER_VCT]
    wallet.save()
    app = e2e.app
    with app.test_request_context():
        flow = app.extensions["stappen.flows"]["vil"]
        step = flow.steps["toets"]
        voucher = checkstep.read_settings(flow, step).voucher
        kept = {name: old.claims[name] for name, _ in checkstep.VOUCHER_CLAIMS}
        claims = {**kept, **changes}
        credentials = {
            voucher.id: {"vct": voucher.vct, "claims": claims, "origin": "regelcheck"}
        }
        offer = voucher.issue_settings()
        source = {"check": step.id, "check_id": claims["besluit_id"]}
        fields, url = issuer.prepare_offer(
            app, offer, credentials, source, "nl", IN_PERIOD
        )
        session = sessions.new_session(flow, step, offer, IN_PERIOD, fields, "nl")
        sessions.store_new_session(storage.request_connection(), session)
    e2e.holder.receive(url)


def test_not_eligible_voucher_rejected(e2e):
    _get_voucher(e2e)
    _forge_voucher(e2e, uitkomst="not-eligible", besluit_id="999")
    response = _apply(e2e, _present_voucher(e2e))

    assert response.status_code == 422
    assert response.get_json()["error"] == "voucher_not_eligible"
    assert "this voucher says not eligible" in response.get_json()["message"]


def test_other_scheme_voucher_rejected(e2e):
    _get_voucher(e2e)
    _forge_voucher(e2e, regeling="Bijzondere bijstand", besluit_id="998")
    response = _apply(e2e, _present_voucher(e2e))

    assert response.status_code == 422
    assert "'Bijzondere bijstand'" in response.get_json()["message"]


def test_changed_rules_use_pinned_table(e2e):
    checked = _get_voucher(e2e)
    _change_rules(e2e)
    response = _apply(e2e, _present_voucher(e2e))
    created = response.get_json()

    assert response.status_code == 201, created
    record = _stored(e2e, created["reference"])["record"]
    old = checked["rules"]["sha256"]
    assert record["recomputed"]["sha256"] == old
    assert record["recomputed"]["trace"]["sha256"] == old
    assert created["outcome_matches"] is True


def test_unknown_rules_rejected(e2e):
    checked = _get_voucher(e2e)
    _change_rules(e2e)
    with e2e.app.extensions["stappen.storage"].connection() as db, db.transaction():
        db.raw.execute(db.backend.sql("DELETE FROM rule_tables"))
    response = _apply(e2e, _present_voucher(e2e))
    message = response.get_json()["message"]

    assert response.status_code == 422
    assert response.get_json()["error"] == "voucher_rules_unknown"
    assert checked["rules"]["sha256"] in message
    assert "check step 'toets'" in message


def test_check_stores_rule_table(e2e):
    checked = _get_voucher(e2e)
    sha256 = checked["rules"]["sha256"]

    with e2e.app.extensions["stappen.storage"].connection() as db:
        table = db.rule_table(sha256)
    assert table["name"] == "iit-utrecht.dmn"
    assert table["content"] == (PROJECT / "steps/vil/iit-utrecht.dmn").read_bytes()


def test_audit_event_recorded(e2e):
    checked = _get_voucher(e2e)
    created = _apply(e2e, _present_voucher(e2e)).get_json()
    events = _audit_events(e2e, "application.created")
    stored = _stored(e2e, created["reference"])

    assert len(events) == 1
    event = events[0]
    assert event["subject"] == stored["id"]
    assert event["actor"] == "citizen"
    assert event["data"]["reference"] == created["reference"]
    assert event["data"]["voucher_id"] == checked["check_id"]
    assert event["data"]["outcome_matches"] is True
    assert len(event["data"]["digests"]) == 5
    assert "1290" not in json.dumps(event["data"])

    result = e2e.app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output


def test_logs_carry_no_claims_or_secret(e2e, caplog):
    caplog.set_level(logging.DEBUG)
    _get_voucher(e2e)
    caplog.clear()
    created = _apply(e2e, _present_voucher(e2e)).get_json()

    assert created["reference"] in caplog.text
    assert created["secret"] not in caplog.text
    assert "1290" not in caplog.text
    assert "1988-05-17" not in caplog.text


HOSTILE_BODIES = [
    ([], "expected a JSON object"),
    ({"flow": "vil"}, "fields flow and step are required"),
    ({"flow": "vil", "step": "aanvragen"}, "presentation must be"),
    ({"flow": "vil", "step": "aanvragen", "presentation": 7}, "presentation must"),
    ({"flow": "vil", "step": "aanvragen", "presentation": ""}, "presentation must"),
    ({"flow": "vil", "step": ["aanvragen"]}, "must be texts"),
    ({"flow": "vil", "step": "aanvragen", "lang": "de"}, "lang 'de'"),
    ({"flow": "vil", "step": "aanvragen", "secret": "x"}, "unknown fields"),
]


@pytest.mark.parametrize(("body", "reason"), HOSTILE_BODIES)
def test_hostile_bodies_rejected(e2e, body, reason):
    response = e2e.client.post(APPLICATIONS, json=body)

    assert response.status_code == 400
    assert reason in response.get_json()["message"]


def test_non_json_body_rejected(e2e):
    response = e2e.client.post(APPLICATIONS, data="flow=vil", content_type="text/plain")

    assert response.status_code == 400
    assert "expected a JSON body" in response.get_json()["message"]
