"""The DMN TCK compliance level 2 cases, one pytest case per test case."""

from __future__ import annotations

import pytest

from tests.conftest import SHARED_DATA, require_shared_data
from tests.dmn_tck import read_cases, run_case

TCK = SHARED_DATA / "dmn" / "tck" / "compliance-level-2"

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
    require_shared_data(TCK)


def test_tck_case_count():
    if not CASES:
        pytest.skip("the DMN TCK is not present")
    assert len(CASES) == 116


@pytest.mark.parametrize("case", list(_params()))
def test_tck(case):
    failures = run_case(case)
    assert failures == []
