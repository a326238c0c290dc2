"""How a check step's outcome follows from claims, for the check and its review.

A check step evaluates its DMN decision with claims from a presentation,
and a consultant's review later recomputes that outcome from the claims an
application presented. Both use the functions here, on a CheckSnapshot: what
the check computes with, independent of the flow file, so an application can
keep it in its record and a review still reads it after the flow changed.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import logging
from decimal import Decimal
from typing import Any

from stappen.checkstep import ELIGIBLE, NOT_ELIGIBLE, CheckSettings
from stappen.rules import DmnModel, Evaluation

log = logging.getLogger(__name__)

COMPARED_FIELDS = (
    "uitkomst",
    "bedrag",
    "regels_sha256",
    "regels_versie",
    "regels_toegepast",
    "gebruikte_gegevens",
)
"""The voucher claims a review compares with its recomputation, in this order."""


class MissingClaim(ValueError):
    """A presentation lacks a claim that an input of the decision needs."""

    def __init__(self, input_name: str, query_id: str, path: tuple[str, ...]):
        self.input_name = input_name
        self.query_id = query_id
        self.path = path
        super().__init__(
            f"the presentation has no claim {'.'.join(path)!r} in credential "
            f"{query_id!r}, which input {input_name!r} needs; share that claim"
        )


@dataclasses.dataclass(frozen=True)
class CheckSnapshot:
    """What a check step computes with: its decision, rules and input sources.

    ``inputs`` maps each claim-based input of the decision to the credential
    query id and the claim path it is read from. A trial calculation's
    inputs are answers, so its snapshot has no inputs.
    """

    flow: str
    step: str
    decision: str
    version: str
    sha256: str
    valid_from: datetime.date
    valid_to: datetime.date
    inputs: dict[str, tuple[str, tuple[str, ...]]]
    eligible_output: str | None = None
    eligible_above: Decimal | None = None
    eligible_one_of: tuple = ()
    amount: str | None = None
    """"value" for the decision's value, an output name, or None."""

    def to_dict(self) -> dict:
        """Return the snapshot as JSON data, in the application record's layout."""
        above = self.eligible_above
        return {
            "flow": self.flow,
            "step": self.step,
            "decision": self.decision,
            "version": self.version,
            "sha256": self.sha256,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(),
            "inputs": {
                name: {"credential": query_id, "path": list(path)}
                for name, (query_id, path) in self.inputs.items()
            },
            "eligible": {
                "output": self.eligible_output,
                "above": None if above is None else str(above),
                "one_of": list(self.eligible_one_of),
            },
            "amount": self.amount,
        }

    @classmethod
    def from_dict(cls, data: dict) -> CheckSnapshot:
        """Read a snapshot written by :meth:`to_dict`."""
        eligible = data["eligible"]
        above = eligible.get("above")
        return cls(
            flow=data["flow"],
            step=data["step"],
            decision=data["decision"],
            version=data["version"],
            sha256=data["sha256"],
            valid_from=datetime.date.fromisoformat(data["valid_from"]),
            valid_to=datetime.date.fromisoformat(data["valid_to"]),
            inputs={
                name: (source["credential"], tuple(source["path"]))
                for name, source in data["inputs"].items()
            },
            eligible_output=eligible.get("output"),
            eligible_above=None if above is None else Decimal(above),
            eligible_one_of=tuple(eligible.get("one_of", ())),
            amount=data.get("amount"),
        )


def snapshot(
    flow: str, step: str, settings: CheckSettings, sha256: str
) -> CheckSnapshot:
    """Take the snapshot of check step ``step`` of flow ``flow``.

    ``sha256`` is the SHA-256 of the DMN file that the check loads.
    """
    inputs = {
        source.name: (source.claim[1], source.claim[2])
        for source in settings.inputs
        if source.claim is not None
    }
    return CheckSnapshot(
        flow=flow,
        step=step,
        decision=settings.decision,
        version=settings.version,
        sha256=sha256,
        valid_from=settings.valid_from,
        valid_to=settings.valid_to,
        inputs=inputs,
        eligible_output=settings.eligible_output,
        eligible_above=settings.eligible_above,
        eligible_one_of=settings.eligible_one_of,
        amount=settings.amount,
    )


def inputs_from_claims(snap: CheckSnapshot, claims: dict) -> tuple[dict, list[dict]]:
    """Read the decision's inputs from verified claims, by credential query id.

    ``claims`` maps a credential query id to the list of verified credentials
    (``{"vct", "issuer", "claims"}``); each input reads the first one.
    Returns the inputs and the digests of the credentials used, in the order
    the inputs first use them. Raises MissingClaim.
    """
    inputs, used = {}, {}
    for name, (query_id, path) in snap.inputs.items():
        credentials = claims.get(query_id) or []
        value = _claim_value(credentials[0]["claims"], path) if credentials else None
        if not credentials or value is _MISSING:
            raise MissingClaim(name, query_id, path)
        inputs[name] = value
        used.setdefault(query_id, credentials[0])
    return inputs, [credential_digest(c) for c in used.values()]


