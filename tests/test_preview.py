"""``build.py serve``: the preview serves under the base path and reloads."""

from __future__ import annotations

import http.client
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import PROJECT

PREFIX = "/proef/"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def preview(steps_copy, tmp_path):
    port = _free_port()
    command = [
        sys.executable,
        str(PROJECT / "build.py"),
        "serve",
        "--steps",
        str(steps_copy),
        "--out",
        "site",
        "--port",
        str(port),
        "--base-url",
        PREFIX,
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base + PREFIX, process)
        yield base, steps_copy
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def _wait_until_up(url: str, process) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stdout.read().decode())
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise AssertionError(f"preview did not answer at {url}")


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _next_change(events: queue.Queue) -> str:
    """Return the next event that reports a change: reload or problems."""
    while True:
        event = events.get(timeout=15)
        if event != "unchanged":
            return event


def _listen(base: str) -> queue.Queue:
    """Collect the names of server-sent events in a background thread."""
    events: queue.Queue = queue.Queue()
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("GET", PREFIX + "__stappen__/events")
    response = connection.getresponse()

    def read():
        for line in response:
            if line.startswith(b"event: "):
                events.put(line.decode().split(": ", 1)[1].strip())

    threading.Thread(target=read, daemon=True).start()
    time.sleep(0.3)
    return events


def test_preview_serves_page_with_reload(preview):
    base, _ = preview
    status, body = _get(base + PREFIX + "nl/demo/welkom/")
    assert status == 200
    assert "__stappen__/events" in body


def test_preview_rejects_path_outside_site(preview):
    base, _ = preview
    status, _ = _get(base + PREFIX + "..%2F..%2Fetc%2Fpasswd")
    assert status == 404


def test_preview_reloads_after_edit(preview):
    base, steps = preview
    events = _listen(base)
    flow = steps / "demo" / "flow.yaml"
    flow.write_text(flow.read_text(encoding="utf-8").replace("Welkom,", "Hallo,"))
    assert _next_change(events) == "reload"
    _, body = _get(base + PREFIX + "nl/demo/welkom/")
    assert '<h1 class="utrecht-heading-1">Hallo</h1>' in body


def test_preview_shows_problems_and_keeps_site(preview):
    base, steps = preview
    events = _listen(base)
    flow = steps / "demo" / "flow.yaml"
    flow.write_text(
        flow.read_text(encoding="utf-8").replace("next: woonplaats", "next: nergens")
    )
    assert _next_change(events) == "problems"
    status, body = _get(base + PREFIX + "nl/demo/welkom/")
    assert status == 200
    assert "Welkom" in body


def test_preview_bad_path_not_found(preview):
    base, _ = preview
    status, _ = _get(base + PREFIX + "%00")
    long_status, _ = _get(base + PREFIX + "a" * 300 + "/")
    assert status == 404
    assert long_status == 404


def test_preview_reloads_after_flow_template_edit(preview):
    base, steps = preview
    events = _listen(base)
    template = steps / "demo" / "templates" / "steps" / "outcome.html"
    template.parent.mkdir(parents=True)
    template.write_text(
        '{% extends "steps/_step.html" %}{% block step %}<p>Eigen</p>{% endblock %}',
        encoding="utf-8",
    )
    assert _next_change(events) == "reload"
    _, body = _get(base + PREFIX + "nl/demo/geen-recht/")
    assert "<p>Eigen</p>" in body


def test_preview_new_page_gets_problems(preview):
    base, steps = preview
    events = _listen(base)
    flow = steps / "demo" / "flow.yaml"
    flow.write_text(
        flow.read_text(encoding="utf-8").replace("next: woonplaats", "next: x")
    )
    assert _next_change(events) == "problems"
    later = _listen(base)
    assert later.get(timeout=15) == "problems"
