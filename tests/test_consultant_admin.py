"""The administrator's pages of the consultant portal: audit trail and accounts.

Tests that depend on storage run on SQLite and PostgreSQL. The browser
tests run headless Chromium with axe on a SQLite file.
"""

from __future__ import annotations

import json

import pytest

from stappen import apiconfig, audit, storage
from stappen.audit.checkpoints import read_checkpoints
from stappen.consultant import security
from stappen.consultant.admin_texts import ADMIN_TEXTS
from stappen.consultant.texts import TEXTS
from tests.apiharness import make_api, serve
from tests.browser import new_page
from tests.consultants import PASSWORD, add_consultant, login
from tests.inspection import AXE, axe_violations
from tests.test_consultant_auth import (
    is_login_redirect,
    portal_rules,
    post_login,
    session_rows,
    table_counts,
)
from tests.test_consultant_page import _log_in

NL = {**TEXTS["nl"], **ADMIN_TEXTS["nl"]}
EN = {**TEXTS["en"], **ADMIN_TEXTS["en"]}
AUDIT = "/consultant/admin/audit"
SIGN = "/consultant/admin/audit/checkpoint"
ACCOUNTS = "/consultant/admin/accounts"
ACTIONS = ("unlock", "disable", "enable")


@pytest.fixture
def api(database_url, tmp_path):
    """The API app on each backend in turn."""
    return make_api(tmp_path, database_url)


@pytest.fixture
def sqlite_api(tmp_path):
    return make_api(tmp_path)


def action_path(account, action: str) -> str:
    return f"{ACCOUNTS}/{account.id}/{action}"


def log_in_admin(app, lang: str = "nl"):
    """Create the administrator bram of utrecht; return him, a client and its token."""
    bram = add_consultant(app, "bram", "utrecht", role="administrator", lang=lang)
    client = app.test_client()
    return bram, client, login(client, "bram")


def lock(api, username: str) -> None:
    for n in range(5):
        post_login(api.client, username, f"wrong password {n}")


def account_row(app, username: str) -> dict:
    with app.app_context(), storage.request_store().connection() as db:
        return db._one(
            "SELECT * FROM consultant_accounts WHERE username = :username",
            {"username": username},
        )


def audit_events(app, kind: str) -> list:
    with app.app_context(), storage.request_store().connection() as db:
        return [event for event in audit.read_events(db) if event.kind == kind]


def checkpoints(app) -> list[dict]:
    with app.app_context(), storage.request_store().connection() as db:
        return read_checkpoints(db)


def run_sql(app, sql: str, params: dict | None = None) -> None:
    with (
        app.app_context(),
        storage.request_store().connection() as db,
        db.transaction(),
    ):
        db._execute(sql, params)


def text(response) -> str:
    return response.get_data(as_text=True)


# Who may reach the pages


def test_consultant_gets_403_everywhere(api):
    anna = add_consultant(api.app, "anna", "utrecht")
    carl = add_consultant(api.app, "carl", "utrecht")
    client = api.app.test_client()
    csrf = login(client, "anna")
    lock(api, "carl")
    before = table_counts(api.app)

    responses = {
        AUDIT: client.get(AUDIT),
        ACCOUNTS: client.get(ACCOUNTS),
        SIGN: client.post(SIGN, data={"csrf_token": csrf}),
    }
    for action in ACTIONS:
        for target in (anna, carl):
            path = action_path(target, action)
            responses[path] = client.post(path, data={"csrf_token": csrf})

    for path, response in responses.items():
        assert response.status_code == 403, path
        assert NL["error_forbidden"] in text(response), path
        assert "consultant.css" in text(response), path
        for header, value in security.SECURITY_HEADERS.items():
            assert response.headers.get(header) == value, (path, header)
    assert table_counts(api.app) == before
    assert account_row(api.app, "carl")["locked_until"] is not None


