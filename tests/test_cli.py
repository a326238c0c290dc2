"""The build.py command line: output, exit status and refusals."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from stappen import cli
from tests.conftest import PROJECT

SHARED_CHECK = PROJECT.parent / "shared" / "checks" / "flow-build.sh"


def test_validate_reports_counts(steps_copy, capsys):
    status = cli.main(["validate", str(steps_copy)])
    assert status == 0
    assert capsys.readouterr().out == "1 flow, 8 steps: valid, 0 warnings.\n"


def test_validate_missing_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status = cli.main(["validate", "nergens"])
    assert status == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        "nergens: folder not found; pass the folder of flows"
    )


def test_build_prints_summary(steps_copy, capsys):
    status = cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    output = capsys.readouterr()
    assert status == 0
    assert re.fullmatch(
        r"Built 1 flow: 22 pages, \d+ files, 0 warnings, in \d+\.\d\d s\n", output.out
    )
    assert "Rendering 22 pages into site" in output.err


def test_build_refuses_out_over_steps(steps_copy, capsys):
    status = cli.main(["build", "--steps", str(steps_copy), "--out", "steps/demo"])
    assert status == 1
    assert "overlaps the flows" in capsys.readouterr().err
    assert (steps_copy / "demo" / "flow.yaml").is_file()


def test_build_removes_stale_files(steps_copy, capsys):
    cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    stale = Path("site/nl/demo/oud/index.html")
    stale.parent.mkdir(parents=True)
    stale.write_text("old", encoding="utf-8")
    cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    assert not stale.exists()


def test_build_refuses_folder_of_other_files(steps_copy, capsys):
    notes = Path("docs/notes.md")
    notes.parent.mkdir()
    notes.write_text("mine", encoding="utf-8")
    status = cli.main(["build", "--steps", str(steps_copy), "--out", "docs"])
    assert status == 1
    assert "contains files that no Stappen build wrote (such as 'notes.md')" in (
        capsys.readouterr().err
    )
    assert notes.read_text(encoding="utf-8") == "mine"


def test_build_refuses_parent_folder(steps_copy, capsys):
    status = cli.main(["build", "--steps", str(steps_copy), "--out", ".."])
    assert status == 1
    assert "contains the working folder" in capsys.readouterr().err


def test_build_keeps_unchanged_files(steps_copy, capsys):
    cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    page = Path("site/nl/demo/welkom/index.html")
    before = page.stat().st_mtime_ns
    cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    assert page.stat().st_mtime_ns == before


def test_strict_fails_on_warning(steps_copy, capsys):
    flow = steps_copy / "demo" / "flow.yaml"
    text = flow.read_text(encoding="utf-8")
    flow.write_text(
        text.replace("title: {nl: Welkom, en: Welcome}", "title: {nl: Welkom}")
    )
    assert cli.main(["validate", str(steps_copy)]) == 0
    assert cli.main(["validate", str(steps_copy), "--strict"]) == 1
    assert "(--strict counts warnings as errors)" in capsys.readouterr().err


def test_graph_writes_svg(steps_copy, capsys):
    status = cli.main(
        ["graph", "demo", "--steps", str(steps_copy), "--out", "demo.svg"]
    )
    assert status == 0
    assert "<svg " in Path("demo.svg").read_text(encoding="utf-8")


def test_graph_unknown_flow(steps_copy, capsys):
    status = cli.main(["graph", "onbekend", "--steps", str(steps_copy)])
    assert status == 1
    assert "flow 'onbekend' not found" in capsys.readouterr().err


def test_test_command_counts(steps_copy, capsys):
    status = cli.main(["test", str(steps_copy)])
    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert lines[-1] == "4 passed, 0 failed"


def test_shipped_flows_strictly_valid(capsys):
    status = cli.main(["validate", str(PROJECT / "steps"), "--strict"])
    assert status == 0, capsys.readouterr().err


def test_acceptance_script_passes(tmp_path):
    if not SHARED_CHECK.is_file():
        import pytest

        pytest.skip(
            f"{SHARED_CHECK} not found: the acceptance checks that CI places "
            "beside the repository are missing"
        )
    result = subprocess.run(
        ["bash", str(SHARED_CHECK)],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "HOME": str(tmp_path)},
    )
    assert "FAIL" not in result.stdout, result.stdout
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_long_flow(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    lines = [
        "stappen: 1",
        "title: {nl: L, en: L}",
        "organisation:",
        "  name: {nl: G, en: G}",
        "steps:",
    ]
    count = 3000
    for index in range(count):
        following = f"s{index + 1}" if index + 1 < count else "einde"
        lines += [
            f"  - id: s{index}",
            "    kind: content",
            "    title: {nl: T, en: T}",
            f"    next: {following}",
        ]
    lines += ["  - id: einde", "    kind: outcome", "    title: {nl: E, en: E}"]
    folder = Path("steps/lang")
    folder.mkdir(parents=True)
    (folder / "flow.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    status = cli.main(["validate", "steps"])
    assert status == 0
    assert capsys.readouterr().out == "1 flow, 3001 steps: valid, 0 warnings.\n"


def test_build_rejects_relative_base_url(steps_copy, capsys):
    try:
        cli.main(["build", "--steps", str(steps_copy), "--base-url", "repo"])
    except SystemExit as exit:
        status = exit.code
    assert status == 2
    assert "expected a path such as /repo/" in capsys.readouterr().err


def test_build_refuses_link_in_output(steps_copy, tmp_path, capsys):
    cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    victim = tmp_path / "victim.txt"
    victim.write_text("mine", encoding="utf-8")
    Path("site/index.html").unlink()
    Path("site/index.html").symlink_to(victim)
    status = cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    assert status == 1
    assert "contains a symbolic link, 'index.html'" in capsys.readouterr().err
    assert victim.read_text(encoding="utf-8") == "mine"


def test_new_flow_validates(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["new", "meedoen"]) == 0
    assert cli.main(["validate", "steps", "--strict"]) == 0
    first_line = (
        Path("steps/meedoen/flow.yaml").read_text(encoding="utf-8").split("\n")[0]
    )
    assert first_line.endswith("$schema=../../stappen/schema/flow.schema.json")


def test_new_flow_refuses_existing(steps_copy, capsys):
    status = cli.main(["new", "demo", "--steps", str(steps_copy)])
    assert status == 1
    assert "already exists; choose another name" in capsys.readouterr().err


def test_new_flow_rejects_bad_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    status = cli.main(["new", "Mee Doen"])
    assert status == 1
    assert "such as 'mee-doen'" in capsys.readouterr().err


def test_new_flow_prints_next_commands(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["new", "meedoen", "--steps", "mijn flows"]) == 0
    assert capsys.readouterr().out == (
        "Wrote mijn flows/meedoen/flow.yaml and mijn flows/meedoen/tests.yaml."
        " Edit them while the preview runs, then check them:\n"
        "  python build.py serve --steps 'mijn flows'   (preview, rebuilt on each"
        " save)\n"
        "  python build.py validate 'mijn flows'\n"
        "  python build.py test 'mijn flows'\n"
    )
