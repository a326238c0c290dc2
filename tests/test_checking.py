"""The check endpoint, POST /api/v1/checks, on the VIL flow's check steps."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest

from stappen import apiconfig
from stappen.errors import Problems
from stappen.flows import load_flow
from tests.apiharness import make_api
from tests.conftest import PROJECT

CHECKS = "/api/v1/checks"
IN_PERIOD = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
TRIAL_ANSWERS = {
    "aow-leeftijd": False,
    "ouder-dan-21": True,
    "woont-in-utrecht": True,
    "alleenstaand": True,
    "kinderen-thuis": False,
    "netto-inkomen": 1290,
    "vermogen": 1850,
}


def _trial(client, **changes):
    answers = {**TRIAL_ANSWERS, **changes}
    body = {"flow": "vil", "step": "proefberekening", "answers": answers}
    return client.post(CHECKS, json=body)


@pytest.fixture
def vil(tmp_path):
    source = tmp_path / "source"
    (source / "steps").mkdir(parents=True)
    shutil.copytree(PROJECT / "steps" / "vil", source / "steps" / "vil")
    api = make_api(tmp_path / "api")
    flows = api.app.extensions["stappen.flows"]
    flows["vil"] = load_flow(source / "steps" / "vil", Problems())
    api.clock.now = IN_PERIOD
    return api


def test_trial_eligible_gives_no_voucher(vil):
    response = _trial(vil.client)
    result = response.get_json()

    assert response.status_code == 200, result
    assert result["eligible"] is True
    assert result["result"] == "eligible"
    assert result["amount"] == "264"
    assert result["trial"] is True
    assert "voucher" not in result
    assert result["rules"]["matched_rules"] == ["alleenstaande"]
    assert result["outcome"].startswith("U woont alleen, zonder kinderen.")


def test_trial_not_eligible_explains(vil):
    response = _trial(vil.client, **{"netto-inkomen": 3140})
    result = response.get_json()

    assert result["eligible"] is False
    assert result["result"] == "not-eligible"
    assert result["rules"]["matched_rules"] == ["alleenstaande-te-veel"]
    assert "Daarom krijgt u geen toeslag." in result["outcome"]


def test_trial_missing_answer_rejected(vil):
    answers = dict(TRIAL_ANSWERS)
    del answers["vermogen"]
    body = {"flow": "vil", "step": "proefberekening", "answers": answers}
    response = vil.client.post(CHECKS, json=body)

    assert response.status_code == 400
    assert response.get_json()["message"] == (
        "answer 'vermogen' is missing; answer that question first"
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (10**400, "expected at most 20000, the question's max"),
        ("1290", "expected a finite number, got '1290'"),
        ([1], "expected a finite number, got a list of 1 item"),
    ],
)
def test_trial_bad_amount_rejected(vil, value, reason):
    response = _trial(vil.client, **{"netto-inkomen": value})

    assert response.status_code == 400
    assert reason in response.get_json()["message"]


def test_check_outside_validity_rejected(vil):
    vil.clock.now = datetime(2027, 1, 1, 9, 0, tzinfo=UTC)
    response = _trial(vil.client)

    assert response.status_code == 409
    assert response.get_json()["message"] == (
        "the rules of step 'proefberekening' (version 2026-2) apply from "
        "2026-07-01 to 2026-12-31, not on 2027-01-01; the flow needs rules "
        "for today"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"flow": "vil", "step": "toets", "presentation": 5},
        {"flow": "vil", "step": "toets", "answers": {}},
        {"flow": "vil", "step": "proefberekening", "answers": []},
        {"flow": "vil", "step": "proefberekening", "extra": 1},
        {"flow": 1, "step": "toets"},
    ],
)
def test_hostile_bodies_rejected(vil, body):
    assert vil.client.post(CHECKS, json=body).status_code == 400


def test_unknown_presentation_not_found(vil):
    body = {"flow": "vil", "step": "toets", "presentation": "x" * 43}
    assert vil.client.post(CHECKS, json=body).status_code == 404


# The claim path: a persona's data issued, presented and checked, with the
# project's test wallet on the API app (its in-process transport).


@pytest.fixture
def e2e(tmp_path):
    from tests.test_wallet import make_e2e

    setup = make_e2e(tmp_path, PROJECT / "steps")
    # A moment inside the rules' period, so that the tests do not depend on
    # today's date. The keys are made again, because the verifier's
    # certificate is valid from the moment it is made.
    setup.clock.now = IN_PERIOD
    apiconfig.generate_keys(setup.app, force=True)
    return setup


def _present(e2e, persona: str) -> str:
    """Issue a persona's data into the wallet, present it, return the session id."""
    issuing = e2e.start("gegevens-ophalen", persona=persona)
    e2e.holder.receive(issuing["wallet_url"])
    presenting = e2e.start("gegevens-delen")
    e2e.holder.present(presenting["wallet_url"])
    assert e2e.status(presenting) == "verified"
    return presenting["transaction_id"]


