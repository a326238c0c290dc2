"""Headless Chromium for the browser tests: find it, launch it, open pages.

The tests use the system Chromium (Debian's ``chromium`` package), never a
browser that Playwright downloads. Without one the browser tests are skipped,
except under CI, where they fail: a CI run must not pass without them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

TIMEOUT_MS = 5_000
"""How long an action or wait may take before the test fails."""

INSTALL_HINT = (
    "install Debian's chromium (apt-get install chromium) or set "
    "STAPPEN_CHROMIUM to the path of a Chromium executable"
)

# Runs in every document before the page's own scripts. question.js binds its
# submit handler only after a dynamic import, and a form submitted before then
# reloads its own page without any check. The hook records the moment the
# handler is bound, and wait_until_ready waits for it.
READY_HOOK = """
(() => {
  const addEventListener = HTMLFormElement.prototype.addEventListener;
  HTMLFormElement.prototype.addEventListener = function (type, ...rest) {
    if (type === "submit") window.stappenTestSubmitBound = true;
    return addEventListener.call(this, type, ...rest);
  };
})();
"""

# True once the page's script has finished: a question page has bound its
# form, a check-your-answers page has rendered its list (or its "no answers"
# text), and any other page has loaded.
READY_CHECK = """
() => {
  if (document.querySelector("[data-stappen-question]")) {
    return window.stappenTestSubmitBound === true;
  }
  const summary = document.querySelector("[data-stappen-summary]");
  if (summary) {
    const empty = document.querySelector("[data-stappen-no-answers]");
    return summary.children.length > 0 || (empty && !empty.hidden);
  }
  return document.readyState === "complete";
}
"""


def find_chromium() -> str | None:
    """Return the Chromium executable to use, or None when there is none.

    STAPPEN_CHROMIUM wins over the names on PATH. A STAPPEN_CHROMIUM that
    names no executable fails the run, because the setting is then wrong.
    """
    configured = os.environ.get("STAPPEN_CHROMIUM")
    if configured:
        found = shutil.which(configured)
        if found is None:
            pytest.fail(
                f"STAPPEN_CHROMIUM={configured!r} is not an executable; {INSTALL_HINT}",
                pytrace=False,
            )
        return found
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def skip_or_fail(reason: str) -> None:
    """Skip the browser tests, or fail them when the CI variable is set."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails)", pytrace=False)
    pytest.skip(reason)


def require_chromium() -> str:
    """Return the Chromium executable, or skip (fail under CI) without one."""
    executable = find_chromium()
    if executable is None:
        names = ", ".join(CHROMIUM_NAMES)
        skip_or_fail(f"no Chromium found (looked for {names} on PATH); {INSTALL_HINT}")
    return executable


@contextlib.contextmanager
def running_chromium():
    """Launch headless Chromium for as long as the block runs; yield the browser."""
    executable = require_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright Python package is not installed")

    with sync_playwright() as playwright:
        # Playwright turns the back/forward cache off by default. Citizens'
        # browsers keep it on, so the tests do too.
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=list(CHROMIUM_ARGS),
            ignore_default_args=["--disable-back-forward-cache"],
        )
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def new_page(browser, **context_options) -> Iterator:
    """Open a page in a new browser context, which starts with empty storage.

    ``context_options`` go to ``Browser.new_context``, for example
    ``java_script_enabled=False`` or ``viewport={...}``.
    """
    context = browser.new_context(**context_options)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(READY_HOOK)
    try:
        yield context.new_page()
    finally:
        context.close()


def wait_until_ready(page) -> None:
    """Wait until the page's script has bound the form or rendered the list."""
    page.wait_for_function(READY_CHECK)
