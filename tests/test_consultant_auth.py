"""The consultant portal's accounts, login, sessions and security layer.

Tests that depend on storage run on SQLite and PostgreSQL; the others run
on a SQLite file. The clock is the harness's, moved by hand.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import url_for
from werkzeug.routing import IntegerConverter, UUIDConverter

from stappen import audit, storage
from stappen.consultant import auth, blueprint, passwords, require_role, security
from stappen.consultant.texts import TEXTS
from tests.apiharness import make_api, serve
from tests.browser import new_page
from tests.consultants import PASSWORD, add_consultant, csrf_token_of, login

NL = TEXTS["nl"]
LOGIN_FAILED = NL["login_failed"]
INDEX = "/consultant/"
LOGIN = "/consultant/login"


@pytest.fixture
def api(database_url, tmp_path):
    """The API app on each backend in turn."""
    return make_api(tmp_path, database_url)


@pytest.fixture
def sqlite_api(tmp_path):
    return make_api(tmp_path)


def run_cli(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=["users", *args], input=input)


def add_with_cli(app, username: str, *options: str, password: str = PASSWORD):
    return run_cli(
        app,
        "add",
        username,
        "--password-stdin",
        *options,
        input=password + "\n",
    )


def post_login(client, username: str, password: str, **fields):
    """Post the login form with a fresh login CSRF token."""
    token = csrf_token_of(client.get(LOGIN))
    data = {"username": username, "password": password, "csrf_token": token}
    return client.post(LOGIN, data={**data, **fields})


def set_cookies(response) -> dict[str, str]:
    """Return the response's Set-Cookie headers by cookie name."""
    headers = response.headers.getlist("Set-Cookie")
    return {header.split("=", 1)[0]: header for header in headers}


def session_cookie(client) -> str | None:
    cookie = client.get_cookie(auth.SESSION_COOKIE, path=auth.COOKIE_PATH)
    return None if cookie is None else cookie.value


def audit_events(app) -> list:
    with app.app_context(), storage.request_store().connection() as db:
        return audit.read_events(db)


def session_rows(app) -> list[dict]:
    with app.app_context(), storage.request_store().connection() as db:
        return db._all("SELECT * FROM consultant_sessions")


def table_counts(app) -> dict[str, int]:
    with app.app_context(), storage.request_store().connection() as db:
        names = db.backend.table_names(db.raw)
        return {
            name: db._one(f"SELECT COUNT(*) AS n FROM {name}")["n"]
            for name in sorted(names)
        }


def is_login_redirect(response) -> bool:
    location = response.headers.get("Location", "")
    return response.status_code == 303 and urlsplit(location).path == LOGIN


# The users command


def test_cli_add_and_list(api):
    added = add_with_cli(
        api.app, "Anna", "--municipality", "utrecht", "--name", "Anna de Vries"
    )
    second = add_with_cli(
        api.app,
        "bram",
        "--municipality",
        "amersfoort",
        "--role",
        "administrator",
        "--lang",
        "en",
    )
    listed = run_cli(api.app, "list")

    assert added.exit_code == 0, added.output
    assert added.output.startswith("Added consultant 'anna' of utrecht (id ")
    assert second.exit_code == 0, second.output
    assert listed.exit_code == 0
    assert listed.output.splitlines() == [
        "USERNAME  NAME           ROLE           MUNICIPALITY  LANG  STATUS",
        "anna      Anna de Vries  consultant     utrecht       nl    active",
        "bram      bram           administrator  amersfoort    en    active",
    ]


def test_cli_list_without_accounts(sqlite_api):
    result = run_cli(sqlite_api.app, "list")

    assert result.exit_code == 0
    assert result.output == (
        "No accounts yet; add one with `flask --app app users add`.\n"
    )


