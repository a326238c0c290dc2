"""Every state of the VIL wallet steps, checked with axe-core and at 320 px.

Both wallet steps of ``steps/vil`` run against the real API on loopback
(the ``portal`` fixture of test_wallet_page.py), in Dutch and in English.
Each test drives the page through the session states and hands every
state to an ``Inspector``. The status text of each state must equal the
portal's text for it in ``stappen.i18n``, the issuing step's own text
where it has one.

The session state ``submitted`` shows on the page only for issuing. The
verifier moves a presentation from ``request_retrieved`` through
``submitted`` to ``verified`` or ``failed`` within the one response POST,
so the page, which polls once a second, never shows it. An issuing session
stays ``submitted`` from the token response until the last credential
request, so the issuing test sends the token request itself and looks there.

An issuing step never ends ``rejected`` or ``failed`` here. A wallet has
no way to decline an offer to the issuer, and the issuer fails a session
only after wrong transaction codes, which gegevens-ophalen does not ask.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

import pytest

from stappen.errors import Problems
from stappen.flows import load_flow
from stappen.i18n import messages
from stappen.issuer import TOKEN_PATH
from stappen.wallet.receiving import PRE_AUTHORIZED_GRANT
from stappen.wallet.transport import ResponseRejected
from tests import test_wallet_page
from tests.browser import new_page, wait_until_ready
from tests.conftest import PROJECT
from tests.inspection import (
    MOUSE_COUNTER,
    Inspector,
    describe_focus,
    focused,
    mouse_presses,
    tab_to,
)

pytestmark = pytest.mark.browser

portal = test_wallet_page.portal
_holder = test_wallet_page._holder

LANGUAGES = ["nl", "en"]
ISSUE_STEP = "gegevens-ophalen"
PRESENT_STEP = "gegevens-delen"
EXPIRES_IN = 600
"""Seconds a VIL wallet code is valid (``expires_in`` of both steps)."""

STATUS = "[data-stappen-wallet-status]"
QR_SHOWN = "[data-stappen-wallet-qr]:not([hidden]) svg"
HELP = ".stappen-wallet__help"

# Puts the contents of each <noscript> in its place. With scripting on, the
# browser keeps those contents as text. With scripting off, it shows them.
SHOW_NOSCRIPT = """
() => {
  for (const element of document.querySelectorAll("noscript")) {
    const template = document.createElement("template");
    template.innerHTML = element.textContent;
    element.replaceWith(template.content);
  }
}
"""


def _organisation(lang: str) -> str:
    problems = Problems()
    flow = load_flow(PROJECT / "steps" / "vil", problems)
    assert not problems.errors, [str(problem) for problem in problems.errors]
    return flow.organisation.name[lang]


# Helpers ---------------------------------------------------------------------


def _open(page, portal, lang: str, step: str) -> None:
    page.goto(f"{portal['site']}{lang}/vil/{step}/")
    wait_until_ready(page)


def _wallet_url(page) -> str:
    page.wait_for_selector(QR_SHOWN)
    return page.get_attribute("[data-stappen-wallet-link]", "href")


def _start(page) -> str:
    """Press the start button and return the wallet URL of the code shown."""
    page.click("[data-stappen-wallet-start]")
    return _wallet_url(page)


def _new_code(page, old_url: str) -> str:
    """Press the new-code button and return the wallet URL of the new code."""
    page.click("[data-stappen-wallet-new]")
    page.wait_for_function(
        "(old) => document.querySelector('[data-stappen-wallet-link]').href !== old",
        arg=old_url,
    )
    return _wallet_url(page)


def _status_text(lang: str, state: str, purpose: str) -> str:
    """Return the status text for ``state``: the purpose's own, else the common."""
    texts = messages(lang)
    return texts.get(
        f"wallet_status_{purpose}_{state}", texts[f"wallet_status_{state}"]
    )


def _reach(page, portal, lang: str, state: str) -> None:
    """Let the page poll, moving the API's clock, until it shows ``state``.

    The status text must equal the portal's text for ``state`` in ``lang``.
    """
    purpose = page.get_attribute("[data-stappen-wallet]", "data-purpose")
    expected = _status_text(lang, state, purpose)
    status = ""
    for _ in range(40):
        status = page.text_content(STATUS) or ""
        if status == expected:
            return
        portal["clock"].advance(1)
        page.wait_for_timeout(250)
    raise AssertionError(
        f"the status never showed {state!r} ({expected!r}); last: {status!r}"
    )


