"""Strict JOSE helpers on joserfc: keys, compact JWS signing and verification.

Only ES256 (P-256) and EdDSA (Ed25519) signatures are accepted. The
verifier picks the key itself from the keys the caller trusts, so a token
can never choose its own key through ``jku``, ``x5u`` or ``jwk`` headers
(``jwk`` only when the caller asks for it, as in key proofs).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import math
import re
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509 import verification as x509_verification
from joserfc import jws
from joserfc.errors import JoseError, UnsupportedAlgorithmError
from joserfc.jwk import ECKey, Key, KeySet, OKPKey

ALLOWED_ALGORITHMS = ("ES256", "EdDSA")

KEY_TYPES = {"ES256": ("EC", "P-256"), "EdDSA": ("OKP", "Ed25519")}
"""The key type and curve each allowed algorithm needs."""

MAX_HEADER_BYTES = 16 * 1024
"""Largest encoded JWS header: room for an ``x5c`` chain of a few certificates."""

MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
"""Largest encoded JWS payload: room for a large compressed status list."""

MAX_X5C_CERTIFICATES = 10

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_BASE64URL_VALUES = {
    character: value
    for value, character in enumerate(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
}
_UNUSED_BITS_MASK = (0, 0, 0b1111, 0b11)
"""Bits of the last base64url character that no decoded byte uses, by the
text's length mod 4. A length of 1 mod 4 never decodes."""
_KEY_CARRYING_HEADERS = ("jku", "x5u", "jwk")


class VerificationError(Exception):
    """A token failed one check.

    ``check`` is a short stable name ("format", "alg", "typ", "signature",
    "exp" and so on) and ``reason`` a sentence that names the bad value.
    """

    def __init__(self, check: str, reason: str) -> None:
        super().__init__(f"{check}: {reason}")
        self.check = check
        self.reason = reason


class _AllowListRegistry(jws.JWSRegistry):
    """A joserfc registry that accepts only the allowed algorithms.

    joserfc 1.8 warns that "EdDSA" is deprecated by RFC 9864 in favour of
    "Ed25519". Wallets still sign with "EdDSA", so it stays allowed, and the
    allow-list is applied here instead of through joserfc's warning path.
    """

    max_header_length = MAX_HEADER_BYTES
    max_payload_length = MAX_PAYLOAD_BYTES

    def get_alg(self, name: str) -> jws.JWSAlgModel:
        if name not in ALLOWED_ALGORITHMS:
            raise UnsupportedAlgorithmError(f"Algorithm {name!r} is not allowed")
        return self.algorithms[name]


_REGISTRY = _AllowListRegistry(strict_check_header=False)


def b64url_encode(data: bytes) -> str:
    """Encode ``data`` as base64url without padding (RFC 7515, section 2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url, rejecting any other spelling of the bytes.

    Only the canonical encoding is accepted, so two different strings never
    decode to the same bytes. Raises ``ValueError`` naming the problem.
    """
    if not isinstance(text, str) or not _BASE64URL.fullmatch(text):
        raise ValueError(f"{_shorten(text)!r} is not unpadded base64url")

    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as error:
        raise ValueError(f"{_shorten(text)!r} is not valid base64url") from error

    # The last character of unpadded base64url has 0, 2 or 4 bits that no
    # decoded byte uses. The text is canonical only when they are zero, the
    # same test as re-encoding the bytes, at a fraction of the cost.
    unused_bits = _UNUSED_BITS_MASK[len(text) % 4]
    if unused_bits and _BASE64URL_VALUES[text[-1]] & unused_bits:
        raise ValueError(f"{_shorten(text)!r} is not canonical base64url")
    return data


def loads_json(data: bytes | str) -> Any:
    """Parse JSON strictly: no duplicate member names, no NaN or Infinity.

    Raises ``ValueError`` naming the problem.
    """
    # The same steps as json.loads, with one decoder built at import time
    # instead of one per call.
    if isinstance(data, bytes | bytearray):
        data = data.decode(json.detect_encoding(data), "surrogatepass")
    elif not isinstance(data, str):
        raise TypeError(
            f"the JSON object must be str, bytes or bytearray, "
            f"not {type(data).__name__}"
        )
    elif data.startswith("\ufeff"):
        raise json.JSONDecodeError(
            "Unexpected UTF-8 BOM (decode using utf-8-sig)", data, 0
        )

    try:
        return _STRICT_DECODER.decode(data)
    except RecursionError as error:
        raise ValueError("JSON is nested too deeply") from error


