"""Every page of the consultant portal, in Dutch and English: axe, reflow, keyboard.

The walk logs in as a consultant and as an administrator in headless
Chromium and passes each page and state to an ``Inspector``, which runs
axe-core's WCAG 2.1 A and AA rules and the 320 px reflow check. A coverage
test then asserts that every HTML page of the blueprint was looked at in
both languages, so a page added later fails it until it is walked too.
The keyboard tests use Tab, Enter, Space and the arrow keys only, and
count pointer presses to prove it.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import pytest

from stappen import apiconfig, storage
from stappen.consultant import accounts, cli, review_views
from stappen.consultant.admin_texts import ADMIN_TEXTS
from stappen.consultant.review_texts import REVIEW_TEXTS
from stappen.consultant.settings import EXTENSION_KEY, settings
from stappen.consultant.texts import TEXTS
from stappen.review import decide
from tests.apiharness import make_api, serve
from tests.browser import new_page
from tests.consultants import PASSWORD, add_consultant
from tests.inspection import (
    AXE,
    MAX_TABS,
    MOUSE_COUNTER,
    Inspector,
    describe_focus,
    focused,
    mouse_presses,
    tab_to,
)
from tests.reviewsetup import apply, make_review_api, revoke_issued
from tests.test_consultant_admin import account_row, lock, run_sql

pytestmark = pytest.mark.browser

LANGUAGES = ("nl", "en")
TEXT = {
    lang: {**TEXTS[lang], **REVIEW_TEXTS[lang], **ADMIN_TEXTS[lang]}
    for lang in LANGUAGES
}
UNINSPECTED_ENDPOINTS = {"consultant.asset", "consultant.evidence"}
"""GET routes that send no HTML page: the CSS and script files, the JSON export."""
OTHER_SCHEME = "Testregeling"
"""The revoked application's scheme: with the status granted it matches nothing."""
LOGIN_ATTEMPTS = 1000
"""The login attempts per address that the walk may make (the default is 10)."""

INCOME_VCT = "urn:stappen:vil:inkomen"
TAMPERED_DATA = '{"edited":true}'


@dataclasses.dataclass
class Portal:
    """A served API app, its base URL and the ids of its applications."""

    setup: object
    base: str
    applications: dict[str, str]
    """Application ids by state: undecided, granted, rejected and revoked."""
    visited: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    """The (endpoint, language) pairs that the inspector looked at."""

    @property
    def app(self):
        return self.setup.app

    def url(self, path: str) -> str:
        return self.base + path

    def detail(self, state: str) -> str:
        return self.url(f"/consultant/applications/{self.applications[state]}")


def _decide(setup, application_id: str, outcome: str, consultant_id: str) -> None:
    amount = "264" if outcome == "granted" else None
    with setup.app.extensions["stappen.storage"].connection() as db:
        decided = decide.decide(
            db,
            application_id,
            outcome=outcome,
            motivation="Getoetst aan de voorwaarden van de regeling.",
            amount=amount,
            consultant_id=consultant_id,
            now=apiconfig.now(setup.app),
        )
    assert decided


def _make_applications(setup, consultant_id: str) -> dict[str, str]:
    """Apply four times and bring each application to one state of the review."""
    ids = {}
    for state in ("undecided", "granted", "rejected", "revoked"):
        ids[state], issuing = apply(setup)
        if state == "revoked":
            setup.clock.advance(60)
            revoke_issued(setup, issuing, INCOME_VCT)
    _decide(setup, ids["granted"], "granted", consultant_id)
    _decide(setup, ids["rejected"], "rejected", consultant_id)
    run_sql(
        setup.app,
        "UPDATE applications SET scheme = :scheme WHERE id = :id",
        {"scheme": OTHER_SCHEME, "id": ids["revoked"]},
    )
    return ids


def _allow_many_logins(app) -> None:
    app.extensions[EXTENSION_KEY] = dataclasses.replace(
        settings(app), login_attempts=LOGIN_ATTEMPTS
    )


@pytest.fixture
def portal(tmp_path, monkeypatch):
    if not AXE.is_file():
        pytest.fail(f"{AXE} not found; run 'npm ci'")
    setup = make_review_api(tmp_path)
    _allow_many_logins(setup.app)
    anna = add_consultant(setup.app, "anna", "utrecht", name="Anna de Vries")
    add_consultant(setup.app, "bram", "utrecht", "administrator", name="Bram Bakker")
    add_consultant(setup.app, "dirk", "utrecht", name="Dirk Dekker")
    erik = add_consultant(setup.app, "erik", "utrecht", name="Erik Evers")
    with setup.app.app_context(), storage.request_store().connection() as db:
        cli.disable_account(db, erik.id, "system")
    applications = _make_applications(setup, anna.id)
    # Two applications a page, so the four make a second page.
    monkeypatch.setattr(review_views, "PAGE_SIZE", 2)
    with serve(setup.app) as base:
        yield Portal(setup, base, applications)


