"""The audit trail on SQLite and PostgreSQL: appends, tampering and verify.

Each tampering test changes rows with direct SQL, as someone with access
to the database could, and asserts the exact lines of ``audit verify``.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask

from stappen import apiconfig, audit, jose, keys, storage
from stappen.audit.chain import (
    EVENT_COLUMNS,
    GENESIS_HASH,
    AuditDataError,
    event_hash,
)
from stappen.audit.checkpoints import CheckpointPolicy
from tests.processes import run_in_processes

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PROJECT = Path(__file__).resolve().parent.parent
KINDS = (
    "wallet_session.created",
    "presentation.received",
    "check.result",
    "rules.evaluated",
    "voucher.issued",
    "application.created",
)
PROCESSES = 4
EVENTS_PER_PROCESS = 25


class Clock:
    """A clock for STAPPEN_CLOCK that tests move by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def app(database_url, tmp_path) -> Flask:
    """An app with a migrated store and an audit key, on each backend in turn."""
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(
        DATABASE_URL=database_url,
        KEYS_DIR=str(tmp_path / "keys"),
        STAPPEN_CLOCK=Clock(),
    )
    storage.init_app(app).init_schema()
    apiconfig.init_app(app)
    keys.generate_keyset(apiconfig.audit_key_path(app))
    return app


@pytest.fixture
def app_db(app):
    with app.app_context(), storage.request_store().connection() as db:
        yield db


def record_six(app, db) -> None:
    """Record one event of each kind, a second apart; the first gets a checkpoint."""
    with app.app_context():
        for index, kind in enumerate(KINDS):
            app.config["STAPPEN_CLOCK"].now = NOW + timedelta(seconds=index)
            audit.record(
                db, kind, subject="tx-1", actor="wallet", data={"index": index}
            )


def verify_lines(app, *args: str) -> tuple[int, list[str]]:
    result = app.test_cli_runner().invoke(args=["audit", "verify", *args])
    return result.exit_code, result.output.splitlines()


def run_sql(db, sql: str, params: dict | None = None) -> None:
    with db.transaction():
        db.raw.execute(db.backend.sql(sql), params or {})


def event_row(db, seq: int) -> dict:
    return db.raw.execute(
        db.backend.sql("SELECT * FROM audit_events WHERE seq = :seq"), {"seq": seq}
    ).fetchone()


def rehash(row: dict, **changes) -> dict:
    fields = {name: row[name] for name in EVENT_COLUMNS if name != "hash"}
    fields.update(changes)
    return {**fields, "hash": event_hash(**fields)}


def insert_row(db, row: dict) -> None:
    columns = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    run_sql(db, f"INSERT INTO audit_events ({columns}) VALUES ({values})", row)


# Appending


def test_record_links_events(app, app_db):
    record_six(app, app_db)

    events = audit.read_events(app_db)

    assert [event.seq for event in events] == [1, 2, 3, 4, 5, 6]
    assert [event.kind for event in events] == list(KINDS)
    assert events[0].prev_hash == GENESIS_HASH
    for previous, event in zip(events, events[1:], strict=False):
        assert event.prev_hash == previous.hash
    assert all(event.computed_hash() == event.hash for event in events)


def test_hash_input_is_canonical_json(db):
    event = audit.append(
        db,
        "decision.made",
        subject="app-7",
        actor="consultant-3",
        data={"outcome": "toegekend", "bedrag_cent": 12500},
        now=NOW,
    )
    expected_input = (
        '{"actor":"consultant-3","created_at":1772366400000,'
        '"data":"{\\"bedrag_cent\\":12500,\\"outcome\\":\\"toegekend\\"}",'
        '"kind":"decision.made","personal_digest":null,'
        f'"prev_hash":"{GENESIS_HASH}","seq":1,"subject":"app-7"}}'
    )

    assert event.hash == hashlib.sha256(expected_input.encode("utf-8")).hexdigest()


def test_float_data_rejected(db):
    with pytest.raises(AuditDataError, match=r"audit field data\.amount is a float"):
        audit.append(db, "voucher.issued", data={"amount": 12.5}, now=NOW)


def test_time_never_goes_back(db):
    audit.append(db, "check.result", now=NOW)
    second = audit.append(db, "check.result", now=NOW - timedelta(seconds=5))

    assert second.created_at == 1772366400000


def test_record_rolls_back_with_caller(db):
    audit.append(db, "check.result", now=NOW)

    with pytest.raises(RuntimeError, match="the action failed"), db.transaction():
        audit.append(db, "decision.made", now=NOW)
        raise RuntimeError("the action failed")
    third = audit.append(db, "decision.made", now=NOW)

    assert [event.seq for event in audit.read_events(db)] == [1, 2]
    assert third.seq == 2