def _reject_duplicate_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"JSON object has the member {name!r} twice")
        result[name] = value
    return result


def _reject_constant(name: str) -> None:
    raise ValueError(f"JSON contains {name}, which is not valid JSON")


def _parse_finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"JSON number {text} is out of range")
    return value


_STRICT_DECODER = json.JSONDecoder(
    object_pairs_hook=_reject_duplicate_names,
    parse_constant=_reject_constant,
    parse_float=_parse_finite_float,
)


def dumps_json(value: Any) -> bytes:
    """Serialise ``value`` as compact UTF-8 JSON."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def generate_key(alg: str = "ES256") -> Key:
    """Generate a private key for ``alg`` whose kid is its RFC 7638 thumbprint."""
    if alg == "ES256":
        return ECKey.generate_key("P-256", auto_kid=True)
    if alg == "EdDSA":
        return OKPKey.generate_key("Ed25519", auto_kid=True)
    raise ValueError(
        f"cannot generate a key for alg {alg!r}; "
        f"use one of {', '.join(ALLOWED_ALGORITHMS)}"
    )


def public_jwk(key: Key) -> dict:
    """Return the public JWK of ``key``, without any private member."""
    return dict(key.as_dict(private=False))


def key_from_jwk(jwk: dict, *, public_only: bool = True) -> Key:
    """Import a P-256 or Ed25519 JWK.

    With ``public_only`` (the default) a JWK that contains the private
    member ``d`` is rejected, because a public key was expected there.
    Raises ``ValueError`` naming the problem.
    """
    if not isinstance(jwk, dict):
        raise ValueError(f"JWK must be a JSON object, got {_shorten(jwk)!r}")

    key_type = (jwk.get("kty"), jwk.get("crv"))
    if key_type not in KEY_TYPES.values():
        raise ValueError(
            f"JWK has kty {jwk.get('kty')!r} and crv {jwk.get('crv')!r}; "
            "only EC P-256 and OKP Ed25519 keys are supported"
        )

    if public_only and "d" in jwk:
        raise ValueError(
            "JWK contains the private member 'd' where a public key is expected; "
            "send the public key only"
        )

    if jwk.get("use", "sig") != "sig":
        raise ValueError(f"JWK has use {jwk['use']!r}; a signing key needs 'sig'")

    key_class = ECKey if key_type[0] == "EC" else OKPKey
    try:
        if "d" in jwk:
            return key_class.import_key(jwk)
        # joserfc's import_key converts the coordinates to integers and back.
        # Reading the encoded point makes the same check (the point is on the
        # curve) at a fifth of the cost. The constructor checks the members.
        return key_class(_public_key(key_type[1], jwk), jwk)
    except (JoseError, ValueError, TypeError) as error:
        raise ValueError(f"JWK is not a valid {key_type[1]} key: {error}") from error


def _public_key(curve: str, jwk: dict) -> ec.EllipticCurvePublicKey | Any:
    """Return the cryptography public key of a P-256 or Ed25519 public JWK."""
    x = _coordinate(jwk, "x")
    if curve == "Ed25519":
        return ed25519.Ed25519PublicKey.from_public_bytes(x)
    point = b"\x04" + x + _coordinate(jwk, "y")
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)


def _coordinate(jwk: dict, name: str) -> bytes:
    value = b64url_decode(jwk.get(name))
    if len(value) != 32:
        raise ValueError(f"member {name!r} has {len(value)} bytes; expected 32")
    return value


def algorithm_for(key: Key) -> str:
    """Return the allowed signature algorithm that fits ``key``."""
    key_type = (key.key_type, key.get("crv"))
    for alg, needed in KEY_TYPES.items():
        if key_type == needed:
            return alg
    raise ValueError(
        f"key of kty {key_type[0]!r} and crv {key_type[1]!r} fits none of the "
        f"allowed algorithms {', '.join(ALLOWED_ALGORITHMS)}"
    )


def key_id(key: Key) -> str:
    """Return the key's kid, or its RFC 7638 thumbprint when it has none."""
    return key.kid or key.thumbprint()


