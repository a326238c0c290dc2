"""CSRF tokens, security headers and safe redirects for the consultant portal.

Every form of the portal carries a token (``{{ csrf_field() }}``), and a
``before_request`` hook rejects a POST, PUT, PATCH or DELETE whose token
does not match:

- after login, the session's token, stored with the session;
- on the login form, a double-submit token: the same random value in the
  form and in the ``__Host-`` cookie :data:`LOGIN_CSRF_COOKIE`. A site on
  another origin can neither read that cookie nor set it, because of the
  ``__Host-`` prefix, and SameSite=Strict keeps it off cross-site posts.
"""

from __future__ import annotations

import hmac
import ipaddress
import posixpath
import secrets
from urllib.parse import unquote, urlsplit

from flask import Response, g, request
from markupsafe import Markup, escape

LOGIN_CSRF_COOKIE = "__Host-stappen_consultant_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PORTAL_PREFIX = "/consultant"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def is_portal_path(path: str) -> bool:
    return path == PORTAL_PREFIX or path.startswith(PORTAL_PREFIX + "/")


def add_security_headers(response: Response) -> Response:
    """Set the security headers on every response under ``/consultant``.

    An app-wide ``after_request`` hook, so that errors raised before a
    route matched, such as a 404, get them too.
    """
    if is_portal_path(request.path):
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
    return response


def csrf_token() -> str:
    """Return the token that this request's forms must send back.

    The session's token once logged in; otherwise the login cookie's value,
    or a new one that :func:`set_login_csrf_cookie` sets on the response.
    """
    session = g.get("consultant_session")
    if session is not None:
        return session.csrf_token
    if "login_csrf" not in g:
        existing = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        g.login_csrf = existing if _well_formed(existing) else secrets.token_urlsafe(32)
    return g.login_csrf


def csrf_field() -> Markup:
    """Return the hidden form field with the CSRF token, for ``{{ csrf_field() }}``."""
    return Markup(
        f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(csrf_token())}">'
    )


def csrf_is_valid() -> bool:
    """Return whether this request sends the expected CSRF token.

    The token comes from the form field or the ``X-CSRF-Token`` header and
    is compared in constant time.
    """
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    session = g.get("consultant_session")
    if session is not None:
        expected = session.csrf_token
    else:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not sent or not _well_formed(expected):
        return False
    return hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))


def set_login_csrf_cookie(response: Response) -> Response:
    """Set the login form's CSRF cookie when this request made a new token."""
    token = g.get("login_csrf")
    if token and token != request.cookies.get(LOGIN_CSRF_COOKIE):
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            secure=True,
            httponly=True,
            samesite="Strict",
            path="/",
        )
    return response


def safe_next(target: str | None, default: str) -> str:
    """Return ``target`` when it is a path inside the portal, else ``default``.

    Rejects anything that a browser could read as another site: a scheme,
    a host, ``//`` or ``\\``, control characters, and ``..`` segments that
    leave the portal.
    """
    if not target or any(ord(character) < 0x20 for character in target):
        return default
    if "\\" in target or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not is_portal_path(parts.path):
        return default
    # Browsers read %2e as a dot in a path segment, so "/consultant/%2e%2e"
    # leaves the portal as "/consultant/.." does.
    if not is_portal_path(posixpath.normpath(unquote(parts.path))):
        return default
    return target


def client_address() -> str:
    """Return the client's address that the login rate limit counts.

    This is the peer of the connection, and for IPv6 its /64 network,
    because one customer line commonly gets a whole /64 and could take a
    new address for each attempt. Behind a reverse proxy, wrap the app in
    ``werkzeug.middleware.proxy_fix.ProxyFix`` so that it is the client's
    address and not the proxy's.
    """
    address = request.remote_addr or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 6 and parsed.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return address


def _well_formed(token: str) -> bool:
    return 32 <= len(token) <= 128 and token.isascii()
