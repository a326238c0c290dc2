"""Wallet sessions and their states: create, look up, transition and expire."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from stappen.storage.base import ConnectionBase, from_millis, to_millis
from stappen.storage.errors import SessionNotFound, session_label

log = logging.getLogger(__name__)

END_STATES = frozenset(
    {"verified", "issued", "failed", "rejected", "expired", "cancelled"}
)
"""States that a session never leaves, so transition() rejects them as a source."""

PURPOSES = frozenset({"present", "issue"})

REQUIRED_FIELDS = frozenset(
    {"id", "flow", "step", "purpose", "created_at", "expires_at"}
)
UPDATABLE_FIELDS = frozenset(
    {
        "step",
        "nonce",
        "state_param",
        "request_id",
        "pre_authorized_code",
        "access_token",
        "expires_at",
        "data",
        "result",
    }
)
"""Columns that transition() may set besides the state."""

CREATE_FIELDS = REQUIRED_FIELDS | UPDATABLE_FIELDS | {"state"}
LOOKUP_FIELDS = ("request_id", "state_param", "pre_authorized_code", "access_token")
"""Columns with a unique index, so get_session_by() finds at most one session."""

TIME_FIELDS = frozenset({"created_at", "updated_at", "expires_at", "result_taken_at"})
JSON_FIELDS = frozenset({"data", "result"})

INSERT_COLUMNS = (
    "id",
    "flow",
    "step",
    "purpose",
    "state",
    "nonce",
    "state_param",
    "request_id",
    "pre_authorized_code",
    "access_token",
    "created_at",
    "updated_at",
    "expires_at",
    "data",
    "result",
)
INSERT_SESSION = (
    f"INSERT INTO sessions ({', '.join(INSERT_COLUMNS)}) "
    f"VALUES ({', '.join(':' + column for column in INSERT_COLUMNS)})"
)

END_STATES_SQL = ", ".join(f"'{state}'" for state in sorted(END_STATES))

TRANSITION_ACTORS = {"expired": "system", "cancelled": "citizen"}
"""Audit actors by target state. The wallet is the actor of moves to other states."""


class SessionOperations(ConnectionBase):
    """Operations on wallet sessions and the rows that belong to them."""

    def create_session(self, session: dict[str, Any]) -> None:
        """Insert a new session and its "created" event.

        Required keys: ``id`` (the transaction id, a random secret), ``flow``,
        ``step``, ``purpose`` ("present" or "issue"), ``created_at`` and
        ``expires_at``. Optional: ``state`` (default "created"), ``nonce``,
        ``state_param`` (the OpenID4VP ``state``), ``request_id`` (the
        opaque id in the request_uri or credential_offer_uri),
        ``pre_authorized_code``, ``access_token``, ``data`` (JSON, default
        ``{}``) and ``result`` (JSON). Raises IntegrityError when the id or
        one of the LOOKUP_FIELDS is already in use.
        """
        _check_new_session(session)
        row = {column: None for column in INSERT_COLUMNS}
        row.update(state="created", data={})
        row.update(session)
        row["updated_at"] = row["created_at"]

        with self.transaction():
            self._execute(INSERT_SESSION, self._encode(row))
            self._add_event(
                row["id"],
                to_millis(row["created_at"]),
                "created",
                to_state=row["state"],
            )
            if self.poll_times is not None:
                copy = (row["state"], to_millis(row["expires_at"]))
                self.after_commit(
                    functools.partial(
                        self.poll_times.prime, row["id"], *copy, row["created_at"]
                    )
                )

    def get_session(self, session_id: str) -> dict[str, Any] | None:
        """Return the session with this id as a dict, or None."""
        row = self._one("SELECT * FROM sessions WHERE id = :id", {"id": session_id})
        return None if row is None else self._decode(row)

    def get_session_by(self, field: str, value: str) -> dict[str, Any] | None:
        """Return the session whose ``field`` (one of LOOKUP_FIELDS) is ``value``."""
        if field not in LOOKUP_FIELDS:
            raise ValueError(
                f"Cannot look sessions up by {field!r}: use one of "
                f"{', '.join(LOOKUP_FIELDS)}."
            )

        # The field name is one of LOOKUP_FIELDS, so it is safe in the SQL.
        row = self._one(
            f"SELECT * FROM sessions WHERE {field} = :value", {"value": value}
        )
        return None if row is None else self._decode(row)

    def transition(
        self,
        session_id: str,
        *,
        from_states: Iterable[str],
        to: str,
        now: datetime,
        detail: dict[str, Any] | None = None,
        **fields: Any,
    ) -> bool:
        """Move a session from one of ``from_states`` to ``to``, setting ``fields``.

        A compare-and-set: returns False, and changes nothing, unless the
        session is in one of ``from_states``, so of two racing callers only
        one wins. A session past its ``expires_at`` moves to "expired"
        instead, and the call returns False. A successful change records an
        event with ``detail`` in the same transaction. End states cannot be
        a source, so a session in one never changes. ``fields`` may set
        UPDATABLE_FIELDS; ``data`` and ``result`` are replaced, not merged.
        Raises SessionNotFound for an unknown id.
        """
        sources = _check_transition(from_states, to, fields)
        now_ms = to_millis(now)

        with self.transaction():
            current = self._lock_session(session_id)
            if _is_overdue(current, now_ms):
                self._set_state(current, "expired", now_ms, {}, {"reason": "expired"})
                return False
            if current["state"] not in sources:
                return False
            self._set_state(current, to, now_ms, fields, detail)
        return True

    def events_for(self, session_id: str) -> list[dict[str, Any]]:
        """Return a session's events, oldest first."""
        rows = self._all(
            "SELECT id, created_at, kind, from_state, to_state, detail "
            "FROM session_events WHERE session_id = :id ORDER BY id",
            {"id": session_id},
        )
        for row in rows:
            row["created_at"] = from_millis(row["created_at"])
            row["detail"] = self.backend.load_json(row["detail"])
        return rows

    def expire_sessions(self, now: datetime) -> int:
        """Move overdue sessions to "expired" and return how many there were.

        A session is overdue when ``now`` has reached its ``expires_at`` and
        it is not in an end state. Each move records an event.
        """
        now_ms = to_millis(now)

        with self.transaction():
            # Sorted by id, so that two sweeps lock rows in the same order.
            overdue = self._all(
                "SELECT id, state FROM sessions "
                f"WHERE expires_at <= :now AND state NOT IN ({END_STATES_SQL}) "
                f"ORDER BY id{self.backend.lock_clause}",
                {"now": now_ms},
            )
            for row in overdue:
                self._set_state(row, "expired", now_ms, {}, {"reason": "expired"})

        if overdue:
            log.info("Expired %d sessions", len(overdue))
        return len(overdue)

    def _lock_session(self, session_id: str) -> dict[str, Any]:
        """Read a session's raw row and lock it until the transaction ends."""
        row = self._one(
            f"SELECT * FROM sessions WHERE id = :id{self.backend.lock_clause}",
            {"id": session_id},
        )
        if row is None:
            raise _not_found(session_id)
        return row

    def _require_session(self, session_id: str) -> None:
        """Raise SessionNotFound unless the session exists, without locking it."""
        row = self._one(
            "SELECT 1 AS found FROM sessions WHERE id = :id", {"id": session_id}
        )
        if row is None:
            raise _not_found(session_id)

    def _set_state(
        self,
        current: dict[str, Any],
        to: str,
        now_ms: int,
        fields: dict[str, Any],
        detail: dict[str, Any] | None,
    ) -> None:
        values = self._encode(fields)
        # Every key of fields is one of UPDATABLE_FIELDS, so it is safe in SQL.
        assignments = "".join(f", {name} = :{name}" for name in values)
        values.update(to=to, now=now_ms, id=current["id"])
        self._execute(
            f"UPDATE sessions SET state = :to, updated_at = :now{assignments} "
            "WHERE id = :id",
            values,
        )
        self._add_event(
            current["id"],
            now_ms,
            "transition",
            from_state=current["state"],
            to_state=to,
            detail=detail,
        )
        _audit_transition(self, current["id"], current["state"], to, now_ms)
        if self.poll_times is not None:
            self.after_commit(
                functools.partial(self.poll_times.forget_state, current["id"])
            )

    def _add_event(
        self,
        session_id: str,
        now_ms: int,
        kind: str,
        *,
        from_state: str | None = None,
        to_state: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self._execute(
            "INSERT INTO session_events "
            "(session_id, created_at, kind, from_state, to_state, detail) "
            "VALUES (:session_id, :now, :kind, :from_state, :to_state, :detail)",
            {
                "session_id": session_id,
                "now": now_ms,
                "kind": kind,
                "from_state": from_state,
                "to_state": to_state,
                "detail": self.backend.dump_json(detail),
            },
        )

    def _encode(self, fields: dict[str, Any]) -> dict[str, Any]:
        encoded = {}
        for name, value in fields.items():
            if name in TIME_FIELDS:
                value = None if value is None else to_millis(value, name)
            elif name in JSON_FIELDS:
                value = self.backend.dump_json(value)
            encoded[name] = value
        return encoded

    def _decode(self, row: dict[str, Any]) -> dict[str, Any]:
        for name in TIME_FIELDS:
            row[name] = from_millis(row[name])
        for name in JSON_FIELDS:
            row[name] = self.backend.load_json(row[name])
        return row


def _check_new_session(session: dict[str, Any]) -> None:
    missing = REQUIRED_FIELDS - session.keys()
    if missing:
        raise ValueError(
            f"The new session is missing {', '.join(sorted(missing))}: add them."
        )

    unknown = session.keys() - CREATE_FIELDS
    if unknown:
        raise ValueError(
            f"The new session has unknown fields {', '.join(sorted(unknown))}: "
            f"use only {', '.join(sorted(CREATE_FIELDS))}."
        )

    if session["purpose"] not in PURPOSES:
        raise ValueError(
            f"Session purpose {session['purpose']!r} is invalid: "
            "use 'present' or 'issue'."
        )

    if session.get("state", "created") in END_STATES:
        raise ValueError(
            f"A new session cannot start in the end state {session['state']!r}: "
            "leave state unset so that it starts as 'created'."
        )


def _check_transition(
    from_states: Iterable[str], to: str, fields: dict[str, Any]
) -> frozenset[str]:
    if isinstance(from_states, str):
        raise TypeError(
            f"from_states={from_states!r} is a string: pass a set, "
            f"such as {{{from_states!r}}}."
        )
    sources = frozenset(from_states)

    ended = sources & END_STATES
    if ended:
        raise ValueError(
            f"Cannot leave the end states {', '.join(sorted(ended))}: a session in an "
            "end state never changes, so remove them from from_states."
        )

    if not isinstance(to, str) or not to:
        raise ValueError(f"Target state {to!r} is invalid: pass a non-empty string.")

    unknown = fields.keys() - UPDATABLE_FIELDS
    if unknown:
        raise ValueError(
            f"transition() cannot set {', '.join(sorted(unknown))}: it sets only "
            f"{', '.join(sorted(UPDATABLE_FIELDS))}."
        )
    return sources


def _audit_transition(
    db: ConnectionBase, session_id: str, from_state: str, to: str, now_ms: int
) -> None:
    """Record a state change in the audit trail, in the caller's transaction."""
    # Imported here because stappen.audit imports this package.
    from stappen import audit

    audit.record(
        db,
        "wallet_session.state_changed",
        subject=audit.session_subject(session_id),
        actor=TRANSITION_ACTORS.get(to, "wallet"),
        data={"from": from_state, "to": to},
        now=from_millis(now_ms),
    )


def _not_found(session_id: str) -> SessionNotFound:
    return SessionNotFound(
        f"Session {session_label(session_id)} not found: create it first, "
        "or check that the id is the one create_session was given."
    )


def _is_overdue(row: dict[str, Any], now_ms: int) -> bool:
    return row["expires_at"] <= now_ms and row["state"] not in END_STATES
