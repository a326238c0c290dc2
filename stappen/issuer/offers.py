"""Credential offers: made when a page creates an issuing session, then fetched."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Flask, jsonify
from werkzeug.exceptions import BadRequest, InternalServerError

from stappen.errors import Problems
from stappen.issuer.blueprint import (
    CODE_STATES,
    OFFER_PATH,
    OFFER_SCHEME,
    ORIGIN_ANSWERS,
    ORIGIN_PERSONA,
    PERSONAS_EXTENSION,
    PRE_AUTHORIZED_GRANT,
    TEXT_TX_CODE_ALPHABET,
    TX_CODE_DESCRIPTION,
    IssuerError,
    add_evidence,
    blueprint,
    current_time,
    db_connection,
    epoch_millis,
    no_store,
    public_url,
    short_repr,
)
from stappen.model import Flow, Step
from stappen.personas import (
    MISSING,
    PERSONAS_FILE,
    InvalidPersonas,
    Persona,
    check_against_flow,
    load_personas,
    value_problem,
)
from stappen.walletstep import (
    ClaimSource,
    CredentialConfiguration,
    IssueSettings,
    TxCode,
)

log = logging.getLogger(__name__)


# Preparing an offer, when the citizen's page creates an issuing session.


def prepare_issuance(
    app: Flask,
    flow: Flow,
    step: Step,
    settings: IssueSettings,
    now: datetime,
    request_body: dict,
) -> tuple[dict, str]:
    """Build the credential offer of an issuing session and its values.

    ``request_body`` is the page's request: ``persona`` (a persona id of
    the flow's personas.yaml) for the ``persona:`` claims, ``answers``
    (question id to answer) for the ``answer:`` claims, and optional
    ``lang``. A step with claims of one kind only takes that key alone.

    Returns the session fields to store and the ``wallet_url`` for the QR
    code. The fields are ``purpose``, ``request_id`` (the offer id),
    ``pre_authorized_code`` and ``data``, which contains the offer, the
    claim values and the hash of the transaction code. When the step requires
    for a transaction code, the fields also contain ``tx_code``: the code
    to show the citizen. It is no session column, so remove it before
    storing the fields.

    Raises BadRequest naming the persona, answer or claim that does not
    fit, and InternalServerError when the flow's personas file is invalid.
    """
    if not isinstance(request_body, dict):
        raise _offer_rejected(flow, step, "the request body must be a JSON object")
    lang = _offer_language(flow, request_body)
    credentials, source = _claim_values(app, flow, step, settings, request_body)
    return prepare_offer(app, settings, credentials, source, lang, now)


def prepare_offer(
    app: Flask,
    settings: IssueSettings,
    credentials: dict,
    source: dict,
    lang: str,
    now: datetime,
) -> tuple[dict, str]:
    """Build a credential offer for claim values that are already known.

    ``credentials`` maps each configuration id of ``settings`` to its
    ``vct``, ``claims`` and ``origin`` (the value of the ``herkomst``
    claim). Returns the session fields and the wallet URL, as
    :func:`prepare_issuance` does.
    """
    code = secrets.token_urlsafe(32)
    offer_id = secrets.token_urlsafe(32)
    tx_code = _new_tx_code(settings.tx_code)
    offer = _credential_offer(public_url(app), settings, code, lang)
    code_expires_at = now + timedelta(seconds=settings.expires_in)
    data = {
        "offer": offer,
        "issuer": settings.issuer,
        "credentials": credentials,
        "source": source,
        "lang": lang,
        "code_expires_at": epoch_millis(code_expires_at),
    }
    fields = {"purpose": "issue", "request_id": offer_id, "pre_authorized_code": code}
    if tx_code is not None:
        data["tx_code_hash"] = tx_code_hash(code, tx_code)
        fields["tx_code"] = tx_code
    fields["data"] = data
    return fields, _wallet_url(public_url(app), offer_id)


def _offer_language(flow: Flow, request_body: dict) -> str:
    lang = request_body.get("lang")
    return lang if lang in flow.languages else flow.default_language


def _wallet_url(public: str, offer_id: str) -> str:
    query = urlencode({"credential_offer_uri": public + OFFER_PATH + offer_id})
    return f"{OFFER_SCHEME}?{query}"


def _credential_offer(public: str, settings: IssueSettings, code: str, lang: str):
    grant: dict[str, Any] = {"pre-authorized_code": code}
    if settings.tx_code is not None:
        grant["tx_code"] = {
            "input_mode": settings.tx_code.input_mode,
            "length": settings.tx_code.length,
            "description": TX_CODE_DESCRIPTION.get(lang, TX_CODE_DESCRIPTION["en"]),
        }
    return {
        "credential_issuer": public,
        "credential_configuration_ids": [c.id for c in settings.credentials],
        "grants": {PRE_AUTHORIZED_GRANT: grant},
    }


def _new_tx_code(tx_code: TxCode | None) -> str | None:
    if tx_code is None:
        return None
    if tx_code.input_mode == "numeric":
        alphabet = "0123456789"
    else:
        alphabet = TEXT_TX_CODE_ALPHABET
    return "".join(secrets.choice(alphabet) for _ in range(tx_code.length))


def tx_code_hash(code: str, tx_code: str) -> str:
    """Hash the transaction code with its pre-authorized code as the salt."""
    return hashlib.sha256(f"{code}\n{tx_code}".encode()).hexdigest()


def _claim_values(app, flow, step, settings, body) -> tuple[dict, dict]:
    """Return the claim values per configuration id and where they came from."""
    kinds = _source_kinds(settings)
    persona = _requested_persona(app, flow, step, kinds, body)
    answers = _requested_answers(flow, step, kinds, body)
    credentials = {
        configuration.id: _credential_values(
            flow, step, configuration, persona, answers
        )
        for configuration in settings.credentials
    }
    source: dict[str, Any] = {}
    if persona is not None:
        source["persona"] = persona.id
    if answers is not None:
        source["answers"] = sorted(_answered_questions(settings))
    return credentials, source


def _source_kinds(settings: IssueSettings) -> set[str]:
    claims = [claim for c in settings.credentials for claim in c.claims]
    kinds = {"persona" for claim in claims if claim.persona is not None}
    return kinds | {"answers" for claim in claims if claim.answer is not None}


def _answered_questions(settings: IssueSettings) -> set[str]:
    claims = [claim for c in settings.credentials for claim in c.claims]
    return {claim.answer for claim in claims if claim.answer is not None}


def _requested_persona(app, flow, step, kinds, body) -> Persona | None:
    persona_id = body.get("persona")
    if "persona" not in kinds:
        if persona_id is not None:
            raise _offer_rejected(
                flow,
                step,
                f"step {step.id!r} takes no values from a test persona; "
                "remove 'persona' from the request",
            )
        return None

    personas = flow_personas(app, flow)
    known = ", ".join(sorted(personas)) or "none"
    if not isinstance(persona_id, str):
        raise _offer_rejected(
            flow,
            step,
            f"step {step.id!r} takes its values from a test persona; send "
            f"'persona' with one of: {known}",
        )
    if persona_id not in personas:
        raise _offer_rejected(
            flow,
            step,
            f"persona {persona_id!r} not found in flow {flow.id!r}; choose one "
            f"of: {known}",
        )
    return personas[persona_id]


def _requested_answers(flow, step, kinds, body) -> dict | None:
    answers = body.get("answers")
    if "answers" not in kinds:
        if answers is not None:
            raise _offer_rejected(
                flow,
                step,
                f"step {step.id!r} takes no values from answers; remove "
                "'answers' from the request",
            )
        return None
    if not isinstance(answers, dict):
        raise _offer_rejected(
            flow,
            step,
            f"step {step.id!r} takes values from the citizen's answers; send "
            "'answers' as an object from question id to answer",
        )
    return answers


def _credential_values(flow, step, configuration, persona, answers) -> dict:
    claims = {}
    for claim in configuration.claims:
        if claim.persona is not None:
            value = _persona_value(flow, step, claim, persona)
        else:
            value = _answer_value(flow, step, claim, answers)
        if value is not MISSING:
            claims[claim.name] = value
    return {
        "vct": configuration.vct,
        "claims": claims,
        "origin": _origin(configuration),
    }


def _origin(configuration: CredentialConfiguration) -> str:
    from_persona = any(claim.persona for claim in configuration.claims)
    from_answers = any(claim.answer for claim in configuration.claims)
    if from_persona and from_answers:
        return f"{ORIGIN_PERSONA}_en_{ORIGIN_ANSWERS}"
    return ORIGIN_PERSONA if from_persona else ORIGIN_ANSWERS


def _persona_value(flow, step, claim: ClaimSource, persona: Persona) -> Any:
    value = persona.value(claim.persona)
    if value is MISSING:
        raise _offer_rejected(
            flow,
            step,
            f"persona {persona.id!r} has no field {claim.persona!r} for claim "
            f"{claim.name!r}; add it to {PERSONAS_FILE} or choose another persona",
        )
    problem = value_problem(claim.type, value)
    if problem is not None:
        raise _offer_rejected(
            flow,
            step,
            f"persona {persona.id!r} field {claim.persona!r} does not fit claim "
            f"{claim.name!r}: {problem}; correct it in {PERSONAS_FILE}",
        )
    return value


def _answer_value(flow, step, claim: ClaimSource, answers: dict) -> Any:
    value = answers.get(claim.answer)
    question = flow.steps[claim.answer]
    if value is None:
        if not question.answer.required:
            return MISSING
        raise _offer_rejected(
            flow,
            step,
            f"answer {claim.answer!r} for claim {claim.name!r} is missing; "
            "send the answer to that question in 'answers'",
        )
    problem = value_problem(claim.type, value) or _option_problem(question, value)
    if problem is not None:
        raise _offer_rejected(
            flow,
            step,
            f"answer {claim.answer!r} does not fit claim {claim.name!r}: {problem}",
            detail=f" (got {short_repr(value)})",
        )
    return value


def _option_problem(question: Step, value: Any) -> str | None:
    options = [option.value for option in question.answer.options]
    if not options:
        return None
    chosen = value if isinstance(value, list) else [value]
    unknown = [item for item in chosen if item not in options]
    if not unknown:
        return None
    return f"expected option values among {', '.join(options)}"


def _offer_rejected(
    flow: Flow, step: Step, reason: str, detail: str = ""
) -> BadRequest:
    """Log ``reason`` and return a BadRequest; ``detail`` (the value) is not logged."""
    log.warning(
        "Rejected an issuing session for step %r of flow %r: %s",
        step.id,
        flow.id,
        reason,
    )
    return BadRequest(description=reason + detail)


def flow_personas(app: Flask, flow: Flow) -> dict[str, Persona]:
    """Return the test personas of ``flow``, read and checked once.

    A flow without a personas file has none. Raises InternalServerError,
    after logging every problem, when the file is invalid.
    """
    cache = app.extensions.setdefault(PERSONAS_EXTENSION, {})
    if flow.id not in cache:
        cache[flow.id] = _load_flow_personas(flow)
    return cache[flow.id]


def _load_flow_personas(flow: Flow) -> dict[str, Persona]:
    path = flow.folder / PERSONAS_FILE
    if not path.exists():
        log.info("Flow %r has no test personas: %s does not exist", flow.id, path)
        return {}
    try:
        personas = load_personas(path)
        _check_personas_fit(flow, path, personas)
    except InvalidPersonas as error:
        for problem in error.problems:
            log.error("%s", problem)
        raise InternalServerError(
            description=f"the test personas of flow {flow.id!r} are invalid; "
            "the server log lists the problems"
        ) from error
    return personas


def _check_personas_fit(flow: Flow, path: Path, personas: dict) -> None:
    problems = Problems()
    check_against_flow(flow, personas, problems)
    if problems.errors:
        raise InvalidPersonas(path, problems)


# The credential offer.


@blueprint.get(OFFER_PATH + "<offer_id>")
def credential_offer(offer_id: str):
    db, now = db_connection(), current_time()
    session = db.get_session_by("request_id", offer_id)
    if session is None or session["purpose"] != "issue":
        raise IssuerError(
            "not_found",
            "credential offer not found; scan the QR code on the page again",
            status=404,
        )

    if session["state"] == "created":
        db.transition(
            session["id"], from_states={"created"}, to="request_retrieved", now=now
        )
        session = db.get_session(session["id"])
    if session["state"] not in CODE_STATES:
        raise IssuerError(
            "not_found",
            f"this credential offer is no longer available: the session is "
            f"{session['state']}; start again on the page",
            status=404,
            session_id=session["id"],
        )

    add_evidence(db, session["id"], "offer_retrieved", {"state": session["state"]})
    return no_store(jsonify(session["data"]["offer"]))
