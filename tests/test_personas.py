"""Test personas: the VIL file, the loader's problems and the fit with a flow."""

from __future__ import annotations

from pathlib import Path

import pytest

from stappen.errors import Problems
from stappen.flows import load_flow
from stappen.personas import (
    MISSING,
    InvalidPersonas,
    Persona,
    check_against_flow,
    load_personas,
    read_personas,
    value_problem,
)
from tests.conftest import PROJECT

VIL = PROJECT / "steps" / "vil"


@pytest.fixture(scope="module")
def vil_personas() -> dict[str, Persona]:
    return load_personas(VIL / "personas.yaml")


@pytest.fixture(scope="module")
def vil_flow():
    problems = Problems()
    flow = load_flow(VIL, problems)
    assert not problems.errors, [str(p) for p in problems]
    return flow


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "personas.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    problems = Problems()
    read_personas(path, problems)
    return [str(problem) for problem in problems]


def iban_is_valid(iban: str) -> bool:
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(character, 36)) for character in rearranged)
    return int(digits) % 97 == 1


# The shipped VIL personas


def test_vil_personas_fit_flow(vil_flow, vil_personas):
    problems = Problems()
    check_against_flow(vil_flow, vil_personas, problems)
    assert [str(p) for p in problems] == []


def test_vil_has_at_least_three(vil_personas):
    assert len(vil_personas) >= 3
    assert set(vil_personas) >= {"sanne", "jeroen", "fatima"}


def test_vil_eligible_persona(vil_personas):
    sanne = vil_personas["sanne"]
    assert sanne.value("woonplaats.gemeentecode") == "0344"
    assert sanne.value("leeftijd.ouder_dan_21") is True
    assert sanne.value("leeftijd.aow_leeftijd_bereikt") is False
    assert sanne.value("huishouden.alleenstaand") is True
    assert sanne.value("inkomen.netto_per_maand") < 1500
    assert sanne.value("vermogen.totaal") < 5000


def test_vil_income_too_high_persona(vil_personas):
    jeroen = vil_personas["jeroen"]
    sanne = vil_personas["sanne"]
    assert jeroen.value("woonplaats.gemeentecode") == "0344"
    assert jeroen.value("leeftijd.ouder_dan_21") is True
    assert jeroen.value("inkomen.netto_per_maand") > 2 * sanne.value(
        "inkomen.netto_per_maand"
    )


def test_vil_edge_case_persona_too_young(vil_personas):
    fatima = vil_personas["fatima"]
    assert fatima.value("leeftijd.ouder_dan_21") is False
    assert fatima.value("leeftijd.geboortedatum") > "2005-12-31"


@pytest.mark.parametrize("persona_id", ["sanne", "jeroen", "fatima", "kees"])
def test_vil_persona_is_plainly_fictional(vil_personas, persona_id):
    persona = vil_personas[persona_id]
    iban = persona.value("bankrekening.iban")
    assert iban[4:8] == "TEST"
    assert iban_is_valid(iban)
    assert persona.value("bsn") is MISSING
    assert set(persona.description) == {"nl", "en"}


def age_on(born: str, day: str) -> int:
    years = int(day[:4]) - int(born[:4])
    return years if day[4:] >= born[4:] else years - 1


@pytest.mark.parametrize("day", ["2026-01-01", "2028-02-29"])
def test_vil_age_facts_match_birth_dates(vil_personas, day):
    # The facts are written out, so check them against the birth dates on
    # the first and last day that the file's comment promises.
    for persona in vil_personas.values():
        age = age_on(persona.value("leeftijd.geboortedatum"), day)
        assert (age >= 21) is persona.value("leeftijd.ouder_dan_21"), persona.id
        # The test takes 67 as the AOW age: it is the AOW age of Kees, born
        # in 1958, and the other personas are decades younger.
        assert (age >= 67) is persona.value("leeftijd.aow_leeftijd_bereikt"), persona.id


# Reading values


def test_value_follows_dotted_field():
    persona = Persona("a", "A", {"inkomen": {"netto_per_maand": 1200.5}})
    assert persona.value("inkomen.netto_per_maand") == 1200.5


@pytest.mark.parametrize("field", ["inkomen.bruto", "vermogen", "inkomen.x.y"])
def test_value_missing(field):
    persona = Persona("a", "A", {"inkomen": {"netto_per_maand": 1200.5}})
    assert persona.value(field) is MISSING


# The loader's problems


def test_load_returns_personas_by_id(tmp_path):
    path = write(
        tmp_path,
        "personas:\n"
        "  - id: anna\n"
        "    name: Anna Fictief\n"
        "    data:\n"
        "      leeftijd: {geboortedatum: 1990-01-02, ouder_dan_21: true}\n",
    )
    personas = load_personas(path)
    assert list(personas) == ["anna"]
    assert personas["anna"].value("leeftijd.geboortedatum") == "1990-01-02"
    assert personas["anna"].line == 2


def test_load_raises_with_every_problem(tmp_path):
    path = write(tmp_path, "personas:\n  - id: Anna\n  - name: B\n")
    with pytest.raises(InvalidPersonas, match=r"^5 errors in the test personas") as e:
        load_personas(path)
    assert len(e.value.problems.errors) == 5


