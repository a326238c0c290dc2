"""A citizen's check step page, end to end, in headless Chromium.

The API and the built VIL site run on loopback ports as in
test_wallet_page.py. The project's test wallet receives a persona's data,
presents it, and collects the voucher the check page offers. axe-core
checks each state the page's script shows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.browser import new_page, wait_until_ready
from tests.inspection import axe_violations
from tests.test_wallet_page import _holder, _wait_for_status, portal

pytestmark = pytest.mark.browser

IN_PERIOD = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
TRIAL_ANSWERS = {
    "heeft-wallet": True,
    "heeft-gegevens": True,
    "regeling": "iit",
    "manier": "proef",
    "woont-in-utrecht": True,
    "ouder-dan-21": True,
    "aow-leeftijd": False,
    "alleenstaand": True,
    "kinderen-thuis": False,
    "netto-inkomen": 1290,
    "vermogen": 1850,
}

PRESENTATION_KEY = "stappen:vil:presentation:gegevens-delen"

__all__ = ["portal"]


@pytest.fixture
def in_period(portal):
    portal["clock"].now = IN_PERIOD
    return portal


def _wallet_code(page, portal, step: str, persona: str | None = None) -> str:
    page.goto(f"{portal['site']}nl/vil/{step}/")
    wait_until_ready(page)
    if persona is not None:
        page.check(f"#persona-{persona}")
    page.click("[data-stappen-wallet-start]")
    page.wait_for_selector("[data-stappen-wallet-qr]:not([hidden]) svg")
    return page.get_attribute("[data-stappen-wallet-link]", "href")


def _share(page, portal, persona: str):
    """Collect a persona's data into a new test wallet, then present it."""
    holder = _holder(portal, f"check-{persona}")
    holder.receive(_wallet_code(page, portal, "gegevens-ophalen", persona))
    _wait_for_status(page, portal, "de gegevens staan in uw wallet-app")
    holder.present(_wallet_code(page, portal, "gegevens-delen"))
    _wait_for_status(page, portal, "uw gegevens zijn gecontroleerd")
    return holder


def _open_check(page, portal, step: str, lang: str = "nl") -> None:
    page.goto(f"{portal['site']}{lang}/vil/{step}/")
    wait_until_ready(page)
    page.wait_for_function(
        "() => document.querySelector('[data-stappen-check-status]')"
        ".textContent.trim() !== '' && !document.querySelector("
        "'[data-stappen-check-status]').textContent.includes('Een moment')"
        " && !document.querySelector('[data-stappen-check-status]')"
        ".textContent.includes('One moment')"
    )


def _text(page, selector: str) -> str:
    return (page.text_content(selector) or "").replace("\xa0", " ").strip()


def _stored_answers(page) -> dict:
    raw = page.evaluate("sessionStorage.getItem('stappen:vil')")
    return json.loads(raw)["answers"] if raw else {}


def test_eligible_persona_collects_voucher(chromium, in_period):
    with new_page(chromium) as page:
        holder = _share(page, in_period, "sanne")
        _open_check(page, in_period, "toets")
        page.wait_for_selector("[data-stappen-check-voucher] svg")
        heading = _text(page, "[data-stappen-check-heading]")
        focused = page.evaluate("document.activeElement.id")
        amount = _text(page, "[data-stappen-check-amount]")
        voucher_url = page.get_attribute(
            "[data-stappen-check-voucher] [data-stappen-wallet-link]", "href"
        )
        next_hidden = page.is_hidden("[data-stappen-check-voucher] [data-stappen-next]")
        violations = axe_violations(page)

        received = holder.receive(voucher_url)
        _wait_for_status(page, in_period, "de voucher staat in uw wallet-app")
        next_href = page.get_attribute(
            "[data-stappen-check-voucher] [data-stappen-next]", "href"
        )
        answers = _stored_answers(page)
    assert heading == "U heeft recht op deze regeling"
    assert focused == "check-heading"
    assert amount == "Bedrag: € 264"
    assert voucher_url.startswith("openid-credential-offer://")
    assert next_hidden
    assert violations == []
    assert len(received) == 1
    assert next_href == "../voucher/"
    assert answers["toets"] == "eligible"


