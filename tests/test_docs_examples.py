"""The worked example in docs/first-check-step.md validates, and its tests pass.

The page marks each file with ``<!-- file: PATH -->`` before its code block.
The mistakes in its table must give the reports that the page shows.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stappen import cli
from stappen.building import build
from tests.conftest import PROJECT

PAGE = PROJECT / "docs" / "first-check-step.md"
FILE_BLOCK = re.compile(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", re.DOTALL)

MISTAKES = [
    (
        "flow.yaml",
        "goto: eigen-woning",
        "goto: eigen-wonig",
        "next step 'eigen-wonig' does not exist; did you mean 'eigen-woning'?",
    ),
    (
        "flow.yaml",
        "nettoInkomen: {answer: inkomen}",
        "nettoInkomn: {answer: inkomen}",
        "decision has no input 'nettoInkomn'; did you mean 'nettoInkomen'?",
    ),
    (
        "flow.yaml",
        "eigenWoning: {answer: eigen-woning}",
        "eigenWoning: {answer: inkomen}",
        "question 'inkomen' is an amount question, which gives a number, but "
        "input 'eigenWoning' needs a boolean",
    ),
    (
        "flow.yaml",
        "one_of: [ja]",
        "one_of: [yes]",
        "decision 'Kwijtschelding' never gives true; its table gives 'ja', 'nee'. "
        "YAML reads an unquoted yes, no, true or false as a boolean, so quote a text",
    ),
    (
        "kwijtschelding.dmn",
        "&lt;= 1400",
        "&lt;= 1.400,00",
        "write the number without a thousands separator and with a dot for "
        "decimals (1400.00)",
    ),
]


def _write_example(root: Path) -> Path:
    blocks = FILE_BLOCK.findall(PAGE.read_text(encoding="utf-8"))
    assert [path for path, _ in blocks] == [
        "steps/kwijtschelding/kwijtschelding.dmn",
        "steps/kwijtschelding/flow.yaml",
        "steps/kwijtschelding/tests.yaml",
    ]
    for path, text in blocks:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root / "steps"


def test_example_validates(tmp_path, capsys):
    steps = _write_example(tmp_path)
    status = cli.main(["validate", str(steps), "--strict"])
    assert capsys.readouterr().out == "1 flow, 7 steps: valid, 0 warnings.\n"
    assert status == 0


def test_example_flow_tests_pass(tmp_path, capsys):
    steps = _write_example(tmp_path)
    status = cli.main(["test", str(steps)])
    assert capsys.readouterr().out.splitlines()[-1] == "5 passed, 0 failed"
    assert status == 0


@pytest.mark.parametrize(
    ("file", "written", "mistake", "report"),
    MISTAKES,
    ids=[mistake for _, _, mistake, _ in MISTAKES],
)
def test_example_mistake_report(tmp_path, capsys, file, written, mistake, report):
    steps = _write_example(tmp_path)
    path = steps / "kwijtschelding" / file
    text = path.read_text(encoding="utf-8")
    assert text.count(written) == 1
    path.write_text(text.replace(written, mistake), encoding="utf-8")
    status = cli.main(["validate", str(steps)])
    assert report in capsys.readouterr().err
    assert status == 1


@pytest.mark.parametrize(
    ("flow", "promised"),
    [("kwijtschelding", False), ("vil", True)],
    ids=["trial-only", "wallet-check-later"],
)
def test_trial_promises_wallet_only_when_flow_has_one(tmp_path, flow, promised):
    steps = PROJECT / "steps" if flow == "vil" else _write_example(tmp_path)
    site = tmp_path / "site"
    build(steps, site, api_url="http://127.0.0.1:5000", workers=1)

    page = (site / "nl" / flow / "proefberekening" / "index.html").read_text()

    paragraph = '<p class="utrecht-paragraph">{}'
    assert paragraph.format("Dit is een schatting, geen besluit.") in page
    assert (paragraph.format("Wilt u de regeling aanvragen?") in page) is promised
