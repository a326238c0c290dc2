"""A presenting session's OpenID4VP values and its signed request object."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, abort, current_app, request
from joserfc.jwk import ECKey

from stappen import apiconfig, dcql, jose, storage
from stappen.model import Flow, Step
from stappen.storage.errors import session_label
from stappen.verifier.blueprint import blueprint, presenting_session
from stappen.walletstep import PresentSettings

log = logging.getLogger(__name__)

REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
REQUEST_OBJECT_MEDIA_TYPE = "application/oauth-authz-req+jwt"
STATIC_AUDIENCE = "https://self-issued.me/v2"
"""The request object's ``aud`` when the wallet's metadata is static
(OpenID4VP 1.0, "aud of a Request Object")."""

WALLET_URL_PREFIX = "openid4vp://"
RESPONSE_MODE_ENCRYPTED = "direct_post.jwt"

ENCRYPTION_ALG = "ECDH-ES"
ENCRYPTION_ENCS = ("A128GCM", "A256GCM")
"""JWE content encryption the verifier accepts; A128GCM is the default that
OpenID4VP 1.0 lets wallets assume."""

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
    session = presenting_session(db, request_id)
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
