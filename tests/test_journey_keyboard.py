"""The VIL journey with the keyboard alone, checked for accessibility on the way.

Each run walks the shipped flow in headless Chromium from its start page,
in Dutch and in English, pressing only Tab, the arrow keys, Space, Enter
and typed characters: no pointer press reaches the page (MOUSE_COUNTER of
tests/inspection.py counts them). The inspector checks every page and
state on the way: a question, a QR code, a credential received, a
check's outcome, a pending and a granted decision. It runs axe-core's
WCAG 2.1 A and AA rules and checks that the page reflows at 320 CSS
pixels.

Two routes cover the special steps between them:

- ``wallet``: data loaded into the wallet, the check on presented data, the
  voucher, the application, a consultant's grant (also by keyboard, in the
  consultant portal) and the decision credential, to ``klaar``;
- ``trial``: a new wallet, the questions of the trial calculation with typed
  amounts, the estimate, then the check on presented data of a persona who
  is not eligible, to ``geen-toeslag``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser import new_page, wait_until_ready
from tests.consultants import PASSWORD
from tests.inspection import (
    MOUSE_COUNTER,
    Inspector,
    choose_radio,
    focused,
    mouse_presses,
    tab_to,
)
from tests.test_application_journey import MOTIVATION
from tests.test_application_page import REFERENCE
from tests.test_check_page import _text
from tests.test_journey import consultants, in_period
from tests.test_wallet_page import _holder, portal

pytestmark = pytest.mark.browser

__all__ = ["consultants", "in_period", "portal"]

FLOW = "vil"
VISIBLE_NEXT = "[data-stappen-next]"
WALLET_DONE = "[data-stappen-wallet-done] a"
POLL_ROUNDS = 40


class KeyboardCitizen:
    """A citizen who walks the flow in one tab with the keyboard alone."""

    def __init__(self, page, portal, lang: str, inspector: Inspector) -> None:
        self.page = page
        self.portal = portal
        self.lang = lang
        self.inspector = inspector
        self.path: list[str] = []

    def open_start(self) -> None:
        self.page.goto(f"{self.portal['site']}{self.lang}/{FLOW}/")
        wait_until_ready(self.page)
        self.inspector.look(self.page, f"{self.lang} start page")
        self.press_on("a[href='heeft-wallet/']", "heeft-wallet")

    def arrive(self, step: str) -> None:
        try:
            self.page.wait_for_url(f"**/{self.lang}/{FLOW}/{step}/")
        except PlaywrightTimeout:
            errors = self.page.evaluate(
                "document.querySelector('[data-stappen-error-summary]')"
                "?.textContent || ''"
            )
            raise AssertionError(
                f"expected {step}, still at {self.page.url}; errors: {errors.strip()!r}"
            ) from None
        wait_until_ready(self.page)
        self.path.append(step)
        self.look(step)

    def look(self, step: str, state: str | None = None) -> None:
        name = (
            f"{self.lang} {step}" if state is None else f"{self.lang} {step}: {state}"
        )
        self.inspector.look(self.page, name)

    def press_on(self, selector: str, step: str) -> None:
        """Tab to ``selector``, press Enter and arrive at ``step``."""
        tab_to(self.page, selector)
        self.page.keyboard.press("Enter")
        self.arrive(step)

    def answer(self, value: str, step: str) -> None:
        """Choose the option ``value`` of the question and go on to ``step``."""
        choose_radio(self.page, "answer", value)
        self.press_on("button[type=submit]", step)

    def type_answer(self, text: str, step: str) -> None:
        """Type ``text`` into the question's field and go on to ``step``."""
        tab_to(self.page, "input[name=answer]")
        self.page.keyboard.type(text)
        self.press_on("button[type=submit]", step)

    def go_on(self, step: str) -> None:
        self.press_on(VISIBLE_NEXT, step)

    def show_code(self, start: str = "[data-stappen-wallet-start]") -> str:
        """Press the button that requests a QR code, and return the wallet link."""
        tab_to(self.page, start)
        self.page.keyboard.press("Enter")
        self.page.wait_for_selector("[data-stappen-wallet-qr]:not([hidden]) svg")
        return self.page.get_attribute("[data-stappen-wallet-link]:visible", "href")

    def wait_for(self, selector: str) -> None:
        """Let the page poll, moving the API's clock, until ``selector`` shows."""
        for _ in range(POLL_ROUNDS):
            if self.page.is_visible(selector):
                return
            self.portal["clock"].advance(1)
            self.page.wait_for_timeout(250)
        status = self.page.text_content("[role=status]") or ""
        raise AssertionError(f"{selector} never showed; the status says {status!r}")

    def finish_wallet_step(self, step: str, next_step: str) -> None:
        """Wait for the session to succeed, then press Enter on the focused Volgende."""
        self.wait_for(WALLET_DONE)
        self.look(step, "done")
        assert focused(self.page, WALLET_DONE), f"{step}: focus not on Volgende"
        self.page.keyboard.press("Enter")
        self.arrive(next_step)


