"""The endpoints the citizen's decision page calls: status and decision offer.

The citizen has the application's reference and the secret that the
application endpoint returned once. Every request sends the secret as
``Authorization: Bearer <secret>``; an unknown reference and a wrong secret
get the same 404, so the endpoints do not tell which references exist.

- ``GET /api/v1/applications/<reference>``: the status and, once decided,
  the decision;
- ``POST /api/v1/applications/<reference>/decision-offer``: once decided,
  an OpenID4VCI offer of the decision credential through the pilot issuer,
  as an issuing session that the page follows with the wallet-session
  status endpoint.

Each offer request makes a new offer, also after the wallet has collected
the credential, because a first offer may have expired or the citizen may
need the decision in another wallet. A new offer cancels the earlier one
while no wallet has redeemed it yet, so the decision's
``credential_session`` is the one offer that can still be collected. While
a wallet holds an access token for the earlier offer, a new request gets a
409. docs/decision-step.md describes the contract.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import NoReturn
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request

from stappen import apiconfig, audit, decisionstep, issuer, storage
from stappen.model import Flow, Step
from stappen.qr import qr_svg
from stappen.references import ALPHABET, normalize_reference
from stappen.sessions import (
    POLL_AFTER_MS,
    json_body,
    new_session,
    request_language,
    store_new_session,
)
from stappen.storage.errors import session_label

log = logging.getLogger(__name__)

blueprint = Blueprint("deciding", __name__, url_prefix="/api/v1/applications")

OFFER_FIELDS = ("lang",)
REFERENCE_PATTERN = re.compile(rf"[A-Z]{{1,8}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}")
"""A reference as stored. Other text, such as one with a NUL, is not looked up."""
ORIGIN_DECISION = "besluit"
"""The ``herkomst`` claim of a decision credential."""
DECISION_TIME_ZONE = ZoneInfo("Europe/Amsterdam")
"""The zone of the day in ``besloten_op``: the municipality's own."""
REDEEMABLE_STATES = frozenset({"created", "request_retrieved"})
"""States of an offer session whose pre-authorized code no wallet used yet."""
DECISION_QR_LABEL = {
    "nl": "QR-code: scan deze met uw wallet-app om het besluit op te halen",
    "en": "QR code: scan it with your wallet app to collect the decision",
}


@blueprint.get("/<reference>")
def application_status(reference: str) -> Response:
    """Return an application's status and, once decided, its decision."""
    application = _citizen_application(reference)
    decision = application["decision"]
    body = {
        "reference": application["reference"],
        "status": application["status"],
        "scheme": application["scheme"],
        "submitted_at": _iso(application["created_at"]),
        "decision": None if decision is None else _decision_body(decision),
    }
    return _no_store(jsonify(body))


def _decision_body(decision: dict) -> dict:
    return {
        "outcome": decision["outcome"],
        "motivation": decision["motivation"],
        "amount": decision["amount"],
        "decided_at": _iso(decision["decided_at"]),
        "credential_issued": decision["credential_issued_at"] is not None,
    }


@blueprint.post("/<reference>/decision-offer")
def offer_decision(reference: str) -> tuple[Response, int]:
    """Offer the decision as a credential, through a new issuing session."""
    app = current_app._get_current_object()
    body = json_body(OFFER_FIELDS) if request.content_length else {}
    application = _citizen_application(reference)
    flow, step = _decision_step(app, application)
    lang = request_language(flow, body)
    if application["decision"] is None:
        _reject(
            409,
            f"application {reference} is not decided yet; ask again once its "
            "status is granted or rejected",
        )

    moment = apiconfig.now(app)
    credential = decisionstep.read_settings(flow, step).credential
    offer_settings = credential.issue_settings()
    credentials = {
        credential.id: {
            "vct": credential.vct,
            "claims": decision_claims(application),
            "origin": ORIGIN_DECISION,
        }
    }
    source = {"decision": step.id, "application": application["id"]}
    fields, wallet_url = issuer.prepare_offer(
        app, offer_settings, credentials, source, lang, moment
    )
    session = new_session(flow, step, offer_settings, moment, fields, lang)
    _store_offer(application, session, credential.id, moment)

    label = DECISION_QR_LABEL.get(lang, DECISION_QR_LABEL["en"])
    offer = {
        "transaction_id": session["id"],
        "wallet_url": wallet_url,
        "qr_svg": qr_svg(wallet_url, label=label),
        "expires_at": int(session["expires_at"].timestamp()),
        "poll_after_ms": POLL_AFTER_MS,
    }
    return _no_store(jsonify(offer)), 201


