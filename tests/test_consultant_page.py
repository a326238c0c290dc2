"""The review pages in headless Chromium: log in, review, grant; axe on each page."""

from __future__ import annotations

import pytest

from tests.apiharness import serve
from tests.browser import new_page
from tests.consultants import PASSWORD, add_consultant
from tests.inspection import AXE, axe_violations
from tests.reviewsetup import apply, make_review_api

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path):
    if not AXE.is_file():
        pytest.fail(f"{AXE} not found; run 'npm ci'")
    setup = make_review_api(tmp_path)
    setup.application_id, _ = apply(setup)
    add_consultant(setup.app, "carla", "utrecht", name="Carla Smit", lang="en")
    with serve(setup.app) as base:
        setup.base = base
        yield setup


def _log_in(page, base: str) -> None:
    page.goto(base + "/consultant/login")
    page.fill("#username", "carla")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/consultant/")


def test_grant_application_in_browser(chromium, served):
    # axe runs from an injected script, which the portal's CSP would block.
    with new_page(chromium, bypass_csp=True) as page:
        page.goto(served.base + "/consultant/login")
        assert axe_violations(page) == []
        _log_in(page, served.base)
        assert axe_violations(page) == []

        page.click("table a")
        assert page.locator("#summary-title + p").inner_text() == "✓ All checks passed"
        assert axe_violations(page) == []

        page.check("#outcome-granted")
        page.fill("#motivation", "Meets the conditions of the scheme.")
        assert page.input_value("#amount") == "264"
        page.click("text=Save the decision")
        page.wait_for_selector("#notice")

        assert page.locator("#notice").inner_text() == "The decision was saved."
        assert "Granted" in page.locator(".review-decision").inner_text()
        assert axe_violations(page) == []


def test_error_summary_passes_axe(chromium, served):
    with new_page(chromium, bypass_csp=True) as page:
        _log_in(page, served.base)
        page.goto(f"{served.base}/consultant/applications/{served.application_id}")
        page.click("text=Save the decision")
        page.wait_for_selector(".consultant-error-summary")

        assert "Choose grant or reject." in page.inner_text(".consultant-error-summary")
        assert axe_violations(page) == []


def test_tables_scroll_at_320_px(chromium, served):
    with new_page(chromium, viewport={"width": 320, "height": 640}) as page:
        _log_in(page, served.base)
        page.goto(f"{served.base}/consultant/applications/{served.application_id}")
        page_width = page.evaluate("document.documentElement.scrollWidth")

        assert page_width <= 320
