"""The pilot issuer: OpenID4VCI 1.0 with a pre-authorized code, for wallet steps.

No authentic source, such as the BRP, UWV or the tax office, is reachable
from a pilot. This issuer therefore issues the credentials of a wallet
step of purpose ``issue`` from the citizen's own answers or from a test
persona (``steps/<flow>/personas.yaml``), and marks every credential as
pilot data with two plain claims that are never hidden behind a
disclosure:

- ``bron``: always ``"pilot"``;
- ``herkomst``: ``"testpersona"``, ``"eigen_opgave"`` (the citizen's own
  answers) or ``"testpersona_en_eigen_opgave"``, and ``"regelcheck"`` for
  the voucher of a check step (:mod:`stappen.checking`), and ``"besluit"``
  for the decision credential of a decision step (:mod:`stappen.deciding`).

Every claim of the step is selectively disclosable. The credential's
``iss`` is the step's ``issuer`` setting, and it carries a ``status``
reference to the API's Token Status List.

The endpoints follow docs/wallet-api.md:

- ``GET /.well-known/openid-credential-issuer`` and
  ``GET /.well-known/oauth-authorization-server``: the metadata;
- ``GET /api/v1/issuer/offers/<offer_id>``: the credential offer;
- ``POST /api/v1/issuer/token``: the pre-authorized code (and the
  transaction code) for an access token;
- ``POST /api/v1/issuer/nonce``: a fresh ``c_nonce``;
- ``POST /api/v1/issuer/credential``: one SD-JWT VC per request, bound to
  the key of its key proof;
- ``GET /api/v1/status-lists/<list_id>``: the signed status list.

:func:`prepare_issuance` builds the offer when the citizen's page creates
an issuing session, and :func:`revoke` (``flask credentials revoke ID``)
marks an issued credential as revoked. The signing key is the first key of
the pilot issuer's key file (see :mod:`stappen.apiconfig`), whose public
half the API's verifier trusts for the issue steps' issuer identifiers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import secrets
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import click
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from joserfc.jwk import Key
from werkzeug.exceptions import BadRequest, InternalServerError

from stappen import apiconfig, audit, checkstep, decisionstep, jose, sdjwt, storage
from stappen.errors import Problems, StappenError
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
from stappen.statuslist import INVALID, StatusList, status_list_token, status_reference
from stappen.storage.errors import StorageError, session_label
from stappen.walletstep import (
    ClaimSource,
    CredentialConfiguration,
    InvalidSettings,
    IssueSettings,
    TxCode,
    read_settings,
)

log = logging.getLogger(__name__)

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
CREDENTIAL_FORMAT = "dc+sd-jwt"
PROOF_TYP = "openid4vci-proof+jwt"
C_NONCE_TYP = "stappen-c-nonce+jwt"
OFFER_SCHEME = "openid-credential-offer://"
STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"

OFFER_PATH = "/api/v1/issuer/offers/"
TOKEN_PATH = "/api/v1/issuer/token"
NONCE_PATH = "/api/v1/issuer/nonce"
CREDENTIAL_PATH = "/api/v1/issuer/credential"
STATUS_LIST_PATH = "/api/v1/status-lists/"
ISSUER_METADATA_PATH = "/.well-known/openid-credential-issuer"
SERVER_METADATA_PATH = "/.well-known/oauth-authorization-server"

MAX_TX_CODE_ATTEMPTS = 3
"""Wrong transaction codes after which the session fails. Three guesses hit
a 4-digit code with a chance of 3 in 10,000, and a citizen who mistypes can
start again on the page."""

ACCESS_TOKEN_LIFETIME = 300
"""Seconds an access token stays valid. OpenID4VCI 1.0 counts bearer tokens
that live longer than 5 minutes as long-lived."""

C_NONCE_LIFETIME = 300
"""Seconds a c_nonce from the nonce endpoint stays valid."""

PROOF_MAX_AGE = 300
"""Seconds after its ``iat`` that a key proof is still accepted."""

CLOCK_SKEW = 60
"""Seconds a key proof's ``iat`` may lie in the future, for wallet clocks."""

CREDENTIAL_LIFETIME = timedelta(days=30)
"""How long an issued pilot credential is valid: long enough for the later
steps of a pilot (applying, the decision), short enough that test data does
not linger in wallets."""

