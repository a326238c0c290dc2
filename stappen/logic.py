"""Evaluate and check the JSON Logic expressions that choose a flow's next step.

The browser evaluates the same expressions with json-logic-js 2.0.5, so Python
must return what that library returns. Evaluation runs on panzi-json-logic, with
the operators where it differs from json-logic-js replaced by the functions in
this module. tests/data/expressions.json contains the cases that both sides run.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import difflib
import json
import math
import re
from collections.abc import Iterator
from typing import Any

from json_logic import jsonLogic as _panzi_apply
from json_logic.builtins import BUILTINS as _PANZI_OPERATIONS
from json_logic.builtins import op_substr_utf16 as _panzi_substr
from json_logic.builtins import to_bool as _panzi_truthy

from stappen import dutch

# Every operator that json-logic-js 2.0.5 implements, and so every operator a
# flow may use.
OPERATORS = (
    "==",
    "===",
    "!=",
    "!==",
    ">",
    ">=",
    "<",
    "<=",
    "!",
    "!!",
    "and",
    "or",
    "if",
    "?:",
    "var",
    "missing",
    "missing_some",
    "in",
    "cat",
    "substr",
    "+",
    "-",
    "*",
    "/",
    "%",
    "min",
    "max",
    "merge",
    "map",
    "filter",
    "reduce",
    "all",
    "some",
    "none",
    "log",
)

# Operators whose second argument runs once per array element, with the element
# (for reduce: {"current": ..., "accumulator": ...}) as its data, not the answers.
SCOPED_OPERATORS = frozenset({"map", "filter", "reduce", "all", "some", "none"})

COMPARISON_OPERATORS = frozenset({"==", "===", "!=", "!==", "<", "<=", ">", ">="})

# (minimum, maximum) argument counts, where a maximum of None allows any number.
# Operators that are missing here accept any count.
ARITIES = {
    "==": (2, 2),
    "===": (2, 2),
    "!=": (2, 2),
    "!==": (2, 2),
    ">": (2, 2),
    ">=": (2, 2),
    "<": (2, 3),
    "<=": (2, 3),
    "!": (1, 1),
    "!!": (1, 1),
    "and": (1, None),
    "or": (1, None),
    "if": (2, None),
    "?:": (3, 3),
    "var": (1, 2),
    "missing": (1, None),
    "missing_some": (2, 2),
    "in": (2, 2),
    "substr": (2, 3),
    "-": (1, 2),
    "*": (1, None),
    "/": (2, 2),
    "%": (2, 2),
    "min": (1, None),
    "max": (1, None),
    "map": (2, 2),
    "filter": (2, 2),
    "reduce": (2, 3),
    "all": (2, 2),
    "some": (2, 2),
    "none": (2, 2),
    "log": (1, 1),
}


@dataclasses.dataclass(frozen=True)
class AnswerType:
    """The type of a question step's answer, with the option values of a choice
    or choices answer."""

    type: str
    options: tuple[str, ...] = ()
    noun: str = "choice answer"
    """The name that error messages use for the value, such as "check result"."""


class ExpressionError(ValueError):
    """An expression failed to evaluate, as it would in json-logic-js."""


def evaluate(expression: Any, answers: dict) -> Any:
    """Evaluate a JSON Logic expression with the answers as its data.

    Answers are JSON values, except that a ``Decimal`` is read as a number and
    a ``datetime.date`` as an ISO string, as the browser stores them.
    """
    data = _to_json_value(answers)
    logic = _rewrite_reduce(expression)

    try:
        return _panzi_apply(logic, data, _OPERATIONS)
    except ReferenceError as error:
        raise ExpressionError(
            f"{error}. Use one of the operators that json-logic-js 2.0.5 "
            f"supports: {', '.join(OPERATORS)}."
        ) from error


def truthy(value: Any) -> bool:
    """Return the JSON Logic truthiness of a value: [] and "" are false, "0" is true."""
    return _panzi_truthy(_to_json_value(value))


def variables(expression: Any) -> set[str]:
    """Return the names of the answers that an expression reads.

    Names come from ``var`` and from the arguments of ``missing`` and
    ``missing_some``. A dotted path such as "adres.postcode" reads the answer
    "adres". Names that are not literal strings are left out, and
    ``check_expression`` reports them.
    """
    names = set()
    for node, reads_answers in _nodes(expression):
        if reads_answers and _is_operation(node):
            operator, arguments = _split(node)
            names.update(_answer_names(operator, arguments))
    return names


def check_expression(expression: Any, answer_types: dict[str, AnswerType]) -> list[str]:
    """Return the problems in an expression, each naming the bad value and the fix.

    ``answer_types`` maps the id of each question step asked before this
    expression runs to the type of its answer.
    """
    problems = []
    for node, reads_answers in _nodes(expression):
        problems.extend(_check_node(node, reads_answers, answer_types))
    return problems


# JavaScript's conversions, as json-logic-js relies on them.


def _kind(value: Any) -> str:
    """Return the JSON type of a value, telling booleans from numbers."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _to_primitive(value: Any) -> Any:
    """Convert an array or object the way JavaScript does before comparing it."""
    if isinstance(value, (list, dict)):
        return _to_string(value)
    return value


