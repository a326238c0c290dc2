"""The endpoint the citizen's page calls to redeem a voucher: an application.

``POST /api/v1/applications`` takes the verified presentation of an
application step's wallet session: the voucher of a check step, and the
credentials the check read its inputs from. It checks that the voucher is
eligible, of this check and not redeemed before. It then recomputes the
check with the rules the voucher names (pinned by SHA-256), compares the
two, and stores the application with its own copy of the evidence for a
consultant's review. A difference between voucher and recomputation does
not stop the application: the consultant sees it. docs/application-step.md
describes the contract and the record.
"""

from __future__ import annotations

import json
import logging
import secrets
import uuid
from datetime import datetime
from typing import NoReturn

from flask import Blueprint, Response, abort, current_app, jsonify
from werkzeug.exceptions import Conflict, HTTPException, UnprocessableEntity

from stappen import (
    apiconfig,
    apierrors,
    applicationstep,
    audit,
    outcomes,
    presentations,
    storage,
)
from stappen.applicationstep import VOUCHER_QUERY_ID, ApplicationSettings
from stappen.checking import LoadedRules, load_rules
from stappen.checkstep import ELIGIBLE, CheckSettings
from stappen.references import new_reference
from stappen.rules import DmnError, load_dmn_bytes
from stappen.sessions import json_body, request_language
from stappen.storage import IntegrityError, NewApplication
from stappen.storage.applications import secret_hash
from stappen.storage.errors import session_label

log = logging.getLogger(__name__)

blueprint = Blueprint("applying", __name__, url_prefix="/api/v1/applications")

REQUEST_FIELDS = ("flow", "step", "presentation", "lang")
RECORD_VERSION = 1
REFERENCE_ATTEMPTS = 5
"""New references to try when one exists already; 32**8 makes a clash rare."""
SECRET_BYTES = 24


class VoucherNotEligible(UnprocessableEntity):
    """A voucher whose outcome is not eligible: there is nothing to apply for."""

    name = "Voucher Not Eligible"


class VoucherRedeemed(Conflict):
    """A voucher that made an application before."""

    name = "Voucher Redeemed"


class VoucherRulesUnknown(UnprocessableEntity):
    """A voucher computed with rules that are neither stored nor current."""

    name = "Voucher Rules Unknown"


apierrors.register_config_error(blueprint, log, "Applications cannot be made")


@blueprint.post("")
def create_application() -> tuple[Response, int]:
    """Redeem the voucher of a verified presentation as a new application."""
    app = current_app._get_current_object()
    body = json_body(REQUEST_FIELDS)
    flow, step = presentations.requested_step(app, body, "application", _reject)
    request_language(flow, body)
    settings = applicationstep.read_settings(flow, step)
    check = applicationstep.check_settings(flow, settings)
    moment = apiconfig.now(app)

    session = presentations.verified_presentation(
        flow, step.id, body.get("presentation"), APPLICATION_USE
    )
    result = presentations.take_result(session, moment, APPLICATION_USE)
    claims = result.get("claims", {})
    voucher = _voucher_claims(check, claims, session)
    rules = _pinned_rules(app, settings, check, voucher, session)

    snap = outcomes.snapshot(flow.id, settings.check, check, rules.model.sha256)
    recomputed = _recompute(snap, claims, rules, session)
    comparison = outcomes.compare(voucher, recomputed, recomputed["used"])
    record = {
        "version": RECORD_VERSION,
        "presentation": _presentation_record(session, result),
        "claims": claims,
        "voucher": voucher,
        "check": snap.to_dict(),
        "recomputed": recomputed,
        "comparison": comparison,
    }
    created = _store(flow, step, settings, session, record, moment)
    response = jsonify(created)
    response.headers["Cache-Control"] = "no-store"
    return response, 201


# Checking the voucher.


