"""A worker killed while it stores an application or a decision.

The API runs in a process of its own (tests/faultserver.py), which sends
itself SIGKILL right after a write, inside the still open transaction. The
test plays the citizen's page and wallet over real HTTP up to that write.
It then checks what the process left in the database: nothing of the
interrupted write, and an audit trail that ``flask --app app audit verify``
passes. Last, a restarted server must accept the work again. Each case runs
on SQLite and PostgreSQL.

The application endpoint takes the presentation's result in a transaction
of its own before it stores the application. A kill after that leaves the
presentation used, so the same presentation gets 409. The voucher's
redemption is rolled back, though, so the wallet's next presentation of
the voucher makes the application.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask
from werkzeug.serving import make_server

from stappen import apiconfig, audit
from stappen.api import create_app
from stappen.wallet.holder import Holder
from stappen.wallet.store import Wallet
from tests.conftest import PROJECT
from tests.consultants import add_consultant, login
from tests.faultserver import READY_LINE, FileClock

IN_PERIOD = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
TIMEOUT_SECONDS = 30
MOTIVATION = "Uw inkomen en vermogen vallen binnen de grenzen van de regeling."
SESSION_COOKIE = "stappen_consultant"


@dataclasses.dataclass
class Crash:
    """The files a server process runs on, the test's own app and the wallet."""

    folder: Path
    env: dict[str, str]
    port: int
    clock: FileClock
    app: Flask
    holder: Holder
    processes: list[subprocess.Popen] = dataclasses.field(default_factory=list)
    logs: dict[int, Path] = dataclasses.field(default_factory=dict)
    """The file that each process, by pid, writes its log to."""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, fault: str | None = None) -> subprocess.Popen:
        """Start a server process on the shared files; return once it serves."""
        log = self.folder / f"server-{len(self.processes)}.log"
        arguments = [str(self.port), str(self.clock.path)]
        if fault is not None:
            arguments.append(fault)
        # The child keeps its own descriptor of the log once it has started.
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.faultserver", *arguments],
                cwd=PROJECT,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        self.processes.append(process)
        self.logs[process.pid] = log
        ready = process.stdout.readline().strip()
        assert ready == READY_LINE, log.read_text()
        return process

    def stop(self, process: subprocess.Popen) -> None:
        process.terminate()
        process.wait(timeout=TIMEOUT_SECONDS)

    def killed(self, process: subprocess.Popen) -> tuple[int, str]:
        """Wait for a process that should have killed itself; return status and log."""
        status = process.wait(timeout=TIMEOUT_SECONDS)
        return status, self.logs[process.pid].read_text()

    def db(self):
        return self.app.extensions["stappen.storage"].connection()


@pytest.fixture
def crash(tmp_path, database_url):
    """Keys, schema and a consultant on ``database_url``, for server processes."""
    clock = FileClock(tmp_path / "clock.txt")
    clock.set(IN_PERIOD)
    probe = make_server("127.0.0.1", 0, None)
    port = probe.server_port
    probe.server_close()
    settings = {
        "STEPS_DIR": str(PROJECT / "steps"),
        "KEYS_DIR": str(tmp_path / "keys"),
        "DATABASE_URL": database_url,
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    app = create_app({**settings, "STAPPEN_CLOCK": clock, "TESTING": True})
    apiconfig.generate_keys(app)
    app.extensions["stappen.storage"].init_schema()
    add_consultant(app, "carla", "utrecht")

    env = {
        **os.environ,
        **{f"STAPPEN_{name}": value for name, value in settings.items()},
    }
    wallet = tmp_path / "wallet.json"
    Wallet.create(wallet)
    holder = Holder(wallet, clock=lambda: clock.epoch, sleep=clock.advance)
    setup = Crash(tmp_path, env, port, clock, app, holder)
    try:
        yield setup
    finally:
        for process in setup.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=TIMEOUT_SECONDS)
            process.stdout.close()


# HTTP, as the citizen's page and the consultant's browser send it.


def _request(base: str, method: str, path: str, body=None, headers=None):
    """Send one request; return (status, body text). A dropped connection raises."""
    address = urlsplit(base)
    connection = http.client.HTTPConnection(
        address.hostname, address.port, timeout=TIMEOUT_SECONDS
    )
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _post_json(base: str, path: str, body: dict):
    headers = {"Content-Type": "application/json"}
    status, text = _request(base, "POST", path, json.dumps(body), headers)
    return status, json.loads(text)


def _start_session(base: str, step: str, **fields) -> dict:
    status, created = _post_json(
        base, "/api/v1/wallet-sessions", {"flow": "vil", "step": step, **fields}
    )
    assert status == 201, created
    return created


def _redeem(base: str, presentation: str):
    body = {
        "flow": "vil",
        "step": "aanvragen",
        "lang": "nl",
        "presentation": presentation,
    }
    return _post_json(base, "/api/v1/applications", body)


