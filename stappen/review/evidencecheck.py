"""Check an evidence document on its own: no database, no app, no network.

Each check gives one line. The presented SD-JWTs must verify with the
included issuer keys and status list tokens as of the moment of
presentation. The included DMN file must be the one the voucher names and
give the voucher's outcome. The record's claims and voucher must be the
ones the credentials carry, and the decision the one the audit trail
recorded. The audit events must be intact and linked to a signed
checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import logging

from stappen import jose
from stappen.applicationstep import VOUCHER_QUERY_ID
from stappen.audit.chain import AuditEvent
from stappen.audit.checkpoints import CHECKPOINT_TYPE
from stappen.checkstep import VOUCHER_CLAIMS
from stappen.review import evidence, recompute, reverify

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class CheckLine:
    """The result of one check of the document."""

    name: str
    passed: bool
    detail: str

    def text(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.detail}"


def check_document(document: dict) -> list[CheckLine]:
    """Run every check on an evidence document and return their lines."""
    lines = [_check_format(document)]
    if not lines[0].passed:
        return lines

    record = document.get("record")
    if record is None:
        erased = (document.get("application") or {}).get("record_erased_at")
        lines.append(CheckLine("record", False, f"the record was erased at {erased}"))
    else:
        lines += _guarded("record", _check_record, document, record)
    lines += _guarded("decision", _check_decision, document)
    audit_part, key_part = document.get("audit") or {}, document.get("keys") or {}
    lines += _guarded("audit", check_audit, audit_part, key_part)
    return lines


def _guarded(name: str, check, *args) -> list[CheckLine]:
    """Run a group of checks; a part missing or of the wrong type fails the group."""
    try:
        return check(*args)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        return [
            CheckLine(
                name, False, f"the document's {name} part is malformed: {error!r}"
            )
        ]


def _check_format(document) -> CheckLine:
    if not isinstance(document, dict) or document.get("format") != evidence.FORMAT:
        return CheckLine("format", False, f"not a {evidence.FORMAT} document")
    if document.get("version") != evidence.VERSION:
        return CheckLine(
            "format",
            False,
            f"version {document.get('version')!r} is unknown; this verifier "
            f"reads version {evidence.VERSION}",
        )
    return CheckLine("format", True, f"{evidence.FORMAT} version {evidence.VERSION}")


# The record: presentation, claims, voucher and the recomputed outcome.


def _check_record(document: dict, record: dict) -> list[CheckLine]:
    presented = reverify.as_presented(record["presentation"])
    lines = [
        CheckLine(
            f"presentation {line['credential'] or '(all)'} {line['check']}",
            line["passed"],
            line["reason"],
        )
        for line in presented.report
    ]
    lines.append(_same("claims", record.get("claims"), presented.claims))
    lines.append(_check_voucher(record, presented.claims))
    rules, rules_line = _check_rules(document, record)
    lines.append(rules_line)
    if rules is not None:
        verified = {**record, "claims": presented.claims}
        lines += _check_outcome(document, record, verified, rules)
    return lines


def _same(name: str, stored, verified) -> CheckLine:
    if stored == verified:
        return CheckLine(name, True, "the record equals what the credentials disclose")
    return CheckLine(
        name, False, "the record differs from what the credentials disclose"
    )


def _check_voucher(record: dict, claims: dict) -> CheckLine:
    credentials = claims.get(VOUCHER_QUERY_ID) or []
    if not credentials:
        return CheckLine("voucher", False, "no verified voucher credential")
    disclosed = credentials[0]["claims"]
    stored = record.get("voucher") or {}
    differing = [
        name for name, _ in VOUCHER_CLAIMS if stored.get(name) != disclosed.get(name)
    ]
    if differing:
        return CheckLine(
            "voucher",
            False,
            f"the record's voucher differs in {', '.join(differing)} from the "
            "signed voucher credential",
        )
    return CheckLine("voucher", True, "the record's voucher is the signed voucher")


def _check_rules(document: dict, record: dict) -> tuple[bytes | None, CheckLine]:
    rules = document.get("rules")
    expected = (record.get("voucher") or {}).get("regels_sha256")
    if not isinstance(rules, dict):
        return None, CheckLine("rules sha256", False, "the DMN file is not included")
    try:
        content = base64.b64decode(rules.get("content_base64", ""), validate=True)
    except (binascii.Error, ValueError):
        return None, CheckLine("rules sha256", False, "content_base64 is not base64")

    actual = hashlib.sha256(content).hexdigest()
    if actual != expected or rules.get("sha256") != expected:
        return None, CheckLine(
            "rules sha256",
            False,
            f"the DMN file hashes to {actual}, the voucher names {expected!r}",
        )
    return content, CheckLine("rules sha256", True, f"the DMN file is {actual}")


def _check_outcome(document, record, verified, content: bytes) -> list[CheckLine]:
    name = document["rules"].get("name") or "rules.dmn"
    result = recompute.recompute_with(verified, content, name)
    if result.problem is not None:
        return [CheckLine("recomputed outcome", False, result.problem)]

    lines = [
        CheckLine(
            f"recomputed {line['field']}",
            line["equal"],
            f"voucher {line['voucher']!r}, recomputed {line['recomputed']!r}",
        )
        for line in result.comparison
    ]
    stored = record.get("recomputed") or {}
    fresh = result.recomputed
    fields = ("result", "amount", "matched_rules")
    differing = [field for field in fields if stored.get(field) != fresh[field]]
    lines.append(
        CheckLine(
            "stored recomputation",
            not differing,
            f"differs in {', '.join(differing)}"
            if differing
            else "the record's recomputation gives the same outcome",
        )
    )
    lines.append(_check_application(document.get("application") or {}, result))
    return lines


def _check_application(application: dict, result: recompute.Recomputation):
    problems = []
    if application.get("outcome_matches") != result.matches:
        problems.append(
            f"outcome_matches is {application.get('outcome_matches')!r}, the "
            f"recomputation gives {result.matches!r}"
        )
    if application.get("amount") != result.recomputed["amount"]:
        problems.append(
            f"amount is {application.get('amount')!r}, the recomputation gives "
            f"{result.recomputed['amount']!r}"
        )
    if problems:
        return CheckLine("application", False, "; ".join(problems))
    return CheckLine("application", True, "amount and outcome_matches agree")


# The decision, against the audit event that recorded it.


def _check_decision(document: dict) -> list[CheckLine]:
    decision = document.get("decision")
    if decision is None:
        return []
    decision_events = [
        event
        for event in (document.get("audit") or {}).get("events", [])
        if event.get("kind") == "decision.made"
    ]
    if not decision_events:
        return [CheckLine("decision", False, "no decision.made audit event")]

    data = jose.loads_json(decision_events[-1]["data"])
    recorded = (data.get("outcome"), data.get("amount"))
    stored = (decision.get("outcome"), decision.get("amount"))
    if recorded != stored:
        return [
            CheckLine(
                "decision",
                False,
                f"the decision is {stored!r} (outcome, amount), the audit event "
                f"recorded {recorded!r}",
            )
        ]
    return [CheckLine("decision", True, "outcome and amount match the audit event")]


# The audit events, their links and the checkpoint.


def check_audit(part: dict, key_part: dict) -> list[CheckLine]:
    """Check each event's hash, the links between them, and the checkpoint."""
    events = part.get("events") or []
    if not events:
        return [CheckLine("audit events", False, "the document has no audit events")]

    lines = [_check_event(event) for event in events]
    links = {link["seq"]: link for link in part.get("links") or []}
    lines.append(_check_links(events, part.get("links") or []))
    lines.append(_check_checkpoint(part.get("checkpoint"), links, events, key_part))
    return lines


