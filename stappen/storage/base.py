"""A connection to the store: transactions, queries and times."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from stappen.storage.backends import Backend
from stappen.storage.errors import IntegrityError
from stappen.storage.polltimes import PollTimes

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)


def to_millis(moment: datetime, name: str = "now") -> int:
    """Convert an aware datetime to UTC epoch milliseconds, as the tables store it."""
    if not isinstance(moment, datetime):
        raise TypeError(
            f"{name}={moment!r} is not a datetime: pass a timezone-aware "
            "datetime, such as datetime.now(UTC)."
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{name}={moment!r} has no time zone: pass a timezone-aware "
            "datetime, such as datetime.now(UTC)."
        )
    return (moment - EPOCH) // MILLISECOND


def from_millis(millis: int | None) -> datetime | None:
    """Convert UTC epoch milliseconds from a table back to an aware datetime."""
    return None if millis is None else EPOCH + millis * MILLISECOND


class ConnectionBase:
    """One open database connection, for use by one thread at a time.

    Each public operation runs in its own transaction. Wrap several in
    :meth:`transaction` to make them one: they then commit or roll back
    together.
    """

    def __init__(
        self,
        backend: Backend,
        raw: Any,
        release: Callable[[Any], None] | None = None,
        *,
        poll_times: PollTimes | None = None,
    ):
        self.backend = backend
        self.raw = raw
        self.closed = False
        self.poll_times = poll_times
        """The host's copies of session states, dropped when a state changes."""
        self._release = release
        self._depth = 0
        self._after_commit: list[Callable[[], None]] = []

    def close(self) -> None:
        """Close the raw connection, or hand it back to the pool it came from."""
        if self.closed:
            return
        self.closed = True
        if self._release is None:
            self.raw.close()
        else:
            self._release(self.raw)

    def __enter__(self) -> ConnectionBase:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the operations inside as one write transaction.

        On SQLite this takes the database's write lock at once (BEGIN
        IMMEDIATE), so keep the block short. Nested blocks become savepoints.
        """
        self._depth += 1
        committed = False
        try:
            with self.backend.transaction(self.raw):
                yield
            committed = True
        except self.backend.integrity_errors as error:
            raise IntegrityError(f"The database rejected the write: {error}") from error
        finally:
            self._depth -= 1
            if self._depth == 0:
                callbacks, self._after_commit = self._after_commit, []
                for callback in callbacks if committed else ():
                    callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the outermost open transaction commits.

        Outside a transaction it runs at once; a rollback drops it. A
        savepoint that rolls back inside a transaction that commits keeps
        it, so it must be harmless when the change it follows did not
        happen.
        """
        if self._depth == 0:
            callback()
        else:
            self._after_commit.append(callback)

    def _execute(self, sql: str, params: dict[str, Any] | None = None) -> Any:
        return self.raw.execute(self.backend.sql(sql), params or {})

    def _one(self, sql: str, params: dict[str, Any] | None = None) -> dict | None:
        return self._execute(sql, params).fetchone()

    def _all(self, sql: str, params: dict[str, Any] | None = None) -> list[dict]:
        return self._execute(sql, params).fetchall()
