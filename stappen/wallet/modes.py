"""Misbehaviour modes: responses that a correct verifier must reject.

A mode changes one of three steps of ``Holder.present``: which stored
credentials it may choose (``choose``), how it builds each presentation
(``build``) and how it sends the response (``send``). Every other step
stays honest, so the verifier has exactly one reason to reject. ``expected``
names the outcome the verifier should report, with the check names of
``stappen.sdjwt.verify_presentation`` and of the verifier's report.
docs/test-wallet.md describes each mode for pilot teams.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from joserfc.jwk import Key

from stappen import jose, sdjwt
from stappen.wallet.store import StoredCredential, WalletError

if TYPE_CHECKING:
    from stappen.wallet.submission import Submission


@dataclasses.dataclass(frozen=True)
class PresentationInput:
    """The credential to present and the binding to one request."""

    credential: StoredCredential
    holder_key: Key
    disclose: set[str]
    """Paths in ``stappen.sdjwt`` form, such as ``adres.woonplaats``."""
    nonce: str
    aud: str
    iat: int


# The honest steps.


def usable_credentials(
    credentials: list[StoredCredential], now: int
) -> list[StoredCredential]:
    """Return the credentials that have not expired, newest first."""
    usable = [
        credential for credential in credentials if not credential.is_expired(now)
    ]
    return sorted(usable, key=lambda credential: credential.received_at, reverse=True)


def honest_presentation(item: PresentationInput) -> str:
    """Build the presentation that a correct wallet sends."""
    return sdjwt.present(
        item.credential.raw,
        disclose=item.disclose,
        holder_key=item.holder_key,
        nonce=item.nonce,
        aud=item.aud,
        iat=item.iat,
    )


def send_once(submission: Submission) -> dict:
    """Send the response once, as a correct wallet does."""
    params = submission.params()
    return submission.post(submission.encode(params), params)


@dataclasses.dataclass(frozen=True)
class Mode:
    """A way to present: honest, or with one deliberate fault."""

    name: str
    description: str
    expected: str
    """The outcome a correct verifier reports, in words."""
    choose: Callable[[list[StoredCredential], int], list[StoredCredential]] = (
        usable_credentials
    )
    build: Callable[[PresentationInput], str] = honest_presentation
    send: Callable[[Submission], dict] = send_once


HONEST = Mode("honest", "presents as a correct wallet does", "session verified")


# Helpers for hand-made presentations.


def _issued_part(item: PresentationInput) -> str:
    """Return the honest presentation without its KB-JWT: ``<JWT>~<disclosures>~``."""
    return sdjwt.parse(honest_presentation(item)).without_key_binding


def sd_hash(issued_part: str) -> str:
    """Return the KB-JWT ``sd_hash`` of ``<issuer JWT>~<disclosure>~...~``."""
    return jose.b64url_encode(hashlib.sha256(issued_part.encode("ascii")).digest())


def _kb_claims(item: PresentationInput, issued_part: str, **changes: Any) -> dict:
    claims = {
        "iat": item.iat,
        "aud": item.aud,
        "nonce": item.nonce,
        "sd_hash": sd_hash(issued_part),
    }
    return {**claims, **changes}


def _signed_kb_jwt(issued_part: str, claims: dict, key: Key) -> str:
    return issued_part + jose.sign(claims, key, typ=sdjwt.KB_JWT_TYP)


def _unsigned_token(header: dict, claims: dict) -> str:
    """Return ``<header>.<payload>`` of a compact JWS, to be signed by hand."""
    return (
        jose.b64url_encode(jose.dumps_json(header))
        + "."
        + jose.b64url_encode(jose.dumps_json(claims))
    )


# Modes that change a presentation.


def wrong_nonce(item: PresentationInput) -> str:
    """Bind the KB-JWT to a fresh nonce instead of the request's."""
    nonce = "wrong-" + secrets.token_urlsafe(12)
    return honest_presentation(dataclasses.replace(item, nonce=nonce))


