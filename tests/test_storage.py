"""The storage layer, on a SQLite file and on a real PostgreSQL server.

Every test that takes ``db`` or ``store`` runs once per backend (see the
``database_url`` fixture in conftest.py).
"""

from __future__ import annotations

import multiprocessing
import queue
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask

from stappen.storage import (
    IntegrityError,
    NotFound,
    SessionNotFound,
    StorageConfigError,
    StorageError,
    init_app,
    open_store,
    redact_url,
    request_connection,
)
from stappen.storage.base import to_millis

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SESSION_ID = "tx-5f2c9a7e1b"
THREADS = 8
PROCESSES = 2
RACE_TIMEOUT_SECONDS = 60


def make_session(**overrides) -> dict:
    session = {
        "id": SESSION_ID,
        "flow": "vil",
        "step": "wallet-delen",
        "purpose": "present",
        "nonce": "nonce-1",
        "state_param": "state-1",
        "request_id": "request-1",
        "created_at": NOW,
        "expires_at": NOW + timedelta(minutes=10),
        "data": {"dcql_query": {"credentials": [{"id": "pid"}]}},
    }
    session.update(overrides)
    return session


def later(**delta) -> datetime:
    return NOW + timedelta(**delta)


# Sessions


def test_session_round_trip(db):
    db.create_session(make_session())

    session = db.get_session(SESSION_ID)

    assert session["flow"] == "vil"
    assert session["step"] == "wallet-delen"
    assert session["purpose"] == "present"
    assert session["state"] == "created"
    assert session["nonce"] == "nonce-1"
    assert session["state_param"] == "state-1"
    assert session["request_id"] == "request-1"
    assert session["created_at"] == NOW
    assert session["updated_at"] == NOW
    assert session["expires_at"] == later(minutes=10)
    assert session["data"] == {"dcql_query": {"credentials": [{"id": "pid"}]}}
    assert session["result"] is None


def test_session_times_keep_milliseconds(db):
    created = NOW + timedelta(microseconds=123_456)
    db.create_session(make_session(created_at=created))

    session = db.get_session(SESSION_ID)

    assert session["created_at"] == NOW + timedelta(milliseconds=123)
    assert session["created_at"].tzinfo is UTC


def test_session_times_in_other_zone(db):
    central_european = timezone(timedelta(hours=1))
    db.create_session(
        make_session(created_at=datetime(2026, 3, 1, 13, 0, tzinfo=central_european))
    )

    assert db.get_session(SESSION_ID)["created_at"] == NOW


def test_get_session_missing(db):
    assert db.get_session("tx-unknown") is None


def test_get_session_by_lookup_fields(db):
    db.create_session(make_session(pre_authorized_code="code-1"))

    assert db.get_session_by("request_id", "request-1")["id"] == SESSION_ID
    assert db.get_session_by("state_param", "state-1")["id"] == SESSION_ID
    assert db.get_session_by("pre_authorized_code", "code-1")["id"] == SESSION_ID
    assert db.get_session_by("request_id", "request-2") is None


def test_get_session_by_other_field(db):
    with pytest.raises(ValueError, match="Cannot look sessions up by 'nonce': use"):
        db.get_session_by("nonce", "nonce-1")


def test_create_session_duplicate_id(db):
    db.create_session(make_session())

    with pytest.raises(IntegrityError, match="rejected the write"):
        db.create_session(make_session(request_id="request-2", state_param="s-2"))


def test_create_session_duplicate_request_id(db):
    db.create_session(make_session())

    with pytest.raises(IntegrityError, match="rejected the write"):
        db.create_session(make_session(id="tx-other", state_param="s-2"))


def test_create_session_missing_field(db):
    session = make_session()
    del session["expires_at"]

    with pytest.raises(ValueError, match="is missing expires_at: add them"):
        db.create_session(session)


def test_create_session_unknown_field(db):
    with pytest.raises(ValueError, match="unknown fields colour: use only"):
        db.create_session(make_session(colour="blue"))


def test_create_session_in_end_state(db):
    with pytest.raises(ValueError, match="cannot start in the end state 'verified'"):
        db.create_session(make_session(state="verified"))


def test_create_session_invalid_purpose(db):
    with pytest.raises(ValueError, match="purpose 'sign' is invalid"):
        db.create_session(make_session(purpose="sign"))


