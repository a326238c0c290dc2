"""The pure outcome functions, on the VIL flow's check step and its DMN file."""

from __future__ import annotations

import json

import pytest

from stappen import checkstep, outcomes
from stappen.errors import Problems
from stappen.flows import load_flow
from stappen.rules import DmnError, load_dmn, load_dmn_bytes
from tests.conftest import PROJECT

VIL = PROJECT / "steps" / "vil"
DMN = VIL / "iit-utrecht.dmn"
ISSUER = "https://uitgifte.vil.example"


def _credential(kind: str, claims: dict) -> dict:
    return {"vct": f"urn:stappen:vil:{kind}", "issuer": ISSUER, "claims": claims}


def _claims(netto: int = 1290) -> dict:
    return {
        "inkomen": [_credential("inkomen", {"netto_per_maand": netto})],
        "huishouden": [
            _credential("huishouden", {"alleenstaand": True, "kinderen_thuis": False})
        ],
        "leeftijd": [
            _credential(
                "leeftijd", {"ouder_dan_21": True, "aow_leeftijd_bereikt": False}
            )
        ],
        "woonplaats": [_credential("woonplaats", {"gemeente": "Utrecht"})],
        "vermogen": [_credential("vermogen", {"totaal": 1850})],
    }


@pytest.fixture(scope="module")
def model():
    return load_dmn(DMN)


@pytest.fixture(scope="module")
def snap(model):
    flow = load_flow(VIL, Problems())
    settings = checkstep.read_settings(flow, flow.steps["toets"])
    return outcomes.snapshot("vil", "toets", settings, model.sha256)


def _voucher(recomputed: dict) -> dict:
    """Return the voucher claims a check with the same data would have issued."""
    return {
        "regeling": "Individuele inkomenstoeslag",
        "uitkomst": recomputed["result"],
        "bedrag": recomputed["amount"],
        "besluit_id": "1",
        "regels_sha256": recomputed["sha256"],
        "regels_versie": "2026-2",
        "geldig_van": "2026-07-01",
        "geldig_tot": "2026-12-31",
        "regels_toegepast": recomputed["matched_rules"],
        "gebruikte_gegevens": recomputed["used"],
    }


def _by_field(lines: list[dict]) -> dict:
    return {line["field"]: line for line in lines}


def test_snapshot_reads_check_settings(snap, model):
    assert snap.decision == "Individuele inkomenstoeslag"
    assert snap.version == "2026-2"
    assert snap.sha256 == model.sha256
    assert snap.inputs["nettoInkomenPerMaand"] == ("inkomen", ("netto_per_maand",))
    assert snap.inputs["gemeente"] == ("woonplaats", ("gemeente",))
    assert len(snap.inputs) == 7
    assert str(snap.eligible_above) == "0"
    assert snap.amount == "value"


def test_snapshot_round_trips_through_json(snap):
    data = json.loads(json.dumps(snap.to_dict()))

    assert outcomes.CheckSnapshot.from_dict(data) == snap
    assert data["inputs"]["vermogen"] == {"credential": "vermogen", "path": ["totaal"]}
    assert data["eligible"] == {"output": None, "above": "0", "one_of": []}
    assert data["valid_from"] == "2026-07-01"


def test_inputs_read_first_credential(snap):
    claims = _claims()
    claims["inkomen"].append(_credential("inkomen", {"netto_per_maand": 9999}))
    inputs, used = outcomes.inputs_from_claims(snap, claims)

    assert inputs["nettoInkomenPerMaand"] == 1290
    assert inputs["alleenstaand"] is True
    assert len(used) == 5
    assert outcomes.credential_digest(claims["inkomen"][0]) in used
    assert outcomes.credential_digest(claims["inkomen"][1]) not in used


def test_missing_claim_names_input(snap):
    claims = _claims()
    del claims["vermogen"][0]["claims"]["totaal"]

    with pytest.raises(outcomes.MissingClaim, match="no claim 'totaal'") as caught:
        outcomes.inputs_from_claims(snap, claims)
    assert caught.value.input_name == "vermogen"
    assert caught.value.query_id == "vermogen"


def test_missing_credential_raises(snap):
    claims = _claims()
    del claims["leeftijd"]

    with pytest.raises(outcomes.MissingClaim, match="credential 'leeftijd'"):
        outcomes.inputs_from_claims(snap, claims)