def sign(claims: dict, key: Key, *, typ: str, headers: dict | None = None) -> str:
    """Sign ``claims`` as a compact JWS with the alg that fits ``key``.

    The header gets ``alg``, ``typ`` and the key's ``kid``. The kid is left
    out when ``headers`` carries a ``jwk`` or ``x5c``, which identify the key
    themselves.
    """
    if not key.is_private:
        raise ValueError("signing needs a private key, but this key is public")

    extra = dict(headers or {})
    for name in ("alg", "typ"):
        if name in extra:
            raise ValueError(
                f"headers must not set {name!r}; it comes from the arguments"
            )

    embedded = extra.get("jwk")
    if isinstance(embedded, dict) and "d" in embedded:
        raise ValueError(
            "headers jwk contains the private member 'd'; "
            "embed the public key only, from public_jwk(key)"
        )

    header = {"alg": algorithm_for(key), "typ": typ, **extra}
    if "jwk" not in extra and "x5c" not in extra:
        header.setdefault("kid", key_id(key))
    return jws.serialize_compact(header, dumps_json(claims), key, registry=_REGISTRY)


def decode_unverified(token: str) -> tuple[dict, dict]:
    """Decode the header and claims of a compact JWS without verifying it.

    Use it only to find which keys to verify with. Raises
    ``VerificationError("format", ...)`` for anything that is not a compact
    JWS with JSON object header and payload.
    """
    if not isinstance(token, str):
        raise VerificationError(
            "format", f"token must be a string, got {type(token).__name__}"
        )

    parts = token.split(".")
    if len(parts) != 3:
        raise VerificationError(
            "format", f"token has {len(parts)} dot-separated parts; a compact JWS has 3"
        )

    header_part, payload_part, signature_part = parts
    if len(header_part) > MAX_HEADER_BYTES or len(payload_part) > MAX_PAYLOAD_BYTES:
        raise VerificationError(
            "format", f"token of {len(token)} characters is too large"
        )

    header = _decode_part(header_part, "header")
    claims = _decode_part(payload_part, "payload")
    try:
        b64url_decode(signature_part)
    except ValueError as error:
        raise VerificationError(
            "format", f"token signature is invalid: {error}"
        ) from error
    return header, claims


def _decode_part(part: str, label: str) -> dict:
    try:
        value = loads_json(b64url_decode(part))
    except (ValueError, UnicodeDecodeError) as error:
        raise VerificationError(
            "format", f"token {label} is invalid: {error}"
        ) from error

    if not isinstance(value, dict):
        raise VerificationError("format", f"token {label} is not a JSON object")
    return value


def verify(
    token: str,
    keys: Any,
    *,
    typ: str | tuple[str, ...],
    now: int | None = None,
    allow_embedded_jwk: bool = False,
) -> tuple[dict, dict]:
    """Verify a compact JWS with the trusted ``keys`` and return (header, claims).

    ``keys`` is a joserfc Key or KeySet, a JWK dict, or a list of either.
    With ``allow_embedded_jwk`` a ``jwk`` header supplies the key instead,
    as in OpenID4VCI key proofs, and the caller decides whether to trust it.
    When ``now`` is given, ``check_times`` runs with its defaults. Raises
    ``VerificationError`` on the first failed check.
    """
    header, claims = decode_unverified(token)
    verify_decoded(
        token,
        header,
        claims,
        keys,
        typ=typ,
        now=now,
        allow_embedded_jwk=allow_embedded_jwk,
    )
    return header, claims


def verify_decoded(
    token: str,
    header: dict,
    claims: dict,
    keys: Any,
    *,
    typ: str | tuple[str, ...],
    now: int | None = None,
    allow_embedded_jwk: bool = False,
) -> None:
    """Run :func:`verify` on a token that ``decode_unverified`` already decoded.

    ``header`` and ``claims`` must be what ``decode_unverified(token)``
    returned, so that the checked header is the signed one.
    """
    alg = _check_alg(header)
    _check_header_parameters(header, allow_embedded_jwk)
    _check_typ(header, typ)

    candidates = _candidate_keys(header, alg, keys, allow_embedded_jwk)
    _check_signature(token, alg, candidates)

    if now is not None:
        check_times(claims, now)