_MISSING = object()


def _claim_value(claims: dict, path: tuple) -> Any:
    value: Any = claims
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def credential_digest(credential: dict) -> dict:
    """Return a verified credential's type, issuer and SHA-256 digest.

    The digest is of the credential as canonical JSON (sorted keys, no
    spaces): its issuer, type and disclosed claims.
    """
    # NOTE: the verifier keeps the verified claims, not the presented SD-JWT,
    # so the digest covers issuer, type and disclosed claims as canonical JSON.
    canonical = json.dumps(credential, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return {"vct": credential["vct"], "issuer": credential["issuer"], "sha256": digest}


def outcome_of(snap: CheckSnapshot, evaluation: Evaluation) -> dict:
    """Return what an evaluation means for the check step.

    The dict has ``eligible`` (bool), ``result`` (eligible or not-eligible),
    ``amount`` (exact decimal text or None), ``matched_rules`` (rule ids of
    the requested decision) and ``annotations`` (their annotation texts).
    """
    eligible = is_eligible(snap, evaluation.value)
    amount = None
    if snap.amount is not None:
        name = None if snap.amount == "value" else snap.amount
        amount = output_value(evaluation.value, name)

    last = evaluation.trace.decisions[-1]
    annotations = [
        text for rule in last.matched_rules for text in last.annotations.get(rule, [])
    ]
    return {
        "eligible": eligible,
        "result": ELIGIBLE if eligible else NOT_ELIGIBLE,
        "amount": None if amount is None else str(amount),
        "matched_rules": list(last.matched_rules),
        "annotations": annotations,
    }


def is_eligible(snap: CheckSnapshot, value) -> bool:
    """Tell whether a decision's value means eligible under the step's settings."""
    compared = output_value(value, snap.eligible_output)
    if snap.eligible_above is not None:
        return isinstance(compared, Decimal | int) and compared > snap.eligible_above
    return compared in snap.eligible_one_of


def output_value(value, name: str | None):
    """Return the output ``name`` of a decision's value, or the value itself."""
    if name is None:
        return value
    return value.get(name) if isinstance(value, dict) else None


def recompute(snap: CheckSnapshot, claims: dict, model: DmnModel) -> dict:
    """Evaluate the check again with ``model`` on the claims of a presentation.

    Returns the record's ``recomputed`` part: inputs, result, amount,
    matched_rules and trace, plus the rules' ``sha256`` and ``version`` and
    the ``used`` credential digests that a comparison with the voucher
    needs. Raises MissingClaim, and DmnError when the model cannot evaluate
    the inputs.
    """
    inputs, used = inputs_from_claims(snap, claims)
    evaluation = model.evaluate(snap.decision, inputs)
    outcome = outcome_of(snap, evaluation)
    trace = evaluation.trace.to_dict()
    return {
        "inputs": trace["inputs"],
        "result": outcome["result"],
        "amount": outcome["amount"],
        "matched_rules": outcome["matched_rules"],
        "sha256": model.sha256,
        "version": snap.version,
        "used": used,
        "trace": trace,
    }


def compare(voucher: dict, recomputed: dict, used_digests: list[dict]) -> list[dict]:
    """Compare a voucher's claims with a recomputation, field by field.

    ``used_digests`` are the digests of the presented credentials that the
    recomputation read. Digests are compared as sets, because their order
    follows the inputs, not the data.
    """
    ours = {
        "uitkomst": recomputed["result"],
        "bedrag": recomputed["amount"],
        "regels_sha256": recomputed.get("sha256", recomputed["trace"]["sha256"]),
        "regels_versie": recomputed.get("version"),
        "regels_toegepast": recomputed["matched_rules"],
        "gebruikte_gegevens": used_digests,
    }
    lines = []
    for field in COMPARED_FIELDS:
        theirs = voucher.get(field)
        if field == "gebruikte_gegevens":
            equal = _digest_set(theirs) == _digest_set(ours[field])
        else:
            equal = theirs == ours[field]
        lines.append(
            {
                "field": field,
                "voucher": theirs,
                "recomputed": ours[field],
                "equal": equal,
            }
        )
    return lines


def _digest_set(digests) -> frozenset | None:
    if not isinstance(digests, list):
        return None
    try:
        return frozenset(
            (entry["vct"], entry["issuer"], entry["sha256"]) for entry in digests
        )
    except (KeyError, TypeError):
        return None
