"""FEEL expressions: decimal arithmetic, three-valued logic, null, dates."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from stappen.rules.errors import FeelNameError, FeelSyntaxError
from stappen.rules.feel import Compiler, Scope
from stappen.rules.feelvalues import YearsMonthsDuration
from stappen.rules.unary import compile_input_entry

NAMES = frozenset({"a", "b", "Monthly Salary", "items", "loan"})


def evaluate(text: str, **env):
    compiled = Compiler().expression(text, Scope(NAMES))
    values = {name: None for name in NAMES}
    values.update({name.replace("_", " "): value for name, value in env.items()})
    return compiled(values)


def check_entry(text: str, value, **env):
    compiled = compile_input_entry(Compiler(), text, Scope(NAMES))
    return compiled(value, dict(env))


def test_decimal_sum_is_exact():
    assert evaluate("0.1 + 0.2 = 0.3") is True
    assert evaluate("0.1 + 0.2") == Decimal("0.3")


def test_division_keeps_34_digits():
    assert str(evaluate("1 / 3")) == "0.3333333333333333333333333333333333"
    assert str(evaluate("2 / 3")) == "0.6666666666666666666666666666666667"


def test_division_by_zero_is_null():
    assert evaluate("(10 + 20) / 0") is None


def test_exponent_binds_after_negation():
    assert evaluate("10 ** -5") == Decimal("0.00001")
    assert evaluate("5 + 2 ** 5 + 3") == Decimal(40)


def test_arithmetic_with_null_is_null():
    assert evaluate("10 + null") is None
    assert evaluate("null * 10") is None
    assert evaluate("a - 1", a=None) is None


def test_arithmetic_on_mixed_kinds_is_null():
    assert evaluate('1 + "1"') is None
    assert evaluate('"a" + "b"') == "ab"


@pytest.mark.parametrize(
    ("left", "right", "conjunction", "disjunction"),
    [
        (True, True, True, True),
        (True, False, False, True),
        (True, None, None, True),
        (False, False, False, False),
        (False, None, False, None),
        (None, None, None, None),
    ],
)
def test_three_valued_logic(left, right, conjunction, disjunction):
    assert evaluate("a and b", a=left, b=right) is conjunction
    assert evaluate("b and a", a=left, b=right) is conjunction
    assert evaluate("a or b", a=left, b=right) is disjunction
    assert evaluate("b or a", a=left, b=right) is disjunction


def test_not_of_null_is_null():
    assert evaluate("not(a)", a=True) is False
    assert evaluate("not(a)", a=None) is None
    assert evaluate("not(a)", a=Decimal(1)) is None


def test_equality_with_null():
    assert evaluate("null = null") is True
    assert evaluate("a = null", a=Decimal(1)) is False
    assert evaluate("a < 1", a=None) is None
    assert evaluate('1 = "1"') is None


def test_name_with_spaces_resolves():
    assert evaluate("12 * Monthly Salary", Monthly_Salary=Decimal(10000)) == Decimal(
        120000
    )


def test_if_then_else_takes_else_on_null():
    assert evaluate('if a > 1 then "ja" else "nee"', a=Decimal(2)) == "ja"
    assert evaluate('if a > 1 then "ja" else "nee"', a=None) == "nee"


def test_context_entries_see_earlier_entries():
    assert evaluate("{x: 1, y z: x + 1}.y z") == Decimal(2)


def test_path_over_context_and_list():
    loan = {"amount": Decimal(600000), "rate": Decimal("0.0375")}
    assert evaluate("loan.amount", loan=loan) == Decimal(600000)
    assert evaluate("loan.missing", loan=loan) is None
    assert evaluate("items.n", items=[{"n": Decimal(1)}, {"n": Decimal(2)}]) == [
        Decimal(1),
        Decimal(2),
    ]


def test_filter_by_condition_and_index():
    items = [Decimal(1), Decimal(2), Decimal(3)]
    assert evaluate("items[item > 1]", items=items) == [Decimal(2), Decimal(3)]
    assert evaluate("items[1]", items=items) == Decimal(1)
    assert evaluate("items[-1]", items=items) == Decimal(3)
    assert evaluate("items[4]", items=items) is None


def test_filter_on_context_keys():
    items = [{"n": Decimal(1)}, {"n": Decimal(5)}]
    assert evaluate("items[n > 2].n", items=items) == [Decimal(5)]


def test_quantifiers_and_for():
    items = [Decimal(1), Decimal(2)]
    assert evaluate("for x in items return x * 2", items=items) == [
        Decimal(2),
        Decimal(4),
    ]
    assert evaluate("some x in items satisfies x > 1", items=items) is True
    assert evaluate("every x in items satisfies x > 1", items=items) is False


def test_between_and_in():
    assert evaluate("a between 1 and 5", a=Decimal(5)) is True
    assert evaluate("a in [1..5)", a=Decimal(5)) is False
    assert evaluate('a in ("x", "y")', a="y") is True


def test_number_functions():
    assert evaluate("decimal(1.125, 2)") == Decimal("1.12")
    assert evaluate("decimal(1.135, 2)") == Decimal("1.14")
    assert evaluate("floor(-1.5)") == Decimal(-2)
    assert evaluate("ceiling(1.2)") == Decimal(2)
    assert evaluate("abs(-3)") == Decimal(3)
    assert evaluate("min([3, 1, 2])") == Decimal(1)
    assert evaluate("max(3, 1, 2)") == Decimal(3)
    assert evaluate("sum([0.1, 0.2])") == Decimal("0.3")
    assert evaluate("count([1, 2, 3])") == Decimal(3)


def test_string_functions():
    assert evaluate('substring("foobar", 3)') == "obar"
    assert evaluate('substring("foobar", -2, 1)') == "a"
    assert evaluate('string length("横綱")') == Decimal(2)
    assert evaluate('upper case("abc")') == "ABC"
    assert evaluate('lower case("ABC")') == "abc"
    assert evaluate('contains("Utrecht", "trecht")') is True
    assert evaluate('starts with("Utrecht", "Ut")') is True
    assert evaluate('ends with("Utrecht", "x")') is False
    assert evaluate("string(1.50)") == "1.5"
    assert evaluate('number("1.533,25", ".", ",")') == Decimal("1533.25")


def test_named_arguments():
    assert evaluate('substring(string: "foobar", start position: 4)') == "bar"


def test_dates_and_durations():
    assert evaluate('date("2024-01-31")') == datetime.date(2024, 1, 31)
    assert evaluate('date("2024-01-31") + duration("P1M")') == datetime.date(
        2024, 2, 29
    )
    assert evaluate('date("2024-03-01") - date("2024-02-01")') == datetime.timedelta(
        days=29
    )
    assert evaluate('duration("P1DT2H")') == datetime.timedelta(days=1, hours=2)
    assert evaluate('@"2024-01-31".year') == Decimal(2024)


def test_years_and_months_duration():
    value = evaluate(
        'years and months duration(date("2000-05-31"), date("2024-05-30"))'
    )
    assert value == YearsMonthsDuration(287)
    assert str(value) == "P23Y11M"


def test_invalid_date_is_null():
    assert evaluate('date("2024-02-30")') is None
    assert evaluate('date("31-01-2024")') is None


def test_unknown_name_raises():
    with pytest.raises(FeelNameError, match="^unknown name 'Montly Salary'$"):
        evaluate("Montly Salary * 12")


def test_single_quotes_raise():
    with pytest.raises(
        FeelSyntaxError, match="^FEEL strings take double quotes, not single quotes$"
    ):
        evaluate("'Utrecht'")


def test_wrong_argument_count_raises():
    with pytest.raises(
        FeelSyntaxError, match=r"^function 'substring' takes 2 to 3 arguments, not 1$"
    ):
        evaluate('substring("x")')


def test_unary_comparisons():
    assert check_entry("<= 1533", Decimal(1533)) is True
    assert check_entry("<= 1533", Decimal("1533.01")) is False
    assert check_entry("> 5", None) is None
    assert check_entry("!= 5", Decimal(4)) is True


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("[1..10]", [1, 10], [0, 11]),
        ("(1..10]", [2, 10], [1]),
        ("]1..10[", [2, 9], [1, 10]),
        ("[1..10)", [1], [10]),
    ],
)
def test_unary_ranges(text, inside, outside):
    for value in inside:
        assert check_entry(text, Decimal(value)) is True
    for value in outside:
        assert check_entry(text, Decimal(value)) is False


def test_unary_lists_and_negation():
    assert check_entry('"Medium", "Low"', "Low") is True
    assert check_entry('"Medium", "Low"', "High") is False
    assert check_entry('not("Medium", "Low")', "High") is True
    assert check_entry('not("Medium", "Low")', "Low") is False


def test_unary_null_and_dash():
    assert check_entry("null", None) is True
    assert check_entry("null", Decimal(0)) is False
    assert check_entry("-", None) is True
    assert check_entry("", "anything") is True


def test_unary_question_mark():
    assert check_entry("? > a", Decimal(3), a=Decimal(2)) is True
    assert check_entry("? * 2 = 6", Decimal(3)) is True
    assert check_entry("string length(?) < 3", "abcd") is False


def test_unary_boolean_is_equality():
    assert check_entry("true", True) is True
    assert check_entry("true", False) is False
    assert check_entry("true", Decimal(1)) is False