@pytest.mark.parametrize(
    ("options", "password", "expected"),
    [
        (
            ["anna", "--municipality", "utrecht"],
            PASSWORD,
            "Error: username 'anna' is taken; choose another",
        ),
        (
            ["carla", "--municipality", "utrecht", "--role", "admin"],
            PASSWORD,
            "Error: role 'admin' is unknown; use one of consultant, administrator",
        ),
        (
            ["carla", "--municipality", "utrecht"],
            "too short",
            "Error: the password has 9 characters; choose one of at least 12",
        ),
        (
            ["carla", "--municipality", "Utrecht Stad"],
            PASSWORD,
            "Error: municipality 'Utrecht Stad' is invalid",
        ),
        (
            ["carla", "--municipality", "utrecht", "--lang", "de"],
            PASSWORD,
            "Error: language 'de' is unknown; use one of nl, en",
        ),
        (
            ["carla/x", "--municipality", "utrecht"],
            PASSWORD,
            "Error: username 'carla/x' is invalid",
        ),
    ],
)
def test_cli_add_mistakes(api, options, password, expected):
    add_with_cli(api.app, "anna", "--municipality", "utrecht")

    result = add_with_cli(api.app, *options, password=password)

    assert result.exit_code == 1
    assert result.output.startswith(expected), result.output
    assert "Traceback" not in result.output
    assert len(run_cli(api.app, "list").output.splitlines()) == 2


def test_cli_add_with_prompt(sqlite_api):
    prompted = run_cli(
        sqlite_api.app,
        "add",
        "anna",
        "--municipality",
        "utrecht",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )
    client = sqlite_api.client

    assert prompted.exit_code == 0, prompted.output
    assert "Repeat for confirmation" in prompted.output
    assert login(client, "anna")


def test_cli_prompt_mismatch_rejected(sqlite_api):
    result = run_cli(
        sqlite_api.app,
        "add",
        "anna",
        "--municipality",
        "utrecht",
        input=f"{PASSWORD}\nsomething else entirely\n",
    )

    assert result.exit_code == 1
    assert "Error: The two entered values do not match." in result.output
    assert "anna" not in run_cli(sqlite_api.app, "list").output


def test_cli_unknown_username(sqlite_api):
    for command in ("disable", "enable", "unlock", "set-password"):
        result = run_cli(sqlite_api.app, command, "nobody")

        assert result.exit_code == 1, command
        assert result.output == (
            "Error: no account has username 'nobody'; list them with "
            "`flask --app app users list`\n"
        )


def test_cli_disable_ends_sessions(api):
    add_consultant(api.app, "anna", "utrecht")
    client = api.client
    login(client, "anna")

    disabled = run_cli(api.app, "disable", "anna")
    after_disable = client.get(INDEX)
    login_while_disabled = post_login(api.client, "anna", PASSWORD)
    listed = run_cli(api.app, "list").output
    enabled = run_cli(api.app, "enable", "anna")

    assert disabled.output == "Disabled 'anna'; ended 1 session(s)\n"
    assert is_login_redirect(after_disable)
    assert login_while_disabled.status_code == 401
    assert LOGIN_FAILED in login_while_disabled.get_data(as_text=True)
    assert listed.splitlines()[1].endswith("disabled")
    assert enabled.output == "Enabled 'anna'\n"
    assert login(api.client, "anna")


def test_cli_set_password(api):
    add_consultant(api.app, "anna", "utrecht")
    client = api.client
    login(client, "anna")
    new_password = "a completely new passphrase"

    result = run_cli(
        api.app, "set-password", "anna", "--password-stdin", input=new_password + "\n"
    )

    assert result.exit_code == 0, result.output
    assert result.output == "Set the password of 'anna'; ended 1 session(s)\n"
    assert is_login_redirect(client.get(INDEX))
    assert post_login(api.client, "anna", PASSWORD).status_code == 401
    assert login(api.client, "anna", new_password)


