"""Password hashing and the password rules for consultant accounts.

Hashes come from ``werkzeug.security`` with scrypt (n=2**15, r=8, p=1 in
Werkzeug 3.1): a memory-hard KDF from the standard library's hashlib, so
no extra dependency is needed. The hash string names its method and
parameters, so hashes made with older parameters keep verifying.
"""

from __future__ import annotations

import functools

from werkzeug.security import check_password_hash, generate_password_hash

METHOD = "scrypt"
MIN_LENGTH = 12
MAX_LENGTH = 256
"""Longer passwords are rejected so a request cannot make hashing slow."""


class PasswordRejected(ValueError):
    """A new password breaks the password rules; the message names the broken rule."""


def check_rules(password: str) -> None:
    """Raise PasswordRejected unless ``password`` has 12 to 256 characters."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(
            f"the password has {len(password)} characters; choose one of at "
            f"least {MIN_LENGTH}, such as a few unrelated words"
        )
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(
            f"the password has {len(password)} characters; choose one of at "
            f"most {MAX_LENGTH}"
        )


def hash_password(password: str) -> str:
    """Check the rules, then return the salted hash to store."""
    check_rules(password)
    return generate_password_hash(password, method=METHOD)


def verify(password_hash: str | None, password: str) -> bool:
    """Return whether ``password`` matches the stored hash.

    Without a hash (an unknown username) the password is checked against
    a dummy hash, so the check takes as long as for a real account.
    Passwords over the maximum length never match and are not hashed.
    """
    if len(password) > MAX_LENGTH:
        return False
    if password_hash is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return check_password_hash(password_hash, password)


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash("not a password of any account", method=METHOD)
