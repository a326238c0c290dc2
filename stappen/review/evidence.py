"""Export an application's evidence to one JSON document.

The document holds what a reviewer outside the system needs to check the
application without its database: the application and its decision, the
record with the presented SD-JWTs, issuer keys and status list tokens, the
DMN file that decided, and the application's audit events with the hash
links that tie them to a signed checkpoint. ``python -m stappen.review
verify FILE`` checks it; docs/evidence-export.md describes the format.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
from datetime import date, datetime
from typing import Any

from flask import Flask

from stappen import apiconfig, audit, jose, keys
from stappen.audit.checkpoints import read_checkpoints

log = logging.getLogger(__name__)

FORMAT = "stappen-evidence"
VERSION = 1


def export_evidence(app: Flask, db, application_id: str) -> dict | None:
    """Return the evidence document of an application, or None if it is unknown.

    Signs an audit checkpoint first when the audit key is there, so the
    checkpoint covers the application's newest events, the export's own
    event included.
    """
    application = db.application(application_id)
    if application is None:
        return None

    moment = apiconfig.now(app)
    audit_public_keys = _sign_checkpoint(app, db, moment)
    record = application["record"]
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": moment.isoformat(),
        "application": _application_part(application),
        "record": record,
        "decision": _decision_part(application["decision"]),
        "rules": _rules_part(db, record),
        "audit": audit_part(db, _subjects(application)),
        "keys": {"audit": audit_public_keys},
    }


def _sign_checkpoint(app: Flask, db, moment: datetime) -> list[dict]:
    """Sign a checkpoint of the newest event; return the audit public keys."""
    try:
        signing_keys = audit.audit_keys(app)
    except (apiconfig.ApiConfigError, keys.KeyFileError) as error:
        log.warning("Exported evidence without a new audit checkpoint: %s", error)
        return []
    audit.sign_head(db, signing_keys[0], moment)
    return [jose.public_jwk(key) for key in signing_keys]


def _application_part(application: dict) -> dict:
    excluded = {"secret_hash", "record", "decision"}
    kept = {key: value for key, value in application.items() if key not in excluded}
    kept["presentation_session"] = _session_subject(kept.get("presentation_session"))
    return _json_ready(kept)


def _decision_part(decision: dict | None) -> dict | None:
    if decision is None:
        return None
    kept = dict(decision)
    kept["credential_session"] = _session_subject(kept.get("credential_session"))
    return _json_ready(kept)


def _session_subject(session_id: str | None) -> str | None:
    """Name a wallet session by its audit subject, because its id is a secret."""
    return None if session_id is None else audit.session_subject(session_id)


def _rules_part(db, record: dict | None) -> dict | None:
    sha256 = ((record or {}).get("voucher") or {}).get("regels_sha256")
    stored = db.rule_table(sha256) if isinstance(sha256, str) else None
    if stored is None:
        return None
    return {
        "name": stored["name"],
        "sha256": stored["sha256"],
        "content_base64": base64.b64encode(stored["content"]).decode("ascii"),
    }


def _subjects(application: dict) -> set[str]:
    """Return the audit subjects of the application and its presentation."""
    subjects = {application["id"]}
    if application.get("presentation_session"):
        subjects.add(audit.session_subject(application["presentation_session"]))
    return subjects


def audit_part(db, subjects: set[str]) -> dict:
    """Return the events about ``subjects``, the links to the checkpoint and it.

    ``links`` has the seq, prev_hash and hash of every event from the first
    exported one to the newest checkpoint (or the newest exported event, if
    that is later), so a reader can follow the chain between them. Other
    subjects' events appear there by their hashes only.
    """
    events = [event for event in audit.read_events(db) if event.subject in subjects]
    checkpoints = read_checkpoints(db)
    checkpoint = checkpoints[-1] if checkpoints else None
    if not events:
        return {"events": [], "links": [], "checkpoint": checkpoint}

    last = max(events[-1].seq, checkpoint["seq"] if checkpoint else 0)
    links = [
        {"seq": event.seq, "prev_hash": event.prev_hash, "hash": event.hash}
        for event in audit.read_events(db, events[0].seq)
        if event.seq <= last
    ]
    return {
        "events": [dataclasses.asdict(event) for event in events],
        "links": links,
        "checkpoint": checkpoint,
    }


def _json_ready(value: Any) -> Any:
    """Turn datetimes and dates into ISO 8601 text, recursively."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    return value
