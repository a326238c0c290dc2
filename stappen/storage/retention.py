"""How many sessions the database keeps: purging old ones, counting open ones."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

from stappen.storage.base import ConnectionBase, from_millis, to_millis
from stappen.storage.sessions import END_STATES_SQL

log = logging.getLogger(__name__)

PURGE_BATCH_SIZE = 500
"""Sessions deleted per transaction, so that a large purge never holds
SQLite's write lock for long while the API serves requests."""

_PAST_RETENTION = (
    f"(expires_at < :cutoff OR (state IN ({END_STATES_SQL}) AND updated_at < :cutoff))"
)
"""Sessions that expired before the cutoff, or ended before it.

A session's ``updated_at`` is the time of its last state change, so for a
session in an end state it is when the session ended.
"""

_HAS_CREDENTIALS = (
    "EXISTS (SELECT 1 FROM issued_credentials "
    "WHERE issued_credentials.session_id = sessions.id)"
)


@dataclasses.dataclass(frozen=True)
class PurgeCount:
    """The outcome of a purge."""

    removed: int
    """Sessions deleted, or that a dry run would delete."""
    kept_with_credentials: int
    """Sessions past retention that issued credentials, which stay."""


@dataclasses.dataclass(frozen=True)
class OpenSessions:
    """The sessions that have neither ended nor expired."""

    count: int
    first_expiry: datetime | None
    """When the first of them expires, or None when there are none."""


class SessionRetention(ConnectionBase):
    """Operations that bound how many sessions the database contains."""

    def purge_sessions(
        self, older_than: timedelta, *, now: datetime, dry_run: bool = False
    ) -> PurgeCount:
        """Delete sessions that ended or expired more than ``older_than`` ago.

        Their events, evidence and single-use values go with them, because
        those tables cascade on delete. A session that has not ended and
        has not expired is never deleted. Sessions that issued credentials
        stay, because ``issued_credentials`` refers to them so that the
        credentials can still be revoked. ``dry_run`` counts and deletes
        nothing.
        """
        if older_than < timedelta(0):
            raise ValueError(
                f"older_than={older_than!r} is negative: pass a retention of "
                "zero or more, or the purge could delete open sessions."
            )
        params = {"cutoff": to_millis(now - older_than)}
        kept_count = self._count(f"{_PAST_RETENTION} AND {_HAS_CREDENTIALS}", params)

        if dry_run:
            condition = f"{_PAST_RETENTION} AND NOT {_HAS_CREDENTIALS}"
            return PurgeCount(self._count(condition, params), kept_count)

        removed = self._delete_in_batches(params, now)
        if removed:
            cutoff = now - older_than
            log.info(
                "Purged %d sessions that ended or expired before %s", removed, cutoff
            )
        return PurgeCount(removed, kept_count)

    def open_sessions(self, now: datetime) -> OpenSessions:
        """Count the sessions that have not ended and have not expired at ``now``.

        One query on the ``sessions_expiry (expires_at, state)`` index. A
        session past ``expires_at`` counts as expired even before a read
        moves it to the "expired" state.
        """
        row = self._one(
            "SELECT COUNT(*) AS open_count, MIN(expires_at) AS first_expiry "
            "FROM sessions "
            f"WHERE expires_at > :now AND state NOT IN ({END_STATES_SQL})",
            {"now": to_millis(now)},
        )
        return OpenSessions(row["open_count"], from_millis(row["first_expiry"]))

    def _count(self, condition: str, params: dict) -> int:
        row = self._one(
            f"SELECT COUNT(*) AS matching FROM sessions WHERE {condition}", params
        )
        return row["matching"]

    def _delete_in_batches(self, params: dict, now: datetime) -> int:
        removed = 0
        while True:
            with self.transaction():
                deleted = self._execute(
                    "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions "
                    f"WHERE {_PAST_RETENTION} AND NOT {_HAS_CREDENTIALS} "
                    "LIMIT :batch)",
                    {**params, "batch": PURGE_BATCH_SIZE},
                ).rowcount
                if deleted:
                    self._audit_purge(deleted, params["cutoff"], now)
            removed += deleted
            if deleted < PURGE_BATCH_SIZE:
                return removed

    def _audit_purge(self, count: int, cutoff_ms: int, now: datetime) -> None:
        """Record one batch of deleted sessions, in the batch's transaction."""
        # Imported here because stappen.audit imports this package.
        from stappen import audit

        audit.record(
            self,
            "sessions.purged",
            actor="system",
            data={"count": count, "cutoff": cutoff_ms},
            now=now,
        )
