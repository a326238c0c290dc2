"""Audit events as a hash chain: canonical JSON, hashes, appends and erasure."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from stappen.storage.base import ConnectionBase, to_millis

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
"""The prev_hash of the first event."""

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer in event data, so that every JSON parser reads it exactly."""

EVENT_COLUMNS = (
    "seq",
    "created_at",
    "kind",
    "subject",
    "actor",
    "data",
    "personal_digest",
    "prev_hash",
    "hash",
)


class AuditDataError(ValueError):
    """Event data that the canonical JSON of the hash cannot contain."""


@dataclasses.dataclass(frozen=True)
class AuditEvent:
    """One event of the audit trail, as stored in ``audit_events``."""

    seq: int
    created_at: int
    """UTC epoch milliseconds."""
    kind: str
    subject: str | None
    actor: str | None
    data: str
    """The event's data as canonical JSON text."""
    personal_digest: str | None
    prev_hash: str
    hash: str

    def computed_hash(self, seq: int | None = None) -> str:
        """Hash the event's fields, or the same fields as if stored at ``seq``."""
        return event_hash(
            seq=self.seq if seq is None else seq,
            created_at=self.created_at,
            kind=self.kind,
            subject=self.subject,
            actor=self.actor,
            data=self.data,
            personal_digest=self.personal_digest,
            prev_hash=self.prev_hash,
        )


