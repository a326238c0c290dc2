"""The flow model: typed objects built from a validated flow.yaml."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

Texts = dict[str, str]
"""A text in each language of the flow, keyed by language code."""

ANSWER_TYPES = ("yesno", "choice", "choices", "number", "amount", "date", "text")
SPECIAL_KINDS = ("wallet", "check", "application", "decision")
STEP_KINDS = ("content", "question", "summary", "outcome", *SPECIAL_KINDS)

RESERVED_IDS = frozenset({"assets", "authors", "schema", "nl", "en"})
"""Step ids that would clash with paths the build itself writes."""


@dataclasses.dataclass(frozen=True)
class Option:
    value: str
    label: Texts
    hint: Texts | None = None


@dataclasses.dataclass(frozen=True)
class Answer:
    """The answer a question step asks for, with its constraints."""

    type: str
    required: bool = True
    options: tuple[Option, ...] = ()
    min: Any = None
    max: Any = None
    integer: bool = False
    max_length: int | None = None
    multiline: bool = False
    autocomplete: str | None = None
    unit: Texts | None = None

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)


@dataclasses.dataclass(frozen=True)
class Route:
    """One candidate next step: taken when ``condition`` is true or absent."""

    goto: str
    condition: dict | None = None
    line: int | None = None


@dataclasses.dataclass(frozen=True)
class Step:
    id: str
    kind: str
    title: Texts
    line: int | None
    hint: Texts | None = None
    body: Texts | None = None
    answer: Answer | None = None
    errors: dict[str, Texts] = dataclasses.field(default_factory=dict)
    routes: tuple[Route, ...] = ()
    tone: str = "neutral"
    settings: dict = dataclasses.field(default_factory=dict)

    @property
    def targets(self) -> list[str]:
        return [route.goto for route in self.routes]

    @property
    def is_end(self) -> bool:
        return self.kind == "outcome"


@dataclasses.dataclass(frozen=True)
class Organisation:
    name: Texts
    url: str | None = None
    phone: str | None = None
    """The number citizens call for help, as it is written, such as "14 030"."""


@dataclasses.dataclass(eq=False)
class Flow:
    """A flow read from ``steps/<id>/flow.yaml``.

    Flows compare by identity: each reading of a file is a new flow.
    """

    id: str
    folder: Path
    file: Path
    title: Texts
    organisation: Organisation
    languages: tuple[str, ...]
    theme: str
    start: str
    steps: dict[str, Step]
    description: Texts | None = None
    source_digest: str = ""
    skipped_steps: frozenset[str] = frozenset()
    """Ids of steps left out of ``steps`` because their fields are invalid."""
    step_lines: Callable[[str, tuple], int | None] | None = None
    """Return the line of a path inside a step's YAML, e.g. ("settings",)."""

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def questions(self) -> list[Step]:
        return [step for step in self.steps.values() if step.kind == "question"]

    def text(self, texts: Texts | None, lang: str) -> str:
        """Pick the text in ``lang``, falling back to the default language."""
        if not texts:
            return ""
        return texts.get(lang) or texts.get(self.default_language) or ""
