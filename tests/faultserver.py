"""Serve the API app in a process of its own, which can kill itself mid-write.

tests/test_application_crash.py runs it as::

    python -m tests.faultserver PORT CLOCK_FILE [FAULT]

The settings come from ``STAPPEN_*`` environment variables, as for
``flask --app app run``, and the time from CLOCK_FILE (see
:class:`FileClock`), which the test shares. FAULT names one of
:data:`FAULTS`: the process then sends itself SIGKILL right after that
write, while the write's transaction is still open. The wrappers live here,
outside the production code. They replace the functions in their module or
class, where the app looks them up on each call. The process prints
``serving`` once it accepts connections.
"""

from __future__ import annotations

import functools
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from werkzeug.serving import make_server

from stappen import audit
from stappen.api import create_app
from stappen.storage.applications import ApplicationRecords

READY_LINE = "serving"


class FileClock:
    """A clock whose time is an ISO 8601 text in a file, so processes share it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text(encoding="utf-8"))

    def set(self, moment: datetime) -> None:
        # os.replace swaps the file at once, so a reader never sees half a time.
        draft = self.path.with_name(self.path.name + ".new")
        draft.write_text(moment.isoformat(), encoding="utf-8")
        os.replace(draft, self.path)

    def advance(self, seconds: float) -> None:
        self.set(self() + timedelta(seconds=seconds))

    @property
    def epoch(self) -> int:
        return int(self().timestamp())


def in_transaction(connection) -> bool:
    """Tell whether a store connection has a transaction open."""
    raw = connection.raw
    if isinstance(raw, sqlite3.Connection):
        return raw.in_transaction
    return raw.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS


def kill_after(owner, name: str, connection_of: Callable, when: Callable) -> None:
    """Replace ``owner.name`` with a wrapper that SIGKILLs the process after it.

    The wrapper kills only when ``when(*args)`` is true. It raises instead
    when the call's connection (``connection_of(*args)``) has no open
    transaction, because a kill there would test nothing.
    """
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        result = original(*args, **kwargs)
        if when(*args):
            if not in_transaction(connection_of(*args)):
                raise RuntimeError(f"fault after {name}: no transaction is open")
            print(f"fault: killed after {name}", file=sys.stderr, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    setattr(owner, name, wrapper)


def _after_event(kind: str) -> None:
    kill_after(
        audit,
        "record",
        connection_of=lambda db, *rest: db,
        when=lambda db, event_kind, *rest: event_kind == kind,
    )


def _after_method(name: str) -> None:
    kill_after(
        ApplicationRecords,
        name,
        connection_of=lambda connection, *rest: connection,
        when=lambda *args: True,
    )


FAULTS: dict[str, Callable[[], None]] = {
    "application-insert": lambda: _after_method("create_application"),
    "application-event": lambda: _after_event("application.created"),
    "decision-update": lambda: _after_method("decide_application"),
    "decision-event": lambda: _after_event("decision.made"),
}
"""The points at which the process can kill itself, by name."""


def main(arguments: list[str]) -> None:
    port, clock_file, *fault = arguments
    if fault:
        FAULTS[fault[0]]()
    app = create_app({"STAPPEN_CLOCK": FileClock(Path(clock_file))})
    server = make_server("127.0.0.1", int(port), app, threaded=True)
    print(READY_LINE, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
