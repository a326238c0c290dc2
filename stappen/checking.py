"""The endpoint the citizen's page calls to run a check step.

``POST /api/v1/checks`` evaluates the step's DMN decision, either from the
claims of a verified presentation or, for a trial calculation, from the
citizen's answers. For an eligible outcome of a claim-based check, it also
offers a voucher credential through the pilot issuer, as an issuing session
that the page follows with the wallet-session status endpoint. The claims
come from the server's own record of the presentation session: its result,
which the check takes once, so a presentation decides one check only.
docs/check-step.md describes the contract.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import NoReturn

from flask import Blueprint, Flask, Response, abort, current_app, jsonify
from werkzeug.exceptions import Conflict

from stappen import (
    apiconfig,
    apierrors,
    audit,
    checkstep,
    issuer,
    outcomes,
    presentations,
    storage,
)
from stappen.checkstep import CheckSettings
from stappen.flowtests import answer_problem
from stappen.model import Flow, Step
from stappen.qr import qr_svg
from stappen.rules import DmnError, DmnModel, Evaluation, load_dmn_bytes
from stappen.sessions import (
    POLL_AFTER_MS,
    json_body,
    new_session,
    request_language,
    store_new_session,
)
from stappen.storage.errors import session_label
from stappen.yamlload import describe

log = logging.getLogger(__name__)

blueprint = Blueprint("checks", __name__, url_prefix="/api/v1/checks")

REQUEST_FIELDS = ("flow", "step", "lang", "presentation", "answers")
ORIGIN_CHECK = "regelcheck"
VOUCHER_QR_LABEL = {
    "nl": "QR-code: scan deze met uw wallet-app om uw voucher op te halen",
    "en": "QR code: scan it with your wallet app to collect your voucher",
}
TRIAL_LABEL = {
    "nl": "Dit is een proefberekening: een schatting op basis van uw antwoorden.",
    "en": "This is a trial calculation: an estimate based on your answers.",
}


class RulesNotInForce(Conflict):
    """A check on a day outside its rules' validity period.

    The API's error body names it ``rules_not_in_force``, so the page can tell
    it from a presentation that was used before, which is also a 409.
    """

    name = "Rules Not In Force"


apierrors.register_config_error(blueprint, log, "Checks cannot run")


@blueprint.post("")
def run_check() -> tuple[Response, int]:
    """Evaluate a check step and, when eligible, offer its voucher."""
    app = current_app._get_current_object()
    body = json_body(REQUEST_FIELDS)
    flow, step = presentations.requested_step(app, body, "check", _reject)
    lang = request_language(flow, body)
    settings = checkstep.read_settings(flow, step)
    moment = apiconfig.now(app)
    _check_validity(settings, moment, step)
    rules = _loaded_rules(app, settings, step)
    snap = outcomes.snapshot(flow.id, step.id, settings, rules.model.sha256)

    if settings.trial:
        inputs, used, session = _trial_inputs(flow, settings, body), [], None
    else:
        session, claims = _presented_claims(flow, step, settings, body, moment)
        inputs, used = _claim_inputs(snap, claims, session)
    evaluation = _evaluate(rules.model, settings, inputs, step, session)
    response = _outcome(flow, settings, snap, evaluation, lang)

    if session is None:
        _audit_evaluation(storage.request_connection(), settings, response)
    else:
        _keep_rule_table(rules, moment)
        _record(session, settings, evaluation, response, inputs, moment)
    if response["eligible"] and settings.voucher is not None and not settings.trial:
        response["voucher"] = _offer_voucher(
            app, flow, step, settings, evaluation, response, used, moment, lang
        )
    return _no_store(jsonify(response)), 200


# Reading the request.


def _check_validity(settings: CheckSettings, moment: datetime, step: Step) -> None:
    today = moment.date()
    if settings.valid_from <= today <= settings.valid_to:
        return
    reason = (
        f"the rules of step {step.id!r} (version {settings.version}) apply from "
        f"{settings.valid_from.isoformat()} to {settings.valid_to.isoformat()}, "
        f"not on {today.isoformat()}; the flow needs rules for today"
    )
    log.warning("Rejected a check (no session): %s", reason)
    raise RulesNotInForce(description=reason)


def _trial_inputs(flow: Flow, settings: CheckSettings, body: dict) -> dict:
    if "presentation" in body:
        _reject(
            400, "this check is a trial calculation from answers; remove 'presentation'"
        )
    answers = body.get("answers")
    if not isinstance(answers, dict):
        _reject(400, "answers must be a JSON object of question id to answer")
    for source in settings.inputs:
        question = flow.steps[source.answer]
        if source.answer not in answers:
            _reject(
                400, f"answer {source.answer!r} is missing; answer that question first"
            )
        value = answers[source.answer]
        problem = answer_problem(question.answer, value, describe(None, (), value))
        if problem:
            _reject(400, f"answer {source.answer!r}: {problem}")
    return checkstep.answer_inputs(settings, answers)


def _presented_claims(flow, step, settings, body, moment) -> tuple[dict, dict]:
    if "answers" in body:
        _reject(
            400,
            "this check uses verified claims; remove 'answers' and send 'presentation'",
        )
    transaction_id = body.get("presentation")
    session = presentations.verified_presentation(
        flow, settings.wallet_step, transaction_id, CHECK_USE
    )
    result = presentations.take_result(session, moment, CHECK_USE)
    return session, result.get("claims", {})


def _claim_inputs(snap, claims: dict, session: dict) -> tuple[dict, list]:
    try:
        return outcomes.inputs_from_claims(snap, claims)
    except outcomes.MissingClaim as error:
        _reject(422, str(error), session)


# Evaluating.


@dataclasses.dataclass(frozen=True)
class LoadedRules:
    """A check step's DMN file: the compiled model and the bytes it came from."""

    name: str
    content: bytes
    model: DmnModel