STATUS_LIST_ID = "1"
STATUS_LIST_BITS = 2
"""Bits per status: 2 hold VALID, INVALID and SUSPENDED."""
STATUS_LIST_SIZE = 2**16
"""Statuses in the list. 65,536 entries of 2 bits are 16 KiB before
compression, enough for a pilot. NOTE: issuing fails once every index is
used, because a second list is not implemented."""
STATUS_LIST_TTL = 300
"""Seconds a verifier may cache the status list token."""
STATUS_LIST_VALIDITY = 3600
"""Seconds until a status list token expires (its ``exp``)."""

PILOT_SOURCE = "pilot"
ORIGIN_PERSONA = "testpersona"
ORIGIN_ANSWERS = "eigen_opgave"
PILOT_CLAIMS = ("bron", "herkomst")
"""Plain claims that mark every credential as pilot data, set by this issuer."""

TEXT_TX_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Characters of a text transaction code, without look-alikes such as 0/O, 1/I."""

PILOT_WORD = {"nl": "proef", "en": "pilot"}
PILOT_DESCRIPTION = {
    "nl": "Testgegevens uit de proef {flow}, niet van een officiële bron.",
    "en": "Test data from the pilot {flow}, not from an authentic source.",
}
PILOT_CLAIM_NAMES = {
    "bron": {"nl": "Bron", "en": "Source"},
    "herkomst": {"nl": "Herkomst", "en": "Origin"},
}
PILOT_NOTICE = {
    "nl": (
        "Dit zijn testgegevens voor een proef. Ze komen niet van de overheid, "
        "maar uit een testpersoon of uit uw eigen antwoorden."
    ),
    "en": (
        "This is test data for a pilot. It does not come from the government "
        "but from a test persona or from your own answers."
    ),
}
TX_CODE_DESCRIPTION = {
    "nl": "Typ de code die op de pagina staat waar u de QR-code scande.",
    "en": "Type the code shown on the page where you scanned the QR code.",
}
ISSUER_NAME = {"nl": "Stappen proefuitgever", "en": "Stappen pilot issuer"}

CODE_STATES = frozenset({"created", "request_retrieved"})
"""Session states in which the pre-authorized code can still be redeemed."""

_PERSONAS = "stappen.issuer.personas"

blueprint = Blueprint("issuer", __name__, cli_group="credentials")


class IssuerError(Exception):
    """A rejected wallet request, returned as an OAuth error object.

    ``error`` is the code from OAuth 2.0 or OpenID4VCI 1.0, such as
    ``invalid_grant`` or ``invalid_proof``, and ``description`` says what
    failed and what the wallet can do.
    """

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        session_id: str | None = None,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.session_id = session_id


class CredentialNotFound(StappenError, LookupError):
    """No issued credential has the given id."""


class IssuerSetupError(StappenError):
    """Issue steps whose credential configurations cannot be published."""


# Setting up the blueprint.


@blueprint.record_once
def _warn_if_not_https(state) -> None:
    public = public_url(state.app)
    if not public.startswith("https://"):
        log.warning(
            "PUBLIC_URL %s is not an https:// address; wallets accept only "
            "https credential issuers, so set STAPPEN_PUBLIC_URL outside tests",
            public,
        )


def public_url(app: Flask) -> str:
    """Return the API's public URL, which is also the credential issuer id."""
    return apiconfig.public_url(app)


def _now() -> datetime:
    return apiconfig.now(current_app)


def _issuer_keys() -> list[Key]:
    """Return the pilot issuer's keys, or raise a 503 naming no file path."""
    try:
        return apiconfig.issuer_keys(current_app)
    except apiconfig.ApiConfigError as error:
        log.error("The pilot issuer cannot sign: %s", error)
        raise IssuerError(
            "server_error",
            "the issuer has no signing key yet; the server log names the fix",
            status=503,
        ) from error


def _signing_key() -> Key:
    return _issuer_keys()[0]


def _db() -> storage.StoreConnection:
    return storage.request_connection()