def aud_array(item: PresentationInput) -> str:
    """Set the KB-JWT ``aud`` to an array that contains the right client_id."""
    issued_part = _issued_part(item)
    claims = _kb_claims(item, issued_part, aud=[item.aud])
    return _signed_kb_jwt(issued_part, claims, item.holder_key)


def tampered_disclosure(item: PresentationInput) -> str:
    """Change the value in the first disclosure, keeping its salt and name.

    The KB-JWT covers the changed presentation, so only the disclosure
    digests give the change away.
    """
    parsed = sdjwt.parse(_issued_part(item))
    if not parsed.disclosures:
        raise WalletError(
            f"mode tampered-disclosure needs a disclosed claim, but the request "
            f"discloses none of {item.credential.id}"
        )

    first = parsed.disclosures[0]
    tampered = tamper_disclosure(first)
    encoded = [tampered] + [d.encoded for d in parsed.disclosures[1:]]
    issued_part = parsed.issuer_jwt + "~" + "".join(e + "~" for e in encoded)
    claims = _kb_claims(item, issued_part)
    return _signed_kb_jwt(issued_part, claims, item.holder_key)


def tamper_disclosure(disclosure: sdjwt.Disclosure) -> str:
    """Return ``disclosure`` encoded again with a changed value and the same salt."""
    value = changed_value(disclosure.value)
    if disclosure.name is None:
        content = [disclosure.salt, value]
    else:
        content = [disclosure.salt, disclosure.name, value]
    return jose.b64url_encode(jose.dumps_json(content))


def changed_value(value: Any) -> Any:
    """Return a value of the same type that differs from ``value``."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + " (changed)"
    return {"changed": True}


def foreign_key(item: PresentationInput) -> str:
    """Sign the KB-JWT with a new key instead of the credential's holder key.

    The header names the holder key's kid, so the verifier picks the right
    key and only the signature itself gives the forgery away.
    """
    issued_part = _issued_part(item)
    stranger = jose.generate_key(jose.algorithm_for(item.holder_key))
    claims = _kb_claims(item, issued_part)
    headers = {"kid": jose.key_id(item.holder_key)}
    return issued_part + jose.sign(
        claims, stranger, typ=sdjwt.KB_JWT_TYP, headers=headers
    )


def alg_none(item: PresentationInput) -> str:
    """Send an unsigned KB-JWT: header ``alg`` none and an empty signature."""
    issued_part = _issued_part(item)
    header = {"alg": "none", "typ": sdjwt.KB_JWT_TYP}
    return issued_part + _unsigned_token(header, _kb_claims(item, issued_part)) + "."


def hs256_public_key(item: PresentationInput) -> str:
    """Sign the KB-JWT with HS256, using a public key as the HMAC secret.

    The secret is the PEM of the credential's ``cnf.jwk``: the public key a
    verifier takes to check this KB-JWT, so a verifier that lets the token
    choose its algorithm could accept the forgery.
    """
    issued_part = _issued_part(item)
    header = {"alg": "HS256", "typ": sdjwt.KB_JWT_TYP}
    signing_input = _unsigned_token(header, _kb_claims(item, issued_part))
    secret = public_key_pem(item.holder_key)
    mac = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return issued_part + signing_input + "." + jose.b64url_encode(mac)


def public_key_pem(key: Key) -> bytes:
    """Return the SubjectPublicKeyInfo PEM of ``key``'s public half."""
    return key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def no_key_binding(item: PresentationInput) -> str:
    """Leave the KB-JWT out: ``<issuer JWT>~<disclosures>~``."""
    return _issued_part(item)


# Modes that change which credentials are chosen.


