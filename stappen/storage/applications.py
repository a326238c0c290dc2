"""Applications, their decisions and the rule tables they were checked with.

An application is created once, from a verified presentation of a voucher.
It keeps its own copy of the evidence in ``record``, because wallet
sessions and their evidence are purged after a few days, while an
application is reviewed for months. Its status moves once, from
``submitted`` to ``granted`` or ``rejected``, in the same transaction as
its decision row.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
from datetime import datetime
from typing import Any

from stappen.storage.base import ConnectionBase, from_millis, to_millis

log = logging.getLogger(__name__)

APPLICATION_STATUSES = ("submitted", "granted", "rejected")
DECISION_OUTCOMES = ("granted", "rejected")

_SUMMARY_COLUMNS = (
    "id, reference, municipality, flow, step, scheme, status, amount, "
    "outcome_matches, created_at, updated_at, record_erased_at"
)
_DECISION_COLUMNS = (
    "outcome, motivation, amount, consultant, decided_at, credential_session, "
    "credential_offered_at, credential_issued_at"
)
_TIME_COLUMNS = (
    "created_at",
    "updated_at",
    "record_erased_at",
    "decided_at",
    "credential_offered_at",
    "credential_issued_at",
    "stored_at",
)


@dataclasses.dataclass(frozen=True)
class NewApplication:
    """The row that the application endpoint stores for a redeemed voucher."""

    id: str
    reference: str
    secret_hash: str
    """SHA-256 in hex of the secret that the citizen's page keeps."""
    municipality: str
    flow: str
    step: str
    scheme: str
    amount: str | None
    outcome_matches: bool
    """Whether the outcome recomputed from the presented claims equals the
    voucher's."""
    presentation_session: str
    """The wallet session whose presentation redeemed the voucher; unique,
    so one presentation makes one application."""
    record: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class ApplicationPage:
    """One page of a municipality's applications, newest first."""

    items: list[dict[str, Any]]
    total: int