_DECIMAL_LITERAL = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Infinity"


def _to_number(value: Any) -> float | int:
    """Convert a value to a number as JavaScript's Number() does."""
    value = _to_primitive(value)
    if value is None:
        return 0
    if isinstance(value, (bool, int, float)):
        return int(value) if isinstance(value, bool) else value

    text = value.strip()
    if not text:
        return 0

    if re.fullmatch(_DECIMAL_LITERAL, text):
        return float(text.replace("Infinity", "inf"))
    for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if text[:2].lower() == prefix:
            try:
                return int(text[2:], base)
            except ValueError:
                return math.nan
    return math.nan


def _parse_float(value: Any) -> float | int:
    """Convert a value to a number as JavaScript's parseFloat() does.

    parseFloat reads the longest number at the start of the text, so "12abc"
    is 12, and it reads null, true and false as NaN.
    """
    if _kind(value) == "number":
        return value

    match = re.match(_DECIMAL_LITERAL, _to_string(value).lstrip())
    if match is None:
        return math.nan
    return float(match.group().replace("Infinity", "inf"))


def _to_string(value: Any) -> str:
    """Convert a value to text as JavaScript's String() does."""
    kind = _kind(value)
    if kind == "string":
        return value
    if kind == "null":
        return "null"
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "number":
        return _number_to_string(value)
    if kind == "array":
        return ",".join("" if item is None else _to_string(item) for item in value)
    return "[object Object]"


def _number_to_string(number: float | int) -> str:
    """Write a number as JavaScript does: 1533 for 1533.0, 1e+21, 0.000001."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "0"

    # repr() gives the shortest digits that read back as the same float, as
    # JavaScript does, so only the placement of the decimal point differs.
    sign = "-" if number < 0 else ""
    parts = decimal.Decimal(repr(float(abs(number)))).normalize().as_tuple()
    digits = "".join(str(digit) for digit in parts.digits)
    point = len(digits) + parts.exponent

    if len(digits) <= point <= 21:
        return sign + digits + "0" * (point - len(digits))
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits

    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    exponent = point - 1
    return f"{sign}{mantissa}e{'+' if exponent > 0 else '-'}{abs(exponent)}"


def _strict_equals(a: Any, b: Any) -> bool:
    """Compare as JavaScript's === does: arrays and objects only equal themselves."""
    if _kind(a) != _kind(b):
        return False
    if isinstance(a, (list, dict)):
        return a is b
    return a == b


def _loose_equals(a: Any, b: Any) -> bool:
    """Compare as JavaScript's == does, converting between types."""
    kind_a, kind_b = _kind(a), _kind(b)
    if kind_a == kind_b:
        return _strict_equals(a, b)
    if kind_a == "null" or kind_b == "null":
        return False

    if kind_a == "boolean":
        return _loose_equals(int(a), b)
    if kind_b == "boolean":
        return _loose_equals(a, int(b))

    if {kind_a, kind_b} == {"number", "string"}:
        return _to_number(a) == _to_number(b)
    if kind_a in ("array", "object") and kind_b in ("number", "string"):
        return _loose_equals(_to_primitive(a), b)
    if kind_b in ("array", "object") and kind_a in ("number", "string"):
        return _loose_equals(a, _to_primitive(b))
    return False


