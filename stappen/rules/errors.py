"""The error raised for a DMN file or an evaluation that cannot go ahead."""

from __future__ import annotations

from stappen.errors import StappenError


class DmnError(StappenError):
    """A problem in a DMN file, or in the inputs given to one of its decisions.

    Renders as ``file:line: decision 'x', rule 'r1', input 'y': message``, and
    leaves out the parts that are unknown. When loading finds several problems,
    the first one fills the attributes and ``problems`` contains all of them.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        decision: str | None = None,
        rule: str | None = None,
        cell: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.decision = decision
        self.rule = rule
        self.cell = cell
        self.problems: tuple[DmnError, ...] = (self,)
        super().__init__(self.location_text())

    def location_text(self) -> str:
        """Return this one problem as a line, with where it was found."""
        parts = []
        if self.decision is not None:
            parts.append(f"decision {self.decision!r}")
        if self.rule is not None:
            parts.append(f"rule {self.rule!r}")
        if self.cell is not None:
            parts.append(self.cell)
        subject = ", ".join(parts)
        where = self.file or ""
        if self.file is not None and self.line is not None:
            where = f"{self.file}:{self.line}"
        prefix = ": ".join(part for part in (where, subject) if part)
        return f"{prefix}: {self.message}" if prefix else self.message

    def __str__(self) -> str:
        return "\n".join(problem.location_text() for problem in self.problems)

    @classmethod
    def collected(cls, problems: list[DmnError]) -> DmnError:
        """Return one error that reports every problem in ``problems``."""
        first = problems[0]
        first.problems = tuple(problems)
        return first


class FeelSyntaxError(Exception):
    """A FEEL text that cannot be read; ``column`` counts from 1.

    The loader turns it into a DmnError that names the file, decision and cell.
    """

    def __init__(self, message: str, column: int | None = None) -> None:
        self.message = message
        self.column = column
        super().__init__(message)


class FeelNameError(FeelSyntaxError):
    """A FEEL text that refers to a name that is not in scope."""

    def __init__(self, name: str, column: int | None = None) -> None:
        self.name = name
        super().__init__(f"unknown name {name!r}", column)
