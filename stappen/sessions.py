"""The endpoints the citizen's page calls to run a wallet step.

The page creates a session for a wallet step, shows its QR code, polls its
status until it ends and then takes the result once. The transaction id is
a bearer secret because it gives access to the session. So every unknown
or wrong id gets the same 404, and logs show only its first characters.
docs/wallet-api.md describes the contract.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import math
import secrets
from datetime import datetime, timedelta
from types import ModuleType
from typing import NoReturn

import click
from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests

from stappen import (
    apiconfig,
    apierrors,
    applicationstep,
    audit,
    jose,
    storage,
    verifier,
)
from stappen.model import Flow, Step
from stappen.qr import qr_svg
from stappen.storage import END_STATES
from stappen.storage.base import to_millis
from stappen.storage.errors import session_label
from stappen.walletstep import IssueSettings, WalletStepSettings, read_settings

log = logging.getLogger(__name__)

blueprint = Blueprint(
    "wallet_sessions",
    __name__,
    url_prefix="/api/v1/wallet-sessions",
    cli_group="sessions",
)

POLL_AFTER_MS = 1000
"""How often the page may poll a session's status, in milliseconds."""

CANCEL_ATTEMPTS = 3
"""Tries to cancel a session whose state changes at the same moment."""

REQUEST_FIELDS = ("flow", "step", "lang", "persona", "answers")
WALLET_KINDS = ("wallet", "application")
"""The kinds of step whose page runs wallet sessions."""

SESSION_NOT_FOUND = (
    "wallet session not found; start a new one with POST /api/v1/wallet-sessions"
)

QR_LABELS = {
    "present": {
        "nl": "QR-code: scan deze met uw wallet-app om uw gegevens te delen",
        "en": "QR code: scan it with your wallet app to share your data",
    },
    "issue": {
        "nl": "QR-code: scan deze met uw wallet-app om uw gegevens op te halen",
        "en": "QR code: scan it with your wallet app to collect your data",
    },
}
"""The QR code's accessible name by purpose and language; English for
languages without a label."""


apierrors.register_config_error(blueprint, log, "Wallet sessions cannot start")


# Creating a session


@blueprint.post("")
def create_session() -> tuple[Response, int]:
    """Start a session for a wallet step and return its wallet URL and QR code."""
    app = current_app._get_current_object()
    body = json_body()
    flow, step = _wallet_step(app, body)
    lang = request_language(flow, body)
    _check_issue_inputs(body)
    settings = _session_settings(flow, step)
    moment = apiconfig.now(app)
    _check_open_sessions(app, moment)

    fields, wallet_url = _prepare(app, flow, step, settings, moment, body)
    # The issuer returns the transaction code to show the citizen with the
    # fields; it is no session column.
    tx_code = fields.pop("tx_code", None)
    session = new_session(flow, step, settings, moment, fields, lang)
    store_new_session(storage.request_connection(), session)
    log.info(
        "Session %s: created for step %r of flow %r",
        session_label(session["id"]),
        step.id,
        flow.id,
    )

    label = QR_LABELS[settings.purpose].get(lang, QR_LABELS[settings.purpose]["en"])
    created = {
        "transaction_id": session["id"],
        "wallet_url": wallet_url,
        "qr_svg": qr_svg(wallet_url, label=label),
        "expires_at": _epoch(session["expires_at"]),
        "poll_after_ms": POLL_AFTER_MS,
    }
    if tx_code is not None:
        created["tx_code"] = tx_code
    return _no_store(jsonify(created)), 201


def _check_open_sessions(app: Flask, moment: datetime) -> None:
    """Reject a new session with 503 while STAPPEN_MAX_OPEN_SESSIONS are open."""
    limit = apiconfig.max_open_sessions(app)
    found = storage.request_connection().open_sessions(moment)
    if found.count < limit:
        return

    # NOTE: the count and the insert are separate transactions, so requests
    # that race can open a few sessions more than the limit.
    # The first open session to expire frees a place at the latest.
    wait = math.ceil((found.first_expiry - moment).total_seconds())
    log.warning(
        "Rejected a new wallet session: %d sessions are open, the limit is %d",
        found.count,
        limit,
    )
    raise ServiceUnavailable(
        description=f"{found.count} wallet sessions are open, the maximum; try "
        "again later",
        retry_after=max(1, wait),
    )


