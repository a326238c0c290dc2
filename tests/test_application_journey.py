"""The application and the decision, end to end, in one headless Chromium.

The API runs on one loopback port and the built VIL site on another, as in
test_wallet_page.py. The project's test wallet collects Sanne's data and the
check's voucher, redeems the voucher on the application page, and takes the
decision credential from the decision page. Between those, a consultant logs
in to the portal in another context of the same browser, reviews the
application and grants it. axe-core checks the pages on the way, and the
audit trail must verify and hold the events of this application.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from stappen import audit, outcomes
from stappen.api import create_app
from stappen.wallet.store import Wallet
from tests.browser import new_page, wait_until_ready
from tests.conftest import PROJECT
from tests.consultants import add_consultant
from tests.inspection import AXE, axe_violations
from tests.test_application_page import REFERENCE, _collect_voucher
from tests.test_check_page import _text
from tests.test_consultant_page import _log_in
from tests.test_wallet_page import _wait_for_status, portal

pytestmark = pytest.mark.browser

IN_PERIOD = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
MOTIVATION = "Uw inkomen en vermogen vallen binnen de grenzen van de regeling."
DECISION_VCT = "urn:stappen:vil:besluit"

__all__ = ["portal"]


@pytest.fixture
def journey(portal):
    """The portal at a moment the rules apply, with a consultant account.

    A second app on the portal's database and keys lets the test read the
    store and run ``audit verify``.
    """
    if not AXE.is_file():
        pytest.fail(f"{AXE} not found; run 'npm ci'")
    portal["clock"].now = IN_PERIOD
    app = portal_app(portal)
    add_consultant(app, "carla", "utrecht", name="Carla Smit")
    return {**portal, "app": app}


def portal_app(portal) -> Flask:
    """Make a second app on the portal's database, keys and clock."""
    folder = portal["folder"]
    return create_app(
        {
            "STEPS_DIR": str(PROJECT / "steps"),
            "KEYS_DIR": str(folder / "keys"),
            "DATABASE_URL": f"sqlite:///{folder / 'api.sqlite3'}",
            "STAPPEN_CLOCK": portal["clock"],
        }
    )


def _apply(page, journey, holder) -> str:
    """Present the voucher on the application page; return the reference shown."""
    page.goto(f"{journey['site']}nl/vil/aanvragen/")
    wait_until_ready(page)
    page.click("[data-stappen-wallet-start]")
    page.wait_for_selector("[data-stappen-wallet-qr]:not([hidden]) svg")
    holder.present(page.get_attribute("[data-stappen-wallet-link]", "href"))
    _wait_for_status(page, journey, "VIL-")

    assert _text(page, "[data-stappen-application-heading]") == (
        "Uw aanvraag is ontvangen"
    )
    assert page.is_hidden("[data-stappen-application-differs]")
    assert axe_violations(page) == []
    return _text(page, "[data-stappen-application-reference]")


def _open_pending_decision(page) -> None:
    """Follow the application page's next link to the decision, still pending."""
    page.click("[data-stappen-wallet-done] a")
    wait_until_ready(page)
    _wait_for_heading(page, "Uw aanvraag is in behandeling")

    assert page.url.endswith("/nl/vil/besluit/")
    assert page.is_hidden("[data-stappen-decision-offer]")
    assert _text(page, "[data-stappen-decision-status]").startswith("Nog geen besluit.")
    assert axe_violations(page) == []


def _review_and_grant(chromium, base: str, reference: str) -> None:
    """Log in to the portal at ``base``, check the review's texts and grant."""
    # axe runs from an injected script, which the portal's CSP would block.
    with new_page(chromium, bypass_csp=True) as page:
        _log_in(page, base)
        page.get_by_role("link", name=reference, exact=True).click()
        page.wait_for_selector("#summary-title")

        assert _text(page, "h1") == f"Aanvraag {reference}"
        assert _text(page, "#summary-title + p") == "✓ Alle controles geslaagd"
        _assert_checks_passed(page)
        _assert_outcome_equal(page)
        assert axe_violations(page) == []

        page.check("#outcome-granted")
        page.fill("#motivation", MOTIVATION)
        assert page.input_value("#amount") == "264"
        page.click("text=Besluit opslaan")
        page.wait_for_selector("#notice")

        assert _text(page, "#notice") == "Het besluit is opgeslagen."
        assert "Toegekend" in _text(page, ".review-decision")
        assert axe_violations(page) == []