# The routes


def _load_data(citizen: KeyboardCitizen, holder, persona: str) -> None:
    """On gegevens-ophalen: choose ``persona`` and let the wallet receive."""
    citizen.look("gegevens-ophalen", "before the code")
    choose_radio(citizen.page, "persona", persona)
    holder.receive(citizen.show_code())
    citizen.look("gegevens-ophalen", "QR code")
    citizen.finish_wallet_step("gegevens-ophalen", "regeling")


def _share_data(citizen: KeyboardCitizen, holder) -> None:
    """On gegevens-delen: let the wallet present, then wait for the check."""
    holder.present(citizen.show_code())
    citizen.look("gegevens-delen", "QR code")
    citizen.finish_wallet_step("gegevens-delen", "toets")
    citizen.page.wait_for_selector(
        "[data-stappen-check-result]:not([hidden]), "
        "[data-stappen-check-error]:not([hidden])"
    )
    assert citizen.page.is_hidden("[data-stappen-check-error]"), _text(
        citizen.page, "[data-stappen-check-error-text]"
    )
    citizen.look("toets", "outcome")


def _wallet_route(citizen: KeyboardCitizen, holder, chromium) -> None:
    citizen.open_start()
    citizen.answer("true", "gegevens-uitleg")
    citizen.go_on("heeft-gegevens")
    citizen.answer("false", "gegevens-ophalen")
    _load_data(citizen, holder, "sanne")
    citizen.answer("iit", "manier")
    citizen.answer("wallet", "gegevens-delen")
    _share_data(citizen, holder)

    citizen.page.wait_for_selector("[data-stappen-check-voucher] svg")
    link = "[data-stappen-check-voucher] [data-stappen-wallet-link]"
    holder.receive(citizen.page.get_attribute(link, "href"))
    citizen.wait_for(f"[data-stappen-check-voucher] {WALLET_DONE}")
    citizen.look("toets", "voucher received")
    citizen.go_on("voucher")
    citizen.go_on("aanvragen")

    holder.present(citizen.show_code())
    citizen.look("aanvragen", "QR code")
    citizen.wait_for("[data-stappen-application-reference]")
    reference = _text(citizen.page, "[data-stappen-application-reference]")
    assert REFERENCE.fullmatch(reference), reference
    citizen.look("aanvragen", "received")
    citizen.go_on("besluit")
    citizen.wait_for("[data-stappen-decision-refresh]")
    citizen.look("besluit", "pending")

    api_url = citizen.page.get_attribute("[data-stappen-decision]", "data-api")
    _grant_by_keyboard(chromium, api_url, reference, citizen)

    tab_to(citizen.page, "[data-stappen-decision-refresh]")
    citizen.page.keyboard.press("Enter")
    citizen.wait_for("[data-stappen-decision-collect]")
    citizen.look("besluit", "granted")
    holder.receive(citizen.show_code("[data-stappen-decision-collect]"))
    citizen.look("besluit", "QR code")
    citizen.finish_wallet_step("besluit", "klaar")


