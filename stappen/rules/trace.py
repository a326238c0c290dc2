"""The record of one evaluation, for a consultant to follow step by step."""

from __future__ import annotations

import dataclasses

from stappen.rules.feelvalues import to_json


@dataclasses.dataclass
class DecisionTrace:
    """One evaluated decision.

    ``inputs`` are the values of a table's input columns by label, or, for a
    literal expression, the values of the inputs and decisions it requires.
    ``matched_rules`` are the DMN ids of the matched rules in table order, and
    ``annotations`` maps a matched rule's id to its annotation texts.
    ``error`` explains a null ``output`` that a violated hit policy caused.
    """

    decision: str
    decision_id: str | None
    kind: str
    inputs: dict
    output: object
    hit_policy: str | None = None
    matched_rules: list[str] = dataclasses.field(default_factory=list)
    annotations: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict:
        data = {
            "decision": self.decision,
            "decision_id": self.decision_id,
            "kind": self.kind,
            "inputs": to_json(self.inputs),
            "output": to_json(self.output),
        }
        if self.kind == "decisionTable":
            data["hit_policy"] = self.hit_policy
            data["matched_rules"] = list(self.matched_rules)
            data["annotations"] = {
                rule: list(texts) for rule, texts in self.annotations.items()
            }
        if self.error is not None:
            data["error"] = self.error
        return data


@dataclasses.dataclass
class Trace:
    """An evaluation of ``decision``: the file, the inputs, every decision.

    ``sha256`` is the hash of the DMN file's bytes, so a trace shows which
    version of the rules decided. ``inputs`` are the input data after type
    conversion. ``decisions`` lists each evaluated decision in the order of
    evaluation, the requested one last.
    """

    decision: str
    file: str
    sha256: str
    inputs: dict
    decisions: list[DecisionTrace]

    @property
    def output(self):
        return self.decisions[-1].output

    def to_dict(self) -> dict:
        """Return the trace as JSON data; numbers become decimal strings."""
        return {
            "decision": self.decision,
            "file": self.file,
            "sha256": self.sha256,
            "inputs": to_json(self.inputs),
            "decisions": [step.to_dict() for step in self.decisions],
        }
