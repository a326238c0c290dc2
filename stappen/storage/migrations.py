"""Schema migrations: numbered SQL files that upgrade a database in place.

Each backend has its own folder, ``stappen/schema/migrations/<backend>/``,
of files named ``NNNN_name.sql``. Both folders hold the same numbers and
names. The table ``schema_migrations`` records the version, name, SHA-256
checksum and time of every applied file. Each pending file runs in its own
transaction together with its row in that table, so a killed process
leaves either the whole migration or none of it.

A migration runs under the backend's schema lock: SQLite's write lock
(BEGIN IMMEDIATE) or a PostgreSQL advisory transaction lock. A second
process that migrates at the same time waits, then finds the file recorded
and skips it.

A database from before migrations existed has the tables of 0001 but no
``schema_migrations``. It is recorded as being at version 1 without
running 0001 again, so its rows stay as they are.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from stappen.storage.backends import Backend, SQLiteBackend
from stappen.storage.base import to_millis
from stappen.storage.errors import StorageError

log = logging.getLogger(__name__)

MIGRATE_COMMAND = "flask --app app init-db"
FILE_PATTERN = re.compile(r"(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql")
BASELINE_VERSION = 1
CREATE_TABLE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)", re.IGNORECASE)

CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at BIGINT NOT NULL
);
"""


class MigrationError(StorageError):
    """A migration file or the recorded migrations of a database are inconsistent."""


@dataclasses.dataclass(frozen=True)
class Migration:
    """One migration file of one backend."""

    backend: str
    version: int
    name: str
    sql: str
    checksum: str
    """SHA-256 in hex of the file's text with CRLF line ends read as LF."""

    @property
    def label(self) -> str:
        """The file name without ``.sql``, such as ``0002_audit``."""
        return f"{self.version:04d}_{self.name}"

    @property
    def path(self) -> str:
        return f"stappen/schema/migrations/{self.backend}/{self.label}.sql"


@dataclasses.dataclass(frozen=True)
class SchemaStatus:
    """The applied, pending and unknown migrations of one database."""

    applied: list[int]
    pending: list[Migration]
    unknown: list[int]
    """Applied versions that this code has no file for: a newer release ran."""
    pre_migrations: bool
    """The database has tables but no ``schema_migrations`` yet."""


def load_migrations(backend_name: str) -> list[Migration]:
    """Read the migration files of a backend, in version order.

    Raises MigrationError for a misnamed file or a gap in the numbers.
    """
    folder = resources.files("stappen").joinpath("schema", "migrations", backend_name)
    migrations = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = FILE_PATTERN.fullmatch(entry.name)
        if match is None:
            raise MigrationError(
                f"migration file {backend_name}/{entry.name} is misnamed: name "
                "it NNNN_lowercase_words.sql, such as 0003_add_index.sql"
            )
        text = entry.read_text(encoding="utf-8").replace("\r\n", "\n")
        migrations.append(
            Migration(
                backend=backend_name,
                version=int(match["version"]),
                name=match["name"],
                sql=text,
                checksum=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            )
        )

    migrations.sort(key=lambda migration: migration.version)
    _check_numbering(backend_name, migrations)
    return migrations


def _check_numbering(backend_name: str, migrations: list[Migration]) -> None:
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"migration {backend_name}/{migration.label}.sql should be number "
                f"{expected:04d}: number the files 0001, 0002, ... without gaps "
                "or repeats"
            )


def apply_pending(backend: Backend, raw: Any) -> list[Migration]:
    """Apply the migrations that the database lacks and return them.

    Raises MigrationError when an applied file has changed since, or when
    the database is at a version this code does not know.
    """
    migrations = load_migrations(backend.name)
    with backend.schema_transaction(raw):
        _prepare(backend, raw, migrations)

    applied = []
    for migration in migrations:
        with backend.schema_transaction(raw):
            recorded = _recorded(backend, raw)
            _check_recorded(backend, migrations, recorded)
            if migration.version in recorded:
                continue
            backend.execute_script(raw, migration.sql)
            _record(backend, raw, migration)
        log.info("Applied migration %s to %r", migration.label, backend)
        applied.append(migration)
    return applied