def expired_first(
    credentials: list[StoredCredential], now: int
) -> list[StoredCredential]:
    """Offer expired credentials first, then usable ones for the other types."""
    expired = [credential for credential in credentials if credential.is_expired(now)]
    if not expired:
        raise WalletError(
            "mode expired needs a credential whose exp has passed, and the "
            "wallet has none; see docs/test-wallet.md for how tests get one"
        )

    expired_types = {credential.vct for credential in expired}
    others = [
        credential
        for credential in usable_credentials(credentials, now)
        if credential.vct not in expired_types
    ]
    return expired + others


# Modes that change how the response is sent.


def replay(submission: Submission) -> dict:
    """Send the same response twice; the second post must be rejected."""
    params = submission.params()
    fields = submission.encode(params)
    submission.post(fields, params)
    submission.echo("Sending the same response again")
    return submission.post(fields)


def replay_previous(submission: Submission) -> dict:
    """Send the vp_token of the last accepted response with this request's state."""
    previous = submission.previous
    if previous is None:
        raise WalletError(
            "mode replay-previous needs a response that a verifier accepted "
            "before; present honestly once, then use this mode on a new session"
        )

    submission.echo(
        f"Replaying the vp_token sent to {previous['response_uri']} at "
        f"{previous['sent_at']}"
    )
    params = submission.params(vp_token=previous["vp_token"])
    return submission.post(submission.encode(params))


def late(submission: Submission) -> dict:
    """Wait until the request has expired, then build and send the response."""
    submission.wait_until_expired()
    return send_once(submission)


MODES = {
    mode.name: mode
    for mode in (
        Mode(
            "replay",
            "posts the same response twice",
            "first post accepted; second rejected because state and nonce are "
            "single use, and the session stays verified",
            send=replay,
        ),
        Mode(
            "replay-previous",
            "posts the vp_token of the last accepted response with the new "
            "session's state",
            "rejected at the verifier's 'replay' check: the presentation was "
            "received before",
            send=replay_previous,
        ),
        Mode(
            "wrong-nonce",
            "binds the KB-JWT to another nonce",
            "rejected at the 'key binding' check: nonce does not match",
            build=wrong_nonce,
        ),
        Mode(
            "aud-array",
            "sets the KB-JWT aud to an array containing the client_id",
            "rejected at the 'key binding' check: aud is an array",
            build=aud_array,
        ),
        Mode(
            "expired",
            "presents a credential whose exp has passed",
            "rejected at the 'times' check: the credential expired",
            choose=expired_first,
        ),
        Mode(
            "revoked",
            "presents honestly; the test revokes the credential first",
            "rejected at the 'status' check: the credential is revoked",
        ),
        Mode(
            "tampered-disclosure",
            "changes the value of a disclosure and keeps its salt",
            "rejected at the 'disclosures' check: a disclosure matches no digest",
            build=tampered_disclosure,
        ),
        Mode(
            "foreign-key",
            "signs the KB-JWT with a key the credential is not bound to",
            "rejected at the 'key binding' check: the signature does not verify",
            build=foreign_key,
        ),
        Mode(
            "alg-none",
            "sends an unsigned KB-JWT with alg none",
            "rejected at the 'key binding' check: alg none is never accepted",
            build=alg_none,
        ),
        Mode(
            "hs256-public-key",
            "signs the KB-JWT with HS256 and the holder's public key as secret",
            "rejected at the 'key binding' check: HMAC algorithms are not accepted",
            build=hs256_public_key,
        ),
        Mode(
            "late",
            "waits until the request has expired, then responds",
            "rejected because the session expired; the session ends expired",
            send=late,
        ),
        Mode(
            "no-kb",
            "leaves out the KB-JWT",
            "rejected at the 'key binding' check: no KB-JWT",
            build=no_key_binding,
        ),
    )
}
"""The misbehaviour modes by name."""


def find(name: str | None) -> Mode:
    """Return the mode called ``name``, or the honest mode for None."""
    if name is None:
        return HONEST

    mode = MODES.get(name)
    if mode is None:
        raise WalletError(f"unknown mode {name!r}; use one of {', '.join(MODES)}")
    return mode