@blueprint.errorhandler(IssuerError)
def _issuer_error(error: IssuerError) -> Response:
    owner = session_label(error.session_id) if error.session_id else "no session"
    log.warning(
        "Rejected a request to %s for session %s: %s: %s",
        request.endpoint,
        owner,
        error.error,
        error.description,
    )
    if error.session_id:
        _record_rejection(error)

    description = _oauth_text(error.description)
    response = jsonify(
        error=error.error, error_description=description, message=description
    )
    response.status_code = error.status
    response.headers["Cache-Control"] = "no-store"
    if error.status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer error="{error.error}"'
    return response


def _record_rejection(error: IssuerError) -> None:
    evidence = {
        "endpoint": request.endpoint,
        "error": error.error,
        "description": error.description,
    }
    try:
        _db().add_evidence(error.session_id, "issuer.rejected", evidence, _now())
    except StorageError as failure:
        log.error(
            "Recording a rejection for session %s failed: %s",
            session_label(error.session_id),
            failure,
        )


def _oauth_text(text: str) -> str:
    """Keep only the characters OAuth allows in ``error_description``."""
    ascii_text = text.encode("ascii", "replace").decode("ascii")
    return ascii_text.replace('"', "'").replace("\\", "/")


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


# Metadata.


@dataclasses.dataclass(frozen=True)
class _Offered:
    """A credential configuration and the issue step that offers it."""

    flow: Flow
    step: Step
    configuration: CredentialConfiguration


@blueprint.get(ISSUER_METADATA_PATH)
@blueprint.get(ISSUER_METADATA_PATH + "/<path:suffix>")
def issuer_metadata(suffix: str = ""):
    _check_metadata_suffix(suffix)
    public = public_url(current_app)
    signing_alg = jose.algorithm_for(_signing_key())
    configurations = {
        configuration_id: _configuration_metadata(offered, signing_alg)
        for configuration_id, offered in _catalogue().items()
    }
    return jsonify(
        credential_issuer=public,
        credential_endpoint=public + CREDENTIAL_PATH,
        nonce_endpoint=public + NONCE_PATH,
        display=[
            {"name": name, "locale": locale} for locale, name in ISSUER_NAME.items()
        ],
        credential_configurations_supported=configurations,
    )


@blueprint.get(SERVER_METADATA_PATH)
@blueprint.get(SERVER_METADATA_PATH + "/<path:suffix>")
def server_metadata(suffix: str = ""):
    _check_metadata_suffix(suffix)
    public = public_url(current_app)
    # The pre-authorized code grant needs no authorization endpoint, so
    # response_types_supported is left out, as OpenID4VCI 1.0 allows.
    return jsonify(
        {
            "issuer": public,
            "token_endpoint": public + TOKEN_PATH,
            "grant_types_supported": [PRE_AUTHORIZED_GRANT],
            "token_endpoint_auth_methods_supported": ["none"],
            "pre-authorized_grant_anonymous_access_supported": True,
        }
    )


def _check_metadata_suffix(suffix: str) -> None:
    """Accept the path of PUBLIC_URL after the well-known name, and only that.

    OpenID4VCI 1.0 and RFC 8414 put the well-known name between the host and
    the path of an identifier such as ``https://host/stappen``.
    """
    expected = urlsplit(public_url(current_app)).path.strip("/")
    if suffix.strip("/") != expected:
        raise IssuerError(
            "not_found",
            f"no metadata for path {suffix!r}; the credential issuer is "
            f"{public_url(current_app)!r}",
            status=404,
        )


def _catalogue() -> dict[str, _Offered]:
    try:
        return offered_configurations(current_app.extensions["stappen.flows"])
    except IssuerSetupError as error:
        log.error("The issuer metadata cannot be built: %s", error)
        raise IssuerError(
            "server_error",
            "the issuer's credential configurations are inconsistent; the "
            "server log names the fix",
            status=500,
        ) from error


def offered_configurations(flows: dict[str, Flow]) -> dict[str, _Offered]:
    """Map each credential configuration id of every issue step to its step.

    Two steps may share an id only with the same type and claims, because
    a wallet finds a configuration by its id alone. Raises IssuerSetupError
    for a conflict or for a claim named like one of PILOT_CLAIMS.
    """
    found: dict[str, _Offered] = {}
    for flow in flows.values():
        offering = [*_issue_steps(flow), *_voucher_steps(flow), *_decision_steps(flow)]
        for step, settings in offering:
            for configuration in settings.credentials:
                _check_pilot_claim_names(flow, step, configuration)
                offered = _Offered(flow, step, configuration)
                _check_same_configuration(found.get(configuration.id), offered)
                found.setdefault(configuration.id, offered)
    return found


