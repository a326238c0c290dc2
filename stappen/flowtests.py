"""Flow tests: expectations about routing, written next to a flow.

``steps/<flow>/tests.yaml`` lists cases such as "given these answers, the
step after 'heeft-wallet' is 'wallet-installeren'" or "this path ends in
outcome 'geen-recht'". ``build.py test`` runs them, and so does pytest.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from datetime import date
from decimal import Decimal
from pathlib import Path

from stappen import checkstep, routing, trials
from stappen.checkstep import RESULT_VALUES
from stappen.errors import Problems, with_article
from stappen.flows import usable_file
from stappen.model import Flow
from stappen.rules import DmnError
from stappen.yamlload import describe, load_yaml

TESTS_FILE = "tests.yaml"
CASE_FIELDS = {"name", "answers", "at", "next", "outcome", "path", "checks"}
CHECK_FIELDS = {"result", "amount"}


@dataclasses.dataclass(frozen=True)
class FlowTest:
    name: str
    line: int | None
    answers: dict
    at: str | None = None
    next: str | None = None
    outcome: str | None = None
    path: tuple[str, ...] | None = None
    checks: dict[str, dict] | None = None
    """The expected ``result`` and ``amount`` per trial check step id."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The result of one flow test: ``failure`` is None when it passed."""

    flow: str
    test: FlowTest
    failure: str | None
    file: Path | None = None
    """The tests file the test was read from, to name it in a failure."""

    @property
    def passed(self) -> bool:
        return self.failure is None

    def __str__(self) -> str:
        if self.passed:
            return f"{self.flow}: {self.test.name}: ok"
        where = ""
        if self.file is not None and self.test.line is not None:
            where = f"{self.file}:{self.test.line}: "
        return f"{where}{self.flow}: {self.test.name}: FAILED: {self.failure}"


def load_tests(flow: Flow, problems: Problems) -> list[FlowTest]:
    """Read the flow's tests file; a flow without one has no tests."""
    file = flow.folder / TESTS_FILE
    if not (file.exists() or file.is_symlink()):
        _warn_misnamed(flow, problems)
        return []
    if not usable_file(file, flow.folder, problems):
        return []
    document = load_yaml(file, problems)
    if document is None:
        return []

    cases = _read_cases(document, problems)
    tests = []
    for index, raw in enumerate(cases):
        test = _read_case(flow, document, index, raw, problems)
        if test is not None:
            tests.append(test)
    _check_unique_names(document, tests, problems)
    return tests


def _read_cases(document, problems: Problems) -> list:
    """Return the list under 'tests', reporting any other shape."""
    data = document.data
    for key in sorted(set(data) - {"tests"}):
        problems.error(
            document.path,
            document.key_line((key,)),
            f"unknown field {key!r}; the file holds one field, 'tests'",
            field=key,
        )
    if "tests" not in data:
        problems.error(
            document.path,
            document.line(()),
            "missing field 'tests': list the test cases under 'tests:'",
        )
        return []
    cases = data["tests"]
    if not isinstance(cases, list):
        got = describe(document, ("tests",), cases)
        problems.error(
            document.path,
            document.line(("tests",)),
            f"expected a list of test cases, got {got}",
            field="tests",
        )
        return []
    return cases


def _check_unique_names(document, tests: list[FlowTest], problems: Problems) -> None:
    seen: dict[str, int | None] = {}
    for test in tests:
        if test.name in seen:
            problems.error(
                document.path,
                test.line,
                f"test name {test.name!r} is used twice (first on line "
                f"{seen[test.name]}); give each case its own name",
                field="name",
            )
        seen.setdefault(test.name, test.line)


def _warn_misnamed(flow: Flow, problems: Problems) -> None:
    for name in ("tests.yml", "test.yaml", "test.yml", "Tests.yaml"):
        if (flow.folder / name).exists():
            problems.warning(
                flow.folder / name,
                None,
                f"flow tests are read from {TESTS_FILE}; rename the file",
            )