def test_first_event_signed(app, app_db):
    record_six(app, app_db)

    rows = app_db.raw.execute("SELECT seq, key_id FROM audit_checkpoints").fetchall()

    assert [row["seq"] for row in rows] == [1]
    [key] = audit.audit_keys(app)
    assert rows[0]["key_id"] == jose.key_id(key)


def test_checkpoint_after_n_events(app, app_db):
    app.extensions["stappen.audit"].policy = CheckpointPolicy(
        every_events=2, every_minutes=60
    )
    record_six(app, app_db)

    rows = app_db.raw.execute("SELECT seq FROM audit_checkpoints").fetchall()

    assert [row["seq"] for row in rows] == [1, 3, 5]


# Verify


def test_intact_trail_verifies(app, app_db):
    record_six(app, app_db)

    code, lines = verify_lines(app)

    assert code == 0
    assert lines == ["Audit trail intact: 6 event(s) and 1 checkpoint(s) from seq 1"]


def test_sign_command(app, app_db):
    record_six(app, app_db)
    runner = app.test_cli_runner()
    [key] = audit.audit_keys(app)

    first = runner.invoke(args=["audit", "sign"])
    second = runner.invoke(args=["audit", "sign"])

    assert first.output.splitlines() == [
        f"Signed a checkpoint at seq 6 with key {jose.key_id(key)}"
    ]
    assert second.output.splitlines() == [
        "The newest event is signed already, or there is none."
    ]
    assert verify_lines(app)[1] == [
        "Audit trail intact: 6 event(s) and 2 checkpoint(s) from seq 1"
    ]


def test_edited_field_named(app, app_db):
    record_six(app, app_db)
    run_sql(
        app_db,
        "UPDATE audit_events SET data = :data WHERE seq = 3",
        {"data": '{"index":9}'},
    )

    code, lines = verify_lines(app)

    assert code == 1
    assert lines == ["seq 3 (check.result): changed: its fields do not match its hash"]


def test_edited_and_rehashed_named(app, app_db):
    record_six(app, app_db)
    forged = rehash(event_row(app_db, 3), data='{"index":9}')
    run_sql(
        app_db,
        "UPDATE audit_events SET data = :data, hash = :hash WHERE seq = 3",
        forged,
    )

    code, lines = verify_lines(app)

    assert code == 1
    assert lines == [
        "seq 3 (check.result): changed: its hash was recomputed, so seq 4 no "
        "longer links to it"
    ]


def test_deleted_event_named(app, app_db):
    record_six(app, app_db)
    run_sql(app_db, "DELETE FROM audit_events WHERE seq = 4")

    code, lines = verify_lines(app)

    assert code == 1
    assert lines == ["seq 4: deleted: the events go from seq 3 to seq 5"]


def test_deleted_newest_named(app, app_db):
    record_six(app, app_db)
    run_sql(app_db, "DELETE FROM audit_events WHERE seq >= 5")

    code, lines = verify_lines(app)

    assert code == 1
    assert lines == [
        "seq 5: deleted: the chain head names seq 6 as the newest event",
        "seq 6: deleted: the chain head names seq 6 as the newest event",
    ]


def test_inserted_after_head_named(app, app_db):
    record_six(app, app_db)
    newest = event_row(app_db, 6)
    forged = rehash(
        newest, seq=7, kind="decision.made", data="{}", prev_hash=newest["hash"]
    )
    insert_row(app_db, forged)

    code, lines = verify_lines(app)

    assert code == 1
    assert lines == [
        "seq 7 (decision.made): inserted: after seq 6, the newest event the "
        "chain head names"
    ]


def test_inserted_in_middle_named(app, app_db):
    record_six(app, app_db)
    run_sql(app_db, "UPDATE audit_events SET seq = seq + 100 WHERE seq >= 4")
    run_sql(app_db, "UPDATE audit_events SET seq = seq - 99 WHERE seq >= 100")
    run_sql(app_db, "UPDATE audit_head SET seq = 7 WHERE id = 1")
    forged = rehash(
        event_row(app_db, 3),
        seq=4,
        kind="decision.made",
        data="{}",
        prev_hash=event_row(app_db, 3)["hash"],
    )
    insert_row(app_db, forged)

    code, lines = verify_lines(app)

    assert code == 1
    assert lines == [
        "seq 4 (decision.made): inserted: another event links to the same "
        "predecessor, and no event links to this one",
        "seq 5 (rules.evaluated): reordered: its hash seals it as seq 4",
        "seq 6 (voucher.issued): reordered: its hash seals it as seq 5",
        "seq 7 (application.created): reordered: its hash seals it as seq 6",
    ]