def test_admin_links_only_for_administrators(sqlite_api):
    add_consultant(sqlite_api.app, "anna", "utrecht")
    consultant = sqlite_api.app.test_client()
    login(consultant, "anna")
    _, administrator, _ = log_in_admin(sqlite_api.app)

    consultant_page = text(consultant.get("/consultant/"))
    admin_page = text(administrator.get("/consultant/"))

    assert "/consultant/admin/" not in consultant_page
    assert NL["nav_label"] not in consultant_page
    assert f'href="{AUDIT}"' in admin_page
    assert f'href="{ACCOUNTS}"' in admin_page
    assert f'aria-label="{NL["nav_label"]}"' in admin_page


def test_current_page_marked_in_nav(sqlite_api):
    _, client, _ = log_in_admin(sqlite_api.app)

    page = text(client.get(ACCOUNTS))

    assert f'<a href="{ACCOUNTS}" aria-current="page">' in page
    assert f'<a href="{AUDIT}">' in page


def test_anonymous_rejected(api):
    anna = add_consultant(api.app, "anna", "utrecht")
    client = api.app.test_client()
    before = table_counts(api.app)

    gets = [client.get(path) for path in (AUDIT, ACCOUNTS)]
    posts = [client.post(SIGN)] + [
        client.post(action_path(anna, action)) for action in ACTIONS
    ]

    for response in gets:
        assert is_login_redirect(response)
    assert gets[0].headers["Location"].endswith("?next=/consultant/admin/audit")
    assert [response.status_code for response in posts] == [403] * 4
    assert table_counts(api.app) == before


def test_route_enumeration_covers_admin_routes(sqlite_api):
    """The anonymous-route test of test_consultant_auth.py reaches these routes."""
    endpoints = {rule.endpoint for rule in portal_rules(sqlite_api.app)}

    assert {
        "consultant.admin_audit",
        "consultant.admin_sign",
        "consultant.admin_accounts",
        "consultant.admin_unlock",
        "consultant.admin_disable",
        "consultant.admin_enable",
    } <= endpoints


def test_post_without_csrf_rejected(api):
    anna = add_consultant(api.app, "anna", "utrecht")
    _, client, _ = log_in_admin(api.app)
    lock(api, "anna")
    before = table_counts(api.app)
    events_before = audit_events(api.app, "consultant.locked")

    responses = [client.post(SIGN)] + [
        client.post(action_path(anna, action), data={"csrf_token": "x" * 43})
        for action in ACTIONS
    ]

    for response in responses:
        assert response.status_code == 400
        assert NL["error_csrf"] in text(response)
    assert table_counts(api.app) == before
    assert account_row(api.app, "anna")["locked_until"] is not None
    assert not account_row(api.app, "anna")["disabled"]
    assert audit_events(api.app, "consultant.locked") == events_before


# The accounts page


def test_accounts_of_own_municipality_listed(api):
    add_consultant(api.app, "anna", "utrecht", name="Anna de Vries", lang="en")
    add_consultant(api.app, "olga", "amsterdam", name="Olga Jansen")
    lock(api, "anna")
    _, client, _ = log_in_admin(api.app)

    page = text(client.get(ACCOUNTS))

    assert '<th scope="row">anna</th>' in page
    assert "Anna de Vries" in page
    assert NL["lang_en"] in page
    assert "2026-03-01 12:15 UTC" in page
    assert '<th scope="row">bram</th>' in page
    assert "olga" not in page
    assert "Olga Jansen" not in page
    assert NL["accounts_cli_only"].replace("'", "&#39;") in page
    assert "<code>flask --app app users set-password</code>" in page


def test_last_login_from_audit_trail(sqlite_api):
    add_consultant(sqlite_api.app, "anna", "utrecht")
    login(sqlite_api.app.test_client(), "anna")
    sqlite_api.clock.advance(3600)
    _, client, _ = log_in_admin(sqlite_api.app)

    page = text(client.get(ACCOUNTS))
    anna_row = page.split('<th scope="row">anna</th>')[1].split("</tr>")[0]
    bram_row = page.split('<th scope="row">bram</th>')[1].split("</tr>")[0]

    assert "2026-03-01 12:00 UTC" in anna_row
    assert "2026-03-01 13:00 UTC" in bram_row