def _issue_steps(flow: Flow):
    for step in flow.steps.values():
        if step.kind != "wallet" or step.settings.get("purpose") != "issue":
            continue
        try:
            yield step, read_settings(step)
        except InvalidSettings as error:
            log.error("Flow %r: %s", flow.id, error)


def _voucher_steps(flow: Flow):
    """Yield each check step that offers a voucher, with the voucher's offer."""
    for step in flow.steps.values():
        voucher = step.settings.get("voucher") if step.kind == "check" else None
        if not isinstance(voucher, dict):
            continue
        try:
            yield step, checkstep.read_settings(flow, step).voucher.issue_settings()
        except checkstep.InvalidCheckSettings as error:
            log.error("Flow %r: %s", flow.id, error)


def _decision_steps(flow: Flow):
    """Yield each decision step with the offer of its decision credential."""
    for step in flow.steps.values():
        if step.kind != "decision":
            continue
        try:
            settings = decisionstep.read_settings(flow, step)
        except decisionstep.InvalidDecisionSettings as error:
            log.error("Flow %r: %s", flow.id, error)
            continue
        yield step, settings.credential.issue_settings()


def _check_pilot_claim_names(flow, step, configuration) -> None:
    for claim in configuration.claims:
        if claim.name in PILOT_CLAIMS:
            raise IssuerSetupError(
                f"flow {flow.id!r}, step {step.id!r}: claim {claim.name!r} of "
                f"credential {configuration.id!r} is set by the pilot issuer "
                "to mark pilot data; rename the claim"
            )


def _check_same_configuration(first: _Offered | None, other: _Offered) -> None:
    if first is None or _shape(first) == _shape(other):
        return
    raise IssuerSetupError(
        f"credential configuration {other.configuration.id!r} is defined "
        f"differently in step {first.step.id!r} of flow {first.flow.id!r} and "
        f"step {other.step.id!r} of flow {other.flow.id!r}; give one of them "
        "another id"
    )


def _shape(offered: _Offered) -> tuple:
    configuration = offered.configuration
    claims = tuple((claim.name, claim.type) for claim in configuration.claims)
    return configuration.vct, claims


def _configuration_metadata(offered: _Offered, signing_alg: str) -> dict:
    proof_algs = list(jose.ALLOWED_ALGORITHMS)
    return {
        "format": CREDENTIAL_FORMAT,
        "vct": offered.configuration.vct,
        "cryptographic_binding_methods_supported": ["jwk"],
        "credential_signing_alg_values_supported": [signing_alg],
        "proof_types_supported": {
            "jwt": {"proof_signing_alg_values_supported": proof_algs}
        },
        "credential_metadata": {
            "display": _credential_display(offered),
            "claims": _claims_metadata(offered),
        },
    }


def _credential_display(offered: _Offered) -> list[dict]:
    flow = offered.flow
    name = _humanize(offered.configuration.id)
    display = []
    for locale in flow.languages:
        language = locale if locale in PILOT_WORD else "en"
        flow_title = flow.text(flow.title, locale)
        display.append(
            {
                "name": f"{name} ({PILOT_WORD[language]})",
                "locale": locale,
                "description": PILOT_DESCRIPTION[language].format(flow=flow_title),
            }
        )
    return display


def _claims_metadata(offered: _Offered) -> list[dict]:
    # The claim names are written in the flow author's language, so they
    # are shown in the flow's first language only.
    locale = offered.flow.default_language
    claims = [
        {
            "path": [claim.name],
            "mandatory": _always_present(offered.flow, claim),
            "display": [{"name": _humanize(claim.name), "locale": locale}],
        }
        for claim in offered.configuration.claims
    ]
    for name, texts in PILOT_CLAIM_NAMES.items():
        display = [{"name": text, "locale": lang} for lang, text in texts.items()]
        claims.append({"path": [name], "mandatory": True, "display": display})
    return claims


def _always_present(flow: Flow, claim: ClaimSource) -> bool:
    """Tell whether a claim has a value in every credential of its type."""
    if claim.answer is None:
        return True
    question = flow.steps.get(claim.answer)
    return question is None or question.answer is None or question.answer.required


