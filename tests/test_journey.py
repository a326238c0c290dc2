"""The whole VIL journey in headless Chromium, as a citizen walks it.

The API runs on one loopback port and the built site on another, under a
sub-path as GitHub Pages serves it (the ``portal`` fixture of
test_wallet_page.py). Each run opens the flow's start page and from there
only clicks, types and follows the pages' own links. The one exception is
the decision page, which the citizen reopens later from the link that the
application page gave, as a citizen coming back would.

The runs save a screenshot of each page they pass, at a phone and at a
desktop width (tests/screenshots.py), for the authors' overview:
``make screenshots`` writes them to docs/screenshots.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from stappen import apiconfig, keys
from stappen.wallet.store import Wallet
from stappen.wallet.transport import ServerError
from tests.browser import new_page, wait_until_ready
from tests.consultants import add_consultant
from tests.nodejs import node_or_skip, require_packages
from tests.screenshots import Camera, screenshot_folder
from tests.test_application_journey import (
    DECISION_VCT,
    IN_PERIOD,
    MOTIVATION,
    _assert_checks_passed,
    _assert_outcome_equal,
    _wait_for_heading,
    portal_app,
)
from tests.test_application_page import REFERENCE
from tests.test_check_page import _text
from tests.test_consultant_page import _log_in
from tests.test_independent_holder import (
    HOLDER,
    HOLDER_TIMEOUT_SECONDS,
    NPM_PACKAGES,
    _succeeded,
)
from tests.test_wallet_page import _holder, _wait_for_status, portal

pytestmark = pytest.mark.browser

__all__ = ["portal"]

FLOW = "vil"
SHIFTED_CLOCK = Path(__file__).resolve().parent / "js" / "shifted-clock.mjs"

ISSUED = "Gelukt: de gegevens staan in uw wallet-app."
VERIFIED = "Gelukt: uw gegevens zijn gecontroleerd."
EXPIRED = "De code is verlopen. Vraag een nieuwe code aan als u verder wilt."
VOUCHER_ISSUED = "de voucher staat in uw wallet-app"
DECISION_ISSUED = "het besluit staat in uw wallet-app"


@pytest.fixture(scope="module")
def camera(tmp_path_factory) -> Camera:
    """Where the runs save their screenshots (STAPPEN_SCREENSHOTS, or tmp)."""
    return Camera(screenshot_folder(tmp_path_factory.mktemp("screenshots")), FLOW)


@pytest.fixture(scope="module")
def consultants(portal):
    """Add the consultant account that grants the applications: carla."""
    add_consultant(portal_app(portal), "carla", "utrecht", name="Carla Smit")


@pytest.fixture
def in_period(portal, consultants):
    """The portal at a moment the rules of the check apply."""
    portal["clock"].now = IN_PERIOD
    return portal


class NodeHolder:
    """The independent holder of tests/js/holder as the citizen's wallet app.

    Node runs with its Date moved to the API's clock (tests/js/shifted-clock.mjs),
    so the holder's key binding times and its checks of the credentials'
    validity agree with the API, wherever the test has moved that clock.
    """

    def __init__(self, portal, name: str) -> None:
        require_packages(*NPM_PACKAGES)
        self.node = node_or_skip()
        self.clock = portal["clock"]
        folder = portal["folder"]
        self.wallet = folder / f"{name}.json"
        keys_dir = folder / "keys"
        self.certificate = keys_dir / apiconfig.VERIFIER_CERTIFICATE_FILE
        self.issuer_jwks = folder / "issuer-jwks.json"
        issuer = keys.load_keyset(keys_dir / apiconfig.ISSUER_KEY_FILE)
        self.issuer_jwks.write_text(json.dumps(keys.public_keyset(issuer)))
        self.received: list[dict] = []
        """The type and claims of each credential received, as the holder read them."""

    def receive(self, url: str) -> dict:
        outcome = self._run("receive", url, "--issuer-jwks", str(self.issuer_jwks))
        assert outcome["verified_by_holder"] is True
        self.received += outcome["credentials"]
        return outcome

    def present(self, url: str) -> dict:
        return self._run("present", url, "--trust-certificate", str(self.certificate))

    def _run(self, command: str, url: str, *options: str) -> dict:
        offset = self.clock.now - datetime.now(UTC)
        environment = {
            **os.environ,
            "STAPPEN_CLOCK_OFFSET_MS": str(int(offset.total_seconds() * 1000)),
        }
        wallet = ["--wallet", str(self.wallet), "--allow-http"]
        arguments = [command, url, *wallet, *options]
        result = subprocess.run(
            [self.node, "--import", SHIFTED_CLOCK.as_uri(), str(HOLDER), *arguments],
            env=environment,
            capture_output=True,
            text=True,
            timeout=HOLDER_TIMEOUT_SECONDS,
            check=False,
        )
        return _succeeded(result)


# The citizen's moves


def _shoot(camera: Camera | None, page, step: str, state=None, **options) -> None:
    if camera is not None:
        camera.shoot(page, step, state, **options)


def _arrive(page, step: str, camera: Camera | None = None) -> None:
    """Wait until the browser shows ``step``'s page and its script is ready."""
    page.wait_for_url(f"**/nl/{FLOW}/{step}/")
    wait_until_ready(page)
    _shoot(camera, page, step)