def _look_at(page, portal, inspector, lang, state, name: str = "") -> None:
    """Wait until the page shows ``state``, then inspect it as ``name``."""
    _reach(page, portal, lang, state)
    inspector.look(page, name or state)


def _query(url: str, name: str) -> str:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)[name][0]


def _fetch_offer(offer_url: str) -> dict:
    """Fetch the credential offer as a wallet does, so the session moves on."""
    uri = _query(offer_url, "credential_offer_uri")
    with urllib.request.urlopen(uri, timeout=10) as response:
        return json.load(response)


def _request_token(offer_url: str, offer: dict) -> None:
    """Send the token request for ``offer``, so the session becomes submitted."""
    parts = urllib.parse.urlsplit(_query(offer_url, "credential_offer_uri"))
    code = offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code}
    url = f"{parts.scheme}://{parts.netloc}{TOKEN_PATH}"
    body = urllib.parse.urlencode(form).encode()
    with urllib.request.urlopen(url, data=body, timeout=10) as response:
        assert response.status == 200


def _fetch_request_object(request_url: str) -> None:
    """Fetch the request object as a wallet does, and send no response."""
    uri = _query(request_url, "request_uri")
    with urllib.request.urlopen(uri, timeout=10) as response:
        assert response.status == 200


def _abort_api(page, portal) -> None:
    """Make every request outside the site fail, as when the API is down."""
    site_origin = portal["site"].split(test_wallet_page.PREFIX)[0]
    page.route(
        lambda url: not url.startswith(site_origin),
        lambda route: route.abort("connectionrefused"),
    )


def _look_without_javascript(chromium, portal, inspector, lang, step) -> str:
    """Inspect the step as without JavaScript; return the wallet section's text.

    axe-core's run did not finish in a page with JavaScript off (Chromium
    156 through Playwright). So the inspected page runs none of the site's
    scripts and shows its ``<noscript>`` contents, as a browser without
    JavaScript does. The returned text comes from a page with JavaScript off.
    """
    url = f"{portal['site']}{lang}/vil/{step}/"
    with new_page(chromium) as page:
        page.route("**/*.js", lambda route: route.abort())
        page.goto(url)
        page.evaluate(SHOW_NOSCRIPT)
        inspector.look(page, "without JavaScript")
    with new_page(chromium, java_script_enabled=False) as page:
        page.goto(url)
        return page.inner_text(".stappen-wallet")


def _needs_javascript(lang: str) -> str:
    return messages(lang)["needs_javascript"].format(organisation=_organisation(lang))


# Issuing ---------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_issue_step_states(chromium, portal, lang):
    inspector = Inspector()
    holder = _holder(portal, f"issue-states-{lang}")
    with new_page(chromium) as page:
        _open(page, portal, lang, ISSUE_STEP)
        inspector.look(page, "before start")
        start_visible = page.is_visible("[data-stappen-wallet-start]")

        offer_url = _start(page)
        _look_at(page, portal, inspector, lang, "created")

        _fetch_offer(offer_url)
        _look_at(page, portal, inspector, lang, "request_retrieved")

        holder.receive(offer_url)
        _look_at(page, portal, inspector, lang, "issued")
        next_focused = focused(page, "[data-stappen-wallet-done] a")

        _open(page, portal, lang, ISSUE_STEP)
        offer_url = _start(page)
        _request_token(offer_url, _fetch_offer(offer_url))
        _look_at(page, portal, inspector, lang, "submitted")

        page.click("[data-stappen-wallet-cancel]")
        _look_at(page, portal, inspector, lang, "cancelled")

        offer_url = _new_code(page, offer_url)
        portal["clock"].advance(EXPIRES_IN)
        _look_at(page, portal, inspector, lang, "expired")

        _new_code(page, offer_url)
        _look_at(page, portal, inspector, lang, "created", "new code after expiry")

        _abort_api(page, portal)
        _look_at(page, portal, inspector, lang, "error")
        new_code_visible = page.is_visible("[data-stappen-wallet-new]")

    without_script = _look_without_javascript(
        chromium, portal, inspector, lang, ISSUE_STEP
    )
    assert start_visible
    assert next_focused
    assert new_code_visible
    assert _needs_javascript(lang) in without_script
    assert inspector.problems == {}


# Presenting ------------------------------------------------------------------