def decision_claims(application: dict) -> dict:
    """Return the claims of the decision credential, in decisionstep.DECISION_CLAIMS."""
    decision = application["decision"]
    voucher = (application["record"] or {}).get("voucher") or {}
    decided_on = decision["decided_at"].astimezone(DECISION_TIME_ZONE).date()
    return {
        "referentie": application["reference"],
        "regeling": application["scheme"],
        "besluit": decisionstep.DECISION_WORDS[decision["outcome"]],
        "bedrag": decision["amount"],
        "motivering": decision["motivation"],
        "besloten_op": decided_on.isoformat(),
        "gemeente": application["municipality"],
        "regels_versie": voucher.get("regels_versie"),
        "regels_sha256": voucher.get("regels_sha256"),
        "voucher_id": voucher.get("besluit_id"),
    }


def note_issued(db, session: dict, now: datetime) -> None:
    """Record on its application that a wallet collected a decision credential.

    The pilot issuer calls this inside the transaction that records the
    issued credential, for a session whose source names an application.
    """
    application_id = db.note_decision_issued(session["id"], now=now)
    if application_id is None:
        log.warning(
            "Session %s issued a decision credential, but no decision offers "
            "it any more; application %s keeps its earlier issue time",
            session_label(session["id"]),
            session["data"]["source"]["application"],
        )
        return
    audit.record(
        db,
        "decision_credential.issued",
        subject=application_id,
        actor="wallet",
        data={"session": audit.session_subject(session["id"])},
    )
    log.info(
        "Session %s: decision credential of application %s collected",
        session_label(session["id"]),
        application_id,
    )


# Reading the request.


def _citizen_application(reference: str) -> dict:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        log.warning("Rejected a request for an application: no bearer secret")
        response = jsonify(
            error="unauthorized",
            message="send the application's secret as 'Authorization: Bearer "
            "<secret>', as the application endpoint returned it",
        )
        response.status_code = 401
        response.headers["WWW-Authenticate"] = "Bearer"
        abort(response)

    reference = normalize_reference(reference)
    application = None
    if REFERENCE_PATTERN.fullmatch(reference):
        db = storage.request_connection()
        application = db.citizen_application(reference, secret.strip())
    if application is None:
        _reject(
            404,
            "application not found, or the secret does not match it; check "
            "the reference and the code",
        )
    return application


def _decision_step(app: Flask, application: dict) -> tuple[Flow, Step]:
    flow = app.extensions["stappen.flows"].get(application["flow"])
    step = None
    if flow is not None:
        step = decisionstep.decision_step_for(flow, application["step"])
    if step is None:
        log.error(
            "Application %s: flow %r has no decision step for application "
            "step %r; restore that step in the flow",
            application["id"],
            application["flow"],
            application["step"],
        )
        _reject(
            409,
            f"the portal shows no decisions for application step "
            f"{application['step']!r} of flow {application['flow']!r}; "
            "contact the municipality",
        )
    return flow, step


# Storing the offer.


def _store_offer(application, session, configuration_id, moment) -> None:
    """Store the offer session, the decision's offer and its audit event at once."""
    db = storage.request_connection()
    with db.transaction():
        _cancel_earlier_offer(db, application, moment)
        store_new_session(db, session)
        db.note_decision_offer(application["id"], session["id"], now=moment)
        audit.record(
            db,
            "decision_credential.offered",
            subject=application["id"],
            actor="citizen",
            data={
                "session": audit.session_subject(session["id"]),
                "credential_configuration_id": configuration_id,
                "outcome": application["decision"]["outcome"],
            },
        )
    log.info(
        "Session %s: decision of application %s offered",
        session_label(session["id"]),
        application["id"],
    )


def _cancel_earlier_offer(db, application: dict, moment: datetime) -> None:
    earlier_id = application["decision"]["credential_session"]
    earlier = db.get_session(earlier_id) if earlier_id else None
    if earlier is None:
        return
    if earlier["state"] in REDEEMABLE_STATES:
        db.transition(
            earlier_id,
            from_states=REDEEMABLE_STATES,
            to="cancelled",
            now=moment,
            detail={"reason": "replaced by a new decision offer"},
        )
        earlier = db.get_session(earlier_id)
    if earlier["state"] == "submitted" and earlier["expires_at"] > moment:
        _reject(
            409,
            "a wallet is collecting the decision from the earlier offer right "
            "now; wait until it is done, then ask again",
        )


def _reject(status: int, reason: str) -> NoReturn:
    # %r, because the path is the client's and may contain a line break.
    log.warning("Rejected a request to %r: %s", request.path, reason)
    abort(status, description=reason)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