def _assert_checks_passed(page) -> None:
    """Every line of the re-verification passed, as presented and now."""
    table = page.locator("table:has(#reverify-caption) tbody tr")
    assert table.count() > 0
    for index in range(table.count()):
        cells = table.nth(index).locator("td")
        check = cells.nth(0).inner_text()
        assert cells.nth(1).inner_text().startswith("✓ Geslaagd"), check
        assert cells.nth(2).inner_text().startswith("✓ Geslaagd"), check


def _assert_outcome_equal(page) -> None:
    """Each compared field of the recomputation equals the voucher's value."""
    table = page.locator("table:has(#comparison-caption) tbody tr")
    lines = {}
    for index in range(table.count()):
        row = table.nth(index)
        field = row.locator("th").inner_text()
        lines[field] = [cell.inner_text() for cell in row.locator("td").all()]
    assert list(lines) == list(outcomes.COMPARED_FIELDS)
    assert lines["uitkomst"] == ["eligible", "eligible", "✓ Gelijk"]
    assert lines["bedrag"] == ["264", "264", "✓ Gelijk"]
    for field, (_, _, comparison) in lines.items():
        assert comparison == "✓ Gelijk", field


def _take_decision(page, journey, holder) -> None:
    """Check again, see the grant, and let the wallet take the decision offer."""
    page.click("[data-stappen-decision-refresh]")
    _wait_for_heading(page, "Uw aanvraag is toegekend")

    assert _text(page, "[data-stappen-decision-amount]") == "Bedrag: € 264"
    assert _text(page, "[data-stappen-decision-motivation]") == MOTIVATION
    assert page.is_hidden("[data-stappen-decision-objection]")
    assert axe_violations(page) == []

    page.click("[data-stappen-decision-collect]")
    page.wait_for_selector("[data-stappen-wallet-qr]:not([hidden]) svg")
    assert axe_violations(page) == []
    received = holder.receive(page.get_attribute("[data-stappen-wallet-link]", "href"))
    _wait_for_status(page, journey, "het besluit staat in uw wallet-app")

    assert len(received) == 1
    assert page.get_attribute("[data-stappen-wallet-done] a", "href") == "../klaar/"
    assert page.evaluate("document.activeElement.textContent") == "Volgende"
    assert axe_violations(page) == []


def _wait_for_heading(page, text: str) -> None:
    page.wait_for_function(
        "(text) => document.querySelector('[data-stappen-decision-heading]')"
        "?.textContent === text",
        arg=text,
    )


def _trail(journey, reference: str):
    """Run ``audit verify``; return its result and the application's event kinds."""
    app = journey["app"]
    verified = app.test_cli_runner().invoke(args=["audit", "verify"])
    with app.extensions["stappen.storage"].connection() as db:
        application = db.application_by_reference(reference)
        events = audit.read_events(db)
    kinds = [event.kind for event in events if event.subject == application["id"]]
    return verified, kinds


def test_apply_review_decide_in_browser(chromium, journey):
    with new_page(chromium) as page:
        holder = _collect_voucher(page, journey, "journey-sanne")
        checked = _text(page, "[data-stappen-check-heading]")
        assert checked == "U heeft recht op deze regeling"
        assert _text(page, "[data-stappen-check-amount]") == "Bedrag: € 264"
        reference = _apply(page, journey, holder)
        assert REFERENCE.fullmatch(reference), reference

        _open_pending_decision(page)
        # The consultant portal is part of the API that the page calls.
        api_url = page.get_attribute("[data-stappen-decision]", "data-api")
        _review_and_grant(chromium, api_url, reference)
        _take_decision(page, journey, holder)

    decisions = [
        credential
        for credential in Wallet.load(holder.wallet_path).credentials
        if credential.vct == DECISION_VCT
    ]
    verified, kinds = _trail(journey, reference)
    [decision] = decisions
    assert decision.claims["besluit"] == "toegekend"
    assert decision.claims["referentie"] == reference
    assert decision.claims["bedrag"] == "264"
    assert decision.claims["motivering"] == MOTIVATION
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("Audit trail intact: "), verified.output
    assert kinds == [
        "application.created",
        "consultant.viewed",
        "decision.made",
        "consultant.viewed",
        "decision_credential.offered",
        "decision_credential.issued",
    ]