def test_create_session_naive_time(db):
    with pytest.raises(ValueError, match=r"created_at=datetime.* has no time zone"):
        db.create_session(make_session(created_at=datetime(2026, 3, 1, 12, 0)))


def test_create_session_records_event(db):
    db.create_session(make_session())

    [event] = db.events_for(SESSION_ID)

    assert event["kind"] == "created"
    assert event["to_state"] == "created"
    assert event["created_at"] == NOW


# Transitions


def test_transition_sets_state_and_fields(db):
    db.create_session(make_session())

    changed = db.transition(
        SESSION_ID,
        from_states={"created"},
        to="verified",
        now=later(seconds=5),
        step="klaar",
        expires_at=later(minutes=20),
        result={"claims": {"given_name": "Jan"}},
    )
    session = db.get_session(SESSION_ID)

    assert changed is True
    assert session["state"] == "verified"
    assert session["step"] == "klaar"
    assert session["expires_at"] == later(minutes=20)
    assert session["result"] == {"claims": {"given_name": "Jan"}}
    assert session["updated_at"] == later(seconds=5)


def test_transition_records_event(db):
    db.create_session(make_session())

    db.transition(
        SESSION_ID,
        from_states={"created"},
        to="request_retrieved",
        now=later(seconds=1),
        detail={"by": "wallet"},
    )
    event = db.events_for(SESSION_ID)[-1]

    assert event["kind"] == "transition"
    assert event["from_state"] == "created"
    assert event["to_state"] == "request_retrieved"
    assert event["detail"] == {"by": "wallet"}
    assert event["created_at"] == later(seconds=1)


def test_transition_from_wrong_state(db):
    db.create_session(make_session())

    changed = db.transition(
        SESSION_ID, from_states={"request_retrieved"}, to="verified", now=NOW
    )

    assert changed is False
    assert db.get_session(SESSION_ID)["state"] == "created"
    assert len(db.events_for(SESSION_ID)) == 1


def test_end_state_never_changes(db):
    db.create_session(make_session())
    db.transition(SESSION_ID, from_states={"created"}, to="verified", now=NOW)

    again = db.transition(
        SESSION_ID, from_states={"created", "request_retrieved"}, to="failed", now=NOW
    )
    expired = db.expire_sessions(later(hours=1))

    assert again is False
    assert expired == 0
    assert db.get_session(SESSION_ID)["state"] == "verified"
    with pytest.raises(ValueError, match="Cannot leave the end states verified"):
        db.transition(SESSION_ID, from_states={"verified"}, to="failed", now=NOW)


def test_transition_after_expiry(db):
    db.create_session(make_session())

    changed = db.transition(
        SESSION_ID, from_states={"created"}, to="verified", now=later(minutes=10)
    )
    session = db.get_session(SESSION_ID)

    assert changed is False
    assert session["state"] == "expired"
    assert db.events_for(SESSION_ID)[-1]["to_state"] == "expired"


def test_transition_unknown_field(db):
    db.create_session(make_session())

    with pytest.raises(ValueError, match=r"cannot set flow: it sets only"):
        db.transition(SESSION_ID, from_states={"created"}, to="x", now=NOW, flow="f")


def test_transition_from_states_string(db):
    with pytest.raises(
        TypeError, match=r"is a string: pass a set, such as \{'created'\}"
    ):
        db.transition(SESSION_ID, from_states="created", to="x", now=NOW)


def test_transition_missing_session(db):
    with pytest.raises(SessionNotFound, match=r"Session 'tx-unk\.\.\.' not found"):
        db.transition("tx-unknown", from_states={"created"}, to="x", now=NOW)


def test_transaction_rolls_back_together(db):
    db.create_session(make_session())

    with pytest.raises(RuntimeError, match="verification crashed"), db.transaction():
        db.transition(SESSION_ID, from_states={"created"}, to="verified", now=NOW)
        db.add_evidence(SESSION_ID, "presentation", b"vp-token", NOW)
        raise RuntimeError("verification crashed")

    assert db.get_session(SESSION_ID)["state"] == "created"
    assert db.evidence_for(SESSION_ID) == []


