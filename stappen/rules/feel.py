"""Compile FEEL syntax trees into Python closures, once, when a model loads.

A compiled expression is a function of one argument, the environment: a dict
from each name in scope to its FEEL value. Every name is checked when the
expression is compiled, so an unknown name is a load error and never a null
at evaluation time. Inside a filter (``list[condition]``) names may also be
keys of the list items, which are only known at evaluation, so there names
are looked up without that check.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
from collections.abc import Callable
from decimal import Decimal

from stappen.rules import feelvalues
from stappen.rules.errors import FeelNameError, FeelSyntaxError
from stappen.rules.feelfunctions import BUILTINS
from stappen.rules.feelparser import parse_expression
from stappen.rules.feelsyntax import (
    Between,
    Binary,
    Call,
    ContextExpr,
    Filter,
    If,
    In,
    InputValue,
    Iteration,
    ListExpr,
    Literal,
    Name,
    Negation,
    Path,
    RangeExpr,
    UnaryTests,
)
from stappen.rules.feelvalues import FeelFunction

Compiled = Callable[[dict], object]

BUILTIN_NAMES = frozenset(BUILTINS)

# Capitalised spellings of null, which FEEL reads as unknown names. Camunda
# Modeler exports tables that write "Null", and Camunda evaluates an unknown
# name to null, so the compiler accepts these with a warning.
NULL_SPELLINGS = frozenset({"Null", "NULL"})

_ARITHMETIC = {
    "+": feelvalues.add,
    "-": feelvalues.subtract,
    "*": feelvalues.multiply,
    "/": feelvalues.divide,
    "**": feelvalues.power,
}


@dataclasses.dataclass(frozen=True)
class Scope:
    """The names an expression may use; ``open`` allows any name (filters)."""

    names: frozenset[str]
    open: bool = False
    input_value: bool = False

    def with_names(self, *names: str) -> Scope:
        return dataclasses.replace(self, names=self.names | frozenset(names))


class Compiler:
    """Compile FEEL text or trees; ``warnings`` collects what it let pass."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def expression(self, text: str, scope: Scope) -> Compiled:
        """Parse and compile an expression. Raises FeelSyntaxError."""
        node = parse_expression(text, scope.names | BUILTIN_NAMES)
        return self.compile(node, scope)

    def compile(self, node, scope: Scope) -> Compiled:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise FeelSyntaxError(f"{type(node).__name__} is not supported")
        return handler(self, node, scope)

    def literal(self, node: Literal, scope: Scope) -> Compiled:
        value = node.value
        return lambda env: value

    def name(self, node: Name, scope: Scope) -> Compiled:
        name = node.name
        if name in scope.names:
            return lambda env: env.get(name)
        if name in BUILTINS:
            function = _function_value(name)
            return lambda env: function
        if scope.open:
            return lambda env: env.get(name)
        if name in NULL_SPELLINGS:
            self.warnings.append(f"read {name!r} as null; write null instead")
            return lambda env: None
        raise FeelNameError(name, node.column)

    def input_value(self, node: InputValue, scope: Scope) -> Compiled:
        if not scope.input_value:
            raise FeelSyntaxError("'?' may only stand in an input entry")
        return lambda env: env.get("?")

    def path(self, node: Path, scope: Scope) -> Compiled:
        base = self.compile(node.base, scope)
        member = node.member
        return lambda env: member_of(base(env), member)

    def filter(self, node: Filter, scope: Scope) -> Compiled:
        base = self.compile(node.base, scope)
        if isinstance(node.condition, Literal):
            index = node.condition.value
            return lambda env: _select(base(env), index)
        inner = dataclasses.replace(scope.with_names("item"), open=True)
        condition = self.compile(node.condition, inner)
        return lambda env: _filter(base(env), condition, env)

    def negation(self, node: Negation, scope: Scope) -> Compiled:
        operand = self.compile(node.operand, scope)
        return lambda env: feelvalues.negate(operand(env))

    def binary(self, node: Binary, scope: Scope) -> Compiled:
        left = self.compile(node.left, scope)
        right = self.compile(node.right, scope)
        operator = node.operator
        if operator in _ARITHMETIC:
            operation = _ARITHMETIC[operator]
            return lambda env: operation(left(env), right(env))
        if operator == "and":
            return lambda env: _and(left, right, env)
        if operator == "or":
            return lambda env: _or(left, right, env)
        test = COMPARE[operator]
        return lambda env: test(left(env), right(env))

    def between(self, node: Between, scope: Scope) -> Compiled:
        value = self.compile(node.value, scope)
        low = self.compile(node.low, scope)
        high = self.compile(node.high, scope)

        def between(env):
            subject = value(env)
            return _and_values(
                COMPARE[">="](subject, low(env)), COMPARE["<="](subject, high(env))
            )

        return between

    def membership(self, node: In, scope: Scope) -> Compiled:
        from stappen.rules.unary import compile_unary_tests

        value = self.compile(node.value, scope)
        test = compile_unary_tests(self, node.tests, scope)
        return lambda env: test(value(env), env)

    def conditional(self, node: If, scope: Scope) -> Compiled:
        condition = self.compile(node.condition, scope)
        then = self.compile(node.then, scope)
        otherwise = self.compile(node.otherwise, scope)
        return lambda env: then(env) if condition(env) is True else otherwise(env)

    def list_expression(self, node: ListExpr, scope: Scope) -> Compiled:
        items = [self.compile(item, scope) for item in node.items]
        return lambda env: [item(env) for item in items]

    def context(self, node: ContextExpr, scope: Scope) -> Compiled:
        entries = []
        for key, expression in node.entries:
            entries.append((key, self.compile(expression, scope)))
            scope = scope.with_names(key)
        return lambda env: _context(entries, env)

    def range_expression(self, node: RangeExpr, scope: Scope) -> Compiled:
        low = self.compile(node.low, scope)
        high = self.compile(node.high, scope)
        closed = (node.low_closed, node.high_closed)
        return lambda env: feelvalues.Range(low(env), high(env), *closed)

    def iteration(self, node: Iteration, scope: Scope) -> Compiled:
        names, lists = [], []
        for name, expression in node.bindings:
            lists.append(self.compile(expression, scope.with_names(*names)))
            names.append(name)
        body = self.compile(node.body, scope.with_names(*names))
        return lambda env: _iterate(node.kind, names, lists, body, env)

    def call(self, node: Call, scope: Scope) -> Compiled:
        function = node.function
        if isinstance(function, Name) and function.name not in scope.names:
            builtin = BUILTINS.get(function.name)
            if builtin is not None:
                return self.builtin_call(builtin, node, scope)
        callee = self.compile(function, scope)
        arguments = [self.compile(argument, scope) for argument in node.arguments]
        named = [(key, self.compile(value, scope)) for key, value in node.named or ()]
        return lambda env: _invoke(callee(env), arguments, named, env)

    def builtin_call(self, builtin, node: Call, scope: Scope) -> Compiled:
        arguments = [self.compile(argument, scope) for argument in node.arguments]
        if node.named is not None:
            arguments = self._named_arguments(builtin, node, scope)
        if not builtin.accepts(len(arguments)):
            raise FeelSyntaxError(
                f"function {builtin.name!r} takes {builtin.arity_text()},"
                f" not {len(arguments)}",
                node.column,
            )
        call = builtin.call
        return lambda env: call([argument(env) for argument in arguments])

    def _named_arguments(self, builtin, node: Call, scope: Scope) -> list:
        by_name = dict(node.named)
        unknown = sorted(set(by_name) - set(builtin.parameters))
        if unknown:
            raise FeelSyntaxError(
                f"function {builtin.name!r} has no parameter {unknown[0]!r};"
                f" its parameters are {', '.join(builtin.parameters)}",
                node.column,
            )
        arguments = []
        for parameter in builtin.parameters:
            if parameter not in by_name:
                break
            arguments.append(self.compile(by_name[parameter], scope))
        return arguments

    def unary_tests(self, node: UnaryTests, scope: Scope) -> Compiled:
        raise FeelSyntaxError("unary tests may only stand in an input entry")


