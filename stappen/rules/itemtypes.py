"""Types of input data: FEEL and Camunda type names, item definitions, and
the conversion of caller-given Python values into FEEL values.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import re
from decimal import Decimal

from stappen.rules import feelvalues

# FEEL's type names, the XML Schema names of DMN 1.1, and Camunda's names.
BASE_TYPES = {
    "number": "number",
    "decimal": "number",
    "double": "number",
    "integer": "integer",
    "long": "integer",
    "int": "integer",
    "string": "string",
    "boolean": "boolean",
    "date": "date",
    "time": "time",
    "date and time": "date and time",
    "dateTime": "date and time",
    "days and time duration": "days and time duration",
    "dayTimeDuration": "days and time duration",
    "years and months duration": "years and months duration",
    "yearMonthDuration": "years and months duration",
    "Any": "Any",
    "context": "Any",
}

_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


class InputTypeError(ValueError):
    """A caller's value that does not fit the declared type; names the fix."""


@dataclasses.dataclass
class FeelType:
    """A resolved typeRef: a base type, or components, maybe a collection.

    ``allowed`` is the compiled unary test of ``allowedValues`` and
    ``allowed_text`` its FEEL text, for messages.
    """

    name: str
    base: str = "Any"
    components: dict[str, FeelType] | None = None
    collection: bool = False
    allowed: object = None
    allowed_text: str = ""


ANY = FeelType("Any")


def base_type(type_ref: str) -> str | None:
    """Return the base type for a type name, or None if it is not built in."""
    name = type_ref.strip()
    if ":" in name and name.split(":", 1)[0].isalpha():
        name = name.split(":", 1)[1]
    return BASE_TYPES.get(name)


def convert(value, feel_type: FeelType):
    """Convert a Python value to a FEEL value of ``feel_type``.

    Raises InputTypeError when the value has another type and converting it
    would be a guess.
    """
    if value is None:
        return None
    if feel_type.collection:
        if not isinstance(value, list | tuple):
            raise InputTypeError(f"expected a list, got {_describe(value)}")
        single = dataclasses.replace(feel_type, collection=False)
        return [convert(item, single) for item in value]
    if feel_type.components is not None:
        converted = _convert_context(value, feel_type)
    else:
        converted = _CONVERTERS[feel_type.base](value)
    _check_allowed(converted, feel_type)
    return converted


def _convert_context(value, feel_type: FeelType) -> dict:
    if not isinstance(value, dict):
        raise InputTypeError(
            f"expected a mapping with {', '.join(feel_type.components)},"
            f" got {_describe(value)}"
        )
    result = {}
    for name, component in feel_type.components.items():
        try:
            result[name] = convert(value.get(name), component)
        except InputTypeError as error:
            raise InputTypeError(f"component {name!r}: {error}") from None
    return result


def _check_allowed(value, feel_type: FeelType) -> None:
    if feel_type.allowed is None or value is None:
        return
    if feel_type.allowed(value, {}) is not True:
        raise InputTypeError(
            f"{_describe(value)} is not one of the allowed values"
            f" {feel_type.allowed_text} of type {feel_type.name!r}"
        )


def _describe(value) -> str:
    return f"{value!r} ({type(value).__name__})"


def to_number(value) -> Decimal:
    if type(value) is Decimal:
        if not value.is_finite():
            raise InputTypeError(f"expected a finite number, got {value!r}")
        return value
    if type(value) is int:
        return Decimal(value)
    if type(value) is float and math.isfinite(value):
        return Decimal(repr(value))
    if type(value) is str and _PLAIN_NUMBER.fullmatch(value.strip()):
        return Decimal(value.strip())
    raise InputTypeError(
        f"expected a number, got {_describe(value)}; pass an int, a Decimal or a"
        " text such as '1533.01' (a dot for decimals, no thousands separator)"
    )


def to_integer(value) -> Decimal:
    number = to_number(value)
    if number != number.to_integral_value():
        raise InputTypeError(f"expected a whole number, got {_describe(value)}")
    return number


def to_string(value) -> str:
    if type(value) is str:
        return value
    raise InputTypeError(f"expected a text, got {_describe(value)}")


def to_boolean(value) -> bool:
    if type(value) is bool:
        return value
    if value in ("true", "false"):
        return value == "true"
    raise InputTypeError(f"expected true or false, got {_describe(value)}")


def _temporal(kind: type, parse, description: str):
    def convert(value):
        if type(value) is kind:
            return value
        if type(value) is str:
            parsed = parse(value.strip())
            if type(parsed) is kind:
                return parsed
        raise InputTypeError(f"expected {description}, got {_describe(value)}")

    return convert


def to_any(value):
    """Convert a value of no declared type: numbers to Decimal, recursively."""
    if value is None or type(value) in (bool, str, Decimal):
        return value
    if type(value) in (int, float):
        return to_number(value)
    if isinstance(value, list | tuple):
        return [to_any(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_any(item) for key, item in value.items()}
    if isinstance(value, feelvalues.ORDERED_KINDS):
        return value
    raise InputTypeError(f"cannot use {_describe(value)} as a FEEL value")


_CONVERTERS = {
    "number": to_number,
    "integer": to_integer,
    "string": to_string,
    "boolean": to_boolean,
    "date": _temporal(
        datetime.date, feelvalues.parse_date, "a date such as '2024-01-31'"
    ),
    "time": _temporal(
        datetime.time, feelvalues.parse_time, "a time such as '13:30:00'"
    ),
    "date and time": _temporal(
        datetime.datetime,
        feelvalues.parse_date_time,
        "a date and time such as '2024-01-31T13:30:00'",
    ),
    "days and time duration": _temporal(
        datetime.timedelta, feelvalues.parse_duration, "a duration such as 'P1DT2H'"
    ),
    "years and months duration": _temporal(
        feelvalues.YearsMonthsDuration,
        feelvalues.parse_duration,
        "a duration such as 'P1Y2M'",
    ),
    "Any": to_any,
}
