"""``build.py serve``: a local preview with live reload.

The preview serves the built files under the base path, as GitHub Pages
would. A watcher rebuilds when a flow, template or asset changes, and the
pages, which get a small script injected, reload through a server-sent
events stream. When a change makes a flow invalid, the open pages show
the problems instead of reloading, and the last good site stays.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import queue
import threading
import time
import urllib.parse
from pathlib import Path

from watchdog.events import FileSystemEventHandler
from watchdog.observers import Observer
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from stappen.building import SiteBuilder
from stappen.errors import InvalidFlows, StappenError
from stappen.rendering import PACKAGE_TEMPLATES
from stappen.site import PACKAGE_STATIC

log = logging.getLogger(__name__)

EVENTS_PATH = "__stappen__/events"
DEBOUNCE_SECONDS = 0.15
CHANGE_EVENTS = {"created", "deleted", "modified", "moved", "closed"}
"""Watchdog events that change a file; reading one ("opened") does not."""
KEEPALIVE_SECONDS = 15

RELOAD_SCRIPT = """<script>
(() => {
  const source = new EventSource(%(url)s);
  source.addEventListener("reload", () => window.location.reload());
  source.addEventListener("problems", (event) => {
    let box = document.getElementById("stappen-preview-problems");
    if (!box) {
      box = document.createElement("pre");
      box.id = "stappen-preview-problems";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:auto 0 0 0;max-height:50vh;" +
        "overflow:auto;margin:0;padding:1rem;background:#fff0f0;color:#6b0000;" +
        "border-top:4px solid #b3261e;font:14px/1.4 monospace;white-space:pre-wrap";
      document.body.append(box);
    }
    box.textContent = JSON.parse(event.data).join("\\n");
  });
  source.addEventListener("unchanged", () => {
    const box = document.getElementById("stappen-preview-problems");
    if (box) box.remove();
  });
})();
</script>"""


class Broadcaster:
    """Hands each event to every open page's event stream."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[queue.Queue] = []
        self._problems: list[str] = []

    def listen(self) -> queue.Queue:
        """Return a new page's queue, starting with the problems, if any."""
        listener: queue.Queue = queue.Queue()
        with self._lock:
            self._listeners.append(listener)
            if self._problems:
                listener.put(("problems", json.dumps(self._problems)))
        return listener

    def forget(self, listener: queue.Queue) -> None:
        with self._lock:
            self._listeners.remove(listener)

    def send(self, event: str, data) -> None:
        with self._lock:
            self._problems = list(data) if event == "problems" else []
            for listener in self._listeners:
                listener.put((event, json.dumps(data)))


class PreviewApp:
    """A WSGI app serving the built site under ``prefix``, with live reload."""

    def __init__(self, out_dir: Path, prefix: str, broadcaster: Broadcaster) -> None:
        self.out_dir = out_dir.resolve()
        self.prefix = prefix
        self.broadcaster = broadcaster

    def __call__(self, environ, start_response):
        request = Request(environ)
        return self.respond(request)(environ, start_response)

    def respond(self, request: Request) -> Response:
        path = request.path
        if path == "/" and self.prefix != "/":
            return Response(status=302, headers={"Location": self.prefix})
        if not path.startswith(self.prefix):
            return self._not_found()
        relative = path[len(self.prefix) :]
        if relative == EVENTS_PATH:
            return self._events()
        return self._file(relative)

    def _file(self, relative: str) -> Response:
        try:
            target = (self.out_dir / relative).resolve()
            is_dir = target.is_dir()
        except (OSError, ValueError):
            return self._not_found()
        if not target.is_relative_to(self.out_dir):
            return self._not_found()
        if is_dir:
            if not relative.endswith("/") and relative:
                return Response(
                    status=301, headers={"Location": self.prefix + relative + "/"}
                )
            target = target / "index.html"
        if not target.is_file():
            return self._not_found()
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        body = target.read_bytes()
        if kind == "text/html":
            body = self._inject(body)
        return Response(
            body,
            content_type=_with_charset(kind),
            headers={"Cache-Control": "no-store"},
        )

    def _not_found(self) -> Response:
        page = self.out_dir / "404.html"
        body = self._inject(page.read_bytes()) if page.is_file() else b"Not found"
        return Response(body, status=404, content_type="text/html; charset=utf-8")

    def _inject(self, body: bytes) -> bytes:
        script = RELOAD_SCRIPT % {"url": json.dumps(self.prefix + EVENTS_PATH)}
        return body.replace(b"</body>", script.encode() + b"</body>", 1)

    def _events(self) -> Response:
        listener = self.broadcaster.listen()

        def stream():
            try:
                yield b"retry: 1000\n\n"
                while True:
                    try:
                        event, data = listener.get(timeout=KEEPALIVE_SECONDS)
                    except queue.Empty:
                        yield b": keep-alive\n\n"
                        continue
                    yield f"event: {event}\ndata: {data}\n\n".encode()
            finally:
                self.broadcaster.forget(listener)

        return Response(
            stream(),
            content_type="text/event-stream",
            headers={"Cache-Control": "no-store"},
        )


