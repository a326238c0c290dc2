"""The response endpoint: the wallet's response and the session's end state.

``direct_post`` sends ``vp_token`` and ``state`` as a form,
``direct_post.jwt`` a JWE in ``response`` (see ``decryption``), and a
wallet that cannot present sends ``error``. A response that is rejected
before the checks leaves its session as it was.
"""

from __future__ import annotations

import hmac
import logging
from datetime import datetime
from typing import Any

from flask import Flask, Response, current_app, jsonify, request

from stappen import apiconfig, audit, sdjwt, storage
from stappen.storage.errors import session_label
from stappen.verifier.blueprint import (
    Rejected,
    blueprint,
    presenting_session,
    wallet_error,
)
from stappen.verifier.decryption import decrypt_response
from stappen.verifier.request_object import RESPONSE_MODE_ENCRYPTED
from stappen.verifier.status_lists import fetch_status_list
from stappen.verifier.verification import Outcome, report_line, verify_vp_token

log = logging.getLogger(__name__)

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"

OPEN_STATES = frozenset({"created", "request_retrieved"})
"""States in which the wallet may still respond to the request."""

MAX_AUDIT_ERROR_LENGTH = 64
"""Characters of a wallet's error code that the audit trail keeps. OAuth error
codes are short, and the wallet controls this text."""

VALUE_FREE_FAILURES = frozenset(
    {"issuer trusted", "signature", "times", "status", "replay"}
)
"""Checks whose failure reasons name no claim value, so the audit trail may keep
them as they are. The reasons of other failed checks can quote a disclosure, a
claim value, the nonce or the wallet's own text, so they go to review data."""


@blueprint.post("/responses/<request_id>")
def post_response(request_id: str) -> tuple[Response, int]:
    """Receive the wallet's response, verify it and end the session."""
    app = current_app._get_current_object()
    db = storage.request_connection()
    moment = apiconfig.now(app)
    session = presenting_session(db, request_id)
    if session is None:
        log.warning("Rejected a response: unknown request_id")
        return wallet_error("response_uri not found; the request may have expired")

    try:
        return _receive(app, db, session, moment)
    except Rejected as rejection:
        label = session_label(session["id"])
        log.warning("Session %s: rejected a response: %s", label, rejection)
        evidence = {"reason": rejection.description}
        db.add_evidence(session["id"], "rejected_response", evidence, moment)
        return wallet_error(rejection.description)


def _receive(app: Flask, db, session: dict, moment: datetime) -> tuple[Response, int]:
    db.add_evidence(session["id"], "response", request.get_data(cache=True), moment)
    parameters = _response_parameters(session)
    state = _checked_state(session, parameters)
    if not _consume_once(db, "state", state, session, moment):
        raise Rejected("state was used before; a response is accepted once")

    if "error" in parameters:
        return _receive_wallet_error(db, session, parameters, moment)

    # Loaded before the session moves on, so that missing key files (a 503)
    # cannot leave it in "submitted".
    issuer_keys = apiconfig.issuer_jwks(app, tuple(session["data"]["trusted_issuers"]))
    moved = db.transition(
        session["id"], from_states={"request_retrieved"}, to="submitted", now=moment
    )
    if not moved:
        raise Rejected("this request has ended or expired; start a new session")

    vp_token = parameters.get("vp_token")
    # Kept decrypted, so that a review can verify the presentation again.
    db.add_evidence(session["id"], "vp_token", {"vp_token": vp_token}, moment)
    outcome = _verify_response(app, db, session, vp_token, issuer_keys, moment)
    _record_outcome(db, session, outcome, moment)
    return _finish(db, session, outcome, moment)


def _response_parameters(session: dict) -> dict:
    """Read the form and, for direct_post.jwt, decrypt its ``response``."""
    if request.mimetype != FORM_MEDIA_TYPE:
        got = request.mimetype or "no Content-Type"
        raise Rejected(f"expected a form body ({FORM_MEDIA_TYPE}), got {got!r}")

    form = _single_values()
    encrypted = session["data"]["response_mode"] == RESPONSE_MODE_ENCRYPTED
    if "error" in form:
        return form
    if encrypted:
        if set(form) != {"response"}:
            raise Rejected(
                "response_mode direct_post.jwt expects one parameter, 'response' "
                f"(a JWE), got {sorted(form)}"
            )
        return decrypt_response(form["response"], session)
    if "response" in form:
        raise Rejected(
            "this request uses response_mode direct_post; send vp_token and "
            "state, not response"
        )
    return form


def _single_values() -> dict[str, str]:
    values = {}
    for name in request.form:
        occurrences = request.form.getlist(name)
        if len(occurrences) > 1:
            raise Rejected(
                f"parameter {name!r} appears {len(occurrences)} times; send it once"
            )
        values[name] = occurrences[0]
    return values


