"""A citizen's decision step page, end to end, in headless Chromium.

The API and the built VIL site run on loopback ports as in
test_wallet_page.py. Applications are stored and decided in the API's
database directly, as the application endpoint and the consultant's review
do. The project's test wallet collects the decision credential that the
page offers, and axe-core checks each state the page's script shows.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from stappen import storage
from stappen.storage.applications import secret_hash
from stappen.wallet.store import Wallet
from tests.browser import new_page, wait_until_ready
from tests.inspection import axe_violations
from tests.test_applications_storage import new_application
from tests.test_wallet_page import _holder, _wait_for_status, portal

pytestmark = pytest.mark.browser

__all__ = ["portal"]

SECRET = "Zk3-" + "q" * 39
MOTIVATION = "Uw inkomen en vermogen vallen binnen de grenzen van de regeling."
DECIDED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
STORAGE_KEY = "stappen:vil:application:aanvragen"
HEADING = "[data-stappen-decision-heading]"


def _connection(portal):
    url = f"sqlite:///{portal['folder'] / 'api.sqlite3'}"
    return storage.open_store(url, portal["folder"]).connection()


def _apply(portal, outcome: str | None = None) -> tuple[str, str]:
    """Store an application, decided when ``outcome`` is given; return id and ref."""
    application_id = uuid.uuid4().hex
    reference = f"VIL-{uuid.uuid4().hex[:4].upper()}-{uuid.uuid4().hex[:4].upper()}"
    new = new_application(
        id=application_id,
        reference=reference,
        secret_hash=secret_hash(SECRET),
        presentation_session=uuid.uuid4().hex,
        record={"version": 1, "voucher": {"regels_versie": "2026-2"}},
    )
    with _connection(portal) as db:
        db.create_application(new, now=portal["clock"].now)
    if outcome is not None:
        _decide(portal, application_id, outcome)
    return application_id, reference


def _decide(portal, application_id: str, outcome: str) -> None:
    with _connection(portal) as db:
        db.decide_application(
            application_id,
            outcome=outcome,
            motivation=MOTIVATION,
            amount="264" if outcome == "granted" else None,
            consultant="consultant-1",
            now=DECIDED_AT,
        )


def _open(page, portal, lang: str = "nl", fragment: str = "") -> None:
    page.goto(f"{portal['site']}{lang}/vil/besluit/{fragment}")
    wait_until_ready(page)


def _wait_for_heading(page, text: str) -> None:
    page.wait_for_function(
        "(text) => document.querySelector('[data-stappen-decision-heading]')"
        ".textContent === text",
        arg=text,
    )


def _text(page, selector: str) -> str:
    return (page.text_content(selector) or "").replace("\xa0", " ").strip()


def test_fragment_shows_granted_decision(chromium, portal):
    application_id, reference = _apply(portal, "granted")
    holder = _holder(portal, f"besluit-{reference}")
    with new_page(chromium) as page:
        _open(page, portal, fragment=f"#ref={reference}&key={SECRET}")
        _wait_for_heading(page, "Uw aanvraag is toegekend")
        address = page.url
        focused = page.evaluate("document.activeElement.id")
        amount = _text(page, "[data-stappen-decision-amount]")
        motivation = _text(page, "[data-stappen-decision-motivation]")
        objection_hidden = page.is_hidden("[data-stappen-decision-objection]")
        decided = _text(page, "[data-stappen-decision-decided]")
        violations = axe_violations(page)

        page.click("[data-stappen-decision-collect]")
        page.wait_for_selector("[data-stappen-wallet-qr]:not([hidden]) svg")
        offer_url = page.get_attribute("[data-stappen-wallet-link]", "href")
        offer_violations = axe_violations(page)
        received = holder.receive(offer_url)
        _wait_for_status(page, portal, "het besluit staat in uw wallet-app")
        next_href = page.get_attribute("[data-stappen-wallet-done] a", "href")
        next_focused = page.evaluate("document.activeElement.textContent")
    [credential] = Wallet.load(holder.wallet_path).credentials
    with _connection(portal) as db:
        decision = db.application(application_id)["decision"]
    assert "#" not in address
    assert SECRET not in address
    assert focused == "decision-heading"
    assert amount == "Bedrag: € 264"
    assert motivation == MOTIVATION
    assert objection_hidden
    assert decided == "Besloten op 2 maart 2026"
    assert violations == []
    assert offer_url.startswith("openid-credential-offer://")
    assert offer_violations == []
    assert len(received) == 1
    assert credential.claims["besluit"] == "toegekend"
    assert credential.claims["referentie"] == reference
    assert next_href == "../klaar/"
    assert next_focused == "Volgende"
    assert decision["credential_issued_at"] is not None


def test_typed_reference_shows_rejection(chromium, portal):
    _, reference = _apply(portal, "rejected")
    with new_page(chromium) as page:
        _open(page, portal, lang="en")
        page.wait_for_selector("[data-stappen-decision-form]:visible")
        form_violations = axe_violations(page)
        page.click("[data-stappen-decision-form] button[type=submit]")
        summary = [
            _text(page, f"[data-stappen-decision-error-list] li:nth-child({n})")
            for n in (1, 2)
        ]
        summary_focused = page.evaluate("document.activeElement.id")
        invalid = page.get_attribute("#decision-code", "aria-invalid")
        error_violations = axe_violations(page)

        page.fill("#decision-reference", reference)
        page.fill("#decision-code", "wrong-code")
        page.click("[data-stappen-decision-form] button[type=submit]")
        # The summary still lists the missing fields until the API responds.
        page.wait_for_function(
            """([selector, before]) =>
                document.querySelector(selector).textContent !== before""",
            arg=["[data-stappen-decision-error-list]", "".join(summary)],
        )
        not_found = _text(page, "[data-stappen-decision-error-list]")

        page.fill("#decision-code", SECRET)
        page.click("[data-stappen-decision-form] button[type=submit]")
        _wait_for_heading(page, "Your application has been rejected")
        objection = _text(page, "[data-stappen-decision-objection]")
        amount_hidden = page.is_hidden("[data-stappen-decision-amount]")
        motivation = _text(page, "[data-stappen-decision-motivation]")
        kept = page.evaluate(f"sessionStorage.getItem('{STORAGE_KEY}')")
        violations = axe_violations(page)
    assert form_violations == []
    assert summary == [
        "Enter the reference of your application.",
        "Enter the code of your application.",
    ]
    assert summary_focused == "decision-errors"
    assert invalid == "true"
    assert error_violations == []
    assert not_found.startswith("We cannot find an application")
    assert "within 6 weeks" in objection
    assert amount_hidden
    assert motivation == MOTIVATION
    assert json.loads(kept) == {"reference": reference, "secret": SECRET}
    assert violations == []


def test_pending_application_checked_again(chromium, portal):
    application_id, reference = _apply(portal)
    stored = json.dumps({"reference": reference, "secret": SECRET})
    with new_page(chromium) as page:
        _open(page, portal)
        page.evaluate(
            "([key, value]) => localStorage.setItem(key, value)", [STORAGE_KEY, stored]
        )
        _open(page, portal)
        _wait_for_heading(page, "Uw aanvraag is in behandeling")
        submitted = _text(page, "[data-stappen-decision-submitted]")
        checked = _text(page, "[data-stappen-decision-status]")
        offer_hidden = page.is_hidden("[data-stappen-decision-offer]")
        violations = axe_violations(page)

        _decide(portal, application_id, "granted")
        page.click("[data-stappen-decision-refresh]")
        _wait_for_heading(page, "Uw aanvraag is toegekend")
        offer_visible = page.is_visible("[data-stappen-decision-collect]")
    assert submitted == "Ingediend op 1 maart 2026"
    assert checked.startswith("Nog geen besluit. Bijgewerkt om")
    assert offer_hidden
    assert violations == []
    assert offer_visible


def test_unknown_stored_application_asks_for_code(chromium, portal):
    stored = json.dumps({"reference": "VIL-0000-0000", "secret": SECRET})
    with new_page(chromium) as page:
        _open(page, portal)
        page.evaluate(
            "([key, value]) => localStorage.setItem(key, value)", [STORAGE_KEY, stored]
        )
        _open(page, portal)
        page.wait_for_selector("[data-stappen-decision-errors]:visible")
        error = _text(page, "[data-stappen-decision-error-list]")
        reference = page.input_value("#decision-reference")
        forgotten = page.evaluate(f"localStorage.getItem('{STORAGE_KEY}')")
    assert error.startswith("Wij vinden geen aanvraag")
    assert reference == "VIL-0000-0000"
    assert forgotten is None


def test_decision_page_at_320_pixels_fits(chromium, portal):
    _, reference = _apply(portal, "granted")
    with new_page(chromium, viewport={"width": 320, "height": 640}) as page:
        _open(page, portal, fragment=f"#ref={reference}&key={SECRET}")
        _wait_for_heading(page, "Uw aanvraag is toegekend")
        width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320
