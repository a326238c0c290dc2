"""Golden output: the fixture flows build into the committed pages.

``tests/golden/`` holds the expected HTML pages and graphs of
``tests/fixtures/steps``. After an intended change, regenerate with
``make golden`` and review the diff like any other change.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import REGENERATE, TESTS

GOLDEN = TESTS / "golden"
COMPARED = ("*.html", "*.svg")


def _files(root: Path) -> dict[str, bytes]:
    found = {}
    for pattern in COMPARED:
        for path in root.rglob(pattern):
            found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def _regenerate(site: Path) -> None:
    shutil.rmtree(GOLDEN, ignore_errors=True)
    for name, content in _files(site).items():
        target = GOLDEN / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def test_golden_same_file_list(built_fixture_site):
    if REGENERATE:
        _regenerate(built_fixture_site)
    assert sorted(_files(built_fixture_site)) == sorted(_files(GOLDEN))


def test_golden_same_bytes(built_fixture_site):
    actual = _files(built_fixture_site)
    expected = _files(GOLDEN)
    different = [
        name for name in sorted(expected) if actual.get(name) != expected[name]
    ]
    assert different == [], "pages differ from tests/golden; run `make golden`"
