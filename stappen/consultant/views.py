"""The portal's pages: login, logout, language, assets, errors.

The landing page is the applications list of stappen.consultant.review_views.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime

from flask import (
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from werkzeug.exceptions import BadRequest, HTTPException, NotFound, TooManyRequests

from stappen import apiconfig, storage
from stappen.consultant import accounts, auth, security, sessionstore
from stappen.consultant.auth import current_consultant
from stappen.consultant.settings import settings
from stappen.consultant.texts import DEFAULT_LANGUAGE, texts_for

log = logging.getLogger(__name__)

LANGUAGE_COOKIE = "stappen_consultant_lang"
ASSET_PREFIX = "consultant"
"""Only files of the app's static folder whose name starts with this are served."""


class CsrfRejected(BadRequest):
    """A form or request without the expected CSRF token."""


def current_language() -> str:
    """Return the account's language, or the one the login page chose, or Dutch."""
    consultant = current_consultant()
    if consultant is not None:
        return consultant.lang
    for candidate in (request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if candidate in accounts.LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def template_context() -> dict:
    """Give every portal template the consultant, the language and its texts."""
    lang = current_language()
    return {
        "consultant": current_consultant(),
        "lang": lang,
        "other_lang": "en" if lang == "nl" else "nl",
        "texts": texts_for(lang),
    }


def check_csrf() -> None:
    """Reject an unsafe request of the blueprint without the right CSRF token."""
    if request.method in security.UNSAFE_METHODS and not security.csrf_is_valid():
        log.warning(
            "Rejected a %s to %r without a valid CSRF token",
            request.method,
            request.path,
        )
        raise CsrfRejected()


def remember_language(response: Response) -> Response:
    """Keep the language a login page link chose, and set the login CSRF cookie."""
    lang = request.args.get("lang")
    if lang in accounts.LANGUAGES and current_consultant() is None:
        _set_language_cookie(response, lang)
    return security.set_login_csrf_cookie(response)


def _set_language_cookie(response: Response, lang: str) -> None:
    response.set_cookie(
        LANGUAGE_COOKIE,
        lang,
        max_age=365 * 24 * 3600,
        secure=True,
        httponly=True,
        samesite="Lax",
        path=auth.COOKIE_PATH,
    )


def register_views(blueprint) -> None:
    blueprint.add_url_rule("/login", "login", login, methods=["GET", "POST"])
    blueprint.add_url_rule("/logout", "logout", logout, methods=["POST"])
    blueprint.add_url_rule("/language", "language", language, methods=["POST"])
    blueprint.add_url_rule("/assets/<path:filename>", "asset", asset)
    blueprint.register_error_handler(HTTPException, error_page)


def login() -> Response | str:
    default = url_for("consultant.index")
    target = security.safe_next(request.values.get("next"), default)
    if current_consultant() is not None:
        return redirect(target, code=303)
    if request.method == "GET":
        return _login_page(target)

    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    if not username or not password:
        return _login_page(target, "login_missing", username=username, status=400)

    db = storage.request_connection()
    _limit_attempts(db)
    result = auth.log_in(db, username, password)
    if result.token is None:
        return _login_page(target, result, username=username, status=401)

    response = redirect(target, code=303)
    auth.set_session_cookie(response, result.token)
    return response


def logout() -> Response:
    """End the session and show the login page in the account's language.

    The login page reads the language from the cookie, which still contains
    the one chosen before the login, so the account's language replaces it.
    """
    lang = current_consultant().lang
    auth.log_out(storage.request_connection())
    response = redirect(url_for("consultant.login", logged_out=1), code=303)
    auth.clear_session_cookie(response)
    _set_language_cookie(response, lang)
    return response


def language() -> Response:
    """Store the language that the header's switch chose on the account."""
    lang = request.form.get("lang", "")
    if lang not in accounts.LANGUAGES:
        raise BadRequest(f"language {lang!r} is unknown; use nl or en")
    accounts.set_language(storage.request_connection(), current_consultant().id, lang)
    target = security.safe_next(request.form.get("next"), url_for("consultant.index"))
    return redirect(target, code=303)


def asset(filename: str) -> Response:
    """Serve the portal's CSS and scripts from the app's static folder."""
    if not filename.startswith(ASSET_PREFIX) or "/" in filename:
        raise NotFound()
    return send_from_directory(current_app.static_folder, filename, max_age=0)


def error_page(error: HTTPException) -> tuple[str, int, dict]:
    """Show an HTTP error of the blueprint as a page in the portal's language."""
    texts = texts_for(current_language())
    message = texts["error_other"]
    if isinstance(error, CsrfRejected):
        message = texts["error_csrf"]
    elif isinstance(error, auth.LoginRequired):
        message = texts["error_login_required"]
    elif error.code == 403:
        message = texts["error_forbidden"]
    elif error.code == 404:
        message = texts["error_not_found"]
    elif isinstance(error, TooManyRequests):
        minutes = math.ceil(int(error.retry_after or 60) / 60)
        message = texts["error_rate_limited"].format(minutes=minutes)

    headers = dict(error.get_headers())
    headers.pop("Content-Type", None)
    body = render_template("consultant/error.html", message=message, code=error.code)
    return body, error.code or 500, headers


def _limit_attempts(db) -> None:
    """Raise 429 with Retry-After when the client made too many login attempts."""
    app = current_app._get_current_object()
    rules = settings(app)
    now = apiconfig.now(app)
    allowed_at = sessionstore.take_attempt(
        db,
        security.client_address(),
        now=now,
        window=rules.login_window,
        limit=rules.login_attempts,
    )
    if allowed_at is None:
        return
    seconds = _seconds_until(now, allowed_at)
    log.warning("Rate-limited consultant logins from %s", security.client_address())
    raise TooManyRequests(retry_after=seconds)


def _seconds_until(now: datetime, moment: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _login_page(
    target: str,
    failure: str | auth.LoginResult | None = None,
    *,
    username: str = "",
    status: int = 200,
) -> tuple[str, int]:
    texts = texts_for(current_language())
    error = None
    if isinstance(failure, auth.LoginResult) and failure.locked_until is not None:
        now = apiconfig.now(current_app)
        minutes = math.ceil(_seconds_until(now, failure.locked_until) / 60)
        error = texts["account_locked"].format(minutes=minutes)
    elif isinstance(failure, auth.LoginResult):
        error = texts[failure.failure]
    elif failure is not None:
        error = texts[failure]
    notice = None
    if request.args.get("logged_out"):
        notice = texts["logged_out"]
    elif g.get("consultant_session_ended") or request.args.get("ended"):
        notice = texts["session_ended"]
    page = render_template(
        "consultant/login.html",
        next=target,
        error=error,
        notice=notice,
        username=username,
    )
    return page, status
