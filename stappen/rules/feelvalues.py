"""FEEL values in Python: numbers, null, dates, durations, ranges, equality.

FEEL null is ``None``. Numbers are ``decimal.Decimal`` computed in ``CONTEXT``,
the IEEE 754 decimal128 context that the DMN standard prescribes (34 significant
digits, rounding half to even), so no binary float ever enters a result. A date
is ``datetime.date``, a date and time is ``datetime.datetime``, a time is
``datetime.time``, a days and time duration is ``datetime.timedelta``, and a
years and months duration is ``YearsMonthsDuration``. Lists are ``list`` and
contexts are ``dict``.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import re
from decimal import Decimal

CONTEXT = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=6144,
    Emin=-6143,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

ZERO = Decimal(0)


@dataclasses.dataclass(frozen=True, order=True)
class YearsMonthsDuration:
    """A FEEL years and months duration, counted in whole months."""

    months: int

    def __str__(self) -> str:
        sign = "-" if self.months < 0 else ""
        years, months = divmod(abs(self.months), 12)
        if years and months:
            return f"{sign}P{years}Y{months}M"
        if years:
            return f"{sign}P{years}Y"
        return f"{sign}P{months}M"


@dataclasses.dataclass(frozen=True)
class Range:
    """A FEEL range such as ``[1..10]`` or ``(1..10]``; ``None`` is unbounded."""

    low: object
    high: object
    low_closed: bool
    high_closed: bool

    def contains(self, value) -> bool | None:
        """Return whether ``value`` lies in the range, or None if incomparable."""
        if self.low is not None:
            order = compare(value, self.low)
            if order is None:
                return None
            if order < 0 or (order == 0 and not self.low_closed):
                return False
        if self.high is not None:
            order = compare(value, self.high)
            if order is None:
                return None
            if order > 0 or (order == 0 and not self.high_closed):
                return False
        return True


@dataclasses.dataclass(frozen=True)
class FeelFunction:
    """A function value: a business knowledge model or a built-in function.

    ``call`` takes the positional arguments as a list. ``parameters`` names
    them, in order, so a call may pass them by name.
    """

    name: str
    parameters: tuple[str, ...]
    call: object


def is_number(value) -> bool:
    return type(value) is Decimal


def equal(left, right) -> bool | None:
    """Compare two FEEL values with ``=``: null only when the kinds differ."""
    if left is None or right is None:
        return left is None and right is None
    kind = type(left)
    if kind is not type(right):
        return None
    if kind is list:
        return _equal_lists(left, right)
    if kind is dict:
        return _equal_contexts(left, right)
    if kind is datetime.datetime and _mixes_zones(left, right):
        return False
    return left == right


def _equal_lists(left: list, right: list) -> bool | None:
    if len(left) != len(right):
        return False
    for one, other in zip(left, right, strict=True):
        same = equal(one, other)
        if same is not True:
            return same
    return True


def _equal_contexts(left: dict, right: dict) -> bool | None:
    if left.keys() != right.keys():
        return False
    for key, value in left.items():
        same = equal(value, right[key])
        if same is not True:
            return same
    return True


ORDERED_KINDS = (
    Decimal,
    str,
    datetime.date,
    datetime.datetime,
    datetime.time,
    datetime.timedelta,
    YearsMonthsDuration,
)


def compare(left, right) -> int | None:
    """Order two FEEL values: -1, 0 or 1, or None when they are incomparable."""
    kind = type(left)
    if kind is not type(right) or kind not in ORDERED_KINDS:
        return None
    if kind is datetime.datetime and _mixes_zones(left, right):
        return None
    if left < right:
        return -1
    return 1 if left > right else 0


def _mixes_zones(left: datetime.datetime, right: datetime.datetime) -> bool:
    return (left.tzinfo is None) != (right.tzinfo is None)


def format_number(value: Decimal) -> str:
    """Write a number without exponent or trailing zeros: 1E+2 becomes 100."""
    if value == 0:
        return "0"
    text = format(value.normalize(CONTEXT), "f")
    return text


def to_text(value) -> str | None:
    """Convert a value to the text that FEEL's ``string()`` returns."""
    if value is None:
        return None
    if type(value) is str:
        return value
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is Decimal:
        return format_number(value)
    if type(value) is datetime.timedelta:
        return format_days_time(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if type(value) is list:
        return "[" + ", ".join(_quoted(item) for item in value) + "]"
    if type(value) is dict:
        entries = (f"{key}: {_quoted(item)}" for key, item in value.items())
        return "{" + ", ".join(entries) + "}"
    return str(value)


def _quoted(value) -> str:
    if type(value) is str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    text = to_text(value)
    return "null" if text is None else text


def format_days_time(value: datetime.timedelta) -> str:
    """Write a days and time duration in ISO 8601 form, such as ``P1DT2H``."""
    sign = "-" if value < datetime.timedelta(0) else ""
    value = abs(value)
    days = value.days
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}P" + (f"{days}D" if days else "")
    clock = ""
    if hours:
        clock += f"{hours}H"
    if minutes:
        clock += f"{minutes}M"
    if seconds or value.microseconds:
        fraction = f"{seconds}.{value.microseconds:06d}".rstrip("0").rstrip(".")
        clock += f"{fraction}S"
    if clock:
        text += "T" + clock
    return text if text not in ("P", "-P") else "PT0S"


