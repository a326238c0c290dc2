"""Login, logout and the login sessions of consultants.

Every route of the blueprint requires a logged-in consultant by default:
:func:`require_login` runs before each request and lets only the endpoints
in :data:`PUBLIC_ENDPOINTS` through. :func:`login_required` and
:func:`require_role` state the requirement on a view as well.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Response, current_app, g, redirect, request, url_for
from werkzeug.exceptions import Forbidden

from stappen import apiconfig, audit, storage
from stappen.consultant import accounts, passwords, sessionstore
from stappen.consultant.accounts import Account, Consultant
from stappen.consultant.settings import settings
from stappen.storage.base import ConnectionBase, to_millis

log = logging.getLogger(__name__)

SESSION_COOKIE = "stappen_consultant"
COOKIE_PATH = "/consultant"
PUBLIC_ENDPOINTS = frozenset({"consultant.login", "consultant.asset"})
"""Endpoints that anonymous requests may reach; every other one needs a login."""
UNKNOWN_ACTOR = "unknown"


class LoginRequired(Forbidden):
    """An anonymous request to a route that needs a login, other than a GET."""


class RoleRequired(Forbidden):
    """A logged-in consultant without the role that the route needs."""


@dataclasses.dataclass(frozen=True)
class LoginResult:
    """The outcome of a login form: a new session, or why there is none."""

    consultant: Consultant | None = None
    token: str | None = None
    """The new session cookie's value."""
    failure: str | None = None
    """``login_failed`` or ``account_locked``: the key of the message to show."""
    locked_until: datetime | None = None


def current_consultant() -> Consultant | None:
    """Return the logged-in consultant, or None for an anonymous request.

    Never None in a view of the blueprint other than the public ones.
    """
    return g.get("consultant")


def login_required(view: Callable) -> Callable:
    """Reject anonymous requests to ``view``, as the blueprint does by default."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_consultant() is None:
            return reject_anonymous()
        return view(*args, **kwargs)

    return wrapper


def require_role(role: str) -> Callable[[Callable], Callable]:
    """Reject requests to ``view`` with 403 unless the consultant has ``role``."""
    if role not in accounts.ROLES:
        raise ValueError(f"role {role!r} is unknown; use one of {accounts.ROLES}")

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_consultant().role != role:
                raise RoleRequired()
            return view(*args, **kwargs)

        return wrapper

    return decorator


def require_login() -> Response | None:
    """Reject anonymous requests to every endpoint that is not public."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_consultant() is not None:
        return None
    return reject_anonymous()


def reject_anonymous() -> Response:
    """Redirect a GET to the login page, which returns to it; raise 403 otherwise.

    The redirect adds ``ended=1`` when the request's session just ended, so
    the login page shows that it ended.
    """
    if request.method not in ("GET", "HEAD"):
        raise LoginRequired()
    target = request.full_path if request.query_string else request.path
    ended = 1 if g.get("consultant_session_ended") else None
    return redirect(url_for("consultant.login", next=target, ended=ended), code=303)


def load_session() -> None:
    """Find the session of the request's cookie, and its consultant, in ``g``.

    A session past a timeout, or of a disabled account, is deleted. Every
    request of a live session restarts its idle timeout.
    """
    token = request.cookies.get(SESSION_COOKIE)
    if not token or request.endpoint == "consultant.asset":
        return
    app = current_app._get_current_object()
    db = storage.request_connection()
    session = sessionstore.find_session(db, token)
    if session is None:
        return

    now = apiconfig.now(app)
    account = accounts.find_by_id(db, session.account_id)
    if (
        session.ended_at(now, settings(app).idle_timeout)
        or account is None
        or account.disabled
    ):
        sessionstore.delete_session(db, session.token_hash)
        g.consultant_session_ended = True
        return

    sessionstore.touch_session(db, session.token_hash, now)
    g.consultant = account.consultant
    g.consultant_session = session


