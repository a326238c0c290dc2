"""Verifying an OpenID4VP request object signed for an ``x509_hash`` client id."""

from __future__ import annotations

import base64
import dataclasses
import datetime
import hashlib
import urllib.parse
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from joserfc.jwk import ECKey, Key, OKPKey

from stappen import jose
from stappen.wallet.store import WalletError
from stappen.wallet.transport import _require, check_http_url

REQUEST_OBJECT_TYP = "oauth-authz-req+jwt"
SELF_ISSUED_AUDIENCE = "https://self-issued.me/v2"
"""The ``aud`` of a request object when the wallet sent no wallet metadata."""

RESPONSE_MODES = ("direct_post", "direct_post.jwt")


@dataclasses.dataclass(frozen=True)
class AuthorizationRequest:
    """A verified OpenID4VP request object, with the parts the wallet uses."""

    client_id: str
    response_uri: str
    response_mode: str
    nonce: str
    state: str
    dcql_query: dict
    client_metadata: dict
    expires_at: int | None
    certificate_subject: str


def _request_uri_method(request_url: str) -> str:
    query = urllib.parse.urlsplit(request_url.strip()).query
    values = urllib.parse.parse_qs(query).get("request_uri_method", ["get"])
    return values[0].lower()


def verify_request_object(token: str, client_id: str, now: int) -> AuthorizationRequest:
    """Verify a signed request object for the ``x509_hash`` client id prefix.

    The signature must verify with the leaf certificate of ``x5c``, whose
    base64url SHA-256 hash must be the client id. Raises WalletError naming
    the failed check.
    """
    # NOTE: no chain to a trust anchor is checked. The x509_hash pins the leaf
    # certificate, and a test wallet trusts any verifier it is pointed at.
    prefix, _, expected_hash = client_id.partition(":")
    if prefix != "x509_hash" or not expected_hash:
        raise WalletError(
            f"client_id {client_id!r} does not use the x509_hash: prefix; this "
            "wallet supports x509_hash client ids only"
        )

    try:
        header, _ = jose.decode_unverified(token)
        leaf = _leaf_certificate(header.get("x5c"))
        _check_certificate_hash(leaf, expected_hash)
        _check_certificate_times(leaf, now)
        _, claims = jose.verify(
            token, _certificate_key(leaf), typ=REQUEST_OBJECT_TYP, now=now
        )
    except jose.VerificationError as error:
        raise WalletError(
            f"request object failed the {error.check} check: {error.reason}"
        ) from error

    return _authorization_request(claims, client_id, leaf)


def _leaf_certificate(x5c: Any) -> x509.Certificate:
    if not isinstance(x5c, list) or not x5c or not isinstance(x5c[0], str):
        raise jose.VerificationError(
            "x5c", f"header x5c is {x5c!r}; expected a list of base64 certificates"
        )
    try:
        return x509.load_der_x509_certificate(base64.b64decode(x5c[0], validate=True))
    except ValueError as error:
        raise jose.VerificationError(
            "x5c", f"x5c[0] is not a base64 DER certificate: {error}"
        ) from error


def certificate_hash(certificate: x509.Certificate) -> str:
    """Return the ``x509_hash`` of a certificate: base64url SHA-256 of its DER."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    return jose.b64url_encode(hashlib.sha256(der).digest())


def _check_certificate_hash(leaf: x509.Certificate, expected: str) -> None:
    actual = certificate_hash(leaf)
    if actual != expected:
        raise jose.VerificationError(
            "client_id",
            f"client_id hash {expected!r} does not match the x5c leaf "
            f"certificate, whose SHA-256 is {actual!r}",
        )


def _check_certificate_times(leaf: x509.Certificate, now: int) -> None:
    moment = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
    if not leaf.not_valid_before_utc <= moment <= leaf.not_valid_after_utc:
        raise jose.VerificationError(
            "x5c",
            f"leaf certificate is valid from {leaf.not_valid_before_utc} to "
            f"{leaf.not_valid_after_utc}, not at {moment}",
        )


def _certificate_key(leaf: x509.Certificate) -> Key:
    public_key = leaf.public_key()
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return ECKey.import_key(public_key)
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        pem = public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return OKPKey.import_key(pem)
    raise jose.VerificationError(
        "x5c", f"leaf certificate has a {type(public_key).__name__}, not EC or Ed25519"
    )


def _authorization_request(
    claims: dict, client_id: str, leaf: x509.Certificate
) -> AuthorizationRequest:
    source = "request object"
    _expect(claims, "client_id", client_id)
    _expect(claims, "response_type", "vp_token")
    _expect(claims, "aud", SELF_ISSUED_AUDIENCE)
    mode = claims.get("response_mode")
    if mode not in RESPONSE_MODES:
        raise WalletError(
            f"{source} has response_mode {mode!r}; expected one of {RESPONSE_MODES}"
        )
    if "redirect_uri" in claims:
        raise WalletError(
            f"{source} has a redirect_uri, which OpenID4VP forbids with {mode}"
        )

    return AuthorizationRequest(
        client_id=client_id,
        response_uri=check_http_url(claims.get("response_uri"), "response_uri"),
        response_mode=mode,
        nonce=_require(claims, "nonce", str, source),
        state=_require(claims, "state", str, source),
        dcql_query=_require(claims, "dcql_query", dict, source),
        client_metadata=claims.get("client_metadata") or {},
        expires_at=claims.get("exp"),
        certificate_subject=leaf.subject.rfc4514_string(),
    )


def _expect(claims: dict, name: str, expected: str) -> None:
    if claims.get(name) != expected:
        raise WalletError(
            f"request object has {name} {claims.get(name)!r}; expected {expected!r}"
        )