def test_nested_transaction_rolls_back_alone(db):
    db.create_session(make_session())

    with db.transaction():
        db.add_evidence(SESSION_ID, "kept", b"1", NOW)
        with pytest.raises(IntegrityError):
            db.create_session(make_session(id="tx-other"))
        db.add_evidence(SESSION_ID, "also kept", b"2", NOW)

    kinds = [item["kind"] for item in db.evidence_for(SESSION_ID)]
    assert kinds == ["kept", "also kept"]
    assert db.get_session("tx-other") is None


# Single-use values


def test_consume_once_first_use(db):
    db.create_session(make_session())

    assert db.consume_once("nonce", "nonce-1", session_id=SESSION_ID, now=NOW) is True


def test_consume_once_replay(db):
    db.create_session(make_session())
    db.consume_once("nonce", "nonce-1", session_id=SESSION_ID, now=NOW)

    replay = db.consume_once(
        "nonce", "nonce-1", session_id=SESSION_ID, now=later(seconds=1)
    )
    event = db.events_for(SESSION_ID)[-1]

    assert replay is False
    assert event["kind"] == "replay"
    assert event["detail"] == {"kind": "nonce"}
    assert event["created_at"] == later(seconds=1)


def test_consume_once_kinds_apart(db):
    db.create_session(make_session())
    db.consume_once("nonce", "value-1", session_id=SESSION_ID, now=NOW)

    assert db.consume_once("state", "value-1", session_id=SESSION_ID, now=NOW) is True


def test_consume_once_stores_no_value(db):
    db.create_session(make_session())
    db.consume_once(
        "pre-authorized_code", "secret-code", session_id=SESSION_ID, now=NOW
    )

    [row] = db._all("SELECT * FROM single_use_values")

    assert "secret-code" not in str(row)


def test_consume_once_without_session(db):
    first = db.consume_once("c_nonce", "c-nonce-1", session_id=None, now=NOW)
    replay = db.consume_once("c_nonce", "c-nonce-1", session_id=None, now=NOW)

    assert first is True
    assert replay is False


def test_consume_once_empty_value(db):
    db.create_session(make_session())

    with pytest.raises(ValueError, match="single-use 'nonce' value is empty"):
        db.consume_once("nonce", "", session_id=SESSION_ID, now=NOW)


def test_consume_once_missing_session(db):
    with pytest.raises(SessionNotFound, match="not found"):
        db.consume_once("nonce", "nonce-1", session_id="tx-unknown", now=NOW)


# Races: every racer opens its own connection, as a gunicorn worker would.


def race_operation(db, operation: str):
    if operation == "transition":
        return db.transition(
            SESSION_ID, from_states={"created"}, to="verified", now=NOW
        )
    if operation == "consume_once":
        return db.consume_once("nonce", "nonce-1", session_id=SESSION_ID, now=NOW)
    if operation == "allocate":
        return [db.allocate_status_index("list-1") for _ in range(5)]
    raise AssertionError(f"unknown race operation {operation!r}")


def race_in_threads(store, operation: str) -> list:
    barrier = threading.Barrier(THREADS)
    results = []
    errors = []

    def racer():
        try:
            with store.connection() as db:
                barrier.wait(timeout=RACE_TIMEOUT_SECONDS)
                results.append(race_operation(db, operation))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=racer) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RACE_TIMEOUT_SECONDS)

    assert errors == []
    return results


def race_in_process(url, instance_path, operation, barrier, results):
    store = open_store(url, Path(instance_path))
    with store.connection() as db:
        barrier.wait(timeout=RACE_TIMEOUT_SECONDS)
        results.put(race_operation(db, operation))