def _check_event(fields: dict) -> CheckLine:
    name = f"audit event seq {fields.get('seq')} ({fields.get('kind')})"
    try:
        event = AuditEvent(**fields)
    except TypeError as error:
        return CheckLine(name, False, f"the event's fields are malformed: {error}")
    if event.computed_hash() != event.hash:
        return CheckLine(name, False, "changed: its fields do not match its hash")
    return CheckLine(name, True, "its fields match its hash")


def _check_links(events: list[dict], links: list[dict]) -> CheckLine:
    by_seq = {link["seq"]: link for link in links}
    for before, after in zip(links, links[1:], strict=False):
        if after["seq"] != before["seq"] + 1:
            return CheckLine(
                "audit links", False, f"seq {before['seq'] + 1} is missing"
            )
        if after["prev_hash"] != before["hash"]:
            return CheckLine(
                "audit links",
                False,
                f"seq {after['seq']} does not link to seq {before['seq']}",
            )
    for event in events:
        link = by_seq.get(event["seq"])
        if link is None or link["hash"] != event["hash"]:
            return CheckLine(
                "audit links",
                False,
                f"seq {event['seq']} is not the event the chain links to",
            )
    return CheckLine("audit links", True, f"{len(links)} events link up in order")


def _check_checkpoint(checkpoint, links: dict, events: list[dict], key_part: dict):
    name = "audit checkpoint"
    if not checkpoint:
        return CheckLine(name, False, "the document has no signed checkpoint")

    trusted = [jose.key_from_jwk(jwk, public_only=True) for jwk in key_part["audit"]]
    try:
        _, claims = jose.verify(checkpoint["signature"], trusted, typ=CHECKPOINT_TYPE)
    except jose.VerificationError as error:
        return CheckLine(name, False, f"the signature is invalid: {error.reason}")

    seq = claims.get("seq")
    link = links.get(seq)
    if link is None or link["hash"] != claims.get("hash"):
        return CheckLine(name, False, f"seq {seq} no longer has the signed hash")
    newest = max(event["seq"] for event in events)
    if seq < newest:
        return CheckLine(
            name, False, f"events after seq {seq} are not covered by a checkpoint"
        )
    return CheckLine(name, True, f"signed at seq {seq}, covering every event")
