"""Parse amounts, numbers and dates as Dutch citizens type them.

The rules are documented in docs/dutch-input.md. stappen/static/js/dutch.js
implements the same rules for the browser, and tests/data/dutch-inputs.json
contains the cases that both implementations must pass.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

# Spaces that word processors and phones put in numbers, read as plain spaces:
# no-break space, figure space, thin space and narrow no-break space.
_SPACES = str.maketrans({"\u00a0": " ", "\u2007": " ", "\u2009": " ", "\u202f": " "})
_TRIMMED = " \t\r\n"
_SIGNS = "-+\u2212"  # hyphen-minus, plus, minus sign
_BODY = re.compile(r"[0-9]+(?:[., ][0-9]+)*")

FIRST_YEAR = 1900
LAST_YEAR = 2200

MONTHS = {
    "nl": [
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}

# Messages per kind of input and reason. The reason is the error key, except
# that "invalid_grouping" has the key "invalid" and "invalid_month" the key
# "invalid_date", so that a flow's message for a key covers all its reasons.
# Placeholders: {input} is the text as typed, the others are filled in by the
# parser that raises the error.
MESSAGES = {
    "amount": {
        "empty": {
            "nl": "Vul een bedrag in, bijvoorbeeld 1533,50.",
            "en": "Enter an amount, for example 1533.50.",
        },
        "invalid": {
            "nl": "“{input}” is geen bedrag. Schrijf alleen cijfers, met een "
            "komma voor de centen, bijvoorbeeld 1533,50.",
            "en": "“{input}” is not an amount. Write digits only, with a "
            "decimal point before the cents, for example 1533.50.",
        },
        "ambiguous": {
            "nl": "Het bedrag “{input}” is niet eenduidig: bedoelt u {whole} of "
            "{decimal_nl}? Schrijf het als {whole} of {decimal_nl}.",
            "en": "The amount “{input}” is ambiguous: do you mean {whole} or "
            "{decimal_en}? Write it as {whole} or {decimal_en}.",
        },
        "invalid_grouping": {
            "nl": "In het bedrag “{input}” staan punten, komma's of spaties op "
            "de verkeerde plaats. Zet ze alleen tussen groepen van drie "
            "cijfers, zoals in 1.533,50, of laat ze weg: 1533,50.",
            "en": "The amount “{input}” has points, commas or spaces in the "
            "wrong places. Put them only between groups of three digits, as in "
            "1,533.50, or leave them out: 1533.50.",
        },
        "too_many_decimals": {
            "nl": "Het bedrag “{input}” heeft meer dan twee cijfers achter de "
            "komma. Schrijf de centen met twee cijfers, bijvoorbeeld 1533,50.",
            "en": "The amount “{input}” has more than two digits after the "
            "decimal point. Write the cents with two digits, for example "
            "1533.50.",
        },
        "negative": {
            "nl": "Het bedrag “{input}” is negatief. Vul een bedrag van 0 of "
            "meer in, zonder minteken.",
            "en": "The amount “{input}” is negative. Enter an amount of 0 or "
            "more, without a minus sign.",
        },
    },
    "number": {
        "empty": {
            "nl": "Vul een getal in, bijvoorbeeld 12 of 2,5.",
            "en": "Enter a number, for example 12 or 2.5.",
        },
        "invalid": {
            "nl": "“{input}” is geen getal. Schrijf alleen cijfers, met een "
            "komma voor de decimalen, bijvoorbeeld 12 of 2,5.",
            "en": "“{input}” is not a number. Write digits only, with a "
            "decimal point before the decimals, for example 12 or 2.5.",
        },
        "ambiguous": {
            "nl": "Het getal “{input}” is niet eenduidig: bedoelt u {whole} of "
            "{decimal_nl}? Schrijf {whole} zonder punt of komma, of schrijf "
            "{decimal_nl}0 als u het kommagetal bedoelt.",
            "en": "The number “{input}” is ambiguous: do you mean {whole} or "
            "{decimal_en}? Write {whole} without a point or comma, or write "
            "{decimal_en}0 if you mean the decimal number.",
        },
        "invalid_grouping": {
            "nl": "In het getal “{input}” staan punten, komma's of spaties op "
            "de verkeerde plaats. Zet ze alleen tussen groepen van drie "
            "cijfers, zoals in 1.533, of laat ze weg: 1533.",
            "en": "The number “{input}” has points, commas or spaces in the "
            "wrong places. Put them only between groups of three digits, as in "
            "1,533, or leave them out: 1533.",
        },
    },
    "integer": {
        "ambiguous": {
            "nl": "Het getal “{input}” is niet eenduidig. Bedoelt u {whole}? "
            "Schrijf het dan zonder punt of komma: {whole}.",
            "en": "The number “{input}” is ambiguous. If you mean {whole}, "
            "write it without a point or comma: {whole}.",
        },
        "not_integer": {
            "nl": "Het getal “{input}” is geen heel getal. Vul een heel getal "
            "in, zonder komma, bijvoorbeeld 3.",
            "en": "The number “{input}” is not a whole number. Enter a whole "
            "number without a decimal point, for example 3.",
        },
    },
    "date": {
        "empty": {
            "nl": "Vul een datum in, bijvoorbeeld 31-12-2026.",
            "en": "Enter a date, for example 31-12-2026.",
        },
        "invalid": {
            "nl": "“{input}” is geen datum. Schrijf de datum als "
            "dag-maand-jaar, bijvoorbeeld 31-12-2026.",
            "en": "“{input}” is not a date. Write the date as day-month-year, "
            "for example 31-12-2026.",
        },
        "two_digit_year": {
            "nl": "In de datum “{input}” heeft het jaar twee cijfers. Schrijf "
            "het jaar met vier cijfers, bijvoorbeeld {in_1900s} of {in_2000s}.",
            "en": "The date “{input}” has a two-digit year. Write the year "
            "with four digits, for example {in_1900s} or {in_2000s}.",
        },
        "year_out_of_range": {
            "nl": "Het jaar {year} in de datum “{input}” ligt niet tussen 1900 "
            "en 2200. Controleer het jaar.",
            "en": "The year {year} in the date “{input}” is not between 1900 "
            "and 2200. Check the year.",
        },
        "invalid_month": {
            "nl": "De datum “{input}” bestaat niet: een jaar heeft 12 "
            "maanden. Schrijf de datum als dag-maand-jaar, bijvoorbeeld "
            "31-12-2026.",
            "en": "The date “{input}” does not exist: a year has 12 months. "
            "Write the date as day-month-year, for example 31-12-2026.",
        },
        "invalid_date": {
            "nl": "De datum “{input}” bestaat niet: {month_nl} {year} heeft "
            "{days} dagen. Controleer de dag.",
            "en": "The date “{input}” does not exist: {month_en} {year} has "
            "{days} days. Check the day.",
        },
    },
}

# An integer is a number, so it falls back on the number messages.
MESSAGES["integer"] = {**MESSAGES["number"], **MESSAGES["integer"]}


class DutchInputError(ValueError):
    """A citizen's input that breaks the rules for its kind.

    ``key`` names the rule, such as "ambiguous", and a flow can replace the
    message for a key. ``reason`` picks Stappen's own message, which is more
    precise than the key for some rules. ``kind`` is "amount", "number",
    "integer" or "date".
    """

    def __init__(
        self,
        key: str,
        value: str,
        kind: str,
        reason: str | None = None,
        **details: str,
    ) -> None:
        self.key = key
        self.value = value
        self.kind = kind
        self.reason = reason or key
        self.details = details
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        """Return the message in Dutch ("nl") or English ("en")."""
        templates = MESSAGES[self.kind][self.reason]
        if lang not in templates:
            raise ValueError(f"no messages in language {lang!r}. Use 'nl' or 'en'.")
        return templates[lang].format(input=self.value, **self.details)


def parse_amount(text: str | None, *, allow_negative: bool = False) -> Decimal:
    """Parse an amount in euro, such as "€ 1.533,50", into Decimal("1533.50").

    Raises DutchInputError for input that breaks the rules, and for a negative
    amount unless ``allow_negative`` is true.
    """
    cleaned = _clean(text, "amount")
    negative, rest = _take_amount_prefix(cleaned)
    whole, fraction = _split_amount(rest, text)

    if len(fraction) > 2:
        raise DutchInputError("too_many_decimals", text, "amount")

    value = _to_decimal(negative, whole, fraction.ljust(2, "0"))
    if value < 0 and not allow_negative:
        raise DutchInputError("negative", text, "amount")
    return value


def parse_number(text: str | None, *, integer: bool = False) -> Decimal:
    """Parse a number, such as "1.533,25", into Decimal("1533.25").

    Trailing zeros after the decimal separator are dropped. With ``integer``,
    a number with a fraction other than zero is rejected.
    """
    kind = "integer" if integer else "number"
    cleaned = _clean(text, kind)
    sign, rest = _take_sign(cleaned)
    whole, fraction = _split_number(rest, text, kind)

    fraction = fraction.rstrip("0")
    if integer and fraction:
        raise DutchInputError("not_integer", text, kind)
    return _to_decimal(_is_minus(sign), whole, fraction)


def parse_date(text: str | None) -> datetime.date:
    """Parse a date, such as "31-12-2026", "1/2/2026" or "2026-12-31".

    Years must have four digits and lie in 1900..2200. A date that does not
    exist, such as 31-02-2026, is rejected, never moved to the next month.
    """
    cleaned = _clean(text, "date")
    iso = re.fullmatch(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", cleaned)
    written = re.fullmatch(r"([0-9]{1,2})([-/.])([0-9]{1,2})\2([0-9]+)", cleaned)

    if iso:
        year, month, day = iso.groups()
    elif written:
        day, separator, month, year = written.groups()
        _check_year_digits(text, day, separator, month, year)
    else:
        raise DutchInputError("invalid", text, "date")

    return _to_date(text, int(year), int(month), int(day))


def _clean(text: str | None, kind: str) -> str:
    """Return the text with its spaces made plain and trimmed, or raise "empty"."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise TypeError(f"expected the input as text, got {type(text).__name__}")

    cleaned = text.translate(_SPACES).strip(_TRIMMED)
    if not cleaned:
        raise DutchInputError("empty", text, kind)
    return cleaned


