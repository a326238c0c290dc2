"""Read FEEL text into a syntax tree: the lexer and the nodes.

FEEL lets a name contain spaces (``Monthly Salary``) and some operator
characters (``Approved/Declined``), so the lexer cannot find names on its own.
It matches the names that are in scope first, longest first, and only then
splits the rest of the text into ordinary tokens. The parser is in
``feelparser``.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from decimal import Decimal

from stappen.rules.errors import FeelSyntaxError

KEYWORDS = frozenset(
    {
        "and",
        "or",
        "if",
        "then",
        "else",
        "for",
        "in",
        "return",
        "some",
        "every",
        "satisfies",
        "between",
        "instance",
        "of",
        "function",
        "true",
        "false",
        "null",
    }
)

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*|/\*.*?\*/)
    |(?P<number>\d+(?:\.\d+)?|\.\d+)
    |(?P<string>"(?:[^"\\]|\\.)*")
    |(?P<name>[^\W\d]\w*)
    |(?P<operator>\.\.|\*\*|<=|>=|!=|[-+*/<>=(),.\[\]{}:?@])
    """,
    re.VERBOSE | re.DOTALL,
)

_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t", "'": "'"}


@dataclasses.dataclass(frozen=True, slots=True)
class Token:
    """One token: ``kind`` is name, keyword, number, string, operator or end."""

    kind: str
    text: str
    column: int
    value: object = None


def tokenize(text: str, names: frozenset[str] = frozenset()) -> list[Token]:
    """Split FEEL text into tokens, reading the given names as one token each.

    Raises FeelSyntaxError for a character that starts no token or a string
    that is not closed.
    """
    known = _known_names_pattern(names)
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        token, position = _next_token(text, position, known)
        if token is not None:
            tokens.append(token)
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _next_token(text: str, position: int, known) -> tuple[Token | None, int]:
    column = position + 1
    if known is not None:
        match = known.match(text, position)
        if match is not None:
            name = " ".join(match.group().split())
            return Token("name", name, column), match.end()
    match = _TOKEN.match(text, position)
    if match is None:
        return None, _raise_unexpected(text, position)
    kind, chunk = match.lastgroup, match.group()
    if kind == "space":
        return None, match.end()
    if kind == "number":
        return Token("number", chunk, column, Decimal(chunk)), match.end()
    if kind == "string":
        return Token("string", chunk, column, _unescape(chunk, column)), match.end()
    if kind == "name" and chunk in KEYWORDS:
        return Token("keyword", chunk, column), match.end()
    return Token(kind, chunk, column), match.end()


def _raise_unexpected(text: str, position: int) -> int:
    character = text[position]
    if character == '"':
        raise FeelSyntaxError("the string is not closed with '\"'", position + 1)
    if character == "'":
        raise FeelSyntaxError(
            "FEEL strings take double quotes, not single quotes", position + 1
        )
    raise FeelSyntaxError(f"unexpected character {character!r}", position + 1)


def _unescape(chunk: str, column: int) -> str:
    body = chunk[1:-1]
    if "\\" not in body:
        return body
    parts = []
    index = 0
    while index < len(body):
        character = body[index]
        if character != "\\":
            parts.append(character)
            index += 1
            continue
        parts.append(_escape(body, index, column))
        index += 6 if body[index + 1] == "u" else 2
    return "".join(parts)


def _escape(body: str, index: int, column: int) -> str:
    code = body[index + 1]
    if code in _ESCAPES:
        return _ESCAPES[code]
    digits = body[index + 2 : index + 6]
    if code == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", digits):
        return chr(int(digits, 16))
    raise FeelSyntaxError(f"unknown escape '\\{code}' in a string", column)


@functools.lru_cache(maxsize=256)
def _known_names_pattern(names: frozenset[str]):
    """Compile a pattern for the names that ordinary tokens would split."""
    special = [name for name in names if not re.fullmatch(r"[^\W\d]\w*", name)]
    if not special:
        return None
    special.sort(key=len, reverse=True)
    choices = "|".join(
        r"\s+".join(re.escape(word) for word in name.split()) for name in special
    )
    return re.compile(rf"(?:{choices})(?![\w])")


# Syntax tree nodes. ``column`` points into the cell text for messages.


@dataclasses.dataclass(frozen=True, slots=True)
class Literal:
    value: object


@dataclasses.dataclass(frozen=True, slots=True)
class Name:
    name: str
    column: int


@dataclasses.dataclass(frozen=True, slots=True)
class InputValue:
    """The ``?`` of a unary test: the value of the table's input column."""


@dataclasses.dataclass(frozen=True, slots=True)
class Path:
    base: object
    member: str


@dataclasses.dataclass(frozen=True, slots=True)
class Filter:
    base: object
    condition: object


@dataclasses.dataclass(frozen=True, slots=True)
class Call:
    function: object
    arguments: tuple
    named: tuple[tuple[str, object], ...] | None
    column: int


@dataclasses.dataclass(frozen=True, slots=True)
class Negation:
    operand: object


@dataclasses.dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic, comparison or logic: ``operator`` is its FEEL spelling."""

    operator: str
    left: object
    right: object


@dataclasses.dataclass(frozen=True, slots=True)
class Between:
    value: object
    low: object
    high: object


@dataclasses.dataclass(frozen=True, slots=True)
class In:
    value: object
    tests: object


@dataclasses.dataclass(frozen=True, slots=True)
class If:
    condition: object
    then: object
    otherwise: object


@dataclasses.dataclass(frozen=True, slots=True)
class ListExpr:
    items: tuple


@dataclasses.dataclass(frozen=True, slots=True)
class ContextExpr:
    entries: tuple[tuple[str, object], ...]


@dataclasses.dataclass(frozen=True, slots=True)
class RangeExpr:
    low: object
    high: object
    low_closed: bool
    high_closed: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Iteration:
    """``for``, ``some`` or ``every``, with its ``name in list`` bindings."""

    kind: str
    bindings: tuple[tuple[str, object], ...]
    body: object


@dataclasses.dataclass(frozen=True, slots=True)
class Comparison:
    """A unary test that compares the input value: ``< 18``, ``!= "x"``."""

    operator: str
    operand: object


@dataclasses.dataclass(frozen=True, slots=True)
class UnaryTests:
    """A decision table input entry: tests joined by commas, maybe negated.

    An empty ``tests`` means ``-``, which every input value satisfies.
    """

    tests: tuple
    negated: bool = False