def test_swapped_events_named(app, app_db):
    record_six(app, app_db)
    run_sql(app_db, "UPDATE audit_events SET seq = 100 WHERE seq = 3")
    run_sql(app_db, "UPDATE audit_events SET seq = 3 WHERE seq = 4")
    run_sql(app_db, "UPDATE audit_events SET seq = 4 WHERE seq = 100")

    code, lines = verify_lines(app)

    assert code == 1
    assert lines == [
        "seq 3 (rules.evaluated): reordered: its hash seals it as seq 4",
        "seq 4 (check.result): reordered: its hash seals it as seq 3",
    ]


def test_swapped_times_named(app, app_db):
    record_six(app, app_db)
    third, fourth = event_row(app_db, 3), event_row(app_db, 4)
    for row, other in ((third, fourth), (fourth, third)):
        run_sql(
            app_db,
            "UPDATE audit_events SET created_at = :created_at WHERE seq = :seq",
            {"created_at": other["created_at"], "seq": row["seq"]},
        )

    code, lines = verify_lines(app)

    assert code == 1
    assert lines == [
        "seq 3 (check.result): changed: its fields do not match its hash",
        "seq 4 (rules.evaluated): changed: its fields do not match its hash",
    ]


def test_rewritten_chain_caught_by_checkpoint(app, app_db):
    record_six(app, app_db)
    prev_hash = GENESIS_HASH
    for seq in range(1, 7):
        row = rehash(event_row(app_db, seq), prev_hash=prev_hash)
        if seq == 2:
            row = rehash(row, data='{"index":99}')
        run_sql(
            app_db,
            "UPDATE audit_events SET data = :data, prev_hash = :prev_hash, "
            "hash = :hash WHERE seq = :seq",
            row,
        )
        prev_hash = row["hash"]
    run_sql(app_db, "UPDATE audit_head SET hash = :hash", {"hash": prev_hash})
    app.test_cli_runner().invoke(args=["audit", "sign"])
    run_sql(
        app_db, "UPDATE audit_events SET hash = :hash WHERE seq = 1", {"hash": "0" * 64}
    )

    code, lines = verify_lines(app)

    assert code == 1
    assert lines == [
        "seq 1 (wallet_session.created): changed: its fields do not match its hash",
        "checkpoint at seq 1: seq 1 (wallet_session.created) no longer has the "
        "signed hash",
    ]


def test_checkpoint_columns_edited(app, app_db):
    record_six(app, app_db)
    run_sql(app_db, "UPDATE audit_checkpoints SET hash = 'f00d' WHERE seq = 1")

    code, lines = verify_lines(app)

    assert code == 1
    assert lines == [
        "checkpoint at seq 1: changed: its columns differ from what it signs"
    ]


def test_checkpoint_foreign_signature(app, app_db):
    record_six(app, app_db)
    [stranger] = keys.generate_keyset(app.instance_path + "/stranger.json")
    claims = {"seq": 1, "hash": event_row(app_db, 1)["hash"], "created_at": 0}
    token = jose.sign(claims, stranger, typ="stappen-audit-checkpoint")
    run_sql(app_db, "UPDATE audit_checkpoints SET signature = :token", {"token": token})

    code, lines = verify_lines(app)

    assert code == 1
    assert len(lines) == 1
    assert lines[0].startswith("checkpoint at seq 1: signature is invalid: ")


def test_verify_from_skips_earlier(app, app_db):
    record_six(app, app_db)
    run_sql(app_db, "DELETE FROM audit_events WHERE seq = 2")

    code, lines = verify_lines(app, "--from", "4")

    assert code == 0
    assert lines == ["Audit trail intact: 3 event(s) and 0 checkpoint(s) from seq 4"]


def test_verify_without_key(app, app_db):
    record_six(app, app_db)
    apiconfig.audit_key_path(app).unlink()

    code, lines = verify_lines(app)

    assert code == 1
    assert lines[0].startswith("Error: audit key file ")
    assert lines[0].endswith("create it with `flask --app app keys generate`")


# Personal data


