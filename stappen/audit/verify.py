"""Walk the audit chain and name every event that was changed, deleted,
inserted or reordered, and every checkpoint that no longer holds.

Each stored event is checked on its own (does its hash match its fields?)
and against its neighbours in seq order (does it link to the event before
it?). An event whose hash matches only at another seq was moved there. The
chain head and the signed checkpoints catch what links alone cannot: the
newest events deleted, or events appended by someone who recomputed the
hashes.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime

from joserfc.jwk import Key

from stappen import jose
from stappen.audit.chain import (
    GENESIS_HASH,
    AuditEvent,
    execute,
    personal_digest,
    read_events,
    read_head,
)
from stappen.audit.checkpoints import CHECKPOINT_TYPE, read_checkpoints
from stappen.storage.base import ConnectionBase


@dataclasses.dataclass
class VerifyReport:
    """The outcome of a walk: problems, one line each, and facts that are no problem."""

    problems: list[tuple[int, str]] = dataclasses.field(default_factory=list)
    """(seq, line) pairs; the lines print in seq order."""
    erased: list[int] = dataclasses.field(default_factory=list)
    """Events whose personal data retention erased."""
    events: int = 0
    checkpoints: int = 0

    def add(self, seq: int, line: str) -> None:
        self.problems.append((seq, line))

    def lines(self) -> list[str]:
        return [line for _, line in sorted(self.problems, key=lambda item: item[0])]


def verify_trail(
    db: ConnectionBase, trusted_keys: list[Key], from_seq: int = 1
) -> VerifyReport:
    """Check the events from ``from_seq`` on, their personal data and checkpoints."""
    anchor = _anchor(db, from_seq)
    events = read_events(db, from_seq)
    report = VerifyReport(events=len(events))
    walk = _Walk(events, anchor, report)
    walk.check_events(from_seq)
    walk.check_head(read_head(db))
    _check_personal(db, events, report)

    checkpoints = read_checkpoints(db, from_seq)
    report.checkpoints = len(checkpoints)
    by_seq = {event.seq: event for event in events}
    for checkpoint in checkpoints:
        _check_checkpoint(
            checkpoint, by_seq.get(checkpoint["seq"]), trusted_keys, report
        )
    return report


@contextlib.contextmanager
def read_snapshot(db: ConnectionBase) -> Iterator[None]:
    """Run the reads inside in one read-only snapshot of the database.

    Wrap verify_trail in it while the API may be appending events:
    verify_trail reads the events, the chain head and the checkpoints in
    separate queries. Without one snapshot, an event appended between them
    would show as a deleted event. SQLite in WAL mode fixes a deferred
    transaction's snapshot at its first read and lets writers go on, and
    PostgreSQL does so with REPEATABLE READ.
    """
    raw = db.raw
    if db.backend.name == "postgresql":
        with raw.transaction():
            raw.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield
        return

    raw.execute("BEGIN DEFERRED")
    try:
        yield
    finally:
        raw.execute("COMMIT")


def _anchor(db: ConnectionBase, from_seq: int) -> AuditEvent | None:
    """Return the event before ``from_seq``, which the first checked event links to."""
    if from_seq <= 1:
        return None
    before = read_events(db, from_seq - 1)
    return before[0] if before and before[0].seq == from_seq - 1 else None


def _label(event: AuditEvent) -> str:
    return f"seq {event.seq} ({event.kind})"


class _Walk:
    """The events in seq order with what each one's hash and link reveal."""

    def __init__(self, events: list[AuditEvent], anchor: AuditEvent | None, report):
        self.events = events
        self.anchor = anchor
        self.report = report
        known = events if anchor is None else [anchor, *events]
        self.by_hash = {event.hash: event for event in known}
        self.links_to: dict[str, list[AuditEvent]] = {}
        for event in known:
            self.links_to.setdefault(event.prev_hash, []).append(event)
        self.sealed: dict[int, int | None] = {}
        if anchor is not None:
            self.sealed[id(anchor)] = anchor.seq

    def check_events(self, from_seq: int) -> None:
        previous = self.anchor
        for event in self.events:
            expected = previous.seq + 1 if previous is not None else from_seq
            for missing in range(expected, event.seq):
                self.report.add(
                    missing,
                    f"seq {missing}: deleted: the events go from seq "
                    f"{expected - 1} to seq {event.seq}",
                )
            self._check_event(event, previous)
            previous = event

    def _check_event(self, event: AuditEvent, previous: AuditEvent | None) -> None:
        sealed = self.sealed_seq(event)
        if sealed is None:
            self.report.add(
                event.seq, f"{_label(event)}: changed: its fields do not match its hash"
            )
            return
        if sealed != event.seq:
            self.report.add(
                event.seq,
                f"{_label(event)}: reordered: its hash seals it as seq {sealed}",
            )
            return

        if self._is_forked_off(event):
            self.report.add(
                event.seq,
                f"{_label(event)}: inserted: another event links to the same "
                "predecessor, and no event links to this one",
            )
            return
        self._check_link(event, previous)
        self._check_time(event, previous)

    def _check_link(self, event: AuditEvent, previous: AuditEvent | None) -> None:
        if event.seq == 1:
            expected = GENESIS_HASH
        elif previous is not None and previous.seq == event.seq - 1:
            expected = previous.hash
        else:
            return  # A deletion, already reported.

        if event.prev_hash == expected or event.prev_hash in self.by_hash:
            return
        if previous is not None and self.sealed_seq(previous) == previous.seq:
            # The predecessor is intact on its own but is not the event that
            # this one was chained to, so it was rewritten with a new hash.
            self.report.add(
                previous.seq,
                f"{_label(previous)}: changed: its hash was recomputed, so seq "
                f"{event.seq} no longer links to it",
            )

    def _check_time(self, event: AuditEvent, previous: AuditEvent | None) -> None:
        if previous is None or self.sealed_seq(previous) != previous.seq:
            return
        if event.created_at < previous.created_at:
            self.report.add(
                event.seq,
                f"{_label(event)}: reordered: created at {_iso(event.created_at)}, "
                f"before seq {previous.seq} at {_iso(previous.created_at)}",
            )

    def _is_forked_off(self, event: AuditEvent) -> bool:
        siblings = self.links_to.get(event.prev_hash, [])
        has_successor = bool(self.links_to.get(event.hash))
        return len(siblings) > 1 and not has_successor and event is not self.events[-1]

    def sealed_seq(self, event: AuditEvent) -> int | None:
        """Return the seq at which the event's hash matches, or None.

        That is its stored seq when it is intact, or, for a moved event, one
        more than the sealed seq of the event its prev_hash names.
        """
        pending = []
        current: AuditEvent | None = event
        while current is not None and id(current) not in self.sealed:
            if current.computed_hash() == current.hash:
                self.sealed[id(current)] = current.seq
                break
            if current in pending:
                break
            pending.append(current)
            current = self.by_hash.get(current.prev_hash)

        for moved in reversed(pending):
            self.sealed[id(moved)] = self._sealed_by_link(moved)
        return self.sealed[id(event)]

    def _sealed_by_link(self, event: AuditEvent) -> int | None:
        if event.prev_hash == GENESIS_HASH:
            candidate = 1
        else:
            predecessor = self.by_hash.get(event.prev_hash)
            base = None if predecessor is None else self.sealed.get(id(predecessor))
            if base is None:
                return None
            candidate = base + 1
        return candidate if event.computed_hash(candidate) == event.hash else None

    def check_head(self, head: dict | None) -> None:
        if head is None:
            self.report.add(0, "chain head: deleted: the audit_head row is missing")
            return
        newest = self.events[-1].seq if self.events else 0
        if self.anchor is not None and not self.events:
            newest = self.anchor.seq
        for missing in range(newest + 1, head["seq"] + 1):
            self.report.add(
                missing,
                f"seq {missing}: deleted: the chain head names seq {head['seq']} "
                "as the newest event",
            )
        for event in self.events:
            if event.seq > head["seq"]:
                self.report.add(
                    event.seq,
                    f"{_label(event)}: inserted: after seq {head['seq']}, the "
                    "newest event the chain head names",
                )