def to_json(value):
    """Convert a FEEL value to plain JSON data.

    Numbers become strings such as ``"632.9166666666666666666666666666667"``,
    because a JSON number would pass through a binary float in most readers.
    Dates, times and durations become their ISO 8601 text.
    """
    if value is None or type(value) is bool or type(value) is str:
        return value
    if type(value) is list:
        return [to_json(item) for item in value]
    if type(value) is dict:
        return {key: to_json(item) for key, item in value.items()}
    if type(value) is FeelFunction:
        return f"function {value.name}"
    return to_text(value)


# Temporal values from text, as FEEL's date(), time(), date and time() and
# duration() read them. Each returns None for text in any other form.

_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME = re.compile(
    r"(\d{2}):(\d{2}):(\d{2})(\.\d+)?"
    r"(Z|[+-]\d{2}:\d{2}|@[A-Za-z_]+(?:/[A-Za-z_+-]+)*)?"
)
_DURATION = re.compile(
    r"(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?"
)


def parse_date(text: str) -> datetime.date | None:
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        return None


def parse_time(text: str) -> datetime.time | None:
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or ".0")[1:7].ljust(6, "0"))
    try:
        tzinfo = _zone(zone)
        return datetime.time(int(hour), int(minute), int(second), micro, tzinfo)
    except (ValueError, KeyError):
        return None


def _zone(zone: str | None):
    if zone is None:
        return None
    if zone == "Z":
        return datetime.UTC
    if zone.startswith("@"):
        import zoneinfo

        try:
            return zoneinfo.ZoneInfo(zone[1:])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(zone) from error
    sign = -1 if zone[0] == "-" else 1
    hours, minutes = int(zone[1:3]), int(zone[4:6])
    offset = datetime.timedelta(hours=hours, minutes=minutes) * sign
    return datetime.timezone(offset)


def parse_date_time(text: str) -> datetime.datetime | None:
    if "T" not in text:
        day = parse_date(text)
        return None if day is None else datetime.datetime.combine(day, _MIDNIGHT)
    day_text, _, time_text = text.partition("T")
    day = parse_date(day_text)
    clock = parse_time(time_text)
    if day is None or clock is None:
        return None
    return datetime.datetime.combine(day, clock)


_MIDNIGHT = datetime.time(0, 0)


def parse_duration(text: str):
    """Read ``P1Y2M`` as a YearsMonthsDuration and ``P1DT2H`` as a timedelta."""
    match = _DURATION.fullmatch(text)
    if match is None or text.rstrip("-") in ("P", "PT") or text.endswith("T"):
        return None
    sign, years, months, days, hours, minutes, seconds = match.groups()
    negative = sign == "-"
    if years is not None or months is not None:
        if any(part is not None for part in (days, hours, minutes, seconds)):
            return None
        total = int(years or 0) * 12 + int(months or 0)
        return YearsMonthsDuration(-total if negative else total)
    micro = int(Decimal(seconds or 0).scaleb(6).to_integral_value())
    span = datetime.timedelta(
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        microseconds=micro,
    )
    return -span if negative else span


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Add months to a date or date and time, keeping the day within the month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = _last_day(year, month)
    return day.replace(year=year, month=month, day=min(day.day, last))