def test_never_logged_in_shown(sqlite_api):
    add_consultant(sqlite_api.app, "anna", "utrecht")
    _, client, _ = log_in_admin(sqlite_api.app)

    page = text(client.get(ACCOUNTS))
    anna_row = page.split('<th scope="row">anna</th>')[1].split("</tr>")[0]

    assert f"<td>{NL['never']}</td>" in anna_row


def test_button_names_include_username(sqlite_api):
    add_consultant(sqlite_api.app, "anna", "utrecht")
    lock(sqlite_api, "anna")
    _, client, _ = log_in_admin(sqlite_api.app)

    page = text(client.get(ACCOUNTS))

    for label in (NL["unlock"], NL["disable"]):
        hidden = '<span class="admin-visually-hidden"> anna</span>'
        assert f">{label}{hidden}</button>" in page


def test_unlock_unlocks(api):
    anna = add_consultant(api.app, "anna", "utrecht")
    lock(api, "anna")
    bram, client, csrf = log_in_admin(api.app)
    still_locked = post_login(api.client, "anna", PASSWORD)

    response = client.post(action_path(anna, "unlock"), data={"csrf_token": csrf})
    page = client.get(response.headers["Location"])
    after = post_login(api.client, "anna", PASSWORD)

    assert still_locked.status_code == 401
    assert response.status_code == 303
    assert NL["unlocked_notice"].format(username="anna") in text(page)
    assert after.status_code == 303
    [event] = audit_events(api.app, "consultant.unlocked")
    assert event.subject == anna.id
    assert event.actor == bram.id


def test_disable_ends_sessions(api):
    anna = add_consultant(api.app, "anna", "utrecht")
    anna_client = api.app.test_client()
    login(anna_client, "anna")
    bram, client, csrf = log_in_admin(api.app)

    response = client.post(action_path(anna, "disable"), data={"csrf_token": csrf})
    page = client.get(response.headers["Location"])
    anna_next = anna_client.get("/consultant/")

    assert response.status_code == 303
    notice = NL["disabled_notice"].format(username="anna", ended=1)
    assert notice in text(page)
    assert account_row(api.app, "anna")["disabled"]
    assert [row["account_id"] for row in session_rows(api.app)] == [bram.id]
    assert is_login_redirect(anna_next)
    assert post_login(api.client, "anna", PASSWORD).status_code == 401
    [event] = audit_events(api.app, "consultant.disabled")
    assert event.subject == anna.id
    assert event.actor == bram.id


def test_enable_after_disable(api):
    anna = add_consultant(api.app, "anna", "utrecht")
    bram, client, csrf = log_in_admin(api.app)
    client.post(action_path(anna, "disable"), data={"csrf_token": csrf})
    disabled_page = text(client.get(ACCOUNTS))

    response = client.post(action_path(anna, "enable"), data={"csrf_token": csrf})

    assert f"{NL['enable']}<span" in disabled_page
    assert response.status_code == 303
    assert not account_row(api.app, "anna")["disabled"]
    assert post_login(api.client, "anna", PASSWORD).status_code == 303
    [event] = audit_events(api.app, "consultant.enabled")
    assert event.subject == anna.id
    assert event.actor == bram.id


def test_cannot_disable_self(api):
    bram, client, csrf = log_in_admin(api.app)
    page = text(client.get(ACCOUNTS))

    response = client.post(action_path(bram, "disable"), data={"csrf_token": csrf})

    assert f"({NL['you']})" in page
    assert action_path(bram, "disable") not in page
    assert response.status_code == 400
    assert NL["disable_self"] in text(response)
    assert not account_row(api.app, "bram")["disabled"]
    assert audit_events(api.app, "consultant.disabled") == []
    assert client.get(ACCOUNTS).status_code == 200


def test_other_municipality_account_404(api):
    olga = add_consultant(api.app, "olga", "amsterdam")
    lock(api, "olga")
    _, client, csrf = log_in_admin(api.app)
    before = table_counts(api.app)

    responses = [
        client.post(action_path(olga, action), data={"csrf_token": csrf})
        for action in ACTIONS
    ]
    unknown = client.post(
        f"{ACCOUNTS}/no-such-account/disable", data={"csrf_token": csrf}
    )

    assert [response.status_code for response in responses] == [404] * 3
    assert unknown.status_code == 404
    assert NL["error_not_found"] in text(responses[0])
    assert table_counts(api.app) == before
    assert account_row(api.app, "olga")["locked_until"] is not None
    assert not account_row(api.app, "olga")["disabled"]