def _check_alg(header: dict) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise VerificationError("alg", f"header alg is {alg!r}; expected a string")

    if alg.lower() == "none":
        raise VerificationError(
            "alg", f"alg {alg!r} marks an unsigned token, which is never accepted"
        )

    if alg.upper().startswith("HS"):
        raise VerificationError(
            "alg",
            f"alg {alg!r} is an HMAC shared-secret algorithm; tokens from a "
            "public-key signer are never verified with HMAC",
        )

    if alg not in ALLOWED_ALGORITHMS:
        raise VerificationError(
            "alg",
            f"alg {alg!r} is not allowed; allowed: {', '.join(ALLOWED_ALGORITHMS)}",
        )
    return alg


def _check_header_parameters(header: dict, allow_embedded_jwk: bool) -> None:
    if "crit" in header:
        raise VerificationError(
            "crit",
            f"header marks {header['crit']!r} as critical extensions, "
            "which this verifier does not support",
        )

    if "b64" in header:
        raise VerificationError(
            "header", "header 'b64' (unencoded payload) is not accepted"
        )

    for name in _KEY_CARRYING_HEADERS:
        if name in header and not (name == "jwk" and allow_embedded_jwk):
            raise VerificationError(
                "header",
                f"header {name!r} would let the token choose its own key; "
                "keys come only from the verifier's trusted keys",
            )


def _check_typ(header: dict, expected: str | tuple[str, ...]) -> None:
    accepted = (expected,) if isinstance(expected, str) else tuple(expected)
    typ = header.get("typ")
    if typ is None:
        raise VerificationError(
            "typ", f"header typ is missing; expected {_or_list(accepted)}"
        )

    if not isinstance(typ, str) or _media_type(typ) not in {
        _media_type(a) for a in accepted
    }:
        raise VerificationError(
            "typ", f"header typ is {typ!r}; expected {_or_list(accepted)}"
        )


def _media_type(value: str) -> str:
    """Normalise a typ value: media types ignore case, and RFC 7515 (4.1.9)
    reads a value without a slash as if "application/" came before it."""
    value = value.lower()
    return value.removeprefix("application/")


def _candidate_keys(
    header: dict, alg: str, keys: Any, allow_embedded_jwk: bool
) -> list[Key]:
    if allow_embedded_jwk and "jwk" in header:
        try:
            return _fitting_keys(alg, [key_from_jwk(header["jwk"], public_only=True)])
        except ValueError as error:
            raise VerificationError("key", f"header jwk is invalid: {error}") from error

    trusted = as_key_list(keys)
    if not trusted:
        raise VerificationError(
            "key", "no trusted key was given to verify the token with"
        )

    kid = header.get("kid")
    if kid is not None:
        trusted = _keys_for_kid(kid, trusted)
    return _fitting_keys(alg, trusted)


def _keys_for_kid(kid: Any, trusted: list[Key]) -> list[Key]:
    matching = [key for key in trusted if key_id(key) == kid]
    if not matching:
        matching = [key for key in trusted if key.kid is None]
    if not matching:
        known = ", ".join(repr(key_id(key)) for key in trusted)
        raise VerificationError(
            "key", f"no trusted key has kid {kid!r}; trusted kids: {known}"
        )
    return matching


def _fitting_keys(alg: str, keys: list[Key]) -> list[Key]:
    kty, crv = KEY_TYPES[alg]
    fitting = [key for key in keys if (key.key_type, key.get("crv")) == (kty, crv)]
    if not fitting:
        found = ", ".join(f"{key.key_type} {key.get('crv')}" for key in keys)
        raise VerificationError(
            "alg", f"alg {alg!r} needs a {kty} {crv} key, but the key is {found}"
        )
    return fitting