def _last_day(year: int, month: int) -> int:
    following = datetime.date(year + month // 12, month % 12 + 1, 1)
    return (following - datetime.timedelta(days=1)).day


def months_between(start: datetime.date, end: datetime.date) -> int:
    """Count the whole months from ``start`` to ``end``, negative if before."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months > 0 and _day_time(end) < _day_time(start):
        months -= 1
    elif months < 0 and _day_time(end) > _day_time(start):
        months += 1
    return months


def _day_time(day: datetime.date):
    if isinstance(day, datetime.datetime):
        return (day.day, day.time())
    return (day.day, _MIDNIGHT)


# Arithmetic. Each operation returns None (FEEL null) for operands of kinds
# that it does not combine, and for a decimal error such as division by zero.

_DATES = (datetime.date, datetime.datetime)
_MICROSECOND = datetime.timedelta(microseconds=1)


def add(left, right):
    kind, other = type(left), type(right)
    try:
        if kind is Decimal and other is Decimal:
            return CONTEXT.add(left, right)
        if kind is str and other is str:
            return left + right
        if kind is other and kind in (datetime.timedelta, YearsMonthsDuration):
            return _add_durations(left, right)
    except decimal.DecimalException:
        return None
    if other in _DATES or other is datetime.time:
        left, right, kind, other = right, left, other, kind
    return _shift(left, right, 1)


def subtract(left, right):
    kind, other = type(left), type(right)
    try:
        if kind is Decimal and other is Decimal:
            return CONTEXT.subtract(left, right)
        if kind is other and kind in (datetime.timedelta, YearsMonthsDuration):
            return _add_durations(left, negate(right))
    except decimal.DecimalException:
        return None
    if kind is other and kind in _DATES + (datetime.time,):
        return _difference(left, right)
    return _shift(left, right, -1)


def _add_durations(left, right):
    if type(left) is YearsMonthsDuration:
        return YearsMonthsDuration(left.months + right.months)
    return left + right


def _difference(left, right):
    if type(left) is datetime.time:
        base = datetime.date(2000, 1, 1)
        left = datetime.datetime.combine(base, left)
        right = datetime.datetime.combine(base, right)
    if type(left) is datetime.datetime and _mixes_zones(left, right):
        return None
    return left - right


def _shift(moment, duration, sign: int):
    """Move a date, date and time or time by a duration, or return None."""
    kind, other = type(moment), type(duration)
    if kind not in _DATES and kind is not datetime.time:
        return None
    if other is YearsMonthsDuration and kind in _DATES:
        return _add_months_safely(moment, duration.months * sign)
    if other is not datetime.timedelta:
        return None
    try:
        if kind is datetime.time:
            base = datetime.datetime.combine(datetime.date(2000, 1, 1), moment)
            return (base + duration * sign).timetz()
        return moment + duration * sign
    except OverflowError:
        return None


def _add_months_safely(moment, months: int):
    try:
        return add_months(moment, months)
    except ValueError:
        return None


def multiply(left, right):
    kind, other = type(left), type(right)
    if kind is not Decimal:
        left, right, kind, other = right, left, other, kind
    if kind is not Decimal:
        return None
    try:
        if other is Decimal:
            return CONTEXT.multiply(left, right)
        return _scale_duration(right, left)
    except (decimal.DecimalException, OverflowError):
        return None


def divide(left, right):
    kind, other = type(left), type(right)
    try:
        if kind is Decimal and other is Decimal:
            return CONTEXT.divide(left, right)
        if other is Decimal:
            return _scale_duration(left, CONTEXT.divide(1, right))
        if kind is other is datetime.timedelta:
            return CONTEXT.divide(_microseconds(left), _microseconds(right))
        if kind is other is YearsMonthsDuration:
            return CONTEXT.divide(left.months, right.months)
    except (decimal.DecimalException, OverflowError):
        return None
    return None


def _scale_duration(duration, factor: Decimal):
    if type(duration) is datetime.timedelta:
        micro = CONTEXT.multiply(_microseconds(duration), factor)
        return datetime.timedelta(microseconds=int(micro.to_integral_value()))
    if type(duration) is YearsMonthsDuration:
        months = CONTEXT.multiply(duration.months, factor)
        return YearsMonthsDuration(int(months))
    return None


def _microseconds(duration: datetime.timedelta) -> Decimal:
    return Decimal(duration // _MICROSECOND)


def power(base, exponent):
    if type(base) is not Decimal or type(exponent) is not Decimal:
        return None
    try:
        return CONTEXT.power(base, exponent)
    except decimal.DecimalException:
        return None


def negate(value):
    if type(value) is Decimal:
        return CONTEXT.minus(value)
    if type(value) is datetime.timedelta:
        return -value
    if type(value) is YearsMonthsDuration:
        return YearsMonthsDuration(-value.months)
    return None
