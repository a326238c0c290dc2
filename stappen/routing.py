"""Which step comes next: the walk through a flow for a set of answers.

The browser runs the same rules in ``static/js/stappen.js``; the browser
tests walk the shipped flows both ways and compare the paths.
"""

from __future__ import annotations

import dataclasses

from stappen import logic
from stappen.model import Flow, Step


@dataclasses.dataclass(frozen=True)
class Walk:
    """The steps a citizen passes for a set of answers.

    ``path`` ends at the first question without an answer, at an outcome,
    or at a special step (wallet, check, ...) that the static site cannot
    complete by itself when ``stop_at_special`` was set.
    """

    path: tuple[str, ...]
    answers: dict
    complete: bool


def next_step(step: Step, answers: dict) -> str | None:
    """Return the id of the step after ``step``: the first route that holds."""
    for route in step.routes:
        if route.condition is None or logic.truthy(
            logic.evaluate(route.condition, answers)
        ):
            return route.goto
    return None


def walk(flow: Flow, answers: dict, *, stop_at_special: bool = False) -> Walk:
    """Follow the flow from its start with ``answers``.

    Answers of questions that are not on the resulting path are dropped,
    as the citizen's browser drops them when an earlier answer changes.
    """
    path: list[str] = []
    kept: dict = {}
    current = flow.start
    while current is not None and current not in path:
        step = flow.steps.get(current)
        if step is None:
            break
        path.append(current)
        if step.kind == "question":
            if current not in answers:
                return Walk(tuple(path), kept, complete=False)
            kept[current] = answers[current]
        if step.kind == "check" and current in answers:
            # A check step's result is an answer under its id: eligible or not.
            kept[current] = answers[current]
        if step.is_end:
            return Walk(tuple(path), kept, complete=True)
        if stop_at_special and step.kind in ("wallet", "check"):
            return Walk(tuple(path), kept, complete=False)
        current = next_step(step, kept)
    return Walk(tuple(path), kept, complete=False)


def default_path(flow: Flow) -> list[str]:
    """Return the path through each step's fallback route (its last one).

    The step indicator uses it to estimate how many steps remain when the
    answers that decide the route are not known yet.
    """
    path: list[str] = []
    current = flow.start
    while current in flow.steps and current not in path:
        path.append(current)
        routes = flow.steps[current].routes
        current = routes[-1].goto if routes else None
    return path


def predict(flow: Flow, step_id: str, answers: dict) -> list[str]:
    """Return the steps from ``step_id`` to an end, guessing unasked answers.

    A condition that reads an answer not given yet sees ``null``, so the
    prediction usually follows the fallback route there.
    """
    path: list[str] = []
    current = step_id
    while current in flow.steps and current not in path:
        path.append(current)
        current = next_step(flow.steps[current], answers)
    return path


def shortest_prefix(flow: Flow, step_id: str) -> list[str]:
    """Return the shortest list of steps from the start up to ``step_id``."""
    previous = {flow.start: None}
    queue = [flow.start]
    for current in queue:
        if current == step_id:
            break
        for target in flow.steps[current].targets if current in flow.steps else ():
            if target not in previous:
                previous[target] = current
                queue.append(target)
    if step_id not in previous:
        return [step_id]
    prefix = []
    node = step_id
    while node is not None:
        prefix.append(node)
        node = previous[node]
    return prefix[::-1]


def positions(flow: Flow) -> dict[str, tuple[int, int]]:
    """Return every step's indicator, "step n of total", without answers.

    ``n`` counts the shortest way from the start; ``total`` adds the steps
    that the fallback routes lead through from there to an end.
    """
    distance = {flow.start: 1}
    queue = [flow.start]
    for current in queue:
        step = flow.steps.get(current)
        for target in step.targets if step else ():
            if target in flow.steps and target not in distance:
                distance[target] = distance[current] + 1
                queue.append(target)

    remaining: dict[str, int] = {}
    for step_id in flow.steps:
        _count_remaining(flow, step_id, remaining)
    return {
        step_id: (
            distance.get(step_id, 1),
            distance.get(step_id, 1) + remaining[step_id],
        )
        for step_id in flow.steps
    }


def _count_remaining(flow: Flow, step_id: str, remaining: dict[str, int]) -> int:
    """Count the steps after ``step_id`` on the predicted path, memoised."""
    chain = []
    current = step_id
    while current in flow.steps and current not in remaining and current not in chain:
        chain.append(current)
        current = next_step(flow.steps[current], {})
    after = remaining.get(current, 0) + (1 if current in remaining else 0)
    for node in reversed(chain):
        remaining[node] = after
        after += 1
    return remaining[step_id]


def reachable(flow: Flow) -> set[str]:
    """Return the ids of the steps that some path from the start visits."""
    seen = {flow.start}
    queue = [flow.start]
    for current in queue:
        step = flow.steps.get(current)
        for target in step.targets if step else ():
            if target in flow.steps and target not in seen:
                seen.add(target)
                queue.append(target)
    return seen
