"""The verifier's OpenID4VP 1.0 endpoints: request objects and responses.

A presenting session starts in :func:`prepare`, which makes its ``nonce``,
``state`` and ``request_id``. The wallet fetches the signed request object
once from ``GET /api/v1/verifier/requests/<request_id>`` and posts its
response to ``POST /api/v1/verifier/responses/<request_id>``: a form with
``vp_token`` and ``state`` (``direct_post``), with ``response``, a JWE that
contains them (``direct_post.jwt``), or with ``error``. docs/wallet-api.md
describes the contract.

Every step lands in the session's evidence: the request object sent, the
raw response, each check, the issuer keys used and the status list tokens.
State changes are the storage layer's events.
"""

from __future__ import annotations

import dataclasses
import hmac
import http.client
import logging
import secrets
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from stappen import apiconfig, dcql, jose, sdjwt, statuslist, storage
from stappen.model import Flow, Step
from stappen.storage.errors import session_label
from stappen.walletstep import PresentSettings

log = logging.getLogger(__name__)

blueprint = Blueprint("verifier", __name__, url_prefix="/api/v1/verifier")

REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
REQUEST_OBJECT_MEDIA_TYPE = "application/oauth-authz-req+jwt"
STATIC_AUDIENCE = "https://self-issued.me/v2"
"""The request object's ``aud`` when the wallet's metadata is static
(OpenID4VP 1.0, "aud of a Request Object")."""

WALLET_URL_PREFIX = "openid4vp://"
RESPONSE_MODE_ENCRYPTED = "direct_post.jwt"
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"

ENCRYPTION_ALG = "ECDH-ES"
ENCRYPTION_ENCS = ("A128GCM", "A256GCM")
"""JWE content encryption the verifier accepts; A128GCM is the default that
OpenID4VP 1.0 lets wallets assume."""

STATUS_FETCH_TIMEOUT_SECONDS = 5
"""How long fetching a status list from another server may take."""

OPEN_STATES = frozenset({"created", "request_retrieved"})
"""States in which the wallet may still respond to the request."""

RESULT_OMITTED_CLAIMS = frozenset({"iss", "vct", "cnf", "status", "iat", "exp", "nbf"})
"""Credential claims left out of a session's result: the issuer and type are
given separately, and the holder key, status reference and times are only
needed for the checks."""

REPLAY_REASON = "this presentation was received before, in this or another session"

REQUEST_NOT_FOUND = (
    "request not found: it was fetched before, has expired or never existed; "
    "start a new session on the page"
)


def prepare(
    app: Flask, flow: Flow, step: Step, settings: PresentSettings, now: datetime
) -> tuple[dict, str]:
    """Make the OpenID4VP values of a new presenting session.

    Returns the session fields for the store (``nonce``, ``state_param``,
    ``request_id`` and ``data``) and the ``openid4vp://`` URL for the QR
    code. ``data`` keeps the DCQL query, the trusted issuers and, for
    ``direct_post.jwt``, the private half of a fresh ECDH-ES P-256 key that
    the wallet encrypts its response to. Raises apiconfig.ApiConfigError
    when the verifier's key files are missing.
    """
    identity = apiconfig.verifier_identity(app)
    request_id = secrets.token_urlsafe(32)
    data = {
        "response_mode": settings.response_mode,
        "client_id": identity.client_id,
        "dcql_query": settings.query,
        "trusted_issuers": list(settings.trusted_issuers),
    }
    if settings.response_mode == RESPONSE_MODE_ENCRYPTED:
        data["encryption_jwk"] = _new_encryption_key().as_dict(private=True)

    fields = {
        "nonce": secrets.token_urlsafe(32),
        "state_param": secrets.token_urlsafe(32),
        "request_id": request_id,
        "data": data,
    }
    return fields, wallet_url(identity.client_id, request_uri(app, request_id))


def wallet_url(client_id: str, uri: str) -> str:
    """Return the ``openid4vp://`` URL that passes the request by reference."""
    query = urlencode({"client_id": client_id, "request_uri": uri})
    return f"{WALLET_URL_PREFIX}?{query}"


def request_uri(app: Flask, request_id: str) -> str:
    return f"{apiconfig.public_url(app)}/api/v1/verifier/requests/{request_id}"


