"""The check step's settings, and the VIL flow's own DMN table."""

from __future__ import annotations

import datetime
import itertools
import json
from decimal import Decimal

from stappen.checkstep import read_settings
from stappen.errors import Problems
from stappen.flows import load_flow
from stappen.rules import load_dmn
from tests.conftest import PROJECT, SHARED_DATA, require_shared_data

VIL = PROJECT / "steps" / "vil"
OWN_TABLE = VIL / "iit-utrecht.dmn"
PUBLISHED = SHARED_DATA / "dmn" / "real" / "vil-utrecht"
DECISION = "Individuele inkomenstoeslag"

# Our input names for the published table's input names.
RENAMED = {
    "aowLeeftijdBehaald": "aowLeeftijdBereikt",
    "ouderDan21": "ouderDan21",
    "woonplaats": "gemeente",
    "alleenstaande": "alleenstaand",
    "thuiswonendeKinderen": "kinderenThuis",
    "inkomenPerMaand": "nettoInkomenPerMaand",
    "vermogen": "vermogen",
}


def _published():
    require_shared_data(PUBLISHED)
    return load_dmn(PUBLISHED / "iit-utrecht.dmn")


def _own(inputs: dict) -> Decimal:
    renamed = {RENAMED[name]: value for name, value in inputs.items()}
    return load_dmn(OWN_TABLE).evaluate(DECISION, renamed).value


def test_own_table_matches_published_cases():
    _published()
    cases = json.loads((PUBLISHED / "expected-cases.json").read_text())
    listed = cases["cases"]["iit-utrecht.dmn"]
    assert listed
    for case in listed:
        expected = Decimal(str(case["expected"]["Inkomen Toeslag"]))
        assert _own(case["inputs"]) == expected, case["why"]


def test_own_table_matches_published_grid():
    published = _published()
    grid = itertools.product(
        [False, True],
        [False, True],
        ["Utrecht", "Amersfoort"],
        [False, True],
        [False, True],
        [0, 1533, "1533.01", 2387, "2387.01", 5000],
        [0, 7605, "7605.01", 15210, "15210.01"],
    )
    for values in grid:
        inputs = dict(zip(RENAMED, values, strict=True))
        expected = published.evaluate("Inkomen Toeslag", inputs).value
        assert _own(inputs) == expected, inputs


def test_own_table_explains_every_rule():
    text = OWN_TABLE.read_text(encoding="utf-8")
    assert text.count("<rule ") == 9
    assert text.count("<annotationEntry>") == 9


def test_vil_toets_settings():
    flow = load_flow(VIL, Problems())
    settings = read_settings(flow, flow.steps["toets"])
    assert settings.decision == DECISION
    assert settings.valid_from == datetime.date(2026, 7, 1)
    assert settings.valid_to == datetime.date(2026, 12, 31)
    assert settings.trial is False
    assert settings.wallet_step == "gegevens-delen"
    assert settings.voucher.vct == "urn:stappen:vil:voucher"
    sources = {source.name: source.claim for source in settings.inputs}
    assert sources["gemeente"] == ("gegevens-delen", "woonplaats", ("gemeente",))


def test_vil_trial_settings():
    flow = load_flow(VIL, Problems())
    settings = read_settings(flow, flow.steps["proefberekening"])
    assert settings.trial is True
    assert settings.voucher is None
    sources = {source.name: source for source in settings.inputs}
    assert sources["gemeente"].values == {"true": "Utrecht", "false": "elders"}