def test_missing_file_is_reported(tmp_path):
    problems = problems_of(tmp_path / "personas.yaml")
    assert len(problems) == 1
    assert "cannot read the file" in problems[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "persons: []\n",
            [
                "personas.yaml:1: field 'personas': expected a non-empty list of "
                "personas under 'personas', each with id, name and data, got "
                "nothing",
                "personas.yaml:1: field 'persons': unknown field 'persons'; "
                "did you mean 'personas'?",
            ],
        ),
        (
            "personas: []\n",
            [
                "personas.yaml:1: field 'personas': expected a non-empty list of "
                "personas under 'personas', each with id, name and data, got an "
                "empty list",
            ],
        ),
        (
            "personas:\n  - anna\n",
            [
                "personas.yaml:2: field 'personas.0': expected a persona: a "
                "mapping with id, name and data, got 'anna'",
            ],
        ),
        (
            "personas:\n  - id: Anna Fictief\n    name: A\n    data: {a: 1}\n",
            [
                "personas.yaml:2: field 'personas.0.id': expected an id of "
                "lowercase letters and digits joined by '-', such as 'sanne', "
                "got 'Anna Fictief'",
            ],
        ),
        (
            "personas:\n  - id: a\n    nmae: A\n    data: {a: 1}\n",
            [
                "personas.yaml:2: field 'personas.0.name': expected a non-empty "
                "text, got nothing",
                "personas.yaml:3: field 'personas.0.nmae': unknown field 'nmae'; "
                "did you mean 'name'?",
            ],
        ),
        (
            "personas:\n  - id: a\n    name: A\n    data: {}\n",
            [
                "personas.yaml:4: field 'personas.0.data': expected the persona's "
                "data fields as a mapping, such as inkomen: {netto_per_maand: "
                "1285.00}, got an empty mapping",
            ],
        ),
        (
            "personas:\n  - id: a\n    name: A\n    description: Tekst\n"
            "    data: {a: 1}\n",
            [
                "personas.yaml:4: field 'personas.0.description': expected a "
                "text per language, such as {nl: ..., en: ...}, got 'Tekst'",
            ],
        ),
    ],
)
def test_problem_messages(tmp_path, text, expected):
    path = write(tmp_path, text)
    assert [p.removeprefix(f"{tmp_path}/") for p in problems_of(path)] == expected


def test_duplicate_id(tmp_path):
    path = write(
        tmp_path,
        "personas:\n"
        "  - {id: a, name: A, data: {x: 1}}\n"
        "  - {id: a, name: B, data: {x: 2}}\n",
    )
    problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].endswith(
        "personas.yaml:3: field 'personas.1.id': persona id 'a' appears twice; "
        "give each persona its own id"
    )


@pytest.mark.parametrize(
    ("data", "field", "got"),
    [
        ("{inkomen: {netto: }}", "personas.0.data.inkomen.netto", "an empty value"),
        ("{lijst: []}", "personas.0.data.lijst", "an empty list"),
        ("{lijst: [1, 2]}", "personas.0.data.lijst", "a list of 2 items"),
        ("{getal: .nan}", "personas.0.data.getal", ".nan"),
    ],
)
def test_leaf_values_rejected(tmp_path, data, field, got):
    path = write(tmp_path, f"personas:\n  - id: a\n    name: A\n    data: {data}\n")
    problems = problems_of(path)
    assert len(problems) == 1
    assert f"field {field!r}: expected true or false, a number" in problems[0]
    assert problems[0].endswith(f"got {got}")


def test_field_name_rejected(tmp_path):
    path = write(tmp_path, "personas:\n  - id: a\n    name: A\n    data: {Netto: 1}\n")
    problems = problems_of(path)
    assert len(problems) == 1
    assert "field name 'Netto' is not valid" in problems[0]


# The fit with a flow


def test_missing_field_reported(vil_flow, vil_personas):
    sanne = vil_personas["sanne"]
    data = {**sanne.data, "vermogen": {}}
    broken = Persona("broken", "Broken", data, line=7)
    problems = Problems()
    check_against_flow(vil_flow, {"broken": broken}, problems)
    assert [p.message for p in problems] == [
        "persona 'broken': field 'vermogen.totaal' is missing, which step "
        "'gegevens-ophalen' issues as claim 'totaal'"
    ]
    assert [p.line for p in problems] == [7]


def test_wrong_type_reported(vil_flow, vil_personas):
    sanne = vil_personas["sanne"]
    data = {**sanne.data, "leeftijd": {**sanne.data["leeftijd"], "ouder_dan_21": "ja"}}
    problems = Problems()
    check_against_flow(vil_flow, {"x": Persona("x", "X", data)}, problems)
    assert [p.message for p in problems] == [
        "persona 'x': field 'leeftijd.ouder_dan_21' is 'ja'; expected true or "
        "false, which step 'gegevens-ophalen' issues as claim 'ouder_dan_21'"
    ]


# Claim types


@pytest.mark.parametrize(
    ("claim_type", "value"),
    [
        ("boolean", True),
        ("integer", 3),
        ("number", 3),
        ("number", 1285.5),
        ("string", "Utrecht"),
        ("date", "2026-02-28"),
        ("array", ["a", "b"]),
        ("array", []),
    ],
)
def test_value_fits(claim_type, value):
    assert value_problem(claim_type, value) is None


@pytest.mark.parametrize(
    ("claim_type", "value", "problem"),
    [
        ("boolean", "true", "expected true or false"),
        ("integer", True, "expected a whole number"),
        ("integer", 3.0, "expected a whole number"),
        ("number", "1285", "expected a number"),
        ("number", float("nan"), "expected a number"),
        ("number", False, "expected a number"),
        ("string", 12, "expected a text"),
        ("date", "2026-02-30", "expected a date written YYYY-MM-DD"),
        ("date", "2026-2-3", "expected a date written YYYY-MM-DD"),
        ("array", ["a", 1], "expected a list of texts"),
        ("geld", 1, "claim type 'geld' is unknown"),
    ],
)
def test_value_misfits(claim_type, value, problem):
    assert value_problem(claim_type, value).startswith(problem)