def test_unknown_notice_account_ignored(sqlite_api):
    olga = add_consultant(sqlite_api.app, "olga", "amsterdam")
    _, client, _ = log_in_admin(sqlite_api.app)

    page = text(client.get(f"{ACCOUNTS}?notice=disabled&account={olga.id}&ended=3"))

    assert 'id="notice"' not in page
    assert "olga" not in page


# The audit page


def test_audit_page_clean_trail(api):
    bram, client, _ = log_in_admin(api.app)

    first = text(client.get(AUDIT))
    second = text(client.get(AUDIT))

    assert NL["no_problems"] in first
    assert "<dt>Gebeurtenissen</dt><dd>1</dd>" in first
    assert "nummer 1, 2026-03-01 12:00 UTC" in first
    assert "<dt>Gebeurtenissen</dt><dd>2</dd>" in second
    assert NL["key_missing"] not in first
    viewed = audit_events(api.app, "audit.viewed")
    assert [event.actor for event in viewed] == [bram.id, bram.id]
    assert json.loads(viewed[0].data) == {"events": 1, "problems": 0}


def test_audit_page_names_changed_event(api):
    bram, client, _ = log_in_admin(api.app)
    run_sql(
        api.app,
        "UPDATE audit_events SET data = :data WHERE seq = 1",
        {"data": '{"edited":true}'},
    )

    response = client.get(AUDIT)
    page = text(response)

    assert response.status_code == 200
    assert NL["no_problems"] not in page
    assert NL["problems_found"].format(count=1).split(".")[0] in page
    line = "seq 1 (consultant.login): changed: its fields do not match its hash"
    assert f'<li lang="en"><code>{line}</code></li>' in page
    [viewed] = audit_events(api.app, "audit.viewed")
    assert json.loads(viewed.data) == {"events": 1, "problems": 1}
    assert viewed.actor == bram.id


def test_audit_page_names_deleted_event(sqlite_api):
    add_consultant(sqlite_api.app, "anna", "utrecht")
    login(sqlite_api.app.test_client(), "anna")
    _, client, _ = log_in_admin(sqlite_api.app)
    run_sql(sqlite_api.app, "DELETE FROM audit_checkpoints")
    run_sql(sqlite_api.app, "DELETE FROM audit_events WHERE seq = 1")

    page = text(client.get(AUDIT))

    assert "seq 1: deleted: the events go from seq 0 to seq 2" in page


def test_snapshot_hides_later_appends(api):
    """The reads of a verify do not see an event appended while they run."""
    store = storage.request_store
    with api.app.app_context(), store().connection() as reader:
        with audit.read_snapshot(reader):
            first = len(audit.read_events(reader))
            with store().connection() as writer:
                audit.append(writer, "test.appended", actor="system")
            second = len(audit.read_events(reader))
        after = len(audit.read_events(reader))

    assert second == first
    assert after == first + 1


def test_sign_creates_checkpoint(api):
    bram, client, csrf = log_in_admin(api.app)
    client.get(AUDIT)
    before = checkpoints(api.app)

    response = client.post(SIGN, data={"csrf_token": csrf})
    after = checkpoints(api.app)
    page = text(client.get(response.headers["Location"]))

    [event] = audit_events(api.app, "audit.checkpoint_signed")
    assert response.status_code == 303
    assert len(after) == len(before) + 1
    assert after[-1]["seq"] == event.seq
    assert event.actor == bram.id
    assert NL["signed_notice"].format(seq=event.seq) in page
    assert NL["no_problems"] in page
    assert f"bij nummer {event.seq}, 2026-03-01 12:00 UTC" in page


