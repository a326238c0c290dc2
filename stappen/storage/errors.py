"""The exceptions of the storage layer."""

from __future__ import annotations


class StorageError(Exception):
    """Base class of the errors that the storage layer raises."""


class StorageConfigError(StorageError, ValueError):
    """The database URL is invalid or names an unsupported database."""


class NotFound(StorageError, LookupError):
    """A row that the operation needs does not exist."""


class SessionNotFound(NotFound):
    """No session has the given id."""


class IntegrityError(StorageError):
    """The database rejected a write because of a constraint.

    Raised for a duplicate session id, lookup value or credential id, and
    for a reference to a row that does not exist.
    """


def session_label(session_id: str) -> str:
    """Return a short form of a session id that is safe to log.

    A session id is a bearer secret, so messages and logs show only its
    first six characters.
    """
    return repr(session_id[:6] + "...")
