"""Trial checks computed without the API, for flow tests.

A trial calculation reads every DMN input from answers, so a flow test
that gives those answers can compute the result and the amount the API
would compute. The rules' validity period is not applied: a flow test
has no date.
"""

from __future__ import annotations

import functools
from pathlib import Path

from stappen import checkstep, outcomes
from stappen.model import Flow, Step
from stappen.rules import DmnModel, load_dmn


def run_trial(flow: Flow, step: Step, answers: dict) -> dict:
    """Evaluate trial check ``step`` with ``answers``; return outcomes.outcome_of.

    Raises DmnError when the file cannot be loaded or the decision fails,
    and KeyError when an input's answer is missing.
    """
    settings = checkstep.read_settings(flow, step)
    model = _model(settings.rules, settings.rules.stat().st_mtime_ns)
    inputs = checkstep.answer_inputs(settings, answers)
    evaluation = model.evaluate(settings.decision, inputs)
    snap = outcomes.snapshot(flow.id, step.id, settings, model.sha256)
    return outcomes.outcome_of(snap, evaluation)


def is_trial(flow: Flow, step: Step) -> bool:
    """Tell whether ``step`` is a check step that reads its inputs from answers."""
    return step.kind == "check" and checkstep.read_settings(flow, step).trial


@functools.lru_cache(maxsize=32)
def _model(path: Path, modified_ns: int) -> DmnModel:
    """Load a DMN file once per version: ``modified_ns`` is part of the key."""
    return load_dmn(path)