def _less_than(a: Any, b: Any) -> bool | None:
    """Compare as JavaScript's < does, returning None for a comparison with NaN.

    Two texts compare by character. NOTE: Python orders characters by code
    point and JavaScript by UTF-16 unit, which differs only for characters
    outside the Basic Multilingual Plane.
    """
    a, b = _to_primitive(a), _to_primitive(b)
    if isinstance(a, str) and isinstance(b, str):
        return a < b

    x, y = _to_number(a), _to_number(b)
    if math.isnan(x) or math.isnan(y):
        return None
    return x < y


# Replacements for panzi-json-logic's operators. Each takes the data first,
# then the evaluated arguments, as panzi-json-logic calls them.


def _op_equals(data, a=None, b=None, *ignored) -> bool:
    # panzi-json-logic finds 0 == "" false and null == false true.
    return _loose_equals(a, b)


def _op_not_equals(data, a=None, b=None, *ignored) -> bool:
    return not _loose_equals(a, b)


def _op_strict_equals(data, a=None, b=None, *ignored) -> bool:
    # panzi-json-logic finds true === 1 true, as Python's == does.
    return _strict_equals(a, b)


def _op_strict_not_equals(data, a=None, b=None, *ignored) -> bool:
    return not _strict_equals(a, b)


def _op_less(data, a=None, b=None, *rest) -> bool:
    # panzi-json-logic compares "2026-01-01" < null as text ("null") and so
    # finds it true, but JavaScript converts both to numbers and finds it false.
    # A third argument makes a range check, even when it is null.
    if rest:
        return _less_than(a, b) is True and _less_than(b, rest[0]) is True
    return _less_than(a, b) is True


def _op_less_or_equal(data, a=None, b=None, *rest) -> bool:
    # JavaScript's a <= b is "not b < a", except that NaN makes it false.
    if rest:
        return _less_than(b, a) is False and _less_than(rest[0], b) is False
    return _less_than(b, a) is False


def _op_greater(data, a=None, b=None, *ignored) -> bool:
    # json-logic-js ignores a third argument of > and >=, where
    # panzi-json-logic would make a range check of it.
    return _less_than(b, a) is True


def _op_greater_or_equal(data, a=None, b=None, *ignored) -> bool:
    return _less_than(a, b) is False


def _op_add(data, *arguments) -> float | int:
    # json-logic-js converts with parseFloat, so a missing answer (null) makes
    # the sum NaN, where panzi-json-logic counts it as 0.
    return sum((_parse_float(argument) for argument in arguments), 0)


def _op_multiply(data, *arguments) -> Any:
    # json-logic-js multiplies with reduce() and no start value: a single
    # argument comes back unconverted, and no arguments at all throw.
    if not arguments:
        raise ExpressionError("'*' needs at least 1 argument, but got none")
    if len(arguments) == 1:
        return arguments[0]
    return math.prod(_parse_float(argument) for argument in arguments)


def _op_subtract(data, a=None, *rest) -> float | int:
    if not rest:
        return -_to_number(a)
    return _to_number(a) - _to_number(rest[0])


def _op_divide(data, a=None, b=None, *ignored) -> float:
    # Division by zero gives Infinity or NaN in JavaScript, not an exception.
    x, y = _to_number(a), _to_number(b)
    if y != 0:
        return x / y
    if x == 0 or math.isnan(x):
        return math.nan
    return math.copysign(math.inf, x) * math.copysign(1, y)


def _op_remainder(data, a=None, b=None, *ignored) -> float | int:
    # JavaScript's remainder takes the sign of the dividend (-7 % 3 is -1),
    # which math.fmod matches and Python's % does not.
    x, y = _to_number(a), _to_number(b)
    if y == 0 or math.isnan(y) or math.isinf(x):
        return math.nan
    if math.isinf(y):
        return x

    remainder = math.fmod(x, y)
    if isinstance(x, int) and isinstance(y, int):
        return int(remainder)
    return remainder


def _op_min(data, *arguments) -> float | int:
    numbers = [_to_number(argument) for argument in arguments]
    if any(math.isnan(number) for number in numbers):
        return math.nan
    return min(numbers, default=math.inf)


