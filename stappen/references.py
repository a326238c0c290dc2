"""Application references: made to be read aloud and typed in again.

A reference is the application step's prefix, a dash and eight characters
of Crockford's base32 in two groups of four, such as ``VIL-7K3M-Q9TX``.
The alphabet has no I, L, O or U, so :func:`normalize_reference` can read
a reference typed in lower case, with spaces, without dashes, or with O
for 0 and I or L for 1.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8
"""Characters after the prefix: 32**8 references per prefix."""

_TYPED_ALIKE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-]+")


def new_reference(prefix: str) -> str:
    """Return a random reference that starts with ``prefix``."""
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return _format(prefix, code)


def normalize_reference(typed: str) -> str:
    """Return the reference a citizen meant, in the form references are stored.

    Text too short to hold a prefix and a code is returned in capitals
    without separators, so that a lookup finds nothing.
    """
    compact = _SEPARATORS.sub("", typed.upper())
    if len(compact) <= CODE_LENGTH:
        return compact
    prefix, code = compact[:-CODE_LENGTH], compact[-CODE_LENGTH:]
    return _format(prefix, code.translate(_TYPED_ALIKE))


def _format(prefix: str, code: str) -> str:
    return f"{prefix}-{code[:4]}-{code[4:]}"