def secret_hash(secret: str) -> str:
    """Return the SHA-256 in hex of a citizen's secret, as the table stores it."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApplicationRecords(ConnectionBase):
    """Operations on applications, decisions and stored rule tables."""

    def create_application(self, new: NewApplication, *, now: datetime) -> None:
        """Insert an application; IntegrityError if its reference or session exists."""
        params = dataclasses.asdict(new)
        params["record"] = self.backend.dump_json(new.record)
        params["outcome_matches"] = bool(new.outcome_matches)
        params["now"] = to_millis(now)
        with self.transaction():
            self._execute(
                "INSERT INTO applications (id, reference, secret_hash, "
                "municipality, flow, step, scheme, status, amount, "
                "outcome_matches, presentation_session, created_at, updated_at, "
                "record) VALUES (:id, :reference, :secret_hash, :municipality, "
                ":flow, :step, :scheme, 'submitted', :amount, :outcome_matches, "
                ":presentation_session, :now, :now, :record)",
                params,
            )

    def application(self, application_id: str) -> dict[str, Any] | None:
        """Return an application with its record and decision, or None."""
        row = self._one(
            f"SELECT {_SUMMARY_COLUMNS}, secret_hash, presentation_session, record "
            "FROM applications WHERE id = :id",
            {"id": application_id},
        )
        return None if row is None else self._with_decision(row)

    def application_by_reference(self, reference: str) -> dict[str, Any] | None:
        """Return the application with this reference, as :meth:`application` does."""
        row = self._one(
            "SELECT id FROM applications WHERE reference = :reference",
            {"reference": reference},
        )
        return None if row is None else self.application(row["id"])

    def citizen_application(self, reference: str, secret: str) -> dict | None:
        """Return the application with this reference if ``secret`` is its secret.

        An unknown reference and a wrong secret both return None, so a caller
        cannot tell them apart.
        """
        application = self.application_by_reference(reference)
        expected = application["secret_hash"] if application else secret_hash("")
        matches = hmac.compare_digest(expected, secret_hash(secret))
        return application if application is not None and matches else None

    def list_applications(
        self,
        municipality: str,
        *,
        status: str | None = None,
        scheme: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> ApplicationPage:
        """Return one page of a municipality's applications, without their records."""
        where = ["municipality = :municipality"]
        params: dict[str, Any] = {"municipality": municipality}
        if status is not None:
            where.append("status = :status")
            params["status"] = status
        if scheme is not None:
            where.append("scheme = :scheme")
            params["scheme"] = scheme
        condition = " AND ".join(where)

        total = self._one(
            f"SELECT COUNT(*) AS n FROM applications WHERE {condition}", params
        )["n"]
        rows = self._all(
            f"SELECT {_SUMMARY_COLUMNS} FROM applications WHERE {condition} "
            "ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset",
            {**params, "limit": limit, "offset": offset},
        )
        return ApplicationPage([self._decoded(row) for row in rows], total)

    def schemes(self, municipality: str) -> list[str]:
        """Return the schemes a municipality has applications for, sorted."""
        rows = self._all(
            "SELECT DISTINCT scheme FROM applications "
            "WHERE municipality = :municipality ORDER BY scheme",
            {"municipality": municipality},
        )
        return [row["scheme"] for row in rows]

    def decide_application(
        self,
        application_id: str,
        *,
        outcome: str,
        motivation: str,
        amount: str | None,
        consultant: str,
        now: datetime,
    ) -> bool:
        """Record a decision; False when the application was decided already.

        The status changes only from ``submitted``, so of two consultants who
        decide at once, one wins and the other gets False.
        """
        if outcome not in DECISION_OUTCOMES:
            raise ValueError(
                f"outcome {outcome!r} is not a decision: use one of "
                f"{', '.join(DECISION_OUTCOMES)}"
            )
        params = {
            "id": application_id,
            "outcome": outcome,
            "motivation": motivation,
            "amount": amount,
            "consultant": consultant,
            "now": to_millis(now),
        }
        with self.transaction():
            moved = self._one(
                "UPDATE applications SET status = :outcome, updated_at = :now "
                "WHERE id = :id AND status = 'submitted' RETURNING id",
                params,
            )
            if moved is None:
                return False
            self._execute(
                "INSERT INTO decisions (application_id, outcome, motivation, "
                "amount, consultant, decided_at) VALUES (:id, :outcome, "
                ":motivation, :amount, :consultant, :now)",
                params,
            )
        return True

    def note_decision_offer(
        self, application_id: str, session_id: str, *, now: datetime
    ) -> None:
        """Record the issuing session that offers the decision credential."""
        with self.transaction():
            self._execute(
                "UPDATE decisions SET credential_session = :session, "
                "credential_offered_at = :now WHERE application_id = :id",
                {"id": application_id, "session": session_id, "now": to_millis(now)},
            )

    def note_decision_issued(self, session_id: str, *, now: datetime) -> str | None:
        """Record that a decision credential was issued; return its application id.

        Returns None when ``session_id`` offers no decision. The first issue
        time stays when a credential is issued again in the same session.
        """
        with self.transaction():
            row = self._one(
                "UPDATE decisions SET credential_issued_at = COALESCE("
                "credential_issued_at, :now) WHERE credential_session = :session "
                "RETURNING application_id",
                {"session": session_id, "now": to_millis(now)},
            )
        return None if row is None else row["application_id"]

    def erase_application_records(
        self, before: datetime, *, now: datetime
    ) -> list[str]:
        """Erase the records of applications decided before ``before``; return ids.

        Only decided applications are erased: an open one still needs its
        evidence for the review.
        """
        with self.transaction():
            rows = self._all(
                "UPDATE applications SET record = NULL, record_erased_at = :now "
                "WHERE record IS NOT NULL AND status <> 'submitted' "
                "AND updated_at < :before RETURNING id",
                {"before": to_millis(before), "now": to_millis(now)},
            )
        return sorted(row["id"] for row in rows)

    def store_rule_table(
        self, sha256: str, name: str, content: bytes, *, now: datetime
    ) -> bool:
        """Keep a rule table by its SHA-256; return False when it was stored before."""
        with self.transaction():
            row = self._one(
                "INSERT INTO rule_tables (sha256, name, content, stored_at) "
                "VALUES (:sha256, :name, :content, :now) "
                "ON CONFLICT (sha256) DO NOTHING RETURNING sha256",
                {
                    "sha256": sha256,
                    "name": name,
                    "content": content,
                    "now": to_millis(now),
                },
            )
        return row is not None

    def rule_table(self, sha256: str) -> dict[str, Any] | None:
        """Return a stored rule table (name, content as bytes, stored_at), or None."""
        row = self._one(
            "SELECT sha256, name, content, stored_at FROM rule_tables "
            "WHERE sha256 = :sha256",
            {"sha256": sha256},
        )
        if row is None:
            return None
        row["content"] = bytes(row["content"])
        return self._decoded(row)

    def _with_decision(self, row: dict[str, Any]) -> dict[str, Any]:
        application = self._decoded(row)
        application["record"] = self.backend.load_json(row["record"])
        decision = self._one(
            f"SELECT {_DECISION_COLUMNS} FROM decisions WHERE application_id = :id",
            {"id": row["id"]},
        )
        application["decision"] = None if decision is None else self._decoded(decision)
        return application

    @staticmethod
    def _decoded(row: dict[str, Any]) -> dict[str, Any]:
        decoded = dict(row)
        for column in _TIME_COLUMNS:
            if column in decoded:
                decoded[column] = from_millis(decoded[column])
        if "outcome_matches" in decoded:
            decoded["outcome_matches"] = bool(decoded["outcome_matches"])
        return decoded