_HANDLERS = {
    Literal: Compiler.literal,
    Name: Compiler.name,
    InputValue: Compiler.input_value,
    Path: Compiler.path,
    Filter: Compiler.filter,
    Negation: Compiler.negation,
    Binary: Compiler.binary,
    Between: Compiler.between,
    In: Compiler.membership,
    If: Compiler.conditional,
    ListExpr: Compiler.list_expression,
    ContextExpr: Compiler.context,
    RangeExpr: Compiler.range_expression,
    Iteration: Compiler.iteration,
    Call: Compiler.call,
    UnaryTests: Compiler.unary_tests,
}


def _function_value(name: str) -> FeelFunction:
    builtin = BUILTINS[name]
    return FeelFunction(name, builtin.parameters, builtin.call)


# Comparison and logic, with FEEL's null results


def _not_equal(left, right):
    same = feelvalues.equal(left, right)
    return None if same is None else not same


def _ordering(accept: Callable[[int], bool]):
    def test(left, right):
        order = feelvalues.compare(left, right)
        return None if order is None else accept(order)

    return test


COMPARE = {
    "=": feelvalues.equal,
    "!=": _not_equal,
    "<": _ordering(lambda order: order < 0),
    "<=": _ordering(lambda order: order <= 0),
    ">": _ordering(lambda order: order > 0),
    ">=": _ordering(lambda order: order >= 0),
}