def check_tests_file(flow: Flow, problems: Problems) -> None:
    """Report problems in the flow's tests file without running the tests."""
    load_tests(flow, problems)


def run_tests(flow: Flow, tests: list[FlowTest]) -> list[Outcome]:
    """Run each test against the flow's routing and return their outcomes."""
    file = flow.folder / TESTS_FILE
    return [Outcome(flow.id, test, _failure(flow, test), file) for test in tests]


def _failure(flow: Flow, test: FlowTest) -> str | None:
    if test.at is not None:
        actual = routing.next_step(flow.steps[test.at], test.answers)
        if actual != test.next:
            return f"after {test.at!r} expected {test.next!r}, got {actual!r}"
    for step_id, expected in (test.checks or {}).items():
        failure = _check_failure(flow, flow.steps[step_id], test.answers, expected)
        if failure:
            return failure
    result = routing.walk(flow, test.answers)
    if test.path is not None and result.path != test.path:
        return f"expected path {' → '.join(test.path)}, got {' → '.join(result.path)}"
    if test.outcome is not None:
        end = result.path[-1] if result.path else None
        if not result.complete or end != test.outcome:
            where = "ends in" if result.complete else "stops at"
            walked = " → ".join(result.path)
            return (
                f"expected outcome {test.outcome!r}, but the path {where} {end!r} "
                f"({walked})"
            )
    return None


def _check_failure(flow: Flow, step, answers: dict, expected: dict) -> str | None:
    """Run trial check ``step`` and compare its result and amount."""
    try:
        outcome = trials.run_trial(flow, step, answers)
    except DmnError as error:
        return f"check {step.id!r} failed: {error.message}"
    if "result" in expected and outcome["result"] != expected["result"]:
        return (
            f"check {step.id!r}: expected result {expected['result']!r}, got "
            f"{outcome['result']!r} (rules {', '.join(outcome['matched_rules'])})"
        )
    if "amount" in expected:
        amount = outcome["amount"]
        if amount is None or Decimal(amount) != Decimal(str(expected["amount"])):
            return (
                f"check {step.id!r}: expected amount {expected['amount']}, got {amount}"
            )
    return None


def _read_case(flow, document, index, raw, problems) -> FlowTest | None:
    path = ("tests", index)
    report = _Reporter(document, path, problems)
    if not isinstance(raw, dict):
        got = describe(document, path, raw)
        report.error((), f"expected a test case mapping, got {got}")
        return None

    name = raw.get("name")
    report.label = name if isinstance(name, str) and name.strip() else f"#{index + 1}"
    unknown = _check_case_fields(raw, report)
    answers = _read_answers(flow, raw.get("answers", {}), report)
    expected = _read_expectations(flow, raw, report, warn_empty=not unknown)
    expected["checks"] = _read_checks(flow, raw.get("checks"), answers, report)
    if report.failed:
        return None
    return FlowTest(report.label, document.line(path), answers, **expected)


def _check_case_fields(raw: dict, report: _Reporter) -> bool:
    """Report unknown fields and a missing name; return whether any was unknown."""
    unknown = sorted(set(raw) - CASE_FIELDS)
    for key in unknown:
        message = f"unknown field {key!r}"
        close = difflib.get_close_matches(
            str(key), sorted(CASE_FIELDS), n=1, cutoff=0.75
        )
        if close:
            message += f"; did you mean {close[0]!r}?"
        else:
            message += f"; expected one of {', '.join(sorted(CASE_FIELDS))}"
        report.error((key,), message, key_line=True)
    name = raw.get("name")
    if name is None:
        report.error((), "missing field 'name': describe the case in a few words")
    elif not isinstance(name, str) or not name.strip():
        got = report.describe(("name",), name)
        report.error(("name",), f"expected a text that describes the case, got {got}")
    return bool(unknown)