class _ChangeHandler(FileSystemEventHandler):
    """Collects changed paths; a worker thread rebuilds once they settle."""

    def __init__(self) -> None:
        self.changed: set[Path] = set()
        self.lock = threading.Lock()
        self.event = threading.Event()

    def on_any_event(self, event) -> None:
        if event.event_type not in CHANGE_EVENTS:
            return
        if event.is_directory and event.event_type == "modified":
            return
        paths = [event.src_path, getattr(event, "dest_path", "")]
        with self.lock:
            self.changed.update(Path(p) for p in paths if p)
        self.event.set()

    def take(self) -> list[Path]:
        with self.lock:
            changed, self.changed = sorted(self.changed), set()
        self.event.clear()
        return changed


def rebuild_loop(builder: SiteBuilder, handler: _ChangeHandler, broadcaster):
    """Rebuild after each burst of changes and tell the open pages."""
    while True:
        handler.event.wait()
        time.sleep(DEBOUNCE_SECONDS)
        changed = [p for p in handler.take() if not _ignored(p)]
        if not changed:
            continue
        started = time.perf_counter()
        try:
            paths = builder.rebuild(changed)
        except InvalidFlows as error:
            for problem in error.problems:
                level = logging.ERROR if problem.is_error else logging.WARNING
                log.log(level, "%s", problem, extra={"problem": True})
            broadcaster.send("problems", [str(p) for p in error.problems])
            continue
        except StappenError as error:
            _report_problems([str(error)], broadcaster)
            continue
        seconds = time.perf_counter() - started
        log.info("Rebuilt %d files in %.0f ms", len(paths), seconds * 1000)
        broadcaster.send("reload" if paths else "unchanged", paths)


def _report_problems(lines: list[str], broadcaster: Broadcaster) -> None:
    for line in lines:
        log.error("%s", line)
    broadcaster.send("problems", lines)


def _ignored(path: Path) -> bool:
    name = path.name
    return name.startswith(".") or name.endswith(("~", ".swp", ".tmp"))


def serve(
    steps_dir: Path,
    out_dir: Path,
    *,
    base_url: str,
    host: str,
    port: int,
    api_url: str | None = None,
    strict: bool = False,
    screenshots: Path | None = None,
) -> None:
    """Build, then serve and rebuild on every change until interrupted."""
    path = urllib.parse.urlsplit(base_url).path.strip("/")
    prefix = f"/{path}/" if path else "/"
    builder = SiteBuilder(
        steps_dir,
        out_dir,
        base_url=prefix,
        api_url=api_url,
        strict=strict,
        screenshots=screenshots,
    )
    print(builder.build_all())

    broadcaster = Broadcaster()
    handler = _ChangeHandler()
    observer = Observer()
    watched = [steps_dir, PACKAGE_TEMPLATES, PACKAGE_STATIC]
    if screenshots is not None:
        watched.append(screenshots)
    for folder in watched:
        observer.schedule(handler, str(folder), recursive=True)
    observer.start()
    threading.Thread(
        target=rebuild_loop, args=(builder, handler, broadcaster), daemon=True
    ).start()

    app = PreviewApp(out_dir, prefix, broadcaster)
    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as error:
        observer.stop()
        raise StappenError(
            f"cannot listen on {host}:{port}: {error.strerror}; choose another "
            "--port or --host"
        ) from error
    print(f"Serving {out_dir} at http://{host}:{port}{prefix} (Ctrl+C stops)")
    try:
        server.serve_forever()
    finally:
        server.server_close()
        observer.stop()


def _with_charset(kind: str) -> str:
    if kind.startswith("text/") or kind in (
        "application/javascript",
        "application/json",
        "image/svg+xml",
    ):
        return f"{kind}; charset=utf-8"
    return kind
