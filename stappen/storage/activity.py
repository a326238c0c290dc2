"""Activity within a session: single-use values, states, results and evidence."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from stappen.storage.base import from_millis, to_millis
from stappen.storage.errors import session_label
from stappen.storage.sessions import SessionOperations, _not_found

log = logging.getLogger(__name__)


class SessionActivity(SessionOperations):
    """Operations for the wallet's and the citizen's page's requests in a session."""

    def consume_once(
        self, kind: str, value: str, *, session_id: str | None, now: datetime
    ) -> bool:
        """Use a single-use value (nonce, state, code) of ``kind``.

        Returns True for the first use and False for every later one, also
        when callers race. A replay is recorded as an event of
        ``session_id``. Pass ``session_id=None`` for a value that belongs to
        no session yet, such as a c_nonce from the nonce endpoint: its
        replays are only logged. Only the SHA-256 of the value is stored.
        """
        if not value:
            raise ValueError(f"The single-use {kind!r} value is empty: pass the value.")
        now_ms = to_millis(now)
        params = {
            "kind": kind,
            "hash": hashlib.sha256(value.encode()).hexdigest(),
            "session_id": session_id,
            "now": now_ms,
        }

        with self.transaction():
            if session_id is not None:
                self._require_session(session_id)
            inserted = self._one(
                "INSERT INTO single_use_values (kind, value_hash, session_id, used_at) "
                "VALUES (:kind, :hash, :session_id, :now) "
                "ON CONFLICT (kind, value_hash) DO NOTHING RETURNING kind",
                params,
            )
            if inserted is None and session_id is not None:
                self._add_event(session_id, now_ms, "replay", detail={"kind": kind})

        if inserted is None:
            owner = "no session" if session_id is None else session_label(session_id)
            log.warning("Rejected a replayed %s for %s", kind, owner)
        return inserted is not None

    def session_state(self, session_id: str) -> dict[str, Any]:
        """Return the session's ``id``, ``state`` and ``expires_at``, for a poll.

        Reads only those columns, since polls are the most frequent
        request. Raises SessionNotFound for an unknown id.
        """
        row = self._one(
            "SELECT state, expires_at FROM sessions WHERE id = :id", {"id": session_id}
        )
        if row is None:
            raise _not_found(session_id)
        return {
            "id": session_id,
            "state": row["state"],
            "expires_at": from_millis(row["expires_at"]),
        }

    def take_result(self, session_id: str, *, now: datetime) -> Any:
        """Return the session's result once, then erase it.

        Returns None when there is no result yet or it was taken before.
        The session keeps ``result_taken_at``, and an event records the
        take, so the verified claims stay in the database only until the
        citizen's page has them.
        """
        now_ms = to_millis(now)

        with self.transaction():
            current = self._lock_session(session_id)
            if current["result"] is None or current["result_taken_at"] is not None:
                return None
            self._execute(
                "UPDATE sessions SET result = NULL, result_taken_at = :now "
                "WHERE id = :id",
                {"now": now_ms, "id": session_id},
            )
            self._add_event(session_id, now_ms, "result_taken")
        return self.backend.load_json(current["result"])

    def add_evidence(
        self, session_id: str, kind: str, data: dict[str, Any] | bytes, now: datetime
    ) -> int:
        """Store a piece of evidence, a JSON object or raw bytes, and return its id."""
        if isinstance(data, bytes | bytearray | memoryview):
            json_data, bytes_data = None, bytes(data)
        elif isinstance(data, dict):
            json_data, bytes_data = self.backend.dump_json(data), None
        else:
            raise TypeError(
                f"Evidence {kind!r} is a {type(data).__name__}: pass a dict or bytes."
            )
        params = {
            "session_id": session_id,
            "now": to_millis(now),
            "kind": kind,
            "json_data": json_data,
            "bytes_data": bytes_data,
        }

        with self.transaction():
            self._require_session(session_id)
            row = self._one(
                "INSERT INTO evidence "
                "(session_id, created_at, kind, json_data, bytes_data) "
                "VALUES (:session_id, :now, :kind, :json_data, :bytes_data) "
                "RETURNING id",
                params,
            )
        return row["id"]

    def evidence_for(self, session_id: str) -> list[dict[str, Any]]:
        """Return a session's evidence, oldest first: id, kind, created_at and data."""
        rows = self._all(
            "SELECT id, kind, created_at, json_data, bytes_data FROM evidence "
            "WHERE session_id = :id ORDER BY id",
            {"id": session_id},
        )
        return [self._decode_evidence(row) for row in rows]

    def _decode_evidence(self, row: dict[str, Any]) -> dict[str, Any]:
        json_data = row.pop("json_data")
        bytes_data = row.pop("bytes_data")
        row["created_at"] = from_millis(row["created_at"])
        row["data"] = (
            self.backend.load_json(json_data) if bytes_data is None else bytes_data
        )
        return row
