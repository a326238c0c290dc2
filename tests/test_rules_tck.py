"""The DMN TCK compliance level 2 cases, one pytest case per test case."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.dmn_tck import read_cases, run_case

TCK = Path(__file__).parents[1].parent / "shared" / "dmn" / "tck" / "compliance-level-2"

# Test cases this evaluator is known to fail, with the reason (see docs/rules.md).
KNOWN_FAILURES: dict[str, str] = {}


def _cases():
    if not TCK.is_dir():
        return []
    return [case for folder in sorted(TCK.iterdir()) for case in read_cases(folder)]


CASES = _cases()


def _params():
    for case in CASES:
        marks = []
        if case.id in KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[case.id]))
        yield pytest.param(case, id=case.id, marks=marks)


def test_tck_folder_present():
    if TCK.is_dir():
        return
    reason = (
        f"the DMN TCK is not at {TCK}; check out the shared test data next to"
        " the repository"
    )
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def test_tck_case_count():
    if not CASES:
        pytest.skip("the DMN TCK is not present")
    assert len(CASES) == 116


@pytest.mark.parametrize("case", list(_params()))
def test_tck(case):
    failures = run_case(case)
    assert failures == []
