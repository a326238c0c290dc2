"""The credential endpoint: key proofs checked, one SD-JWT VC per request."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from datetime import datetime
from typing import Any

from flask import current_app, jsonify, request

from stappen import audit, jose, sdjwt
from stappen.issuer.blueprint import (
    C_NONCE_TYP,
    CLOCK_SKEW,
    CREDENTIAL_LIFETIME,
    CREDENTIAL_PATH,
    PILOT_NOTICE,
    PILOT_SOURCE,
    PROOF_MAX_AGE,
    PROOF_TYP,
    STATUS_LIST_ID,
    STATUS_LIST_SIZE,
    IssuerError,
    add_evidence,
    blueprint,
    current_time,
    db_connection,
    epoch_millis,
    issuer_keys,
    no_store,
    public_url,
    short_repr,
    signing_key,
)
from stappen.issuer.status_lists import status_list_uri
from stappen.statuslist import status_reference
from stappen.storage.errors import session_label

log = logging.getLogger(__name__)


# The credential endpoint.


@dataclasses.dataclass(frozen=True)
class _CredentialRequest:
    configuration_id: str
    proof: str


@blueprint.post(CREDENTIAL_PATH)
def credential():
    db, now = db_connection(), current_time()
    session = _session_for_token(db, now)
    requested = _credential_request(session["id"])
    entry = _offered_entry(db, session, requested.configuration_id)
    holder_jwk = _verified_proof(db, session["id"], requested.proof, now)

    issued = _issue(db, session, requested.configuration_id, entry, holder_jwk, now)
    _finish_if_complete(db, session, now)
    return no_store(jsonify(credentials=[{"credential": issued}]))


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
    if session["state"] != "submitted" or epoch_millis(now) >= expires_at:
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
            f"key proof aud is {short_repr(audience)}; expected the credential "
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
            f"key proof nonce is {short_repr(value)}; get a c_nonce from the nonce "
            "endpoint and put it in the proof's nonce claim",
        )
    try:
        jose.verify(value, issuer_keys(), typ=C_NONCE_TYP, now=int(now.timestamp()))
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
        signing_key(),
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
        add_evidence(db, session_id, "credential_issued", evidence)
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
        data=without_claim_values(data),
        result={
            "issued": list(data["credentials"]),
            "pilot": True,
            "notice": PILOT_NOTICE,
        },
        detail={"credentials": len(issued)},
    )
    log.info("Session %s issued all its credentials", session_label(session["id"]))


def without_claim_values(data: dict) -> dict:
    """Drop the claim values, which the database needs no longer, from ``data``."""
    credentials = {
        configuration_id: {
            key: value for key, value in entry.items() if key != "claims"
        }
        for configuration_id, entry in data.get("credentials", {}).items()
    }
    return {**data, "credentials": credentials}