def _answer(page, label: str, step: str, camera: Camera | None = None) -> None:
    """Choose the option labelled ``label``, go on and arrive at ``step``."""
    page.get_by_label(label, exact=True).check()
    page.get_by_role("button", name="Volgende", exact=True).click()
    _arrive(page, step, camera)


def _follow_next(page, step: str, camera: Camera | None = None) -> None:
    """Follow the page's one visible Volgende link to ``step``."""
    page.get_by_role("link", name="Volgende", exact=True).click()
    _arrive(page, step, camera)


def _show_code(page, start: str = "[data-stappen-wallet-start]") -> str:
    """Ask for a QR code and return the same-device link to the wallet app."""
    page.click(start)
    page.wait_for_selector("[data-stappen-wallet-qr]:not([hidden]) svg")
    return page.get_attribute("[data-stappen-wallet-link]:visible", "href")


def _begin(page, portal, camera: Camera | None) -> None:
    """Open the flow's start page and answer the questions before the wallet."""
    page.goto(f"{portal['site']}nl/{FLOW}/")
    wait_until_ready(page)
    page.get_by_role("link", name="Start", exact=True).click()
    _arrive(page, "heeft-wallet", camera)
    _answer(page, "Ja", "gegevens-uitleg", camera)
    _follow_next(page, "heeft-gegevens", camera)
    _answer(page, "Nee", "gegevens-ophalen", camera)


def _collect_data(page, portal, holder, persona: str, camera=None) -> None:
    """Choose the persona and let the wallet app receive its data."""
    page.get_by_label(persona, exact=True).check()
    holder.receive(_show_code(page))
    _shoot(camera, page, "gegevens-ophalen", "qr")
    _wait_for_status(page, portal, ISSUED)
    _shoot(camera, page, "gegevens-ophalen", "done")
    _follow_next(page, "regeling", camera)


def _share_data(page, portal, holder, camera=None) -> None:
    """Choose the scheme and the wallet, and let the wallet app present."""
    _answer(page, "Individuele inkomenstoeslag", "manier", camera)
    _answer(page, "Meteen met de gegevens uit mijn wallet", "gegevens-delen", camera)
    holder.present(_show_code(page))
    _shoot(camera, page, "gegevens-delen", "qr")
    _wait_for_status(page, portal, VERIFIED)
    _shoot(camera, page, "gegevens-delen", "done")
    _follow_next(page, "toets")
    page.wait_for_selector(
        "[data-stappen-check-result]:not([hidden]), "
        "[data-stappen-check-error]:not([hidden])"
    )
    assert page.is_hidden("[data-stappen-check-error]"), _text(
        page, "[data-stappen-check-error-text]"
    )