def as_key_list(keys: Any) -> list[Key]:
    """Turn a Key, KeySet, JWK dict, or a list of Keys and JWK dicts into a list."""
    if keys is None:
        return []
    if isinstance(keys, KeySet):
        return list(keys)
    if isinstance(keys, list | tuple):
        return [item for entry in keys for item in as_key_list(entry)]
    if isinstance(keys, dict):
        return [key_from_jwk(keys, public_only=False)]
    if isinstance(keys, ECKey | OKPKey):
        return [keys]
    raise ValueError(
        f"keys must be a joserfc Key or KeySet, a JWK dict or a list of them, "
        f"got {type(keys).__name__}"
    )


def _check_signature(token: str, alg: str, candidates: list[Key]) -> None:
    # joserfc's own algorithm checks the key and the signature; the token's
    # parts were decoded and checked already, so deserialize_compact would
    # only decode them again.
    algorithm = _REGISTRY.get_alg(alg)
    signing_input, _, signature_part = token.rpartition(".")
    try:
        signature = b64url_decode(signature_part)
    except ValueError as error:
        raise VerificationError(
            "format", f"token signature is invalid: {error}"
        ) from error
    for key in candidates:
        try:
            algorithm.check_key(key)
            if algorithm.verify(signing_input.encode("ascii"), signature, key):
                return
        except JoseError as error:
            raise VerificationError(
                "signature", f"token could not be verified: {error}"
            ) from error

    kids = ", ".join(repr(key_id(key)) for key in candidates)
    raise VerificationError(
        "signature", f"signature does not verify with the trusted key(s) {kids}"
    )


def check_times(
    claims: dict, now: int, skew: int = 60, require: tuple[str, ...] = ("iat",)
) -> None:
    """Check ``exp``, ``nbf`` and ``iat`` against ``now``, allowing ``skew`` seconds.

    Claims named in ``require`` must be present. Raises ``VerificationError``
    with the claim name as the check.
    """
    for name in require:
        if name not in claims:
            raise VerificationError(name, f"claim {name!r} is missing")

    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if name in claims and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            raise VerificationError(
                name,
                f"claim {name!r} is {value!r}; "
                "expected seconds since 1970 (NumericDate)",
            )

    _check_exp(claims.get("exp"), now, skew)
    _check_nbf(claims.get("nbf"), now, skew)
    _check_iat(claims.get("iat"), now, skew)


def _check_exp(exp: float | None, now: int, skew: int) -> None:
    if exp is not None and now - skew >= exp:
        raise VerificationError(
            "exp",
            f"token expired at {_when(exp)}, "
            f"{now - exp:.0f} s before now ({_when(now)})",
        )


def _check_nbf(nbf: float | None, now: int, skew: int) -> None:
    if nbf is not None and now + skew < nbf:
        raise VerificationError(
            "nbf",
            f"token is not valid before {_when(nbf)}, {nbf - now:.0f} s after now",
        )


def _check_iat(iat: float | None, now: int, skew: int) -> None:
    if iat is not None and now + skew < iat:
        raise VerificationError(
            "iat", f"token was issued at {_when(iat)}, {iat - now:.0f} s after now"
        )


def verify_x5c_chain(
    x5c: list[str],
    trust_anchors: list[x509.Certificate],
    now: int,
    *,
    issuer: str | None = None,
) -> Key:
    """Validate an ``x5c`` chain against ``trust_anchors`` and return the leaf's key.

    Path validation is done by cryptography's ``x509.verification``. The
    leaf must allow digitalSignature and must not be a CA. With ``issuer``,
    the leaf must name it: as a URI SAN, or for an https issuer as a dNSName
    SAN equal to its host. Raises ``VerificationError("x5c", ...)``.
    """
    certificates = _load_x5c(x5c)
    moment = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
    for certificate in certificates:
        _check_validity(certificate, moment)

    verifier = (
        x509_verification.PolicyBuilder()
        .store(x509_verification.Store(list(trust_anchors)))
        .time(moment)
        .extension_policies(
            ca_policy=x509_verification.ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=_signing_leaf_policy(),
        )
        .build_client_verifier()
    )
    leaf = certificates[0]
    try:
        verifier.verify(leaf, certificates[1:])
    except x509_verification.VerificationError as error:
        raise VerificationError(
            "x5c", f"certificate {_subject(leaf)} is not trusted: {error}"
        ) from error

    if issuer is not None:
        _check_leaf_names_issuer(leaf, issuer)
    return _key_from_certificate(leaf)


