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

Each module has one part. ``blueprint`` has the Flask blueprint and its
shared errors, and ``request_object`` a session's values and its signed
request object. ``responses`` has the response endpoint and the session's
end state, and ``decryption`` reads ``direct_post.jwt``. ``verification``
checks a ``vp_token``, and ``status_lists`` fetches Token Status Lists.
Importing this package registers the routes on ``blueprint``.
"""

from stappen.verifier.blueprint import blueprint
from stappen.verifier.request_object import (
    get_request_object,
    prepare,
    request_uri,
    response_uri,
    wallet_url,
)
from stappen.verifier.responses import post_response
from stappen.verifier.status_lists import fetch_status_list, statuslist_media_type
from stappen.verifier.verification import Outcome, parse_vp_token, verify_vp_token

__all__ = [
    "Outcome",
    "blueprint",
    "fetch_status_list",
    "get_request_object",
    "parse_vp_token",
    "post_response",
    "prepare",
    "request_uri",
    "response_uri",
    "statuslist_media_type",
    "verify_vp_token",
    "wallet_url",
]
