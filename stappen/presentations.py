"""The request of a step that runs on a verified presentation, taken once.

A check step and an application step both work on the result of a wallet
session of purpose ``present``: the citizen's page sends the flow, the step
and the session's transaction id, and the step takes the verified claims
once. Each function here rejects a bad request through ``reject``, the
caller's function that logs the rejection and aborts with the status.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import NoReturn

from flask import Flask

from stappen import storage
from stappen.model import Flow, Step
from stappen.storage.errors import session_label

log = logging.getLogger(__name__)

TRANSACTION_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")
"""The form of a transaction id, URL-safe base64 as ``sessions.new_session`` makes.

Other text is not looked up, because the store fails on some of it: a NUL
on PostgreSQL, a lone surrogate on both stores.
"""

Reject = Callable[..., NoReturn]
"""``reject(status, reason, session=None)``: log and abort the request."""


@dataclasses.dataclass(frozen=True)
class PresentationUse:
    """A step's use of a presentation, in the words of its error messages."""

    kind: str
    """The single-use kind under which the step takes a presentation."""
    user: str
    """The step's work as the subject of a sentence, such as "this check"."""
    once: str
    """The work of one presentation, such as "decides one check"."""
    again: str
    """The citizen's way to try again, such as "share your data again"."""
    reject: Reject


def requested_step(
    app: Flask, body: dict, kind: str, reject: Reject
) -> tuple[Flow, Step]:
    """Return the flow and the step of ``kind`` that the request body names."""
    flow_id, step_id = body.get("flow"), body.get("step")
    if not isinstance(flow_id, str) or not isinstance(step_id, str):
        reject(400, "fields flow and step are required and must be texts (ids)")
    flow = app.extensions["stappen.flows"].get(flow_id)
    if flow is None:
        reject(404, f"flow {flow_id!r} not found")
    step = flow.steps.get(step_id)
    if step is None or step.kind != kind:
        reject(404, f"flow {flow_id!r} has no {kind} step {step_id!r}")
    return flow, step


def verified_presentation(
    flow: Flow, step_id: str, transaction_id, use: PresentationUse
) -> dict:
    """Return the verified presentation session of step ``step_id``."""
    if not isinstance(transaction_id, str) or not transaction_id:
        use.reject(
            400,
            "presentation must be the transaction id of the wallet "
            f"session of step {step_id!r}",
        )
    session = None
    if TRANSACTION_ID_PATTERN.fullmatch(transaction_id):
        session = storage.request_connection().get_session(transaction_id)
    if session is None or session["purpose"] != "present":
        use.reject(404, f"presentation not found; {use.again}")

    label = session_label(session["id"])
    if session["flow"] != flow.id or session["step"] != step_id:
        use.reject(
            409,
            f"presentation {label} belongs to another step; {use.user} "
            f"needs one of step {step_id!r}",
            session,
        )
    if session["state"] != "verified":
        use.reject(
            409,
            f"presentation {label} is {session['state']!r}, not verified; {use.again}",
            session,
        )
    return session


def take_result(session: dict, moment: datetime, use: PresentationUse) -> dict:
    """Take the presentation's result, once: a second use is rejected."""
    db = storage.request_connection()
    first = db.consume_once(
        use.kind, session["id"], session_id=session["id"], now=moment
    )
    result = db.take_result(session["id"], now=moment) if first else None
    if result is None:
        use.reject(
            409,
            f"presentation {session_label(session['id'])} was used before; each "
            f"presentation {use.once}, so {use.again}",
            session,
        )
    return result
