"""A corpus of broken flows, each with the exact report it must produce.

Each ``tests/broken/NAME.yaml`` is validated as ``steps/NAME/flow.yaml``;
``tests/broken/NAME.expected`` holds the expected standard error and exit
status of ``build.py validate --strict``. ``STAPPEN_REGENERATE=1`` rewrites
the expected files; review the diff before committing it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stappen import cli
from tests.conftest import PROJECT, REGENERATE, TESTS

BROKEN = TESTS / "broken"
CASES = sorted(BROKEN.glob("*.yaml"))
TABLES = sorted((BROKEN / "dmn").glob("*.dmn"))


def _validate(case: Path, tmp_path: Path, monkeypatch, capsys) -> str:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "steps" / case.stem
    folder.mkdir(parents=True)
    shutil.copyfile(case, folder / "flow.yaml")
    # The DMN files that the check steps of the corpus name.
    for table in TABLES:
        shutil.copyfile(table, folder / table.name)
    status = cli.main(["validate", "steps", "--strict"])
    return f"exit status {status}\n{capsys.readouterr().err}"


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_broken_flow_report(case, tmp_path, monkeypatch, capsys):
    report = _validate(case, tmp_path, monkeypatch, capsys)
    expected_file = case.with_suffix(".expected")
    if REGENERATE:
        expected_file.write_text(report, encoding="utf-8")
    assert report == expected_file.read_text(encoding="utf-8")


def test_corpus_cases_all_fail():
    for expected in sorted(BROKEN.glob("*.expected")):
        first_line = expected.read_text(encoding="utf-8").splitlines()[0]
        assert first_line == "exit status 1", expected.name


def test_corpus_has_no_orphans():
    stems = {path.stem for path in BROKEN.iterdir() if path.is_file()}
    for stem in stems:
        assert (BROKEN / f"{stem}.yaml").is_file(), f"{stem}.expected has no input"


@pytest.mark.parametrize("name", ["syntax-error", "not-utf8", "alias-bomb"])
def test_validate_subprocess_no_traceback(name, tmp_path):
    folder = tmp_path / "steps" / name
    folder.mkdir(parents=True)
    shutil.copyfile(BROKEN / f"{name}.yaml", folder / "flow.yaml")
    result = subprocess.run(
        [sys.executable, str(PROJECT / "build.py"), "validate", "steps"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"steps/{name}/flow.yaml" in result.stderr