def json_body(fields: tuple[str, ...] = REQUEST_FIELDS) -> dict:
    """Read the request's JSON object, rejecting any field not in ``fields``."""
    if request.mimetype != "application/json":
        got = request.mimetype or "no Content-Type"
        _bad_request(
            f"expected a JSON body (Content-Type application/json), got {got!r}"
        )
    try:
        body = jose.loads_json(request.get_data())
    except (ValueError, UnicodeDecodeError) as error:
        _bad_request(f"the body is not valid JSON: {error}")

    if not isinstance(body, dict):
        _bad_request('expected a JSON object such as {"flow": "vil", "step": "..."}')
    unknown = sorted(set(body) - set(fields))
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        _bad_request(f"unknown fields {names}; expected {', '.join(fields)}")
    return body


def _wallet_step(app: Flask, body: dict) -> tuple[Flow, Step]:
    flow_id, step_id = body.get("flow"), body.get("step")
    if not isinstance(flow_id, str) or not isinstance(step_id, str):
        _bad_request("fields flow and step are required and must be texts (ids)")

    flow = app.extensions["stappen.flows"].get(flow_id)
    if flow is None:
        _bad_request(f"flow {flow_id!r} not found")
    step = flow.steps.get(step_id)
    if step is None:
        _bad_request(f"flow {flow_id!r} has no step {step_id!r}")
    if step.kind not in WALLET_KINDS:
        _bad_request(
            f"step {step_id!r} of flow {flow_id!r} is a {step.kind} step; "
            "wallet sessions are for wallet and application steps"
        )
    return flow, step


def _session_settings(flow: Flow, step: Step) -> WalletStepSettings:
    """Return the wallet request or credential offer of a session of ``step``."""
    if step.kind == "application":
        settings = applicationstep.read_settings(flow, step)
        return applicationstep.present_settings(flow, settings)
    return read_settings(step)


def request_language(flow: Flow, body: dict) -> str:
    """Return the request's ``lang``, by default the flow's; 400 for another."""
    lang = body.get("lang", flow.default_language)
    if lang not in flow.languages:
        _bad_request(
            f"lang {lang!r} is not a language of flow {flow.id!r}; use one of "
            f"{', '.join(flow.languages)}"
        )
    return lang


def _check_issue_inputs(body: dict) -> None:
    """Check the types of the inputs that only an issuing step uses."""
    if "persona" in body and not isinstance(body["persona"], str):
        _bad_request("persona must be a text: the id of a pilot persona")
    if "answers" in body and not isinstance(body["answers"], dict):
        _bad_request("answers must be a JSON object of step id to answer")


def _prepare(
    app: Flask,
    flow: Flow,
    step: Step,
    settings: WalletStepSettings,
    moment: datetime,
    body: dict,
) -> tuple[dict, str]:
    if isinstance(settings, IssueSettings):
        issuer = _issuer_module()
        return issuer.prepare_issuance(app, flow, step, settings, moment, body)
    return verifier.prepare(app, flow, step, settings, moment)


def _issuer_module() -> ModuleType:
    # Imported on use: the issuer is built alongside this module, and a
    # missing one must not stop the presenting steps from working.
    try:
        return importlib.import_module("stappen.issuer")
    except ModuleNotFoundError as error:
        if error.name != "stappen.issuer":
            raise
        log.error("Rejected a new issuing session: stappen.issuer is missing")
        abort(501, description="issuing credentials is not available in this API")


