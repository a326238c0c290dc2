"""Decrypting a ``direct_post.jwt`` response: a JWE to the session's key."""

from __future__ import annotations

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from stappen import jose
from stappen.verifier.blueprint import Rejected
from stappen.verifier.request_object import ENCRYPTION_ALG, ENCRYPTION_ENCS


def decrypt_response(value: str, session: dict) -> dict:
    """Return the parameters in the JWE ``value``; raise Rejected when it fails."""
    key = ECKey.import_key(session["data"]["encryption_jwk"])
    _check_jwe_kid(value, key.kid)
    allowed = [ENCRYPTION_ALG, *ENCRYPTION_ENCS]
    try:
        decrypted = jwe.decrypt_compact(value, key, algorithms=allowed)
    except (JoseError, ValueError) as error:
        raise Rejected(
            f"response could not be decrypted ({_jose_reason(error)}); encrypt "
            f"it with alg {ENCRYPTION_ALG} and enc {' or '.join(ENCRYPTION_ENCS)} "
            "to the key in client_metadata.jwks"
        ) from error

    try:
        payload = jose.loads_json(decrypted.plaintext)
    except (ValueError, UnicodeDecodeError) as error:
        raise Rejected(f"decrypted response is not JSON: {error}") from error
    if not isinstance(payload, dict):
        raise Rejected("decrypted response is not a JSON object")
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
        raise Rejected(f"response is not a compact JWE: {error}") from error

    kid = header.get("kid") if isinstance(header, dict) else None
    if kid != expected:
        raise Rejected(
            f"response JWE has kid {kid!r}; expected {expected!r}, the kid of the "
            "key in client_metadata.jwks"
        )