def _op_max(data, *arguments) -> float | int:
    numbers = [_to_number(argument) for argument in arguments]
    if any(math.isnan(number) for number in numbers):
        return math.nan
    return max(numbers, default=-math.inf)


def _op_cat(data, *arguments) -> str:
    # Array.join writes null as "" and booleans as "true" and "false", where
    # panzi-json-logic writes "null" and "True". Numbers are written as
    # JavaScript writes them: 0.1 + 0.2 as 0.30000000000000004, not 0.3.
    return "".join(
        "" if argument is None else _to_string(argument) for argument in arguments
    )


def _op_substr(data, source=None, start=None, *rest) -> str:
    # JavaScript reads a null length as 0, where panzi-json-logic reads it as
    # "to the end", and writes true as "true", not "True".
    if rest and rest[0] is None:
        return ""
    return _panzi_substr(data, _to_string(source), start, *rest[:1])


def _op_in(data, needle=None, haystack=None, *ignored) -> bool:
    # Array.indexOf compares with ===, so 1 is not in ["1"] and true is not in
    # [1]. json-logic-js finds nothing in an empty text, not even "".
    if isinstance(haystack, list):
        return any(_strict_equals(needle, item) for item in haystack)
    if isinstance(haystack, str) and haystack:
        return _to_string(needle) in haystack
    return False


_ABSENT = object()


def _op_var(data, name=None, default=None, *ignored) -> Any:
    # json-logic-js returns the default only for an absent key, so a stored
    # null stays null. panzi-json-logic returns the default for null as well.
    if name is None or name == "":
        return data

    for key in _to_string(name).split("."):
        if data is None:
            return default
        data = _property(data, key)
        if data is _ABSENT:
            return default
    return data


def _property(value: Any, key: str) -> Any:
    """Look up value[key] as JavaScript does, or return _ABSENT."""
    if isinstance(value, dict):
        return value.get(key, _ABSENT)
    if not isinstance(value, (list, str)):
        return _ABSENT

    if key == "length":
        return len(value)
    if key.isdecimal() and str(int(key)) == key and int(key) < len(value):
        return value[int(key)]
    return _ABSENT


def _op_missing(data, *arguments) -> list:
    missing = []
    for key in _missing_keys(list(arguments)):
        value = _op_var(data, key)
        if value is None or value == "":
            missing.append(key)
    return missing


def _op_missing_some(data, need_count=None, keys=None, *ignored) -> list:
    if not isinstance(keys, list):
        raise ExpressionError(
            f"'missing_some' needs a list of step ids as its second argument, "
            f"but got {_show(keys)}"
        )

    missing = _op_missing(data, keys)
    if _less_than(len(keys) - len(missing), need_count) is False:
        return []
    return missing


_OPERATIONS = {
    **_PANZI_OPERATIONS,
    "==": _op_equals,
    "!=": _op_not_equals,
    "===": _op_strict_equals,
    "!==": _op_strict_not_equals,
    "<": _op_less,
    "<=": _op_less_or_equal,
    ">": _op_greater,
    ">=": _op_greater_or_equal,
    "+": _op_add,
    "*": _op_multiply,
    "-": _op_subtract,
    "/": _op_divide,
    "%": _op_remainder,
    "min": _op_min,
    "max": _op_max,
    "cat": _op_cat,
    "substr": _op_substr,
    "in": _op_in,
    "var": _op_var,
    "missing": _op_missing,
    "missing_some": _op_missing_some,
}


# panzi-json-logic uses the initial value of reduce as it is written, where
# json-logic-js evaluates it first, so {"var": "start"} would stay an object.
# Because reduce is handled inside panzi-json-logic's evaluator, the expression
# is rewritten instead: the evaluated initial value goes in front of the array,
# wrapped in a _Seed, and the step returns it unchanged when it meets it.


@dataclasses.dataclass(frozen=True)
class _Seed:
    value: Any


def _op_seed(data, items=None, initial=None, *ignored) -> list:
    seed = _Seed(initial)
    return [seed, *items] if isinstance(items, list) else [seed]


def _op_is_seed(data, value=None, *ignored) -> bool:
    return isinstance(value, _Seed)


