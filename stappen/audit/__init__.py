"""The tamper-evident audit trail: an append-only hash chain of events.

Every event contains the SHA-256 hash of the one before it. The hash of
the newest event is signed with the audit key from time to time. So
``flask --app app audit verify`` can name each event that was changed,
deleted, inserted or reordered afterwards. See docs/audit.md.

Record an event in the same transaction as the action it records::

    with db.transaction():
        db.transition(...)
        audit.record(db, "decision.made", subject=application_id,
                     actor=consultant_id, data={"outcome": "granted"})

Settings, from ``STAPPEN_*`` environment variables or ``create_app(config)``:

- ``STAPPEN_AUDIT_CHECKPOINT_EVENTS`` and ``STAPPEN_AUDIT_CHECKPOINT_MINUTES``:
  an append signs a checkpoint when the last one is this many events or
  minutes old (defaults 1000 and 60). The key is ``audit-key.json`` in the
  keys folder, made by ``flask --app app keys generate``.
- ``STAPPEN_AUDIT_PERSONAL_DATA_DAYS``: how many days personal review data
  is kept before ``flask --app app audit erase-personal`` erases it.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
from datetime import datetime

from flask import Flask, current_app, has_app_context
from joserfc.jwk import Key

from stappen import apiconfig, keys
from stappen.audit.chain import (
    AuditDataError,
    AuditEvent,
    erase_personal,
    read_events,
    read_personal,
    to_audit_data,
)
from stappen.audit.chain import record as append
from stappen.audit.checkpoints import CheckpointPolicy, sign_head, write_checkpoint
from stappen.audit.verify import VerifyReport, read_snapshot, verify_trail
from stappen.storage.base import ConnectionBase

__all__ = [
    "AuditDataError",
    "AuditEvent",
    "VerifyReport",
    "append",
    "audit_keys",
    "erase_personal",
    "init_app",
    "read_events",
    "read_personal",
    "read_snapshot",
    "record",
    "session_subject",
    "sign_head",
    "to_audit_data",
    "verify_trail",
]

log = logging.getLogger(__name__)

EXTENSION_KEY = "stappen.audit"
DEFAULT_CHECKPOINT_EVENTS = 1000
DEFAULT_CHECKPOINT_MINUTES = 60
SESSION_SUBJECT_PREFIX = "wallet-session:"


@dataclasses.dataclass
class _State:
    policy: CheckpointPolicy
    key: Key | None = None
    missing_key_logged: bool = False


def init_app(app: Flask) -> None:
    """Read the audit settings and add the ``flask audit`` commands."""
    from stappen.audit.cli import audit_command

    app.config.setdefault("AUDIT_CHECKPOINT_EVENTS", DEFAULT_CHECKPOINT_EVENTS)
    app.config.setdefault("AUDIT_CHECKPOINT_MINUTES", DEFAULT_CHECKPOINT_MINUTES)
    app.config.setdefault("AUDIT_PERSONAL_DATA_DAYS", None)
    policy = CheckpointPolicy(
        every_events=_positive(app, "AUDIT_CHECKPOINT_EVENTS"),
        every_minutes=_positive(app, "AUDIT_CHECKPOINT_MINUTES"),
    )
    app.extensions[EXTENSION_KEY] = _State(policy=policy)
    app.cli.add_command(audit_command)


def _positive(app: Flask, name: str) -> int:
    return apiconfig.whole_number(app, name, minimum=1)


def record(
    db: ConnectionBase,
    kind: str,
    *,
    subject: str | None = None,
    actor: str | None = None,
    data: dict | None = None,
    personal: dict | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append an event, and sign a checkpoint when one is due.

    Inside a Flask app the time comes from the app's clock, and the
    checkpoint policy and audit key from its settings. Outside one, the
    event is appended with the system time and no checkpoint.
    """
    after_append = None
    if has_app_context() and EXTENSION_KEY in current_app.extensions:
        app = current_app._get_current_object()
        now = now or apiconfig.now(app)
        after_append = functools.partial(_checkpoint_if_due, app)

    return append(
        db,
        kind,
        subject=subject,
        actor=actor,
        data=data,
        personal=personal,
        now=now,
        after_append=after_append,
    )


def session_subject(session_id: str) -> str:
    """Return the audit subject of a wallet session, which is not its id.

    A session id is a bearer secret, and the trail outlives the session, so
    events name the session by the first 128 bits of the id's SHA-256 in
    hex. Every event of one session has the same subject, and whoever can
    read the trail cannot use it to reach the session.
    """
    digest = hashlib.sha256(session_id.encode()).hexdigest()
    return SESSION_SUBJECT_PREFIX + digest[:32]


def _checkpoint_if_due(
    app: Flask, db: ConnectionBase, head: dict, event: AuditEvent
) -> None:
    state: _State = app.extensions[EXTENSION_KEY]
    if not state.policy.is_due(head, event):
        return
    key = _signing_key(app, state)
    if key is not None:
        write_checkpoint(db, key, event.seq, event.hash, event.created_at)


def _signing_key(app: Flask, state: _State) -> Key | None:
    if state.key is None:
        try:
            state.key = audit_keys(app)[0]
        except (apiconfig.ApiConfigError, keys.KeyFileError) as error:
            # Logged once per process, because every append would repeat it.
            if not state.missing_key_logged:
                log.error("Audit checkpoints are not signed: %s", error)
                state.missing_key_logged = True
            return None
    return state.key


def audit_keys(app: Flask) -> list[Key]:
    """Return the private keys of ``audit-key.json``; the first one signs."""
    path = apiconfig.audit_key_path(app)
    if not path.exists():
        raise apiconfig.KeyMaterialMissing(
            f"audit key file {path} not found; create it with "
            f"`{apiconfig.GENERATE_COMMAND}`"
        )
    return keys.load_keyset(path)
