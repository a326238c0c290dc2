"""A citizen's wallet step page, end to end, in headless Chromium.

The API runs on one loopback port and the built site on another, so the
page calls the API across origins, as a site on GitHub Pages does. The
project's test wallet plays the citizen's phone: it reads the wallet URL
from the page's same-device link, over real HTTP.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from werkzeug.serving import make_server

from stappen import apiconfig
from stappen.api import create_app
from stappen.building import build
from stappen.wallet.holder import Holder
from stappen.wallet.store import Wallet
from tests.apiharness import Clock
from tests.browser import new_page, wait_until_ready
from tests.conftest import PROJECT
from tests.sitecrawl import serve_site

pytestmark = pytest.mark.browser

PREFIX = "/portaal/"


@pytest.fixture(scope="module")
def portal(tmp_path_factory, chromium):
    """The API and the built VIL site, each on its own loopback port."""
    folder = tmp_path_factory.mktemp("portal")
    clock = Clock()
    server = make_server("127.0.0.1", 0, None, threaded=True)
    port = server.server_port
    server.server_close()
    api_url = f"http://127.0.0.1:{port}"

    site = folder / "site"
    build(PROJECT / "steps", site, base_url=PREFIX, api_url=api_url, workers=1)
    with serve_site(site, PREFIX) as site_base:
        app = create_app(
            {
                "STEPS_DIR": str(PROJECT / "steps"),
                "KEYS_DIR": str(folder / "keys"),
                "DATABASE_URL": f"sqlite:///{folder / 'api.sqlite3'}",
                "SITE_ORIGINS": site_base,
                "PUBLIC_URL": api_url,
                "STAPPEN_CLOCK": clock,
            }
        )
        apiconfig.generate_keys(app)
        app.extensions["stappen.storage"].init_schema()
        api_server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=api_server.serve_forever, daemon=True)
        thread.start()
        try:
            yield {"site": site_base + PREFIX, "clock": clock, "folder": folder}
        finally:
            api_server.shutdown()


def _holder(portal, name: str) -> Holder:
    clock = portal["clock"]
    path = portal["folder"] / f"{name}.json"
    Wallet.create(path)
    return Holder(
        path,
        clock=lambda: clock.epoch,
        sleep=clock.advance,
    )


def _show_code(page, portal, step: str) -> str:
    page.goto(f"{portal['site']}nl/vil/{step}/")
    wait_until_ready(page)
    page.click("[data-stappen-wallet-start]")
    page.wait_for_selector("[data-stappen-wallet-qr]:not([hidden]) svg")
    return page.get_attribute("[data-stappen-wallet-link]", "href")


def _wait_for_status(page, portal, text: str) -> None:
    """Let the page poll (the API's clock moves on) until it shows ``text``."""
    for _ in range(40):
        portal["clock"].advance(1)
        status = page.text_content("[data-stappen-wallet-status]") or ""
        if text in status:
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"status never showed {text!r}; last: {status!r}")


def test_issue_then_present_reaches_verified(chromium, portal):
    holder = _holder(portal, "sanne")
    with new_page(chromium) as page:
        wallet_url = _show_code(page, portal, "gegevens-ophalen")
        received = holder.receive(wallet_url)
        _wait_for_status(page, portal, "de gegevens staan in uw wallet-app")
        next_visible = page.is_visible("[data-stappen-wallet-done] a")

        request_url = _show_code(page, portal, "gegevens-delen")
        holder.present(request_url)
        _wait_for_status(page, portal, "uw gegevens zijn gecontroleerd")
    assert wallet_url.startswith("openid-credential-offer://")
    assert len(received) == 6
    assert next_visible
    assert request_url.startswith("openid4vp://")


def test_declined_request_shown(chromium, portal):
    holder = _holder(portal, "declines")
    with new_page(chromium) as page:
        request_url = _show_code(page, portal, "gegevens-delen")
        holder.present(request_url, decline=True)
        _wait_for_status(page, portal, "geweigerd")
        new_code = page.is_visible("[data-stappen-wallet-new]")
    assert new_code


def test_expired_code_offers_new_one(chromium, portal):
    with new_page(chromium) as page:
        first = _show_code(page, portal, "gegevens-delen")
        portal["clock"].advance(600)
        _wait_for_status(page, portal, "De code is verlopen")
        page.click("[data-stappen-wallet-new]")
        page.wait_for_selector("[data-stappen-wallet-qr]:not([hidden]) svg")
        second = page.get_attribute("[data-stappen-wallet-link]", "href")
    assert second != first


def test_qr_step_names_alternative(chromium, portal):
    with new_page(chromium) as page:
        page.goto(f"{portal['site']}nl/vil/gegevens-delen/")
        wait_until_ready(page)
        summary = page.text_content(".stappen-wallet__help summary")
    assert summary == "Kunt u de QR-code niet scannen?"


def test_independent_holder_through_page(chromium, portal):
    from stappen import keys
    from tests.test_independent_holder import _run_holder, _succeeded

    app_keys = portal["folder"] / "keys"
    issuer_jwks = portal["folder"] / "issuer-jwks.json"
    public = keys.public_keyset(keys.load_keyset(app_keys / apiconfig.ISSUER_KEY_FILE))
    issuer_jwks.write_text(json.dumps(public), encoding="utf-8")
    wallet = str(portal["folder"] / "node-wallet.json")
    # The Node holder signs with the real time, so the API's clock must show it.
    portal["clock"].now = datetime.now(UTC)
    with new_page(chromium) as page:
        offer_url = _show_code(page, portal, "gegevens-ophalen")
        _succeeded(
            _run_holder(
                "receive",
                offer_url,
                "--wallet",
                wallet,
                "--issuer-jwks",
                str(issuer_jwks),
                "--allow-http",
            )
        )
        _wait_for_status(page, portal, "de gegevens staan in uw wallet-app")

        request_url = _show_code(page, portal, "gegevens-delen")
        certificate = app_keys / apiconfig.VERIFIER_CERTIFICATE_FILE
        _succeeded(
            _run_holder(
                "present",
                request_url,
                "--wallet",
                wallet,
                "--trust-certificate",
                str(certificate),
                "--allow-http",
            )
        )
        _wait_for_status(page, portal, "uw gegevens zijn gecontroleerd")