def schema_status(backend: Backend, raw: Any) -> SchemaStatus:
    """Compare the database with the migration files, without changing it."""
    migrations = load_migrations(backend.name)
    tables = backend.table_names(raw)
    if "schema_migrations" not in tables:
        return SchemaStatus([], migrations, [], pre_migrations=bool(tables))

    recorded = _recorded(backend, raw)
    known = {migration.version for migration in migrations}
    return SchemaStatus(
        applied=sorted(recorded),
        pending=[m for m in migrations if m.version not in recorded],
        unknown=sorted(set(recorded) - known),
        pre_migrations=False,
    )


def log_schema_status(backend: Backend) -> None:
    """Log at start whether the database needs ``flask init-db``.

    Migrates nothing, because every worker process runs this. A SQLite
    file that does not exist yet is not created.
    """
    if isinstance(backend, SQLiteBackend) and not backend.path.exists():
        log.warning(
            "Database file %s not found; create it with `%s`",
            backend.path,
            MIGRATE_COMMAND,
        )
        return

    try:
        raw = backend.connect()
        try:
            status = schema_status(backend, raw)
        finally:
            raw.close()
    except StorageError as error:
        log.error("Could not read the schema version of %r: %s", backend, error)
        return

    _log_status(backend, status)


def _log_status(backend: Backend, status: SchemaStatus) -> None:
    if status.unknown:
        log.error(
            "Database %r has migrations %s that this version of Stappen does "
            "not know; run the newer release that applied them",
            backend,
            ", ".join(f"{version:04d}" for version in status.unknown),
        )
    elif status.pre_migrations:
        log.warning(
            "Database %r was created before schema migrations; record and "
            "upgrade it with `%s`",
            backend,
            MIGRATE_COMMAND,
        )
    elif status.pending:
        log.warning(
            "Database %r lacks migrations %s; apply them with `%s`",
            backend,
            ", ".join(migration.label for migration in status.pending),
            MIGRATE_COMMAND,
        )


def _prepare(backend: Backend, raw: Any, migrations: list[Migration]) -> None:
    """Create ``schema_migrations``, and record 0001 for a pre-migration database."""
    tables = backend.table_names(raw)
    if "schema_migrations" in tables:
        return

    backend.execute_script(raw, CREATE_MIGRATIONS_TABLE)
    if not tables:
        return

    baseline = migrations[BASELINE_VERSION - 1]
    missing = sorted(set(CREATE_TABLE.findall(baseline.sql)) - tables)
    if missing:
        raise MigrationError(
            f"Database {backend!r} has tables from before migrations but lacks "
            f"{', '.join(missing)} of {baseline.label}, so it cannot be upgraded "
            "in place: restore a complete copy or start with an empty database"
        )
    _record(backend, raw, baseline)
    log.info(
        "Recorded database %r, created before migrations, as %s",
        backend,
        baseline.label,
    )


def _recorded(backend: Backend, raw: Any) -> dict[int, dict]:
    rows = raw.execute("SELECT version, name, checksum FROM schema_migrations")
    return {row["version"]: row for row in rows}


def _check_recorded(
    backend: Backend, migrations: list[Migration], recorded: dict[int, dict]
) -> None:
    files = {migration.version: migration for migration in migrations}
    unknown = sorted(set(recorded) - set(files))
    if unknown:
        raise MigrationError(
            f"Database {backend!r} has migrations "
            f"{', '.join(f'{version:04d}' for version in unknown)} that this "
            "version of Stappen does not know: run the newer release that "
            "applied them"
        )

    for version, row in sorted(recorded.items()):
        migration = files[version]
        if row["checksum"] != migration.checksum:
            raise MigrationError(
                f"Migration file {migration.path} changed after it was applied to "
                f"{backend!r}: restore the file as it was, and put the change "
                f"in a new migration {len(migrations) + 1:04d}_name.sql"
            )


def _record(backend: Backend, raw: Any, migration: Migration) -> None:
    raw.execute(
        backend.sql(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
            "VALUES (:version, :name, :checksum, :applied_at)"
        ),
        {
            "version": migration.version,
            "name": migration.name,
            "checksum": migration.checksum,
            "applied_at": to_millis(datetime.now(UTC)),
        },
    )