def _set_language(app, username: str, lang: str) -> None:
    with app.app_context(), storage.request_store().connection() as db:
        account = accounts.find_by_username(db, username)
        accounts.set_language(db, account.consultant.id, lang)


def _endpoint(app, url: str, method: str = "GET") -> str:
    """Return the endpoint of the app's URL rule that ``url`` matches."""
    adapter = app.url_map.bind("127.0.0.1")
    endpoint, _ = adapter.match(urlsplit(url).path, method=method)
    return endpoint


class Walk:
    """The walk through the portal in one language, with the page it drives."""

    def __init__(self, portal: Portal, inspector: Inspector, page, lang: str):
        self.portal = portal
        self.inspector = inspector
        self.page = page
        self.lang = lang
        self.text = TEXT[lang]

    def look(self, state: str, expected: str, method: str = "GET") -> None:
        """Check that the page shows ``expected`` in its language, then inspect it."""
        page = self.page
        assert expected in page.inner_text("main"), (state, self.lang, page.url)
        assert page.get_attribute("html", "lang") == self.lang, (state, page.url)
        self.inspector.look(page, f"{self.lang}: {state}")
        endpoint = _endpoint(self.portal.app, page.url, method)
        self.portal.visited.add((endpoint, self.lang))

    def title_marks_error(self) -> bool:
        return self.page.title().startswith(self.text["error_prefix"] + ": ")

    def goto(self, path: str) -> None:
        self.page.goto(self.portal.url(path))

    def submit_login(self, username: str, password: str) -> None:
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        with self.page.expect_navigation():
            self.page.click("main button[type=submit]")

    def click(self, selector: str) -> None:
        with self.page.expect_navigation():
            self.page.click(selector)


def _walk_login(walk: Walk) -> None:
    text = walk.text
    walk.goto(f"/consultant/login?lang={walk.lang}")
    walk.look("login", text["login_intro"])
    assert not walk.title_marks_error()

    walk.submit_login("anna", "wrong password")
    walk.look("login, wrong password", text["login_failed"])
    assert walk.title_marks_error()

    walk.submit_login("dirk", PASSWORD)
    walk.look("login, locked account", text["account_locked"].split("{")[0])


def _walk_list(walk: Walk) -> None:
    text = walk.text
    walk.submit_login("anna", PASSWORD)
    first_page = text["page_of"].format(page=1, pages=2)
    walk.look("applications, page 1", first_page)

    walk.goto(f"/consultant/applications?status=granted&scheme={OTHER_SCHEME}")
    walk.look("applications, filter without results", text["list_empty"])

    walk.goto("/consultant/applications?page=2")
    walk.look("applications, page 2", text["page_of"].format(page=2, pages=2))


def _walk_details(walk: Walk) -> None:
    text = walk.text
    portal = walk.portal
    expected = {
        "undecided": text["decide_button"],
        "granted": text["decided_granted"],
        "rejected": text["decided_rejected"],
        "revoked": text["some_checks_failed"],
    }
    for state, expected_text in expected.items():
        walk.page.goto(portal.detail(state))
        walk.look(f"application, {state}", expected_text)

    walk.page.goto(portal.detail("undecided"))
    walk.click(f"role=button[name='{text['decide_button']}']")
    walk.look("decision form, error summary", text["error_outcome"], "POST")
    assert walk.title_marks_error()

    token = walk.page.locator("main form input[name=csrf_token]")
    token.evaluate("(input) => { input.value = 'not-the-session-token'; }")
    walk.click(f"role=button[name='{text['decide_button']}']")
    walk.look("decision without CSRF token", text["error_csrf"], method="POST")


def _walk_errors(walk: Walk) -> None:
    text = walk.text
    walk.goto("/consultant/admin/audit")
    walk.look("403 for a consultant", text["error_forbidden"])

    walk.goto("/consultant/applications/no-such-application")
    walk.look("404 for an unknown application", text["error_not_found"])

    walk.click(f"header >> role=button[name='{text['logout']}']")
    walk.look("login after logging out", text["logged_out"])


def _walk_audit(walk: Walk) -> None:
    text = walk.text
    app = walk.portal.app
    walk.submit_login("bram", PASSWORD)
    walk.goto("/consultant/admin/audit")
    walk.look("audit, clean", text["no_problems"])

    walk.click(f"role=button[name='{text['sign_button']}']")
    walk.look("audit, after signing", text["signed_notice"].split("{")[0])

    original = _first_event_data(app)
    run_sql(
        app,
        "UPDATE audit_events SET data = :data WHERE seq = 1",
        {"data": TAMPERED_DATA},
    )
    walk.goto("/consultant/admin/audit")
    walk.look("audit, tampered event", text["problems_lang_note"])
    run_sql(
        app,
        "UPDATE audit_events SET data = :data WHERE seq = 1",
        {"data": original},
    )