def _voucher_claims(check: CheckSettings, claims: dict, session: dict) -> dict:
    """Return the claims of the presented voucher, once it is one of this check."""
    vouchers = claims.get(VOUCHER_QUERY_ID) or []
    if not vouchers:
        _reject(422, "the presentation has no voucher; share your voucher", session)
    voucher = vouchers[0]
    expected = check.voucher
    if voucher["vct"] != expected.vct or voucher["issuer"] != expected.issuer:
        _reject(
            422,
            f"the voucher is of type {voucher['vct']!r} from {voucher['issuer']!r}; "
            f"this step redeems {expected.vct!r} from {expected.issuer!r}",
            session,
        )

    values = voucher["claims"]
    if values.get("regeling") != check.decision:
        _reject(
            422,
            f"the voucher is for {values.get('regeling')!r}, not for "
            f"{check.decision!r}; share the voucher of this scheme",
            session,
        )
    if values.get("uitkomst") != ELIGIBLE:
        _reject(
            422,
            f"this voucher says not eligible (uitkomst {values.get('uitkomst')!r}),"
            " so there is nothing to apply for",
            session,
            VoucherNotEligible,
        )
    return values


def _pinned_rules(app, settings, check, voucher: dict, session: dict) -> LoadedRules:
    """Return the rules the voucher was computed with, by their SHA-256.

    A stored rule table comes first; the check step's current file is used
    when its SHA-256 is the voucher's. Any other voucher is rejected.
    """
    sha256 = voucher.get("regels_sha256")
    if not isinstance(sha256, str):
        _reject(422, "the voucher names no rules (regels_sha256)", session)
    pinned = app.extensions.setdefault("stappen.pinned_rules", {})
    if sha256 in pinned:
        return pinned[sha256]

    rules = _stored_rules(sha256, session)
    if rules is None:
        rules = _current_rules(app, check, session)
    if rules.model.sha256 != sha256:
        _reject(
            422,
            f"the voucher names rules with SHA-256 {sha256!r}, which are neither "
            f"stored nor those of check step {settings.check!r} "
            f"({rules.model.sha256}); get a new voucher at that step",
            session,
            VoucherRulesUnknown,
        )
    pinned[sha256] = rules
    return rules


def _stored_rules(sha256: str, session: dict) -> LoadedRules | None:
    table = storage.request_connection().rule_table(sha256)
    if table is None:
        return None
    try:
        model = load_dmn_bytes(table["content"], table["name"])
    except DmnError as error:
        _reject(422, f"stored rules {sha256[:12]}: {error.message}", session)
    return LoadedRules(table["name"], table["content"], model)


def _current_rules(app, check: CheckSettings, session: dict) -> LoadedRules:
    try:
        return load_rules(app, check)
    except DmnError as error:
        _reject(422, f"the check's rules: {error.message}", session)


def _recompute(snap, claims: dict, rules: LoadedRules, session: dict) -> dict:
    try:
        return outcomes.recompute(snap, claims, rules.model)
    except outcomes.MissingClaim as error:
        _reject(422, str(error), session)
    except DmnError as error:
        _reject(422, f"recomputing the check failed: {error.message}", session)


# The record.


def _presentation_record(session: dict, result: dict) -> dict:
    """Return the evidence of the presentation, as the application keeps it."""
    data = session["data"]
    evidence = storage.request_connection().evidence_for(session["id"])
    responses = [item for item in evidence if item["kind"] == "vp_token"]
    issuer_keys: dict[str, list] = {}
    for item in evidence:
        if item["kind"] == "issuer_keys":
            issuer_keys.update(item["data"])
    return {
        "created_at": _iso(session["created_at"]),
        "presented_at": _iso(responses[-1]["created_at"]) if responses else None,
        "client_id": data.get("client_id"),
        "nonce": session.get("nonce"),
        "response_mode": data.get("response_mode"),
        "dcql_query": data.get("dcql_query"),
        "trusted_issuers": data.get("trusted_issuers"),
        "vp_token": _vp_token(responses[-1]["data"]) if responses else None,
        "issuer_keys": issuer_keys,
        "status_tokens": [
            item["data"]["token"] for item in evidence if item["kind"] == "status_token"
        ],
        "report": [item["data"] for item in evidence if item["kind"] == "check"]
        or result.get("report", []),
    }