def _trial_route(citizen: KeyboardCitizen, holder, chromium) -> None:
    citizen.open_start()
    citizen.answer("false", "heeft-smartphone")
    citizen.answer("true", "wallet-installeren")
    citizen.go_on("gegevens-uitleg")
    citizen.go_on("gegevens-ophalen")
    _load_data(citizen, holder, "jeroen")
    citizen.answer("iit", "manier")
    citizen.answer("proef", "woont-in-utrecht")
    citizen.answer("true", "ouder-dan-21")
    citizen.answer("true", "aow-leeftijd")
    citizen.answer("false", "alleenstaand")
    citizen.answer("true", "kinderen-thuis")
    citizen.answer("false", "netto-inkomen")
    citizen.type_answer("1200", "vermogen")
    citizen.type_answer("2000", "controleren")
    citizen.go_on("proefberekening")
    citizen.wait_for("[data-stappen-check-result]")
    citizen.look("proefberekening", "estimate")
    citizen.go_on("proef-klaar")
    citizen.go_on("gegevens-delen")
    _share_data(citizen, holder)
    citizen.go_on("geen-toeslag")


def _grant_by_keyboard(chromium, api_url: str, reference: str, citizen) -> None:
    """A consultant logs in, opens the application and grants it, by keyboard."""
    inspector = citizen.inspector
    # axe runs from an injected script, which the portal's CSP would block.
    with new_page(chromium, bypass_csp=True) as page:
        page.add_init_script(MOUSE_COUNTER)
        page.goto(f"{api_url}/consultant/login")
        inspector.look(page, "consultant login")
        tab_to(page, "#username")
        page.keyboard.type("carla")
        tab_to(page, "#password")
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{api_url}/consultant/")
        inspector.look(page, "consultant applications")

        href = page.get_attribute(f"a:text-is('{reference}')", "href")
        tab_to(page, f"a[href='{href}']")
        page.keyboard.press("Enter")
        page.wait_for_selector("#summary-title")
        inspector.look(page, "consultant review")

        choose_radio(page, "outcome", "granted")
        tab_to(page, "#motivation")
        page.keyboard.type(MOTIVATION)
        tab_to(page, "form:has(#motivation) button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_selector("#notice")
        inspector.look(page, "consultant decided")
        assert mouse_presses(page) == 0


ROUTES = {"wallet": _wallet_route, "trial": _trial_route}
PATHS = {
    "wallet": [
        "heeft-wallet",
        "gegevens-uitleg",
        "heeft-gegevens",
        "gegevens-ophalen",
        "regeling",
        "manier",
        "gegevens-delen",
        "toets",
        "voucher",
        "aanvragen",
        "besluit",
        "klaar",
    ],
    "trial": [
        "heeft-wallet",
        "heeft-smartphone",
        "wallet-installeren",
        "gegevens-uitleg",
        "gegevens-ophalen",
        "regeling",
        "manier",
        "woont-in-utrecht",
        "ouder-dan-21",
        "aow-leeftijd",
        "alleenstaand",
        "kinderen-thuis",
        "netto-inkomen",
        "vermogen",
        "controleren",
        "proefberekening",
        "proef-klaar",
        "gegevens-delen",
        "toets",
        "geen-toeslag",
    ],
}
"""The steps each route arrives at, in order."""


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("route", ROUTES)
def test_journey_by_keyboard(chromium, in_period, route, lang):
    inspector = Inspector()
    holder = _holder(in_period, f"keyboard-{route}-{lang}")
    with new_page(chromium) as page:
        page.add_init_script(MOUSE_COUNTER)
        citizen = KeyboardCitizen(page, in_period, lang, inspector)
        ROUTES[route](citizen, holder, chromium)
        presses = mouse_presses(page)
    assert citizen.path == PATHS[route]
    assert len(inspector.looked) > len(PATHS[route])
    assert presses == 0
    assert inspector.problems == {}