def _checked_state(session: dict, parameters: dict) -> str:
    state = parameters.get("state")
    if not isinstance(state, str) or not state:
        raise Rejected("state is missing; send the state of the request object")

    expected = session["state_param"].encode()
    if not hmac.compare_digest(state.encode(), expected):
        raise Rejected("state does not belong to this request")
    return state


def _receive_wallet_error(
    db, session: dict, parameters: dict, moment: datetime
) -> tuple[Response, int]:
    """End the session for an error response: rejected when the citizen declined."""
    error = str(parameters["error"])
    declined = error == "access_denied"
    line = report_line(
        None,
        "wallet response",
        False,
        f"the wallet responded with error {error!r}: "
        f"{parameters.get('error_description', 'no description')}",
    )
    to = "rejected" if declined else "failed"
    result = None if declined else {"status": "failed", "report": [line]}
    with db.transaction():
        moved = db.transition(
            session["id"],
            from_states=OPEN_STATES,
            to=to,
            now=moment,
            detail={"error": error},
            result=result,
        )
        if moved:
            db.add_evidence(session["id"], "check", line, moment)
            _audit_response(db, session, [line], verified=False, error=error)
    # Raised after the transaction, which keeps a move to "expired".
    if not moved:
        raise Rejected("this request has ended or expired; start a new session")

    log.info(
        "Session %s: the wallet responded with error %r",
        session_label(session["id"]),
        error,
    )
    return jsonify({}), 200


def _verify_response(
    app: Flask,
    db,
    session: dict,
    vp_token: Any,
    issuer_keys: dict[str, list[dict]],
    moment: datetime,
) -> Outcome:
    data = session["data"]
    lifetime = int((moment - session["created_at"]).total_seconds())

    def first_use(presentation: str) -> bool:
        return _consume_once(db, "presentation", presentation, session, moment)

    return verify_vp_token(
        vp_token,
        query=data["dcql_query"],
        issuer_keys=issuer_keys,
        nonce=session["nonce"],
        client_id=data["client_id"],
        now=int(moment.timestamp()),
        iat_window=(lifetime + sdjwt.TIME_SKEW, sdjwt.TIME_SKEW),
        fetch=lambda uri: fetch_status_list(app, uri),
        first_use=first_use,
    )


def _consume_once(db, kind: str, value: str, session: dict, moment: datetime) -> bool:
    """Use a single-use value of the session, and record a replay in the audit trail."""
    with db.transaction():
        fresh = db.consume_once(kind, value, session_id=session["id"], now=moment)
        if not fresh:
            audit.record(
                db,
                "presentation.replayed",
                subject=audit.session_subject(session["id"]),
                actor="wallet",
                data={"kind": kind},
            )
    return fresh


def _record_outcome(db, session: dict, outcome: Outcome, moment: datetime) -> None:
    session_id = session["id"]
    with db.transaction():
        for line in outcome.report:
            db.add_evidence(session_id, "check", line, moment)
        if outcome.issuer_keys:
            db.add_evidence(session_id, "issuer_keys", outcome.issuer_keys, moment)
        for token in outcome.status_tokens:
            db.add_evidence(session_id, "status_token", {"token": token}, moment)
        _audit_response(db, session, outcome.report, verified=outcome.verified)


def _audit_response(
    db, session: dict, lines: list[dict], *, verified: bool, error: str | None = None
) -> None:
    """Record the response and one event per check line, in the caller's transaction."""
    subject = audit.session_subject(session["id"])
    received = {
        "response_mode": session["data"]["response_mode"],
        "bytes": len(request.get_data(cache=True)),
        "verified": verified,
        "error": None if error is None else error[:MAX_AUDIT_ERROR_LENGTH],
    }
    audit.record(
        db, "presentation.received", subject=subject, actor="wallet", data=received
    )
    for line in lines:
        data, personal = dict(line), None
        if not line["passed"] and line["check"] not in VALUE_FREE_FAILURES:
            data["reason"], personal = None, {"reason": line["reason"]}
        audit.record(
            db,
            "check.result",
            subject=subject,
            actor="wallet",
            data=data,
            personal=personal,
        )


def _finish(
    db, session: dict, outcome: Outcome, moment: datetime
) -> tuple[Response, int]:
    label = session_label(session["id"])
    if outcome.verified:
        result = {
            "status": "verified",
            "claims": outcome.claims,
            "report": outcome.report,
        }
    else:
        result = {"status": "failed", "report": outcome.report}
    moved = db.transition(
        session["id"],
        from_states={"submitted"},
        to=result["status"],
        now=moment,
        detail={"failed_checks": outcome.failed_checks},
        result=result,
    )
    if not moved:
        raise Rejected("the session ended while the response was checked")

    if outcome.verified:
        log.info("Session %s: presentation verified", label)
        return jsonify({}), 200
    failed = ", ".join(outcome.failed_checks)
    log.warning(
        "Session %s: rejected the presentation: failed checks %s", label, failed
    )
    return wallet_error(f"the presentation was rejected: failed checks {failed}")
