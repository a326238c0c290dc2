"""Test personas: fictional citizens whose data the pilot issuer can issue.

No authentic source, such as the BRP or the tax office, is reachable from a
pilot. A flow may therefore ship ``steps/<flow>/personas.yaml`` with test
personas, and a wallet step of purpose ``issue`` takes the values of its
``persona:`` claims from the persona the citizen picks::

    personas:
      - id: sanne
        name: Sanne Testpersoon
        description: {nl: ..., en: ...}
        data:
          inkomen:
            netto_per_maand: 1285.00

A claim with ``persona: inkomen.netto_per_maand`` reads the field
``netto_per_maand`` inside ``inkomen`` of ``data``. :func:`load_personas`
reports every problem of the file at once, with its line, and
:func:`check_against_flow` reports the fields that a flow's issue steps
need but a persona lacks or gives in the wrong type.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import logging
import math
import re
from pathlib import Path
from typing import Any

from stappen.errors import Problems, StappenError
from stappen.model import Flow
from stappen.walletstep import InvalidSettings, IssueSettings, read_settings
from stappen.yamlload import YamlDocument, describe, load_yaml

log = logging.getLogger(__name__)

PERSONAS_FILE = "personas.yaml"
TOP_LEVEL_FIELDS = ("personas",)
PERSONA_FIELDS = ("id", "name", "description", "data")

ID_PATTERN = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
FIELD_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
DATE_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

MISSING = object()
"""Returned by :meth:`Persona.value` for a field that the persona lacks."""


class InvalidPersonas(StappenError):
    """A personas file with errors; ``problems`` contains every one of them."""

    def __init__(self, path: Path, problems: Problems) -> None:
        self.problems = problems
        count = len(problems.errors)
        noun = "error" if count == 1 else "errors"
        super().__init__(f"{count} {noun} in the test personas of {path}")


@dataclasses.dataclass(frozen=True)
class Persona:
    """One fictional citizen: an id, a name for the page, and the data fields."""

    id: str
    name: str
    data: dict
    description: dict[str, str] | None = None
    line: int | None = None

    def value(self, field: str) -> Any:
        """Return the value at a dotted field name, or MISSING."""
        current: Any = self.data
        for name in field.split("."):
            if not isinstance(current, dict) or name not in current:
                return MISSING
            current = current[name]
        return current


def load_personas(path: str | Path) -> dict[str, Persona]:
    """Read a personas file and return its personas by id.

    Raises InvalidPersonas with every problem when the file cannot be used.
    """
    path = Path(path)
    problems = Problems()
    personas = read_personas(path, problems)
    if personas is None or problems.errors:
        raise InvalidPersonas(path, problems)
    log.info("Loaded %d test personas from %s", len(personas), path)
    return personas


def read_personas(path: Path, problems: Problems) -> dict[str, Persona] | None:
    """Read a personas file, adding each problem to ``problems``.

    Returns None when the file cannot be read as YAML at all.
    """
    document = load_yaml(path, problems)
    if document is None:
        return None

    reader = _Reader(document, problems)
    return reader.personas()


def check_against_flow(flow: Flow, personas: dict[str, Persona], problems) -> None:
    """Report each persona field an issue step needs that a persona cannot give.

    Every persona must have every field that a ``persona:`` claim of the
    flow names, with a value that fits the claim's type.
    """
    file = flow.folder / PERSONAS_FILE
    for step_id, claim in _persona_claims(flow):
        for persona in personas.values():
            problem = _field_problem(persona, claim)
            if problem is not None:
                message = (
                    f"persona {persona.id!r}: {problem}, which step {step_id!r} "
                    f"issues as claim {claim.name!r}"
                )
                problems.error(file, persona.line, message)


def value_problem(claim_type: str, value: Any) -> str | None:
    """Return why ``value`` cannot be a claim of ``claim_type``, or None if it fits.

    The types are those of docs/wallet-step.md: boolean, integer, number
    (euros for amounts), string, date (a text YYYY-MM-DD) and array (a list
    of texts).
    """
    check = _TYPE_CHECKS.get(claim_type)
    if check is None:
        return f"claim type {claim_type!r} is unknown"
    return None if check(value) else f"expected {_TYPE_NAMES[claim_type]}"


# Reading the file.


class _Reader:
    """The reader of one personas document: builds Persona objects, notes problems."""

    def __init__(self, document: YamlDocument, problems: Problems) -> None:
        self.document = document
        self.problems = problems

    def personas(self) -> dict[str, Persona]:
        data = self.document.data
        self._check_unknown(data, TOP_LEVEL_FIELDS, ())
        items = data.get("personas")
        if not isinstance(items, list) or not items:
            got = (
                "nothing" if "personas" not in data else self._got(("personas",), items)
            )
            self._error(
                ("personas",),
                "expected a non-empty list of personas under 'personas', each "
                f"with id, name and data, got {got}",
            )
            return {}

        found: dict[str, Persona] = {}
        for index, item in enumerate(items):
            persona = self._persona(item, ("personas", index))
            if persona is None:
                continue
            if persona.id in found:
                self._error(
                    ("personas", index, "id"),
                    f"persona id {persona.id!r} appears twice; give each "
                    "persona its own id",
                )
                continue
            found[persona.id] = persona
        return found

    def _persona(self, item: Any, path: tuple) -> Persona | None:
        if not isinstance(item, dict):
            self._error(
                path,
                "expected a persona: a mapping with id, name and data, got "
                f"{self._got(path, item)}",
            )
            return None

        self._check_unknown(item, PERSONA_FIELDS, path)
        persona_id = self._id(item, path)
        name = self._text(item, "name", path)
        description = self._description(item, path)
        data = self._data(item, path)
        if None in (persona_id, name, data):
            return None
        line = self.document.line(path)
        return Persona(persona_id, name, data, description, line)

    def _id(self, item: dict, path: tuple) -> str | None:
        value = item.get("id")
        if isinstance(value, str) and ID_PATTERN.fullmatch(value):
            return value
        got = "nothing" if "id" not in item else self._got((*path, "id"), value)
        self._error(
            (*path, "id"),
            "expected an id of lowercase letters and digits joined by '-', "
            f"such as 'sanne', got {got}",
        )
        return None

    def _text(self, item: dict, name: str, path: tuple) -> str | None:
        value = item.get(name)
        if isinstance(value, str) and value.strip():
            return value
        got = "nothing" if name not in item else self._got((*path, name), value)
        self._error((*path, name), f"expected a non-empty text, got {got}")
        return None

    def _description(self, item: dict, path: tuple) -> dict[str, str] | None:
        value = item.get("description")
        if value is None and "description" not in item:
            return None
        texts_ok = isinstance(value, dict) and value
        if texts_ok and all(isinstance(text, str) for text in value.values()):
            return dict(value)
        self._error(
            (*path, "description"),
            "expected a text per language, such as {nl: ..., en: ...}, got "
            f"{self._got((*path, 'description'), value)}",
        )
        return None

    def _data(self, item: dict, path: tuple) -> dict | None:
        data_path = (*path, "data")
        value = item.get("data")
        if not isinstance(value, dict) or not value:
            got = "nothing" if "data" not in item else self._got(data_path, value)
            self._error(
                data_path,
                "expected the persona's data fields as a mapping, such as "
                f"inkomen: {{netto_per_maand: 1285.00}}, got {got}",
            )
            return None
        problems_before = len(self.problems.errors)
        self._check_fields(value, data_path)
        return value if len(self.problems.errors) == problems_before else None

    def _check_fields(self, mapping: dict, path: tuple) -> None:
        for name, value in mapping.items():
            field_path = (*path, name)
            if not FIELD_NAME_PATTERN.fullmatch(name):
                self._error(
                    field_path,
                    f"field name {name!r} is not valid; use lowercase letters, "
                    "digits and '_', starting with a letter, so that a claim "
                    "can name it as in inkomen.netto_per_maand",
                )
            if isinstance(value, dict):
                self._check_fields(value, field_path)
            elif not _is_leaf_value(value):
                self._error(
                    field_path,
                    "expected true or false, a number, a text, a date such as "
                    "2026-01-31, a list of texts or a mapping of fields, got "
                    f"{self._got(field_path, value)}",
                )

    def _check_unknown(self, mapping: dict, known: tuple, path: tuple) -> None:
        for key in mapping:
            if key in known:
                continue
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = (
                f"did you mean {close[0]!r}?"
                if close
                else (f"expected one of {', '.join(known)}")
            )
            self._error((*path, key), f"unknown field {key!r}; {hint}")

    def _got(self, path: tuple, value: Any) -> str:
        return describe(self.document, path, value)

    def _error(self, path: tuple, message: str) -> None:
        line = self.document.line(path) if path else None
        field = ".".join(str(part) for part in path) or None
        self.problems.error(self.document.path, line, message, field=field)


def _is_leaf_value(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(isinstance(item, str) for item in value)
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, bool | int | str)


# Checking personas against a flow.


def _persona_claims(flow: Flow):
    """Yield (step id, claim source) for each persona claim of each issue step."""
    for step in flow.steps.values():
        if step.kind != "wallet" or step.settings.get("purpose") != "issue":
            continue
        try:
            settings = read_settings(step)
        except InvalidSettings:
            continue
        yield from _claims_of(step.id, settings)


def _claims_of(step_id: str, settings: IssueSettings):
    for configuration in settings.credentials:
        for claim in configuration.claims:
            if claim.persona is not None:
                yield step_id, claim


def _field_problem(persona: Persona, claim) -> str | None:
    value = persona.value(claim.persona)
    if value is MISSING:
        return f"field {claim.persona!r} is missing"
    problem = value_problem(claim.type, value)
    if problem is None:
        return None
    return f"field {claim.persona!r} is {_shown(value)}; {problem}"


def _shown(value: Any) -> str:
    return describe(None, (), value)


# The claim types.


def _is_boolean(value: Any) -> bool:
    return isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return _is_integer(value)


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or not DATE_PATTERN.fullmatch(value):
        return False
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


_TYPE_CHECKS = {
    "boolean": _is_boolean,
    "integer": _is_integer,
    "number": _is_number,
    "string": _is_string,
    "date": _is_date,
    "array": _is_text_list,
}

_TYPE_NAMES = {
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
    "string": "a text",
    "date": "a date written YYYY-MM-DD, such as 2026-01-31",
    "array": "a list of texts",
}