def _op_seed_value(data, seed=None, *ignored) -> Any:
    return seed.value


_OPERATIONS["stappen:seed"] = _op_seed
_OPERATIONS["stappen:is_seed"] = _op_is_seed
_OPERATIONS["stappen:seed_value"] = _op_seed_value


def _rewrite_reduce(expression: Any) -> Any:
    """Return the expression with each reduce made to evaluate its initial value."""
    if isinstance(expression, list):
        return [_rewrite_reduce(item) for item in expression]
    if not _is_operation(expression):
        return expression

    operator, arguments = _split(expression)
    arguments = [_rewrite_reduce(argument) for argument in arguments]
    if operator != "reduce" or len(arguments) < 3:
        return {operator: arguments}
    if not isinstance(arguments[2], (dict, list)):
        return {operator: arguments}

    items, step, initial = arguments[:3]
    current = {"var": "current"}
    seeded_step = {
        "if": [
            {"stappen:is_seed": [current]},
            {"stappen:seed_value": [current]},
            step,
        ]
    }
    return {"reduce": [{"stappen:seed": [items, initial]}, seeded_step, None]}


def _to_json_value(value: Any) -> Any:
    """Convert Decimal and date values in answers to JSON numbers and strings."""
    if isinstance(value, dict):
        return {key: _to_json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json_value(item) for item in value]
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


# Walking an expression.


def _is_operation(node: Any) -> bool:
    return isinstance(node, dict) and len(node) == 1


def _split(operation: dict) -> tuple[str, list]:
    """Return an operation's operator and its arguments as a list."""
    operator, arguments = next(iter(operation.items()))
    if not isinstance(arguments, list):
        arguments = [arguments]
    return operator, arguments


def _nodes(expression: Any, reads_answers: bool = True) -> Iterator[tuple[dict, bool]]:
    """Yield every object in an expression, and whether its data is the answers.

    The step of map, filter, reduce, all, some and none reads array elements,
    not answers. Objects with other than one key are literals, so nothing
    inside them is evaluated.
    """
    if isinstance(expression, list):
        for item in expression:
            yield from _nodes(item, reads_answers)
        return
    if not isinstance(expression, dict):
        return

    yield expression, reads_answers
    if not _is_operation(expression):
        return

    operator, arguments = _split(expression)
    for index, argument in enumerate(arguments):
        is_step = operator in SCOPED_OPERATORS and index == 1
        yield from _nodes(argument, reads_answers and not is_step)


def _answer_names(operator: str, arguments: list) -> list[str]:
    """Return the answer names that one var, missing or missing_some reads."""
    if operator == "var":
        names = arguments[:1]
    elif operator == "missing":
        names = _missing_keys(arguments)
    elif operator == "missing_some":
        names = arguments[1] if len(arguments) > 1 else []
    else:
        return []

    if not isinstance(names, list):
        return []
    return [name.split(".")[0] for name in names if isinstance(name, str) and name]


def _missing_keys(arguments: list) -> list:
    """Return the keys that missing checks: a first argument that is a list, or
    else every argument."""
    if arguments and isinstance(arguments[0], list):
        return arguments[0]
    return arguments


# Checking an expression.


def _check_node(node: dict, reads_answers: bool, answer_types: dict) -> list[str]:
    if not _is_operation(node):
        return [
            f"the object {_show(node)} has {len(node)} keys, so it is a literal "
            f"value, not an operation. Write each operation as an object with "
            f"exactly one key, the operator."
        ]

    operator, arguments = _split(node)
    if operator not in OPERATORS:
        return [_unknown_operator(operator)]

    problems = _check_arity(operator, arguments)
    if reads_answers:
        problems += _check_names(operator, arguments, answer_types)
        problems += _check_comparison(operator, arguments, answer_types)
    return problems


def _unknown_operator(operator: str) -> str:
    matches = difflib.get_close_matches(operator.lower(), OPERATORS, n=1, cutoff=0.6)
    if matches:
        return f"unknown operator {operator!r}. Did you mean {matches[0]!r}?"
    return (
        f"unknown operator {operator!r}. Use one of the operators that "
        f"json-logic-js 2.0.5 supports: {', '.join(OPERATORS)}."
    )


