"""Published rule tables: Utrecht's inkomenstoeslag and draagkracht, and the
zorgtoeslag decision of Open Regels, against their expected cases."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from stappen.rules import load_dmn
from tests.conftest import SHARED_DATA, require_shared_data

REAL = SHARED_DATA / "dmn" / "real"
UTRECHT = REAL / "vil-utrecht"
ZORGTOESLAG = REAL / "zorgtoeslag"


def _require(folder: Path) -> None:
    require_shared_data(folder)


def _load(folder: Path, name: str):
    """Load a published table, skipping the test where the data is missing."""
    _require(folder)
    return load_dmn(folder / name)


def _utrecht_cases():
    path = UTRECHT / "expected-cases.json"
    if not path.is_file():
        return []
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    return [
        pytest.param(file, case, id=f"{file}/{case['rule']}/{index}")
        for file, listed in cases.items()
        for index, case in enumerate(listed, start=1)
    ]


def _zorgtoeslag_cases():
    path = ZORGTOESLAG / "zorgtoeslag-testcases.json"
    if not path.is_file():
        return []
    cases = json.loads(path.read_text(encoding="utf-8"))["test_cases"]
    return [
        pytest.param(case, id=f"case-{index}") for index, case in enumerate(cases, 1)
    ]


def test_real_tables_present():
    _require(UTRECHT)
    _require(ZORGTOESLAG)


@pytest.mark.parametrize(("file", "case"), _utrecht_cases())
def test_utrecht_case(file, case):
    model = _load(UTRECHT, file)
    (decision, expected), *_ = case["expected"].items()

    evaluation = model.evaluate(decision, case["inputs"])

    assert evaluation.value == Decimal(str(expected))
    assert evaluation.trace.decisions[-1].matched_rules == [case["rule"]]


def test_utrecht_draagkracht_divides_in_decimal():
    model = _load(UTRECHT, "draagkracht-utrecht.dmn")
    inputs = {
        "bijstand": False,
        "alleenstaande": True,
        "inrichting": False,
        "inkomen_norm": 1500,
        "kosten": 900,
        "vermogen": 8000,
        "draagkracht_verbruikt": 0,
    }

    value = model.evaluate("Draagkracht-inkomen", inputs).value

    assert str(value) == "632.9166666666666666666666666666667"


def test_utrecht_trace_names_file_and_rule():
    path = UTRECHT / "iit-utrecht.dmn"
    model = _load(UTRECHT, path.name)
    inputs = {
        "aowLeeftijdBehaald": False,
        "ouderDan21": True,
        "woonplaats": "Utrecht",
        "alleenstaande": True,
        "thuiswonendeKinderen": True,
        "inkomenPerMaand": "1533.01",
        "vermogen": 0,
    }

    trace = model.evaluate("Inkomen Toeslag", inputs).trace.to_dict()

    assert trace["file"] == str(path)
    assert len(trace["sha256"]) == 64
    assert trace["inputs"]["inkomenPerMaand"] == "1533.01"
    assert trace["decisions"][0]["matched_rules"] == ["r2"]
    assert trace["decisions"][0]["hit_policy"] == "FIRST"
    assert trace["decisions"][0]["output"] == "0"
    assert json.loads(json.dumps(trace)) == trace


def _camunda_value(variable: dict):
    value = variable["value"]
    if variable["type"] in ("Double", "Integer", "Long") and value is not None:
        return Decimal(str(value))
    return value


@pytest.mark.parametrize("case", _zorgtoeslag_cases())
def test_zorgtoeslag_case(case):
    model = _load(ZORGTOESLAG, "BerekenRechtEnHoogteZorg.dmn")
    inputs = {
        name: variable["value"] for name, variable in case["input"]["variables"].items()
    }
    expected = {
        name: _camunda_value(variable) for name, variable in case["output"][0].items()
    }

    evaluation = model.evaluate("berekenrechtenhoogtezorg", inputs)

    assert evaluation.value == expected
    assert len(evaluation.trace.decisions[-1].matched_rules) == 1


def test_zorgtoeslag_reads_capital_null_with_warning():
    model = _load(ZORGTOESLAG, "BerekenRechtEnHoogteZorg.dmn")

    assert len(model.warnings) == 6
    assert model.warnings[0].endswith(
        ":83: decision 'berekenrechtenhoogtezorg', rule 'DecisionRule_1qqnji5',"
        " output 'zorgtoeslag': read 'Null' as null; write null instead"
    )