def _collect_voucher(crash: Crash) -> None:
    """Put Sanne's data and the check's voucher in the wallet."""
    offer = _start_session(crash.base, "gegevens-ophalen", persona="sanne")
    crash.holder.receive(offer["wallet_url"])
    sharing = _start_session(crash.base, "gegevens-delen")
    crash.holder.present(sharing["wallet_url"])
    body = {
        "flow": "vil",
        "step": "toets",
        "lang": "nl",
        "presentation": sharing["transaction_id"],
    }
    status, checked = _post_json(crash.base, "/api/v1/checks", body)
    assert status == 200, checked
    assert checked["eligible"] is True, checked
    crash.holder.receive(checked["voucher"]["wallet_url"])


def _present_voucher(crash: Crash) -> str:
    """Present the voucher at the application step; return the presentation."""
    applying = _start_session(crash.base, "aanvragen", lang="nl")
    crash.holder.present(applying["wallet_url"])
    return applying["transaction_id"]


def _decide(crash: Crash, application_id: str, cookie: str, csrf: str):
    form = {
        "csrf_token": csrf,
        "outcome": "granted",
        "motivation": MOTIVATION,
        "amount": "264",
    }
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"{SESSION_COOKIE}={cookie}",
    }
    path = f"/consultant/applications/{application_id}/decision"
    return _request(crash.base, "POST", path, urlencode(form), headers)


def _consultant_session(crash: Crash) -> tuple[str, str]:
    """Log in through the login form; return the session cookie and CSRF token.

    The session lives in the database, so a server process accepts it too.
    """
    client = crash.app.test_client()
    csrf = login(client, "carla")
    cookie = client.get_cookie(SESSION_COOKIE, path="/consultant")
    return cookie.value, csrf


# What the database holds.


def _count(db, sql: str, **params) -> int:
    row = db.raw.execute(db.backend.sql(sql), params).fetchone()
    return row["n"]


def _subjects(db, kind: str) -> list[str | None]:
    """Return the subjects of the audit events of ``kind``."""
    return [event.subject for event in audit.read_events(db) if event.kind == kind]


def _verify(crash: Crash) -> subprocess.CompletedProcess:
    """Run ``flask --app app audit verify`` on the shared database and keys."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "app", "audit", "verify"],
        cwd=PROJECT,
        env=crash.env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


def _assert_trail_intact(crash: Crash) -> None:
    verified = _verify(crash)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("Audit trail intact: "), verified.stdout


@pytest.mark.parametrize(
    ("fault", "function"),
    [("application-insert", "create_application"), ("application-event", "record")],
)
def test_killed_application_leaves_nothing(crash, fault, function):
    server = crash.start(fault)
    _collect_voucher(crash)
    presentation = _present_voucher(crash)
    with pytest.raises(ConnectionError):
        _redeem(crash.base, presentation)

    exit_status, log = crash.killed(server)
    assert exit_status == -signal.SIGKILL, log
    assert f"fault: killed after {function}\n" in log
    with crash.db() as db:
        applications = _count(db, "SELECT COUNT(*) AS n FROM applications")
        created = _subjects(db, "application.created")
        vouchers = _count(
            db, "SELECT COUNT(*) AS n FROM single_use_values WHERE kind = 'voucher'"
        )
        taken_presentations = _count(
            db,
            "SELECT COUNT(*) AS n FROM single_use_values WHERE kind = 'application'",
        )
    assert applications == 0
    assert created == []
    assert vouchers == 0
    assert taken_presentations == 1
    _assert_trail_intact(crash)

    crash.start()
    status, again = _redeem(crash.base, presentation)
    assert status == 409, again
    assert "was used before" in again["message"]

    status, submitted = _redeem(crash.base, _present_voucher(crash))
    assert status == 201, submitted
    with crash.db() as db:
        application = db.application_by_reference(submitted["reference"])
        created = _subjects(db, "application.created")
    assert application["status"] == "submitted"
    assert created == [application["id"]]
    _assert_trail_intact(crash)


@pytest.mark.parametrize(
    ("fault", "function"),
    [("decision-update", "decide_application"), ("decision-event", "record")],
)
def test_killed_decision_leaves_nothing(crash, fault, function):
    server = crash.start()
    _collect_voucher(crash)
    status, submitted = _redeem(crash.base, _present_voucher(crash))
    assert status == 201, submitted
    crash.stop(server)
    with crash.db() as db:
        application_id = db.application_by_reference(submitted["reference"])["id"]
    cookie, csrf = _consultant_session(crash)

    server = crash.start(fault)
    with pytest.raises(ConnectionError):
        _decide(crash, application_id, cookie, csrf)

    exit_status, log = crash.killed(server)
    assert exit_status == -signal.SIGKILL, log
    assert f"fault: killed after {function}\n" in log
    with crash.db() as db:
        application = db.application(application_id)
        decisions = _count(db, "SELECT COUNT(*) AS n FROM decisions")
        made_events = _subjects(db, "decision.made")
    assert application["status"] == "submitted"
    assert application["decision"] is None
    assert decisions == 0
    assert made_events == []
    _assert_trail_intact(crash)

    crash.start()
    status, _ = _decide(crash, application_id, cookie, csrf)
    assert status == 303
    with crash.db() as db:
        application = db.application(application_id)
        made_events = _subjects(db, "decision.made")
    assert application["status"] == "granted"
    assert application["decision"]["amount"] == "264"
    assert made_events == [application_id]
    _assert_trail_intact(crash)