def test_digest_covers_disclosed_claims():
    first = outcomes.credential_digest(_credential("inkomen", {"netto_per_maand": 1}))
    second = outcomes.credential_digest(_credential("inkomen", {"netto_per_maand": 2}))

    assert first["vct"] == "urn:stappen:vil:inkomen"
    assert first["issuer"] == ISSUER
    assert len(first["sha256"]) == 64
    assert first["sha256"] != second["sha256"]


def test_outcome_eligible_with_amount(snap, model):
    inputs, _ = outcomes.inputs_from_claims(snap, _claims())
    outcome = outcomes.outcome_of(snap, model.evaluate(snap.decision, inputs))

    assert outcome["eligible"] is True
    assert outcome["result"] == "eligible"
    assert outcome["amount"] == "264"
    assert outcome["matched_rules"] == ["alleenstaande"]
    assert outcome["annotations"]


def test_outcome_not_eligible_high_income(snap, model):
    inputs, _ = outcomes.inputs_from_claims(snap, _claims(netto=3140))
    outcome = outcomes.outcome_of(snap, model.evaluate(snap.decision, inputs))

    assert outcome["eligible"] is False
    assert outcome["result"] == "not-eligible"
    assert outcome["matched_rules"] == ["alleenstaande-te-veel"]


def test_recompute_gives_record_fields(snap, model):
    recomputed = outcomes.recompute(snap, _claims(), model)

    assert recomputed["result"] == "eligible"
    assert recomputed["amount"] == "264"
    assert recomputed["matched_rules"] == ["alleenstaande"]
    assert recomputed["sha256"] == model.sha256
    assert recomputed["trace"]["sha256"] == model.sha256
    assert recomputed["inputs"]["nettoInkomenPerMaand"] == "1290"
    json.dumps(recomputed)


def test_compare_same_data_all_equal(snap, model):
    recomputed = outcomes.recompute(snap, _claims(), model)
    voucher = _voucher(recomputed)
    voucher["gebruikte_gegevens"] = list(reversed(voucher["gebruikte_gegevens"]))
    lines = outcomes.compare(voucher, recomputed, recomputed["used"])

    assert [line["field"] for line in lines] == list(outcomes.COMPARED_FIELDS)
    assert all(line["equal"] for line in lines), lines


def test_compare_changed_income_differs(snap, model):
    voucher = _voucher(outcomes.recompute(snap, _claims(), model))
    recomputed = outcomes.recompute(snap, _claims(netto=1300), model)
    lines = _by_field(outcomes.compare(voucher, recomputed, recomputed["used"]))

    assert lines["gebruikte_gegevens"]["equal"] is False
    assert lines["uitkomst"]["equal"] is True
    assert lines["bedrag"]["equal"] is True
    assert lines["regels_sha256"]["equal"] is True


def test_compare_other_outcome_differs(snap, model):
    voucher = _voucher(outcomes.recompute(snap, _claims(), model))
    recomputed = outcomes.recompute(snap, _claims(netto=3140), model)
    lines = _by_field(outcomes.compare(voucher, recomputed, recomputed["used"]))

    assert lines["uitkomst"] == {
        "field": "uitkomst",
        "voucher": "eligible",
        "recomputed": "not-eligible",
        "equal": False,
    }
    assert lines["regels_toegepast"]["equal"] is False


def test_compare_malformed_digests_unequal(snap, model):
    recomputed = outcomes.recompute(snap, _claims(), model)
    voucher = _voucher(recomputed)
    voucher["gebruikte_gegevens"] = [{"vct": "x"}]
    lines = outcomes.compare(voucher, recomputed, recomputed["used"])

    assert lines[-1]["field"] == "gebruikte_gegevens"
    assert lines[-1]["equal"] is False


def test_dmn_bytes_load_like_file(model):
    from_bytes = load_dmn_bytes(DMN.read_bytes(), "iit-utrecht.dmn")

    assert from_bytes.sha256 == model.sha256
    assert from_bytes.file == "iit-utrecht.dmn"
    assert from_bytes.decision_names == model.decision_names


def test_dmn_bytes_error_names_source():
    with pytest.raises(DmnError, match="stored.dmn") as caught:
        load_dmn_bytes(b"<notdmn/>", "stored.dmn")
    assert caught.value.file == "stored.dmn"
