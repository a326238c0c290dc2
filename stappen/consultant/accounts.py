"""Consultant accounts in the store: create, find, lock, disable.

Every function takes an open store connection (``db``), such as
``stappen.storage.request_connection()`` in a view, and runs in its own
transaction unless the caller wraps several in ``db.transaction()``.
Usernames are stored in lower case, so logins ignore case.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
import unicodedata
from datetime import datetime, timedelta

from stappen.storage import IntegrityError
from stappen.storage.base import ConnectionBase, from_millis, to_millis

ROLES = ("consultant", "administrator")
LANGUAGES = ("nl", "en")
USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
MUNICIPALITY_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
NAME_MAX_LENGTH = 100

_COLUMNS = (
    "id, username, display_name, role, municipality, language, password_hash, "
    "failed_logins, locked_until, disabled, created_at"
)


class AccountError(ValueError):
    """An invalid or taken account value; the message names it and the fix."""


@dataclasses.dataclass(frozen=True)
class Consultant:
    """The logged-in consultant, as views and templates see them."""

    id: str
    """The account's id, which audit events name as their actor."""
    username: str
    name: str
    role: str
    """``consultant`` or ``administrator``."""
    municipality: str
    """The id of the municipality whose applications the consultant reviews."""
    lang: str
    """``nl`` or ``en``: the language of the portal's pages."""


@dataclasses.dataclass(frozen=True)
class Account:
    """A row of ``consultant_accounts``, with the fields that login needs."""

    consultant: Consultant
    password_hash: str
    failed_logins: int
    locked_until: datetime | None
    disabled: bool
    created_at: datetime

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


def normalize_username(username: str) -> str:
    return username.strip().lower()


def check_fields(username: str, role: str, municipality: str, lang: str) -> None:
    """Raise AccountError naming the first invalid value and the fix."""
    if not USERNAME_PATTERN.fullmatch(username):
        raise AccountError(
            f"username {username!r} is invalid; use 1 to 64 lowercase letters, "
            "digits and . _ @ -, starting with a letter or digit"
        )
    if role not in ROLES:
        raise AccountError(f"role {role!r} is unknown; use one of {', '.join(ROLES)}")
    if not MUNICIPALITY_PATTERN.fullmatch(municipality):
        raise AccountError(
            f"municipality {municipality!r} is invalid; use the municipality's "
            "id in lowercase letters, digits and hyphens, such as utrecht"
        )
    if lang not in LANGUAGES:
        raise AccountError(
            f"language {lang!r} is unknown; use one of {', '.join(LANGUAGES)}"
        )


def check_name(name: str) -> None:
    """Raise AccountError unless ``name`` can be shown as a consultant's name."""
    # Category Cc is a control character, Cs a lone surrogate, which Python
    # makes of command-line bytes that the locale's encoding cannot decode.
    if len(name) > NAME_MAX_LENGTH or any(
        unicodedata.category(character) in ("Cc", "Cs") for character in name
    ):
        raise AccountError(
            f"name {name!r} is invalid; use at most {NAME_MAX_LENGTH} characters "
            "without control characters, typed in a UTF-8 terminal"
        )


def add_account(
    db: ConnectionBase,
    *,
    username: str,
    name: str,
    role: str,
    municipality: str,
    lang: str,
    password_hash: str,
    now: datetime,
) -> Consultant:
    """Insert an account and return it; raise AccountError for a taken username."""
    username = normalize_username(username)
    check_fields(username, role, municipality, lang)
    check_name(name)
    row = {
        "id": secrets.token_hex(8),
        "username": username,
        "display_name": name.strip() or username,
        "role": role,
        "municipality": municipality,
        "language": lang,
        "password_hash": password_hash,
        "created_at": to_millis(now),
    }
    try:
        with db.transaction():
            db._execute(
                f"INSERT INTO consultant_accounts ({', '.join(row)}) "
                f"VALUES ({', '.join(':' + column for column in row)})",
                row,
            )
    except IntegrityError as error:
        raise AccountError(
            f"username {username!r} is taken; choose another, or change the "
            "existing account with `flask --app app users set-password`"
        ) from error
    return _consultant(row)