def _and(left: Compiled, right: Compiled, env: dict):
    first = left(env)
    if first is False:
        return False
    return _and_values(first, right(env))


def _and_values(first, second):
    if first is False or second is False:
        return False
    if first is True and second is True:
        return True
    return None


def _or(left: Compiled, right: Compiled, env: dict):
    first = left(env)
    if first is True:
        return True
    second = right(env)
    if second is True:
        return True
    if first is False and second is False:
        return False
    return None


# Paths, filters, contexts, iteration and invocation

_PROPERTIES = {
    datetime.date: ("year", "month", "day"),
    datetime.datetime: ("year", "month", "day", "hour", "minute", "second"),
    datetime.time: ("hour", "minute", "second"),
}


def member_of(value, member: str):
    """Return ``value.member``: a context entry or a date or duration part."""
    kind = type(value)
    if kind is dict:
        return value.get(member)
    if kind is list:
        return [member_of(item, member) for item in value]
    if member in _PROPERTIES.get(kind, ()):
        return Decimal(getattr(value, member))
    if kind in (datetime.date, datetime.datetime) and member == "weekday":
        return Decimal(value.isoweekday())
    return _duration_member(value, member)


def _duration_member(value, member: str):
    if type(value) is feelvalues.YearsMonthsDuration:
        sign = -1 if value.months < 0 else 1
        years, months = divmod(abs(value.months), 12)
        parts = {"years": years, "months": months}
    elif type(value) is datetime.timedelta:
        sign = -1 if value < datetime.timedelta(0) else 1
        span = abs(value)
        hours, rest = divmod(span.seconds, 3600)
        parts = {"days": span.days, "hours": hours}
        parts.update(minutes=rest // 60, seconds=rest % 60)
    else:
        return None
    return Decimal(sign * parts[member]) if member in parts else None


def _select(value, index):
    """Return ``list[index]`` with a 1-based index, negative from the end."""
    items = value if type(value) is list else [value]
    position = _whole(index)
    if position is None or position == 0 or abs(position) > len(items):
        return None
    return items[position - 1 if position > 0 else position]


def _whole(value) -> int | None:
    if type(value) is not Decimal or value != value.to_integral_value():
        return None
    return int(value)


def _filter(value, condition: Compiled, env: dict):
    items = value if type(value) is list else [value]
    kept = []
    for item in items:
        inner = dict(env)
        if type(item) is dict:
            inner.update(item)
        inner["item"] = item
        verdict = condition(inner)
        if type(verdict) is Decimal:
            return _select(items, verdict)
        if verdict is True:
            kept.append(item)
    return kept


def _context(entries, env: dict) -> dict:
    inner = dict(env)
    result = {}
    for key, expression in entries:
        result[key] = inner[key] = expression(inner)
    return result


def _iterate(kind: str, names, lists, body: Compiled, env: dict):
    collections = []
    inner = dict(env)
    for expression in lists:
        values = expression(inner)
        if type(values) is not list:
            return None
        collections.append(values)
    results = []
    for combination in itertools.product(*collections):
        inner.update(zip(names, combination, strict=True))
        results.append(body(inner))
    if kind == "for":
        return results
    if kind == "some":
        if any(result is True for result in results):
            return True
        return _unknown_or(results, False)
    if any(result is False for result in results):
        return False
    return _unknown_or(results, True)


def _unknown_or(results: list, value: bool):
    return value if all(type(result) is bool for result in results) else None


def _invoke(function, arguments, named, env: dict):
    if type(function) is not FeelFunction:
        return None
    values = [argument(env) for argument in arguments]
    if named:
        given = {key: expression(env) for key, expression in named}
        if set(given) - set(function.parameters):
            return None
        values = [given.get(parameter) for parameter in function.parameters]
    return function.call(values)