def test_erasure_keeps_chain(app, app_db):
    with app.app_context():
        event = audit.record(
            app_db,
            "application.created",
            subject="app-1",
            personal={"naam": "J. de Vries", "bsn": "999990019"},
        )
        audit.record(app_db, "consultant.viewed", subject="app-1", actor="c-1")
    personal = audit.read_personal(app_db, event.seq)
    app.config["STAPPEN_CLOCK"].now = NOW + timedelta(days=31)
    runner = app.test_cli_runner()

    erased = runner.invoke(args=["audit", "erase-personal", "--days", "30"])
    code, lines = verify_lines(app)

    assert personal == {"naam": "J. de Vries", "bsn": "999990019"}
    assert erased.output == "Erased the personal data of 1 events older than 30 days\n"
    assert audit.read_personal(app_db, event.seq) is None
    assert code == 0
    assert lines == [
        "1 events have their personal data erased by retention: seq 1",
        "Audit trail intact: 2 event(s) and 1 checkpoint(s) from seq 1",
    ]


def test_erasure_keeps_recent(app, app_db):
    app.config["AUDIT_PERSONAL_DATA_DAYS"] = "30"
    with app.app_context():
        event = audit.record(app_db, "application.created", personal={"naam": "X"})
    app.config["STAPPEN_CLOCK"].now = NOW + timedelta(days=29)

    result = app.test_cli_runner().invoke(args=["audit", "erase-personal"])

    assert result.output == "Erased the personal data of 0 events older than 30 days\n"
    assert audit.read_personal(app_db, event.seq) == {"naam": "X"}


def test_erasure_needs_setting(app):
    result = app.test_cli_runner().invoke(args=["audit", "erase-personal"])

    assert result.exit_code == 2
    assert "STAPPEN_AUDIT_PERSONAL_DATA_DAYS is None; set it" in result.output


def test_edited_personal_data_named(app, app_db):
    with app.app_context():
        audit.record(app_db, "application.created", personal={"naam": "J. de Vries"})
    run_sql(app_db, 'UPDATE audit_personal SET data = \'{"naam":"Iemand"}\'')

    code, lines = verify_lines(app)

    assert code == 1
    assert lines == [
        "seq 1 (application.created): personal data changed: it does not match "
        "the digest in the event"
    ]


def test_personal_data_not_in_event(app, app_db):
    with app.app_context():
        event = audit.record(app_db, "application.created", personal={"bsn": "1"})

    assert "bsn" not in event.data
    assert event.personal_digest is not None


# Concurrency and crashes


def append_in_process(barrier, url, instance_path) -> list[int]:
    store = storage.open_store(url, Path(instance_path))
    seqs = []
    with store.connection() as db:
        barrier.wait(timeout=60)
        for index in range(EVENTS_PER_PROCESS):
            event = audit.append(db, "check.result", data={"index": index})
            seqs.append(event.seq)
    return seqs


def test_concurrent_appends_one_chain(app, app_db, database_url, tmp_path):
    outcomes = run_in_processes(
        append_in_process, database_url, app.instance_path, count=PROCESSES
    )
    total = PROCESSES * EVENTS_PER_PROCESS

    assert sorted(seq for outcome in outcomes for seq in outcome) == list(
        range(1, total + 1)
    )
    assert verify_lines(app)[1] == [
        f"Audit trail intact: {total} event(s) and 0 checkpoint(s) from seq 1"
    ]


KILLED_WRITER = """
import sys, time
from pathlib import Path
from stappen import audit, storage

store = storage.open_store(sys.argv[1], Path(sys.argv[2]))
with store.connection() as db, db.transaction():
    db.create_session({
        "id": "tx-killed", "flow": "vil", "step": "s", "purpose": "present",
        "created_at": audit.chain.datetime.now(audit.chain.UTC),
        "expires_at": audit.chain.datetime.now(audit.chain.UTC),
    })
    audit.append(db, "application.created", subject="tx-killed")
    print("appended", flush=True)
    time.sleep(120)
"""


def test_killed_writer_leaves_chain(app, app_db, database_url):
    record_six(app, app_db)
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, database_url, app.instance_path],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline() == "appended\n"
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
        writer.stdout.close()

    with app.app_context():
        after = audit.record(app_db, "decision.made")

    assert app_db.get_session("tx-killed") is None
    assert after.seq == 7
    assert verify_lines(app)[1] == [
        "Audit trail intact: 7 event(s) and 1 checkpoint(s) from seq 1"
    ]


def test_generate_keys_writes_audit_key(app):
    apiconfig.audit_key_path(app).unlink()
    app.config["PUBLIC_URL"] = "https://api.proef.example"

    written = apiconfig.generate_keys(app)

    assert apiconfig.audit_key_path(app) in written
    assert len(audit.audit_keys(app)) == 1
