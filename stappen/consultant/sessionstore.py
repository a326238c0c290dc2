"""Consultant login sessions and login attempts in the store.

A session is found by the SHA-256 of its cookie value, so the table never
contains a usable token. Login attempts are rows per client address that
the rate limit counts and that are deleted once they leave its window.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from datetime import datetime, timedelta

from stappen.storage.base import ConnectionBase, from_millis, to_millis

TOKEN_BYTES = 32


@dataclasses.dataclass(frozen=True)
class ConsultantSession:
    """A row of ``consultant_sessions``."""

    token_hash: str
    account_id: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime

    def ended_at(self, now: datetime, idle_timeout: timedelta) -> bool:
        """Return whether the session passed its absolute or its idle timeout."""
        return now >= self.expires_at or now >= self.last_seen_at + idle_timeout


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_session(
    db: ConnectionBase, account_id: str, *, now: datetime, lifetime: timedelta
) -> tuple[str, ConsultantSession]:
    """Store a new session and return its cookie token and its row."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session = ConsultantSession(
        token_hash=token_hash(token),
        account_id=account_id,
        csrf_token=secrets.token_urlsafe(TOKEN_BYTES),
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
    )
    with db.transaction():
        db._execute(
            "INSERT INTO consultant_sessions (token_hash, account_id, csrf_token, "
            "created_at, last_seen_at, expires_at) VALUES (:token_hash, "
            ":account_id, :csrf_token, :created_at, :last_seen_at, :expires_at)",
            {
                "token_hash": session.token_hash,
                "account_id": account_id,
                "csrf_token": session.csrf_token,
                "created_at": to_millis(now),
                "last_seen_at": to_millis(now),
                "expires_at": to_millis(session.expires_at),
            },
        )
    return token, session


def find_session(db: ConnectionBase, token: str) -> ConsultantSession | None:
    row = db._execute(
        "SELECT * FROM consultant_sessions WHERE token_hash = :token_hash",
        {"token_hash": token_hash(token)},
    ).fetchone()
    if row is None:
        return None
    return ConsultantSession(
        token_hash=row["token_hash"],
        account_id=row["account_id"],
        csrf_token=row["csrf_token"],
        created_at=from_millis(row["created_at"]),
        last_seen_at=from_millis(row["last_seen_at"]),
        expires_at=from_millis(row["expires_at"]),
    )


def touch_session(db: ConnectionBase, session_hash: str, now: datetime) -> None:
    """Set the session's last request time, which restarts its idle timeout."""
    with db.transaction():
        db._execute(
            "UPDATE consultant_sessions SET last_seen_at = :now "
            "WHERE token_hash = :token_hash",
            {"token_hash": session_hash, "now": to_millis(now)},
        )


def delete_session(db: ConnectionBase, session_hash: str) -> None:
    with db.transaction():
        db._execute(
            "DELETE FROM consultant_sessions WHERE token_hash = :token_hash",
            {"token_hash": session_hash},
        )


def delete_account_sessions(db: ConnectionBase, account_id: str) -> int:
    """End every session of an account and return how many there were."""
    with db.transaction():
        return db._execute(
            "DELETE FROM consultant_sessions WHERE account_id = :account_id",
            {"account_id": account_id},
        ).rowcount


def delete_ended_sessions(
    db: ConnectionBase, now: datetime, idle_timeout: timedelta
) -> int:
    """Delete the sessions past either timeout and return how many."""
    with db.transaction():
        return db._execute(
            "DELETE FROM consultant_sessions "
            "WHERE expires_at <= :now OR last_seen_at <= :idle_since",
            {"now": to_millis(now), "idle_since": to_millis(now - idle_timeout)},
        ).rowcount


def take_attempt(
    db: ConnectionBase,
    client_address: str,
    *,
    now: datetime,
    window: timedelta,
    limit: int,
) -> datetime | None:
    """Record a login attempt, or return when the next is allowed if over ``limit``.

    Returns None when the address made fewer than ``limit`` attempts in the
    ``window`` before ``now``, after recording this one. A rejected attempt
    is not recorded, so it does not extend the wait. Attempts that left the
    window are deleted, for every address, in the same transaction.
    """
    since = to_millis(now - window)
    # NOTE: On PostgreSQL, concurrent attempts from one address can each
    # read the count before the others insert, so the limit may be passed
    # by up to the number of concurrent requests. SQLite's write lock
    # serializes them.
    with db.transaction():
        db._execute(
            "DELETE FROM consultant_login_attempts WHERE attempted_at <= :since",
            {"since": since},
        )
        rows = db._all(
            "SELECT attempted_at FROM consultant_login_attempts "
            "WHERE client_address = :client ORDER BY attempted_at DESC "
            "LIMIT :limit",
            {"client": client_address, "limit": limit},
        )
        if len(rows) >= limit:
            return from_millis(rows[-1]["attempted_at"]) + window
        db._execute(
            "INSERT INTO consultant_login_attempts (client_address, attempted_at) "
            "VALUES (:client, :now)",
            {"client": client_address, "now": to_millis(now)},
        )
    return None
