"""Verify an application's presented credentials again, from its record.

The record keeps the presentation as it arrived: the ``vp_token``, the
nonce and client_id it was bound to, the issuer keys and the status list
tokens the verifier used. Verifying it again **as presented** uses exactly
those, at the moment the response was received, so it passes as long as the
record is intact. Verifying it **now** uses the issuer keys trusted today,
the live status lists and today's clock, so a key rotated away or a
credential revoked since shows as a failed check.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime

from flask import Flask

from stappen import apiconfig, jose, sdjwt
from stappen.verifier.status_lists import fetch_status_list
from stappen.verifier.verification import Outcome, verify_vp_token

log = logging.getLogger(__name__)

AS_PRESENTED = "presented"
NOW = "now"


@dataclasses.dataclass(frozen=True)
class Reverification:
    """The checks of one re-verification, at one moment."""

    moment: str
    """AS_PRESENTED or NOW."""
    at: datetime
    report: list[dict]
    """One line per check: credential, check, passed and reason."""
    claims: dict = dataclasses.field(default_factory=dict)
    """The verified claims by credential query id, as the verifier's result
    has them; empty when a check failed."""

    @property
    def passed(self) -> bool:
        return bool(self.report) and all(line["passed"] for line in self.report)

    @property
    def failed(self) -> list[dict]:
        return [line for line in self.report if not line["passed"]]

    def summary(self) -> dict:
        """Return the counts of checks that passed and failed, and the verdict."""
        return {
            "moment": self.moment,
            "at": self.at.isoformat(),
            "passed": self.passed,
            "checks": len(self.report),
            "failed": len(self.failed),
        }


def as_presented(presentation: dict) -> Reverification:
    """Verify the record's presentation with its own keys, tokens and time.

    ``presentation`` is the record's ``presentation`` part. Uses nothing but
    that dict, so the standalone evidence verifier runs it too.
    """
    presented_at = _parse_time(presentation["presented_at"])
    outcome = verify_presentation(
        presentation,
        issuer_keys=presentation.get("issuer_keys") or {},
        fetch=stored_status_fetch(presentation.get("status_tokens") or []),
        at=presented_at,
    )
    return Reverification(AS_PRESENTED, presented_at, outcome.report, outcome.claims)


def as_of_now(app: Flask, presentation: dict) -> Reverification:
    """Verify the record's presentation with today's trust, status and clock."""
    moment = apiconfig.now(app)
    trusted = tuple(presentation.get("trusted_issuers") or ())
    outcome = verify_presentation(
        presentation,
        issuer_keys=apiconfig.issuer_jwks(app, trusted),
        fetch=lambda uri: fetch_status_list(app, uri),
        at=moment,
    )
    return Reverification(NOW, moment, outcome.report, outcome.claims)


def verify_presentation(
    presentation: dict,
    *,
    issuer_keys: dict[str, list[dict]],
    fetch: Callable[[str], str],
    at: datetime,
) -> Outcome:
    """Run the verifier's checks on a recorded presentation at moment ``at``.

    The KB-JWT ``iat`` window reaches from the session's creation to ``at``,
    as the verifier's window did when the response arrived. A presentation
    is checked again, not received again, so the replay check always passes.
    """
    created_at = _parse_time(presentation["created_at"])
    since_created = int((at - created_at).total_seconds())
    outcome = verify_vp_token(
        presentation.get("vp_token"),
        query=presentation["dcql_query"],
        issuer_keys=issuer_keys,
        nonce=presentation["nonce"],
        client_id=presentation["client_id"],
        now=int(at.timestamp()),
        iat_window=(max(since_created, 0) + sdjwt.TIME_SKEW, sdjwt.TIME_SKEW),
        fetch=fetch,
        first_use=lambda _presentation: True,
    )
    return outcome


def stored_status_fetch(tokens: list[str]) -> Callable[[str], str]:
    """Return a ``fetch`` that serves the stored status list tokens by their URI.

    A token's URI is its ``sub`` claim, which statuslist.check_status
    compares with the credential's reference after verifying the signature.
    """
    by_uri: dict[str, str] = {}
    for token in tokens:
        try:
            _, claims = jose.decode_unverified(token)
        except jose.VerificationError:
            log.warning("Skipped a stored status list token that is not a JWT")
            continue
        if isinstance(claims.get("sub"), str):
            by_uri.setdefault(claims["sub"], token)

    def fetch(uri: str) -> str:
        if uri not in by_uri:
            raise ValueError(
                f"the record has no status list token for {uri!r}; it was not "
                "kept when the presentation was verified"
            )
        return by_uri[uri]

    return fetch


def side_by_side(presented: Reverification, now: Reverification) -> list[dict]:
    """Pair the lines of both moments by credential and check, in order.

    A check that ran at one moment only, such as the query check after an
    earlier failure, has None on the other side.
    """
    keys: dict[tuple, None] = {}
    for line in presented.report + now.report:
        keys.setdefault((line["credential"], line["check"]), None)
    first = {(line["credential"], line["check"]): line for line in presented.report}
    second = {(line["credential"], line["check"]): line for line in now.report}
    return [
        {
            "credential": credential,
            "check": check,
            "presented": first.get((credential, check)),
            "now": second.get((credential, check)),
        }
        for credential, check in keys
    ]


def _parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} has no time zone; expected ISO 8601 UTC")
    return moment
