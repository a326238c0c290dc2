"""Schema migrations on a SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from flask import Flask

from stappen import apiconfig
from stappen.storage import init_app, migrations, open_store
from stappen.storage.migrations import (
    MigrationError,
    load_migrations,
    schema_status,
)
from tests.processes import run_in_processes

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PROCESSES = 2
RACE_TIMEOUT_SECONDS = 60


def labels(store) -> list[str]:
    return [migration.label for migration in load_migrations(store.backend.name)]


def recorded_versions(store) -> list[int]:
    with store.connection() as db:
        rows = db.raw.execute("SELECT version FROM schema_migrations").fetchall()
    return sorted(row["version"] for row in rows)


def create_pre_migration_database(store) -> None:
    """Create the tables as the code before migrations did, with one session."""
    baseline = load_migrations(store.backend.name)[0]
    with store.connection() as db:
        with store.backend.schema_transaction(db.raw):
            store.backend.execute_script(db.raw, baseline.sql)
        db.create_session(
            {
                "id": "tx-before-migrations",
                "flow": "vil",
                "step": "wallet-delen",
                "purpose": "present",
                "created_at": NOW,
                "expires_at": NOW + timedelta(minutes=10),
            }
        )


@pytest.fixture
def empty_store(database_url, tmp_path):
    return open_store(database_url, tmp_path / "instance")


def test_fresh_database_applies_all(empty_store):
    applied = empty_store.init_schema()

    assert [migration.label for migration in applied] == labels(empty_store)
    assert recorded_versions(empty_store) == list(range(1, len(applied) + 1))


def test_second_run_applies_nothing(empty_store):
    empty_store.init_schema()

    assert empty_store.init_schema() == []


def test_backends_have_same_migrations():
    sqlite = [migration.label for migration in load_migrations("sqlite")]
    postgresql = [migration.label for migration in load_migrations("postgresql")]

    assert sqlite == postgresql
    assert sqlite[0] == "0001_initial"


def test_pre_migration_database_upgraded(empty_store):
    create_pre_migration_database(empty_store)

    applied = empty_store.init_schema()

    assert [migration.label for migration in applied] == labels(empty_store)[1:]
    assert recorded_versions(empty_store) == list(
        range(1, len(labels(empty_store)) + 1)
    )
    with empty_store.connection() as db:
        assert db.get_session("tx-before-migrations")["state"] == "created"


def test_partial_pre_migration_database_rejected(empty_store):
    with empty_store.connection() as db, db.transaction():
        db.raw.execute("CREATE TABLE sessions (id TEXT PRIMARY KEY)")

    with pytest.raises(MigrationError, match=r"lacks counters, evidence, "):
        empty_store.init_schema()


def test_changed_file_rejected(empty_store):
    empty_store.init_schema()
    with empty_store.connection() as db, db.transaction():
        db.raw.execute(
            "UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1"
        )
    path = f"stappen/schema/migrations/{empty_store.backend.name}/0001_initial.sql"

    with pytest.raises(MigrationError) as info:
        empty_store.init_schema()

    assert str(info.value).startswith(f"Migration file {path} changed after it ")
    assert "put the change in a new migration" in str(info.value)


def test_unknown_version_rejected(empty_store):
    empty_store.init_schema()
    with empty_store.connection() as db, db.transaction():
        db.raw.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) "
            "VALUES (9999, 'from_the_future', 'x', 0)"
        )

    with pytest.raises(MigrationError, match=r"has migrations 9999 that this"):
        empty_store.init_schema()


def test_status_before_and_after(empty_store):
    with empty_store.connection() as db:
        before = schema_status(empty_store.backend, db.raw)
    empty_store.init_schema()
    with empty_store.connection() as db:
        after = schema_status(empty_store.backend, db.raw)

    assert [migration.label for migration in before.pending] == labels(empty_store)
    assert before.pre_migrations is False
    assert after.pending == []
    assert after.applied == list(range(1, len(labels(empty_store)) + 1))


def test_failed_migration_rolls_back(empty_store, monkeypatch):
    real = load_migrations(empty_store.backend.name)[0]
    broken = dataclasses.replace(
        real,
        version=2,
        name="broken",
        sql="CREATE TABLE probe (id INTEGER);\nSELECT no_such_function();\n",
    )
    monkeypatch.setattr(migrations, "load_migrations", lambda name: [real, broken])

    with pytest.raises((sqlite3.OperationalError, psycopg.Error), match="no_such_"):
        empty_store.init_schema()

    assert recorded_versions(empty_store) == [1]
    with empty_store.connection() as db:
        assert "probe" not in empty_store.backend.table_names(db.raw)


def migrate_in_process(barrier, url, instance_path):
    store = open_store(url, Path(instance_path))
    barrier.wait(timeout=RACE_TIMEOUT_SECONDS)
    return [migration.label for migration in store.init_schema()]


def test_concurrent_migration_processes(database_url, tmp_path):
    instance = tmp_path / "instance"

    outcomes = run_in_processes(
        migrate_in_process, database_url, str(instance), count=PROCESSES
    )
    store = open_store(database_url, instance)

    assert sorted(label for outcome in outcomes for label in outcome) == labels(store)
    assert recorded_versions(store) == list(range(1, len(labels(store)) + 1))


# The Flask side


def make_app(database_url, tmp_path) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config["DATABASE_URL"] = database_url
    init_app(app)
    app.cli.add_command(apiconfig.init_db_command)
    return app


def test_init_db_prints_applied(database_url, tmp_path):
    app = make_app(database_url, tmp_path)
    runner = app.test_cli_runner()

    first = runner.invoke(args=["init-db"])
    second = runner.invoke(args=["init-db"])
    store = app.extensions["stappen.storage"]

    assert first.exit_code == 0
    assert first.output.splitlines() == [
        *(f"Applied migration {label}" for label in labels(store)),
        f"The database is ready: {store!r}",
    ]
    assert second.output.splitlines() == [
        "No migrations were pending.",
        f"The database is ready: {store!r}",
    ]


def test_init_db_reports_changed_file(database_url, tmp_path):
    app = make_app(database_url, tmp_path)
    store = app.extensions["stappen.storage"]
    store.init_schema()
    with store.connection() as db, db.transaction():
        db.raw.execute("UPDATE schema_migrations SET checksum = 'x' WHERE version = 1")

    result = app.test_cli_runner().invoke(args=["init-db"])

    assert result.exit_code == 1
    assert "Error: Migration file stappen/schema/migrations/" in result.output
    assert "Traceback" not in result.output


def test_start_logs_pending(database_url, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="stappen.storage.migrations")
    store = open_store(database_url, tmp_path / "instance")
    with store.connection() as db, store.backend.schema_transaction(db.raw):
        store.backend.execute_script(db.raw, "CREATE TABLE unrelated (id INTEGER);")

    make_app(database_url, tmp_path)

    assert "was created before schema migrations" in caplog.text
    assert "`flask --app app init-db`" in caplog.text


def test_start_logs_missing_file(tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="stappen.storage.migrations")

    make_app(None, tmp_path)

    assert "stappen.sqlite3 not found; create it with `flask --app app init-db`" in (
        caplog.text
    )
    assert not (tmp_path / "instance" / "stappen.sqlite3").exists()


def test_start_logs_nothing_when_current(database_url, tmp_path, caplog):
    open_store(database_url, tmp_path / "instance").init_schema()
    caplog.set_level(logging.WARNING, logger="stappen.storage.migrations")

    make_app(database_url, tmp_path)

    assert caplog.records == []
