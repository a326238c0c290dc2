"""The token and nonce endpoints: a pre-authorized code for an access token."""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import datetime, timedelta

from flask import Response, jsonify, request

from stappen import jose
from stappen.issuer.blueprint import (
    ACCESS_TOKEN_LIFETIME,
    C_NONCE_LIFETIME,
    C_NONCE_TYP,
    CODE_STATES,
    MAX_TX_CODE_ATTEMPTS,
    NONCE_PATH,
    PRE_AUTHORIZED_GRANT,
    TOKEN_PATH,
    IssuerError,
    add_evidence,
    blueprint,
    current_time,
    db_connection,
    epoch_millis,
    no_store,
    signing_key,
)
from stappen.issuer.credentials import without_claim_values
from stappen.issuer.offers import tx_code_hash

log = logging.getLogger(__name__)


# The token endpoint.


@blueprint.post(TOKEN_PATH)
def token():
    form = _token_form()
    db, now = db_connection(), current_time()
    code = form["pre-authorized_code"]
    session = db.get_session_by("pre_authorized_code", code)
    if session is None or session["purpose"] != "issue":
        raise IssuerError(
            "invalid_grant",
            "the pre-authorized code is unknown; scan the QR code on the page again",
        )

    _check_code_usable(session, now)
    _check_tx_code(db, session, code, form.get("tx_code"), now)
    if not db.consume_once(
        "pre-authorized_code", code, session_id=session["id"], now=now
    ):
        raise _code_used(session)
    return _grant_access_token(db, session, now)


def _token_form() -> dict:
    if request.mimetype != "application/x-www-form-urlencoded":
        raise IssuerError(
            "invalid_request",
            f"the token request has Content-Type {request.mimetype!r}; send "
            "it as application/x-www-form-urlencoded",
        )
    form = request.form
    grant_type = form.get("grant_type")
    if grant_type != PRE_AUTHORIZED_GRANT:
        raise IssuerError(
            "unsupported_grant_type",
            f"grant_type {grant_type!r} is not supported; use {PRE_AUTHORIZED_GRANT}",
        )
    if not form.get("pre-authorized_code"):
        raise IssuerError(
            "invalid_request",
            "pre-authorized_code is missing; copy it from the credential offer",
        )
    return form


def _check_code_usable(session: dict, now: datetime) -> None:
    if session["state"] not in CODE_STATES:
        raise _code_used(session)

    expires_at = min(
        epoch_millis(session["expires_at"]), session["data"].get("code_expires_at", 0)
    )
    if epoch_millis(now) >= expires_at:
        raise IssuerError(
            "invalid_grant",
            "the pre-authorized code has expired; scan a new QR code on the page",
            session_id=session["id"],
        )


def _code_used(session: dict) -> IssuerError:
    return IssuerError(
        "invalid_grant",
        f"the pre-authorized code was used before or its session is "
        f"{session['state']}; a code works once, so scan a new QR code",
        session_id=session["id"],
    )


def _check_tx_code(db, session: dict, code: str, tx_code, now: datetime) -> None:
    expected = session["data"].get("tx_code_hash")
    session_id = session["id"]
    if expected is None:
        if tx_code is not None:
            raise IssuerError(
                "invalid_request",
                "this offer has no transaction code; leave tx_code out",
                session_id=session_id,
            )
        return

    if not tx_code:
        raise IssuerError(
            "invalid_request",
            "tx_code is missing; type the code shown on the page",
            session_id=session_id,
        )
    if hmac.compare_digest(tx_code_hash(code, tx_code), expected):
        return
    _reject_tx_code(db, session, now)


def _reject_tx_code(db, session: dict, now: datetime) -> None:
    session_id = session["id"]
    attempts = db.count_attempt(session_id, "tx_code")
    left = MAX_TX_CODE_ATTEMPTS - attempts
    if left > 0:
        raise IssuerError(
            "invalid_grant",
            f"the transaction code is wrong; {left} attempt(s) left",
            session_id=session_id,
        )

    db.transition(
        session_id,
        from_states=CODE_STATES,
        to="failed",
        now=now,
        data=without_claim_values(session["data"]),
        detail={"reason": f"tx_code wrong {attempts} times"},
    )
    raise IssuerError(
        "invalid_grant",
        f"the transaction code was wrong {attempts} times, so this offer is "
        "cancelled; start again on the page",
        session_id=session_id,
    )


def _grant_access_token(db, session: dict, now: datetime) -> Response:
    access_token = secrets.token_urlsafe(32)
    lifetime = timedelta(seconds=ACCESS_TOKEN_LIFETIME)
    expires_at = min(now + lifetime, session["expires_at"])
    data = {**session["data"], "access_token_expires_at": epoch_millis(expires_at)}
    moved = db.transition(
        session["id"],
        from_states=CODE_STATES,
        to="submitted",
        now=now,
        access_token=access_token,
        data=data,
        detail={"event": "access token granted"},
    )
    if not moved:
        raise _code_used(db.get_session(session["id"]))

    add_evidence(
        db, session["id"], "token_granted", {"expires_at": epoch_millis(expires_at)}
    )
    seconds = max(1, int((expires_at - now).total_seconds()))
    body = {"access_token": access_token, "token_type": "Bearer", "expires_in": seconds}
    return no_store(jsonify(body))


# The nonce endpoint.


@blueprint.post(NONCE_PATH)
def nonce():
    """Hand out a c_nonce: a short token signed by the issuer, stored when used.

    Signing instead of storing lets this unauthenticated endpoint work
    without a database write. The credential endpoint checks the signature
    and the expiry, and stores the hash of each c_nonce it accepts
    (``consume_once``), so that a c_nonce works once.
    """
    issued_at = int(current_time().timestamp())
    claims = {
        "iat": issued_at,
        "exp": issued_at + C_NONCE_LIFETIME,
        "jti": secrets.token_urlsafe(16),
    }
    c_nonce = jose.sign(claims, signing_key(), typ=C_NONCE_TYP)
    return no_store(jsonify(c_nonce=c_nonce))