def test_sign_twice_signs_each_time(sqlite_api):
    _, client, csrf = log_in_admin(sqlite_api.app)

    client.post(SIGN, data={"csrf_token": csrf})
    client.post(SIGN, data={"csrf_token": csrf})

    events = audit_events(sqlite_api.app, "audit.checkpoint_signed")
    signed = [checkpoint["seq"] for checkpoint in checkpoints(sqlite_api.app)]
    assert [event.seq for event in events] == signed[-2:]


def test_audit_page_without_key(api):
    _, client, csrf = log_in_admin(api.app)
    apiconfig.audit_key_path(api.app).unlink()
    before = checkpoints(api.app)

    page = text(client.get(AUDIT))
    response = client.post(SIGN, data={"csrf_token": csrf})
    after_sign = text(client.get(response.headers["Location"]))

    assert NL["key_missing"] in page
    assert "<code>flask --app app keys generate</code>" in page
    assert 'type="submit" disabled>' in page
    assert response.status_code == 303
    assert NL["sign_no_key_notice"] in after_sign
    assert checkpoints(api.app) == before
    assert audit_events(api.app, "audit.checkpoint_signed") == []


def test_audit_page_without_chain_head(sqlite_api):
    _, client, csrf = log_in_admin(sqlite_api.app)
    run_sql(sqlite_api.app, "DELETE FROM audit_head")

    response = client.get(AUDIT)
    signed = client.post(SIGN, data={"csrf_token": csrf})

    assert response.status_code == 200
    assert "chain head: deleted: the audit_head row is missing" in text(response)
    assert "notice=sign_no_head" in signed.headers["Location"]
    assert audit_events(sqlite_api.app, "audit.viewed") == []


# Language


def test_pages_in_account_language(sqlite_api):
    _, client, _ = log_in_admin(sqlite_api.app, lang="en")

    audit_page = text(client.get(AUDIT))
    accounts_page = text(client.get(ACCOUNTS))

    assert '<html lang="en">' in audit_page
    assert EN["no_problems"] in audit_page
    assert EN["sign_button"] in audit_page
    assert EN["accounts_caption"].format(municipality="utrecht") in accounts_page
    assert EN["nav_label"] in accounts_page


def test_admin_texts_same_keys():
    assert ADMIN_TEXTS["nl"].keys() == ADMIN_TEXTS["en"].keys()


# In the browser


@pytest.fixture
def served(tmp_path):
    if not AXE.is_file():
        pytest.fail(f"{AXE} not found; run 'npm ci'")
    api = make_api(tmp_path)
    # carla is the account that _log_in of test_consultant_page.py uses.
    add_consultant(api.app, "carla", "utrecht", role="administrator")
    add_consultant(api.app, "anna", "utrecht", name="Anna de Vries")
    lock(api, "anna")
    with serve(api.app) as base:
        yield base


@pytest.mark.browser
def test_admin_pages_pass_axe(chromium, served):
    # axe runs from an injected script, which the portal's CSP would block.
    with new_page(chromium, bypass_csp=True) as page:
        _log_in(page, served)
        page.click(f"text={NL['nav_audit']}")
        page.wait_for_url(served + AUDIT)
        assert NL["no_problems"] in page.inner_text("main")
        assert axe_violations(page) == []

        page.click(f"text={NL['sign_button']}")
        page.wait_for_selector("#notice")
        assert axe_violations(page) == []

        page.click(f"nav >> text={NL['nav_accounts']}")
        page.wait_for_url(served + ACCOUNTS)
        assert axe_violations(page) == []

        page.click("role=button[name='Deblokkeren anna']")
        page.wait_for_selector("#notice")
        assert page.inner_text("#notice") == NL["unlocked_notice"].format(
            username="anna"
        )
        assert axe_violations(page) == []


@pytest.mark.browser
@pytest.mark.parametrize("path", [AUDIT, ACCOUNTS])
def test_admin_pages_fit_320_px(chromium, served, path):
    with new_page(chromium, viewport={"width": 320, "height": 640}) as page:
        _log_in(page, served)
        page.goto(served + path)
        page_width = page.evaluate("document.documentElement.scrollWidth")

        assert page_width <= 320
