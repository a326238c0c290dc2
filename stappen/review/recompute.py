"""Recompute an application's outcome with the rules its voucher names.

The voucher carries the SHA-256 of the DMN file that decided
(``regels_sha256``), and ``rule_tables`` keeps every such file by that hash.
The review loads exactly those bytes, so a later change to the flow's rules
cannot change what the review recomputes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging

from stappen import outcomes
from stappen.rules import DmnError, DmnModel
from stappen.rules.loader import load_dmn_bytes

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Recomputation:
    """The recomputed outcome and its comparison with the voucher.

    ``problem`` explains why there is no recomputation, such as a missing
    rule table, or a claim or input the rules cannot use. Then ``recomputed`` is None
    and ``comparison`` is empty.
    """

    recomputed: dict | None
    comparison: list[dict]
    problem: str | None = None
    rules: bytes | None = None
    rules_name: str | None = None

    @property
    def matches(self) -> bool:
        """Tell whether every compared field equals the voucher's."""
        return self.problem is None and all(line["equal"] for line in self.comparison)

    @property
    def differences(self) -> list[dict]:
        return [line for line in self.comparison if not line["equal"]]


def recompute_from_db(db, record: dict) -> Recomputation:
    """Load the pinned rule table from ``db`` and recompute the record's outcome."""
    sha256 = (record.get("voucher") or {}).get("regels_sha256")
    stored = db.rule_table(sha256) if isinstance(sha256, str) else None
    if stored is None:
        return Recomputation(
            None,
            [],
            f"rule table {sha256!r} is not stored, so the outcome cannot be "
            "recomputed; store the DMN file that the check used "
            "(db.store_rule_table)",
        )
    return recompute_with(record, stored["content"], stored["name"])


def recompute_with(record: dict, content: bytes, name: str) -> Recomputation:
    """Recompute the record's outcome with the DMN file ``content``.

    The file must hash to the voucher's ``regels_sha256``; any other file
    is refused, so a recomputation never uses rules that did not decide.
    """
    voucher = record.get("voucher") or {}
    expected = voucher.get("regels_sha256")
    actual = hashlib.sha256(content).hexdigest()
    if actual != expected:
        return Recomputation(
            None,
            [],
            f"the DMN file {name!r} has SHA-256 {actual}, but the voucher names "
            f"rules {expected!r}; use the file the check used",
        )

    try:
        model = load_dmn_bytes(content, name)
    except DmnError as error:
        return Recomputation(None, [], f"the DMN file {name!r} is invalid: {error}")
    return _recompute(record, model, content, name)


def _recompute(record: dict, model: DmnModel, content: bytes, name: str):
    snap = outcomes.CheckSnapshot.from_dict(record["check"])
    try:
        recomputed = outcomes.recompute(snap, record.get("claims") or {}, model)
    except (outcomes.MissingClaim, DmnError) as error:
        message = error.message if isinstance(error, DmnError) else str(error)
        return Recomputation(None, [], f"the outcome cannot be recomputed: {message}")

    comparison = outcomes.compare(voucher_of(record), recomputed, recomputed["used"])
    return Recomputation(recomputed, comparison, None, content, name)


def voucher_of(record: dict) -> dict:
    """Return the voucher's claims from the record."""
    return record.get("voucher") or {}