def test_ineligible_persona_sees_reason(chromium, in_period):
    with new_page(chromium) as page:
        _share(page, in_period, "jeroen")
        _open_check(page, in_period, "toets")
        heading = _text(page, "[data-stappen-check-heading]")
        outcome = _text(page, "[data-stappen-check-outcome]")
        amount_hidden = page.is_hidden("[data-stappen-check-amount]")
        voucher_hidden = page.is_hidden("[data-stappen-check-voucher]")
        next_href = page.get_attribute("[data-stappen-check-next] a", "href")
        violations = axe_violations(page)
    assert heading == "U heeft geen recht op deze regeling"
    assert "Daarom krijgt u geen toeslag." in outcome
    assert amount_hidden
    assert voucher_hidden
    assert next_href == "../geen-toeslag/"
    assert violations == []


def test_reused_presentation_asks_to_share_again(chromium, in_period):
    with new_page(chromium) as page:
        _share(page, in_period, "kees")
        presentation = page.evaluate(f"sessionStorage.getItem('{PRESENTATION_KEY}')")
        _open_check(page, in_period, "toets")
        first = _text(page, "[data-stappen-check-heading]")
        stored = page.evaluate(
            "(id) => sessionStorage.setItem(key, id)".replace(
                "key", repr(PRESENTATION_KEY)
            ),
            presentation,
        )
        _open_check(page, in_period, "toets")
        heading = _text(page, "[data-stappen-check-heading]")
        error = _text(page, "[data-stappen-check-error-text]")
        back = page.get_attribute("[data-stappen-check-back] a", "href")
        next_hidden = page.is_hidden("[data-stappen-check-next]")
        answers = _stored_answers(page)
        violations = axe_violations(page)
    assert len(presentation) == 43
    assert stored is None
    assert first == "U heeft geen recht op deze regeling"
    assert heading == "Dit is niet gelukt"
    assert error.startswith("Uw gedeelde gegevens zijn al gebruikt")
    assert back == "../gegevens-delen/"
    assert next_hidden
    assert "toets" not in answers
    assert violations == []


def test_check_without_shared_data_explains(chromium, in_period):
    with new_page(chromium) as page:
        _open_check(page, in_period, "toets", lang="en")
        heading = _text(page, "[data-stappen-check-heading]")
        error = _text(page, "[data-stappen-check-error-text]")
        violations = axe_violations(page)
    assert heading == "This did not work"
    assert error.startswith("We have no shared data from you.")
    assert violations == []


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_trial_shows_estimate(chromium, in_period, lang):
    state = json.dumps({"answers": TRIAL_ANSWERS, "entered": {}})
    with new_page(chromium) as page:
        page.goto(f"{in_period['site']}{lang}/vil/controleren/")
        page.evaluate("(state) => sessionStorage.setItem('stappen:vil', state)", state)
        _open_check(page, in_period, "proefberekening", lang)
        heading = _text(page, "[data-stappen-check-heading]")
        amount = _text(page, "[data-stappen-check-amount]")
        notice = _text(page, "[data-stappen-check-trial]")
        next_href = page.get_attribute("[data-stappen-check-next] a", "href")
        answers = _stored_answers(page)
        violations = axe_violations(page)
    expected = {
        "nl": ("U heeft waarschijnlijk recht op deze regeling", "Bedrag: € 264"),
        "en": ("You are probably entitled to this scheme", "Amount: €264"),
    }
    assert (heading, amount) == expected[lang]
    assert "U krijgt hiermee geen voucher" in notice or "no voucher" in notice
    assert next_href == "../proef-klaar/"
    assert answers["proefberekening"] == "eligible"
    assert violations == []


def test_trial_at_320_pixels_fits(chromium, in_period):
    state = json.dumps({"answers": TRIAL_ANSWERS, "entered": {}})
    with new_page(chromium, viewport={"width": 320, "height": 640}) as page:
        page.goto(f"{in_period['site']}nl/vil/controleren/")
        page.evaluate("(state) => sessionStorage.setItem('stappen:vil', state)", state)
        _open_check(page, in_period, "proefberekening")
        width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320


def test_check_without_javascript_says_so(chromium, in_period):
    with new_page(chromium, java_script_enabled=False) as page:
        page.goto(f"{in_period['site']}nl/vil/toets/")
        notice = _text(page, "[data-stappen-check] noscript")
    assert "Voor deze stap is JavaScript nodig" in notice
