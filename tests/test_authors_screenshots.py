"""Screenshots on the authors' overview: build.py build --screenshots DIR."""

from __future__ import annotations

import html.parser
import io
import os
from pathlib import Path

import pytest
from PIL import Image

from stappen import cli
from stappen.building import SiteBuilder
from tests.browser import new_page
from tests.inspection import AXE, axe_violations
from tests.sitecrawl import serve_site

AUTHORS_PAGE = Path("site/authors/demo/index.html")
SITE_SHOTS = Path("site/authors/demo/screenshots")


def _png(width: int, height: int, colour: str = "white") -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(output, format="PNG")
    return output.getvalue()


def _shots(files: dict[str, bytes]) -> Path:
    """Write ``files`` below shots/ in the working folder; return that folder."""
    folder = Path("shots")
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder


def _build(steps: Path, *options: str) -> int:
    return cli.main(["build", "--steps", str(steps), "--out", "site", *options])


class _Images(html.parser.HTMLParser):
    """The img elements of a page, each with the href of its enclosing link."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[dict] = []
        self.link: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a":
            self.link = attributes.get("href")
        if tag == "img":
            self.images.append({**attributes, "link": self.link})

    def handle_endtag(self, tag):
        if tag == "a":
            self.link = None


def _images(page: Path) -> list[dict]:
    parser = _Images()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.images


def test_build_copies_screenshots(steps_copy, capsys):
    phone = _png(390, 900)
    folder = _shots(
        {
            "demo/welkom-390.png": phone,
            "demo/welkom-1280.png": _png(1280, 800),
            "demo/inkomen--error-390.png": _png(390, 1000, "red"),
        }
    )

    status = _build(steps_copy, "--screenshots", str(folder))

    output = capsys.readouterr()
    assert status == 0, output.err
    assert "0 warnings" in output.out
    assert sorted(path.name for path in SITE_SHOTS.iterdir()) == [
        "inkomen--error-390.png",
        "welkom-1280.png",
        "welkom-390.png",
    ]
    assert (SITE_SHOTS / "welkom-390.png").read_bytes() == phone


def test_overview_shows_screenshots_in_flow_order(steps_copy, capsys):
    folder = _shots(
        {
            "demo/inkomen--error-390.png": _png(390, 1000),
            "demo/welkom-1280.png": _png(1280, 800),
            "demo/welkom-390.png": _png(390, 900),
        }
    )

    _build(steps_copy, "--screenshots", str(folder))

    images = _images(AUTHORS_PAGE)
    [graph, *shots] = images
    assert graph["src"] == "graph.svg"
    assert [image["src"] for image in shots] == [
        "screenshots/welkom-390.png",
        "screenshots/welkom-1280.png",
        "screenshots/inkomen--error-390.png",
    ]
    assert [image["alt"] for image in shots] == [
        "Step welkom, 390 pixels wide",
        "Step welkom, 1280 pixels wide",
        "Step inkomen, state error, 390 pixels wide",
    ]
    for image in shots:
        assert image["loading"] == "lazy"
        assert image["link"] == image["src"]
    assert (shots[0]["width"], shots[0]["height"]) == ("390", "900")


def test_overview_lists_steps_without_screenshots(steps_copy, capsys):
    folder = _shots({"demo/welkom-390.png": _png(390, 900)})

    _build(steps_copy, "--screenshots", str(folder))

    page = AUTHORS_PAGE.read_text(encoding="utf-8")
    assert "Steps without screenshots: <code>woonplaats</code>, " in page
    assert "<code>welkom</code>," not in page


def test_overview_without_option_unchanged(steps_copy, capsys):
    _build(steps_copy)
    before = AUTHORS_PAGE.read_bytes()
    folder = _shots({"demo/welkom-390.png": _png(390, 900)})

    _build(steps_copy, "--screenshots", str(folder))
    with_shots = AUTHORS_PAGE.read_bytes()
    _build(steps_copy)

    assert with_shots != before
    assert AUTHORS_PAGE.read_bytes() == before
    assert not SITE_SHOTS.exists()


def test_missing_folder_named(steps_copy, capsys):
    status = _build(steps_copy, "--screenshots", "geen-map")

    assert status == 1
    assert capsys.readouterr().err.splitlines() == [
        "Error: screenshots folder 'geen-map' not found; make it with 'make "
        "screenshots', or pass the folder that holds <flow>/<step>-<width>.png"
    ]


def test_unknown_step_warned_and_left_out(steps_copy, capsys):
    folder = _shots(
        {"demo/welkom-390.png": _png(390, 900), "demo/oud-390.png": _png(390, 900)}
    )

    status = _build(steps_copy, "--screenshots", str(folder))

    output = capsys.readouterr()
    assert status == 0
    assert (
        "shots/demo/oud-390.png: warning: step 'oud': no step 'oud' in flow "
        "'demo'; rename the file after one of the flow's steps or remove it"
    ) in output.err.splitlines()
    assert "1 warning," in output.out
    assert not (SITE_SHOTS / "oud-390.png").exists()
    assert (SITE_SHOTS / "welkom-390.png").is_file()


def test_unknown_step_fails_strict_build(steps_copy, capsys):
    folder = _shots({"demo/oud-390.png": _png(390, 900)})

    status = _build(steps_copy, "--screenshots", str(folder), "--strict")

    error = capsys.readouterr().err
    assert status == 1
    assert "shots/demo/oud-390.png: warning: step 'oud': no step 'oud'" in error
    assert not Path("site").exists()


def test_bad_names_and_files_warned(steps_copy, capsys):
    folder = _shots(
        {
            "demo/welkom.png": _png(390, 900),
            "demo/welkom-390.png": b"not an image",
            "andere/welkom-390.png": _png(390, 900),
            "demo/notes.txt": b"ignored",
        }
    )

    status = _build(steps_copy, "--screenshots", str(folder))

    lines = capsys.readouterr().err.splitlines()
    assert status == 0
    assert (
        "shots/andere: warning: no flow 'andere' to show these screenshots for; "
        "name the folder after a flow (demo) or remove it"
    ) in lines
    assert (
        "shots/demo/welkom.png: warning: expected a file name such as "
        "'heeft-wallet-390.png' or 'heeft-wallet--qr-390.png': the step id, "
        "optionally '--' and a state, then '-' and the width in pixels"
    ) in lines
    assert "shots/demo/welkom-390.png: warning: not a PNG image; save it as PNG" in (
        lines
    )
    assert not SITE_SHOTS.exists()


def test_second_build_writes_nothing(steps_copy, capsys):
    folder = _shots({"demo/welkom-390.png": _png(390, 900)})
    _build(steps_copy, "--screenshots", str(folder))
    written = [AUTHORS_PAGE, SITE_SHOTS / "welkom-390.png"]
    for path in written:
        os.utime(path, ns=(0, 0))

    _build(steps_copy, "--screenshots", str(folder))

    assert [path.stat().st_mtime_ns for path in written] == [0, 0]


def test_rebuild_picks_up_new_screenshot(steps_copy, capsys):
    folder = _shots({"demo/welkom-390.png": _png(390, 900)})
    builder = SiteBuilder(steps_copy, Path("site"), screenshots=folder)
    builder.build_all(workers=1)
    added = folder / "demo" / "inkomen-390.png"
    added.write_bytes(_png(390, 700))

    paths = builder.rebuild([added])

    assert "authors/demo/screenshots/inkomen-390.png" in paths
    assert (SITE_SHOTS / "inkomen-390.png").read_bytes() == added.read_bytes()
    assert 'src="screenshots/inkomen-390.png"' in AUTHORS_PAGE.read_text()


@pytest.mark.browser
def test_overview_in_browser_accessible(steps_copy, chromium, capsys):
    if not AXE.is_file():
        pytest.fail(f"{AXE} not found; run 'npm ci'")
    folder = _shots(
        {"demo/welkom-390.png": _png(390, 900), "demo/welkom-1280.png": _png(1280, 800)}
    )
    _build(steps_copy, "--screenshots", str(folder), "--base-url", "/demo/")

    desktop = {"width": 1280, "height": 800}
    with (
        serve_site(Path("site"), "/demo/") as base,
        new_page(chromium, viewport=desktop) as page,
    ):
        page.goto(base + "/demo/authors/demo/")
        graph = page.locator(".stappen-authors-shots__graph").bounding_box()
        shots = page.locator(".stappen-authors-shots__list").bounding_box()
        violations = axe_violations(page)
        page.set_viewport_size({"width": 320, "height": 640})
        width = page.evaluate("document.documentElement.scrollWidth")

    assert graph["x"] + graph["width"] <= shots["x"]
    assert violations == []
    assert width <= 320