def response_uri(app: Flask, request_id: str) -> str:
    return f"{apiconfig.public_url(app)}/api/v1/verifier/responses/{request_id}"


def _new_encryption_key() -> ECKey:
    parameters = {"use": "enc", "alg": ENCRYPTION_ALG}
    return ECKey.generate_key("P-256", parameters=parameters, auto_kid=True)


@blueprint.errorhandler(apiconfig.ApiConfigError)
def _unavailable(error: apiconfig.ApiConfigError) -> tuple[Response, int]:
    log.error("Rejected a verifier request: %s", error)
    return jsonify(error="service_unavailable", message=str(error)), 503


# The request object


@blueprint.get("/requests/<request_id>")
def get_request_object(request_id: str) -> Response:
    """Send the signed request object once and move the session on."""
    if request.method == "HEAD":
        # Flask adds HEAD to every GET route, and a HEAD request, say from a
        # link preview, must not use up the single fetch of the request.
        abort(405, description="fetch the request object with GET")
    app = current_app._get_current_object()
    db = storage.request_connection()
    moment = apiconfig.now(app)
    session = _presenting_session(db, request_id)
    if session is None:
        log.warning("Rejected a request object fetch: unknown request_id")
        abort(404, description=REQUEST_NOT_FOUND)

    label = session_label(session["id"])
    once = db.consume_once(
        "request_uri", request_id, session_id=session["id"], now=moment
    )
    if not once:
        log.warning("Session %s: rejected a second request object fetch", label)
        abort(404, description=REQUEST_NOT_FOUND)

    moved = db.transition(
        session["id"], from_states={"created"}, to="request_retrieved", now=moment
    )
    if not moved:
        log.warning("Session %s: rejected a request object fetch: ended", label)
        abort(404, description=REQUEST_NOT_FOUND)

    token = _sign_request_object(app, session, moment)
    db.add_evidence(session["id"], "request_object", {"request_object": token}, moment)
    log.info("Session %s: sent its request object", label)
    return Response(
        token, mimetype=REQUEST_OBJECT_MEDIA_TYPE, headers={"Cache-Control": "no-store"}
    )


def _sign_request_object(app: Flask, session: dict, moment: datetime) -> str:
    identity = apiconfig.verifier_identity(app)
    data = session["data"]
    claims = {
        "client_id": data["client_id"],
        "response_type": "vp_token",
        "response_mode": data["response_mode"],
        "response_uri": response_uri(app, session["request_id"]),
        "nonce": session["nonce"],
        "state": session["state_param"],
        "dcql_query": data["dcql_query"],
        "client_metadata": _client_metadata(data),
        "aud": STATIC_AUDIENCE,
        "iat": int(moment.timestamp()),
        "exp": int(session["expires_at"].timestamp()),
    }
    headers = {"x5c": list(identity.x5c)}
    return jose.sign(claims, identity.key, typ=REQUEST_OBJECT_TYP, headers=headers)


def _client_metadata(data: dict) -> dict:
    algorithms = list(jose.ALLOWED_ALGORITHMS)
    metadata: dict[str, Any] = {
        "vp_formats_supported": {
            dcql.SD_JWT_FORMAT: {
                "sd-jwt_alg_values": algorithms,
                "kb-jwt_alg_values": algorithms,
            }
        }
    }
    if data["response_mode"] == RESPONSE_MODE_ENCRYPTED:
        public = ECKey.import_key(data["encryption_jwk"]).as_dict(private=False)
        metadata["jwks"] = {"keys": [public]}
        metadata["encrypted_response_enc_values_supported"] = list(ENCRYPTION_ENCS)
    return metadata


def _presenting_session(db, request_id: str) -> dict | None:
    session = db.get_session_by("request_id", request_id)
    if session is None or session["purpose"] != "present":
        return None
    return session


# The response