def _check(e2e, presentation, step: str = "toets", flow: str = "vil"):
    body = {"flow": flow, "step": step, "lang": "nl", "presentation": presentation}
    return e2e.client.post(CHECKS, json=body)


def _voucher_claims(e2e) -> dict:
    from stappen.wallet.store import Wallet

    vouchers = [
        c
        for c in Wallet.load(e2e.holder.wallet_path).credentials
        if c.vct == "urn:stappen:vil:voucher"
    ]
    assert len(vouchers) == 1
    return vouchers[0].claims


def test_eligible_persona_receives_voucher(e2e):
    response = _check(e2e, _present(e2e, "sanne"))
    result = response.get_json()
    e2e.holder.receive(result["voucher"]["wallet_url"])
    claims = _voucher_claims(e2e)

    assert response.status_code == 200, result
    assert result["eligible"] is True
    assert result["trial"] is False
    assert claims["regeling"] == "Individuele inkomenstoeslag"
    assert claims["uitkomst"] == "eligible"
    assert str(claims["bedrag"]) == "264"
    assert claims["besluit_id"] == result["check_id"]
    assert claims["regels_sha256"] == result["rules"]["sha256"]
    assert len(claims["regels_sha256"]) == 64
    assert claims["regels_versie"] == "2026-2"
    assert claims["geldig_van"] == "2026-07-01"
    assert claims["geldig_tot"] == "2026-12-31"
    assert claims["regels_toegepast"] == ["alleenstaande"]
    used = {entry["vct"] for entry in claims["gebruikte_gegevens"]}
    assert used == {
        f"urn:stappen:vil:{name}"
        for name in ("inkomen", "huishouden", "leeftijd", "woonplaats", "vermogen")
    }
    for entry in claims["gebruikte_gegevens"]:
        assert entry["issuer"] == "https://uitgifte.vil.example"
        assert len(entry["sha256"]) == 64
    assert e2e.status(result["voucher"]) == "issued"


def test_ineligible_persona_gets_reason(e2e):
    response = _check(e2e, _present(e2e, "jeroen"))
    result = response.get_json()

    assert response.status_code == 200, result
    assert result["eligible"] is False
    assert result["result"] == "not-eligible"
    assert "voucher" not in result
    assert result["rules"]["matched_rules"] == ["alleenstaande-te-veel"]
    assert "Daarom krijgt u geen toeslag." in result["outcome"]


def test_replayed_presentation_rejected(e2e):
    presentation = _present(e2e, "jeroen")
    first = _check(e2e, presentation)
    second = _check(e2e, presentation)

    assert first.status_code == 200
    assert second.status_code == 409
    assert "was used before" in second.get_json()["message"]


def test_presentation_for_other_step_rejected(e2e):
    presentation = _present(e2e, "sanne")

    assert _check(e2e, presentation, step="proefberekening").status_code == 400
    assert _check(e2e, presentation, step="voucher").status_code == 404
    assert _check(e2e, presentation, flow="onbekend").status_code == 404


def test_issuing_session_is_no_presentation(e2e):
    issuing = e2e.start("gegevens-ophalen", persona="sanne")

    assert _check(e2e, issuing["transaction_id"]).status_code == 404


def test_unverified_presentation_rejected(e2e):
    presenting = e2e.start("gegevens-delen")
    response = _check(e2e, presenting["transaction_id"])

    assert response.status_code == 409
    assert "not verified" in response.get_json()["message"]


def test_rules_out_of_force_named(e2e):
    presentation = _present(e2e, "sanne")
    e2e.clock.now = datetime(2027, 1, 2, 9, 0, tzinfo=UTC)
    response = _check(e2e, presentation)

    assert response.status_code == 409
    assert response.get_json()["error"] == "rules_not_in_force"


@pytest.mark.parametrize("presentation", ["", None, ["x"], {"id": "x"}, "x" * 5000])
def test_hostile_presentation_rejected(e2e, presentation):
    assert _check(e2e, presentation).status_code in (400, 404)
