"""Signed checkpoints: the newest event's hash in a compact JWS (ES256).

A checkpoint fixes the chain up to its event. An attacker who rewrites
events and recomputes every later hash still cannot make the checkpoint's
hash match without the audit key.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import datetime

from joserfc.jwk import Key

from stappen import jose
from stappen.audit.chain import AuditEvent, execute, lock_head
from stappen.storage.base import ConnectionBase, to_millis

log = logging.getLogger(__name__)

CHECKPOINT_TYPE = "stappen-audit-checkpoint"
"""The ``typ`` header of a checkpoint JWS."""

CHECKPOINT_COLUMNS = ("seq", "hash", "created_at", "key_id", "public_jwk", "signature")


@dataclasses.dataclass(frozen=True)
class CheckpointPolicy:
    """The interval, in events or minutes, after which an append signs a checkpoint."""

    every_events: int
    every_minutes: int

    def is_due(self, head: dict, event: AuditEvent) -> bool:
        """Tell whether ``event`` is far enough past the last checkpoint to sign."""
        events = event.seq - head["checkpoint_seq"]
        minutes = (event.created_at - head["checkpoint_at"]) / 60_000
        return events >= self.every_events or minutes >= self.every_minutes


def sign_head(db: ConnectionBase, key: Key, now: datetime) -> dict | None:
    """Sign a checkpoint for the newest event and return it, or None if one exists."""
    with db.transaction():
        head = lock_head(db)
        if head["seq"] == 0 or head["checkpoint_seq"] == head["seq"]:
            return None
        return write_checkpoint(db, key, head["seq"], head["hash"], to_millis(now))


def write_checkpoint(
    db: ConnectionBase, key: Key, seq: int, hash_: str, created_at: int
) -> dict:
    """Sign ``seq`` and its hash, store the checkpoint and move the head's mark."""
    claims = {"seq": seq, "hash": hash_, "created_at": created_at}
    row = {
        **claims,
        "key_id": jose.key_id(key),
        "public_jwk": json.dumps(jose.public_jwk(key), sort_keys=True),
        "signature": jose.sign(claims, key, typ=CHECKPOINT_TYPE),
    }
    execute(
        db,
        f"INSERT INTO audit_checkpoints ({', '.join(CHECKPOINT_COLUMNS)}) "
        f"VALUES ({', '.join(':' + column for column in CHECKPOINT_COLUMNS)})",
        row,
    )
    execute(
        db,
        "UPDATE audit_head SET checkpoint_seq = :seq, checkpoint_at = :created_at "
        "WHERE id = 1",
        claims,
    )
    log.info("Signed audit checkpoint at event %d with key %s", seq, row["key_id"])
    return row


def read_checkpoints(db: ConnectionBase, from_seq: int = 1) -> list[dict]:
    return execute(
        db,
        f"SELECT {', '.join(CHECKPOINT_COLUMNS)} FROM audit_checkpoints "
        "WHERE seq >= :from_seq ORDER BY seq",
        {"from_seq": from_seq},
    ).fetchall()
