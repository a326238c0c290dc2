"""The decision tables behind an outcome, as a page shows them.

A compiled table keeps tests, not the text a rule author wrote, so the view
reads the DMN XML itself: each input and output column, each rule with its
entries as written and its annotation. The evaluation trace marks which
rules matched.
"""

from __future__ import annotations

import dataclasses
import logging
from xml.etree.ElementTree import Element

from stappen.rules import dmnxml
from stappen.rules.dmnxml import child, children, text_of

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RuleRow:
    """One rule of a table: its id, entries as written and annotation."""

    id: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    annotation: str
    matched: bool


@dataclasses.dataclass(frozen=True)
class TableView:
    """One decision table: its columns, rules and the rules that matched."""

    decision: str
    hit_policy: str
    input_columns: tuple[str, ...]
    output_columns: tuple[str, ...]
    rules: tuple[RuleRow, ...]
    inputs: dict
    """The values of the input columns in this evaluation, by label."""
    output: object
    matched_rules: tuple[str, ...]


def tables_for(content: bytes, name: str, trace: dict) -> list[TableView]:
    """Return the decision tables that the trace evaluated, in trace order.

    ``content`` is the DMN file and ``trace`` a Trace.to_dict(). A decision
    with a literal expression has no table and is left out. Raises DmnError
    when the XML is not well-formed.
    """
    document = dmnxml.read_xml(content, name)
    decisions = {
        element.get("name"): element for element in children(document.root, "decision")
    }
    views = []
    for step in trace.get("decisions", []):
        element = decisions.get(step.get("decision"))
        table = None if element is None else child(element, "decisionTable")
        if table is not None:
            views.append(_table_view(step, table))
    return views


def _table_view(step: dict, table: Element) -> TableView:
    matched = tuple(step.get("matched_rules") or ())
    input_columns = tuple(_input_label(clause) for clause in children(table, "input"))
    output_columns = tuple(
        clause.get("label") or clause.get("name") or "output"
        for clause in children(table, "output")
    )
    rules = tuple(
        _rule_row(element, position, matched)
        for position, element in enumerate(children(table, "rule"), start=1)
    )
    policy = (table.get("hitPolicy") or "UNIQUE").strip().upper().replace("_", " ")
    aggregation = table.get("aggregation")
    return TableView(
        decision=step["decision"],
        hit_policy=f"{policy} {aggregation}" if aggregation else policy,
        input_columns=input_columns,
        output_columns=output_columns,
        rules=rules,
        inputs=dict(step.get("inputs") or {}),
        output=step.get("output"),
        matched_rules=matched,
    )


def _input_label(clause: Element) -> str:
    expression = text_of(child(clause, "inputExpression")) or ""
    return clause.get("label") or expression.strip() or clause.get("id") or "?"


def _rule_row(element: Element, position: int, matched: tuple[str, ...]) -> RuleRow:
    rule_id = element.get("id") or f"rule {position}"
    texts = [text_of(entry) or "" for entry in children(element, "annotationEntry")]
    description = child(element, "description")
    if description is not None:
        texts.append(description.text or "")
    return RuleRow(
        id=rule_id,
        inputs=tuple(_entry(entry) for entry in children(element, "inputEntry")),
        outputs=tuple(_entry(entry) for entry in children(element, "outputEntry")),
        annotation=" ".join(text.strip() for text in texts if text.strip()),
        matched=rule_id in matched,
    )


def _entry(entry: Element) -> str:
    return (text_of(entry) or "").strip() or "-"