class _Rejected(Exception):
    """A response that is rejected without changing its session's state."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@blueprint.post("/responses/<request_id>")
def post_response(request_id: str) -> tuple[Response, int]:
    """Receive the wallet's response, verify it and end the session."""
    app = current_app._get_current_object()
    db = storage.request_connection()
    moment = apiconfig.now(app)
    session = _presenting_session(db, request_id)
    if session is None:
        log.warning("Rejected a response: unknown request_id")
        return _wallet_error("response_uri not found; the request may have expired")

    try:
        return _receive(app, db, session, moment)
    except _Rejected as rejection:
        label = session_label(session["id"])
        log.warning("Session %s: rejected a response: %s", label, rejection)
        evidence = {"reason": rejection.description}
        db.add_evidence(session["id"], "rejected_response", evidence, moment)
        return _wallet_error(rejection.description)


def _receive(app: Flask, db, session: dict, moment: datetime) -> tuple[Response, int]:
    db.add_evidence(session["id"], "response", request.get_data(cache=True), moment)
    parameters = _response_parameters(session)
    state = _checked_state(session, parameters)
    if not db.consume_once("state", state, session_id=session["id"], now=moment):
        raise _Rejected("state was used before; a response is accepted once")

    if "error" in parameters:
        return _receive_wallet_error(db, session, parameters, moment)

    # Loaded before the session moves on, so that missing key files (a 503)
    # cannot leave it in "submitted".
    issuer_keys = apiconfig.issuer_jwks(app, tuple(session["data"]["trusted_issuers"]))
    moved = db.transition(
        session["id"], from_states={"request_retrieved"}, to="submitted", now=moment
    )
    if not moved:
        raise _Rejected("this request has ended or expired; start a new session")

    vp_token = parameters.get("vp_token")
    outcome = _verify_response(app, db, session, vp_token, issuer_keys, moment)
    _record_outcome(db, session, outcome, moment)
    return _finish(db, session, outcome, moment)


def _response_parameters(session: dict) -> dict:
    """Read the form and, for direct_post.jwt, decrypt its ``response``."""
    if request.mimetype != FORM_MEDIA_TYPE:
        got = request.mimetype or "no Content-Type"
        raise _Rejected(f"expected a form body ({FORM_MEDIA_TYPE}), got {got!r}")

    form = _single_values()
    encrypted = session["data"]["response_mode"] == RESPONSE_MODE_ENCRYPTED
    if "error" in form:
        return form
    if encrypted:
        if set(form) != {"response"}:
            raise _Rejected(
                "response_mode direct_post.jwt expects one parameter, 'response' "
                f"(a JWE), got {sorted(form)}"
            )
        return _decrypt_response(form["response"], session)
    if "response" in form:
        raise _Rejected(
            "this request uses response_mode direct_post; send vp_token and "
            "state, not response"
        )
    return form


def _single_values() -> dict[str, str]:
    values = {}
    for name in request.form:
        occurrences = request.form.getlist(name)
        if len(occurrences) > 1:
            raise _Rejected(
                f"parameter {name!r} appears {len(occurrences)} times; send it once"
            )
        values[name] = occurrences[0]
    return values


def _decrypt_response(value: str, session: dict) -> dict:
    key = ECKey.import_key(session["data"]["encryption_jwk"])
    _check_jwe_kid(value, key.kid)
    allowed = [ENCRYPTION_ALG, *ENCRYPTION_ENCS]
    try:
        decrypted = jwe.decrypt_compact(value, key, algorithms=allowed)
    except (JoseError, ValueError) as error:
        raise _Rejected(
            f"response could not be decrypted ({_jose_reason(error)}); encrypt "
            f"it with alg {ENCRYPTION_ALG} and enc {' or '.join(ENCRYPTION_ENCS)} "
            "to the key in client_metadata.jwks"
        ) from error

    try:
        payload = jose.loads_json(decrypted.plaintext)
    except (ValueError, UnicodeDecodeError) as error:
        raise _Rejected(f"decrypted response is not JSON: {error}") from error
    if not isinstance(payload, dict):
        raise _Rejected("decrypted response is not a JSON object")
    return payload


def _jose_reason(error: Exception) -> str:
    """Describe a joserfc error, whose text can be only its code."""
    if isinstance(error, JoseError):
        return error.description or error.error
    return str(error)