def race_in_processes(database_url, tmp_path, operation: str) -> list:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    args = (database_url, str(tmp_path / "instance"), operation, barrier, results)
    processes = [
        context.Process(target=race_in_process, args=args) for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()

    try:
        outcomes = [results.get(timeout=RACE_TIMEOUT_SECONDS) for _ in processes]
    except queue.Empty:
        outcomes = []
    for process in processes:
        process.join(RACE_TIMEOUT_SECONDS)

    assert [process.exitcode for process in processes] == [0] * PROCESSES
    return outcomes


def test_transition_race_threads(store, db):
    db.create_session(make_session())

    results = race_in_threads(store, "transition")

    assert sorted(results) == [False] * (THREADS - 1) + [True]
    assert db.get_session(SESSION_ID)["state"] == "verified"
    assert len(db.events_for(SESSION_ID)) == 2


def test_consume_once_race_threads(store, db):
    db.create_session(make_session())

    results = race_in_threads(store, "consume_once")
    replays = [
        event for event in db.events_for(SESSION_ID) if event["kind"] == "replay"
    ]

    assert sorted(results) == [False] * (THREADS - 1) + [True]
    assert len(replays) == THREADS - 1


def test_transition_race_processes(store, db, database_url, tmp_path):
    db.create_session(make_session())

    results = race_in_processes(database_url, tmp_path, "transition")

    assert sorted(results) == [False] * (PROCESSES - 1) + [True]
    assert len(db.events_for(SESSION_ID)) == 2


def test_consume_once_race_processes(store, db, database_url, tmp_path):
    db.create_session(make_session())

    results = race_in_processes(database_url, tmp_path, "consume_once")

    assert sorted(results) == [False] * (PROCESSES - 1) + [True]


def test_status_index_race_threads(store, db):
    results = race_in_threads(store, "allocate")
    indexes = [index for batch in results for index in batch]

    assert sorted(indexes) == list(range(THREADS * 5))
    assert db.status_values("list-1") == {index: 0 for index in range(THREADS * 5)}


def test_status_index_race_processes(store, db, database_url, tmp_path):
    results = race_in_processes(database_url, tmp_path, "allocate")
    indexes = [index for batch in results for index in batch]

    assert sorted(indexes) == list(range(PROCESSES * 5))


# States and results


def test_session_state_reads_state_and_expiry(db):
    db.create_session(make_session())
    db.transition(SESSION_ID, from_states={"created"}, to="request_retrieved", now=NOW)

    assert db.session_state(SESSION_ID) == {
        "id": SESSION_ID,
        "state": "request_retrieved",
        "expires_at": later(minutes=10),
    }


def test_session_state_missing_session(db):
    with pytest.raises(SessionNotFound, match="not found"):
        db.session_state("tx-unknown")


def test_take_result_once(db):
    db.create_session(make_session())
    before = db.take_result(SESSION_ID, now=NOW)
    db.transition(
        SESSION_ID, from_states={"created"}, to="verified", now=NOW, result={"ok": 1}
    )

    first = db.take_result(SESSION_ID, now=later(seconds=2))
    second = db.take_result(SESSION_ID, now=later(seconds=3))
    session = db.get_session(SESSION_ID)

    assert before is None
    assert first == {"ok": 1}
    assert second is None
    assert session["result"] is None
    assert session["result_taken_at"] == later(seconds=2)
    assert db.events_for(SESSION_ID)[-1]["kind"] == "result_taken"


# Expiry


def test_expire_sessions(db):
    db.create_session(make_session(id="tx-due", expires_at=later(minutes=1)))
    db.create_session(make_session(id="tx-open", request_id="r-2", state_param="s-2"))
    db.create_session(
        make_session(
            id="tx-done",
            request_id="r-3",
            state_param="s-3",
            expires_at=later(minutes=1),
        )
    )
    db.transition("tx-done", from_states={"created"}, to="verified", now=NOW)

    expired = db.expire_sessions(later(minutes=5))
    again = db.expire_sessions(later(minutes=6))

    assert expired == 1
    assert again == 0
    assert db.get_session("tx-due")["state"] == "expired"
    assert db.get_session("tx-open")["state"] == "created"
    assert db.get_session("tx-done")["state"] == "verified"
    assert db.events_for("tx-due")[-1]["from_state"] == "created"
    assert db.events_for("tx-due")[-1]["detail"] == {"reason": "expired"}


# Evidence


def test_evidence_round_trip(db):
    db.create_session(make_session())

    db.add_evidence(SESSION_ID, "request", {"aud": "x", "nonce": "n"}, NOW)
    db.add_evidence(SESSION_ID, "presentation", b"\x00eyJ\xff", later(seconds=1))
    evidence = db.evidence_for(SESSION_ID)

    assert [item["kind"] for item in evidence] == ["request", "presentation"]
    assert evidence[0]["data"] == {"aud": "x", "nonce": "n"}
    assert evidence[1]["data"] == b"\x00eyJ\xff"
    assert evidence[1]["created_at"] == later(seconds=1)


def test_evidence_rejects_other_types(db):
    db.create_session(make_session())

    with pytest.raises(TypeError, match="Evidence 'checks' is a list: pass a dict"):
        db.add_evidence(SESSION_ID, "checks", ["ok"], NOW)


def test_evidence_missing_session(db):
    with pytest.raises(SessionNotFound, match="not found"):
        db.add_evidence("tx-unknown", "request", {}, NOW)


# Status lists and issued credentials


def test_status_values_round_trip(db):
    first = db.allocate_status_index("list-1")
    second = db.allocate_status_index("list-1")
    other = db.allocate_status_index("list-2")
    db.set_status("list-1", second, 1)

    assert (first, second, other) == (0, 1, 0)
    assert db.status_values("list-1") == {0: 0, 1: 1}
    assert db.status_values("list-2") == {0: 0}
    assert db.status_values("list-3") == {}


def test_set_status_unallocated(db):
    with pytest.raises(NotFound, match="'list-1' has no allocated index 7"):
        db.set_status("list-1", 7, 1)


def test_set_status_out_of_range(db):
    db.allocate_status_index("list-1")

    with pytest.raises(ValueError, match="Status value 256 is out of range"):
        db.set_status("list-1", 0, 256)


def test_record_issued_round_trip(db):
    db.create_session(make_session(purpose="issue"))
    index = db.allocate_status_index("list-1")

    db.record_issued(
        SESSION_ID,
        credential_id="cred-1",
        vct="urn:stappen:vil",
        status_list_id="list-1",
        status_index=index,
        holder_jwk_thumbprint="thumb",
        now=NOW,
    )
    [issued] = db.issued_credentials(SESSION_ID)

    assert issued["credential_id"] == "cred-1"
    assert issued["vct"] == "urn:stappen:vil"
    assert issued["status_list_id"] == "list-1"
    assert issued["status_index"] == index
    assert issued["holder_jwk_thumbprint"] == "thumb"
    assert issued["issued_at"] == NOW
    assert db.get_issued("cred-1") == issued


def test_record_issued_unallocated_index(db):
    db.create_session(make_session(purpose="issue"))

    with pytest.raises(IntegrityError, match="rejected the write"):
        db.record_issued(
            SESSION_ID,
            credential_id="cred-1",
            vct="urn:stappen:vil",
            status_list_id="list-1",
            status_index=3,
            holder_jwk_thumbprint=None,
            now=NOW,
        )


def test_count_attempt(db):
    counts = [db.count_attempt(SESSION_ID, "tx_code") for _ in range(3)]

    assert counts == [1, 2, 3]
    assert db.count_attempt("tx-other", "tx_code") == 1


# Opening the store


def test_init_schema_idempotent(store, db):
    db.create_session(make_session())

    store.init_schema()

    assert db.get_session(SESSION_ID)["state"] == "created"


def test_init_schema_race_threads(database_url, tmp_path):
    store = open_store(database_url, tmp_path / "instance")
    barrier = threading.Barrier(THREADS)
    errors = []

    def racer():
        try:
            barrier.wait(timeout=RACE_TIMEOUT_SECONDS)
            store.init_schema()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=racer) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(RACE_TIMEOUT_SECONDS)

    assert errors == []


