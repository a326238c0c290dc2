"""When each wallet session's status was last polled, shared by the worker processes.

Status polls are the API's most frequent request, and each one must know
when the previous poll of its session came, to reject polls that come too
early. Kept in the database, that time made every poll a write, and the
writes of all workers queue for SQLite's single write lock. Here the times
live in a fixed table in a memory-mapped file that every worker process on
the host maps, guarded by a file lock. Nothing in it is written to disk on
purpose: the operating system may do so at any time or never.

Losing the table, after a reboot for example, only lets each page poll
early once. Two sessions whose ids fall in the same slot take turns in it,
which again only lets a poll through early. With several hosts, such as
API servers sharing one PostgreSQL database, each host keeps its own
table, so a page whose polls land on different hosts may poll once per
host in each interval.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import threading
from contextlib import contextmanager
from pathlib import Path

SLOTS = 1 << 16
"""Slots in the table; more sessions polled at once than this share slots."""

_SLOT = struct.Struct("<16sq")
"""One slot: a digest of the session id, and the poll time in epoch ms."""


_MAP_FLAGS = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)


class PollTimes:
    """The table of poll times in the file at ``path``, created on first use.

    Safe to use from several threads and processes. A process that
    inherits the object across fork() opens the file again, because a file
    lock taken through an inherited descriptor does not exclude the parent.
    """

    def __init__(self, path: Path, slots: int = SLOTS):
        self.path = Path(path)
        self.slots = slots
        self._thread_lock = threading.Lock()
        self._pid: int | None = None
        self._descriptor: int | None = None
        self._map: mmap.mmap | None = None

    def __repr__(self) -> str:
        return f"PollTimes({str(self.path)!r})"

    def record(self, session_id: str, now_ms: int, min_interval_ms: int) -> int | None:
        """Record a poll of ``session_id`` at ``now_ms`` unless it comes too early.

        Returns None for a poll that came at least ``min_interval_ms`` after
        the previous one, and otherwise how many milliseconds the caller
        should wait. An early poll leaves the recorded time as it was. A
        poll time later than ``now_ms`` (the clock was set back) makes the
        caller wait the whole interval.
        """
        digest = hashlib.blake2b(session_id.encode(), digest_size=24).digest()
        offset = int.from_bytes(digest[16:], "little") % self.slots * _SLOT.size
        key = digest[:16]

        with self._locked() as table:
            stored_key, last_ms = _SLOT.unpack_from(table, offset)
            if stored_key == key:
                elapsed = now_ms - last_ms
                if elapsed < min_interval_ms:
                    return min(min_interval_ms, min_interval_ms - elapsed)
            _SLOT.pack_into(table, offset, key, now_ms)
        return None

    def close(self) -> None:
        """Unmap the table and close its file, if this process opened them."""
        with self._thread_lock:
            if self._pid == os.getpid():
                self._map.close()
                os.close(self._descriptor)
            self._pid = self._descriptor = self._map = None

    @contextmanager
    def _locked(self):
        with self._thread_lock:
            if self._pid != os.getpid():
                self._open()
            fcntl.flock(self._descriptor, fcntl.LOCK_EX)
            try:
                yield self._map
            finally:
                fcntl.flock(self._descriptor, fcntl.LOCK_UN)

    def _open(self) -> None:
        size = self.slots * _SLOT.size
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            # Every process grows the file to the same size; extending with
            # zeros leaves any slots already written as they were.
            if os.fstat(descriptor).st_size < size:
                os.ftruncate(descriptor, size)
            # Mapping every page now spares each new session a page fault.
            table = mmap.mmap(descriptor, size, flags=_MAP_FLAGS)
        except BaseException:
            os.close(descriptor)
            raise
        self._pid, self._descriptor, self._map = os.getpid(), descriptor, table