def test_cli_records_audit_events(api):
    add_with_cli(api.app, "anna", "--municipality", "utrecht")
    run_cli(api.app, "disable", "anna")

    events = audit_events(api.app)

    assert [event.kind for event in events] == [
        "consultant.account_created",
        "consultant.disabled",
    ]
    assert {event.actor for event in events} == {"cli"}
    assert json.loads(events[0].data) == {
        "municipality": "utrecht",
        "role": "consultant",
    }


# Passwords


def test_password_hash_uses_scrypt():
    password_hash = passwords.hash_password(PASSWORD)

    assert password_hash.startswith("scrypt:")
    assert passwords.verify(password_hash, PASSWORD)
    assert not passwords.verify(password_hash, PASSWORD + "x")
    assert not passwords.verify(None, PASSWORD)


def test_password_rules():
    with pytest.raises(passwords.PasswordRejected, match="has 11 characters"):
        passwords.hash_password("x" * 11)
    with pytest.raises(passwords.PasswordRejected, match="has 257 characters"):
        passwords.hash_password("x" * 257)


# Logging in


def test_login_sets_cookie_flags(api):
    add_consultant(api.app, "anna", "utrecht", name="Anna de Vries")
    client = api.client

    response = post_login(client, "anna", PASSWORD)
    cookie = set_cookies(response)[auth.SESSION_COOKIE]
    attributes = [part.strip() for part in cookie.split(";")]
    page = client.get(INDEX).get_data(as_text=True)

    assert response.status_code == 303
    assert response.headers["Location"] == INDEX
    assert "Secure" in attributes
    assert "HttpOnly" in attributes
    assert "SameSite=Strict" in attributes
    assert "Path=/consultant" in attributes
    assert "Max-Age=28800" in attributes
    assert "Anna de Vries" in page


def test_login_stores_only_token_hash(api):
    add_consultant(api.app, "anna", "utrecht")
    client = api.client
    login(client, "anna")
    token = session_cookie(client)

    [row] = session_rows(api.app)

    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in json.dumps(row, default=str)


def test_login_is_case_insensitive(sqlite_api):
    add_consultant(sqlite_api.app, "anna", "utrecht")

    response = post_login(sqlite_api.client, "  ANNA ", PASSWORD)

    assert response.status_code == 303


def test_wrong_password_and_unknown_user_alike(api):
    anna = add_consultant(api.app, "anna", "utrecht")

    wrong = post_login(api.client, "anna", "not the password at all")
    unknown = post_login(api.client, "nobody", "not the password at all")
    events = audit_events(api.app)

    assert wrong.status_code == 401
    assert unknown.status_code == 401
    assert LOGIN_FAILED in wrong.get_data(as_text=True)
    assert LOGIN_FAILED in unknown.get_data(as_text=True)
    assert auth.SESSION_COOKIE not in set_cookies(wrong)
    assert [(event.kind, event.actor, event.subject) for event in events] == [
        ("consultant.login_failed", anna.id, anna.id),
        ("consultant.login_failed", "unknown", None),
    ]
    assert json.loads(events[0].data) == {"reason": "wrong_password"}
    assert json.loads(events[1].data) == {"reason": "unknown_username"}
    assert all("not the password" not in event.data for event in events)
    assert all("nobody" not in event.data for event in events)


def test_empty_login_form(sqlite_api):
    response = post_login(sqlite_api.client, "", "")

    assert response.status_code == 400
    assert NL["login_missing"] in response.get_data(as_text=True)


def test_login_and_logout_audited(api):
    anna = add_consultant(api.app, "anna", "utrecht")
    client = api.client
    csrf = login(client, "anna")

    client.post("/consultant/logout", data={"csrf_token": csrf})
    events = audit_events(api.app)

    assert [(event.kind, event.actor) for event in events] == [
        ("consultant.login", anna.id),
        ("consultant.logout", anna.id),
    ]


# Lock-out and rate limit