def _vp_token(data: dict):
    value = data.get("vp_token")
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


# Storing.


def _store(flow, step, settings: ApplicationSettings, session, record, moment):
    """Store the application and its audit event; return the 201 response body.

    The voucher is redeemed in the same transaction, so a voucher makes one
    application even when two presentations of it arrive at once.
    """
    db = storage.request_connection()
    voucher = record["voucher"]
    secret = secrets.token_urlsafe(SECRET_BYTES)
    matches = all(line["equal"] for line in record["comparison"])
    for _ in range(REFERENCE_ATTEMPTS):
        new = NewApplication(
            id=uuid.uuid4().hex,
            reference=new_reference(settings.reference_prefix),
            secret_hash=secret_hash(secret),
            municipality=settings.municipality,
            flow=flow.id,
            step=step.id,
            scheme=voucher["regeling"],
            amount=record["recomputed"]["amount"],
            outcome_matches=matches,
            presentation_session=session["id"],
            record=record,
        )
        stored = _insert(db, new, session, moment)
        if stored is not None:
            break
    else:
        log.error("Session %s: no free application reference", _label(session))
        abort(503, description="no free application reference; try again")
    if not stored:
        _reject(
            409,
            f"this voucher was redeemed before (voucher {voucher['besluit_id']!r}); "
            "an application for it exists already",
            session,
            VoucherRedeemed,
        )

    log.info(
        "Session %s: application %s made at step %r of flow %r, outcome %s",
        _label(session),
        new.reference,
        step.id,
        flow.id,
        "matches" if matches else "differs",
    )
    return {
        "reference": new.reference,
        "secret": secret,
        "status": "submitted",
        "scheme": new.scheme,
        "outcome_matches": matches,
    }


def _insert(db, new: NewApplication, session: dict, moment: datetime) -> bool | None:
    """Redeem the voucher and insert the application in one transaction.

    Returns True when stored, False when the voucher was redeemed before,
    and None when the reference exists already.
    """
    voucher_id = str(new.record["voucher"]["besluit_id"])
    try:
        with db.transaction():
            if not db.consume_once(
                "voucher", voucher_id, session_id=session["id"], now=moment
            ):
                return False
            db.create_application(new, now=moment)
            _audit_created(db, new, session)
    except IntegrityError:
        if db.application_by_reference(new.reference) is None:
            raise
        return None
    return True


def _audit_created(db, new: NewApplication, session: dict) -> None:
    record = new.record
    audit.record(
        db,
        "application.created",
        subject=new.id,
        actor="citizen",
        data={
            "reference": new.reference,
            "scheme": new.scheme,
            "flow": new.flow,
            "step": new.step,
            "municipality": new.municipality,
            "outcome_matches": new.outcome_matches,
            "presentation": audit.session_subject(session["id"]),
            "voucher_id": record["voucher"]["besluit_id"],
            "rules_sha256": record["check"]["sha256"],
            "differing_fields": [
                line["field"] for line in record["comparison"] if not line["equal"]
            ],
            "digests": record["recomputed"]["used"],
        },
    )


def _label(session: dict) -> str:
    return session_label(session["id"])


def _reject(
    status: int,
    reason: str,
    session: dict | None = None,
    error: type[HTTPException] | None = None,
) -> NoReturn:
    """Log and abort with ``status``, or raise ``error``, whose code is ``status``.

    ``error`` names the response body's error code, which the citizen's page
    turns into words.
    """
    owner = "no session" if session is None else session_label(session["id"])
    log.warning("Rejected an application (%s): %s", owner, reason)
    if error is not None:
        raise error(description=reason)
    abort(status, description=reason)


APPLICATION_USE = presentations.PresentationUse(
    kind="application",
    user="this application",
    once="makes one application",
    again="share your voucher again",
    reject=_reject,
)
