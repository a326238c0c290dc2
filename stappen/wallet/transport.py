"""HTTP for the test wallet: requests through a transport, errors for the user.

Every HTTP exchange goes through a transport function, so tests can route
the wallet to a Flask test client instead of the network.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from stappen.wallet.store import WalletError

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10
"""Seconds to wait for a server. A local API responds well within this."""

MAX_RESPONSE_BYTES = 4 * 1024 * 1024


class ServerError(WalletError):
    """An HTTP error status from a server. ``error`` is its OAuth error code."""

    def __init__(self, url: str, status: int, error: str, description: str) -> None:
        self.url = url
        self.status = status
        self.error = error
        self.description = description
        super().__init__(f"{url} answered HTTP {status}: {error}: {description}")


class ResponseRejected(ServerError):
    """The verifier's response_uri rejected an authorization response."""

    @classmethod
    def from_error(cls, error: ServerError) -> ResponseRejected:
        return cls(error.url, error.status, error.error, error.description)


class NetworkError(WalletError):
    """A server that could not be reached or timed out."""


@dataclasses.dataclass(frozen=True)
class HttpRequest:
    """One HTTP request that the wallet sends through its transport."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None


@dataclasses.dataclass(frozen=True)
class HttpResponse:
    """A server's response, with lower-case header names."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        """The media type of the body, without parameters such as charset."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


Transport = Callable[[HttpRequest], HttpResponse]


def urllib_transport(request: HttpRequest, timeout: float = DEFAULT_TIMEOUT):
    """Send ``request`` with urllib and return the response, HTTP errors included."""
    sent = urllib.request.Request(
        request.url,
        data=request.body,
        headers=dict(request.headers),
        method=request.method,
    )
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    try:
        with opener.open(sent, timeout=timeout) as answer:
            return _response_from(answer.status, answer.headers, answer)
    except urllib.error.HTTPError as error:
        return _response_from(error.code, error.headers, error)
    except TimeoutError as error:
        raise NetworkError(
            f"{request.url} timed out after {timeout} s; check that the "
            "API runs and that the URL is right"
        ) from error
    except urllib.error.URLError as error:
        raise NetworkError(
            f"{request.url} cannot be reached: {error.reason}; check that the "
            "API runs and that the URL is right"
        ) from error


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http and https URLs only."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_http_url(newurl, f"redirect from {req.full_url}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _response_from(status: int, headers, stream) -> HttpResponse:
    body = stream.read(MAX_RESPONSE_BYTES + 1)
    if len(body) > MAX_RESPONSE_BYTES:
        raise NetworkError(f"response is larger than {MAX_RESPONSE_BYTES} bytes")
    names = {name.lower(): value for name, value in headers.items()}
    return HttpResponse(status, names, body)


def check_http_url(url: Any, label: str) -> str:
    """Return ``url`` if it is an absolute http or https URL, else raise."""
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise WalletError(
            f"{label} is {url!r}; expected an absolute http:// or https:// URL"
        )
    return url


class _Http:
    """JSON and form requests over a transport, with errors for the user."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def send(self, method: str, url: str, headers: dict, body: bytes | None = None):
        check_http_url(url, "URL")
        logger.debug("%s %s", method, url)
        response = self.transport(HttpRequest(method, url, headers, body))
        if not 200 <= response.status < 300:
            raise _server_error(url, response)
        return response

    def get_json(self, url: str) -> dict:
        response = self.send("GET", url, {"Accept": "application/json"})
        return _json_object(url, response)

    def post_form(self, url: str, fields: Mapping[str, str], headers=None) -> dict:
        body = urllib.parse.urlencode(fields).encode("utf-8")
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        response = self.send("POST", url, {**form, **(headers or {})}, body)
        return _json_object(url, response)

    def post_json(self, url: str, document: Any, headers=None) -> HttpResponse:
        body = json.dumps(document).encode("utf-8")
        sent = {"Content-Type": "application/json", **(headers or {})}
        return self.send("POST", url, sent, body)


def _server_error(url: str, response: HttpResponse) -> ServerError:
    try:
        document = json.loads(response.body)
    except ValueError:
        document = None

    if not isinstance(document, dict):
        text = response.body[:200].decode("utf-8", "replace").strip()
        return ServerError(url, response.status, "no JSON error", text or "empty body")
    error = str(document.get("error", "no error code"))
    description = document.get("error_description") or document.get("message") or ""
    return ServerError(url, response.status, error, str(description))


def _json_object(url: str, response: HttpResponse) -> dict:
    try:
        document = json.loads(response.body)
    except ValueError as error:
        raise WalletError(f"{url} returned invalid JSON: {error}") from error
    if not isinstance(document, dict):
        raise WalletError(f"{url} returned JSON that is not an object")
    return document


def _require(document: Mapping, name: str, kind: type, source: str) -> Any:
    value = document.get(name)
    if not isinstance(value, kind):
        raise WalletError(f"{source} has {name} {value!r}; expected a {kind.__name__}")
    return value


def _query_parameters(url: str, expected: tuple[str, ...], label: str) -> dict:
    if not isinstance(url, str):
        raise WalletError(f"{label} must be text, got {type(url).__name__}")

    query = urllib.parse.urlsplit(url.strip()).query
    parameters = urllib.parse.parse_qs(query, keep_blank_values=True)
    found = {}
    for name in expected:
        values = parameters.get(name)
        if not values or not values[0]:
            raise WalletError(
                f"{label} {url!r} has no {name} parameter; copy the whole link "
                "from the page (see docs/test-wallet.md)"
            )
        found[name] = values[0]
    return found
