"""Verification of a ``vp_token``: each presentation, then the DCQL query.

Nothing here reads the database or the request, so the checks can run
outside Flask: the caller passes the request's values and functions that
fetch status lists and record presentations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from stappen import dcql, jose, sdjwt, statuslist

RESULT_OMITTED_CLAIMS = frozenset({"iss", "vct", "cnf", "status", "iat", "exp", "nbf"})
"""Credential claims left out of a session's result: the issuer and type are
given separately, and the holder key, status reference and times are only
needed for the checks."""

REPLAY_REASON = "this presentation was received before, in this or another session"


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
        outcome.report.append(report_line(None, "vp_token", False, str(error)))
        return outcome

    expected = _Expected(issuer_keys, nonce, client_id, now, iat_window, fetch)
    verified: dict[str, list[sdjwt.VerifiedCredential]] = {}
    for query_id, items in presentations.items():
        for number, presentation in enumerate(items, start=1):
            label = query_id if len(items) == 1 else f"{query_id} #{number}"
            if not first_use(presentation):
                outcome.report.append(
                    report_line(label, "replay", False, REPLAY_REASON)
                )
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
        outcome.report.append(
            report_line(label, check.name, check.passed, check.reason)
        )
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
        outcome.report.append(report_line(None, "query", False, problem))
    if problems:
        return

    outcome.report.append(
        report_line(None, "query", True, "the credentials satisfy the DCQL query")
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


def report_line(credential: str | None, check: str, passed: bool, reason: str) -> dict:
    """Return one line of a session's report."""
    return {
        "credential": credential,
        "check": check,
        "passed": passed,
        "reason": reason,
    }
