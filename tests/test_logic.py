"""Tests for stappen.logic: evaluation against json-logic-js, and the checks."""

from __future__ import annotations

import datetime
import json
import math
from decimal import Decimal
from pathlib import Path

import pytest

from stappen.logic import (
    OPERATORS,
    AnswerType,
    ExpressionError,
    check_expression,
    evaluate,
    truthy,
    variables,
)
from tests.nodejs import require_packages, run_node_tests

TESTS = Path(__file__).resolve().parent
TABLE = json.loads((TESTS / "data" / "expressions.json").read_text(encoding="utf-8"))
CASES = TABLE["cases"]


def same_json(a, b) -> bool:
    """Compare JSON values as JavaScript would print them: 1 equals 1.0, but
    true does not equal 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(same_json, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def operators_in(expression) -> set[str]:
    if isinstance(expression, list):
        return set().union(*map(operators_in, expression)) if expression else set()
    if not isinstance(expression, dict) or len(expression) != 1:
        return set()
    [(operator, arguments)] = expression.items()
    return {operator} | operators_in(arguments)


@pytest.mark.parametrize(
    "case",
    CASES,
    ids=[f"{index}-{case['description']}" for index, case in enumerate(CASES)],
)
def test_evaluate_matches_json_logic_js(case):
    result = evaluate(case["expression"], case["data"])

    assert same_json(result, case["expected"]), (
        f"{json.dumps(case['expression'])} with {json.dumps(case['data'])}: "
        f"expected {json.dumps(case['expected'])}, got {result!r}"
    )


def test_json_logic_js_passes_table():
    require_packages("json-logic-js")

    passed = run_node_tests(TESTS / "js" / "expressions.test.mjs")

    assert passed == len(CASES)


def test_table_size():
    assert len(CASES) >= 80


def test_table_uses_every_operator():
    used = set().union(*(operators_in(case["expression"]) for case in CASES))

    assert used >= set(OPERATORS)


def test_evaluate_converts_decimal_and_date_answers():
    answers = {"inkomen": Decimal("1533.50"), "datum": datetime.date(2026, 12, 31)}

    assert evaluate({">": [{"var": "inkomen"}, 1533.4]}, answers) is True
    assert evaluate({"var": "datum"}, answers) == "2026-12-31"
    assert evaluate({"cat": [{"var": "inkomen"}]}, answers) == "1533.5"


def test_evaluate_unknown_operator_raises():
    with pytest.raises(ExpressionError, match="Unrecognized operation: 'iff'"):
        evaluate({"iff": [True, 1, 2]}, {})


def test_evaluate_multiply_without_arguments_raises():
    with pytest.raises(ExpressionError, match="'\\*' needs at least 1 argument"):
        evaluate({"*": []}, {})


def test_evaluate_missing_some_without_list_raises():
    with pytest.raises(ExpressionError, match="needs a list of step ids"):
        evaluate({"missing_some": [1, "a"]}, {})


def test_evaluate_division_by_zero():
    assert evaluate({"/": [1, 0]}, {}) == math.inf
    assert evaluate({"/": [-1, 0]}, {}) == -math.inf
    assert math.isnan(evaluate({"/": [0, 0]}, {}))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, False),
        (0.0, False),
        ("", False),
        ("0", True),
        ("false", True),
        ([], False),
        ([0], True),
        ({}, True),
        (None, False),
        (math.nan, False),
        (-1, True),
        (Decimal("0.00"), False),
        (Decimal("0.01"), True),
    ],
)
def test_truthy(value, expected):
    assert truthy(value) is expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ({"var": "heeft-wallet"}, {"heeft-wallet"}),
        ({"var": ["inkomen", 0]}, {"inkomen"}),
        ({"var": "adres.postcode"}, {"adres"}),
        ({"==": [{"var": "a"}, {"var": "b"}]}, {"a", "b"}),
        ({"missing": ["a", "b"]}, {"a", "b"}),
        ({"missing": [["a", "b"]]}, {"a", "b"}),
        ({"missing_some": [1, ["a", "b"]]}, {"a", "b"}),
        ({"var": ["a", {"var": "b"}]}, {"a", "b"}),
        (
            {"some": [{"var": "toeslagen"}, {"==": [{"var": ""}, "zorg"]}]},
            {"toeslagen"},
        ),
        (
            {"filter": [{"var": "kinderen"}, {"<": [{"var": "leeftijd"}, 18]}]},
            {"kinderen"},
        ),
        ({"reduce": [{"var": "a"}, {"var": "current"}, {"var": "b"}]}, {"a", "b"}),
        ({"var": {"cat": ["a", "b"]}}, set()),
        ({"var": ""}, set()),
        ({"var": 1}, set()),
        ({"a": {"var": "x"}, "b": 1}, set()),
        (True, set()),
        (
            [{"var": "a"}, {"if": [{"var": "b"}, {"var": "c"}, {"var": "d"}]}],
            {"a", "b", "c", "d"},
        ),
    ],
)
def test_variables(expression, expected):
    assert variables(expression) == expected


YESNO = AnswerType("yesno")
GEMEENTE = AnswerType("choice", ("utrecht", "zeist"))
TOESLAGEN = AnswerType("choices", ("huur", "zorg"))
TYPES = {
    "heeft-wallet": YESNO,
    "gemeente": GEMEENTE,
    "gemeente-vrij": AnswerType("choice"),
    "toeslagen": TOESLAGEN,
    "kinderen": AnswerType("number"),
    "inkomen": AnswerType("amount"),
    "geboortedatum": AnswerType("date"),
    "naam": AnswerType("text"),
    "toets": AnswerType("choice", ("eligible", "not-eligible"), noun="check result"),
}

VALID_EXPRESSIONS = [
    True,
    {"==": [{"var": "heeft-wallet"}, True]},
    {"!=": [{"var": "heeft-wallet"}, None]},
    {"==": [{"var": "gemeente"}, "utrecht"]},
    {"==": [{"var": "gemeente-vrij"}, "anders"]},
    {"in": [{"var": "gemeente"}, ["utrecht", "zeist"]]},
    {"in": ["zorg", {"var": "toeslagen"}]},
    {"in": ["Jan", {"var": "naam"}]},
    {">=": [{"var": "inkomen"}, 1533.5]},
    {"<": [0, {"var": "kinderen"}, 4]},
    {"<=": ["2008-01-01", {"var": "geboortedatum"}, "2026-12-31"]},
    {"==": [{"var": "naam"}, "Jan"]},
    {"and": [{"var": "heeft-wallet"}, {"!": {"missing": ["naam"]}}]},
    {"missing_some": [1, ["naam", "inkomen"]]},
    {"if": [{"var": "heeft-wallet"}, "ja", "nee"]},
    {"some": [{"var": "toeslagen"}, {"==": [{"var": ""}, "onbekend-in-element"]}]},
    {"all": [{"var": "toeslagen"}, {"in": [{"var": ""}, ["huur", "zorg"]]}]},
    {"reduce": [{"var": "toeslagen"}, {"+": [1, {"var": "accumulator"}]}, 0]},
    {"==": [{"+": [{"var": "inkomen"}, 1]}, "x"]},
]


@pytest.mark.parametrize("expression", VALID_EXPRESSIONS, ids=json.dumps)
def test_check_expression_accepts(expression):
    assert check_expression(expression, TYPES) == []


CHECKS = {
    "literal object": (
        {"and": [{"==": [1, 1], "var": "a"}]},
        'the object {"==": [1, 1], "var": "a"} has 2 keys, so it is a literal '
        "value, not an operation. Write each operation as an object with exactly "
        "one key, the operator.",
    ),
    "unknown operator close": (
        {"iff": [True, 1, 2]},
        "unknown operator 'iff'. Did you mean 'if'?",
    ),
    "unknown operator upper case": (
        {"AND": [True, True]},
        "unknown operator 'AND'. Did you mean 'and'?",
    ),
    "unknown operator far": (
        {"regex_match": ["a", "b"]},
        "unknown operator 'regex_match'. Use one of the operators that "
        "json-logic-js 2.0.5 supports: " + ", ".join(OPERATORS) + ".",
    ),
    "arity one missing": (
        {"==": [{"var": "naam"}]},
        "operator '==' takes 2 arguments, but 1 is given. Add the missing argument.",
    ),
    "arity two missing": (
        {"?:": [True]},
        "operator '?:' takes 3 arguments, but 1 is given. Add the 2 missing arguments.",
    ),
    "arity one extra": (
        {"!": [True, False]},
        "operator '!' takes 1 argument, but 2 are given. Remove the extra argument.",
    ),
    "arity two extra": (
        {"in": ["a", "b", "c", "d"]},
        "operator 'in' takes 2 arguments, but 4 are given. Remove the 2 extra "
        "arguments.",
    ),
    "arity range": (
        {"<": [1]},
        "operator '<' takes 2 or 3 arguments, but 1 is given. Add the missing "
        "argument.",
    ),
    "arity minimum": (
        {"and": []},
        "operator 'and' takes at least 1 argument, but 0 are given. Add the "
        "missing argument.",
    ),
    "arity greater than between": (
        {">": [10, {"var": "kinderen"}, 0]},
        "operator '>' takes 2 arguments, but 3 are given. json-logic-js ignores "
        "the third argument of '>', so for a range check write '<' or '<=' with "
        "3 arguments: low, value, high.",
    ),
    "unknown answer": (
        {"var": "heeft-walet"},
        "reads answer 'heeft-walet', which no question step asks; ask it in a "
        "step before this one, or fix the name",
    ),
    "unknown answer in dotted path": (
        {"var": "adres.postcode"},
        "reads answer 'adres', which no question step asks; ask it in a step "
        "before this one, or fix the name",
    ),
    "unknown answer in missing": (
        {"missing": ["naam", "leeftijd"]},
        "reads answer 'leeftijd', which no question step asks; ask it in a step "
        "before this one, or fix the name",
    ),
    "unknown answer in missing_some": (
        {"missing_some": [1, ["leeftijd"]]},
        "reads answer 'leeftijd', which no question step asks; ask it in a step "
        "before this one, or fix the name",
    ),
    "computed var name": (
        {"var": {"cat": ["heeft-", "wallet"]}},
        "'var' needs step ids written as literal strings, but it is given "
        '{"cat": ["heeft-", "wallet"]}. Write the step id in quotes, such as '
        '{"var": "heeft-wallet"}.',
    ),
    "empty var name": (
        {"var": ""},
        "'var' needs step ids written as literal strings, but it is given \"\". "
        'Write the step id in quotes, such as {"var": "heeft-wallet"}.',
    ),
    "numeric var name": (
        {"var": 1},
        "'var' needs step ids written as literal strings, but it is given 1. "
        'Write the step id in quotes, such as {"var": "heeft-wallet"}.',
    ),
    "computed missing names": (
        {"missing": {"merge": [["naam"]]}},
        "'missing' needs step ids written as literal strings, but it is given "
        '{"merge": [["naam"]]}. Write the step id in quotes, such as '
        '{"missing": ["heeft-wallet"]}.',
    ),
    "yesno with ja": (
        {"==": [{"var": "heeft-wallet"}, "ja"]},
        "compares yesno answer 'heeft-wallet' with \"ja\", but a yesno answer is "
        "true or false. Write true or false, without quotes.",
    ),
    "yesno with number": (
        {"===": [1, {"var": "heeft-wallet"}]},
        "compares yesno answer 'heeft-wallet' with 1, but a yesno answer is true "
        "or false. Write true or false, without quotes.",
    ),
    "number with Dutch text": (
        {">": [{"var": "kinderen"}, "1.533,50"]},
        "compares number answer 'kinderen' with \"1.533,50\", but a number answer "
        "is a number. Write it as the JSON number 1533.5, without quotes.",
    ),
    "amount with text": (
        {"<": [{"var": "inkomen"}, "veel"]},
        "compares amount answer 'inkomen' with \"veel\", but an amount answer is "
        "a number. Write a JSON number without quotes, with a decimal point and "
        "no thousands separators, such as 1533.5.",
    ),
    "amount with boolean": (
        {"==": [{"var": "inkomen"}, False]},
        "compares amount answer 'inkomen' with false, but an amount answer is a "
        "number. Write a JSON number without quotes, with a decimal point and no "
        "thousands separators, such as 1533.5.",
    ),
    "date with Dutch date": (
        {"<": [{"var": "geboortedatum"}, "31-12-2008"]},
        "compares date answer 'geboortedatum' with \"31-12-2008\", which is not an "
        'ISO date. Write it as "2008-12-31".',
    ),
    "date that does not exist": (
        {"<": [{"var": "geboortedatum"}, "2026-02-30"]},
        "compares date answer 'geboortedatum' with \"2026-02-30\", which is not an "
        'ISO date. Write dates as "YYYY-MM-DD", such as "2026-12-31".',
    ),
    "date with number": (
        {">": [{"var": "geboortedatum"}, 2008]},
        "compares date answer 'geboortedatum' with 2008, which is not an ISO "
        'date. Write dates as "YYYY-MM-DD", such as "2026-12-31".',
    ),
    "choice not an option": (
        {"==": [{"var": "gemeente"}, "Utrecht"]},
        "compares choice answer 'gemeente' with \"Utrecht\", which is not one of "
        'its options. Use one of: "utrecht", "zeist".',
    ),
    "check result not a value": (
        {"==": [{"var": "toets"}, "not_eligible"]},
        "compares check result 'toets' with \"not_eligible\", which is not one of "
        'its options. Use one of: "eligible", "not-eligible".',
    ),
    "choice without options": (
        {"!=": [{"var": "gemeente-vrij"}, 3]},
        "compares choice answer 'gemeente-vrij' with 3, but a choice answer is an "
        "option value. Write the option value in quotes.",
    ),
    "choices with equals": (
        {"==": [{"var": "toeslagen"}, "zorg"]},
        "compares choices answer 'toeslagen' with \"zorg\" using '==', but a "
        "choices answer is a list of option values. To test whether an option was "
        'chosen, write {"in": ["zorg", {"var": "toeslagen"}]}.',
    ),
    "choices with list": (
        {"===": [{"var": "toeslagen"}, ["zorg"]]},
        "compares choices answer 'toeslagen' with [\"zorg\"] using '===', but a "
        "choices answer is a list of option values. To test whether an option was "
        'chosen, write {"in": ["option", {"var": "toeslagen"}]}.',
    ),
    "text with number": (
        {"==": [{"var": "naam"}, 12]},
        "compares text answer 'naam' with 12, but a text answer is a string. Write "
        'the value in quotes, such as "12".',
    ),
    "in with bad option": (
        {"in": [{"var": "gemeente"}, ["utrecht", "Zeist"]]},
        "compares choice answer 'gemeente' with \"Zeist\", which is not one of its "
        'options. Use one of: "utrecht", "zeist".',
    ),
    "in choices unknown option": (
        {"in": ["kinderopvang", {"var": "toeslagen"}]},
        "tests whether choices answer 'toeslagen' contains \"kinderopvang\", which "
        'is not one of its options. Use one of: "huur", "zorg".',
    ),
    "in on number": (
        {"in": [2, {"var": "kinderen"}]},
        "uses 'in' on number answer 'kinderen', which is always false because a "
        "number answer is neither a list nor text. Compare it with '==' instead.",
    ),
}


@pytest.mark.parametrize(("expression", "message"), CHECKS.values(), ids=CHECKS)
def test_check_expression_message(expression, message):
    assert check_expression(expression, TYPES) == [message]


def test_check_expression_reports_every_problem():
    expression = {
        "and": [
            {"==": [{"var": "heeft-wallet"}, "ja"]},
            {"iff": []},
            {"var": "onbekend"},
        ]
    }

    problems = check_expression(expression, TYPES)

    assert len(problems) == 3
    assert problems[0].startswith("compares yesno answer 'heeft-wallet'")
    assert problems[1].startswith("unknown operator 'iff'")
    assert problems[2].startswith("reads answer 'onbekend'")


def test_check_expression_checks_steps_of_array_operators():
    expression = {"some": [{"var": "toeslagen"}, {"==": [{"var": ""}]}]}

    problems = check_expression(expression, TYPES)

    assert problems == [
        "operator '==' takes 2 arguments, but 1 is given. Add the missing argument."
    ]


def test_answer_type_is_frozen():
    answer_type = AnswerType("choice", ("a", "b"))

    with pytest.raises(AttributeError):
        answer_type.type = "text"
    assert answer_type == AnswerType("choice", ("a", "b"))
    assert AnswerType("text").options == ()
