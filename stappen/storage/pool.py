"""Idle database connections that one process keeps and reuses across requests.

Opening a SQLite connection and setting its PRAGMAs costs more than a
small query, so each worker process keeps the connections its requests
have finished with. The pool opens nothing until the first request, so it
is safe to create before gunicorn forks its workers. A process that finds
connections inherited from its parent never uses or closes them, because
SQLite does not support carrying a connection across fork(), and closing
it in the child runs SQLite's cleanup on files the parent still uses.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

from stappen.storage.backends import Backend

MAX_IDLE_CONNECTIONS = 8
"""Idle connections kept per process; more concurrent requests open extra
connections, which close when their request ends."""


class ConnectionPool:
    """Raw connections of one backend that the current process may reuse.

    Safe to share between threads: a connection is handed to one thread at
    a time.
    """

    def __init__(self, backend: Backend, max_idle: int = MAX_IDLE_CONNECTIONS):
        self.backend = backend
        self.max_idle = max_idle
        self._lock = threading.Lock()
        self._idle = _IdleConnections(os.getpid())
        weakref.finalize(self, self._idle.close_all)

    def acquire(self) -> Any:
        """Return an idle connection of this process, or open a new one."""
        with self._lock:
            self._idle.forget_if_forked()
            if self._idle.connections:
                return self._idle.connections.pop()
        return self.backend.connect()

    def release(self, raw: Any) -> None:
        """Keep ``raw`` for the next request, or close it if it cannot be reused."""
        if self.backend.is_reusable(raw):
            with self._lock:
                self._idle.forget_if_forked()
                if len(self._idle.connections) < self.max_idle:
                    self._idle.connections.append(raw)
                    return
        raw.close()


class _IdleConnections:
    """The idle connections and the process that opened them.

    A separate object, so that the pool's finalizer can close them without
    keeping the pool alive.
    """

    def __init__(self, pid: int):
        self.pid = pid
        self.connections: list[Any] = []
        self.inherited: list[Any] = []
        """Connections opened before a fork, kept only so they are never closed."""

    def forget_if_forked(self) -> None:
        if os.getpid() != self.pid:
            self.inherited.extend(self.connections)
            self.connections.clear()
            self.pid = os.getpid()

    def close_all(self) -> None:
        self.forget_if_forked()
        while self.connections:
            self.connections.pop().close()