def _check_personal(
    db: ConnectionBase, events: list[AuditEvent], report: VerifyReport
) -> None:
    first = events[0].seq if events else 0
    rows = execute(
        db,
        "SELECT seq, salt, data, erased_at FROM audit_personal WHERE seq >= :first",
        {"first": first},
    ).fetchall()
    personal = {row["seq"]: row for row in rows}
    for event in events:
        if event.personal_digest is None:
            continue
        row = personal.get(event.seq)
        if row is None:
            report.add(
                event.seq,
                f"{_label(event)}: personal data deleted without an erasure record",
            )
        elif row["erased_at"] is not None:
            report.erased.append(event.seq)
        elif personal_digest(row["salt"], row["data"]) != event.personal_digest:
            report.add(
                event.seq,
                f"{_label(event)}: personal data changed: it does not match the "
                "digest in the event",
            )


def _check_checkpoint(
    checkpoint: dict,
    event: AuditEvent | None,
    trusted_keys: list[Key],
    report: VerifyReport,
) -> None:
    seq = checkpoint["seq"]
    label = f"checkpoint at seq {seq}"
    try:
        _, claims = jose.verify(
            checkpoint["signature"], trusted_keys, typ=CHECKPOINT_TYPE
        )
    except jose.VerificationError as error:
        report.add(seq, f"{label}: signature is invalid: {error.reason}")
        return

    signed = (claims.get("seq"), claims.get("hash"))
    if signed != (seq, checkpoint["hash"]):
        report.add(seq, f"{label}: changed: its columns differ from what it signs")
    elif event is None:
        report.add(seq, f"{label}: the event it signs is missing")
    elif event.hash != checkpoint["hash"]:
        report.add(
            seq, f"{label}: seq {seq} ({event.kind}) no longer has the signed hash"
        )


def _iso(millis: int) -> str:
    moment = datetime.fromtimestamp(millis / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
