"""Read flow folders into :class:`~stappen.model.Flow` objects.

Reading has two stages: the YAML is checked against the published JSON
Schema (the same file editors use for completion), then each step that
passed becomes a typed object. Every problem goes into one ``Problems``
collection, so the author sees all of them at once.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import logging
import math
import re
from importlib import resources
from pathlib import Path

import jsonschema

from stappen.errors import Problems, with_article
from stappen.model import (
    RESERVED_IDS,
    Answer,
    Flow,
    Option,
    Organisation,
    Route,
    Step,
)
from stappen.slugs import slugify
from stappen.yamlload import YamlDocument, describe, load_yaml

log = logging.getLogger(__name__)

FLOW_FILE = "flow.yaml"
DEFAULT_LANGUAGES = ("nl", "en")
DEFAULT_THEME = "voorbeeld"

ID_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"
"""The pattern of step ids and option values in the schema."""

TYPE_NAMES = {
    "string": "a text",
    "object": "a mapping",
    "array": "a list",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "nothing",
}


@functools.cache
def flow_schema() -> dict:
    """Return the flow format's JSON Schema, as published in the package."""
    text = resources.files("stappen").joinpath("schema/flow.schema.json").read_text()
    return json.loads(text)


@functools.cache
def schema_validator() -> jsonschema.Draft202012Validator:
    """Return a validator for the flow schema, made once per process."""
    return jsonschema.Draft202012Validator(flow_schema())


def find_flow_folders(steps_dir: Path, problems: Problems) -> list[Path]:
    """List the flow folders under ``steps_dir``: those holding a flow.yaml."""
    if not steps_dir.is_dir():
        problems.error(steps_dir, None, "folder not found; pass the folder of flows")
        return []

    folders = []
    for folder in sorted(p for p in steps_dir.iterdir() if p.is_dir()):
        flow_file = folder / FLOW_FILE
        if flow_file.is_symlink() or flow_file.exists():
            if usable_file(flow_file, steps_dir, problems):
                folders.append(folder)
        elif any(folder.glob("*.y*ml")):
            problems.error(
                folder,
                None,
                f"folder holds YAML files but no {FLOW_FILE}; "
                f"name the flow's main file {FLOW_FILE}",
            )
    if not folders:
        problems.error(steps_dir, None, f"no flow found: expected <flow>/{FLOW_FILE}")
    return folders


def usable_file(path: Path, root: Path, problems: Problems) -> bool:
    """Check that ``path`` is a regular file inside ``root``, reporting why not."""
    if path.is_symlink() and not path.exists():
        problems.error(
            path,
            None,
            "is a broken symbolic link; point it to a file or replace it with the file",
        )
        return False
    if not path.resolve().is_relative_to(root.resolve()):
        problems.error(
            path,
            None,
            f"is a symbolic link to a file outside "
            f"{str(root)!r}; copy the file in instead",
        )
        return False
    if not path.is_file():
        problems.error(path, None, "is not a regular file; replace it with a YAML file")
        return False
    return True


def load_flows(steps_dir: Path, problems: Problems) -> list[Flow]:
    """Read every flow under ``steps_dir``; unreadable ones are left out."""
    flows = []
    for folder in find_flow_folders(steps_dir, problems):
        flow = load_flow(folder, problems)
        if flow is not None:
            flows.append(flow)
    return flows


