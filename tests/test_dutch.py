"""Tests for the Dutch input parsers in Python and JavaScript."""

from __future__ import annotations

import datetime
import json
import random
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stappen import dutch
from stappen.dutch import DutchInputError, parse_amount, parse_date, parse_number
from tests.nodejs import run_node_script, run_node_tests

TESTS = Path(__file__).resolve().parent
PROJECT = TESTS.parent
TABLE = json.loads((TESTS / "data" / "dutch-inputs.json").read_text(encoding="utf-8"))
CASES = TABLE["cases"]
DUTCH_JS = PROJECT / "stappen" / "static" / "js" / "dutch.js"


def parse(kind: str, text: str, options: dict) -> str:
    """Parse with the Python parser and return the canonical value string."""
    if kind == "amount":
        return format(parse_amount(text, **options), "f")
    if kind == "number":
        return format(parse_number(text, **options), "f")
    return parse_date(text).isoformat()


def case_id(index: int, case: dict) -> str:
    return f"{index}-{case['kind']}-{case['description']}"


@pytest.mark.parametrize(
    "case", CASES, ids=[case_id(index, case) for index, case in enumerate(CASES)]
)
def test_python_parser_matches_table(case):
    options = case.get("options", {})

    if "expected" in case:
        assert parse(case["kind"], case["input"], options) == case["expected"]
        return

    with pytest.raises(DutchInputError) as raised:
        parse(case["kind"], case["input"], options)
    assert raised.value.key == case["error"]
    assert raised.value.reason == case.get("reason", case["error"])
    if "message" in case:
        assert raised.value.message("nl") == case["message"]["nl"]
        assert raised.value.message("en") == case["message"]["en"]


def test_javascript_parser_passes_table():
    passed = run_node_tests(TESTS / "js" / "dutch.test.mjs")

    assert passed >= len(CASES)


def test_table_size():
    assert len(CASES) >= 60


def test_table_covers_every_message():
    covered = {
        (
            "integer" if case.get("options", {}).get("integer") else case["kind"],
            case.get("reason", case["error"]),
        )
        for case in CASES
        if "message" in case
    }
    # Integers share the number messages except where they have their own.
    defined = {
        (kind, reason)
        for kind, messages in dutch.MESSAGES.items()
        for reason, message in messages.items()
        if kind != "integer" or message is not dutch.MESSAGES["number"].get(reason)
    }

    assert covered == defined


def test_javascript_messages_match_python():
    source = (
        f"import {{ MESSAGES }} from {json.dumps(DUTCH_JS.as_uri())};\n"
        "process.stdout.write(JSON.stringify(MESSAGES));\n"
    )

    messages = json.loads(run_node_script(source, ""))

    assert messages == dutch.MESSAGES


def random_inputs(count: int, seed: int) -> list[dict]:
    """Return random short texts made of the characters that the rules treat
    specially, with a kind and options for each. Most dates are shaped like
    day-month-year, so that they reach the checks on their parts."""
    generator = random.Random(seed)
    alphabet = "0123456789" * 3 + ".,- /€+\u2212\u00a0"
    inputs = []
    for _ in range(count):
        text = "".join(generator.choices(alphabet, k=generator.randint(0, 12)))
        kind = generator.choice(["amount", "number", "date"])
        options = {}
        if kind == "amount":
            options["allow_negative"] = generator.random() < 0.5
        elif kind == "number":
            options["integer"] = generator.random() < 0.5
        elif generator.random() < 0.8:
            text = random_date_text(generator)
        inputs.append({"kind": kind, "input": text, "options": options})
    return inputs


def random_date_text(generator: random.Random) -> str:
    day = str(generator.randint(0, 32)).zfill(generator.randint(1, 2))
    month = str(generator.randint(0, 13)).zfill(generator.randint(1, 2))
    year = generator.choice(
        [
            str(generator.randint(1890, 2210)),
            str(generator.randint(0, 99)).zfill(2),
            str(generator.randint(0, 99999)),
        ]
    )
    first, second = generator.choices("-/. ", k=2)
    if generator.random() < 0.8:
        second = first
    if generator.random() < 0.3:
        return f"{year}{first}{month}{second}{day}"
    return f"{day}{first}{month}{second}{year}"


