"""Status polls of wallet sessions, shared by the worker processes of one host.

Status polls are the API's most frequent request. Each one must know when
the previous poll of its session came, to reject polls that come too
early, and most find the session in the state the previous poll saw.
Kept in the database, the poll time made every poll a write, and the
writes of all workers queue for SQLite's single write lock. Here a fixed
table in a memory-mapped file, which every worker process on the host
maps under a file lock, keeps for each session the time of its last poll
and a copy of its state and expiry time. Nothing in it is written to disk
on purpose: the operating system may do so at any time or never.

The database stays the source of every state. A copy is made only from
a database read, and the storage layer drops it when a transaction that
changes the session's state commits. A version number in the slot keeps
a read that raced with such a change from storing an outdated copy. A
copy older than a time to live is read again. That bounds how late a page
learns of a change that this host did not make. Such a change was made on
another API host sharing a PostgreSQL database, or by a process that died
between its commit and dropping the copy. A SQLite database has no other
hosts, so its copies live longer (SINGLE_HOST_STATE_TTL_MS).

Losing the table, after a reboot for example, only lets each page poll
early once. A session's id picks a set of WAYS slots, and the session
takes a free slot of that set, or else the one polled longest ago. A
session that loses its slot this way also only lets a poll through early
and costs a database read. With one slot per id, 7% of 5,000 sessions
polled in turn lost their slot each round, and 14% of 10,000. With four
ways none of 5,000 did, and 0.1% of 10,000, the default limit of open
sessions.

With several hosts, each host keeps its own table, so a page whose polls
land on different hosts may poll once per host in each interval.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import threading
import weakref
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

SETS = 1 << 14
"""Sets of slots in the table: 65,536 slots of 72 bytes in all."""

WAYS = 4
"""Slots in each set: how many sessions whose ids pick one set keep a slot."""

STATE_TTL_MS = 5000
"""How long a copy of a session's state serves polls before it is read again,
when another host may change the session: with a PostgreSQL database."""

SINGLE_HOST_STATE_TTL_MS = 60_000
"""The same for a SQLite database. Only processes on its own host can write
a SQLite file in WAL mode, so every state change drops the copy, except one
whose process died between its commit and the drop."""

_SLOT = struct.Struct("<16sqqqq24s")
"""One slot: a digest of the session id, the last poll time, a version,
when the copy was made (0 for no copy), the copied expiry time, and the
copied state. Every change of the copy increases the version. Times are
epoch milliseconds."""

_KEY_SIZE = 16
"""Bytes of the session's key at the start of each slot."""

_NEVER = -(2**62)
"""The poll time of a slot that has no poll yet: long enough ago for any interval."""

_MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)


class Poll(NamedTuple):
    """The outcome of recording one status poll."""

    wait_ms: int | None
    """Milliseconds to wait before polling again; None for an allowed poll."""
    state: str | None
    """The session's state from a recent copy; None when it must be read."""
    expires_ms: int | None
    """The session's expiry time from the same copy, in epoch milliseconds."""
    version: int
    """The slot's version, for :meth:`PollTimes.remember_state`."""