def test_lockout_after_five_failures(api):
    anna = add_consultant(api.app, "anna", "utrecht")

    failures = [post_login(api.client, "anna", f"wrong password {n}") for n in range(5)]
    with_right_password = post_login(api.client, "anna", PASSWORD)
    events = audit_events(api.app)

    assert [response.status_code for response in failures] == [401] * 5
    for response in failures[:4]:
        assert LOGIN_FAILED in response.get_data(as_text=True)
    locked_text = NL["account_locked"].format(minutes=15)
    assert locked_text in failures[4].get_data(as_text=True)
    assert with_right_password.status_code == 401
    assert locked_text in with_right_password.get_data(as_text=True)
    assert auth.SESSION_COOKIE not in set_cookies(with_right_password)
    locked = [event for event in events if event.kind == "consultant.locked"]
    assert len(locked) == 1
    assert locked[0].subject == anna.id
    assert json.loads(events[-1].data) == {"reason": "locked"}


def test_locked_account_hides_password_result(api):
    add_consultant(api.app, "anna", "utrecht")
    for n in range(5):
        post_login(api.client, "anna", f"wrong password {n}")

    right = post_login(api.client, "anna", PASSWORD)
    wrong = post_login(api.client, "anna", "yet another wrong one")

    assert right.status_code == wrong.status_code
    body = right.get_data(as_text=True)
    assert body.replace(csrf_token_of(right), "") == wrong.get_data(
        as_text=True
    ).replace(csrf_token_of(wrong), "")


def test_lock_ends_after_lockout(api):
    add_consultant(api.app, "anna", "utrecht")
    for n in range(5):
        post_login(api.client, "anna", f"wrong password {n}")

    api.clock.advance(14 * 60)
    still_locked = post_login(api.client, "anna", PASSWORD)
    api.clock.advance(60)
    unlocked = post_login(api.client, "anna", PASSWORD)

    assert NL["account_locked"].format(minutes=1) in still_locked.get_data(as_text=True)
    assert unlocked.status_code == 303


def test_lockout_minutes_setting(tmp_path):
    api = make_api(tmp_path, CONSULTANT_LOCKOUT_MINUTES="2")
    add_consultant(api.app, "anna", "utrecht")
    for n in range(5):
        post_login(api.client, "anna", f"wrong password {n}")

    api.clock.advance(2 * 60)

    assert post_login(api.client, "anna", PASSWORD).status_code == 303


def test_cli_unlock(api):
    add_consultant(api.app, "anna", "utrecht")
    for n in range(5):
        post_login(api.client, "anna", f"wrong password {n}")
    listed = run_cli(api.app, "list").output

    result = run_cli(api.app, "unlock", "anna")

    assert listed.splitlines()[1].endswith("locked until 2026-03-01 12:15 UTC")
    assert result.output == "Unlocked 'anna'\n"
    assert post_login(api.client, "anna", PASSWORD).status_code == 303


def test_success_resets_failure_count(api):
    add_consultant(api.app, "anna", "utrecht")
    for n in range(4):
        post_login(api.client, "anna", f"wrong password {n}")
    assert post_login(api.client, "anna", PASSWORD).status_code == 303

    after = [post_login(api.client, "anna", f"wrong again {n}") for n in range(4)]

    assert all(LOGIN_FAILED in r.get_data(as_text=True) for r in after)


def test_rate_limit_per_address(api):
    for n in range(10):
        assert post_login(api.client, f"guess{n}", "some password").status_code == 401

    limited = post_login(api.client, "guess10", "some password")
    other_address = api.app.test_client()
    other_address.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    elsewhere = post_login(other_address, "guess11", "some password")

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "900"
    assert "te veel inlogpogingen" in limited.get_data(as_text=True)
    assert limited.headers["Content-Type"].startswith("text/html")
    assert elsewhere.status_code == 401