def _take_sign(text: str) -> tuple[str, str]:
    """Split a leading sign, if any, from the rest of the text."""
    if text[:1] and text[0] in _SIGNS:
        return text[0], text[1:].lstrip(" ")
    return "", text


def _is_minus(sign: str) -> bool:
    return sign in ("-", "\u2212")


def _take_amount_prefix(text: str) -> tuple[bool, str]:
    """Remove a sign and a euro sign, in either order; return whether the
    amount is negative, and the rest."""
    sign, rest = _take_sign(text)
    if rest.startswith("€"):
        rest = rest[1:].lstrip(" ")
        if not sign:
            sign, rest = _take_sign(rest)
    return _is_minus(sign), rest


def _split_amount(body: str, text: str) -> tuple[str, str]:
    """Split an amount's digits into the whole euros and the cents as typed."""
    if not body.endswith(",-"):
        return _split_number(body, text, "amount")

    # "25,-" is the Dutch way to write 25 euro without cents, so every point
    # or comma before it groups thousands.
    whole = body[:-2]
    if not _BODY.fullmatch(whole):
        raise DutchInputError("invalid", text, "amount")
    _check_grouping(whole, text, "amount")
    return whole, ""


def _split_number(body: str, text: str, kind: str) -> tuple[str, str]:
    """Split digits with separators into the whole digits and the fraction.

    Raises DutchInputError with the key "invalid" or "ambiguous" as the rules
    in docs/dutch-input.md decide.
    """
    if not _BODY.fullmatch(body):
        raise DutchInputError("invalid", text, kind)

    decimal_at = _decimal_separator(body, text, kind)
    if decimal_at is None:
        whole, fraction = body, ""
    else:
        whole, fraction = body[:decimal_at], body[decimal_at + 1 :]

    if not re.fullmatch("[0-9]*", fraction):
        raise DutchInputError("invalid", text, kind, reason="invalid_grouping")
    _check_grouping(whole, text, kind)
    return whole, fraction