def _humanize(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").capitalize()


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
    claim values and the hash of the transaction code. When the step asks
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
        "code_expires_at": _millis(code_expires_at),
    }
    fields = {"purpose": "issue", "request_id": offer_id, "pre_authorized_code": code}
    if tx_code is not None:
        data["tx_code_hash"] = _tx_code_hash(code, tx_code)
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


def _tx_code_hash(code: str, tx_code: str) -> str:
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
            detail=f" (got {_shown(value)})",
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


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
    cache = app.extensions.setdefault(_PERSONAS, {})
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
    db, now = _db(), _now()
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

    _add_evidence(db, session["id"], "offer_retrieved", {"state": session["state"]})
    return _no_store(jsonify(session["data"]["offer"]))


def _add_evidence(db, session_id: str, kind: str, data: dict) -> None:
    db.add_evidence(session_id, f"issuer.{kind}", data, _now())


# The token endpoint.


@blueprint.post(TOKEN_PATH)
def token():
    form = _token_form()
    db, now = _db(), _now()
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
        _millis(session["expires_at"]), session["data"].get("code_expires_at", 0)
    )
    if _millis(now) >= expires_at:
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
    if hmac.compare_digest(_tx_code_hash(code, tx_code), expected):
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
        data=_without_claim_values(session["data"]),
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
    data = {**session["data"], "access_token_expires_at": _millis(expires_at)}
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

    _add_evidence(
        db, session["id"], "token_granted", {"expires_at": _millis(expires_at)}
    )
    seconds = max(1, int((expires_at - now).total_seconds()))
    body = {"access_token": access_token, "token_type": "Bearer", "expires_in": seconds}
    return _no_store(jsonify(body))


# The nonce endpoint.


@blueprint.post(NONCE_PATH)
def nonce():
    """Hand out a c_nonce: a short token signed by the issuer, stored when used.

    Signing instead of storing lets this unauthenticated endpoint work
    without a database write. The credential endpoint checks the signature
    and the expiry, and stores the hash of each c_nonce it accepts
    (``consume_once``), so that a c_nonce works once.
    """
    issued_at = int(_now().timestamp())
    claims = {
        "iat": issued_at,
        "exp": issued_at + C_NONCE_LIFETIME,
        "jti": secrets.token_urlsafe(16),
    }
    c_nonce = jose.sign(claims, _signing_key(), typ=C_NONCE_TYP)
    return _no_store(jsonify(c_nonce=c_nonce))


# The credential endpoint.


@dataclasses.dataclass(frozen=True)
class _CredentialRequest:
    configuration_id: str
    proof: str


@blueprint.post(CREDENTIAL_PATH)
def credential():
    db, now = _db(), _now()
    session = _session_for_token(db, now)
    wanted = _credential_request(session["id"])
    entry = _offered_entry(db, session, wanted.configuration_id)
    holder_jwk = _verified_proof(db, session["id"], wanted.proof, now)

    issued = _issue(db, session, wanted.configuration_id, entry, holder_jwk, now)
    _finish_if_complete(db, session, now)
    return _no_store(jsonify(credentials=[{"credential": issued}]))


def _session_for_token(db, now: datetime) -> dict:
    scheme, _, access_token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not access_token.strip():
        raise IssuerError(
            "invalid_token",
            "the Authorization header must be 'Bearer <access token>', with the "
            "access token from the token endpoint",
            status=401,
        )

    session = db.get_session_by("access_token", access_token.strip())
    if session is None:
        raise IssuerError("invalid_token", "the access token is unknown", status=401)
    expires_at = session["data"].get("access_token_expires_at", 0)
    if session["state"] != "submitted" or _millis(now) >= expires_at:
        raise IssuerError(
            "invalid_token",
            f"the access token is no longer valid (the session is "
            f"{session['state']}); scan a new QR code on the page",
            status=401,
            session_id=session["id"],
        )
    return session