def _check_jwe_kid(value: str, expected: str) -> None:
    """Check the JWE's kid first, which names a wrong key better than decryption."""
    try:
        header = jose.loads_json(jose.b64url_decode(value.split(".", 1)[0]))
    except (ValueError, UnicodeDecodeError) as error:
        raise _Rejected(f"response is not a compact JWE: {error}") from error

    kid = header.get("kid") if isinstance(header, dict) else None
    if kid != expected:
        raise _Rejected(
            f"response JWE has kid {kid!r}; expected {expected!r}, the kid of the "
            "key in client_metadata.jwks"
        )


def _checked_state(session: dict, parameters: dict) -> str:
    state = parameters.get("state")
    if not isinstance(state, str) or not state:
        raise _Rejected("state is missing; send the state of the request object")

    expected = session["state_param"].encode()
    if not hmac.compare_digest(state.encode(), expected):
        raise _Rejected("state does not belong to this request")
    return state


def _receive_wallet_error(
    db, session: dict, parameters: dict, moment: datetime
) -> tuple[Response, int]:
    """End the session for an error response: rejected when the citizen declined."""
    error = str(parameters["error"])
    declined = error == "access_denied"
    line = _line(
        None,
        "wallet response",
        False,
        f"the wallet responded with error {error!r}: "
        f"{parameters.get('error_description', 'no description')}",
    )
    to = "rejected" if declined else "failed"
    result = None if declined else {"status": "failed", "report": [line]}
    moved = db.transition(
        session["id"],
        from_states=OPEN_STATES,
        to=to,
        now=moment,
        detail={"error": error},
        result=result,
    )
    if not moved:
        raise _Rejected("this request has ended or expired; start a new session")

    db.add_evidence(session["id"], "check", line, moment)
    log.info(
        "Session %s: the wallet responded with error %r",
        session_label(session["id"]),
        error,
    )
    return jsonify({}), 200


# Verification


@dataclasses.dataclass
class Outcome:
    """The results of the checks of one response."""

    report: list[dict] = dataclasses.field(default_factory=list)
    """One line per check: credential, check, passed and reason."""
    claims: dict[str, list[dict]] = dataclasses.field(default_factory=dict)
    issuer_keys: dict[str, list[dict]] = dataclasses.field(default_factory=dict)
    status_tokens: list[str] = dataclasses.field(default_factory=list)

    @property
    def verified(self) -> bool:
        return bool(self.report) and all(line["passed"] for line in self.report)

    @property
    def failed_checks(self) -> list[str]:
        return [line["check"] for line in self.report if not line["passed"]]


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
        return db.consume_once(
            "presentation", presentation, session_id=session["id"], now=moment
        )

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


def verify_vp_token(
    vp_token: Any,
    *,
    query: dict,
    issuer_keys: dict[str, list[dict]],
    nonce: str,
    client_id: str,
    now: int,
    iat_window: tuple[int, int],
    fetch: Callable[[str], str],
    first_use: Callable[[str], bool],
) -> Outcome:
    """Check a ``vp_token`` against the request and return every check's result.

    ``issuer_keys`` maps each trusted issuer to its public JWKs, ``fetch``
    returns the status list token at a URI, and ``first_use`` returns whether
    a presentation is new, so that a replayed one is rejected. Each
    presentation is verified with sdjwt.verify_presentation, and then the
    credentials together with dcql.satisfied.
    """
    outcome = Outcome()
    try:
        presentations = parse_vp_token(vp_token)
    except ValueError as error:
        outcome.report.append(_line(None, "vp_token", False, str(error)))
        return outcome

    expected = _Expected(issuer_keys, nonce, client_id, now, iat_window, fetch)
    verified: dict[str, list[sdjwt.VerifiedCredential]] = {}
    for query_id, items in presentations.items():
        for number, presentation in enumerate(items, start=1):
            label = query_id if len(items) == 1 else f"{query_id} #{number}"
            if not first_use(presentation):
                outcome.report.append(_line(label, "replay", False, REPLAY_REASON))
                continue

            credential = _verify_presentation(outcome, label, presentation, expected)
            if credential is not None:
                verified.setdefault(query_id, []).append(credential)

    if outcome.verified:
        _check_query(outcome, query, verified)
    return outcome