def _check_arity(operator: str, arguments: list) -> list[str]:
    if operator not in ARITIES:
        return []
    minimum, maximum = ARITIES[operator]
    count = len(arguments)
    if minimum <= count and (maximum is None or count <= maximum):
        return []

    expected = _count_arguments(minimum, maximum)
    actual = f"{count} {'is' if count == 1 else 'are'} given"
    if count < minimum:
        fix = _arguments_fix("Add", minimum - count, "missing")
    elif operator in (">", ">=") and count == 3:
        fix = (
            f"json-logic-js ignores the third argument of {operator!r}, so for a "
            f"range check write '<' or '<=' with 3 arguments: low, value, high."
        )
    else:
        fix = _arguments_fix("Remove", count - maximum, "extra")
    return [f"operator {operator!r} takes {expected}, but {actual}. {fix}"]


def _count_arguments(minimum: int, maximum: int | None) -> str:
    noun = "argument" if (maximum or minimum) == 1 else "arguments"
    if maximum is None:
        return f"at least {minimum} {noun}"
    if minimum == maximum:
        return f"{minimum} {noun}"
    return f"{minimum} or {maximum} {noun}"


def _arguments_fix(verb: str, count: int, adjective: str) -> str:
    """Return a fix such as "Add the missing argument." or "Add the 2 missing
    arguments."."""
    if count == 1:
        return f"{verb} the {adjective} argument."
    return f"{verb} the {count} {adjective} arguments."


def _check_names(operator: str, arguments: list, answer_types: dict) -> list[str]:
    """Check that var, missing and missing_some name answers that are asked."""
    if operator == "var":
        names = arguments[:1]
    elif operator == "missing":
        names = _missing_keys(arguments)
    elif operator == "missing_some" and len(arguments) == 2:
        names = arguments[1]
    else:
        return []

    if not isinstance(names, list):
        return [_computed_name(operator, names)]

    problems = []
    for name in names:
        if not isinstance(name, str) or not name:
            problems.append(_computed_name(operator, name))
        elif name.split(".")[0] not in answer_types:
            problems.append(
                f"reads answer {name.split('.')[0]!r}, which no question step asks; "
                f"ask it in a step before this one, or fix the name"
            )
    return problems


def _computed_name(operator: str, name: Any) -> str:
    if operator == "var":
        example = '{"var": "heeft-wallet"}'
    else:
        example = '{"missing": ["heeft-wallet"]}'
    return (
        f"{operator!r} needs step ids written as literal strings, but it is given "
        f"{_show(name)}. Write the step id in quotes, such as {example}."
    )


def _check_comparison(operator: str, arguments: list, answer_types: dict) -> list[str]:
    """Check literals compared with an answer against that answer's type."""
    if operator == "in" and len(arguments) == 2:
        return _check_in(arguments[0], arguments[1], answer_types)
    if operator not in COMPARISON_OPERATORS:
        return []

    names = [_plain_var(argument) for argument in arguments]
    typed = [name for name in names if name in answer_types]
    literals = [argument for argument in arguments if _is_literal(argument)]
    problems = []
    for name in typed:
        for literal in literals:
            problem = _literal_problem(name, answer_types[name], literal, operator)
            if problem:
                problems.append(problem)
    return problems


def _check_in(needle: Any, haystack: Any, answer_types: dict) -> list[str]:
    needle_name, haystack_name = _plain_var(needle), _plain_var(haystack)

    if needle_name in answer_types and _is_literal(haystack):
        if not isinstance(haystack, list):
            return []
        answer_type = answer_types[needle_name]
        problems = [
            _literal_problem(needle_name, answer_type, item, "in") for item in haystack
        ]
        return [problem for problem in problems if problem]

    if haystack_name in answer_types and _is_literal(needle):
        return _check_in_answer(needle, haystack_name, answer_types[haystack_name])
    return []