def _credential_request(session_id: str) -> _CredentialRequest:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise _invalid_request(
            session_id,
            "the body must be a JSON object with credential_configuration_id and "
            "proofs",
        )
    if "credential_identifier" in body:
        raise _invalid_request(
            session_id,
            "credential_identifier is not supported, because the token response "
            "names no credential identifiers; send credential_configuration_id",
        )
    if "credential_response_encryption" in body:
        raise IssuerError(
            "invalid_encryption_parameters",
            "this issuer does not encrypt credential responses; leave "
            "credential_response_encryption out",
            session_id=session_id,
        )

    configuration_id = body.get("credential_configuration_id")
    if not isinstance(configuration_id, str) or not configuration_id:
        raise _invalid_request(
            session_id,
            "credential_configuration_id is missing; use an id from the offer's "
            "credential_configuration_ids",
        )
    return _CredentialRequest(configuration_id, _single_proof(body, session_id))


def _single_proof(body: dict, session_id: str) -> str:
    proofs = body.get("proofs")
    if proofs is None and "proof" in body:
        raise _invalid_proof(
            session_id,
            "the singular 'proof' of earlier drafts is not supported; send "
            "'proofs': {'jwt': [<key proof JWT>]}",
        )
    if not isinstance(proofs, dict) or list(proofs) != ["jwt"]:
        raise _invalid_proof(
            session_id,
            "proofs must be an object with one member 'jwt', a list of key proof JWTs",
        )
    jwts = proofs["jwt"]
    if not isinstance(jwts, list) or len(jwts) != 1 or not isinstance(jwts[0], str):
        raise _invalid_proof(
            session_id,
            "proofs.jwt must contain exactly one key proof JWT; this issuer "
            "issues one credential per request",
        )
    return jwts[0]


def _invalid_request(session_id: str, description: str) -> IssuerError:
    return IssuerError("invalid_credential_request", description, session_id=session_id)


def _invalid_proof(session_id: str, description: str) -> IssuerError:
    return IssuerError("invalid_proof", description, session_id=session_id)


def _offered_entry(db, session: dict, configuration_id: str) -> dict:
    offered = session["data"]["credentials"]
    entry = offered.get(configuration_id)
    if entry is None:
        raise IssuerError(
            "unknown_credential_configuration",
            f"credential configuration {configuration_id!r} is not in this "
            f"session's offer; the offer has {', '.join(offered)}",
            session_id=session["id"],
        )

    issued = {row["vct"] for row in db.issued_credentials(session["id"])}
    if entry["vct"] in issued:
        raise IssuerError(
            "credential_request_denied",
            f"credential configuration {configuration_id!r} was already issued "
            "in this session; each is issued once",
            session_id=session["id"],
        )
    return entry


# Key proofs.


def _verified_proof(db, session_id: str, proof: str, now: datetime) -> dict:
    """Check a jwt key proof and return the holder's public JWK from it.

    Raises IssuerError ``invalid_proof`` or ``invalid_nonce`` with the reason.
    """
    _check_proof_header(session_id, proof)
    try:
        header, claims = jose.verify(
            proof, None, typ=PROOF_TYP, allow_embedded_jwk=True
        )
        jose.check_times(claims, int(now.timestamp()), skew=CLOCK_SKEW)
    except jose.VerificationError as error:
        reason = f"key proof is invalid: {error.reason}"
        raise _invalid_proof(session_id, reason) from error

    _check_audience(session_id, claims.get("aud"))
    _check_proof_age(session_id, claims["iat"], now)
    _check_c_nonce(db, session_id, claims.get("nonce"), now)
    return jose.public_jwk(jose.key_from_jwk(header["jwk"]))


def _check_proof_header(session_id: str, proof: str) -> None:
    try:
        header, _ = jose.decode_unverified(proof)
    except jose.VerificationError as error:
        reason = f"key proof is invalid: {error.reason}"
        raise _invalid_proof(session_id, reason) from error

    if "jwk" not in header:
        raise _invalid_proof(
            session_id,
            "key proof has no 'jwk' header; put the holder's public key there, "
            "because this issuer resolves no kid or x5c",
        )
    both = [name for name in ("kid", "x5c") if name in header]
    if both:
        raise _invalid_proof(
            session_id,
            f"key proof has {' and '.join(both)} next to jwk; OpenID4VCI 1.0 "
            "allows only one of them, so remove it",
        )


def _check_audience(session_id: str, audience: Any) -> None:
    expected = public_url(current_app)
    audiences = audience if isinstance(audience, list) else [audience]
    if expected not in audiences:
        raise _invalid_proof(
            session_id,
            f"key proof aud is {_shown(audience)}; expected the credential "
            f"issuer {expected!r}",
        )