@dataclasses.dataclass(frozen=True)
class _Expected:
    """The request's values that each presentation is verified against."""

    issuer_keys: dict[str, list[dict]]
    nonce: str
    client_id: str
    now: int
    iat_window: tuple[int, int]
    fetch: Callable[[str], str]

    @property
    def trusted(self) -> sdjwt.TrustedIssuers:
        jwks = {issuer: {"keys": keys} for issuer, keys in self.issuer_keys.items()}
        return sdjwt.TrustedIssuers(jwks)


def _verify_presentation(
    outcome: Outcome, label: str, presentation: str, expected: _Expected
) -> sdjwt.VerifiedCredential | None:
    """Verify one presentation and add its checks, issuer keys and status token."""
    status_check = _status_checker(
        expected.issuer_keys, presentation, expected.fetch, expected.now
    )
    _note_issuer(outcome, expected.issuer_keys, presentation)
    try:
        credential = sdjwt.verify_presentation(
            presentation,
            trusted=expected.trusted,
            nonce=expected.nonce,
            aud=expected.client_id,
            now=expected.now,
            iat_window=expected.iat_window,
            status_check=status_check,
        )
    except sdjwt.PresentationRejected as rejection:
        _add_checks(outcome, label, rejection.checks, rejection.status_token)
        return None

    _add_checks(outcome, label, credential.checks, credential.status_token)
    return credential


def parse_vp_token(value: Any) -> dict[str, list[str]]:
    """Read a ``vp_token``: a JSON object of credential query id to presentations.

    A form sends it as JSON text, a decrypted JWE as an object. Raises
    ValueError naming what is wrong.
    """
    if value is None:
        raise ValueError("vp_token is missing")
    if isinstance(value, str):
        try:
            value = jose.loads_json(value)
        except ValueError as error:
            raise ValueError(f"vp_token is not valid JSON: {error}") from error
    if not isinstance(value, dict) or not value:
        raise ValueError(
            "vp_token must be a non-empty JSON object of credential query id to "
            "a list of presentations"
        )

    for query_id, items in value.items():
        valid = isinstance(items, list) and items
        if not valid or not all(isinstance(i, str) and i for i in items):
            raise ValueError(
                f"vp_token entry {query_id!r} must be a non-empty list of "
                "presentations (strings)"
            )
    return value


def _status_checker(
    issuer_keys: dict[str, list[dict]],
    presentation: str,
    fetch: Callable[[str], str],
    now: int,
) -> Callable[[dict], tuple[bool, str, str | None]]:
    """Check a status with the keys of the presentation's own issuer.

    The issuer is read before verification, but verify_presentation calls
    this only after the issuer's signature has been verified.
    """
    issuer = _unverified_issuer(presentation)
    keys = issuer_keys.get(issuer, [])

    def check(status_claim: dict) -> tuple[bool, str, str | None]:
        if not keys:
            reason = f"issuer {issuer!r} has no key to verify its status list with"
            return False, reason, None
        return statuslist.check_status(status_claim, fetch, keys, now)

    return check


def _unverified_issuer(presentation: str) -> str | None:
    try:
        issuer_jwt = sdjwt.parse(presentation).issuer_jwt
        issuer = jose.decode_unverified(issuer_jwt)[1].get("iss")
    except (sdjwt.MalformedSdJwt, jose.VerificationError):
        return None
    return issuer if isinstance(issuer, str) else None


def _add_checks(
    outcome: Outcome, label: str, checks: list[sdjwt.Check], token: str | None
) -> None:
    for check in checks:
        outcome.report.append(_line(label, check.name, check.passed, check.reason))
    if token is not None:
        outcome.status_tokens.append(token)


def _note_issuer(
    outcome: Outcome, issuer_keys: dict[str, list[dict]], presentation: str
) -> None:
    issuer = _unverified_issuer(presentation)
    if issuer in issuer_keys:
        outcome.issuer_keys[issuer] = issuer_keys[issuer]


def _check_query(
    outcome: Outcome, query: dict, verified: dict[str, list[sdjwt.VerifiedCredential]]
) -> None:
    problems = dcql.satisfied(query, verified)
    for problem in problems:
        outcome.report.append(_line(None, "query", False, problem))
    if problems:
        return

    outcome.report.append(
        _line(None, "query", True, "the credentials satisfy the DCQL query")
    )
    outcome.claims = {
        query_id: [_result_credential(credential) for credential in credentials]
        for query_id, credentials in verified.items()
    }


