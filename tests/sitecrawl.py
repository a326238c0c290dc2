"""Serve a built site under a sub-path, as GitHub Pages does, and crawl it."""

from __future__ import annotations

import contextlib
import functools
import html.parser
import http.server
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value and not value.startswith("#"):
                self.links.append(value)


class _PagesHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files below the prefix; any other path gets 404.html, with 404."""

    prefix = "/"
    site: Path

    def log_message(self, format, *args):
        pass

    def translate_path(self, path):
        path = urllib.parse.urlsplit(path).path
        if not path.startswith(self.prefix):
            return str(self.site / "__outside__")
        relative = urllib.parse.unquote(path[len(self.prefix) :])
        return str(self.site / relative)

    def send_error(self, code, message=None, explain=None):
        page = self.site / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serve_site(site: Path, prefix: str):
    """Serve ``site`` at ``http://127.0.0.1:PORT<prefix>``; yield the base URL."""
    handler = type("Handler", (_PagesHandler,), {"prefix": prefix, "site": site})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type(), error.read()


def crawl(base: str, start: str) -> tuple[set[str], list[str]]:
    """Follow every local link from ``start``; return the URLs and problems."""
    queue = [start]
    seen = {start}
    problems = []
    for url in queue:
        status, kind, body = fetch(url)
        if status != 200:
            problems.append(f"HTTP {status}: {url}")
            continue
        if kind != "text/html":
            continue
        parser = _Links()
        parser.feed(body.decode("utf-8"))
        for link in parser.links:
            target = urllib.parse.urljoin(url, link).split("#")[0]
            if target.startswith(base) and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen, problems