def _walk_accounts(walk: Walk) -> None:
    text = walk.text
    walk.goto("/consultant/admin/accounts")
    walk.look("accounts, locked and disabled", text["enable"])

    walk.click(f"role=button[name='{text['unlock']} dirk']")
    walk.look("accounts, after unlock", text["unlocked_notice"].format(username="dirk"))

    walk.click(f"header >> role=button[name='{text['logout']}']")


def _first_event_data(app) -> str:
    with app.app_context(), storage.request_store().connection() as db:
        return db._one("SELECT data FROM audit_events WHERE seq = 1", {})["data"]


def test_every_page_passes_inspection(chromium, portal):
    inspector = Inspector()
    for lang in LANGUAGES:
        for username in ("anna", "bram", "dirk"):
            _set_language(portal.app, username, lang)
        lock(portal.setup, "dirk")
        # axe runs from an injected script, which the portal's CSP would block.
        with new_page(chromium, bypass_csp=True) as page:
            walk = Walk(portal, inspector, page, lang)
            _walk_login(walk)
            _walk_list(walk)
            _walk_details(walk)
            _walk_errors(walk)
            _walk_audit(walk)
            _walk_accounts(walk)

    assert len(inspector.looked) == 2 * 20, inspector.looked
    assert len(set(inspector.looked)) == len(inspector.looked), inspector.looked
    assert inspector.problems == {}
    assert account_row(portal.app, "dirk")["locked_until"] is None
    pages = {
        rule.endpoint
        for rule in portal.app.url_map.iter_rules()
        if rule.endpoint.startswith("consultant.") and "GET" in rule.methods
    }
    for lang in LANGUAGES:
        seen = {endpoint for endpoint, seen_lang in portal.visited if seen_lang == lang}
        assert pages - UNINSPECTED_ENDPOINTS - seen == set(), lang


def test_rate_limited_login_passes_inspection(chromium, tmp_path):
    api = make_api(tmp_path, CONSULTANT_LOGIN_ATTEMPTS=1)
    add_consultant(api.app, "anna", "utrecht")
    inspector = Inspector()
    with serve(api.app) as base:
        portal = Portal(api, base, {})
        for lang in LANGUAGES:
            with new_page(chromium, bypass_csp=True) as page:
                walk = Walk(portal, inspector, page, lang)
                walk.goto(f"/consultant/login?lang={lang}")
                limited = walk.text["error_rate_limited"].split("{")[0]
                # The one attempt allowed goes to the first language's walk.
                for _ in range(2):
                    walk.submit_login("anna", "wrong password")
                    if limited in page.inner_text("main"):
                        break
                walk.look("login, rate-limited", limited)

    assert inspector.looked == ["nl: login, rate-limited", "en: login, rate-limited"]
    assert inspector.problems == {}


# Keyboard only


@pytest.fixture
def keyboard_portal(tmp_path, request):
    """One undecided application, a consultant, an administrator, a locked account."""
    lang = request.param
    setup = make_review_api(tmp_path)
    application_id, _ = apply(setup)
    add_consultant(setup.app, "anna", "utrecht", name="Anna de Vries", lang=lang)
    add_consultant(setup.app, "bram", "utrecht", "administrator", lang=lang)
    add_consultant(setup.app, "dirk", "utrecht", name="Dirk Dekker")
    lock(setup, "dirk")
    with serve(setup.app) as base:
        yield Portal(setup, base, {"undecided": application_id}), lang


def _press_and_load(page, key: str = "Enter") -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def _log_in_by_keyboard(page, portal: Portal, lang: str, username: str) -> None:
    page.goto(portal.url(f"/consultant/login?lang={lang}"))
    tab_to(page, "#username")
    page.keyboard.type(username)
    tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    _press_and_load(page)
    assert page.url == portal.url("/consultant/")


@pytest.mark.parametrize("keyboard_portal", LANGUAGES, indirect=True)
def test_decide_by_keyboard(chromium, keyboard_portal):
    portal, lang = keyboard_portal
    text = TEXT[lang]
    with new_page(chromium) as page:
        page.context.add_init_script(MOUSE_COUNTER)
        _log_in_by_keyboard(page, portal, lang, "anna")
        tab_to(page, "table a")
        _press_and_load(page)
        assert page.url == portal.detail("undecided")

        tab_to(page, "form[action$='/decision'] button")
        _press_and_load(page)
        assert focused(page, ".consultant-error-summary"), describe_focus(page)

        page.keyboard.press("Tab")
        assert focused(page, ".consultant-error-summary a[href='#outcome-granted']")
        page.keyboard.press("Enter")
        page.wait_for_url("**#outcome-granted")
        assert focused(page, "#outcome-granted"), describe_focus(page)

        page.keyboard.press("Space")
        assert page.is_checked("#outcome-granted")
        tab_to(page, "#motivation")
        page.keyboard.type("Voldoet aan de voorwaarden.")
        tab_to(page, "form[action$='/decision'] button")
        _press_and_load(page)

        assert page.inner_text("#notice") == text["decided_notice"]
        assert focused(page, "#notice"), describe_focus(page)
        assert text["decided_granted"] in page.inner_text(".review-decision")
        assert mouse_presses(page) == 0