def load_rules(app: Flask, settings: CheckSettings) -> LoadedRules:
    """Load a check step's DMN file once per app. Raises DmnError.

    The model and its bytes are kept together, so the rule table stored for
    a review is the one the check evaluated, even when the file changes.
    """
    loaded = app.extensions.setdefault("stappen.dmn_models", {})
    if settings.rules not in loaded:
        try:
            content = settings.rules.read_bytes()
        except OSError as error:
            raise DmnError(
                f"cannot read the file: {error.strerror}; check the path",
                file=str(settings.rules),
            ) from None
        model = load_dmn_bytes(content, str(settings.rules))
        loaded[settings.rules] = LoadedRules(settings.rules.name, content, model)
    return loaded[settings.rules]


def _loaded_rules(app: Flask, settings: CheckSettings, step: Step) -> LoadedRules:
    try:
        return load_rules(app, settings)
    except DmnError as error:
        _reject(422, f"step {step.id!r}: {error.message}")


def _keep_rule_table(rules: LoadedRules, moment: datetime) -> None:
    """Store the DMN file by its SHA-256, so a review recomputes with it later."""
    db = storage.request_connection()
    if db.store_rule_table(rules.model.sha256, rules.name, rules.content, now=moment):
        log.info("Stored rule table %s (%s)", rules.model.sha256[:12], rules.name)


def _evaluate(model: DmnModel, settings, inputs, step, session) -> Evaluation:
    try:
        return model.evaluate(settings.decision, inputs)
    except DmnError as error:
        _reject(422, f"step {step.id!r}: {error.message}", session)


def _outcome(flow, settings: CheckSettings, snap, evaluation: Evaluation, lang):
    outcome = outcomes.outcome_of(snap, evaluation)
    texts = settings.outcomes.get("eligible" if outcome["eligible"] else "not_eligible")
    explanation = flow.text(texts, lang) if texts else " ".join(outcome["annotations"])

    response = {
        "eligible": outcome["eligible"],
        "result": outcome["result"],
        "amount": outcome["amount"],
        "outcome": explanation,
        "annotations": outcome["annotations"],
        "trial": settings.trial,
        "rules": {
            "decision": settings.decision,
            "version": settings.version,
            "sha256": evaluation.trace.sha256,
            "matched_rules": outcome["matched_rules"],
        },
    }
    if settings.trial:
        response["trial_notice"] = TRIAL_LABEL.get(lang, TRIAL_LABEL["en"])
    return response


