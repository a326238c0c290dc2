"""WCAG 2.1 A and AA checks with axe-core on every page of the shipped flows.

axe-core (from npm) runs inside headless Chromium on each page of the
built ``steps/`` site in both languages, and on the states that only
JavaScript shows: a question with its error summary and a filled-in
check-your-answers list.
"""

from __future__ import annotations

import pytest

from stappen.building import build
from tests.browser import new_page, wait_until_ready
from tests.conftest import PROJECT
from tests.inspection import AXE, axe_violations
from tests.sitecrawl import crawl, serve_site

PREFIX = "/portaal/"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shipped_site_url(tmp_path_factory):
    if not AXE.is_file():
        pytest.fail(f"{AXE} not found; run 'npm ci'")
    out = tmp_path_factory.mktemp("shipped")
    build(PROJECT / "steps", out, base_url=PREFIX, workers=1)
    with serve_site(out, PREFIX) as base:
        yield base + PREFIX


def _html_pages(site_url: str) -> list[str]:
    seen, problems = crawl(site_url.split(PREFIX)[0], site_url)
    assert problems == []
    return sorted(url for url in seen if url.endswith("/"))


def test_every_shipped_page_passes_axe(chromium, shipped_site_url):
    found = {}
    with new_page(chromium) as page:
        for url in _html_pages(shipped_site_url):
            page.goto(url)
            wait_until_ready(page)
            violations = axe_violations(page)
            if violations:
                found[url.removeprefix(shipped_site_url)] = violations
    assert found == {}


def test_shipped_site_has_both_languages(shipped_site_url):
    pages = _html_pages(shipped_site_url)
    assert any("/nl/vil/" in url for url in pages)
    assert any("/en/vil/" in url for url in pages)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_error_state_passes_axe(chromium, fixture_site_url, lang):
    with new_page(chromium) as page:
        page.goto(f"{fixture_site_url}{lang}/demo/inkomen/")
        wait_until_ready(page)
        page.fill("input[name=answer]", "1,533")
        page.click("button[type=submit]")
        page.wait_for_selector("[data-stappen-error-summary]:not([hidden])")
        assert axe_violations(page) == []


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_filled_summary_passes_axe(chromium, fixture_site_url, lang):
    answers = (
        '{"answers": {"woonplaats": "voorbeeld", "inkomen": 900, '
        '"geboortedatum": "1980-05-01"}, "entered": {}}'
    )
    with new_page(chromium) as page:
        page.goto(f"{fixture_site_url}{lang}/demo/welkom/")
        page.evaluate(f"sessionStorage.setItem('stappen:demo', '{answers}')")
        page.goto(f"{fixture_site_url}{lang}/demo/controleren/")
        wait_until_ready(page)
        assert page.locator("[data-stappen-summary] dt").count() == 3
        assert axe_violations(page) == []
