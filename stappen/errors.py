"""Problems found in an author's input, collected and reported together."""

from __future__ import annotations

import dataclasses
from pathlib import Path


@dataclasses.dataclass(frozen=True, order=True)
class Problem:
    """One error or warning about a flow, with where it was found.

    Renders as ``file:line: step 'x', field 'y': message``; the parts that
    are unknown are left out.
    """

    file: str
    line: int | None
    message: str
    step: str | None = None
    field: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        subject = []
        if self.step is not None:
            subject.append(f"step {self.step!r}")
        if self.field is not None:
            subject.append(f"field {self.field!r}")
        label = "" if self.severity == "error" else f"{self.severity}: "
        if subject:
            return f"{where}: {label}{', '.join(subject)}: {self.message}"
        return f"{where}: {label}{self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class Problems:
    """An ordered collection of problems, reported all at once."""

    def __init__(self) -> None:
        self._items: list[Problem] = []

    def __iter__(self):
        return iter(sorted(set(self._items), key=_sort_key))

    def __len__(self) -> int:
        return len(set(self._items))

    def add(self, problem: Problem) -> None:
        self._items.append(problem)

    def error(self, file, line, message, *, step=None, field=None) -> None:
        self.add(Problem(_display(file), line, message, step, field, "error"))

    def warning(self, file, line, message, *, step=None, field=None) -> None:
        self.add(Problem(_display(file), line, message, step, field, "warning"))

    def extend(self, problems) -> None:
        for problem in problems:
            self.add(problem)

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self if problem.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self if not problem.is_error]


class StappenError(Exception):
    """A mistake in the user's input or command line: reported without a
    traceback, and the command exits with status 1."""


class InvalidFlows(StappenError):
    """Validation found errors; ``problems`` holds all of them."""

    def __init__(self, problems: Problems, *, strict: bool = False) -> None:
        self.problems = problems
        count = len(problems.errors)
        message = f"{count} error{'s' if count != 1 else ''}"
        if strict and problems.warnings:
            warnings = len(problems.warnings)
            message += (
                f" and {warnings} warning{'s' if warnings != 1 else ''} "
                "(--strict counts warnings as errors)"
            )
        super().__init__(f"{message} in the flows")


def _display(file) -> str:
    """Show a path relative to the working directory when it lies inside it."""
    path = Path(file)
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _sort_key(problem: Problem):
    return (problem.file, problem.line or 0, problem.message)


def with_article(word: str) -> str:
    """Put "a" or "an" before ``word`` for a message: "an amount", "a choice"."""
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"