def test_rate_limit_window_moves(api):
    for n in range(5):
        post_login(api.client, f"guess{n}", "some password")
    api.clock.advance(10 * 60)
    for n in range(5):
        post_login(api.client, f"later{n}", "some password")

    limited = post_login(api.client, "one-more", "some password")
    api.clock.advance(5 * 60)
    allowed = post_login(api.client, "after-window", "some password")

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "300"
    assert allowed.status_code == 401


def test_rate_limited_login_not_checked(api):
    add_consultant(api.app, "anna", "utrecht")
    for n in range(10):
        post_login(api.client, f"guess{n}", "some password")

    response = post_login(api.client, "anna", PASSWORD)

    assert response.status_code == 429
    assert auth.SESSION_COOKIE not in set_cookies(response)
    assert session_rows(api.app) == []


# CSRF


def test_logout_without_csrf_rejected(api):
    add_consultant(api.app, "anna", "utrecht")
    client = api.client
    csrf = login(client, "anna")

    missing = client.post("/consultant/logout")
    wrong = client.post("/consultant/logout", data={"csrf_token": "x" * 43})
    altered = client.post(
        "/consultant/logout",
        data={"csrf_token": csrf[:-1] + ("A" if csrf[-1] != "A" else "B")},
    )

    for response in (missing, wrong, altered):
        assert response.status_code == 400
        assert NL["error_csrf"] in response.get_data(as_text=True)
    assert len(session_rows(api.app)) == 1
    assert client.get(INDEX).status_code == 200


def test_csrf_header_accepted(sqlite_api):
    add_consultant(sqlite_api.app, "anna", "utrecht")
    client = sqlite_api.client
    csrf = login(client, "anna")

    response = client.post("/consultant/logout", headers={"X-CSRF-Token": csrf})

    assert is_login_redirect(response)
    assert session_rows(sqlite_api.app) == []


def test_login_without_csrf_rejected(api):
    add_consultant(api.app, "anna", "utrecht")
    client = api.client
    client.get(LOGIN)

    missing = client.post(LOGIN, data={"username": "anna", "password": PASSWORD})
    wrong = client.post(
        LOGIN,
        data={"username": "anna", "password": PASSWORD, "csrf_token": "y" * 43},
    )
    no_cookie = api.app.test_client().post(
        LOGIN,
        data={"username": "anna", "password": PASSWORD, "csrf_token": "y" * 43},
    )

    for response in (missing, wrong, no_cookie):
        assert response.status_code == 400
        assert auth.SESSION_COOKIE not in set_cookies(response)
    assert session_rows(api.app) == []
    assert audit_events(api.app) == []


def test_login_csrf_cookie_flags(sqlite_api):
    response = sqlite_api.client.get(LOGIN)

    cookie = set_cookies(response)[security.LOGIN_CSRF_COOKIE]
    attributes = [part.strip() for part in cookie.split(";")]

    assert "Secure" in attributes
    assert "HttpOnly" in attributes
    assert "SameSite=Strict" in attributes
    assert "Path=/" in attributes


# Sessions


def test_idle_timeout(api):
    add_consultant(api.app, "anna", "utrecht")
    client = api.client
    login(client, "anna")

    api.clock.advance(29 * 60)
    active = client.get(INDEX)
    api.clock.advance(29 * 60)
    still_active = client.get(INDEX)
    api.clock.advance(30 * 60)
    idle = client.get(INDEX)

    assert active.status_code == 200
    assert still_active.status_code == 200
    assert is_login_redirect(idle)
    assert session_rows(api.app) == []
    follow = client.get(idle.headers["Location"])
    assert NL["session_ended"] in follow.get_data(as_text=True)


def test_idle_session_shows_notice(sqlite_api):
    add_consultant(sqlite_api.app, "anna", "utrecht")
    client = sqlite_api.client
    login(client, "anna")
    sqlite_api.clock.advance(31 * 60)

    page = client.get(LOGIN)

    assert NL["session_ended"] in page.get_data(as_text=True)


