"""The check endpoint, POST /api/v1/checks, on the VIL flow's check steps."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest

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