def _check_proof_age(session_id: str, iat: float, now: datetime) -> None:
    age = now.timestamp() - iat
    if age > PROOF_MAX_AGE:
        raise _invalid_proof(
            session_id,
            f"key proof iat is {age:.0f} s old, more than the {PROOF_MAX_AGE} s "
            "allowed; sign a new proof with a fresh c_nonce",
        )


def _check_c_nonce(db, session_id: str, value: Any, now: datetime) -> None:
    if not isinstance(value, str) or not value:
        raise _invalid_proof(
            session_id,
            f"key proof nonce is {_shown(value)}; get a c_nonce from the nonce "
            "endpoint and put it in the proof's nonce claim",
        )
    try:
        jose.verify(value, _issuer_keys(), typ=C_NONCE_TYP, now=int(now.timestamp()))
    except jose.VerificationError as error:
        raise IssuerError(
            "invalid_nonce",
            f"key proof nonce is not a valid c_nonce of this issuer "
            f"({error.reason}); get a new one from the nonce endpoint",
            session_id=session_id,
        ) from error

    if not db.consume_once("c_nonce", value, session_id=session_id, now=now):
        raise IssuerError(
            "invalid_nonce",
            "key proof nonce was used before; get a new c_nonce from the nonce "
            "endpoint",
            session_id=session_id,
        )


# Issuing.


def _issue(db, session, configuration_id, entry, holder_jwk, now) -> str:
    index = db.allocate_status_index(STATUS_LIST_ID)
    if index >= STATUS_LIST_SIZE:
        log.error(
            "Status list %s is full at %d entries; raise STATUS_LIST_SIZE",
            STATUS_LIST_ID,
            STATUS_LIST_SIZE,
        )
        raise IssuerError(
            "credential_request_denied",
            "the issuer's status list is full; try again later",
            status=500,
            session_id=session["id"],
        )

    issued_at = now.replace(hour=0, minute=0, second=0, microsecond=0)
    credential = sdjwt.issue(
        _signing_key(),
        issuer=session["data"]["issuer"],
        vct=entry["vct"],
        claims=entry["claims"],
        disclosable=set(entry["claims"]),
        holder_jwk=holder_jwk,
        # Rounded to the day, so that the time does not link the credential
        # to this session, as OpenID4VCI 1.0 advises.
        iat=int(issued_at.timestamp()),
        exp=int((issued_at + CREDENTIAL_LIFETIME).timestamp()),
        status=status_reference(index, status_list_uri(current_app)),
        extra={"bron": PILOT_SOURCE, "herkomst": entry["origin"]},
    )
    _record_issued(db, session, configuration_id, entry, holder_jwk, index, now)
    return credential


def _record_issued(db, session, configuration_id, entry, holder_jwk, index, now):
    session_id = session["id"]
    credential_id = uuid.uuid4().hex
    thumbprint = jose.key_from_jwk(holder_jwk).thumbprint()
    evidence = {
        "credential_configuration_id": configuration_id,
        "credential_id": credential_id,
        "vct": entry["vct"],
        "claims": sorted(entry["claims"]),
        "origin": entry["origin"],
        "status_list": STATUS_LIST_ID,
        "status_index": index,
        "holder_jwk_thumbprint": thumbprint,
    }
    with db.transaction():
        db.record_issued(
            session_id,
            credential_id=credential_id,
            vct=entry["vct"],
            status_list_id=STATUS_LIST_ID,
            status_index=index,
            holder_jwk_thumbprint=thumbprint,
            now=now,
        )
        _add_evidence(db, session_id, "credential_issued", evidence)
        _audit_issued(db, session, evidence)
        _note_decision_issued(db, session, now)
    log.info(
        "Issued credential %s (%s, status index %d) in session %s",
        credential_id,
        entry["vct"],
        index,
        session_label(session_id),
    )


def _audit_issued(db, session: dict, evidence: dict) -> None:
    """Record an issued credential. A voucher's event names the check it came from."""
    check_id = session["data"].get("source", {}).get("check_id")
    data = {
        "credential_id": evidence["credential_id"],
        "credential_configuration_id": evidence["credential_configuration_id"],
        "vct": evidence["vct"],
        "status_list": evidence["status_list"],
        "status_index": evidence["status_index"],
    }
    if check_id is not None:
        data["check_id"] = check_id
    audit.record(
        db,
        "credential.issued" if check_id is None else "voucher.issued",
        subject=audit.session_subject(session["id"]),
        actor="wallet",
        data=data,
    )


