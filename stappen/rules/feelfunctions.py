"""The FEEL built-in functions that decision tables use.

Each function takes FEEL values and returns a FEEL value. Arguments of the
wrong kind give null, as FEEL prescribes, and never an exception.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import re
from decimal import Decimal

from stappen.rules import feelvalues
from stappen.rules.feelvalues import CONTEXT, YearsMonthsDuration

_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


@dataclasses.dataclass(frozen=True)
class Builtin:
    """A built-in function with its parameter names, for calls by name.

    ``required`` is the number of parameters a call must pass. A variadic
    function takes either one list or any number of separate values.
    """

    name: str
    parameters: tuple[str, ...]
    required: int
    variadic: bool
    function: object

    def accepts(self, count: int) -> bool:
        if self.variadic:
            return count >= 1
        return self.required <= count <= len(self.parameters)

    def arity_text(self) -> str:
        if self.variadic:
            return "a list or one or more values"
        if self.required == len(self.parameters):
            return _count_text(self.required)
        return f"{self.required} to {len(self.parameters)} arguments"

    def call(self, arguments: list):
        if self.variadic:
            if len(arguments) == 1 and type(arguments[0]) is list:
                return self.function(arguments[0])
            return self.function(list(arguments))
        return self.function(*arguments)


def _count_text(count: int) -> str:
    return "1 argument" if count == 1 else f"{count} arguments"


BUILTINS: dict[str, Builtin] = {}


def builtin(name: str, *parameters: str, required=None, variadic=False):
    """Register the decorated function as the FEEL function ``name``."""

    def register(function):
        count = len(parameters) if required is None else required
        BUILTINS[name] = Builtin(name, parameters, count, variadic, function)
        return function

    return register


def _integer(value) -> int | None:
    if type(value) is not Decimal or not value.is_finite():
        return None
    if value != value.to_integral_value():
        return None
    return int(value)


def _all_numbers(values: list) -> bool:
    return all(type(value) is Decimal for value in values)


# Logic and numbers


@builtin("not", "negand")
def _not(negand):
    return (not negand) if type(negand) is bool else None


def _rounding(mode: str):
    def rounded(n, scale=Decimal(0)):
        places = _integer(scale)
        if type(n) is not Decimal or places is None or abs(places) > 6176:
            return None
        try:
            return n.quantize(Decimal(1).scaleb(-places), mode, CONTEXT)
        except decimal.DecimalException:
            return None

    return rounded


BUILTINS["decimal"] = Builtin(
    "decimal", ("n", "scale"), 2, False, _rounding(decimal.ROUND_HALF_EVEN)
)
for _name, _mode in (
    ("floor", decimal.ROUND_FLOOR),
    ("ceiling", decimal.ROUND_CEILING),
    ("round up", decimal.ROUND_UP),
    ("round down", decimal.ROUND_DOWN),
    ("round half up", decimal.ROUND_HALF_UP),
    ("round half down", decimal.ROUND_HALF_DOWN),
):
    BUILTINS[_name] = Builtin(_name, ("n", "scale"), 1, False, _rounding(_mode))


@builtin("abs", "n")
def _abs(n):
    if type(n) is Decimal:
        return CONTEXT.abs(n)
    if type(n) is datetime.timedelta:
        return abs(n)
    if type(n) is YearsMonthsDuration:
        return YearsMonthsDuration(abs(n.months))
    return None


@builtin("modulo", "dividend", "divisor")
def _modulo(dividend, divisor):
    if not _all_numbers([dividend, divisor]) or divisor == 0:
        return None
    quotient = CONTEXT.divide(dividend, divisor).to_integral_value(decimal.ROUND_FLOOR)
    return CONTEXT.subtract(dividend, CONTEXT.multiply(divisor, quotient))


@builtin("sqrt", "number")
def _sqrt(number):
    if type(number) is not Decimal or number < 0:
        return None
    return CONTEXT.sqrt(number)


@builtin("log", "number")
def _log(number):
    if type(number) is not Decimal or number <= 0:
        return None
    return CONTEXT.ln(number)


@builtin("exp", "number")
def _exp(number):
    if type(number) is not Decimal:
        return None
    try:
        return CONTEXT.exp(number)
    except decimal.DecimalException:
        return None


@builtin("odd", "number")
def _odd(number):
    whole = _integer(number)
    return None if whole is None else whole % 2 == 1


@builtin("even", "number")
def _even(number):
    whole = _integer(number)
    return None if whole is None else whole % 2 == 0


# Lists


def _extreme(values: list, direction: int):
    """Return the minimum (direction -1) or maximum (1), or None if unordered."""
    if not values or feelvalues.compare(values[0], values[0]) is None:
        return None
    best = values[0]
    for value in values[1:]:
        order = feelvalues.compare(value, best)
        if order is None:
            return None
        if order == direction:
            best = value
    return best


@builtin("min", "list", variadic=True)
def _min(values):
    return _extreme(values, -1)


@builtin("max", "list", variadic=True)
def _max(values):
    return _extreme(values, 1)


def _fold(values: list, operation, start: Decimal):
    if not values or not _all_numbers(values):
        return None
    total = start
    for value in values:
        total = operation(total, value)
    return total


@builtin("sum", "list", variadic=True)
def _sum(values):
    return _fold(values, CONTEXT.add, Decimal(0))


@builtin("product", "list", variadic=True)
def _product(values):
    return _fold(values, CONTEXT.multiply, Decimal(1))


@builtin("mean", "list", variadic=True)
def _mean(values):
    total = _sum(values)
    return None if total is None else CONTEXT.divide(total, len(values))


@builtin("count", "list", variadic=True)
def _count(values):
    return Decimal(len(values))


@builtin("all", "list", variadic=True)
def _all(values):
    if any(value is False for value in values):
        return False
    return True if all(value is True for value in values) else None


@builtin("any", "list", variadic=True)
def _any(values):
    if any(value is True for value in values):
        return True
    return False if all(value is False for value in values) else None


@builtin("list contains", "list", "element")
def _list_contains(values, element):
    if type(values) is not list:
        return None
    return any(feelvalues.equal(value, element) is True for value in values)


@builtin("append", "list", "item", variadic=True)
def _append(arguments):
    if not arguments or type(arguments[0]) is not list:
        return None
    return arguments[0] + arguments[1:]


@builtin("concatenate", "list", variadic=True)
def _concatenate(lists):
    if not all(type(values) is list for values in lists):
        return None
    return [value for values in lists for value in values]


@builtin("reverse", "list")
def _reverse(values):
    return values[::-1] if type(values) is list else None


@builtin("flatten", "list")
def _flatten(values):
    if type(values) is not list:
        return None
    flat = []
    for value in values:
        flat.extend(_flatten(value) if type(value) is list else [value])
    return flat


@builtin("distinct values", "list")
def _distinct_values(values):
    if type(values) is not list:
        return None
    distinct = []
    for value in values:
        if not any(feelvalues.equal(value, seen) is True for seen in distinct):
            distinct.append(value)
    return distinct


@builtin("index of", "list", "match")
def _index_of(values, match):
    if type(values) is not list:
        return None
    return [
        Decimal(position)
        for position, value in enumerate(values, start=1)
        if feelvalues.equal(value, match) is True
    ]


@builtin("sublist", "list", "start position", "length", required=2)
def _sublist(values, start, length=None):
    if type(values) is not list:
        return None
    return _slice(values, start, length)


def _slice(sequence, start, length):
    """Cut from a 1-based (or negative, from the end) position, or None."""
    first = _integer(start)
    count = len(sequence) if length is None else _integer(length)
    if first is None or count is None or first == 0 or count < 0:
        return None
    index = first - 1 if first > 0 else len(sequence) + first
    if not 0 <= index < len(sequence) and sequence:
        return None
    return sequence[index : index + count]


@builtin("get value", "m", "key")
def _get_value(context, key):
    if type(context) is not dict or type(key) is not str:
        return None
    return context.get(key)


# Strings


@builtin("string", "from")
def _string(value):
    return feelvalues.to_text(value)


@builtin("number", "from", "grouping separator", "decimal separator", required=1)
def _number(text, grouping=None, separator=None):
    if type(text) is not str:
        return None
    if grouping not in (None, " ", ",", ".") or separator not in (None, ",", "."):
        return None
    if grouping is not None and grouping == separator:
        return None
    if grouping is not None:
        text = text.replace(grouping, "")
    if separator is not None:
        text = text.replace(separator, ".")
    if not _NUMBER.fullmatch(text):
        return None
    return CONTEXT.create_decimal(text)


@builtin("substring", "string", "start position", "length", required=2)
def _substring(text, start, length=None):
    if type(text) is not str:
        return None
    return _slice(text, start, length)


@builtin("string length", "string")
def _string_length(text):
    return Decimal(len(text)) if type(text) is str else None


@builtin("upper case", "string")
def _upper_case(text):
    return text.upper() if type(text) is str else None


@builtin("lower case", "string")
def _lower_case(text):
    return text.lower() if type(text) is str else None


def _string_test(name: str, test):
    def function(text, match):
        if type(text) is not str or type(match) is not str:
            return None
        return test(text, match)

    BUILTINS[name] = Builtin(name, ("string", "match"), 2, False, function)


_string_test("contains", lambda text, match: match in text)
_string_test("starts with", str.startswith)
_string_test("ends with", str.endswith)
_string_test("substring before", lambda text, match: text.partition(match)[0])
_string_test(
    "substring after",
    lambda text, match: text.partition(match)[2] if match in text else "",
)


@builtin("string join", "list", "delimiter", required=1)
def _string_join(values, delimiter=""):
    if type(values) is not list or type(delimiter) is not str:
        return None
    if not all(value is None or type(value) is str for value in values):
        return None
    return delimiter.join(value for value in values if value is not None)


# Dates, times and durations


@builtin("date", "from", "month", "day", required=1)
def _date(year_or_text, month=None, day=None):
    if month is None and day is None:
        return _date_from(year_or_text)
    parts = [_integer(part) for part in (year_or_text, month, day)]
    if None in parts:
        return None
    try:
        return datetime.date(*parts)
    except ValueError:
        return None


def _date_from(value):
    if type(value) is str:
        return feelvalues.parse_date(value)
    if type(value) is datetime.datetime:
        return value.date()
    return value if type(value) is datetime.date else None


@builtin("date and time", "from", "time", required=1)
def _date_and_time(value, clock=None):
    if clock is not None:
        if type(value) not in (datetime.date, datetime.datetime):
            return None
        if type(clock) is not datetime.time:
            return None
        day = value.date() if type(value) is datetime.datetime else value
        return datetime.datetime.combine(day, clock)
    if type(value) is str:
        return feelvalues.parse_date_time(value)
    if type(value) is datetime.date:
        return datetime.datetime.combine(value, datetime.time(0, 0))
    return value if type(value) is datetime.datetime else None


@builtin("time", "from", "minute", "second", "offset", required=1)
def _time(value, minute=None, second=None, offset=None):
    if minute is None:
        if type(value) is str:
            return feelvalues.parse_time(value)
        if type(value) is datetime.datetime:
            return value.timetz()
        return value if type(value) is datetime.time else None
    return _time_from_parts(value, minute, second, offset)


def _time_from_parts(hour, minute, second, offset):
    whole = [_integer(part) for part in (hour, minute)]
    if None in whole or type(second) is not Decimal:
        return None
    zone = None
    if type(offset) is datetime.timedelta:
        zone = datetime.timezone(offset)
    elif offset is not None:
        return None
    seconds = int(second)
    micro = int((second - seconds).scaleb(6))
    try:
        return datetime.time(*whole, seconds, micro, zone)
    except ValueError:
        return None


@builtin("duration", "from")
def _duration(text):
    return feelvalues.parse_duration(text) if type(text) is str else None


@builtin("years and months duration", "from", "to")
def _years_and_months_duration(start, end):
    kinds = (datetime.date, datetime.datetime)
    if type(start) not in kinds or type(end) not in kinds:
        return None
    return YearsMonthsDuration(feelvalues.months_between(start, end))