def new_session(
    flow: Flow,
    step: Step,
    settings: WalletStepSettings,
    moment: datetime,
    fields: dict,
    lang: str,
) -> dict:
    """Return a new session of ``step``, with a fresh transaction id, to store."""
    session = {
        "id": secrets.token_urlsafe(32),
        "flow": flow.id,
        "step": step.id,
        "purpose": settings.purpose,
        "created_at": moment,
        "expires_at": moment + timedelta(seconds=settings.expires_in),
    }
    session.update(fields)
    session["data"] = {**fields.get("data", {}), "lang": lang}
    return session


def store_new_session(db, session: dict) -> None:
    """Insert a new session and record it in the audit trail, in one transaction.

    An issuing session also records its credential offer. The events name
    the session by audit.session_subject and contain none of its secrets.
    """
    subject = audit.session_subject(session["id"])
    data = session["data"]
    with db.transaction():
        db.create_session(session)
        created = {
            "flow": session["flow"],
            "step": session["step"],
            "purpose": session["purpose"],
            "response_mode": data.get("response_mode"),
        }
        audit.record(
            db, "wallet_session.created", subject=subject, actor="citizen", data=created
        )
        if session["purpose"] == "issue":
            audit.record(
                db,
                "credential_offer.created",
                subject=subject,
                actor="citizen",
                data=_offer_audit_data(data),
            )


def _offer_audit_data(data: dict) -> dict:
    source = data.get("source", {})
    return {
        "credential_configuration_ids": list(
            data["offer"]["credential_configuration_ids"]
        ),
        "tx_code": "tx_code_hash" in data,
        "source": sorted(name for name in source if name != "check_id"),
        "check_id": source.get("check_id"),
    }


# Following a session


