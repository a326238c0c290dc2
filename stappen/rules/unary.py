"""Compile unary tests, the input entries of a decision table.

A compiled test is a function of the input value and the environment that
returns True, False or None (null). A rule matches only when every one of its
tests returns True. Tests against a constant, by far the most common kind
(``<= 1533``, ``"Utrecht"``, ``true``), compile to closures that skip the
general FEEL comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from stappen.rules import feelvalues
from stappen.rules.feel import COMPARE, Compiled, Compiler, Scope
from stappen.rules.feelparser import parse_unary_tests
from stappen.rules.feelsyntax import (
    Comparison,
    InputValue,
    Literal,
    RangeExpr,
    UnaryTests,
)
from stappen.rules.feelvalues import Range

Test = Callable[[object, dict], "bool | None"]


def compile_input_entry(compiler: Compiler, text: str, scope: Scope) -> Test:
    """Parse and compile the text of an input entry. Raises FeelSyntaxError."""
    names = scope.names | compiler_names()
    node = parse_unary_tests(text, names)
    return compile_unary_tests(compiler, node, scope)


def compiler_names() -> frozenset[str]:
    from stappen.rules.feel import BUILTIN_NAMES

    return BUILTIN_NAMES


def is_any(test: Test) -> bool:
    """Return whether ``test`` is ``-``, which every value satisfies."""
    return test is _any


def _any(value, env) -> bool:
    return True


def compile_unary_tests(compiler: Compiler, node: UnaryTests, scope: Scope) -> Test:
    if not node.tests:
        return _any
    inner = Scope(scope.names, scope.open, input_value=True)
    tests = [_positive_test(compiler, test, inner) for test in node.tests]
    test = tests[0] if len(tests) == 1 else _disjunction(tests)
    if node.negated:
        return _negation(test)
    return test


def _disjunction(tests: list[Test]) -> Test:
    def disjunction(value, env):
        unknown = False
        for test in tests:
            verdict = test(value, env)
            if verdict is True:
                return True
            unknown = unknown or verdict is None
        return None if unknown else False

    return disjunction


def _negation(test: Test) -> Test:
    def negation(value, env):
        verdict = test(value, env)
        return None if verdict is None else not verdict

    return negation


def _positive_test(compiler: Compiler, node, scope: Scope) -> Test:
    if isinstance(node, Comparison):
        return _comparison(compiler, node, scope)
    if isinstance(node, RangeExpr) and _is_constant(node.low, node.high):
        constant = Range(
            node.low.value, node.high.value, node.low_closed, node.high_closed
        )
        return lambda value, env: constant.contains(value)
    if isinstance(node, Literal):
        return _equal_to_constant(node.value)
    expression = compiler.compile(node, scope)
    if _uses_input_value(node):
        return _boolean_test(expression)
    return lambda value, env: _matches(value, expression(env))


def _is_constant(*nodes) -> bool:
    return all(isinstance(node, Literal) for node in nodes)


def _comparison(compiler: Compiler, node: Comparison, scope: Scope) -> Test:
    operator = node.operator
    if isinstance(node.operand, Literal) and operator in _FAST:
        constant = node.operand.value
        if type(constant) is Decimal or type(constant) is str:
            return _FAST[operator](constant)
    compare = COMPARE[operator]
    operand = compiler.compile(node.operand, scope)
    return lambda value, env: compare(value, operand(env))


def _less_than(bound) -> Test:
    kind = type(bound)
    return lambda value, env: value < bound if type(value) is kind else None


def _at_most(bound) -> Test:
    kind = type(bound)
    return lambda value, env: value <= bound if type(value) is kind else None


def _greater_than(bound) -> Test:
    kind = type(bound)
    return lambda value, env: value > bound if type(value) is kind else None


def _at_least(bound) -> Test:
    kind = type(bound)
    return lambda value, env: value >= bound if type(value) is kind else None


_FAST = {"<": _less_than, "<=": _at_most, ">": _greater_than, ">=": _at_least}


def _equal_to_constant(constant) -> Test:
    if constant is None:
        return lambda value, env: value is None
    if type(constant) is bool:
        return lambda value, env: value is constant
    kind = type(constant)
    if kind is Decimal or kind is str:
        return lambda value, env: value == constant if type(value) is kind else None
    return lambda value, env: _matches(value, constant)


def _matches(value, expected) -> bool | None:
    """Apply an expression's value as a test: a range, a list or an equality."""
    if type(expected) is Range:
        return expected.contains(value)
    if type(expected) is list and type(value) is not list:
        return any(feelvalues.equal(value, item) is True for item in expected)
    return feelvalues.equal(value, expected)


def _boolean_test(expression: Compiled) -> Test:
    def test(value, env):
        env["?"] = value
        verdict = expression(env)
        return verdict if type(verdict) is bool else None

    return test


def _uses_input_value(node) -> bool:
    if isinstance(node, InputValue):
        return True
    if isinstance(node, tuple):
        return any(_uses_input_value(item) for item in node)
    fields = getattr(node, "__dataclass_fields__", None)
    if fields is None:
        return False
    return any(_uses_input_value(getattr(node, field)) for field in fields)
