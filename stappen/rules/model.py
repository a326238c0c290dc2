"""A loaded DMN model: its decisions, their requirements, and evaluation."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from stappen.rules import itemtypes
from stappen.rules.errors import DmnError
from stappen.rules.feel import Compiled
from stappen.rules.itemtypes import FeelType
from stappen.rules.tables import DecisionTable
from stappen.rules.trace import DecisionTrace, Trace


@dataclasses.dataclass
class InputData:
    name: str
    id: str | None
    type: FeelType
    implicit: bool = False


@dataclasses.dataclass
class Decision:
    """A decision with its logic: a decision table or a literal expression.

    ``inputs`` and ``decisions`` name what it requires directly. A decision
    of a Camunda export declares no requirements, so the names in its input
    expressions become its ``inputs``.
    """

    name: str
    id: str | None
    inputs: list[str]
    decisions: list[str]
    table: DecisionTable | None = None
    expression: Compiled | None = None

    def run(self, env: dict) -> tuple[object, DecisionTrace]:
        if self.table is None:
            value = self.expression(env)
            required = self.inputs + self.decisions
            input_values = {name: env.get(name) for name in required}
            return value, DecisionTrace(
                self.name, self.id, "literalExpression", input_values, value
            )
        result = self.table.evaluate(env, self.name)
        trace = DecisionTrace(
            self.name,
            self.id,
            "decisionTable",
            result.inputs,
            result.value,
            hit_policy=_policy_text(self.table),
            matched_rules=[rule.id for rule in result.matched],
            annotations={
                rule.id: list(rule.annotations)
                for rule in result.matched
                if rule.annotations
            },
            error=result.error,
        )
        return result.value, trace


def _policy_text(table: DecisionTable) -> str:
    if table.aggregation is None:
        return table.hit_policy
    return f"{table.hit_policy} {table.aggregation}"


@dataclasses.dataclass
class Evaluation:
    """The result of ``DmnModel.evaluate``.

    ``value`` is the requested decision's value: a single output's value, a
    context of output name to value for a table with several outputs, or a
    list for a multiple-hit table. ``outputs`` maps every evaluated decision
    to its value.
    """

    value: object
    outputs: dict[str, object]
    trace: Trace


@dataclasses.dataclass
class _Plan:
    order: list[Decision]
    inputs: list[InputData]


class DmnModel:
    """The decisions of one DMN file, compiled and ready to evaluate."""

    def __init__(
        self,
        *,
        file: str,
        sha256: str,
        name: str | None,
        decisions: dict[str, Decision],
        input_data: dict[str, InputData],
        functions: dict[str, object],
        warnings: list[str],
    ) -> None:
        self.file = file
        self.sha256 = sha256
        self.name = name
        self.decisions = decisions
        self.input_data = input_data
        self.warnings = warnings
        self._functions = functions
        self._plans: dict[str, _Plan] = {}

    @property
    def decision_names(self) -> list[str]:
        return list(self.decisions)

    def required_inputs(self, decision: str) -> list[str]:
        """Name the input data that evaluating ``decision`` needs."""
        return [data.name for data in self._plan(decision).inputs]

    def evaluate(self, decision: str, inputs: Mapping[str, object]) -> Evaluation:
        """Evaluate ``decision`` and every decision it requires, in order.

        ``inputs`` maps input data names to Python values, which are converted
        to their declared types (an int or a text such as ``"1533.01"`` to a
        Decimal). Pass None for a value that is unknown; inputs that the
        decision does not need are ignored. Raises DmnError for an unknown
        decision, a missing input or a value of the wrong type.
        """
        plan = self._plan(decision)
        env = dict(self._functions)
        given = self._convert_inputs(plan, inputs, decision)
        env.update(given)
        steps = []
        for step in plan.order:
            value, trace = step.run(env)
            env[step.name] = value
            steps.append(trace)
        outputs = {step.name: env[step.name] for step in plan.order}
        trace = Trace(decision, self.file, self.sha256, given, steps)
        return Evaluation(env[decision], outputs, trace)

    def _plan(self, decision: str) -> _Plan:
        plan = self._plans.get(decision)
        if plan is None:
            if decision not in self.decisions:
                raise self._unknown_decision(decision)
            plan = self._plans[decision] = self._make_plan(decision)
        return plan

    def _unknown_decision(self, decision: str) -> DmnError:
        known = ", ".join(repr(name) for name in self.decisions) or "none"
        return DmnError(
            f"unknown decision {decision!r}; the decisions in this file are {known}",
            file=self.file,
        )

    def _make_plan(self, decision: str) -> _Plan:
        order: list[Decision] = []
        _visit(self.decisions, decision, order, set())
        names: dict[str, None] = {}
        for step in order:
            names.update(dict.fromkeys(step.inputs))
        return _Plan(order, [self.input_data[name] for name in names])

    def _convert_inputs(self, plan: _Plan, inputs: Mapping, decision: str) -> dict:
        missing = [data.name for data in plan.inputs if data.name not in inputs]
        if missing:
            names = ", ".join(repr(name) for name in missing)
            raise DmnError(
                f"missing input {names}; pass a value for each input that the"
                " decision requires, or None if it is unknown",
                file=self.file,
                decision=decision,
            )
        converted = {}
        for data in plan.inputs:
            converted[data.name] = self._convert(data, inputs[data.name], decision)
        return converted

    def _convert(self, data: InputData, value, decision: str):
        try:
            return itemtypes.convert(value, data.type)
        except itemtypes.InputTypeError as error:
            raise DmnError(
                str(error),
                file=self.file,
                decision=decision,
                cell=f"input {data.name!r}",
            ) from None


def _visit(decisions: dict[str, Decision], name: str, order: list, seen: set) -> None:
    """Append ``name`` after the decisions it requires (depth first)."""
    if name in seen:
        return
    seen.add(name)
    for required in decisions[name].decisions:
        _visit(decisions, required, order, seen)
    order.append(decisions[name])