def _walk_to_check(page, portal, holder, persona: str, camera=None) -> None:
    """Walk from the start page to the check's result with ``persona``'s data."""
    _begin(page, portal, camera)
    _collect_data(page, portal, holder, persona, camera)
    _share_data(page, portal, holder, camera)


def _collect_voucher(page, portal, holder, camera=None) -> None:
    """Let the wallet app take the voucher the eligible check page offers."""
    page.wait_for_selector("[data-stappen-check-voucher] svg")
    _shoot(camera, page, "toets", "eligible")
    holder.receive(
        page.get_attribute(
            "[data-stappen-check-voucher] [data-stappen-wallet-link]", "href"
        )
    )
    _wait_for_status(page, portal, VOUCHER_ISSUED)
    _shoot(camera, page, "toets", "voucher-received")
    _follow_next(page, "voucher", camera)
    _follow_next(page, "aanvragen", camera)


def _redeem(page, portal, holder, camera=None) -> tuple[str, str]:
    """Present the voucher; return the reference and the link to reopen it."""
    holder.present(_show_code(page))
    _shoot(camera, page, "aanvragen", "qr")
    _wait_for_status(page, portal, "VIL-")
    _shoot(camera, page, "aanvragen", "received")
    heading = _text(page, "[data-stappen-application-heading]")
    reference = _text(page, "[data-stappen-application-reference]")
    reopen = page.get_attribute("[data-stappen-application-reopen-link]", "href")

    assert heading == "Uw aanvraag is ontvangen"
    assert REFERENCE.fullmatch(reference), reference
    return reference, reopen


def _review_and_grant(chromium, api_url: str, reference: str, camera=None) -> None:
    """Log in to the consultant portal in another context and grant."""
    with new_page(chromium) as page:
        _log_in(page, api_url)
        page.get_by_role("link", name=reference, exact=True).click()
        page.wait_for_selector("#summary-title")
        _shoot(camera, page, "aanvragen", "consultant-review", full_page=False)

        assert _text(page, "h1") == f"Aanvraag {reference}"
        assert _text(page, "#summary-title + p") == "✓ Alle controles geslaagd"
        _assert_checks_passed(page)
        _assert_outcome_equal(page)

        page.check("#outcome-granted")
        page.fill("#motivation", MOTIVATION)
        page.click("text=Besluit opslaan")
        page.wait_for_selector("#notice")
        _shoot(camera, page, "aanvragen", "consultant-granted", full_page=False)

        assert _text(page, "#notice") == "Het besluit is opgeslagen."


def _take_decision(page, portal, holder, camera=None) -> None:
    """See the grant on the reopened decision page; let the wallet take it."""
    _wait_for_heading(page, "Uw aanvraag is toegekend")
    _shoot(camera, page, "besluit", "granted")

    assert _text(page, "[data-stappen-decision-amount]") == "Bedrag: € 264"
    assert _text(page, "[data-stappen-decision-motivation]") == MOTIVATION

    holder.receive(_show_code(page, "[data-stappen-decision-collect]"))
    _shoot(camera, page, "besluit", "qr")
    _wait_for_status(page, portal, DECISION_ISSUED)
    _shoot(camera, page, "besluit", "received")
    _follow_next(page, "klaar", camera)


# The runs