def _decimal_separator(body: str, text: str, kind: str) -> int | None:
    """Return the position of the decimal separator in the body, or None."""
    points = [index for index, char in enumerate(body) if char in ".,"]
    if not points:
        return None

    last = points[-1]
    if len({body[index] for index in points}) == 2:
        # Both a point and a comma: the last one separates the decimals.
        if body.count(body[last]) > 1:
            raise DutchInputError("invalid", text, kind, reason="invalid_grouping")
        return last
    if len(points) > 1:
        return None

    whole, fraction = body[:last], body[last + 1 :]
    if " " in whole:
        return last
    if len(fraction) == 3 and len(whole) <= 3 and not whole.startswith("0"):
        raise _ambiguous(whole, fraction, text, kind)
    return last


def _ambiguous(whole: str, fraction: str, text: str, kind: str) -> DutchInputError:
    """Return the error for "1,533", naming both readings in the message."""
    decimals = fraction[:2] if kind == "amount" else fraction
    return DutchInputError(
        "ambiguous",
        text,
        kind,
        whole=whole + fraction,
        decimal_nl=f"{whole},{decimals}",
        decimal_en=f"{whole}.{decimals}",
    )


def _check_grouping(whole: str, text: str, kind: str) -> None:
    """Check that separators in the whole part stand between groups of three."""
    separators = set(re.sub("[0-9]", "", whole))
    if not separators:
        return

    groups = re.split(r"[., ]", whole)
    first, rest = groups[0], groups[1:]
    if (
        len(separators) > 1
        or not 1 <= len(first) <= 3
        or first.startswith("0")
        or any(len(group) != 3 for group in rest)
    ):
        raise DutchInputError("invalid", text, kind, reason="invalid_grouping")