@blueprint.get("/<transaction_id>/status")
def session_status(transaction_id: str) -> Response:
    """Return the session's state; polls less than POLL_AFTER_MS apart get 429."""
    # Polls are the most frequent request. An early one is rejected before
    # the database is asked, and an allowed one is mostly served from the
    # host's copy of the session's state (see storage/polltimes.py). The
    # app is taken from its proxy once, which saves about 2 µs per poll.
    app = current_app._get_current_object()
    now_ms = apiconfig.now_ms(app)
    poll_times = storage.app_store(app).poll_times
    poll = poll_times.record(transaction_id, now_ms, POLL_AFTER_MS)
    if poll.wait_ms is not None:
        log.warning(
            "Session %s: rejected a status poll %d ms early",
            session_label(transaction_id),
            poll.wait_ms,
        )
        raise TooManyRequests(
            description=f"polled too often; wait {poll.wait_ms} ms between polls",
            retry_after=math.ceil(poll.wait_ms / 1000),
        )

    state, expires_ms = poll.state, poll.expires_ms
    if state is None or (state not in END_STATES and expires_ms <= now_ms):
        session = _read_state(transaction_id, apiconfig.now(app))
        state, expires_ms = session["state"], to_millis(session["expires_at"])
        poll_times.remember_state(
            transaction_id, poll.version, state, expires_ms, now_ms
        )
    return _status_response(state, expires_ms // 1000)


_STATUS_HEADERS = (("Content-Type", "application/json"), ("Cache-Control", "no-store"))


def _status_response(state: str, expires_at: int) -> Response:
    """Return a poll's response, built directly instead of with jsonify.

    Polls are the most frequent request. Measured in process, jsonify took
    about 13 µs for this body and json.dumps 1.8 µs, while formatting it
    around the state's JSON string takes about 0.2 µs. The headers are
    given as pairs that already name the content type.
    """
    body = f'{{"status": {_json_string(state)}, "expires_at": {expires_at:d}}}'
    return Response(body, headers=_STATUS_HEADERS)


@functools.lru_cache(maxsize=32)
def _json_string(text: str) -> str:
    return json.dumps(text)


def _read_state(transaction_id: str, moment: datetime) -> dict:
    """Read a session's state and expiry time, expiring it when it is overdue."""
    with storage.request_store().acquire() as db:
        try:
            session = db.session_state(transaction_id)
        except storage.SessionNotFound:
            _unknown_session()
        return _expire_if_overdue(db, session, moment)


@blueprint.get("/<transaction_id>/result")
def session_result(transaction_id: str) -> Response:
    """Return the session's result once, after it has ended."""
    db = storage.request_connection()
    moment = apiconfig.now(current_app)
    session = _expire_if_overdue(db, _find_session(db, transaction_id), moment)
    label = session_label(session["id"])
    if session["state"] not in END_STATES:
        log.warning("Session %s: rejected a result request: not ended", label)
        abort(
            409,
            description=f"the session is {session['state']!r}; poll its status "
            "until it ends",
        )

    result = db.take_result(session["id"], now=moment)
    if result is None:
        log.warning("Session %s: rejected a result request: none left", label)
        abort(
            404,
            description="no result: it was taken before, or the session ended "
            f"as {session['state']!r} without one",
        )
    log.info("Session %s: result taken", label)
    return _no_store(jsonify(result))


@blueprint.delete("/<transaction_id>")
def cancel_session(transaction_id: str) -> Response:
    """Cancel a session that has not ended."""
    db = storage.request_connection()
    moment = apiconfig.now(current_app)
    session = _expire_if_overdue(db, _find_session(db, transaction_id), moment)
    label = session_label(session["id"])

    for _ in range(CANCEL_ATTEMPTS):
        if session["state"] in END_STATES:
            log.warning("Session %s: rejected a cancel: already ended", label)
            abort(409, description=f"the session already ended as {session['state']!r}")
        cancelled = db.transition(
            session["id"],
            from_states={session["state"]},
            to="cancelled",
            now=moment,
            detail={"reason": "cancelled by the page"},
        )
        if cancelled:
            log.info("Session %s: cancelled", label)
            return jsonify(status="cancelled")
        session = db.get_session(session["id"])

    log.warning("Session %s: rejected a cancel: its state kept changing", label)
    abort(409, description="the session changed while cancelling; try again")


def _find_session(db, transaction_id: str) -> dict:
    session = db.get_session(transaction_id)
    if session is None:
        _unknown_session()
    return session


def _unknown_session() -> NoReturn:
    log.warning("Rejected a request for an unknown wallet session")
    abort(404, description=SESSION_NOT_FOUND)


def _expire_if_overdue(db, session: dict, moment: datetime) -> dict:
    """Move a session past its expiry time to "expired" and return it as it is now."""
    if session["state"] in END_STATES or session["expires_at"] > moment:
        return session

    # transition() itself moves an overdue session to "expired".
    db.transition(
        session["id"],
        from_states={session["state"]},
        to="expired",
        now=moment,
        detail={"reason": "expired"},
    )
    return db.get_session(session["id"])


def _bad_request(reason: str) -> None:
    log.warning("Rejected a request to %r: %s", request.path, reason)
    abort(400, description=reason)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


# Purging old sessions


@blueprint.cli.command("purge")
@click.option(
    "--older-than",
    type=click.IntRange(min=0),
    metavar="DAYS",
    help="Delete sessions that ended or expired more than DAYS days ago "
    "(default: STAPPEN_SESSION_RETENTION_DAYS, 30 unless set).",
)
@click.option(
    "--dry-run", is_flag=True, help="Count the sessions to delete, delete none."
)
def purge_command(older_than: int | None, dry_run: bool) -> None:
    """Delete old sessions with their events, evidence and single-use values."""
    app = current_app._get_current_object()
    try:
        days = apiconfig.session_retention_days(app)
    except apiconfig.ApiConfigError as error:
        raise click.ClickException(str(error)) from error
    if older_than is not None:
        days = older_than

    store = app.extensions[storage.EXTENSION_KEY]
    with store.connection() as db:
        purged = db.purge_sessions(
            timedelta(days=days), now=apiconfig.now(app), dry_run=dry_run
        )

    verb = "Would remove" if dry_run else "Removed"
    age = f"ended or expired more than {days} days ago"
    click.echo(f"{verb} {purged.removed} sessions that {age}.")
    if purged.kept_with_credentials:
        click.echo(
            f"Kept {purged.kept_with_credentials} other sessions that {age}, "
            "because they issued credentials that may still need revoking."
        )
