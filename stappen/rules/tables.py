"""Decision tables, compiled: rules, outputs and the hit policies.

Evaluating a table returns a ``TableResult`` with the value, the matched
rules and the input values. A violated hit policy (two matches under UNIQUE,
differing outputs under ANY) or a value outside the declared input or output
values adds an error text and, as the DMN standard prescribes, makes the
table's value null.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

from stappen.rules import feelfunctions, feelvalues
from stappen.rules.feel import Compiled

logger = logging.getLogger(__name__)

HIT_POLICIES = (
    "UNIQUE",
    "ANY",
    "PRIORITY",
    "FIRST",
    "RULE ORDER",
    "OUTPUT ORDER",
    "COLLECT",
)
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")

Test = Callable[[object, dict], "bool | None"]


@dataclasses.dataclass
class InputClause:
    """An input column: its label, expression and optional input values."""

    label: str
    expression: Compiled
    values: Test | None = None
    values_text: str = ""


@dataclasses.dataclass
class OutputClause:
    """An output column. ``priorities`` are its output values, in order."""

    name: str | None
    priorities: list[Test] | None = None
    values_text: str = ""
    default: Compiled | None = None
    default_text: str | None = None


@dataclasses.dataclass
class Rule:
    """A row: the tests that are not ``-``, by column index, and outputs.

    ``output_texts`` are the output cells as written, for validation.
    """

    id: str
    checks: tuple[tuple[int, Test], ...]
    outputs: tuple[Compiled, ...]
    annotations: tuple[str, ...] = ()
    output_texts: tuple[str, ...] = ()


@dataclasses.dataclass
class TableResult:
    value: object
    inputs: dict
    matched: list[Rule]
    error: str | None = None


class TableViolation(Exception):
    """A hit policy or a value constraint that this evaluation violates."""


@dataclasses.dataclass
class DecisionTable:
    hit_policy: str
    aggregation: str | None
    inputs: list[InputClause]
    outputs: list[OutputClause]
    rules: list[Rule]

    def evaluate(self, env: dict, decision: str) -> TableResult:
        values = [clause.expression(env) for clause in self.inputs]
        input_values = {
            clause.label: value
            for clause, value in zip(self.inputs, values, strict=True)
        }
        matched: list[Rule] = []
        try:
            self._check_input_values(values)
            matched = self._match(values, env)
            value = self._combine(matched, env)
        except TableViolation as violation:
            logger.warning("decision %r: %s; its value is null", decision, violation)
            return TableResult(None, input_values, matched, str(violation))
        return TableResult(value, input_values, matched)

    def _match(self, values: list, env: dict) -> list[Rule]:
        first_only = self.hit_policy == "FIRST"
        matched = []
        for rule in self.rules:
            for index, test in rule.checks:
                if test(values[index], env) is not True:
                    break
            else:
                matched.append(rule)
                if first_only:
                    break
        return matched

    def _check_input_values(self, values: list) -> None:
        for clause, value in zip(self.inputs, values, strict=True):
            if clause.values is None or value is None:
                continue
            if clause.values(value, {}) is not True:
                raise TableViolation(
                    f"input {clause.label!r} is {feelvalues.to_text(value)!r},"
                    f" which is not one of its input values {clause.values_text}"
                )

    def _combine(self, matched: list[Rule], env: dict):
        if not matched:
            return self._default(env)
        rows = [self._row(rule, env) for rule in matched]
        policy = self.hit_policy
        if policy == "FIRST":
            return rows[0]
        if policy == "UNIQUE":
            return _unique(rows, matched)
        if policy == "ANY":
            return _any(rows, matched)
        if policy == "PRIORITY":
            return min(rows, key=self._priority)
        if policy == "OUTPUT ORDER":
            return sorted(rows, key=self._priority)
        if policy == "COLLECT" and self.aggregation is not None:
            return _aggregate(self.aggregation, rows)
        return rows

    def _row(self, rule: Rule, env: dict):
        values = [output(env) for output in rule.outputs]
        for clause, value in zip(self.outputs, values, strict=True):
            self._check_output_value(clause, value, rule)
        if len(values) == 1:
            return values[0]
        return {
            clause.name: value
            for clause, value in zip(self.outputs, values, strict=True)
        }

    @staticmethod
    def _check_output_value(clause: OutputClause, value, rule: Rule) -> None:
        if clause.priorities is None or value is None:
            return
        if any(test(value, {}) is True for test in clause.priorities):
            return
        name = f"output {clause.name!r}" if clause.name else "the output"
        raise TableViolation(
            f"rule {rule.id!r} gives {name} the value"
            f" {feelvalues.to_text(value)!r}, which is not one of its output"
            f" values {clause.values_text}"
        )

    def _priority(self, row) -> tuple[int, ...]:
        """Rank a row by the position of its outputs in the output values."""
        values = [row] if len(self.outputs) == 1 else list(row.values())
        ranks = []
        for clause, value in zip(self.outputs, values, strict=True):
            if clause.priorities is None:
                continue
            ranks.append(_rank(clause.priorities, value))
        return tuple(ranks)

    def _default(self, env: dict):
        if all(clause.default is None for clause in self.outputs):
            if self.hit_policy == "COLLECT" and self.aggregation == "COUNT":
                return feelvalues.ZERO
            return None
        values = [
            None if clause.default is None else clause.default(env)
            for clause in self.outputs
        ]
        if len(values) == 1:
            return values[0]
        return {
            clause.name: value
            for clause, value in zip(self.outputs, values, strict=True)
        }


def _rank(priorities: list[Test], value) -> int:
    for position, test in enumerate(priorities):
        if test(value, {}) is True:
            return position
    return len(priorities)


def _unique(rows: list, matched: list[Rule]):
    if len(rows) > 1:
        raise TableViolation(
            f"hit policy UNIQUE allows one matching rule, but {_ids(matched)}"
            " match; make the rules exclusive or choose another hit policy"
        )
    return rows[0]


def _any(rows: list, matched: list[Rule]):
    for row in rows[1:]:
        if feelvalues.equal(row, rows[0]) is not True:
            raise TableViolation(
                f"hit policy ANY needs equal outputs, but the matching rules"
                f" {_ids(matched)} differ; give them the same outputs or choose"
                " another hit policy"
            )
    return rows[0]


def _ids(rules: list[Rule]) -> str:
    return ", ".join(repr(rule.id) for rule in rules)


def _aggregate(aggregation: str, values: list):
    if aggregation == "COUNT":
        return feelvalues.Decimal(len(values))
    function = feelfunctions.BUILTINS[aggregation.lower()]
    return function.call([values])