@pytest.mark.parametrize("keyboard_portal", LANGUAGES, indirect=True)
def test_admin_actions_by_keyboard(chromium, keyboard_portal):
    portal, lang = keyboard_portal
    text = TEXT[lang]
    other = "en" if lang == "nl" else "nl"
    with new_page(chromium) as page:
        page.context.add_init_script(MOUSE_COUNTER)
        _log_in_by_keyboard(page, portal, lang, "bram")
        tab_to(page, "nav a[href$='/admin/audit']")
        _press_and_load(page)
        tab_to(page, "form[action$='/audit/checkpoint'] button")
        _press_and_load(page)
        assert text["signed_notice"].split("{")[0] in page.inner_text("#notice")
        assert focused(page, "#notice"), describe_focus(page)

        tab_to(page, "nav a[href$='/admin/accounts']")
        _press_and_load(page)
        tab_to(page, "form[action$='/unlock'] button")
        _press_and_load(page)
        unlocked = text["unlocked_notice"].format(username="dirk")
        assert page.inner_text("#notice") == unlocked
        assert focused(page, "#notice"), describe_focus(page)
        assert account_row(portal.app, "dirk")["locked_until"] is None

        tab_to(page, "form[action$='/consultant/language'] button")
        _press_and_load(page)
        assert page.get_attribute("html", "lang") == other
        assert page.url.startswith(portal.url("/consultant/admin/accounts"))

        tab_to(page, "form[action$='/consultant/logout'] button")
        _press_and_load(page)
        assert page.inner_text("main .consultant-notice") == TEXT[other]["logged_out"]
        assert mouse_presses(page) == 0


@pytest.mark.parametrize("keyboard_portal", LANGUAGES, indirect=True)
def test_language_switch_after_form_error(chromium, keyboard_portal):
    """The switch on the response to a POST returns to a page that a GET can load."""
    portal, lang = keyboard_portal
    other = "en" if lang == "nl" else "nl"
    with new_page(chromium) as page:
        page.context.add_init_script(MOUSE_COUNTER)
        _log_in_by_keyboard(page, portal, lang, "anna")
        page.goto(portal.detail("undecided"))
        tab_to(page, "form[action$='/decision'] button")
        _press_and_load(page)
        assert TEXT[lang]["error_outcome"] in page.inner_text("main")

        tab_to(page, "form[action$='/consultant/language'] button")
        _press_and_load(page)

        assert page.url == portal.detail("undecided")
        assert page.get_attribute("html", "lang") == other
        assert TEXT[other]["decide_button"] in page.inner_text("main")
        assert mouse_presses(page) == 0


# Reads whether the focused element shows an outline or the yellow ring of
# consultant.css, either of which makes the focus visible.
FOCUS_STYLE = """
() => {
  const element = document.activeElement;
  const style = getComputedStyle(element);
  return {
    body: element === document.body,
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    ring: style.boxShadow !== "none",
  };
}
"""


def _unfocused_tab_stops(page) -> list[str]:
    """Tab through the whole page and describe each stop that shows no focus."""
    unfocused = []
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        style = page.evaluate(FOCUS_STYLE)
        if style["body"]:
            return unfocused
        if not (style["outline"] or style["ring"]):
            unfocused.append(describe_focus(page))
    raise AssertionError(f"{MAX_TABS} Tab presses did not reach the end of {page.url}")


@pytest.mark.parametrize("keyboard_portal", LANGUAGES, indirect=True)
def test_every_tab_stop_shows_focus(chromium, keyboard_portal):
    portal, lang = keyboard_portal
    paths = [
        "/consultant/",
        portal.detail("undecided").removeprefix(portal.base),
        "/consultant/admin/audit",
        "/consultant/admin/accounts",
    ]
    with new_page(chromium) as page:
        page.goto(portal.url(f"/consultant/login?lang={lang}"))
        assert _unfocused_tab_stops(page) == []
        _log_in_by_keyboard(page, portal, lang, "bram")
        for path in paths:
            page.goto(portal.url(path))
            assert _unfocused_tab_stops(page) == [], path

        page.goto(portal.url("/consultant/"))
        page.keyboard.press("Tab")
        assert focused(page, ".consultant-skip-link")
        page.keyboard.press("Enter")
        assert focused(page, "main"), describe_focus(page)
