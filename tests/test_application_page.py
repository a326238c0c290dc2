"""A citizen's application step page, end to end, in headless Chromium.

The API and the built VIL site run on loopback ports as in
test_wallet_page.py. The project's test wallet receives a persona's data,
shares it with the check step, collects the voucher and then presents the
voucher from the application page, which shows the reference. axe-core
checks each state the page's script shows.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from tests.browser import new_page, wait_until_ready
from tests.inspection import axe_violations
from tests.test_check_page import _open_check, _text, _wallet_code
from tests.test_wallet_page import _holder, _wait_for_status, portal

pytestmark = pytest.mark.browser

IN_PERIOD = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
APPLICATION_KEY = "stappen:vil:application:aanvragen"
REFERENCE = re.compile(r"VIL-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")

__all__ = ["portal"]


@pytest.fixture
def in_period(portal):
    portal["clock"].now = IN_PERIOD
    return portal


def _collect_voucher(page, portal, name: str):
    """Give a new test wallet Sanne's data and the voucher of step toets."""
    holder = _holder(portal, name)
    holder.receive(_wallet_code(page, portal, "gegevens-ophalen", "sanne"))
    _wait_for_status(page, portal, "de gegevens staan in uw wallet-app")
    holder.present(_wallet_code(page, portal, "gegevens-delen"))
    _wait_for_status(page, portal, "uw gegevens zijn gecontroleerd")
    _open_check(page, portal, "toets")
    page.wait_for_selector("[data-stappen-check-voucher] svg")
    voucher_url = page.get_attribute(
        "[data-stappen-check-voucher] [data-stappen-wallet-link]", "href"
    )
    holder.receive(voucher_url)
    _wait_for_status(page, portal, "de voucher staat in uw wallet-app")
    return holder


def _open_application(page, portal, lang: str) -> str:
    page.goto(f"{portal['site']}{lang}/vil/aanvragen/")
    wait_until_ready(page)
    page.click("[data-stappen-wallet-start]")
    page.wait_for_selector("[data-stappen-wallet-qr]:not([hidden]) svg")
    return page.get_attribute("[data-stappen-wallet-link]", "href")


EXPECTED = {
    "nl": ("Uw aanvraag is ontvangen", "Bekijk uw aanvraag"),
    "en": ("Your application has been received", "View your application"),
}


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_wallet_redeems_voucher_on_page(chromium, in_period, lang):
    with new_page(chromium) as page:
        holder = _collect_voucher(page, in_period, f"apply-{lang}")
        request_url = _open_application(page, in_period, lang)
        holder.present(request_url)
        _wait_for_status(page, in_period, "VIL-")
        heading = _text(page, "[data-stappen-application-heading]")
        focused = page.evaluate("document.activeElement.id")
        reference = _text(page, "[data-stappen-application-reference]")
        reopen = page.get_attribute("[data-stappen-application-reopen-link]", "href")
        reopen_text = _text(page, "[data-stappen-application-reopen-link]")
        differs_hidden = page.is_hidden("[data-stappen-application-differs]")
        next_href = page.get_attribute("[data-stappen-wallet-done] a", "href")
        stored = json.loads(
            page.evaluate(f"localStorage.getItem('{APPLICATION_KEY}')") or "{}"
        )
        violations = axe_violations(page)
    assert request_url.startswith("openid4vp://")
    assert (heading, reopen_text) == EXPECTED[lang]
    assert focused == "application-heading"
    assert REFERENCE.fullmatch(reference), reference
    assert stored["reference"] == reference
    assert len(stored["secret"]) >= 32
    assert reopen.endswith(
        f"/{lang}/vil/besluit/#ref={reference}&key={stored['secret']}"
    )
    assert differs_hidden
    assert next_href == "../besluit/"
    assert violations == []


def test_second_redeem_says_used_before(chromium, in_period):
    with new_page(chromium) as page:
        holder = _collect_voucher(page, in_period, "apply-twice")
        holder.present(_open_application(page, in_period, "nl"))
        _wait_for_status(page, in_period, "VIL-")
        page.evaluate(f"localStorage.removeItem('{APPLICATION_KEY}')")
        holder.present(_open_application(page, in_period, "nl"))
        _wait_for_status(page, in_period, "al een aanvraag gedaan")
        heading = _text(page, "[data-stappen-application-heading]")
        error = _text(page, "[data-stappen-application-error-text]")
        next_hidden = page.is_hidden("[data-stappen-wallet-done]")
        violations = axe_violations(page)
    assert heading == "Dit is niet gelukt"
    assert error.startswith("Met deze voucher is al een aanvraag gedaan.")
    assert next_hidden
    assert violations == []


def test_stored_application_shown_again(chromium, in_period):
    stored = json.dumps({"reference": "VIL-0000ABCD", "secret": "s" * 32})
    with new_page(chromium, viewport={"width": 320, "height": 640}) as page:
        page.goto(f"{in_period['site']}nl/vil/aanvragen/")
        page.evaluate(f"localStorage.setItem('{APPLICATION_KEY}', {stored!r})")
        page.goto(f"{in_period['site']}nl/vil/aanvragen/")
        wait_until_ready(page)
        page.wait_for_selector("[data-stappen-application-result]:not([hidden])")
        heading = _text(page, "[data-stappen-application-heading]")
        reference = _text(page, "[data-stappen-application-reference]")
        start_hidden = page.is_hidden("[data-stappen-wallet-start]")
        width = page.evaluate("document.documentElement.scrollWidth")
        violations = axe_violations(page)
    assert heading == "U heeft deze aanvraag al gedaan"
    assert reference == "VIL-0000ABCD"
    assert start_hidden
    assert width <= 320
    assert violations == []


def test_expired_code_offers_new_one(chromium, in_period):
    with new_page(chromium) as page:
        _open_application(page, in_period, "en")
        in_period["clock"].advance(3600)
        _wait_for_status(page, in_period, "The code has expired")
        again_visible = page.is_visible("[data-stappen-wallet-new]")
        qr_hidden = page.is_hidden("[data-stappen-wallet-qr]")
    assert again_visible
    assert qr_hidden


def test_application_without_javascript_says_so(chromium, in_period):
    with new_page(chromium, java_script_enabled=False) as page:
        page.goto(f"{in_period['site']}nl/vil/aanvragen/")
        notice = _text(page, "[data-stappen-application] noscript")
    assert "Voor deze stap is JavaScript nodig" in notice