def load_flow(folder: Path, problems: Problems) -> Flow | None:
    """Read one flow folder, adding every problem found to ``problems``."""
    file = folder / FLOW_FILE
    document = load_yaml(file, problems)
    if document is None:
        return None

    _check_flow_id(folder, problems)
    unusable = _check_values(document, document.data, (), problems)
    bad_steps, top_level_valid = _check_schema(document, problems)
    bad_steps |= {path[1] for path in unusable if len(path) > 1 and path[0] == "steps"}
    if any(len(path) < 2 or path[0] != "steps" for path in unusable):
        return None
    if not top_level_valid:
        return None

    data = document.data
    steps = {}
    first_lines: dict[str, int | None] = {}
    skipped: set[str] = set()
    for index, raw in enumerate(data["steps"]):
        line = document.line(("steps", index, "id"))
        if not _check_id(document, raw, line, first_lines, problems):
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                skipped.add(raw["id"])
            continue
        if index in bad_steps:
            skipped.add(raw["id"])
        else:
            steps[raw["id"]] = _build_step(document, index, raw)

    languages = tuple(data.get("languages", DEFAULT_LANGUAGES))
    first = data["steps"][0].get("id") if isinstance(data["steps"][0], dict) else None
    return Flow(
        id=folder.name,
        folder=folder,
        file=file,
        title=data["title"],
        organisation=Organisation(**data["organisation"]),
        languages=languages,
        theme=data.get("theme", DEFAULT_THEME),
        start=data.get("start", first),
        steps=steps,
        description=data.get("description"),
        source_digest=hashlib.sha256(document.text.encode()).hexdigest(),
        skipped_steps=frozenset(skipped),
        step_lines=_step_line_finder(document),
    )


def _step_line_finder(document: YamlDocument):
    """Make a function that finds the line of a path inside a step."""
    indexes = {
        raw["id"]: index
        for index, raw in enumerate(document.data["steps"])
        if isinstance(raw, dict) and isinstance(raw.get("id"), str)
    }

    def line(step_id: str, path: tuple) -> int | None:
        if step_id not in indexes:
            return None
        return document.line(("steps", indexes[step_id], *path))

    return line