def _read_expectations(flow, raw: dict, report: _Reporter, *, warn_empty: bool):
    at, expected_next = raw.get("at"), raw.get("next")
    if (at is None) != (expected_next is None):
        report.error(
            (),
            "'at' and 'next' go together: 'at' names a step, 'next' "
            "the step expected after it",
        )
    for field in ("at", "next", "outcome"):
        _check_step_ref(flow, raw.get(field), (field,), report)
    steps_path = _read_path(flow, raw.get("path"), report)
    outcome = raw.get("outcome")
    end = flow.steps.get(outcome) if isinstance(outcome, str) else None
    if end is not None and not end.is_end:
        report.error(
            ("outcome",),
            f"step {outcome!r} is {with_article(end.kind)} step, not an outcome",
        )
    expects = at is not None or outcome is not None or steps_path is not None
    if warn_empty and not expects and raw.get("checks") is None:
        report.error(
            (),
            "the case expects nothing: add 'at' and 'next', 'outcome', 'path' or "
            "'checks'",
        )
    return {"at": at, "next": expected_next, "outcome": outcome, "path": steps_path}


def _read_checks(flow, checks, answers: dict, report: _Reporter) -> dict | None:
    """Read ``checks``: per trial check step, the expected result and amount."""
    if checks is None:
        return None
    if not isinstance(checks, dict) or not checks:
        got = report.describe(("checks",), checks)
        report.error(
            ("checks",),
            "expected a mapping of check step id to {result, amount}, such as "
            f"{{proefberekening: {{result: eligible, amount: 264}}}}, got {got}",
        )
        return None
    read = {}
    for step_id, expected in checks.items():
        field = ("checks", step_id)
        _check_step_ref(flow, step_id, field, report)
        step = flow.steps.get(step_id) if isinstance(step_id, str) else None
        if step is None or not _is_trial_step(flow, step, field, report):
            continue
        if _check_expectation(expected, field, report):
            _check_inputs_answered(flow, step, answers, field, report)
            read[step_id] = expected
    return read


def _is_trial_step(flow: Flow, step, field: tuple, report: _Reporter) -> bool:
    if step.kind != "check":
        report.error(field, f"step {step.id!r} is {with_article(step.kind)} step")
        return False
    try:
        trial = trials.is_trial(flow, step)
    except checkstep.InvalidCheckSettings:
        # Validation reports the step's settings; the case cannot run.
        report.skip()
        return False
    if not trial:
        report.error(
            field,
            f"check {step.id!r} reads wallet claims; a flow test can run only a "
            "trial calculation, whose inputs are answers",
        )
        return False
    return True


def _check_expectation(expected, field: tuple, report: _Reporter) -> bool:
    if not isinstance(expected, dict) or not expected:
        got = report.describe(field, expected)
        report.error(field, f"expected {{result: ..., amount: ...}}, got {got}")
        return False
    unknown = sorted(set(expected) - CHECK_FIELDS)
    if unknown:
        report.error(field, f"unknown field {unknown[0]!r}; expected result, amount")
    result = expected.get("result", RESULT_VALUES[0])
    if result not in RESULT_VALUES:
        got = report.describe((*field, "result"), result)
        choices = " or ".join(RESULT_VALUES)
        report.error((*field, "result"), f"expected {choices}, got {got}")
    amount = expected.get("amount", 0)
    if not _is_number(amount):
        got = report.describe((*field, "amount"), amount)
        report.error((*field, "amount"), f"expected a number such as 264, got {got}")
    return not report.failed


def _check_inputs_answered(flow, step, answers: dict, field, report) -> None:
    settings = checkstep.read_settings(flow, step)
    missing = [s.answer for s in settings.inputs if s.answer not in answers]
    if missing:
        names = ", ".join(map(repr, missing))
        report.error(
            field,
            f"check {step.id!r} needs the answers {names}; add them to 'answers'",
        )


def _read_path(flow, steps_path, report: _Reporter) -> tuple[str, ...] | None:
    if steps_path is None:
        return None
    if not isinstance(steps_path, list):
        got = report.describe(("path",), steps_path)
        report.error(("path",), f"expected a list of step ids, got {got}")
        return None
    for position, step_id in enumerate(steps_path):
        _check_step_ref(flow, step_id, ("path", position), report)
    return tuple(steps_path)