def test_eligible_citizen_reaches_decision(chromium, in_period, camera):
    holder = _holder(in_period, "in_period-eligible")
    with new_page(chromium) as page:
        _walk_to_check(page, in_period, holder, "Sanne Testpersoon", camera)
        heading = _text(page, "[data-stappen-check-heading]")
        amount = _text(page, "[data-stappen-check-amount]")
        _collect_voucher(page, in_period, holder, camera)
        reference, reopen = _redeem(page, in_period, holder, camera)

        page.get_by_role("link", name="Volgende", exact=True).click()
        _arrive(page, "besluit")
        _wait_for_heading(page, "Uw aanvraag is in behandeling")
        _shoot(camera, page, "besluit", "pending")
        api_url = page.get_attribute("[data-stappen-decision]", "data-api")
        _review_and_grant(chromium, api_url, reference, camera)

        # The citizen comes back later in a new tab, from the saved link.
        later = page.context.new_page()
        later.goto(reopen)
        wait_until_ready(later)
        _take_decision(later, in_period, holder, camera)
        outcome = _text(later, "h1")

    decisions = [
        credential
        for credential in Wallet.load(holder.wallet_path).credentials
        if credential.vct == DECISION_VCT
    ]
    assert heading == "U heeft recht op deze regeling"
    assert amount == "Bedrag: € 264"
    assert reopen.startswith(f"{in_period['site']}nl/{FLOW}/besluit/#ref={reference}")
    assert outcome == "Het besluit staat in uw wallet"
    assert [decision.claims["referentie"] for decision in decisions] == [reference]
    assert decisions[0].claims["besluit"] == "toegekend"


def test_ineligible_citizen_sees_reason(chromium, in_period, camera):
    holder = _holder(in_period, "journey-ineligible")
    with new_page(chromium) as page:
        _walk_to_check(page, in_period, holder, "Jeroen Proefmans")
        _shoot(camera, page, "toets", "not-eligible")
        heading = _text(page, "[data-stappen-check-heading]")
        reason = _text(page, "[data-stappen-check-outcome]")
        voucher_hidden = page.is_hidden("[data-stappen-check-voucher]")
        _follow_next(page, "geen-toeslag", camera)
        outcome = _text(page, "h1")
    assert heading == "U heeft geen recht op deze regeling"
    assert reason == (
        "U woont alleen, zonder kinderen. Uw netto inkomen is hoger dan 1.533 euro "
        "per maand, of uw vermogen is hoger dan 7.605 euro. Daarom krijgt u geen "
        "toeslag."
    )
    assert voucher_hidden
    assert outcome == "U heeft geen recht op de individuele inkomenstoeslag"


def test_independent_holder_walks_journey(chromium, in_period):
    holder = NodeHolder(in_period, "journey-node")
    with new_page(chromium) as page:
        _walk_to_check(page, in_period, holder, "Sanne Testpersoon")
        heading = _text(page, "[data-stappen-check-heading]")
        _collect_voucher(page, in_period, holder)
        reference, _ = _redeem(page, in_period, holder)
        page.get_by_role("link", name="Volgende", exact=True).click()
        _arrive(page, "besluit")
        _wait_for_heading(page, "Uw aanvraag is in behandeling")
        api_url = page.get_attribute("[data-stappen-decision]", "data-api")
        _review_and_grant(chromium, api_url, reference)
        page.click("[data-stappen-decision-refresh]")
        _take_decision(page, in_period, holder)
    decisions = [
        credential
        for credential in holder.received
        if credential["vct"] == DECISION_VCT
    ]
    assert heading == "U heeft recht op deze regeling"
    assert REFERENCE.fullmatch(reference), reference
    assert [decision["claims"]["referentie"] for decision in decisions] == [reference]


def test_expired_code_replaced_by_new(chromium, in_period, camera):
    holder = _holder(in_period, "journey-expired")
    with new_page(chromium) as page:
        _begin(page, in_period, None)
        page.get_by_label("Sanne Testpersoon", exact=True).check()
        first = _show_code(page)
        in_period["clock"].advance(601)
        _wait_for_status(page, in_period, "De code is verlopen")
        status = _text(page, "[data-stappen-wallet-status]")
        qr_hidden = page.is_hidden("[data-stappen-wallet-qr]")
        _shoot(camera, page, "gegevens-ophalen", "expired")

        with pytest.raises(ServerError, match="the session is expired"):
            holder.receive(first)
        second = _show_code(page, "[data-stappen-wallet-new]")
        holder.receive(second)
        _wait_for_status(page, in_period, ISSUED)
        _follow_next(page, "regeling")
        _share_data(page, in_period, holder)
        heading = _text(page, "[data-stappen-check-heading]")
    assert status == EXPIRED
    assert qr_hidden
    assert second != first
    assert heading == "U heeft recht op deze regeling"