def _check_id(document, raw, line, first_lines, problems: Problems) -> bool:
    """Report a duplicate or reserved step id; return whether the id is usable."""
    step_id = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(step_id, str):
        return False
    if step_id in first_lines:
        problems.error(
            document.path,
            line,
            f"duplicate id {step_id!r}: first used on line {first_lines[step_id]}; "
            "give each step its own id",
            step=step_id,
            field="id",
        )
        return False
    first_lines[step_id] = line
    if step_id in RESERVED_IDS:
        problems.error(
            document.path,
            line,
            f"id {step_id!r} is reserved for the site's own pages "
            f"({', '.join(sorted(RESERVED_IDS))}); choose another id",
            step=step_id,
            field="id",
        )
        return False
    return True


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _check_values(document, value, path: tuple, problems: Problems) -> list[tuple]:
    """Report numbers that are not finite and texts with control characters,
    which no page or condition can use; return the paths of those values."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        message = _value_problem(document, path, value)
        if message is None:
            return []
        step, field = _locate(document.data, path)
        problems.error(
            document.path, document.line(path), message, step=step, field=field
        )
        return [path]
    found = []
    for key, item in items:
        found += _check_values(document, item, (*path, key), problems)
    return found


def _value_problem(document, path: tuple, value) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        got = describe(document, path, value)
        return f"expected a finite number, got {got}; write a number"
    if isinstance(value, str):
        match = CONTROL_CHARACTERS.search(value)
        if match:
            return (
                f"the text contains the control character U+{ord(match.group()):04X}"
                ", which a page cannot show; remove it"
            )
    return None


def _check_flow_id(folder: Path, problems: Problems) -> None:
    name = folder.name
    if not re.fullmatch(ID_PATTERN, name):
        problems.error(
            folder,
            None,
            f"flow folder name {name!r} is not a valid page path: expected lowercase "
            "ASCII letters, digits and single hyphens; rename the folder to "
            f"{slugify(name) or 'a name like mijn-flow'!r}",
        )


def _check_schema(document: YamlDocument, problems: Problems):
    """Report every schema violation.

    Returns the indexes of invalid steps, and whether the flow's own fields
    (everything outside a step) are valid enough to build a model.
    """
    validator = schema_validator()
    bad_steps = set()
    top_level_valid = True
    for error in validator.iter_errors(document.data):
        for leaf in _leaf_errors(error):
            path = tuple(leaf.absolute_path)
            if len(path) >= 2 and path[0] == "steps":
                bad_steps.add(path[1])
            else:
                top_level_valid = False
            _report(document, leaf, problems)
    return bad_steps, top_level_valid


def _leaf_errors(error):
    """Yield the errors that explain a ``oneOf`` failure best."""
    if error.validator != "oneOf" or not error.context:
        yield error
        return

    instance = error.instance
    wanted = 1 if isinstance(instance, list) else 0
    branch = [e for e in error.context if e.relative_schema_path[0] == wanted]
    if isinstance(instance, list) and branch:
        yield from branch
    else:
        yield error


def _report(document: YamlDocument, error, problems: Problems) -> None:
    path = tuple(error.absolute_path)
    step, field = _locate(document.data, path)
    if error.validator == "additionalProperties":
        for name, message, line in _explain_unknown(document, error, path):
            inner = name if field is None else f"{field}.{name}"
            problems.error(document.path, line, message, step=step, field=inner)
        return
    message, line = _explain(document, error, path)
    if error.validator == "required":
        name = _required_name(error)
        field = name if field is None else f"{field}.{name}"
    if error.validator == "not":
        field = "next" if field is None else f"{field}.next"
    problems.error(document.path, line, message, step=step, field=field)


def _locate(data, path: tuple) -> tuple[str | None, str | None]:
    """Name the step and the field that ``path`` points into."""
    if len(path) >= 2 and path[0] == "steps":
        raw = data["steps"][path[1]]
        step_id = raw.get("id") if isinstance(raw, dict) else None
        step = step_id if isinstance(step_id, str) else f"#{path[1] + 1}"
        rest = path[2:]
    else:
        step, rest = None, path
    field = ".".join(str(part) for part in rest) or None
    return step, field


def _required_name(error) -> str:
    return error.message.split("'")[1]


def _explain(document: YamlDocument, error, path: tuple) -> tuple[str, int | None]:
    """Turn a schema error into an author's message and the line it is on."""
    got = describe(document, path, error.instance)
    line = document.line(path)
    kind = error.validator
    schema = error.schema

    if kind == "required":
        return _explain_required(_required_name(error), error.instance), line
    if kind == "type":
        return f"expected {_type_names(schema['type'])}, got {got}", line
    if kind == "enum":
        return _explain_enum(schema["enum"], error.instance, got), line
    if kind == "const":
        return f"expected {schema['const']!r}, got {got}", line
    if kind == "pattern":
        return _explain_pattern(schema["pattern"], path, error.instance, got), line
    if kind == "not":
        return (
            "an outcome ends the flow and has no 'next'; remove 'next' or "
            "make the step a content page"
        ), document.key_line((*path, "next"))
    if kind == "oneOf":
        return f"expected a step id or a list of routes, got {got}", line
    if kind in LIMIT_MESSAGES:
        return LIMIT_MESSAGES[kind].format(limit=error.validator_value, got=got), line
    if kind == "maxProperties":
        return (
            f"expected one operator per condition, got {got}; combine "
            'conditions with {"and": [...]} or {"or": [...]}'
        ), line
    if kind == "uniqueItems":
        return _explain_duplicates(error.instance, got), line
    return f"{error.message}; got {got}", line


LIMIT_MESSAGES = {
    "minItems": "expected a list of at least {limit} items, got {got}",
    "minProperties": "expected a mapping with at least {limit} entries, got {got}",
    "maxLength": "expected at most {limit} characters, got {got}",
    "minLength": "expected at least {limit} characters, got {got}",
    "minimum": "expected a number of at least {limit}, got {got}",
    "maximum": "expected a number of at most {limit}, got {got}",
}


def _explain_duplicates(values: list, got: str) -> str:
    seen, repeated = [], []
    for value in values:
        if value in seen and value not in repeated:
            repeated.append(value)
        seen.append(value)
    names = ", ".join(repr(value) for value in repeated)
    return f"expected each value once, got {names} more than once; remove the copy"