def test_absolute_timeout(api):
    add_consultant(api.app, "anna", "utrecht")
    client = api.client
    login(client, "anna")

    for _ in range(23):
        api.clock.advance(20 * 60)
        assert client.get(INDEX).status_code == 200
    api.clock.advance(20 * 60)
    expired = client.get(INDEX)

    assert is_login_redirect(expired)
    assert session_rows(api.app) == []


def test_logout_invalidates_token(api):
    add_consultant(api.app, "anna", "utrecht")
    client = api.client
    csrf = login(client, "anna")
    token = session_cookie(client)

    response = client.post("/consultant/logout", data={"csrf_token": csrf})
    replay = api.app.test_client()
    replay.set_cookie(auth.SESSION_COOKIE, token, path=auth.COOKIE_PATH)

    assert response.status_code == 303
    assert response.headers["Location"] == "/consultant/login?logged_out=1"
    assert session_cookie(client) is None
    assert session_rows(api.app) == []
    assert is_login_redirect(replay.get(INDEX))


def test_login_rotates_session_token(api):
    add_consultant(api.app, "anna", "utrecht")
    client = api.client
    planted = "planted-by-an-attacker-0123456789abcdef"
    client.set_cookie(auth.SESSION_COOKIE, planted, path=auth.COOKIE_PATH)

    login(client, "anna")
    first = session_cookie(client)
    second_client = api.client
    login(second_client, "anna")

    assert first != planted
    assert session_cookie(second_client) != first
    hashes = {row["token_hash"] for row in session_rows(api.app)}
    assert hashlib.sha256(planted.encode()).hexdigest() not in hashes
    assert len(hashes) == 2


def test_login_replaces_stale_session(api):
    """A session cookie that ended is deleted, and login makes a new one."""
    add_consultant(api.app, "anna", "utrecht")
    client = api.client
    login(client, "anna")
    old = session_cookie(client)
    api.clock.advance(31 * 60)

    login(client, "anna")

    assert session_cookie(client) != old
    [row] = session_rows(api.app)
    assert (
        row["token_hash"] == hashlib.sha256(session_cookie(client).encode()).hexdigest()
    )


def test_login_deletes_ended_sessions(api):
    add_consultant(api.app, "anna", "utrecht")
    add_consultant(api.app, "bram", "utrecht")
    login(api.client, "anna")
    api.clock.advance(31 * 60)

    login(api.client, "bram")

    assert len(session_rows(api.app)) == 1


def test_logged_in_login_page_redirects(sqlite_api):
    add_consultant(sqlite_api.app, "anna", "utrecht")
    client = sqlite_api.client
    login(client, "anna")

    response = client.get(LOGIN + "?next=/consultant/x")

    assert response.status_code == 303
    assert response.headers["Location"] == "/consultant/x"


# Redirects after login


def test_anonymous_get_redirects_with_next(sqlite_api):
    response = sqlite_api.client.get("/consultant/?page=2")

    location = urlsplit(response.headers["Location"])
    assert response.status_code == 303
    assert location.path == LOGIN
    assert parse_qs(location.query) == {"next": ["/consultant/?page=2"]}


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/consultant/",
        "//evil.example/consultant/",
        "/\\evil.example",
        "\\\\evil.example",
        "/consultant/../api/v1/health",
        "/api/v1/health",
        "javascript:alert(1)",
        "/consultant/\r\nLocation: https://evil.example",
        "/consultantx",
        "https:/consultant/",
        "/consultant/%2e%2e/api/v1/health",
        "/consultant/.%2E/.%2e//evil.example",
        "/consultant/%2E%2E",
    ],
)
def test_open_redirect_rejected(sqlite_api, target):
    add_consultant(sqlite_api.app, "anna", "utrecht")

    response = post_login(sqlite_api.client, "anna", PASSWORD, next=target)

    assert response.status_code == 303
    assert response.headers["Location"] == INDEX


