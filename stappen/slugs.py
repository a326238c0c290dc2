"""ASCII slugs for page paths."""

import re
import unicodedata


def slugify(text: str) -> str:
    """Turn ``text`` into lowercase ASCII letters, digits and single hyphens.

    Accents are dropped ("één stap" becomes "een-stap"); characters without
    an ASCII form are left out.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore")
    words = re.split(r"[^a-z0-9]+", ascii_text.decode().lower())
    return "-".join(word for word in words if word)
