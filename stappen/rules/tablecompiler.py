"""Compile a ``<decisionTable>`` element into a DecisionTable."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from stappen.rules.dmnxml import child, children, text_of
from stappen.rules.errors import FeelSyntaxError
from stappen.rules.feel import BUILTIN_NAMES, NULL_SPELLINGS, Scope
from stappen.rules.feelparser import parse_expression, parse_unary_tests
from stappen.rules.feelsyntax import Name, UnaryTests
from stappen.rules.tables import (
    AGGREGATIONS,
    HIT_POLICIES,
    DecisionTable,
    InputClause,
    OutputClause,
    Rule,
)
from stappen.rules.unary import compile_input_entry, compile_unary_tests, is_any

_POLICY_ALIASES = {"RULE_ORDER": "RULE ORDER", "OUTPUT_ORDER": "OUTPUT ORDER"}


def hint_for(tests: bool) -> str:
    if tests:
        return (
            "; write a test such as '<= 1533', '[1..10]', '\"Utrecht\"',"
            " 'not(\"a\", \"b\")' or '-'"
        )
    return "; write a FEEL expression such as 'inkomen * 12' or '\"tekst\"'"


def free_names(text: str, names: frozenset[str]) -> list[str]:
    """Return the names an expression refers to, built-in functions excepted.

    ``names`` are the names to read as one token each. Text that cannot be
    read gives no names, because compiling it reports the error.
    """
    try:
        node = parse_expression(text, names | BUILTIN_NAMES)
    except FeelSyntaxError:
        return []
    found: dict[str, None] = {}
    _collect_names(node, found)
    ignored = BUILTIN_NAMES | NULL_SPELLINGS
    return [name for name in found if name not in ignored]


def _collect_names(node, found: dict) -> None:
    if isinstance(node, Name):
        found[node.name] = None
        return
    if isinstance(node, tuple):
        for item in node:
            _collect_names(item, found)
        return
    for field in getattr(node, "__dataclass_fields__", ()):
        _collect_names(getattr(node, field), found)


class TableCompiler:
    """Compile tables and cells for one decision, reporting to the loader."""

    def __init__(self, loader, decision: str | None) -> None:
        self.loader = loader
        self.decision = decision
        self.compiler = loader.compiler

    def table(self, element: Element, scope: Scope) -> DecisionTable:
        policy, aggregation = self.hit_policy(element)
        inputs = [
            self.input_clause(clause, scope) for clause in children(element, "input")
        ]
        outputs = [
            self.output_clause(clause, scope) for clause in children(element, "output")
        ]
        self.check_outputs(element, outputs, aggregation)
        rules = [
            self.rule(rule, position, inputs, outputs, scope)
            for position, rule in enumerate(children(element, "rule"), start=1)
        ]
        return DecisionTable(policy, aggregation, inputs, outputs, rules)

    def problem(self, message: str, element: Element, **where) -> None:
        self.loader.problem(message, element, decision=self.decision, **where)

    def hit_policy(self, element: Element) -> tuple[str, str | None]:
        written = (element.get("hitPolicy") or "UNIQUE").strip().upper()
        policy = _POLICY_ALIASES.get(written, written)
        if policy not in HIT_POLICIES:
            self.problem(
                f"unknown hit policy {written!r}; use one of {', '.join(HIT_POLICIES)}",
                element,
            )
            policy = "UNIQUE"
        aggregation = element.get("aggregation")
        if aggregation is None:
            return policy, None
        aggregation = aggregation.strip().upper()
        if aggregation not in AGGREGATIONS or policy != "COLLECT":
            self.problem(
                f"aggregation {aggregation!r} needs hit policy COLLECT and one of"
                f" {', '.join(AGGREGATIONS)}; correct the hit policy",
                element,
            )
            return policy, None
        return policy, aggregation

    def check_outputs(self, element, outputs: list[OutputClause], aggregation) -> None:
        if not outputs:
            self.problem("the table has no <output>; add one", element)
        if len(outputs) > 1 and any(not clause.name for clause in outputs):
            self.problem(
                "a table with several outputs needs a name on each <output>;"
                " add the name attributes",
                element,
            )
        if len(outputs) > 1 and aggregation is not None:
            self.problem(
                f"aggregation {aggregation} needs a table with one output;"
                " remove the aggregation or the extra outputs",
                element,
            )

    def input_clause(self, clause: Element, scope: Scope) -> InputClause:
        expression = child(clause, "inputExpression")
        text = text_of(expression) or ""
        label = clause.get("label") or text.strip() or clause.get("id") or "?"
        where = child(expression, "text") if expression is not None else clause
        compiled = self.expression(
            text, scope, where or clause, cell=f"input expression {label!r}"
        )
        values = child(clause, "inputValues")
        values_text = (text_of(values) or "").strip()
        tests = None
        if values_text:
            tests = self.unary_tests(
                values_text, scope, values, cell=f"input values of {label!r}"
            )
        return InputClause(label, compiled, tests, values_text)

    def output_clause(self, clause: Element, scope: Scope) -> OutputClause:
        name = clause.get("name")
        output = OutputClause(name)
        cell = f"output values of {name!r}" if name else "output values"
        values = child(clause, "outputValues")
        text = (text_of(values) or "").strip()
        if text:
            output.values_text = text
            output.priorities = self.priorities(text, scope, values, cell)
        default = child(clause, "defaultOutputEntry")
        if default is not None:
            output.default_text = text_of(default) or "null"
            output.default = self.expression(
                output.default_text, scope, default, cell="default output"
            )
        return output

    def priorities(self, text: str, scope: Scope, element: Element, cell: str):
        try:
            node = parse_unary_tests(text, scope.names)
            return [
                compile_unary_tests(self.compiler, UnaryTests((test,)), scope)
                for test in node.tests
            ]
        except FeelSyntaxError as error:
            self.loader.feel_problem(
                error,
                text,
                element,
                scope,
                tests=True,
                decision=self.decision,
                cell=cell,
            )
            return None

    def rule(self, element, position, inputs, outputs, scope: Scope) -> Rule:
        rule_id = element.get("id")
        if not rule_id:
            self.problem(
                f"rule {position} has no id; give every rule an id attribute",
                element,
            )
            rule_id = f"rule {position}"
        entries = children(element, "inputEntry")
        results = children(element, "outputEntry")
        self.check_counts(element, rule_id, entries, results, inputs, outputs)
        checks = []
        for index, (entry, clause) in enumerate(zip(entries, inputs, strict=False)):
            test = self.input_entry(entry, clause, rule_id, scope)
            if not is_any(test):
                checks.append((index, test))
        compiled = [
            self.output_entry(entry, clause, rule_id, scope)
            for entry, clause in zip(results, outputs, strict=False)
        ]
        texts = tuple((text_of(entry) or "").strip() for entry in results)
        return Rule(
            rule_id, tuple(checks), tuple(compiled), _annotations(element), texts
        )

    def check_counts(self, element, rule_id, entries, results, inputs, outputs):
        for kind, found, expected in (
            ("input", entries, inputs),
            ("output", results, outputs),
        ):
            if len(found) != len(expected):
                self.problem(
                    f"the rule has {len(found)} {kind} entries but the table has"
                    f" {len(expected)} {kind} columns; make them equal",
                    element,
                    rule=rule_id,
                )

    def input_entry(self, entry: Element, clause: InputClause, rule_id, scope):
        text = text_of(entry) or ""
        where = child(entry, "text") or entry
        return self.unary_tests(
            text, scope, where, cell=f"input {clause.label!r}", rule=rule_id
        )

    def output_entry(self, entry: Element, clause: OutputClause, rule_id, scope):
        text = text_of(entry) or ""
        where = child(entry, "text") or entry
        cell = f"output {clause.name!r}" if clause.name else "output"
        if not text.strip():
            self.problem(
                "the output entry is empty; write a value, or null for none",
                where,
                rule=rule_id,
                cell=cell,
            )
            return lambda env: None
        return self.expression(text, scope, where, cell=cell, rule=rule_id)

    def expression(self, text: str, scope: Scope, element: Element, **where):
        return self.loader.compile_expression(
            text, scope, element, decision=self.decision, **where
        )

    def unary_tests(self, text: str, scope: Scope, element: Element, **where):
        try:
            return compile_input_entry(self.compiler, text, scope)
        except FeelSyntaxError as error:
            self.loader.feel_problem(
                error, text, element, scope, tests=True, decision=self.decision, **where
            )
            return lambda value, env: None


def _annotations(rule: Element) -> tuple[str, ...]:
    """Return the texts of a rule's annotation entries and description."""
    texts = [text_of(entry) or "" for entry in children(rule, "annotationEntry")]
    description = child(rule, "description")
    if description is not None:
        texts.append(description.text or "")
    return tuple(text.strip() for text in texts if text.strip())