def _to_decimal(negative: bool, whole: str, fraction: str) -> Decimal:
    digits = re.sub(r"[., ]", "", whole)
    value = Decimal(f"{digits}.{fraction}" if fraction else digits)
    if negative and value != 0:
        return value.copy_negate()
    return value


def _check_year_digits(
    text: str, day: str, separator: str, month: str, year: str
) -> None:
    if len(year) == 2:
        written = f"{day}{separator}{month}{separator}"
        raise DutchInputError(
            "two_digit_year",
            text,
            "date",
            in_1900s=f"{written}19{year}",
            in_2000s=f"{written}20{year}",
        )
    if len(year) != 4:
        raise DutchInputError("invalid", text, "date")


def _to_date(text: str, year: int, month: int, day: int) -> datetime.date:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DutchInputError("year_out_of_range", text, "date", year=str(year))
    if not 1 <= month <= 12:
        raise DutchInputError("invalid_date", text, "date", reason="invalid_month")

    days = _days_in_month(year, month)
    if not 1 <= day <= days:
        raise DutchInputError(
            "invalid_date",
            text,
            "date",
            year=str(year),
            days=str(days),
            month_nl=MONTHS["nl"][month - 1],
            month_en=MONTHS["en"][month - 1],
        )
    return datetime.date(year, month, day)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        is_leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if is_leap else 28
    return 30 if month in (4, 6, 9, 11) else 31
