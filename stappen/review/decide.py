"""A consultant's decision on an application, and the audit events of a review.

Each change and its audit event commit in one transaction, so the trail
never misses a decision and never records one that did not happen.
"""

from __future__ import annotations

import logging
from datetime import datetime

from stappen import audit

log = logging.getLogger(__name__)

MAX_MOTIVATION_LENGTH = 2000
"""The maximum length of a decision's motivation, in characters."""


def decide(
    db,
    application_id: str,
    *,
    outcome: str,
    motivation: str,
    amount: str | None,
    consultant_id: str,
    now: datetime,
) -> bool:
    """Record a decision and its ``decision.made`` event; False if decided before.

    The motivation may name the citizen's circumstances, so the event keeps
    it as personal review data, which retention erases. The outcome and
    amount are in the event's data, which the hash chain keeps.
    """
    with db.transaction():
        decided = db.decide_application(
            application_id,
            outcome=outcome,
            motivation=motivation,
            amount=amount,
            consultant=consultant_id,
            now=now,
        )
        if not decided:
            return False
        audit.record(
            db,
            "decision.made",
            subject=application_id,
            actor=consultant_id,
            data={"outcome": outcome, "amount": amount},
            personal={"motivation": motivation},
            now=now,
        )
    log.info("Application %s: decision %s", application_id, outcome)
    return True


def note_viewed(db, application_id: str, consultant_id: str, now: datetime) -> None:
    """Record that a consultant opened an application's review."""
    audit.record(
        db, "consultant.viewed", subject=application_id, actor=consultant_id, now=now
    )


def note_exported(db, application_id: str, consultant_id: str, now: datetime) -> None:
    """Record that a consultant exported an application's evidence."""
    audit.record(
        db, "evidence.exported", subject=application_id, actor=consultant_id, now=now
    )
