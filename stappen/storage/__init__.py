"""The storage layer of the wallet API: sessions, single-use values, evidence.

No state lives in process memory, so that any gunicorn worker can serve
any request of a session. Everything is in a database: a SQLite file in the
Flask instance folder by default, or PostgreSQL when
``STAPPEN_DATABASE_URL`` is a ``postgresql://`` URL. Only the times of
status polls, which may be lost, are kept outside it, in a table that the
workers of one host share (see polltimes.py).

In a Flask app::

    store = storage.init_app(app)       # in create_app
    db = storage.request_connection()   # in a view, released at teardown
    moved = db.transition(
        transaction_id, from_states={"created"}, to="request_retrieved", now=now
    )
    if not moved:
        abort(409)

Elsewhere, ``with open_store(url, instance_path).connection() as db: ...``.
Every time passed in or returned is a timezone-aware datetime, stored as
UTC epoch milliseconds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app, g

from stappen.storage.activity import SessionActivity
from stappen.storage.applications import (
    APPLICATION_STATUSES,
    DECISION_OUTCOMES,
    ApplicationPage,
    ApplicationRecords,
    NewApplication,
)
from stappen.storage.backends import Backend, SQLiteBackend, backend_for, redact_url
from stappen.storage.errors import (
    IntegrityError,
    NotFound,
    SessionNotFound,
    StorageConfigError,
    StorageError,
)
from stappen.storage.issuing import IssuerOperations
from stappen.storage.migrations import Migration, apply_pending, log_schema_status
from stappen.storage.polltimes import (
    SINGLE_HOST_STATE_TTL_MS,
    STATE_TTL_MS,
    PollTimes,
)
from stappen.storage.pool import ConnectionPool
from stappen.storage.retention import SessionRetention
from stappen.storage.sessions import END_STATES, LOOKUP_FIELDS

__all__ = [
    "APPLICATION_STATUSES",
    "DECISION_OUTCOMES",
    "ApplicationPage",
    "NewApplication",
    "END_STATES",
    "LOOKUP_FIELDS",
    "IntegrityError",
    "NotFound",
    "PollTimes",
    "SessionNotFound",
    "Store",
    "StoreConnection",
    "StorageConfigError",
    "StorageError",
    "app_store",
    "init_app",
    "open_store",
    "redact_url",
    "request_connection",
    "request_store",
]

log = logging.getLogger(__name__)

EXTENSION_KEY = "stappen.storage"


class StoreConnection(
    SessionActivity, IssuerOperations, SessionRetention, ApplicationRecords
):
    """An open connection with every storage operation; see the modules for each."""


class Store:
    """A database that opens connections on request.

    Only :meth:`acquire` keeps connections open between uses, in a pool that
    opens nothing before the first request, so a Store is safe to create
    before gunicorn forks its workers.
    """

    def __init__(self, backend: Backend, poll_times: PollTimes):
        self.backend = backend
        self.pool = ConnectionPool(backend)
        self.poll_times = poll_times

    def __repr__(self) -> str:
        return f"Store({self.backend!r})"

    def connect(self) -> StoreConnection:
        """Open a connection that the caller must close, unlike :meth:`connection`."""
        return StoreConnection(
            self.backend, self.backend.connect(), poll_times=self.poll_times
        )

    def acquire(self) -> StoreConnection:
        """Take a connection from this process's pool; closing it gives it back.

        SQLite connections are reused, which saves a connect and its
        PRAGMAs per request. PostgreSQL connections close as usual.
        """
        return StoreConnection(
            self.backend,
            self.pool.acquire(),
            self.pool.release,
            poll_times=self.poll_times,
        )

    @contextmanager
    def connection(self) -> Iterator[StoreConnection]:
        """Open a connection for the ``with`` block and close it afterwards."""
        connection = self.connect()
        try:
            yield connection
        finally:
            connection.close()

    def init_schema(self) -> list[Migration]:
        """Apply the pending schema migrations and return them, so none when current."""
        with self.connection() as connection:
            applied = apply_pending(self.backend, connection.raw)
        log.info("Storage schema is ready in %r", self.backend)
        return applied


def open_store(url: str | None, instance_path: Path) -> Store:
    """Open the store that ``url`` names: None or ``sqlite:///FILE`` or ``postgresql://...``.

    Connects to nothing yet. Raises StorageConfigError for any other URL.
    """
    backend = backend_for(url, Path(instance_path))
    path = _poll_times_path(backend, Path(instance_path))
    single_host = isinstance(backend, SQLiteBackend)
    ttl_ms = SINGLE_HOST_STATE_TTL_MS if single_host else STATE_TTL_MS
    return Store(backend, PollTimes(path, state_ttl_ms=ttl_ms))


def _poll_times_path(backend: Backend, instance_path: Path) -> Path:
    """Keep a SQLite database's poll times beside it, others' in the instance folder."""
    database = getattr(backend, "path", None)
    if database is not None:
        return database.with_name(f"{database.name}-polls")
    return instance_path / "wallet-poll-times"


def init_app(app: Flask, store: Store | None = None) -> Store:
    """Give ``app`` a store, from its ``DATABASE_URL`` setting unless one is passed.

    Releases the connection that :func:`request_connection` took when the
    app context ends. Logs the command to run when the database lacks
    migrations, but migrates nothing itself. Also sets up the audit trail,
    whose events live in this store, and its ``flask audit`` commands.
    """
    # Imported here because stappen.audit imports this package.
    from stappen import audit

    if store is None:
        store = open_store(app.config.get("DATABASE_URL"), Path(app.instance_path))
    app.extensions[EXTENSION_KEY] = store
    app.teardown_appcontext(_close_request_connection)
    log.info("The API stores its sessions in %r", store)
    log_schema_status(store.backend)
    audit.init_app(app)
    return store


def request_store() -> Store:
    """Return the current app's store."""
    return app_store(current_app._get_current_object())


def app_store(app: Flask) -> Store:
    """Return ``app``'s store."""
    store = app.extensions.get(EXTENSION_KEY)
    if store is None:
        raise RuntimeError(
            "The app has no store: call stappen.storage.init_app(app) in create_app."
        )
    return store


def request_connection() -> StoreConnection:
    """Return this request's connection, taking it from the pool on first use."""
    if "storage_connection" not in g:
        g.storage_connection = request_store().acquire()
    return g.storage_connection


def _close_request_connection(error: BaseException | None) -> None:
    connection = g.pop("storage_connection", None)
    if connection is not None:
        connection.close()
