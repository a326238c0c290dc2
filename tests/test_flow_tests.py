"""The flow tests written next to each flow pass, and they can fail."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stappen import flowtests
from stappen.errors import Problems
from stappen.flows import load_flow
from tests.conftest import FIXTURE_STEPS, PROJECT

FLOW_FOLDERS = sorted(
    [*(PROJECT / "steps").glob("*/"), *FIXTURE_STEPS.glob("*/")],
    key=lambda path: path.as_posix(),
)


def _load(folder: Path):
    problems = Problems()
    flow = load_flow(folder, problems)
    tests = flowtests.load_tests(flow, problems)
    return flow, tests, problems


@pytest.mark.parametrize("folder", FLOW_FOLDERS, ids=lambda path: path.name)
def test_flow_tests_pass(folder):
    flow, tests, problems = _load(folder)
    failures = [str(o) for o in flowtests.run_tests(flow, tests) if not o.passed]
    assert list(problems) == []
    assert tests, f"{folder.name} has no flow tests"
    assert failures == []


def test_wrong_outcome_fails():
    flow, tests, _ = _load(FIXTURE_STEPS / "demo")
    wrong = flowtests.FlowTest(
        "wrong", None, {"woonplaats": "elders"}, outcome="geen-recht"
    )
    (outcome,) = flowtests.run_tests(flow, [wrong])
    assert outcome.failure == (
        "expected outcome 'geen-recht', but the path ends in 'andere-gemeente' "
        "(welkom → woonplaats → andere-gemeente)"
    )


def test_failure_names_file_and_line():
    flow, _, _ = _load(FIXTURE_STEPS / "demo")
    wrong = flowtests.FlowTest("wrong", 7, {"woonplaats": "elders"}, outcome="klaar")
    (outcome,) = flowtests.run_tests(flow, [wrong])
    tests_file = FIXTURE_STEPS / "demo" / "tests.yaml"
    assert str(outcome).startswith(f"{tests_file}:7: demo: wrong: FAILED: ")


def test_wrong_next_fails():
    flow, _, _ = _load(FIXTURE_STEPS / "demo")
    answers = {"woonplaats": "voorbeeld", "inkomen": 2000}
    wrong = flowtests.FlowTest(
        "wrong", None, answers, at="inkomen", next="geboortedatum"
    )
    (outcome,) = flowtests.run_tests(flow, [wrong])
    assert (
        outcome.failure == "after 'inkomen' expected 'geboortedatum', got 'geen-recht'"
    )


def test_missing_answer_stops_walk():
    flow, _, _ = _load(FIXTURE_STEPS / "demo")
    case = flowtests.FlowTest(
        "stops", None, {"woonplaats": "voorbeeld"}, outcome="geen-recht"
    )
    (outcome,) = flowtests.run_tests(flow, [case])
    assert outcome.failure == (
        "expected outcome 'geen-recht', but the path stops at 'inkomen' "
        "(welkom → woonplaats → inkomen)"
    )


def test_tests_file_problems_reported(tmp_path):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "flow.yaml").write_bytes(
        (FIXTURE_STEPS / "demo" / "flow.yaml").read_bytes()
    )
    (folder / "tests.yaml").write_text(
        "tests:\n"
        "  - name: Bad case\n"
        "    answers: {woonplaats: amersfoort, inkomen: veel}\n"
        "    outcome: welkom\n"
        "    extra: 1\n",
        encoding="utf-8",
    )
    _, tests, problems = _load(folder)
    messages = [problem.message for problem in problems]
    assert tests == []
    assert (
        "test 'Bad case': unknown field 'extra'; expected one of answers, at, "
        "checks, name, next, outcome, path" in messages
    )
    assert (
        "test 'Bad case': expected one of voorbeeld, elders, got 'amersfoort'"
        in messages
    )
    assert "test 'Bad case': expected a finite number, got 'veel'" in messages
    assert (
        "test 'Bad case': step 'welkom' is a content step, not an outcome" in messages
    )


def _problems_for(tmp_path, tests_yaml: str) -> list[str]:
    folder = tmp_path / "demo"
    folder.mkdir()
    flow = (FIXTURE_STEPS / "demo" / "flow.yaml").read_bytes()
    (folder / "flow.yaml").write_bytes(flow)
    (folder / "tests.yaml").write_text(tests_yaml, encoding="utf-8")
    _, _, problems = _load(folder)
    return [str(problem).split(": ", 1)[1] for problem in problems]


def test_tests_not_a_list(tmp_path):
    messages = _problems_for(tmp_path, "tests:\n")
    assert messages == [
        "field 'tests': expected a list of test cases, got an empty value"
    ]


def test_test_names_unique(tmp_path):
    case = (
        "  - name: Same\n"
        "    answers: {woonplaats: elders}\n"
        "    outcome: andere-gemeente\n"
    )
    messages = _problems_for(tmp_path, "tests:\n" + case + case)
    assert messages == [
        "field 'name': test name 'Same' is used twice (first on line 2); give each "
        "case its own name"
    ]


def test_answer_outside_bounds(tmp_path):
    messages = _problems_for(
        tmp_path,
        "tests:\n  - name: Negative\n"
        "    answers: {woonplaats: voorbeeld, inkomen: -5}\n"
        "    outcome: geen-recht\n",
    )
    assert messages == [
        "field 'answers.inkomen': test 'Negative': expected at least 0, the "
        "question's min, got -5"
    ]


def test_field_typo_suggested(tmp_path):
    messages = _problems_for(
        tmp_path,
        "tests:\n  - name: Typo\n    answers: {woonplaats: elders}\n"
        "    outcom: andere-gemeente\n",
    )
    assert messages == [
        "field 'outcom': test 'Typo': unknown field 'outcom'; did you mean 'outcome'?"
    ]


def test_step_typo_suggested(tmp_path):
    messages = _problems_for(
        tmp_path,
        "tests:\n  - name: Typo\n    answers: {woonplaats: voorbeeld}\n"
        "    at: woonplaats\n    next: inkomn\n",
    )
    assert messages == [
        "field 'next': test 'Typo': step 'inkomn' does not exist in flow 'demo';"
        " did you mean 'inkomen'?"
    ]


def test_answer_typo_suggested(tmp_path):
    messages = _problems_for(
        tmp_path,
        "tests:\n  - name: Typo\n    answers: {woonplaatss: elders}\n"
        "    outcome: andere-gemeente\n",
    )
    assert messages == [
        "field 'answers.woonplaatss': test 'Typo': 'woonplaatss' is not a question"
        " or check step of this flow; did you mean 'woonplaats'?"
    ]


TRIAL_ANSWERS = (
    "{woont-in-utrecht: true, ouder-dan-21: true, aow-leeftijd: false, "
    "alleenstaand: true, kinderen-thuis: false, netto-inkomen: 1200, vermogen: 2500}"
)


def _vil_with_tests(tmp_path: Path, cases: str):
    folder = tmp_path / "vil"
    shutil.copytree(PROJECT / "steps" / "vil", folder)
    (folder / "tests.yaml").write_text(f"tests:\n{cases}", encoding="utf-8")
    return _load(folder)


def test_trial_check_amount_compared(tmp_path):
    flow, tests, problems = _vil_with_tests(
        tmp_path,
        f"  - name: Amount\n    answers: {TRIAL_ANSWERS}\n"
        "    checks: {proefberekening: {result: eligible, amount: 300}}\n",
    )
    (outcome,) = flowtests.run_tests(flow, tests)
    assert list(problems) == []
    assert outcome.failure == "check 'proefberekening': expected amount 300, got 264"


@pytest.mark.parametrize(
    ("checks", "message"),
    [
        (
            "{toets: {result: eligible}}",
            "test 'Case': check 'toets' reads wallet claims; a flow test can run "
            "only a trial calculation, whose inputs are answers",
        ),
        (
            "{proefberekening: {result: yes}}",
            "test 'Case': expected eligible or not-eligible, got yes (unquoted "
            "yes/no/on/off/true/false are read as a boolean in YAML; put the text "
            'in quotes: "yes")',
        ),
        (
            "{proefberekening: {amount: veel}}",
            "test 'Case': expected a number such as 264, got 'veel'",
        ),
        (
            "{voucher: {result: eligible}}",
            "test 'Case': step 'voucher' is a content step",
        ),
    ],
    ids=["claim-check", "result-not-a-value", "amount-not-a-number", "not-a-check"],
)
def test_trial_check_expectation_problems(tmp_path, checks, message):
    _, tests, problems = _vil_with_tests(
        tmp_path,
        f"  - name: Case\n    answers: {TRIAL_ANSWERS}\n    checks: {checks}\n",
    )
    assert tests == []
    assert [problem.message for problem in problems] == [message]


def test_trial_check_needs_its_answers(tmp_path):
    _, tests, problems = _vil_with_tests(
        tmp_path,
        "  - name: Case\n    answers: {netto-inkomen: 1200}\n"
        "    checks: {proefberekening: {result: eligible}}\n",
    )
    (message,) = [problem.message for problem in problems]
    assert tests == []
    assert message.startswith("test 'Case': check 'proefberekening' needs the answers")
    assert "'vermogen'" in message


def test_checks_on_broken_check_skipped(tmp_path):
    cases = (
        f"  - name: Case\n    answers: {TRIAL_ANSWERS}\n"
        "    checks: {proefberekening: {result: eligible}}\n"
    )
    folder = tmp_path / "vil"
    shutil.copytree(PROJECT / "steps" / "vil", folder)
    (folder / "tests.yaml").write_text(f"tests:\n{cases}", encoding="utf-8")
    flow_file = folder / "flow.yaml"
    text = flow_file.read_text(encoding="utf-8")
    broken = text.replace(
        "decision: Individuele inkomenstoeslag", "decision: Onbekend", 1
    )
    assert broken != text
    flow_file.write_text(broken, encoding="utf-8")

    problems = Problems()
    flow = load_flow(folder, problems)
    tests = flowtests.load_tests(flow, problems)

    assert tests == []
    assert not any("test 'Case'" in problem.message for problem in problems)