def _record(session, settings, evaluation, response, inputs, moment) -> None:
    db = storage.request_connection()
    evidence = {
        "decision": settings.decision,
        "version": settings.version,
        "valid_from": settings.valid_from.isoformat(),
        "valid_to": settings.valid_to.isoformat(),
        "result": response["result"],
        "amount": response["amount"],
        "trace": evaluation.trace.to_dict(),
    }
    with db.transaction():
        response["check_id"] = str(
            db.add_evidence(session["id"], "check_evaluation", evidence, moment)
        )
        _audit_evaluation(db, settings, response, session, inputs)
    log.info(
        "Session %s: checked, %s", session_label(session["id"]), response["result"]
    )


def _audit_evaluation(db, settings, response, session=None, inputs=None) -> None:
    """Record a rules.evaluated event, with the personal inputs as review data only.

    A trial calculation is anonymous, so its event has no subject and keeps
    no inputs.
    """
    data = {
        "decision": settings.decision,
        "version": settings.version,
        "sha256": response["rules"]["sha256"],
        "matched_rules": response["rules"]["matched_rules"],
        "result": response["result"],
        "amount": response["amount"],
        "trial": settings.trial,
    }
    if session is None:
        audit.record(db, "rules.evaluated", actor="citizen", data=data)
        return

    data["check_id"] = response["check_id"]
    audit.record(
        db,
        "rules.evaluated",
        subject=audit.session_subject(session["id"]),
        actor="citizen",
        data=data,
        personal={"inputs": audit.to_audit_data(inputs)},
    )


# Offering the voucher.


def _offer_voucher(
    app, flow, step, settings, evaluation, response, used, moment, lang
) -> dict:
    voucher = settings.voucher
    claims = _voucher_claims(settings, evaluation, response, used)
    credentials = {
        voucher.id: {"vct": voucher.vct, "claims": claims, "origin": ORIGIN_CHECK}
    }
    offer_settings = voucher.issue_settings()
    source = {"check": step.id, "check_id": response["check_id"]}
    fields, wallet_url = issuer.prepare_offer(
        app, offer_settings, credentials, source, lang, moment
    )

    session = new_session(flow, step, offer_settings, moment, fields, lang)
    store_new_session(storage.request_connection(), session)
    log.info(
        "Session %s: voucher offered for step %r of flow %r",
        session_label(session["id"]),
        step.id,
        flow.id,
    )

    label = VOUCHER_QR_LABEL.get(lang, VOUCHER_QR_LABEL["en"])
    return {
        "transaction_id": session["id"],
        "wallet_url": wallet_url,
        "qr_svg": qr_svg(wallet_url, label=label),
        "expires_at": int(session["expires_at"].timestamp()),
        "poll_after_ms": POLL_AFTER_MS,
    }


def _voucher_claims(settings, evaluation, response: dict, used: list) -> dict:
    """Return the voucher's claims, as listed in checkstep.VOUCHER_CLAIMS."""
    return {
        "regeling": settings.decision,
        "uitkomst": response["result"],
        "bedrag": response["amount"],
        "besluit_id": response["check_id"],
        "regels_sha256": evaluation.trace.sha256,
        "regels_versie": settings.version,
        "geldig_van": settings.valid_from.isoformat(),
        "geldig_tot": settings.valid_to.isoformat(),
        "regels_toegepast": response["rules"]["matched_rules"],
        "gebruikte_gegevens": used,
    }


def _reject(status: int, reason: str, session: dict | None = None) -> NoReturn:
    owner = "no session" if session is None else session_label(session["id"])
    log.warning("Rejected a check (%s): %s", owner, reason)
    abort(status, description=reason)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


CHECK_USE = presentations.PresentationUse(
    kind="check",
    user="this check",
    once="decides one check",
    again="share your data again",
    reject=_reject,
)
