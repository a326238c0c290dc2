"""The two database backends: SQLite by default, PostgreSQL when a URL names it.

A backend opens raw DB-API connections and hides the differences in SQL
that the storage layer needs: placeholders, row locks, JSON columns,
transactions and the running of migration scripts.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from stappen.storage.errors import StorageConfigError, StorageError

log = logging.getLogger(__name__)

DEFAULT_SQLITE_FILE = "stappen.sqlite3"
"""The SQLite file in the Flask instance folder when no URL is set."""

SQLITE_BUSY_TIMEOUT_SECONDS = 10.0
"""How long a SQLite write waits for another writer's lock before it fails."""

WAL_RETRY_SECONDS = 0.01
"""Pause between attempts to switch a new SQLite file to WAL mode."""

SCHEMA_LOCK_ID = 0x53544150
"""PostgreSQL advisory lock id that serializes concurrent schema set-ups."""

SQLITE_URL_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")


def backend_for(url: str | None, instance_path: Path) -> Backend:
    """Choose the backend for a database URL, SQLite when it is ``None``.

    ``sqlite:///name.db`` is a file relative to the instance folder,
    ``sqlite:////abs/name.db`` an absolute path.
    """
    if not url:
        return SQLiteBackend(instance_path / DEFAULT_SQLITE_FILE)

    scheme = url.partition(":")[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        return SQLiteBackend(_sqlite_path(url, instance_path))
    if scheme in POSTGRES_SCHEMES:
        return PostgresBackend(url)

    raise StorageConfigError(
        f"Database URL {redact_url(url)!r} has the unsupported scheme "
        f"{scheme!r}: use postgresql://USER@HOST/DBNAME, sqlite:///FILE, or "
        "leave STAPPEN_DATABASE_URL unset for SQLite in the instance folder."
    )


def _sqlite_path(url: str, instance_path: Path) -> Path:
    if not url.startswith(SQLITE_URL_PREFIX):
        raise StorageConfigError(
            f"SQLite URL {url!r} is invalid: write sqlite:///FILE for a file in "
            "the instance folder or sqlite:////ABSOLUTE/PATH."
        )

    name = url[len(SQLITE_URL_PREFIX) :]
    if name in ("", ":memory:"):
        raise StorageConfigError(
            f"SQLite URL {url!r} names no file: each connection would get its "
            "own empty in-memory database. Name a file, such as sqlite:///stappen.db."
        )
    return instance_path / name


def redact_url(url: str) -> str:
    """Return ``url`` with its password replaced by ``***``, for messages.

    Covers both places where a libpq URL can carry a password:
    ``user:password@`` and a ``password=`` query parameter.
    """
    url = re.sub(r"^(\w+://[^:/@?]*):[^@/?]*@", r"\1:***@", url)
    return re.sub(r"([?&]password=)[^&]*", r"\1***", url)


def _dict_row(cursor: sqlite3.Cursor, row: tuple) -> dict[str, Any]:
    return {
        column[0]: value for column, value in zip(cursor.description, row, strict=True)
    }


class Backend:
    """The differences between SQLite and PostgreSQL that the store relies on."""

    name: str
    lock_clause: str
    """Appended to a SELECT whose rows the transaction must lock."""
    integrity_errors: tuple[type[Exception], ...]
    """The driver's exceptions for a violated constraint."""

    def connect(self) -> Any:
        raise NotImplementedError

    def transaction(self, raw: Any) -> Any:
        raise NotImplementedError

    def is_reusable(self, raw: Any) -> bool:
        """Tell whether a finished request's connection may serve the next one."""
        return False

    def schema_transaction(self, raw: Any) -> Any:
        """Run a transaction under a lock that other schema changes wait for."""
        raise NotImplementedError

    def execute_script(self, raw: Any, script: str) -> None:
        """Run the statements of an SQL script inside the open transaction."""
        raise NotImplementedError

    def table_names(self, raw: Any) -> set[str]:
        raise NotImplementedError

    def sql(self, text: str) -> str:
        """Translate ``:name`` placeholders into the driver's style."""
        return text

    def dump_json(self, value: Any) -> Any:
        raise NotImplementedError

    def load_json(self, raw: Any) -> Any:
        raise NotImplementedError


class SQLiteBackend(Backend):
    """A SQLite file in WAL mode, each connection used by one thread at a time."""

    name = "sqlite"
    lock_clause = ""  # BEGIN IMMEDIATE already takes the one write lock.
    integrity_errors = (sqlite3.IntegrityError,)

    def __init__(self, path: Path):
        self.path = path

    def __repr__(self) -> str:
        return f"SQLiteBackend({str(self.path)!r})"

    def connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None leaves transactions to transaction() below, so
        # that a write starts with BEGIN IMMEDIATE. A read transaction that
        # later writes fails with SQLITE_BUSY, without waiting, when another
        # connection wrote in between. check_same_thread=False lets a
        # ConnectionPool hand the connection to another thread, one at a time.
        raw = sqlite3.connect(
            self.path,
            timeout=SQLITE_BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
        )
        raw.row_factory = _dict_row
        raw.execute("PRAGMA foreign_keys = ON")
        _enable_wal(raw)
        # FULL makes every commit wait until the write-ahead log is on disk,
        # so that a finished request's writes survive a power failure.
        raw.execute("PRAGMA synchronous = FULL")
        return raw

    @contextmanager
    def transaction(self, raw: sqlite3.Connection) -> Iterator[None]:
        """Run a write transaction, or a savepoint inside an open one."""
        nested = raw.in_transaction
        raw.execute("SAVEPOINT nested" if nested else "BEGIN IMMEDIATE")
        try:
            yield
            raw.execute("RELEASE nested" if nested else "COMMIT")
        except BaseException:
            # SQLite ends the transaction by itself after some errors (a full
            # disk, for one), and a second ROLLBACK would hide the first error.
            if raw.in_transaction:
                raw.execute("ROLLBACK TO nested" if nested else "ROLLBACK")
            if nested and raw.in_transaction:
                raw.execute("RELEASE nested")
            raise

    def is_reusable(self, raw: sqlite3.Connection) -> bool:
        # A connection left inside a transaction would hold its locks and
        # snapshot into the next request.
        return not raw.in_transaction

    def schema_transaction(self, raw: sqlite3.Connection) -> Any:
        # BEGIN IMMEDIATE takes the database's one write lock.
        return self.transaction(raw)

    def execute_script(self, raw: sqlite3.Connection, script: str) -> None:
        # executescript() would commit the open transaction first, so the
        # statements run one by one instead.
        for statement in _sqlite_statements(script):
            raw.execute(statement)

    def table_names(self, raw: sqlite3.Connection) -> set[str]:
        rows = raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row["name"] for row in rows}

    def dump_json(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def load_json(self, raw: str | None) -> Any:
        return None if raw is None else json.loads(raw)


class PostgresBackend(Backend):
    """A PostgreSQL database reached with psycopg, one connection per request."""

    name = "postgresql"
    lock_clause = " FOR UPDATE"
    integrity_errors = (psycopg.IntegrityError,)

    def __init__(self, url: str):
        self.url = url

    def __repr__(self) -> str:
        return f"PostgresBackend({redact_url(self.url)!r})"

    def connect(self) -> psycopg.Connection:
        try:
            return psycopg.connect(self.url, autocommit=True, row_factory=dict_row)
        except psycopg.OperationalError as error:
            raise StorageError(
                f"Could not connect to PostgreSQL at {redact_url(self.url)!r}. "
                "Check STAPPEN_DATABASE_URL and that the server runs. "
                f"psycopg reported: {error}"
            ) from error

    def is_reusable(self, raw: psycopg.Connection) -> bool:
        # NOTE: PostgreSQL connections are not reused, so each request still
        # pays for a connect. A kept connection could be closed by the server
        # while idle, and the next request would then fail.
        return False

    def transaction(self, raw: psycopg.Connection) -> Any:
        # psycopg starts a transaction, or a savepoint inside an open one.
        return raw.transaction()

    @contextmanager
    def schema_transaction(self, raw: psycopg.Connection) -> Iterator[None]:
        with raw.transaction():
            raw.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))
            yield

    def execute_script(self, raw: psycopg.Connection, script: str) -> None:
        # Without parameters psycopg sends the script as one simple query,
        # which may contain several statements.
        raw.execute(script)

    def table_names(self, raw: psycopg.Connection) -> set[str]:
        rows = raw.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        )
        return {row["tablename"] for row in rows}

    def sql(self, text: str) -> str:
        return _pyformat(text)

    def dump_json(self, value: Any) -> Jsonb | None:
        return None if value is None else Jsonb(value)

    def load_json(self, raw: Any) -> Any:
        return raw  # psycopg already decodes jsonb columns.


def _enable_wal(raw: sqlite3.Connection) -> None:
    """Switch a SQLite file to WAL mode, retrying while another connection does.

    Two connections that switch a new file at once deadlock, and SQLite
    then fails one at once with SQLITE_BUSY instead of waiting.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    while True:
        try:
            raw.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorname != "SQLITE_BUSY" or time.monotonic() > deadline:
                raise
        time.sleep(WAL_RETRY_SECONDS)


def _sqlite_statements(script: str) -> Iterator[str]:
    """Split a script into complete statements, as the sqlite3 shell does."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            yield statement
            statement = ""
    if statement.strip() and not _only_comments(statement):
        raise StorageError(
            f"SQL script ends in an incomplete statement: {statement.strip()[:80]!r}; "
            "end it with a semicolon"
        )


def _only_comments(text: str) -> bool:
    lines = (line.strip() for line in text.splitlines())
    return all(not line or line.startswith("--") for line in lines)


@functools.lru_cache(maxsize=256)
def _pyformat(text: str) -> str:
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", text)