def _check_in_answer(needle: Any, name: str, answer_type: AnswerType) -> list[str]:
    """Check {"in": [literal, {"var": name}]}, which searches the answer itself."""
    kind = answer_type.type
    if kind in ("yesno", "number", "amount"):
        return [
            f"uses 'in' on {kind} answer {name!r}, which is always false because a "
            f"{kind} answer is neither a list nor text. Compare it with '==' instead."
        ]
    if kind != "choices" or _is_option(needle, answer_type):
        return []
    return [
        f"tests whether choices answer {name!r} contains {_show(needle)}, which is "
        f"not one of its options. Use one of: {_show_options(answer_type)}."
    ]


def _literal_problem(
    name: str, answer_type: AnswerType, literal: Any, operator: str
) -> str | None:
    """Return why a literal cannot be compared with an answer, or None."""
    kind = answer_type.type
    literal_json = _show(literal)
    if literal is None:
        return None

    if kind == "yesno" and not isinstance(literal, bool):
        return (
            f"compares yesno answer {name!r} with {literal_json}, but a yesno "
            f"answer is true or false. Write true or false, without quotes."
        )
    if kind in ("number", "amount") and _kind(literal) != "number":
        return _number_problem(name, kind, literal)
    if kind == "date" and not _is_iso_date(literal):
        return _date_problem(name, literal)
    if kind == "choice" and not _is_option(literal, answer_type):
        return _choice_problem(name, literal, answer_type)
    if kind == "choices":
        return _choices_problem(name, literal, operator)
    if kind == "text" and not isinstance(literal, str):
        return (
            f"compares text answer {name!r} with {literal_json}, but a text answer "
            f'is a string. Write the value in quotes, such as "{_to_string(literal)}".'
        )
    return None


def _choices_problem(name: str, literal: Any, operator: str) -> str:
    example = _show(literal) if isinstance(literal, str) else '"option"'
    test = _show({"in": [json.loads(example), {"var": name}]})
    return (
        f"compares choices answer {name!r} with {_show(literal)} using "
        f"{operator!r}, but a choices answer is a list of option values. To test "
        f"whether an option was chosen, write {test}."
    )


def _number_problem(name: str, kind: str, literal: Any) -> str:
    article = "an" if kind == "amount" else "a"
    problem = (
        f"compares {kind} answer {name!r} with {_show(literal)}, but {article} "
        f"{kind} answer is a number."
    )
    try:
        value = dutch.parse_number(literal) if isinstance(literal, str) else None
    except dutch.DutchInputError:
        value = None

    if value is None:
        return (
            f"{problem} Write a JSON number without quotes, with a decimal point "
            f"and no thousands separators, such as 1533.5."
        )
    number = format(value.normalize(), "f")
    return f"{problem} Write it as the JSON number {number}, without quotes."


def _date_problem(name: str, literal: Any) -> str:
    problem = (
        f"compares date answer {name!r} with {_show(literal)}, which is not an "
        f"ISO date."
    )
    try:
        value = dutch.parse_date(literal) if isinstance(literal, str) else None
    except dutch.DutchInputError:
        value = None

    if value is None:
        return f'{problem} Write dates as "YYYY-MM-DD", such as "2026-12-31".'
    return f'{problem} Write it as "{value.isoformat()}".'


def _choice_problem(name: str, literal: Any, answer_type: AnswerType) -> str:
    noun = answer_type.noun
    if answer_type.options:
        return (
            f"compares {noun} {name!r} with {_show(literal)}, which is not "
            f"one of its options. Use one of: {_show_options(answer_type)}."
        )
    return (
        f"compares {noun} {name!r} with {_show(literal)}, but a {noun} "
        f"is an option value. Write the option value in quotes."
    )


def _is_option(value: Any, answer_type: AnswerType) -> bool:
    if not isinstance(value, str):
        return False
    return not answer_type.options or value in answer_type.options


def _is_iso_date(value: Any) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _plain_var(argument: Any) -> str | None:
    """Return the step id that {"var": "step-id"} reads, or None for other values."""
    if not _is_operation(argument) or "var" not in argument:
        return None
    _, arguments = _split(argument)
    name = arguments[0] if arguments else None
    if isinstance(name, str) and name and "." not in name:
        return name
    return None


def _is_literal(value: Any) -> bool:
    if isinstance(value, list):
        return all(_is_literal(item) for item in value)
    return not isinstance(value, dict)


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _show_options(answer_type: AnswerType) -> str:
    return ", ".join(_show(option) for option in answer_type.options)