def test_next_inside_portal_kept(sqlite_api):
    add_consultant(sqlite_api.app, "anna", "utrecht")

    response = post_login(
        sqlite_api.client, "anna", PASSWORD, next="/consultant/applications?page=2"
    )

    assert response.headers["Location"] == "/consultant/applications?page=2"


# Protection of every route


def dummy_value(converter) -> object:
    if isinstance(converter, IntegerConverter):
        return 1
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=1)
    return "dummy"


def portal_rules(app) -> list:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if security.is_portal_path(rule.rule)
        and rule.endpoint not in auth.PUBLIC_ENDPOINTS
    ]


def test_every_portal_route_rejects_anonymous(sqlite_api):
    """Each route under /consultant, including ones added later, needs a login."""
    app = sqlite_api.app
    add_consultant(app, "anna", "utrecht")
    before = table_counts(app)
    rules = portal_rules(app)
    checked = []

    for rule in rules:
        values = {
            name: dummy_value(converter) for name, converter in rule._converters.items()
        }
        with app.test_request_context():
            path = url_for(rule.endpoint, **values)
        for method in sorted(rule.methods):
            response = app.test_client().open(path, method=method)
            if method in ("GET", "HEAD"):
                assert is_login_redirect(response), (method, path)
            else:
                assert response.status_code in (401, 403, 404), (method, path)
            checked.append((method, rule.endpoint))

    assert {"consultant.index", "consultant.logout", "consultant.language"} <= {
        endpoint for _, endpoint in checked
    }
    assert table_counts(app) == before


def test_undecorated_route_protected(sqlite_api):
    app = sqlite_api.app
    calls = []

    def forgotten():
        calls.append(1)
        return "done"

    app.add_url_rule(
        "/consultant/forgotten",
        "consultant.forgotten",
        forgotten,
        methods=["GET", "POST"],
    )
    get = app.test_client().get("/consultant/forgotten")
    post = app.test_client().post("/consultant/forgotten")

    assert is_login_redirect(get)
    assert post.status_code == 403
    assert calls == []


def test_require_role(sqlite_api):
    app = sqlite_api.app
    add_consultant(app, "anna", "utrecht")
    add_consultant(app, "bram", "utrecht", role="administrator")
    app.add_url_rule(
        "/consultant/admin-only",
        "consultant.admin_only",
        require_role("administrator")(lambda: "admin page"),
    )
    consultant_client = app.test_client()
    login(consultant_client, "anna")
    admin_client = app.test_client()
    login(admin_client, "bram")

    rejected = consultant_client.get("/consultant/admin-only")
    allowed = admin_client.get("/consultant/admin-only")

    assert rejected.status_code == 403
    assert NL["error_forbidden"] in rejected.get_data(as_text=True)
    assert allowed.status_code == 200
    assert allowed.get_data(as_text=True) == "admin page"


def test_require_role_unknown_role():
    with pytest.raises(ValueError, match="role 'admin' is unknown"):
        require_role("admin")


def test_blueprint_is_the_package_blueprint(sqlite_api):
    assert sqlite_api.app.blueprints["consultant"] is blueprint


# Security headers


def test_headers_on_every_portal_response(sqlite_api):
    app = sqlite_api.app
    add_consultant(app, "anna", "utrecht")
    client = app.test_client()
    responses = {
        "anonymous index": client.get(INDEX),
        "login page": client.get(LOGIN),
        "failed login": post_login(client, "anna", "wrong password here"),
        "csrf error": client.post(LOGIN),
        "unknown page": client.get("/consultant/no-such-page"),
        "stylesheet": client.get("/consultant/assets/consultant.css"),
    }
    login(client, "anna")
    responses["index"] = client.get(INDEX)

    for name, response in responses.items():
        for header, value in security.SECURITY_HEADERS.items():
            assert response.headers.get(header) == value, (name, header)
    assert responses["stylesheet"].status_code == 200
    assert responses["stylesheet"].mimetype == "text/css"
    for response in responses.values():
        response.close()