def _result_credential(credential: sdjwt.VerifiedCredential) -> dict:
    claims = {
        name: value
        for name, value in credential.claims.items()
        if name not in RESULT_OMITTED_CLAIMS
    }
    return {"issuer": credential.issuer, "vct": credential.vct, "claims": claims}


def _line(credential: str | None, check: str, passed: bool, reason: str) -> dict:
    return {
        "credential": credential,
        "check": check,
        "passed": passed,
        "reason": reason,
    }


def _record_outcome(db, session: dict, outcome: Outcome, moment: datetime) -> None:
    session_id = session["id"]
    for line in outcome.report:
        db.add_evidence(session_id, "check", line, moment)
    if outcome.issuer_keys:
        db.add_evidence(session_id, "issuer_keys", outcome.issuer_keys, moment)
    for token in outcome.status_tokens:
        db.add_evidence(session_id, "status_token", {"token": token}, moment)


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
        raise _Rejected("the session ended while the response was checked")

    if outcome.verified:
        log.info("Session %s: presentation verified", label)
        return jsonify({}), 200
    failed = ", ".join(outcome.failed_checks)
    log.warning(
        "Session %s: rejected the presentation: failed checks %s", label, failed
    )
    return _wallet_error(f"the presentation was rejected: failed checks {failed}")


def _wallet_error(description: str) -> tuple[Response, int]:
    """Return an OAuth 2.0 error for the wallet, plus the API's usual ``message``."""
    body = {
        "error": "invalid_request",
        "error_description": description,
        "message": description,
    }
    return jsonify(body), 400


# Status lists


def fetch_status_list(app: Flask, uri: str) -> str:
    """Return the status list token at ``uri``.

    A URI under STAPPEN_PUBLIC_URL is this API's own, so it is read in
    process. Any other is fetched over HTTP(S) with a short timeout. Raises
    OSError or ValueError when the token cannot be fetched, as
    statuslist.check_status expects.
    """
    own_path = _own_path(app, uri)
    if own_path is not None:
        return _fetch_in_process(app, own_path, uri)
    return _fetch_over_http(uri)


def _own_path(app: Flask, uri: str) -> str | None:
    base = urlsplit(apiconfig.public_url(app))
    target = urlsplit(uri)
    same_origin = (target.scheme, target.netloc) == (base.scheme, base.netloc)
    prefix = base.path.rstrip("/") + "/"
    if not same_origin or not target.path.startswith(prefix):
        return None
    path = "/" + target.path[len(prefix) :]
    return f"{path}?{target.query}" if target.query else path


def _fetch_in_process(app: Flask, path: str, uri: str) -> str:
    headers = {"Accept": statuslist_media_type()}
    response = app.test_client().get(path, headers=headers)
    if response.status_code != 200:
        raise ValueError(f"status list {uri!r} returned HTTP {response.status_code}")
    return response.get_data(as_text=True)


def _fetch_over_http(uri: str) -> str:
    if urlsplit(uri).scheme not in ("http", "https"):
        raise ValueError(f"status list uri {uri!r} is not an http(s) URL")

    limit = jose.MAX_PAYLOAD_BYTES + jose.MAX_HEADER_BYTES
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    fetch = urllib.request.Request(uri, headers={"Accept": statuslist_media_type()})
    try:
        with opener.open(fetch, timeout=STATUS_FETCH_TIMEOUT_SECONDS) as response:
            body = response.read(limit + 1)
    except http.client.HTTPException as error:
        raise ValueError(
            f"status list {uri!r} sent an invalid HTTP response"
        ) from error
    if len(body) > limit:
        raise ValueError(f"status list {uri!r} is larger than {limit} bytes")
    return body.decode("ascii")


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) URLs only."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlsplit(newurl).scheme not in ("http", "https"):
            raise ValueError(f"status list redirects to {newurl!r}, not an http(s) URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def statuslist_media_type() -> str:
    return "application/" + statuslist.STATUS_LIST_TYP