def log_in(db: ConnectionBase, username: str, password: str) -> LoginResult:
    """Check a login form's username and password; start a session on success.

    Unknown usernames, disabled accounts and wrong passwords get the same
    failure and take as long, because a password hash is checked for each.
    A locked account fails as locked whether or not the password is right.
    """
    app = current_app._get_current_object()
    now = apiconfig.now(app)
    account = accounts.find_by_username(db, username)
    if account is None:
        passwords.verify(None, password)
        _record_failure(db, None, "unknown_username")
        return LoginResult(failure="login_failed")

    if account.locked_at(now):
        passwords.verify(None, password)
        _record_failure(db, account, "locked")
        return LoginResult(failure="account_locked", locked_until=account.locked_until)

    if not passwords.verify(account.password_hash, password):
        return _wrong_password(db, account, now)
    if account.disabled:
        _record_failure(db, account, "disabled")
        return LoginResult(failure="login_failed")

    return _start_session(db, account, now)


def log_out(db: ConnectionBase) -> None:
    """Delete the current session, so its cookie no longer works anywhere."""
    session = g.get("consultant_session")
    consultant = current_consultant()
    if session is None or consultant is None:
        return
    with db.transaction():
        sessionstore.delete_session(db, session.token_hash)
        audit.record(
            db, "consultant.logout", subject=consultant.id, actor=consultant.id
        )
    g.pop("consultant_session")
    log.info("Consultant %s logged out", consultant.id)


def set_session_cookie(response: Response, token: str) -> None:
    lifetime = settings(current_app).session_lifetime
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        secure=True,
        httponly=True,
        samesite="Strict",
        path=COOKIE_PATH,
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, secure=True, httponly=True, samesite="Strict", path=COOKIE_PATH
    )


def _wrong_password(db: ConnectionBase, account: Account, now: datetime) -> LoginResult:
    rules = settings(current_app)
    account_id = account.consultant.id
    with db.transaction():
        locked_until = accounts.record_failed_login(
            db,
            account_id,
            now=now,
            max_failed=rules.max_failed_logins,
            lockout=rules.lockout,
        )
        _record_failure(db, account, "wrong_password")
        if locked_until is not None:
            audit.record(
                db,
                "consultant.locked",
                subject=account_id,
                actor="system",
                data={
                    "failed_logins": rules.max_failed_logins,
                    "locked_until": to_millis(locked_until),
                },
            )
    if locked_until is None:
        return LoginResult(failure="login_failed")
    log.warning("Locked consultant account %s until %s", account_id, locked_until)
    return LoginResult(failure="account_locked", locked_until=locked_until)


def _start_session(db: ConnectionBase, account: Account, now: datetime) -> LoginResult:
    """Replace the request's old session, if any, by a new one with a new token.

    Sessions of any account that passed a timeout are deleted here too.
    """
    consultant = account.consultant
    rules = settings(current_app)
    old = g.pop("consultant_session", None)
    with db.transaction():
        if old is not None:
            sessionstore.delete_session(db, old.token_hash)
        sessionstore.delete_ended_sessions(db, now, rules.idle_timeout)
        accounts.reset_failed_logins(db, consultant.id)
        token, session = sessionstore.create_session(
            db, consultant.id, now=now, lifetime=rules.session_lifetime
        )
        audit.record(db, "consultant.login", subject=consultant.id, actor=consultant.id)
    g.consultant = consultant
    g.consultant_session = session
    log.info("Consultant %s logged in", consultant.id)
    return LoginResult(consultant=consultant, token=token)


def _record_failure(db: ConnectionBase, account: Account | None, reason: str) -> None:
    """Record a failed login in the audit trail and the log.

    An unknown username is left out of both, because it may be a password
    typed into the wrong field.
    """
    account_id = account.consultant.id if account is not None else None
    audit.record(
        db,
        "consultant.login_failed",
        subject=account_id,
        actor=account_id or UNKNOWN_ACTOR,
        data={"reason": reason},
    )
    log.info("Failed consultant login (%s) for account %s", reason, account_id)