def _present_failing(holder, request_url: str) -> None:
    """Present with a KB-JWT bound to another nonce, which the verifier fails."""
    with pytest.raises(ResponseRejected, match="failed checks key binding"):
        holder.present(request_url, mode="wrong-nonce")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_present_step_states(chromium, portal, lang):
    inspector = Inspector()
    holder = _holder(portal, f"present-states-{lang}")
    with new_page(chromium) as page:
        _open(page, portal, lang, ISSUE_STEP)
        holder.receive(_start(page))
        _reach(page, portal, lang, "issued")

        _open(page, portal, lang, PRESENT_STEP)
        inspector.look(page, "before start")

        request_url = _start(page)
        _look_at(page, portal, inspector, lang, "created")

        _fetch_request_object(request_url)
        _look_at(page, portal, inspector, lang, "request_retrieved")

        page.click("[data-stappen-wallet-cancel]")
        _look_at(page, portal, inspector, lang, "cancelled")

        request_url = _new_code(page, request_url)
        holder.present(request_url, decline=True)
        _look_at(page, portal, inspector, lang, "rejected")

        request_url = _new_code(page, request_url)
        _present_failing(holder, request_url)
        _look_at(page, portal, inspector, lang, "failed")

        request_url = _new_code(page, request_url)
        portal["clock"].advance(EXPIRES_IN)
        _look_at(page, portal, inspector, lang, "expired")

        request_url = _new_code(page, request_url)
        _look_at(page, portal, inspector, lang, "created", "new code after expiry")

        holder.present(request_url)
        _look_at(page, portal, inspector, lang, "verified")
        next_focused = focused(page, "[data-stappen-wallet-done] a")

        _open(page, portal, lang, PRESENT_STEP)
        _abort_api(page, portal)
        page.click("[data-stappen-wallet-start]")
        _look_at(page, portal, inspector, lang, "error")
        new_code_visible = page.is_visible("[data-stappen-wallet-new]")

    without_script = _look_without_javascript(
        chromium, portal, inspector, lang, PRESENT_STEP
    )
    assert next_focused
    assert new_code_visible
    assert _needs_javascript(lang) in without_script
    assert inspector.problems == {}


# The alternative to scanning -------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("step", [ISSUE_STEP, PRESENT_STEP])
def test_scan_alternative_by_keyboard(chromium, portal, lang, step):
    texts = messages(lang)
    with new_page(chromium) as page:
        page.context.add_init_script(MOUSE_COUNTER)
        _open(page, portal, lang, step)
        tab_to(page, "[data-stappen-wallet-start]")
        page.keyboard.press("Enter")
        wallet_url = _wallet_url(page)

        tab_to(page, f"{HELP} summary")
        summary = page.inner_text(f"{HELP} summary")
        page.keyboard.press("Enter")
        opened = page.evaluate(f"document.querySelector('{HELP}').open")
        body = page.inner_text(f"{HELP} p")

        tab_to(page, "[data-stappen-wallet-link]")
        link_text = page.inner_text("[data-stappen-wallet-link]")
        link_href = page.get_attribute("[data-stappen-wallet-link]", "href")
        presses = mouse_presses(page)

    assert summary == texts["wallet_no_camera_title"]
    assert opened
    call = texts["wallet_no_camera_call"].format(
        organisation=_organisation(lang), phone="14 030"
    )
    assert body == f"{texts['wallet_no_camera_body']} {call}"
    assert texts["wallet_open_app"] in body
    assert link_text == texts["wallet_open_app"]
    assert link_href == wallet_url
    assert presses == 0


# The focus -------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_wallet_buttons_move_focus(chromium, portal, lang):
    """Each wallet button hides itself, so the focus moves on to a shown part."""
    with new_page(chromium) as page:
        page.context.add_init_script(MOUSE_COUNTER)
        _open(page, portal, lang, PRESENT_STEP)
        tab_to(page, "[data-stappen-wallet-start]")
        page.keyboard.press("Enter")
        first_url = _wallet_url(page)
        after_start = describe_focus(page)
        code_after_start = focused(page, "[data-stappen-wallet-qr]")

        tab_to(page, "[data-stappen-wallet-cancel]")
        page.keyboard.press("Enter")
        _reach(page, portal, lang, "cancelled")
        after_cancel = describe_focus(page)
        new_after_cancel = focused(page, "[data-stappen-wallet-new]")

        page.keyboard.press("Enter")
        second_url = _wallet_url(page)
        after_new = describe_focus(page)
        code_after_new = focused(page, "[data-stappen-wallet-qr]")
        presses = mouse_presses(page)

    assert code_after_start, after_start
    assert new_after_cancel, after_cancel
    assert code_after_new, after_new
    assert second_url != first_url
    assert presses == 0