def find_by_username(db: ConnectionBase, username: str) -> Account | None:
    """Return the account of a username, in any case, or None.

    A name that no account can have is not looked up, because some, such
    as one with a NUL, make PostgreSQL reject the query.
    """
    if not USERNAME_PATTERN.fullmatch(normalize_username(username)):
        return None
    row = db._execute(
        f"SELECT {_COLUMNS} FROM consultant_accounts WHERE username = :username",
        {"username": normalize_username(username)},
    ).fetchone()
    return None if row is None else _account(row)


def find_by_id(db: ConnectionBase, account_id: str) -> Account | None:
    row = db._execute(
        f"SELECT {_COLUMNS} FROM consultant_accounts WHERE id = :id",
        {"id": account_id},
    ).fetchone()
    return None if row is None else _account(row)


def list_accounts(db: ConnectionBase) -> list[Account]:
    rows = db._execute(
        f"SELECT {_COLUMNS} FROM consultant_accounts ORDER BY username"
    ).fetchall()
    return [_account(row) for row in rows]


def record_failed_login(
    db: ConnectionBase,
    account_id: str,
    *,
    now: datetime,
    max_failed: int,
    lockout: timedelta,
) -> datetime | None:
    """Count a failed login; return the lock's end when this failure locks it.

    Locking resets the count, so after the lock ends another ``max_failed``
    failures in a row lock the account again.
    """
    with db.transaction():
        row = db._execute(
            "UPDATE consultant_accounts SET failed_logins = failed_logins + 1 "
            "WHERE id = :id RETURNING failed_logins",
            {"id": account_id},
        ).fetchone()
        if row is None or row["failed_logins"] < max_failed:
            return None
        until = now + lockout
        db._execute(
            "UPDATE consultant_accounts SET failed_logins = 0, locked_until = :until "
            "WHERE id = :id",
            {"id": account_id, "until": to_millis(until)},
        )
    return until


def reset_failed_logins(db: ConnectionBase, account_id: str) -> None:
    """Clear the failure count and any lock, after a login or ``users unlock``."""
    with db.transaction():
        db._execute(
            "UPDATE consultant_accounts SET failed_logins = 0, locked_until = NULL "
            "WHERE id = :id",
            {"id": account_id},
        )


def set_disabled(db: ConnectionBase, account_id: str, disabled: bool) -> None:
    with db.transaction():
        db._execute(
            "UPDATE consultant_accounts SET disabled = :disabled WHERE id = :id",
            {"id": account_id, "disabled": disabled},
        )


def set_password_hash(db: ConnectionBase, account_id: str, password_hash: str) -> None:
    with db.transaction():
        db._execute(
            "UPDATE consultant_accounts SET password_hash = :hash WHERE id = :id",
            {"id": account_id, "hash": password_hash},
        )


def set_language(db: ConnectionBase, account_id: str, lang: str) -> None:
    if lang not in LANGUAGES:
        raise AccountError(
            f"language {lang!r} is unknown; use one of {', '.join(LANGUAGES)}"
        )
    with db.transaction():
        db._execute(
            "UPDATE consultant_accounts SET language = :lang WHERE id = :id",
            {"id": account_id, "lang": lang},
        )


def _account(row: dict) -> Account:
    return Account(
        consultant=_consultant(row),
        password_hash=row["password_hash"],
        failed_logins=row["failed_logins"],
        locked_until=from_millis(row["locked_until"]),
        disabled=bool(row["disabled"]),
        created_at=from_millis(row["created_at"]),
    )


def _consultant(row: dict) -> Consultant:
    return Consultant(
        id=row["id"],
        username=row["username"],
        name=row["display_name"],
        role=row["role"],
        municipality=row["municipality"],
        lang=row["language"],
    )
