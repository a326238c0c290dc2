"""Run DMN TCK test files (the ``testCases.xsd`` format) against stappen.rules.

A test file lists test cases. Each gives typed input values (``xsi:type``,
``xsi:nil`` for null, ``component`` for a context, ``list``/``item`` for a
list) and, per result node, the expected value of a decision. Numbers agree
within 1e-8, lists agree item by item in order, and contexts key by key.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ElementTree
from decimal import Decimal
from pathlib import Path

from stappen.rules import feelvalues, load_dmn

TESTCASE = "{http://www.omg.org/spec/DMN/20160719/testcase}"
XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
TOLERANCE = Decimal("1e-8")


@dataclasses.dataclass
class ResultNode:
    name: str
    expected: object
    error_result: bool


@dataclasses.dataclass
class TckCase:
    """One test case of one TCK folder; ``id`` is ``folder/testcase id``."""

    id: str
    model: Path
    inputs: dict
    results: list[ResultNode]


def read_cases(folder: Path) -> list[TckCase]:
    """Read the test cases of a TCK folder's ``*-test-01.xml``."""
    cases = []
    for test_file in sorted(folder.glob("*-test-*.xml")):
        root = ElementTree.parse(test_file).getroot()
        model = folder / root.findtext(f"{TESTCASE}modelName")
        for case in root.iter(f"{TESTCASE}testCase"):
            inputs = {
                node.get("name"): read_value(node)
                for node in case.findall(f"{TESTCASE}inputNode")
            }
            results = [
                ResultNode(
                    node.get("name"),
                    read_value(node.find(f"{TESTCASE}expected")),
                    node.get("errorResult") == "true",
                )
                for node in case.findall(f"{TESTCASE}resultNode")
            ]
            cases.append(
                TckCase(f"{folder.name}/{case.get('id')}", model, inputs, results)
            )
    return cases


def read_value(node):
    """Convert a TCK value node (value, components or list) to a FEEL value."""
    if node is None or node.get(f"{XSI}nil") == "true":
        return None
    value = node.find(f"{TESTCASE}value")
    if value is not None:
        return _typed(value)
    components = node.findall(f"{TESTCASE}component")
    if components:
        return {part.get("name"): read_value(part) for part in components}
    items = node.find(f"{TESTCASE}list")
    if items is not None:
        if items.get(f"{XSI}nil") == "true":
            return None
        return [read_value(item) for item in items.findall(f"{TESTCASE}item")]
    return None


def _typed(value: ElementTree.Element):
    if value.get(f"{XSI}nil") == "true":
        return None
    kind = (value.get(f"{XSI}type") or "xsd:string").split(":")[-1]
    text = value.text or ""
    if kind in ("decimal", "double", "integer", "int", "long", "float"):
        return Decimal(text.strip())
    if kind == "boolean":
        return text.strip() == "true"
    if kind == "date":
        return feelvalues.parse_date(text.strip())
    if kind == "dateTime":
        return feelvalues.parse_date_time(text.strip())
    if kind == "time":
        return feelvalues.parse_time(text.strip())
    if kind in ("duration", "dayTimeDuration", "yearMonthDuration"):
        return feelvalues.parse_duration(text.strip())
    return text


def same(actual, expected) -> bool:
    """Compare a result with an expected value as the TCK prescribes."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if type(expected) is Decimal:
        return type(actual) is Decimal and abs(actual - expected) <= TOLERANCE
    if type(expected) is list:
        if type(actual) is not list or len(actual) != len(expected):
            return False
        return all(
            same(one, other) for one, other in zip(actual, expected, strict=True)
        )
    if type(expected) is dict:
        if type(actual) is not dict or actual.keys() != expected.keys():
            return False
        return all(same(actual[key], expected[key]) for key in expected)
    return type(actual) is type(expected) and actual == expected


def run_case(case: TckCase) -> list[str]:
    """Evaluate a case; return a line per result node that differs."""
    model = load_dmn(case.model)
    failures = []
    for result in case.results:
        evaluation = model.evaluate(result.name, case.inputs)
        if result.error_result:
            if evaluation.value is not None:
                failures.append(
                    f"{result.name}: expected an error, got {evaluation.value!r}"
                )
            continue
        if not same(evaluation.value, result.expected):
            failures.append(
                f"{result.name}: expected {result.expected!r}, got {evaluation.value!r}"
            )
    return failures
