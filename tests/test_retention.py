"""Session retention and the limit on open sessions.

The storage tests and the command run on SQLite and on PostgreSQL (the
``database_url`` fixture in conftest.py); the endpoint tests on SQLite.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from stappen import apiconfig
from stappen.storage import retention
from tests.apiharness import FLOW, PLAIN_STEP, make_api

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RETENTION = timedelta(days=30)
SESSIONS = "/api/v1/wallet-sessions"


def add_session(db, session_id: str, *, created: datetime, lifetime_minutes=10):
    db.create_session(
        {
            "id": session_id,
            "flow": "vil",
            "step": "wallet-delen",
            "purpose": "present",
            "request_id": f"request-{session_id}",
            "created_at": created,
            "expires_at": created + timedelta(minutes=lifetime_minutes),
        }
    )


def end_session(db, session_id: str, at: datetime, state: str = "verified"):
    moved = db.transition(session_id, from_states={"created"}, to=state, now=at)
    assert moved


def add_activity(db, session_id: str, at: datetime) -> None:
    """Give a session an event, evidence and a single-use value."""
    db.add_evidence(session_id, "check", {"passed": True}, at)
    assert db.consume_once(
        "state", f"state-{session_id}", session_id=session_id, now=at
    )


def record_credential(db, session_id: str, at: datetime) -> None:
    db.record_issued(
        session_id,
        credential_id=f"credential-{session_id}",
        vct="urn:stappen:vil:inkomen",
        status_list_id=None,
        status_index=None,
        holder_jwk_thumbprint=None,
        now=at,
    )


def table_count(db, table: str, session_id: str) -> int:
    row = db._one(
        f"SELECT COUNT(*) AS n FROM {table} WHERE session_id = :id", {"id": session_id}
    )
    return row["n"]


# Purging, in storage


def test_purge_removes_old_ended_sessions(db):
    old = NOW - timedelta(days=40)
    for session_id in ("old-1", "old-2", "old-3"):
        add_session(db, session_id, created=old)
        add_activity(db, session_id, old)
        end_session(db, session_id, old + timedelta(minutes=1))

    purged = db.purge_sessions(RETENTION, now=NOW)

    assert purged.removed == 3
    assert purged.kept_with_credentials == 0
    for session_id in ("old-1", "old-2", "old-3"):
        assert db.get_session(session_id) is None
        assert table_count(db, "session_events", session_id) == 0
        assert table_count(db, "evidence", session_id) == 0
        assert table_count(db, "single_use_values", session_id) == 0


def test_purge_keeps_open_and_recent_sessions(db):
    add_session(db, "open", created=NOW - timedelta(minutes=1))
    add_session(db, "recent", created=NOW - timedelta(days=29))
    end_session(db, "recent", NOW - timedelta(days=29), state="failed")
    add_session(db, "old", created=NOW - timedelta(days=31))
    end_session(db, "old", NOW - timedelta(days=31), state="cancelled")

    purged = db.purge_sessions(RETENTION, now=NOW)

    assert purged.removed == 1
    assert db.get_session("open")["state"] == "created"
    assert db.get_session("recent")["state"] == "failed"
    assert db.get_session("old") is None


def test_purge_open_session_with_zero_retention(db):
    add_session(db, "open", created=NOW - timedelta(minutes=1))
    add_session(db, "ended", created=NOW - timedelta(minutes=2))
    end_session(db, "ended", NOW - timedelta(minutes=1))

    purged = db.purge_sessions(timedelta(0), now=NOW)

    assert purged.removed == 1
    assert db.get_session("open") is not None
    assert db.get_session("ended") is None


def test_purge_expired_session_never_moved(db):
    # No request read the session after it expired, so it is still "created".
    add_session(db, "forgotten", created=NOW - timedelta(days=31))

    purged = db.purge_sessions(RETENTION, now=NOW)

    assert purged.removed == 1
    assert db.get_session("forgotten") is None


def test_purge_counts_end_not_start(db):
    # Ended 29 days ago after a long life: not yet past retention.
    created = NOW - timedelta(days=60)
    add_session(db, "long", created=created, lifetime_minutes=60 * 24 * 40)
    end_session(db, "long", NOW - timedelta(days=29))

    assert db.purge_sessions(RETENTION, now=NOW).removed == 0
    assert db.get_session("long") is not None


def test_purge_dry_run_deletes_nothing(db):
    old = NOW - timedelta(days=40)
    add_session(db, "old-1", created=old)
    add_session(db, "old-2", created=old)
    add_activity(db, "old-2", old)
    end_session(db, "old-2", old)
    add_session(db, "open", created=NOW)

    purged = db.purge_sessions(RETENTION, now=NOW, dry_run=True)

    assert purged.removed == 2
    assert db.get_session("old-1") is not None
    assert db.get_session("old-2") is not None
    assert table_count(db, "evidence", "old-2") == 1
    assert table_count(db, "single_use_values", "old-2") == 1


def test_purge_keeps_sessions_with_credentials(db):
    old = NOW - timedelta(days=40)
    add_session(db, "issued", created=old)
    end_session(db, "issued", old, state="issued")
    record_credential(db, "issued", old)
    add_session(db, "plain", created=old)

    purged = db.purge_sessions(RETENTION, now=NOW)

    assert purged.removed == 1
    assert purged.kept_with_credentials == 1
    assert db.get_session("issued") is not None
    assert db.get_session("plain") is None


def test_purge_in_batches(db, monkeypatch):
    monkeypatch.setattr(retention, "PURGE_BATCH_SIZE", 2)
    old = NOW - timedelta(days=40)
    for number in range(5):
        add_session(db, f"old-{number}", created=old)

    assert db.purge_sessions(RETENTION, now=NOW).removed == 5
    assert db.purge_sessions(RETENTION, now=NOW).removed == 0


def test_purge_negative_retention_rejected(db):
    add_session(db, "open", created=NOW)

    with pytest.raises(ValueError, match="is negative"):
        db.purge_sessions(timedelta(days=-1), now=NOW)
    assert db.get_session("open") is not None


# Counting open sessions


def test_open_sessions_count(db):
    add_session(db, "open-1", created=NOW, lifetime_minutes=5)
    add_session(db, "open-2", created=NOW, lifetime_minutes=10)
    add_session(db, "ended", created=NOW)
    end_session(db, "ended", NOW)
    add_session(db, "overdue", created=NOW - timedelta(minutes=20))

    found = db.open_sessions(NOW)

    assert found.count == 2
    assert found.first_expiry == NOW + timedelta(minutes=5)


def test_open_sessions_none(db):
    found = db.open_sessions(NOW)

    assert found.count == 0
    assert found.first_expiry is None


# The purge command


def purge(api, *args):
    runner = api.app.test_cli_runner()
    return runner.invoke(args=["sessions", "purge", *args])


def test_purge_command_removes(tmp_path, database_url):
    api = make_api(tmp_path, database_url)
    with api.db() as db:
        add_session(db, "old", created=api.clock.now - timedelta(days=31))
        add_session(db, "open", created=api.clock.now)

    result = purge(api)

    assert result.exit_code == 0, result.output
    assert result.output == (
        "Removed 1 sessions that ended or expired more than 30 days ago.\n"
    )
    assert api.session("old") is None
    assert api.session("open") is not None


def test_purge_command_dry_run(tmp_path):
    api = make_api(tmp_path)
    with api.db() as db:
        add_session(db, "old", created=api.clock.now - timedelta(days=31))

    result = purge(api, "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.output == (
        "Would remove 1 sessions that ended or expired more than 30 days ago.\n"
    )
    assert api.session("old") is not None


def test_purge_command_older_than(tmp_path):
    api = make_api(tmp_path, SESSION_RETENTION_DAYS=60)
    with api.db() as db:
        add_session(db, "old", created=api.clock.now - timedelta(days=31))

    assert purge(api).output.startswith("Removed 0 sessions")
    result = purge(api, "--older-than", "7")

    assert result.exit_code == 0, result.output
    assert result.output == (
        "Removed 1 sessions that ended or expired more than 7 days ago.\n"
    )


def test_purge_command_reports_kept(tmp_path):
    api = make_api(tmp_path)
    old = api.clock.now - timedelta(days=31)
    with api.db() as db:
        add_session(db, "issued", created=old)
        record_credential(db, "issued", old)

    result = purge(api)

    assert result.output.splitlines() == [
        "Removed 0 sessions that ended or expired more than 30 days ago.",
        "Kept 1 other sessions that ended or expired more than 30 days ago, "
        "because they issued credentials that may still need revoking.",
    ]


def test_purge_command_negative_days(tmp_path):
    api = make_api(tmp_path)

    result = purge(api, "--older-than", "-1")

    assert result.exit_code == 2
    assert "-1 is not in the range x>=0" in result.output


# Settings


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("SESSION_RETENTION_DAYS", -1, "STAPPEN_SESSION_RETENTION_DAYS is -1"),
        ("SESSION_RETENTION_DAYS", "soon", "STAPPEN_SESSION_RETENTION_DAYS is 'soon'"),
        ("MAX_OPEN_SESSIONS", 0, "STAPPEN_MAX_OPEN_SESSIONS is 0"),
        ("MAX_OPEN_SESSIONS", True, "STAPPEN_MAX_OPEN_SESSIONS is True"),
    ],
)
def test_invalid_setting_rejected(tmp_path, setting, value, expected):
    with pytest.raises(apiconfig.ApiConfigError, match=expected):
        make_api(tmp_path, **{setting: value})


def test_settings_from_text(tmp_path):
    api = make_api(tmp_path, SESSION_RETENTION_DAYS="7", MAX_OPEN_SESSIONS="50")

    assert apiconfig.session_retention_days(api.app) == 7
    assert apiconfig.max_open_sessions(api.app) == 50


# The limit on open sessions


def create(api):
    return api.client.post(SESSIONS, json={"flow": FLOW, "step": PLAIN_STEP})


def test_limit_rejects_then_accepts(tmp_path, caplog):
    api = make_api(tmp_path, MAX_OPEN_SESSIONS=2)
    first = create(api).get_json()
    assert create(api).status_code == 201

    with caplog.at_level(logging.WARNING, logger="stappen.sessions"):
        rejected = create(api)

    assert rejected.status_code == 503
    wait = first["expires_at"] - api.clock.epoch
    assert rejected.headers["Retry-After"] == str(wait)
    assert rejected.get_json() == {
        "error": "service_unavailable",
        "message": "2 wallet sessions are open, the maximum; try again later",
    }
    limit_lines = [r for r in caplog.records if "limit is 2" in r.getMessage()]
    assert len(limit_lines) == 1

    cancelled = api.client.delete(f"{SESSIONS}/{first['transaction_id']}")
    assert cancelled.status_code == 200
    assert create(api).status_code == 201


def test_limit_frees_after_expiry(tmp_path):
    api = make_api(tmp_path, MAX_OPEN_SESSIONS=1)
    first = create(api).get_json()
    assert create(api).status_code == 503

    api.clock.advance(first["expires_at"] - api.clock.epoch)

    assert create(api).status_code == 201


def test_limit_rejection_creates_nothing(tmp_path):
    api = make_api(tmp_path, MAX_OPEN_SESSIONS=1)
    create(api)

    for _ in range(3):
        assert create(api).status_code == 503

    with api.db() as db:
        assert db.open_sessions(api.clock.now).count == 1