def test_headers_not_on_other_routes(sqlite_api):
    response = sqlite_api.client.get("/api/v1/health")

    assert "Content-Security-Policy" not in response.headers


def test_assets_limited_to_portal_files(sqlite_api):
    client = sqlite_api.client

    assert client.get("/consultant/assets/stappen.css").status_code == 404
    assert client.get("/consultant/assets/js/wallet.js").status_code == 404
    assert client.get("/consultant/assets/consultant.css/../x").status_code == 404


def test_templates_have_no_inline_code(sqlite_api):
    add_consultant(sqlite_api.app, "anna", "utrecht")
    client = sqlite_api.client
    login(client, "anna")

    for path in (INDEX, "/consultant/no-such-page"):
        html = client.get(path).get_data(as_text=True)

        assert "<script" not in html
        assert "<style" not in html
        assert " style=" not in html


# Language


def test_texts_have_same_keys():
    assert TEXTS["nl"].keys() == TEXTS["en"].keys()


def test_login_page_language_link(sqlite_api):
    client = sqlite_api.client

    dutch = client.get(LOGIN).get_data(as_text=True)
    english = client.get(LOGIN + "?lang=en")
    remembered = client.get(LOGIN).get_data(as_text=True)

    assert '<html lang="nl">' in dutch
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert TEXTS["en"]["login_intro"] in remembered


def test_language_switch_stored_on_account(api):
    add_consultant(api.app, "anna", "utrecht")
    client = api.client
    csrf = login(client, "anna")

    switched = client.post(
        "/consultant/language",
        data={"csrf_token": csrf, "lang": "en", "next": "/consultant/?x=1"},
    )
    page = client.get(INDEX).get_data(as_text=True)
    other_client = api.client
    login(other_client, "anna")
    again = other_client.get(INDEX).get_data(as_text=True)

    assert switched.status_code == 303
    assert switched.headers["Location"] == "/consultant/?x=1"
    assert '<html lang="en">' in page
    assert '<html lang="en">' in again


# In a browser


@pytest.mark.browser
def test_login_in_browser(sqlite_api, chromium):
    """Chromium keeps the Secure cookies on http://127.0.0.1 and runs no inline code."""
    add_consultant(sqlite_api.app, "anna", "utrecht", name="Anna de Vries")
    console: list[str] = []

    with serve(sqlite_api.app) as base, new_page(chromium) as page:
        page.on("console", lambda message: console.append(message.text))
        page.goto(base + INDEX)
        page.fill("#username", "anna")
        page.fill("#password", "not the right password")
        page.click("button[type=submit] >> text=Inloggen")
        page.wait_for_selector(".consultant-error-summary")
        focused = page.evaluate("document.activeElement.className")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit] >> text=Inloggen")
        page.wait_for_selector('form[action="/consultant/logout"]')
        landed = page.url

    assert focused == "consultant-error-summary"
    assert landed == base + INDEX
    assert not [text for text in console if "Content Security Policy" in text]


@pytest.mark.browser
def test_login_page_fits_narrow_screen(sqlite_api, chromium):
    add_consultant(sqlite_api.app, "anna", "utrecht", name="Anna de Vries")
    narrow = {"width": 320, "height": 640}

    with serve(sqlite_api.app) as base, new_page(chromium, viewport=narrow) as page:
        page.goto(base + LOGIN)
        login_width = page.evaluate("document.documentElement.scrollWidth")
        page.fill("#username", "anna")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit] >> text=Inloggen")
        page.wait_for_selector('form[action="/consultant/logout"]')
        index_width = page.evaluate("document.documentElement.scrollWidth")

    assert login_width <= 320
    assert index_width <= 320
