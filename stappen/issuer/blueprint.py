"""The pilot issuer's blueprint, settings, errors and shared helpers."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from joserfc.jwk import Key

from stappen import apiconfig, storage
from stappen.errors import StappenError
from stappen.storage.errors import StorageError, session_label

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

PERSONAS_EXTENSION = "stappen.issuer.personas"

blueprint = Blueprint("issuer", __name__, cli_group="credentials")


class IssuerError(Exception):
    """A rejected wallet request, returned as an OAuth error object.

    ``error`` is the code from OAuth 2.0 or OpenID4VCI 1.0, such as
    ``invalid_grant`` or ``invalid_proof``, and ``description`` describes what
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


def current_time() -> datetime:
    """Return the API's current time (its test clock in tests)."""
    return apiconfig.now(current_app)


def issuer_keys() -> list[Key]:
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


def signing_key() -> Key:
    """Return the key that signs credentials, nonces and status lists."""
    return issuer_keys()[0]


def db_connection() -> storage.StoreConnection:
    """Return this request's database connection."""
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
        db_connection().add_evidence(
            error.session_id, "issuer.rejected", evidence, current_time()
        )
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


def no_store(response: Response) -> Response:
    """Mark ``response`` as not to be cached, and return it."""
    response.headers["Cache-Control"] = "no-store"
    return response


def add_evidence(db, session_id: str, kind: str, data: dict) -> None:
    """Add an ``issuer.<kind>`` record to the session's evidence."""
    db.add_evidence(session_id, f"issuer.{kind}", data, current_time())


def epoch_millis(moment: datetime) -> int:
    """Return ``moment`` in milliseconds since the epoch."""
    return int(moment.timestamp() * 1000)


def short_repr(value: Any) -> str:
    """Return ``repr(value)`` cut to 60 characters, for error messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