class PollTimes:
    """The table in the file at ``path``, created on first use.

    Safe to use from several threads and processes. A process that
    inherits the object across fork() opens the file again, because a file
    lock taken through an inherited descriptor does not exclude the parent.
    A hook run in the child after fork() drops the inherited map, so that
    each poll need not compare process ids.
    """

    def __init__(
        self,
        path: Path,
        sets: int = SETS,
        ways: int = WAYS,
        state_ttl_ms: int = STATE_TTL_MS,
    ):
        self.path = Path(path)
        self.sets = sets
        self.ways = ways
        self.state_ttl_ms = state_ttl_ms
        self._thread_lock = threading.Lock()
        self._descriptor: int | None = None
        self._map: mmap.mmap | None = None
        _TABLES.add(self)

    def __repr__(self) -> str:
        return f"PollTimes({str(self.path)!r})"

    def record(self, session_id: str, now_ms: int, min_interval_ms: int) -> Poll:
        """Record a poll of ``session_id`` at ``now_ms`` unless it comes too early.

        An allowed poll, one that came at least ``min_interval_ms`` after
        the previous one, gets ``wait_ms`` None and, when a copy younger
        than STATE_TTL_MS exists, the session's state and expiry time. An
        early poll gets how many milliseconds to wait, and leaves the
        recorded time as it was. A poll time later than ``now_ms`` (the
        clock was set back) makes the caller wait the whole interval.
        """
        key, first = self._locate(session_id)

        # Every allowed poll comes here, so the lock is taken without the
        # context manager, which took about 40% of this method's time.
        table = self._acquire()
        try:
            # Most sessions are in the first slot of their set, so that one
            # is read before the set is searched.
            offset, slot = first, _SLOT.unpack_from(table, first)
            if slot[0] != key:
                offset, _ = self._find(table, key, first)
                slot = _SLOT.unpack_from(table, offset)
            stored_key, last_ms, version, copied_ms, expires_ms, state = slot
            if stored_key != key:
                version += 1
                copied_ms = 0
            elif now_ms - last_ms < min_interval_ms:
                wait_ms = min(min_interval_ms, min_interval_ms - (now_ms - last_ms))
                return Poll(wait_ms, None, None, version)
            _SLOT.pack_into(
                table, offset, key, now_ms, version, copied_ms, expires_ms, state
            )
        finally:
            self._release()

        if copied_ms and 0 <= now_ms - copied_ms < self.state_ttl_ms:
            return Poll(None, state.rstrip(b"\0").decode(), expires_ms, version)
        return Poll(None, None, None, version)

    def remember_state(
        self, session_id: str, version: int, state: str, expires_ms: int, now_ms: int
    ) -> None:
        """Keep a copy of a state read from the database after :meth:`record`.

        ``version`` is the one that record() returned. The copy is not
        kept when the slot changed since, because the state read may then be
        older than a change that has committed in between.
        """
        encoded = state.encode()
        if len(encoded) > 24:
            return
        key, first = self._locate(session_id)

        with self._locked() as table:
            offset, found = self._find(table, key, first)
            _, last_ms, current, *_ = _SLOT.unpack_from(table, offset)
            if found and current == version:
                _SLOT.pack_into(
                    table, offset, key, last_ms, version, now_ms, expires_ms, encoded
                )

    def prime(
        self, session_id: str, state: str, expires_ms: int, created: datetime
    ) -> None:
        """Give a new session's slot a copy of its first state, before any poll.

        The slot is taken as a poll takes one, and no poll time is
        recorded, so the first poll is allowed and served from the copy.
        """
        encoded = state.encode()
        if len(encoded) > 24:
            return
        key, first = self._locate(session_id)
        copied_ms = int(created.timestamp() * 1000)

        with self._locked() as table:
            offset, _ = self._find(table, key, first)
            version = _SLOT.unpack_from(table, offset)[2]
            _SLOT.pack_into(
                table, offset, key, _NEVER, version + 1, copied_ms, expires_ms, encoded
            )

    def forget_state(self, session_id: str) -> None:
        """Drop the copy of a session's state, after a change of it has committed."""
        key, first = self._locate(session_id)

        with self._locked() as table:
            offset, found = self._find(table, key, first)
            if found:
                _, last_ms, version, *_ = _SLOT.unpack_from(table, offset)
                _SLOT.pack_into(table, offset, key, last_ms, version + 1, 0, 0, b"")

    def close(self) -> None:
        """Unmap the table and close its file, if they are open."""
        with self._thread_lock:
            self._close_map()

    def _close_map(self) -> None:
        if self._map is not None:
            self._map.close()
            os.close(self._descriptor)
        self._descriptor = self._map = None

    def _forget_parent(self) -> None:
        """Drop the map and lock inherited across fork(), in the child."""
        # Another thread of the parent may have held the thread lock while
        # it forked, and that thread does not exist in the child.
        self._thread_lock = threading.Lock()
        self._close_map()

    def _locate(self, session_id: str) -> tuple[bytes, int]:
        """Return the session's key and the offset of the first slot of its set."""
        digest = hashlib.blake2b(session_id.encode(), digest_size=24).digest()
        chosen = int.from_bytes(digest[16:], "little") % self.sets
        return digest[:16], chosen * self.ways * _SLOT.size

    def _find(self, table: mmap.mmap, key: bytes, first: int) -> tuple[int, bool]:
        """Return the offset of the slot that contains ``key`` in the set, and True.

        When no slot does, return the slot to give it, and False: an empty
        one, or else the one whose poll or copy is oldest.
        """
        offsets = range(first, first + self.ways * _SLOT.size, _SLOT.size)
        for offset in offsets:
            if table[offset : offset + _KEY_SIZE] == key:
                return offset, True
        return min(offsets, key=lambda offset: _last_use(table, offset)), False

    @contextmanager
    def _locked(self):
        table = self._acquire()
        try:
            yield table
        finally:
            self._release()

    def _acquire(self) -> mmap.mmap:
        """Lock the table for this thread and process, and return it."""
        self._thread_lock.acquire()
        try:
            if self._map is None:
                self._open()
            fcntl.flock(self._descriptor, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise
        return self._map

    def _release(self) -> None:
        fcntl.flock(self._descriptor, fcntl.LOCK_UN)
        self._thread_lock.release()

    def _open(self) -> None:
        size = self.sets * self.ways * _SLOT.size
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            # Every process grows the file to the same size, and extending
            # with zeros leaves slots already written as they were. A file
            # of an earlier layout is reused: its bytes almost never match
            # a session's digest together with a recent copy time.
            if os.fstat(descriptor).st_size < size:
                os.ftruncate(descriptor, size)
            # Mapping every page now spares each new session a page fault.
            table = mmap.mmap(descriptor, size, flags=_MAP_FLAGS)
        except BaseException:
            os.close(descriptor)
            raise
        self._descriptor, self._map = descriptor, table


def _last_use(table: mmap.mmap, offset: int) -> int:
    """Return when a slot was last polled or copied to; 0 for an empty slot."""
    _, last_ms, _, copied_ms, *_ = _SLOT.unpack_from(table, offset)
    return max(last_ms, copied_ms)


_TABLES: weakref.WeakSet[PollTimes] = weakref.WeakSet()
"""Every table of this process, for the hook that runs in a forked child."""


def _forget_parent_tables() -> None:
    for table in list(_TABLES):
        table._forget_parent()


os.register_at_fork(after_in_child=_forget_parent_tables)