class _Reporter:
    """Adds problems about one test case, naming it like a step."""

    def __init__(self, document, path, problems: Problems) -> None:
        self.document = document
        self.path = path
        self.problems = problems
        self.label = None
        self.failed = False

    def describe(self, field_path: tuple, value) -> str:
        return describe(self.document, (*self.path, *field_path), value)

    def skip(self) -> None:
        """Leave the case out without a message: it names a step whose own
        errors are reported already."""
        self.failed = True

    def error(self, field_path: tuple, message: str, *, key_line=False) -> None:
        full = (*self.path, *field_path)
        line = self.document.key_line(full) if key_line else self.document.line(full)
        field = ".".join(str(part) for part in field_path) or None
        subject = f"test {self.label!r}" if self.label else None
        self.problems.error(
            self.document.path,
            line,
            f"{subject}: {message}" if subject else message,
            field=field,
        )
        self.failed = True


def _check_step_ref(flow: Flow, value, field: tuple, report: _Reporter) -> None:
    if value is None:
        return
    if isinstance(value, str) and value in flow.skipped_steps:
        report.skip()
    elif not isinstance(value, str) or value not in flow.steps:
        message = f"step {value!r} does not exist in flow {flow.id!r}"
        report.error(field, message + _suggestion(str(value), list(flow.steps)))


def _suggestion(value: str, known: list[str]) -> str:
    close = difflib.get_close_matches(value, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _read_answers(flow: Flow, answers, report: _Reporter) -> dict:
    if not isinstance(answers, dict):
        report.error(("answers",), "expected a mapping of step id to answer")
        return {}
    for step_id, value in answers.items():
        step = flow.steps.get(step_id)
        if step_id in flow.skipped_steps:
            report.skip()
            continue
        if step is not None and step.kind == "check":
            if value not in RESULT_VALUES:
                got = report.describe(("answers", step_id), value)
                expected = " or ".join(RESULT_VALUES)
                report.error(("answers", step_id), f"expected {expected}, got {got}")
            continue
        if step is None or step.kind != "question":
            answerable = [
                other.id
                for other in flow.steps.values()
                if other.kind in ("question", "check")
            ]
            report.error(
                ("answers", step_id),
                f"{step_id!r} is not a question or check step of this flow"
                + _suggestion(str(step_id), answerable),
                key_line=True,
            )
            continue
        got = report.describe(("answers", step_id), value)
        problem = answer_problem(step.answer, value, got)
        if problem:
            report.error(("answers", step_id), problem)
    return answers


def answer_problem(answer, value, got: str) -> str | None:
    """Say why ``value`` is not an answer the question could have given."""
    kind = answer.type
    options = [option.value for option in answer.options]
    if kind == "yesno" and not isinstance(value, bool):
        return f"expected true or false, got {got}"
    if kind == "choice" and value not in options:
        return f"expected one of {', '.join(options)}, got {got}"
    if kind == "choices" and (
        not isinstance(value, list) or any(v not in options for v in value)
    ):
        return f"expected a list of {', '.join(options)}, got {got}"
    if kind in ("number", "amount") and not _is_number(value):
        return f"expected a finite number, got {got}"
    if kind == "date" and not _is_date(value):
        return f"expected a date written as 'YYYY-MM-DD' in quotes, got {got}"
    if kind == "text" and not isinstance(value, str):
        return f"expected a text, got {got}"
    return _bounds_problem(answer, value, got)


def _bounds_problem(answer, value, got: str) -> str | None:
    if answer.type not in ("number", "amount", "date"):
        return None
    if answer.min is not None and value < answer.min:
        return f"expected at least {answer.min}, the question's min, got {got}"
    if answer.max is not None and value > answer.max:
        return f"expected at most {answer.max}, the question's max, got {got}"
    return None


def _is_number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    # Integers are always finite, and math.isfinite fails on those too
    # large for a float.
    return isinstance(value, int) or math.isfinite(value)


def _is_date(value) -> bool:
    try:
        date.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str) and len(value) == 10