def test_default_url_is_instance_file(tmp_path):
    store = open_store(None, tmp_path / "instance")
    store.init_schema()

    assert (tmp_path / "instance" / "stappen.sqlite3").is_file()


def test_relative_sqlite_url_in_instance(tmp_path):
    store = open_store("sqlite:///data/s.db", tmp_path / "instance")
    store.init_schema()

    assert (tmp_path / "instance" / "data" / "s.db").is_file()


def test_sqlite_settings(tmp_path):
    store = open_store(None, tmp_path)

    with store.connection() as db:
        journal_mode = db.raw.execute("PRAGMA journal_mode").fetchone()
        foreign_keys = db.raw.execute("PRAGMA foreign_keys").fetchone()

    assert journal_mode == {"journal_mode": "wal"}
    assert foreign_keys == {"foreign_keys": 1}


def test_unknown_scheme_error(tmp_path):
    expected = (
        r"Database URL 'mysql://app:\*\*\*@db\.example/stappen' has the unsupported "
        r"scheme 'mysql': use postgresql://USER@HOST/DBNAME, sqlite:///FILE"
    )

    with pytest.raises(StorageConfigError, match=expected):
        open_store("mysql://app:secret@db.example/stappen", tmp_path)


def test_postgres_unreachable_error(tmp_path):
    url = f"postgresql://app:secret@/stappen?host={tmp_path / 'no-server'}"
    store = open_store(url, tmp_path)

    with pytest.raises(StorageError, match=r"Could not connect to PostgreSQL") as info:
        store.connect()

    assert "app:***@" in str(info.value)
    assert "secret" not in str(info.value)


