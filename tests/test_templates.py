"""Template overrides per flow, and what authors' texts may put on a page."""

from __future__ import annotations

import shutil
from pathlib import Path

from stappen import cli
from tests.conftest import PROJECT


def _override(steps: Path, name: str, source: str) -> Path:
    path = steps / "demo" / "templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    return path


def _replace_in_flow(steps: Path, old: str, new: str) -> None:
    flow = steps / "demo" / "flow.yaml"
    text = flow.read_text(encoding="utf-8")
    assert old in text
    flow.write_text(text.replace(old, new), encoding="utf-8")


def test_override_used_for_its_flow(steps_copy, capsys):
    _override(
        steps_copy,
        "steps/outcome.html",
        '{% extends "steps/_step.html" %}{% block step %}<p>Eigen uitkomst</p>'
        "{% endblock %}",
    )
    status = cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    page = Path("site/nl/demo/geen-recht/index.html").read_text(encoding="utf-8")
    assert status == 0
    assert "<p>Eigen uitkomst</p>" in page


def test_override_syntax_error_reported(steps_copy, capsys):
    _override(steps_copy, "steps/outcome.html", "<p>\n{% if %}\n")
    status = cli.main(["validate", str(steps_copy)])
    errors = capsys.readouterr().err.splitlines()
    assert status == 1
    assert errors[0].startswith(
        "steps/demo/templates/steps/outcome.html:2: template syntax error: "
    )


def test_override_undefined_value_reported(steps_copy, capsys):
    _override(steps_copy, "steps/outcome.html", "{{ onbekend.veld }}")
    status = cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    error = capsys.readouterr().err
    assert status == 1
    assert (
        "rendering page 'nl/demo/misschien-recht/' failed: 'onbekend' is undefined"
        in error
    )
    assert "Traceback" not in error


def test_override_of_nothing_warned(steps_copy, capsys):
    _override(steps_copy, "steps/uitkomst.html", "<p></p>")
    status = cli.main(["validate", str(steps_copy), "--strict"])
    assert status == 1
    assert (
        "steps/demo/templates/steps/uitkomst.html: warning: template "
        "'steps/uitkomst.html' overrides nothing"
    ) in capsys.readouterr().err


def test_override_cannot_include_outside(steps_copy, capsys):
    _override(
        steps_copy, "steps/outcome.html", '{% include "../../../../etc/passwd" %}'
    )
    status = cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    error = capsys.readouterr().err
    assert status == 1
    assert "../../../../etc/passwd" in error
    assert "root:" not in error


def test_html_in_body_shown_as_text(steps_copy, capsys):
    _replace_in_flow(
        steps_copy,
        "Vraag de toeslag aan bij de gemeente.",
        "Vraag <script>alert(1)</script> aan.",
    )
    cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    page = Path("site/nl/demo/misschien-recht/index.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page
    assert "Vraag &lt;script&gt;alert(1)&lt;/script&gt; aan." in page


def test_script_link_dropped_and_warned(steps_copy, capsys):
    _replace_in_flow(
        steps_copy,
        "Vraag de toeslag aan bij de gemeente.",
        "Vraag [hier](javascript:alert(1)) aan.",
    )
    status = cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    page = Path("site/nl/demo/misschien-recht/index.html").read_text(encoding="utf-8")
    assert status == 0
    assert "javascript:" not in page
    assert "link target 'javascript:alert(1)' is not allowed" in capsys.readouterr().err


def test_closing_script_in_title_stays_in_json(steps_copy, capsys):
    _replace_in_flow(
        steps_copy,
        "value: elders\n          label: {nl: Ergens anders, en: Somewhere else}",
        'value: elders\n          label: {nl: "</script><b>x", en: Somewhere else}',
    )
    cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    page = Path("site/nl/demo/controleren/index.html").read_text(encoding="utf-8")
    assert "</script><b>x" not in page
    assert "\\u003c/script\\u003e\\u003cb\\u003ex" in page


def test_override_runs_sandboxed(steps_copy, capsys):
    _override(
        steps_copy,
        "steps/outcome.html",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    )
    status = cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    error = capsys.readouterr().err
    assert status == 1
    assert "unsafe" in error
    assert "uid=" not in error


def test_override_symlink_outside_rejected(steps_copy, tmp_path, capsys):
    secret = tmp_path / "secret.html"
    secret.write_text("geheim", encoding="utf-8")
    link = steps_copy / "demo" / "templates" / "steps" / "outcome.html"
    link.parent.mkdir(parents=True)
    link.symlink_to(secret)
    status = cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    assert status == 1
    assert "is a symbolic link to a file outside" in capsys.readouterr().err
    assert not Path("site/nl/demo/geen-recht/index.html").exists()


def test_script_link_with_references_dropped(steps_copy, capsys):
    _replace_in_flow(
        steps_copy,
        "Vraag de toeslag aan bij de gemeente.",
        '"[Lees](&#106;avascript:x) [meer](jav&#x09;ascript:y)"',
    )
    status = cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    page = Path("site/nl/demo/misschien-recht/index.html").read_text(encoding="utf-8")
    assert status == 0
    assert "avascript" not in page
    assert "link target '&#106;avascript:x' is not allowed" in capsys.readouterr().err


def test_comment_opener_in_text_keeps_scripts(steps_copy, capsys):
    _replace_in_flow(
        steps_copy,
        "label: {nl: Ergens anders, en: Somewhere else}",
        'label: {nl: "Ergens <!--<script>", en: Somewhere else}',
    )
    cli.main(["build", "--steps", str(steps_copy), "--out", "site"])
    page = Path("site/nl/demo/controleren/index.html").read_text(encoding="utf-8")
    assert "<!--<script>" not in page
    assert page.count("</script>") == page.count("<script")


def _wallet_help(site: Path) -> str:
    page = (site / "nl" / "vil" / "gegevens-delen" / "index.html").read_text()
    start = page.index('<details class="stappen-wallet__help">')
    return page[start : page.index("</details>", start)]


def test_wallet_help_names_phone_or_contact(tmp_path):
    steps = tmp_path / "steps"
    shutil.copytree(PROJECT / "steps" / "vil", steps / "vil")
    api = ["--api-url", "http://127.0.0.1:5000"]
    cli.main(["build", "--steps", str(steps), "--out", str(tmp_path / "a"), *api])
    flow = steps / "vil" / "flow.yaml"
    flow.write_text(flow.read_text().replace('  phone: "14 030"\n', ""))
    cli.main(["build", "--steps", str(steps), "--out", str(tmp_path / "b"), *api])

    with_phone, without_phone = (
        _wallet_help(tmp_path / "a"),
        _wallet_help(tmp_path / "b"),
    )

    assert "bel dan Gemeente Utrecht op 14 030." in with_phone
    assert "neem dan contact op met Gemeente Utrecht." in without_phone
    assert "14 030" not in without_phone