def _note_decision_issued(db, session: dict, now: datetime) -> None:
    """Record a collected decision credential on its application."""
    if "application" in session["data"].get("source", {}):
        # Imported here, because stappen.deciding imports this module.
        from stappen import deciding

        deciding.note_issued(db, session, now)


def _finish_if_complete(db, session: dict, now: datetime) -> None:
    data = session["data"]
    offered = {entry["vct"] for entry in data["credentials"].values()}
    issued = {row["vct"] for row in db.issued_credentials(session["id"])}
    if not offered <= issued:
        return

    db.transition(
        session["id"],
        from_states={"submitted"},
        to="issued",
        now=now,
        data=_without_claim_values(data),
        result={
            "issued": list(data["credentials"]),
            "pilot": True,
            "notice": PILOT_NOTICE,
        },
        detail={"credentials": len(issued)},
    )
    log.info("Session %s issued all its credentials", session_label(session["id"]))


def _without_claim_values(data: dict) -> dict:
    """Drop the claim values, which the database needs no longer, from ``data``."""
    credentials = {
        configuration_id: {
            key: value for key, value in entry.items() if key != "claims"
        }
        for configuration_id, entry in data.get("credentials", {}).items()
    }
    return {**data, "credentials": credentials}


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# The status list.


def status_list_uri(app: Flask, list_id: str = STATUS_LIST_ID) -> str:
    """Return the URI that credentials name in their status reference."""
    return public_url(app) + STATUS_LIST_PATH + list_id


@blueprint.get(STATUS_LIST_PATH + "<list_id>")
def status_list(list_id: str):
    if list_id != STATUS_LIST_ID:
        raise IssuerError(
            "not_found",
            f"status list {list_id!r} not found; this issuer has list "
            f"{STATUS_LIST_ID!r}",
            status=404,
        )

    entries = StatusList(STATUS_LIST_SIZE, bits=STATUS_LIST_BITS)
    for index, value in _db().status_values(list_id).items():
        if index < STATUS_LIST_SIZE:
            entries.set(index, value)
    issued_at = int(_now().timestamp())
    token = status_list_token(
        _signing_key(),
        uri=status_list_uri(current_app, list_id),
        status_list=entries,
        iat=issued_at,
        exp=issued_at + STATUS_LIST_VALIDITY,
        ttl=STATUS_LIST_TTL,
    )
    response = Response(token, mimetype=STATUS_LIST_MEDIA_TYPE)
    response.headers["Cache-Control"] = f"max-age={STATUS_LIST_TTL}"
    return response


# Revocation.


def revoke(store: storage.Store, credential_id: str) -> dict:
    """Mark an issued credential as revoked (INVALID) in its status list.

    Returns the issued credential's record. Raises CredentialNotFound for
    an unknown id.
    """
    with store.connection() as db:
        record = db.get_issued(credential_id)
        if record is None or record["status_list_id"] is None:
            raise CredentialNotFound(
                f"credential {credential_id!r} not found among the issued "
                "credentials; take the id from the issuer.credential_issued "
                "evidence of its session"
            )
        with db.transaction():
            db.set_status(record["status_list_id"], record["status_index"], INVALID)
            audit.record(
                db,
                "credential.revoked",
                subject=audit.session_subject(record["session_id"]),
                actor="operator",
                data={
                    "credential_id": credential_id,
                    "vct": record["vct"],
                    "status_list": record["status_list_id"],
                    "status_index": record["status_index"],
                },
            )
    log.info(
        "Revoked credential %s (status list %s, index %d)",
        credential_id,
        record["status_list_id"],
        record["status_index"],
    )
    return record


@blueprint.cli.command("revoke")
@click.argument("credential_id")
def revoke_command(credential_id: str) -> None:
    """Revoke the issued credential CREDENTIAL_ID in the status list."""
    store = current_app.extensions[storage.EXTENSION_KEY]
    try:
        record = revoke(store, credential_id)
    except CredentialNotFound as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Revoked credential {credential_id} ({record['vct']}): status list "
        f"{record['status_list_id']}, index {record['status_index']} is now INVALID"
    )
