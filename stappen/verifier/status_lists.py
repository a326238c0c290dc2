"""Fetching the Token Status Lists that presented credentials refer to."""

from __future__ import annotations

import http.client
import urllib.request
from urllib.parse import urlsplit

from flask import Flask

from stappen import apiconfig, jose, statuslist

STATUS_FETCH_TIMEOUT_SECONDS = 5
"""How long fetching a status list from another server may take."""


def fetch_status_list(app: Flask, uri: str) -> str:
    """Return the status list token at ``uri``.

    A URI under STAPPEN_PUBLIC_URL is this API's own, so it is read in
    process. Any other is fetched over HTTP(S) with a short timeout. Raises
    OSError or ValueError when the token cannot be fetched, as
    statuslist.check_status expects.
    """
    own_path = _own_path(app, uri)
    if own_path is not None:
        return _fetch_in_process(app, own_path, uri)
    return _fetch_over_http(uri)


def _own_path(app: Flask, uri: str) -> str | None:
    base = urlsplit(apiconfig.public_url(app))
    target = urlsplit(uri)
    same_origin = (target.scheme, target.netloc) == (base.scheme, base.netloc)
    prefix = base.path.rstrip("/") + "/"
    if not same_origin or not target.path.startswith(prefix):
        return None
    path = "/" + target.path[len(prefix) :]
    return f"{path}?{target.query}" if target.query else path


def _fetch_in_process(app: Flask, path: str, uri: str) -> str:
    headers = {"Accept": statuslist_media_type()}
    response = app.test_client().get(path, headers=headers)
    if response.status_code != 200:
        raise ValueError(f"status list {uri!r} returned HTTP {response.status_code}")
    return response.get_data(as_text=True)


def _fetch_over_http(uri: str) -> str:
    if urlsplit(uri).scheme not in ("http", "https"):
        raise ValueError(f"status list uri {uri!r} is not an http(s) URL")

    limit = jose.MAX_PAYLOAD_BYTES + jose.MAX_HEADER_BYTES
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    fetch = urllib.request.Request(uri, headers={"Accept": statuslist_media_type()})
    try:
        with opener.open(fetch, timeout=STATUS_FETCH_TIMEOUT_SECONDS) as response:
            body = response.read(limit + 1)
    except http.client.HTTPException as error:
        raise ValueError(
            f"status list {uri!r} sent an invalid HTTP response"
        ) from error
    if len(body) > limit:
        raise ValueError(f"status list {uri!r} is larger than {limit} bytes")
    return body.decode("ascii")


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) URLs only."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise ValueError(f"status list redirects to {newurl!r}, not an http(s) URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def statuslist_media_type() -> str:
    return "application/" + statuslist.STATUS_LIST_TYP