def test_redact_url_passwords():
    in_query = "postgresql:///stappen?host=/run/postgresql&password=secret"
    in_user = "postgresql://app:s3cr:et@db.example:5433/stappen"
    no_password = "postgresql://app@db.example/stappen"

    assert (
        redact_url(in_query)
        == "postgresql:///stappen?host=/run/postgresql&password=***"
    )
    assert redact_url(in_user) == "postgresql://app:***@db.example:5433/stappen"
    assert redact_url(no_password) == no_password


def test_memory_sqlite_rejected(tmp_path):
    with pytest.raises(StorageConfigError, match="names no file"):
        open_store("sqlite:///:memory:", tmp_path)


def test_connection_closes(store):
    with store.connection() as db:
        pass

    assert db.closed is True


def test_request_connection_per_request(database_url, tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config["DATABASE_URL"] = database_url
    init_app(app).init_schema()

    with app.app_context():
        first = request_connection()
        second = request_connection()
        first.create_session(make_session())

    with app.app_context():
        third = request_connection()
        session = third.get_session(SESSION_ID)

    assert first is second
    assert first.closed is True
    assert third is not first
    assert session["state"] == "created"


def test_request_connection_without_init(tmp_path):
    app = Flask(__name__, instance_path=str(tmp_path))

    with app.app_context(), pytest.raises(RuntimeError, match="call .*init_app"):
        request_connection()


def test_sqlite_busy_waits(tmp_path):
    store = open_store(None, tmp_path)
    store.init_schema()

    with store.connection() as holder, store.connection() as waiter:
        holder.raw.execute("BEGIN IMMEDIATE")
        waiter.raw.execute("PRAGMA busy_timeout = 50")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            waiter.create_session(make_session())
        holder.raw.execute("ROLLBACK")
        waiter.create_session(make_session())

        assert waiter.get_session(SESSION_ID)["state"] == "created"


# The host's copies of session states


def _copied_state(store, session_id: str, at: datetime):
    """Poll the session in the store's table and return the state it copied."""
    return store.poll_times.record(session_id, to_millis(at), 1).state


def _copy_state(store, session_id: str, state: str, at: datetime) -> None:
    poll = store.poll_times.record(session_id, to_millis(at), 1)
    store.poll_times.remember_state(
        session_id, poll.version, state, to_millis(later(minutes=10)), to_millis(at)
    )


def test_create_session_copies_first_state(store, db):
    db.create_session(make_session())

    assert _copied_state(store, SESSION_ID, later(seconds=1)) == "created"


def test_transition_drops_copied_state(store, db):
    db.create_session(make_session())
    _copy_state(store, SESSION_ID, "created", NOW)

    db.transition(SESSION_ID, from_states={"created"}, to="request_retrieved", now=NOW)

    assert _copied_state(store, SESSION_ID, later(seconds=1)) is None


def test_copied_state_dropped_after_commit(store, db):
    db.create_session(make_session())
    _copy_state(store, SESSION_ID, "created", NOW)

    with db.transaction():
        db.transition(
            SESSION_ID, from_states={"created"}, to="request_retrieved", now=NOW
        )
        kept = _copied_state(store, SESSION_ID, later(seconds=1))

    assert kept == "created"
    assert _copied_state(store, SESSION_ID, later(seconds=2)) is None


def test_rolled_back_transition_keeps_copied_state(store, db):
    db.create_session(make_session())
    _copy_state(store, SESSION_ID, "created", NOW)

    with pytest.raises(RuntimeError, match="abandon"), db.transaction():
        db.transition(
            SESSION_ID, from_states={"created"}, to="request_retrieved", now=NOW
        )
        raise RuntimeError("abandon the change")

    assert _copied_state(store, SESSION_ID, later(seconds=1)) == "created"
    assert db.session_state(SESSION_ID)["state"] == "created"