def _explain_required(name: str, instance) -> str:
    kind = instance.get("kind") if isinstance(instance, dict) else None
    if name == "next" and kind:
        return f"missing: {with_article(kind)} step needs the id of the next step"
    if name == "answer":
        return "missing: a question step needs an 'answer' with a 'type'"
    if name == "stappen":
        return "missing: start the file with 'stappen: 1'"
    return "missing"


def _explain_unknown(document, error, path):
    """Yield (name, message, line) for each unknown field of a mapping."""
    schema = error.schema
    allowed = list(schema.get("properties", {})) or _pattern_names(schema)
    for name in sorted(set(error.instance) - set(allowed)):
        if any(re.match(p, name) for p in schema.get("patternProperties", {})):
            continue
        if allowed == ["nl", "en"]:
            yield (
                name,
                _explain_unknown_language(name),
                document.key_line((*path, name)),
            )
            continue
        message = f"unknown field {name!r}"
        close = difflib.get_close_matches(name, allowed, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        else:
            message += f"; expected one of {', '.join(allowed)}"
        yield name, message, document.key_line((*path, name))


def _explain_unknown_language(name: str) -> str:
    if " " in name:
        return (
            f"unknown language {name!r} in a text: a comma inside {{...}} ends the "
            "text before it, so put the whole text in quotes"
        )
    return f"unknown language {name!r} in a text; expected nl or en"


def _pattern_names(schema: dict) -> list[str]:
    """List the names a pattern such as ``^(a|b|c)$`` allows."""
    names = []
    for pattern in schema.get("patternProperties", {}):
        match = re.fullmatch(r"\^\(([\w|]+)\)\$", pattern)
        if match:
            names += match.group(1).split("|")
    return names


def _explain_enum(allowed: list, value, got: str) -> str:
    names = ", ".join(str(item) for item in allowed)
    message = f"expected one of {names}, got {got}"
    if isinstance(value, str):
        close = difflib.get_close_matches(value, [str(a) for a in allowed], n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
    return message


def _explain_pattern(pattern: str, path: tuple, value, got: str) -> str:
    if pattern.startswith("^https://"):
        return f"expected a web address that starts with https://, got {got}"
    if path[-1:] == ("value",) and isinstance(value, str):
        return (
            "expected a value of lowercase ASCII letters, digits and single "
            f"hyphens, got {got}; use {slugify(value)!r}"
        )
    suggestion = slugify(value) if isinstance(value, str) else ""
    message = (
        f"expected an id of lowercase ASCII letters, digits and single hyphens, "
        f"got {got}"
    )
    if suggestion:
        message += f"; use {suggestion!r}"
    return message


def _type_names(types) -> str:
    if isinstance(types, str):
        return TYPE_NAMES.get(types, types)
    return " or ".join(TYPE_NAMES.get(t, t) for t in types)


def _build_step(document: YamlDocument, index: int, raw: dict) -> Step:
    path = ("steps", index)
    next_value = raw.get("next")
    if isinstance(next_value, str):
        routes = (Route(next_value, None, document.line((*path, "next"))),)
    else:
        routes = tuple(
            Route(r["goto"], r.get("if"), document.line((*path, "next", i)))
            for i, r in enumerate(next_value or ())
        )
    return Step(
        id=raw["id"],
        kind=raw["kind"],
        title=raw["title"],
        line=document.line(path),
        hint=raw.get("hint"),
        body=raw.get("body"),
        answer=_build_answer(raw.get("answer")),
        errors=raw.get("errors", {}),
        routes=routes,
        tone=raw.get("tone", "neutral"),
        settings=raw.get("settings", {}),
    )


def _build_answer(raw: dict | None) -> Answer | None:
    if raw is None:
        return None
    options = tuple(Option(**option) for option in raw.get("options", ()))
    return Answer(**{**raw, "options": options})