def python_result(entry: dict) -> dict:
    try:
        value = parse(entry["kind"], entry["input"], entry["options"])
    except DutchInputError as error:
        messages = {"nl": error.message("nl"), "en": error.message("en")}
        return {"ok": False, "key": error.key, "message": messages}
    return {"ok": True, "value": value}


def test_python_and_javascript_agree_on_random_inputs():
    inputs = random_inputs(3000, seed=20260101)
    source = f"""
import {{ readFileSync }} from "node:fs";
import {{ parseAmount, parseDate, parseNumber }} from {json.dumps(DUTCH_JS.as_uri())};
const inputs = JSON.parse(readFileSync(0, "utf8"));
const results = inputs.map(({{ kind, input, options }}) => {{
  if (kind === "amount") {{
    return parseAmount(input, {{ allowNegative: options.allow_negative }});
  }}
  if (kind === "number") return parseNumber(input, {{ integer: options.integer }});
  return parseDate(input);
}});
process.stdout.write(JSON.stringify(results));
"""

    javascript = json.loads(run_node_script(source, json.dumps(inputs)))

    differences = [
        (entry, python_result(entry), result)
        for entry, result in zip(inputs, javascript, strict=True)
        if python_result(entry) != result
    ]
    assert differences == []
    assert any(result["ok"] for result in javascript)


def test_amount_is_decimal_in_cents():
    value = parse_amount("€ 1.533,5")

    assert value == Decimal("1533.50")
    assert value.as_tuple().exponent == -2


def test_date_is_date():
    assert parse_date("1-2-2026") == datetime.date(2026, 2, 1)


def test_none_is_empty():
    with pytest.raises(DutchInputError) as raised:
        parse_number(None)

    assert raised.value.key == "empty"


def test_non_text_input_raises_type_error():
    with pytest.raises(TypeError, match="expected the input as text, got int"):
        parse_amount(1533)


def test_error_attributes_and_english_str():
    with pytest.raises(DutchInputError) as raised:
        parse_amount("1,533")

    error = raised.value
    assert error.key == "ambiguous"
    assert error.value == "1,533"
    assert error.kind == "amount"
    assert str(error) == error.message("en")


def test_message_in_unknown_language_raises():
    error = DutchInputError("empty", "", "date")

    with pytest.raises(ValueError, match="no messages in language 'de'"):
        error.message("de")


amounts = st.decimals(
    min_value=0, max_value=10**12, places=2, allow_nan=False, allow_infinity=False
)


def group(digits: str, separator: str) -> str:
    """Write digits in groups of three from the right."""
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [
        digits[index : index + 3] for index in range(head, len(digits), 3)
    ]
    return separator.join(groups)


@given(amount=amounts, style=st.sampled_from(["plain", "nl", "en", "space", "euro"]))
def test_amount_round_trip(amount, style):
    whole, cents = f"{amount:.2f}".split(".")
    written = {
        "plain": f"{whole},{cents}",
        "nl": f"{group(whole, '.')},{cents}",
        "en": f"{group(whole, ',')}.{cents}",
        "space": f"{group(whole, ' ')},{cents}",
        "euro": f"€ {group(whole, '.')},{cents}",
    }[style]

    assert parse_amount(written) == amount


@given(
    day=st.dates(
        min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2200, 12, 31)
    ),
    style=st.sampled_from(["-", "/", ".", "iso"]),
)
def test_date_round_trip(day, style):
    if style == "iso":
        written = day.isoformat()
    else:
        written = f"{day.day}{style}{day.month:02d}{style}{day.year}"

    assert parse_date(written) == day


@given(number=st.integers(min_value=-(10**15), max_value=10**15))
def test_integer_round_trip(number):
    assert parse_number(str(number), integer=True) == number
