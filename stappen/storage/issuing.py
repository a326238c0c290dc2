"""Issuer records: token status lists, issued credentials and attempt counters."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from stappen.storage.base import ConnectionBase, from_millis, to_millis
from stappen.storage.errors import NotFound

log = logging.getLogger(__name__)

MAX_STATUS_VALUE = 255
"""The largest status of a token status list entry, whose size is 1 to 8 bits.

The IETF Token Status List draft defines 0 VALID, 1 INVALID, 2 SUSPENDED.
"""


class IssuerOperations(ConnectionBase):
    """Operations the credential issuer needs besides the session itself."""

    def allocate_status_index(self, list_id: str) -> int:
        """Hand out the next free index of a status list, with status 0 (valid).

        Indexes count up from 0, and no index is handed out twice, also when
        callers race. The caller checks that the index fits the list's size.
        """
        with self.transaction():
            index = self._increment(f"status_list:{list_id}") - 1
            self._execute(
                "INSERT INTO status_entries (list_id, status_index, value) "
                "VALUES (:list_id, :index, 0)",
                {"list_id": list_id, "index": index},
            )
        return index

    def set_status(self, list_id: str, index: int, value: int) -> None:
        """Set the status of an allocated index, such as 1 (invalid) to revoke."""
        if not 0 <= value <= MAX_STATUS_VALUE:
            raise ValueError(
                f"Status value {value!r} is out of range: use 0 to {MAX_STATUS_VALUE}."
            )

        with self.transaction():
            row = self._one(
                "UPDATE status_entries SET value = :value "
                "WHERE list_id = :list_id AND status_index = :index RETURNING value",
                {"list_id": list_id, "index": index, "value": value},
            )
        if row is None:
            raise NotFound(
                f"Status list {list_id!r} has no allocated index {index}: get indexes "
                "from allocate_status_index."
            )
        log.info("Set status list %r index %d to %d", list_id, index, value)

    def status_values(self, list_id: str) -> dict[int, int]:
        """Return every allocated index of a status list with its status."""
        rows = self._all(
            "SELECT status_index, value FROM status_entries "
            "WHERE list_id = :list_id ORDER BY status_index",
            {"list_id": list_id},
        )
        return {row["status_index"]: row["value"] for row in rows}

    def record_issued(
        self,
        session_id: str,
        *,
        credential_id: str,
        vct: str,
        status_list_id: str | None,
        status_index: int | None,
        holder_jwk_thumbprint: str | None,
        now: datetime,
    ) -> None:
        """Log a credential issued in a session.

        Raises IntegrityError for a duplicate credential id, an unknown
        session, or a status index that was never allocated.
        """
        with self.transaction():
            self._execute(
                "INSERT INTO issued_credentials (credential_id, session_id, vct, "
                "status_list_id, status_index, holder_jwk_thumbprint, issued_at) "
                "VALUES (:credential_id, :session_id, :vct, :status_list_id, "
                ":status_index, :holder_jwk_thumbprint, :now)",
                {
                    "credential_id": credential_id,
                    "session_id": session_id,
                    "vct": vct,
                    "status_list_id": status_list_id,
                    "status_index": status_index,
                    "holder_jwk_thumbprint": holder_jwk_thumbprint,
                    "now": to_millis(now),
                },
            )

    def issued_credentials(self, session_id: str) -> list[dict[str, Any]]:
        """Return the credentials issued in a session, oldest first."""
        rows = self._all(
            "SELECT * FROM issued_credentials WHERE session_id = :id "
            "ORDER BY issued_at, credential_id",
            {"id": session_id},
        )
        return [_decode_issued(row) for row in rows]

    def get_issued(self, credential_id: str) -> dict[str, Any] | None:
        """Return the log entry of one issued credential, or None."""
        row = self._one(
            "SELECT * FROM issued_credentials WHERE credential_id = :id",
            {"id": credential_id},
        )
        return None if row is None else _decode_issued(row)

    def count_attempt(self, session_id: str, kind: str) -> int:
        """Count one more attempt of ``kind`` (such as a tx_code) and return the total.

        The first attempt returns 1. Racing callers each get their own count.
        """
        with self.transaction():
            return self._increment(f"attempt:{kind}:{session_id}")

    def _increment(self, name: str) -> int:
        row = self._one(
            "INSERT INTO counters (name, value) VALUES (:name, 1) "
            "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 "
            "RETURNING value",
            {"name": name},
        )
        return row["value"]


def _decode_issued(row: dict[str, Any]) -> dict[str, Any]:
    row["issued_at"] = from_millis(row["issued_at"])
    return row