def _load_x5c(x5c: Any) -> list[x509.Certificate]:
    if not isinstance(x5c, list) or not x5c:
        raise VerificationError(
            "x5c", f"x5c must be a non-empty list, got {_shorten(x5c)!r}"
        )
    if len(x5c) > MAX_X5C_CERTIFICATES:
        raise VerificationError(
            "x5c",
            f"x5c has {len(x5c)} certificates; "
            f"at most {MAX_X5C_CERTIFICATES} are accepted",
        )

    certificates = []
    for index, encoded in enumerate(x5c):
        try:
            der = base64.b64decode(encoded, validate=True)
            certificates.append(x509.load_der_x509_certificate(der))
        except (TypeError, ValueError) as error:
            raise VerificationError(
                "x5c", f"x5c[{index}] is not a base64 DER certificate: {error}"
            ) from error
    return certificates


def _check_validity(certificate: x509.Certificate, moment: datetime.datetime) -> None:
    if certificate.not_valid_after_utc < moment:
        raise VerificationError(
            "x5c",
            f"certificate {_subject(certificate)} expired at "
            f"{certificate.not_valid_after_utc.isoformat()}",
        )
    if certificate.not_valid_before_utc > moment:
        raise VerificationError(
            "x5c",
            f"certificate {_subject(certificate)} is not valid before "
            f"{certificate.not_valid_before_utc.isoformat()}",
        )


def _signing_leaf_policy() -> x509_verification.ExtensionPolicy:
    agnostic = x509_verification.Criticality.AGNOSTIC
    return (
        x509_verification.ExtensionPolicy.permit_all()
        .require_present(x509.KeyUsage, agnostic, _require_digital_signature)
        .may_be_present(x509.BasicConstraints, agnostic, _reject_ca_leaf)
    )


def _require_digital_signature(policy, certificate, key_usage: x509.KeyUsage) -> None:
    if not key_usage.digital_signature:
        raise ValueError(
            f"certificate {_subject(certificate)} does not allow "
            "digitalSignature in its key usage"
        )


def _reject_ca_leaf(
    policy, certificate, constraints: x509.BasicConstraints | None
) -> None:
    if constraints is not None and constraints.ca:
        raise ValueError(
            f"certificate {_subject(certificate)} is a CA, not a signing certificate"
        )


def _check_leaf_names_issuer(leaf: x509.Certificate, issuer: str) -> None:
    try:
        names = leaf.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value
    except x509.ExtensionNotFound:
        names = x509.SubjectAlternativeName([])

    uris = names.get_values_for_type(x509.UniformResourceIdentifier)
    dns_names = names.get_values_for_type(x509.DNSName)
    host = _https_host(issuer)
    if issuer in uris or (host is not None and host in dns_names):
        return

    raise VerificationError(
        "x5c",
        f"certificate {_subject(leaf)} does not name issuer {issuer!r} in its subject "
        f"alternative names (URIs {uris}, DNS names {dns_names})",
    )


def _https_host(issuer: str) -> str | None:
    match = re.fullmatch(r"https://([^/:?#]+)(?::\d+)?(?:[/?#].*)?", issuer)
    return match.group(1).lower() if match else None


def _key_from_certificate(certificate: x509.Certificate) -> Key:
    public_key = certificate.public_key()
    if (
        isinstance(public_key, ec.EllipticCurvePublicKey)
        and public_key.curve.name == "secp256r1"
    ):
        return ECKey.import_key(public_key)
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        pem = public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return OKPKey.import_key(pem)
    raise VerificationError(
        "x5c",
        f"certificate {_subject(certificate)} has a {type(public_key).__name__}; "
        "only P-256 and Ed25519 keys are supported",
    )


def _subject(certificate: x509.Certificate) -> str:
    return repr(certificate.subject.rfc4514_string())


def _when(seconds: float) -> str:
    try:
        moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return f"{seconds:.0f}"
    return f"{seconds:.0f} ({moment.isoformat()})"


def _or_list(values: tuple[str, ...]) -> str:
    return " or ".join(repr(value) for value in values)


def _shorten(value: Any, limit: int = 40) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "..."
    return value