def canonical_json(value: Any) -> str:
    """Serialise data as the hash reads it: sorted keys, no spaces, UTF-8 text.

    Only objects with string keys, arrays, strings, booleans, null and
    integers up to 2**53 - 1 are allowed, so the text is the same in every
    language. Raises AuditDataError naming the first other value.
    """
    _check_value(value, "data")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def to_audit_data(value: Any) -> Any:
    """Convert JSON-like data to what event data allows.

    Floats and Decimals become strings, because the hash input has no
    floats. Dates and datetimes become ISO 8601 text. Lists, tuples and
    dicts are converted item by item; other values are returned as they
    are, so canonical_json still rejects what it cannot hash.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, float | Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_audit_data(item) for item in value]
    if isinstance(value, dict):
        return {key: to_audit_data(item) for key, item in value.items()}
    return value


def _check_value(value: Any, path: str) -> None:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise AuditDataError(
                f"audit field {path} is {value}, beyond ±(2**53 - 1); store it "
                "as a string"
            )
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditDataError(
                    f"audit field {path} has the key {key!r}; keys must be strings"
                )
            _check_value(item, f"{path}.{key}")
        return
    raise AuditDataError(
        f"audit field {path} is a {type(value).__name__} ({value!r}); use "
        "strings, integers, booleans, null, lists and objects only, and write "
        "amounts as strings or integer cents"
    )


def event_hash(**fields: Any) -> str:
    """Return the SHA-256 in hex of the canonical JSON of an event's fields.

    ``data`` is the canonical JSON text of the event's data and enters the
    input as that string, not as a nested object.
    """
    return _sha256(fields)


def personal_digest(salt: str, personal: str) -> str:
    """Return the digest of personal data that its event's hash covers.

    The random salt keeps a guessable value, such as a BSN, from being found
    by hashing candidates once the data and salt are erased.
    """
    return _sha256({"salt": salt, "data": personal})


def record(
    db: ConnectionBase,
    kind: str,
    *,
    subject: str | None = None,
    actor: str | None = None,
    data: dict | None = None,
    personal: dict | None = None,
    now: datetime | None = None,
    after_append: Callable[[ConnectionBase, dict, AuditEvent], None] | None = None,
) -> AuditEvent:
    """Append an event to the audit trail and return it.

    Inside ``with db.transaction():`` the event commits or rolls back with
    the caller's other writes, because it runs in a savepoint. Outside, it
    runs in a transaction of its own. ``data`` must contain no personal
    data. ``personal`` is review data that retention erases later.
    ``after_append(db, head, event)`` runs in the same transaction, and the
    API uses it to sign a checkpoint.
    """
    data_text = canonical_json(data or {})
    personal_text = None if personal is None else canonical_json(personal)
    moment = to_millis(now or datetime.now(UTC))

    with db.transaction():
        head = lock_head(db)
        salt = None if personal_text is None else secrets.token_hex(16)
        event = _next_event(
            head, moment, kind, subject, actor, data_text, salt, personal_text
        )
        _insert_event(db, event)
        if personal_text is not None:
            _insert_personal(db, event.seq, salt, personal_text)
        execute(
            db,
            "UPDATE audit_head SET seq = :seq, hash = :hash, created_at = :created_at "
            "WHERE id = 1",
            {"seq": event.seq, "hash": event.hash, "created_at": event.created_at},
        )
        if after_append is not None:
            after_append(db, head, event)

    log.info("Recorded audit event %d (%s)", event.seq, kind)
    return event


def _next_event(
    head: dict,
    moment: int,
    kind: str,
    subject: str | None,
    actor: str | None,
    data_text: str,
    salt: str | None,
    personal_text: str | None,
) -> AuditEvent:
    # A worker whose clock lags behind another's still records a time no
    # earlier than the previous event's, so verify can check time order.
    fields = {
        "seq": head["seq"] + 1,
        "created_at": max(moment, head["created_at"]),
        "kind": kind,
        "subject": subject,
        "actor": actor,
        "data": data_text,
        "personal_digest": None
        if personal_text is None
        else personal_digest(salt, personal_text),
        "prev_hash": head["hash"],
    }
    return AuditEvent(**fields, hash=event_hash(**fields))


def lock_head(db: ConnectionBase) -> dict:
    """Read the newest event and checkpoint, locking them until the transaction ends.

    SQLite's write transaction already holds the database's only write lock,
    and PostgreSQL locks the row with FOR UPDATE.
    """
    head = execute(
        db, "SELECT * FROM audit_head WHERE id = 1" + db.backend.lock_clause
    ).fetchone()
    if head is None:
        raise RuntimeError(
            "The audit_head row is missing, so no event can be appended: restore "
            "it from a backup, because verify needs it to find deleted events"
        )
    return head


def read_head(db: ConnectionBase) -> dict | None:
    return execute(db, "SELECT * FROM audit_head WHERE id = 1").fetchone()


def read_events(db: ConnectionBase, from_seq: int = 1) -> list[AuditEvent]:
    """Return the events from ``from_seq`` on, in seq order."""
    rows = execute(
        db,
        f"SELECT {', '.join(EVENT_COLUMNS)} FROM audit_events "
        "WHERE seq >= :from_seq ORDER BY seq",
        {"from_seq": from_seq},
    ).fetchall()
    return [AuditEvent(**row) for row in rows]


def read_personal(db: ConnectionBase, seq: int) -> dict | None:
    """Return the personal review data of an event, or None when erased or absent."""
    row = execute(
        db, "SELECT data FROM audit_personal WHERE seq = :seq", {"seq": seq}
    ).fetchone()
    if row is None or row["data"] is None:
        return None
    return json.loads(row["data"])


def erase_personal(db: ConnectionBase, before: datetime, now: datetime) -> list[int]:
    """Erase the personal data of events created before ``before``; return their seqs.

    The events keep their digests, so the chain still verifies and verify
    reports the data as erased.
    """
    params = {"before": to_millis(before, "before"), "now": to_millis(now)}
    with db.transaction():
        rows = execute(
            db,
            "SELECT p.seq FROM audit_personal AS p "
            "JOIN audit_events AS e ON e.seq = p.seq "
            "WHERE p.erased_at IS NULL AND e.created_at < :before ORDER BY p.seq",
            params,
        ).fetchall()
        execute(
            db,
            "UPDATE audit_personal SET salt = NULL, data = NULL, erased_at = :now "
            "WHERE erased_at IS NULL AND seq IN "
            "(SELECT seq FROM audit_events WHERE created_at < :before)",
            params,
        )
    seqs = [row["seq"] for row in rows]
    log.info("Erased the personal data of %d audit events", len(seqs))
    return seqs


def _insert_event(db: ConnectionBase, event: AuditEvent) -> None:
    execute(
        db,
        f"INSERT INTO audit_events ({', '.join(EVENT_COLUMNS)}) "
        f"VALUES ({', '.join(':' + column for column in EVENT_COLUMNS)})",
        dataclasses.asdict(event),
    )


def _insert_personal(db: ConnectionBase, seq: int, salt: str, text: str) -> None:
    execute(
        db,
        "INSERT INTO audit_personal (seq, salt, data) VALUES (:seq, :salt, :data)",
        {"seq": seq, "salt": salt, "data": text},
    )


def _sha256(fields: dict) -> str:
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def execute(db: ConnectionBase, sql: str, params: dict | None = None) -> Any:
    return db.raw.execute(db.backend.sql(sql), params or {})
