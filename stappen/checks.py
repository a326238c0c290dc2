"""Checks of a flow as a whole: its graph, its conditions and its texts.

The schema has already checked each field's shape; these checks need the
whole flow at once: targets that exist, steps the citizen can reach and
leave, conditions that read answers asked before, and every text in every
language.
"""

from __future__ import annotations

import difflib
import re
from datetime import date

import jinja2

from stappen import applicationstep, checkstep, decisionstep, logic, routing, walletstep
from stappen.errors import Problems, with_article
from stappen.model import SPECIAL_KINDS, Flow, Step
from stappen.rendering import is_safe_url, template_names
from stappen.yamlload import read_text_strict

ANSWER_ERROR_KEYS = {
    "yesno": {"required"},
    "choice": {"required", "invalid"},
    "choices": {"required", "invalid"},
    "number": {"required", "invalid", "min", "max", "ambiguous", "not_integer"},
    "amount": {
        "required",
        "invalid",
        "min",
        "max",
        "ambiguous",
        "too_many_decimals",
        "negative",
    },
    "date": {
        "required",
        "invalid_date",
        "min",
        "max",
        "two_digit_year",
        "year_out_of_range",
    },
    "text": {"required", "too_long"},
}

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def check_flow(flow: Flow, problems: Problems) -> None:
    """Run every whole-flow check on ``flow``, adding to ``problems``."""
    if not isinstance(flow.start, str) or flow.start in flow.skipped_steps:
        return
    if flow.start not in flow.steps:
        _error(
            flow, None, "start", f"start step {flow.start!r} does not exist", problems
        )
        return

    _check_targets(flow, problems)
    for step in flow.steps.values():
        _check_answer(flow, step, problems)
        _check_routes_order(flow, step, problems)
        walletstep.check_wallet_step(flow, step, problems, _line_finder(flow, step))
        checkstep.check_check_step(flow, step, problems, _line_finder(flow, step))
        applicationstep.check_application_step(
            flow, step, problems, _line_finder(flow, step)
        )
        decisionstep.check_decision_step(flow, step, problems, _line_finder(flow, step))

    _check_translations(flow, problems)
    _check_links(flow, problems)
    _check_templates(flow, problems)
    if not paths_known(flow):
        return
    cycle = _find_cycle(flow)
    if cycle:
        _report_cycle(flow, cycle, problems)
    _check_reachable(flow, problems)
    _check_ends(flow, problems)
    if not cycle:
        _check_conditions(flow, problems)


def _line_finder(flow: Flow, step: Step):
    if flow.step_lines is None:
        return lambda path: step.line
    return lambda path: flow.step_lines(step.id, path)


def _error(flow, step, field, message, problems, *, line=None):
    problems.error(
        flow.file,
        line if line else getattr(step, "line", None),
        message,
        step=getattr(step, "id", None),
        field=field,
    )


def _warning(flow, step, field, message, problems, *, line=None):
    problems.warning(
        flow.file,
        line if line else getattr(step, "line", None),
        message,
        step=getattr(step, "id", None),
        field=field,
    )


def paths_known(flow: Flow) -> bool:
    """Return whether every step was read and every route leads to a step.

    Until then the paths through the flow are incomplete, so the checks of
    what comes before a step, of reachability and of ends would report
    problems that fixing the first round of errors removes.
    """
    if flow.skipped_steps or flow.start not in flow.steps:
        return False
    steps = flow.steps.values()
    return all(route.goto in flow.steps for step in steps for route in step.routes)


def _check_targets(flow: Flow, problems: Problems) -> None:
    for step in flow.steps.values():
        for route in step.routes:
            if route.goto in flow.steps or route.goto in flow.skipped_steps:
                continue
            message = f"next step {route.goto!r} does not exist"
            close = difflib.get_close_matches(route.goto, list(flow.steps), n=1)
            if close:
                message += f"; did you mean {close[0]!r}?"
            else:
                message += "; use the id of a step in this flow"
            _error(flow, step, "next", message, problems, line=route.line)


def _check_routes_order(flow: Flow, step: Step, problems: Problems) -> None:
    if not step.routes:
        return
    for index, route in enumerate(step.routes[:-1]):
        if route.condition is None:
            _error(
                flow,
                step,
                f"next.{index}",
                f"route to {route.goto!r} has no 'if', so the routes after it "
                "are never taken; give it a condition or move it to the end",
                problems,
                line=route.line,
            )
    last = step.routes[-1]
    if last.condition is not None:
        _error(
            flow,
            step,
            f"next.{len(step.routes) - 1}",
            "the last route has an 'if': when no condition holds there is no "
            "next step; end the list with a route without 'if'",
            problems,
            line=last.line,
        )


def _check_kind_fields(flow: Flow, step: Step, problems: Problems) -> None:
    """Warn about fields that the step's kind does not use."""
    if step.tone != "neutral" and step.kind != "outcome":
        _warning(
            flow,
            step,
            "tone",
            f"{with_article(step.kind)} step has no tone; only "
            "outcomes do, so remove it",
            problems,
        )
    if step.settings and step.kind not in SPECIAL_KINDS:
        _warning(
            flow,
            step,
            "settings",
            f"{with_article(step.kind)} step has no settings; "
            f"only {', '.join(SPECIAL_KINDS)} steps do, so remove them",
            problems,
        )


def _check_answer(flow: Flow, step: Step, problems: Problems) -> None:
    _check_kind_fields(flow, step, problems)
    answer = step.answer
    if step.kind != "question":
        if answer is not None:
            _error(
                flow,
                step,
                "answer",
                f"{with_article(step.kind)} step asks nothing; remove 'answer' or "
                "make it a question",
                problems,
            )
        return

    has_options = answer.type in ("choice", "choices")
    if has_options and not answer.options:
        _error(
            flow,
            step,
            "answer.options",
            f"{with_article(answer.type)} answer needs 'options' to choose from",
            problems,
        )
    if not has_options and answer.options:
        _error(
            flow,
            step,
            "answer.options",
            f"{with_article(answer.type)} answer has no options; remove 'options' "
            "or use type choice",
            problems,
        )
    _check_option_values(flow, step, problems)
    _check_bounds(flow, step, problems)
    _check_type_fields(flow, step, problems)
    _check_error_keys(flow, step, problems)


def _check_option_values(flow: Flow, step: Step, problems: Problems) -> None:
    seen = set()
    for option in step.answer.options:
        if option.value in seen:
            _error(
                flow,
                step,
                "answer.options",
                f"option value {option.value!r} appears twice; give each "
                "option its own value",
                problems,
            )
        seen.add(option.value)


def _check_bounds(flow: Flow, step: Step, problems: Problems) -> None:
    answer = step.answer
    bounds = {"min": answer.min, "max": answer.max}
    for name, value in bounds.items():
        if value is None:
            continue
        if answer.type in ("number", "amount"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                _error(
                    flow,
                    step,
                    f"answer.{name}",
                    f"expected a number, got {value!r}",
                    problems,
                )
                bounds[name] = None
        elif answer.type == "date":
            if not _is_iso_date(value):
                _error(
                    flow,
                    step,
                    f"answer.{name}",
                    _date_problem(value),
                    problems,
                )
                bounds[name] = None
        else:
            _error(
                flow,
                step,
                f"answer.{name}",
                f"{with_article(answer.type)} answer has no {name}; remove it",
                problems,
            )
            bounds[name] = None
    low, high = bounds["min"], bounds["max"]
    if low is not None and high is not None and low > high:
        _error(
            flow,
            step,
            "answer.min",
            f"min {low!r} is above max {high!r}; swap them",
            problems,
        )


def _date_problem(value) -> str:
    if isinstance(value, str) and ISO_DATE.match(value):
        return f"{value!r} is not a date in the calendar; correct the day or month"
    return f"expected a date written as YYYY-MM-DD in quotes, got {value!r}"


def _is_iso_date(value) -> bool:
    if not isinstance(value, str) or not ISO_DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_type_fields(flow: Flow, step: Step, problems: Problems) -> None:
    answer = step.answer
    only_for = {
        "integer": ("number",),
        "max_length": ("text",),
        "multiline": ("text",),
        "unit": ("number",),
    }
    for name, types in only_for.items():
        value = getattr(answer, name)
        if value not in (None, False) and answer.type not in types:
            _error(
                flow,
                step,
                f"answer.{name}",
                f"{name!r} applies to {' and '.join(types)} answers, not "
                f"{answer.type}; remove it",
                problems,
            )


def _check_error_keys(flow: Flow, step: Step, problems: Problems) -> None:
    known = ANSWER_ERROR_KEYS[step.answer.type] | {"default"}
    for key in step.errors:
        if key not in known:
            _warning(
                flow,
                step,
                f"errors.{key}",
                f"{with_article(step.answer.type)} answer never shows error {key!r}; "
                f"its errors are {', '.join(sorted(known))}",
                problems,
            )


def _successors(flow: Flow, step_id: str) -> list[str]:
    return [t for t in flow.steps[step_id].targets if t in flow.steps]


def _depth_first(flow: Flow, roots):
    """Walk the steps depth first without recursion, so that long flows fit.

    Yields ("enter", id) when a step is first reached, ("back", id) for a
    route to a step whose walk is still open (a cycle), and ("leave", id)
    when every step after it is done.
    """
    state: dict[str, str] = {}
    for root in roots:
        if root in state:
            continue
        state[root] = "open"
        yield "enter", root
        stack = [(root, iter(_successors(flow, root)))]
        while stack:
            step_id, targets = stack[-1]
            target = next(targets, None)
            if target is None:
                stack.pop()
                state[step_id] = "done"
                yield "leave", step_id
            elif state.get(target) == "open":
                yield "back", target
            elif target not in state:
                state[target] = "open"
                yield "enter", target
                stack.append((target, iter(_successors(flow, target))))


def _find_cycle(flow: Flow) -> list[str] | None:
    """Return one cycle of steps as a list, or None when the graph has none."""
    path: list[str] = []
    for event, step_id in _depth_first(flow, list(flow.steps)):
        if event == "enter":
            path.append(step_id)
        elif event == "leave":
            path.pop()
        else:
            return path[path.index(step_id) :] + [step_id]
    return None


def _report_cycle(flow: Flow, cycle: list[str], problems: Problems) -> None:
    step = flow.steps[cycle[-2]]
    _error(
        flow,
        step,
        "next",
        f"the steps form a loop: {' → '.join(cycle)}; a flow must move "
        "forward, so point one of these routes to a later step",
        problems,
    )


def _check_reachable(flow: Flow, problems: Problems) -> None:
    seen = routing.reachable(flow)
    for step in flow.steps.values():
        if step.id not in seen:
            _warning(
                flow,
                step,
                None,
                "no path from the start reaches this step; route to it from "
                "an earlier step, or remove it",
                problems,
            )


def _check_ends(flow: Flow, problems: Problems) -> None:
    ends = {s.id for s in flow.steps.values() if s.is_end}
    if not ends:
        problems.error(
            flow.file,
            None,
            "the flow has no outcome step; add a step with kind: outcome",
        )
        return

    predecessors: dict[str, set[str]] = {step_id: set() for step_id in flow.steps}
    for step_id in flow.steps:
        for target in _successors(flow, step_id):
            predecessors[target].add(step_id)
    leads_to_end = set(ends)
    queue = list(ends)
    for current in queue:
        for before in predecessors[current]:
            if before not in leads_to_end:
                leads_to_end.add(before)
                queue.append(before)
    for step in flow.steps.values():
        dangling = any(target not in flow.steps for target in step.targets)
        if step.id not in leads_to_end and step.routes and not dangling:
            _error(
                flow,
                step,
                "next",
                "no path from this step reaches an outcome; route it to a "
                "step that leads to an outcome",
                problems,
            )


def _topological_order(flow: Flow) -> list[str]:
    order = [
        step for event, step in _depth_first(flow, [flow.start]) if event == "leave"
    ]
    return order[::-1]


def answered_before(flow: Flow) -> dict[str, set[str]]:
    """Return, per reachable step, the questions asked on every path to it."""
    return _before(flow, lambda step: step.kind == "question")


def steps_before(flow: Flow) -> dict[str, set[str]]:
    """Return, per reachable step, the steps passed on every path to it."""
    return _before(flow, lambda step: True)


def _before(flow: Flow, counts) -> dict[str, set[str]]:
    passed: dict[str, set[str]] = {}
    for step_id in _topological_order(flow):
        if step_id == flow.start:
            passed[step_id] = set()
        step = flow.steps[step_id]
        after = passed[step_id] | ({step_id} if counts(step) else set())
        for target in _successors(flow, step_id):
            known = target in passed
            passed[target] = passed[target] & after if known else set(after)
    return passed


def _results_before(flow: Flow) -> dict[str, set[str]]:
    """Return, per reachable step, the answers and check results set before it.

    A check step leaves its result (checkstep.RESULT_VALUES) as an answer
    under its own id, so routes after it can read it.
    """
    return _before(flow, lambda step: step.kind in ("question", "check"))


def _check_conditions(flow: Flow, problems: Problems) -> None:
    asked = _results_before(flow)
    types = {
        step.id: logic.AnswerType(
            step.answer.type, tuple(o.value for o in step.answer.options)
        )
        for step in flow.questions()
    }
    for step in flow.steps.values():
        if step.kind == "check":
            types[step.id] = logic.AnswerType(
                "choice", checkstep.RESULT_VALUES, noun="check result"
            )
    for step in flow.steps.values():
        if step.id not in asked:
            continue
        for index, route in enumerate(step.routes):
            if route.condition is None:
                continue
            field = f"next.{index}.if"
            for message in logic.check_expression(route.condition, types):
                _error(flow, step, field, message, problems, line=route.line)
            _check_asked_before(flow, step, route, field, asked, types, problems)


def _check_asked_before(flow, step, route, field, asked, types, problems) -> None:
    sets_answer = step.kind in ("question", "check")
    available = asked[step.id] | ({step.id} if sets_answer else set())
    for name in sorted(logic.variables(route.condition)):
        if name in types and name not in available:
            _error(
                flow,
                step,
                field,
                f"the condition reads answer {name!r}, which is not asked on "
                f"every path to step {step.id!r}; ask it on every path "
                "before this step, or route on another answer",
                problems,
                line=route.line,
            )


LANGUAGE_NAMES = {"nl": "Dutch", "en": "English"}


def _flow_texts(flow: Flow):
    """Yield (step, field, texts) for every text of the flow."""
    yield None, "title", flow.title
    yield None, "description", flow.description
    yield None, "organisation.name", flow.organisation.name
    for step in flow.steps.values():
        for name in ("title", "hint", "body"):
            yield step, name, getattr(step, name)
        for key, texts in step.errors.items():
            yield step, f"errors.{key}", texts
        if step.answer is None:
            continue
        yield step, "answer.unit", step.answer.unit
        for option in step.answer.options:
            yield step, f"answer.options.{option.value}.label", option.label
            yield step, f"answer.options.{option.value}.hint", option.hint


def _check_translations(flow: Flow, problems: Problems) -> None:
    for step, field, texts in _flow_texts(flow):
        if texts is None:
            continue
        for lang in flow.languages:
            if texts.get(lang, "").strip():
                continue
            name = LANGUAGE_NAMES.get(lang, lang)
            default = LANGUAGE_NAMES.get(flow.default_language, flow.default_language)
            if lang == flow.default_language:
                _error(
                    flow,
                    step,
                    field,
                    f"missing {name} text, the flow's first language, which "
                    f"pages fall back to; add '{lang}:'",
                    problems,
                )
            else:
                _warning(
                    flow,
                    step,
                    field,
                    f"missing {name} text; add '{lang}:' (until then the "
                    f"{default} text is shown)",
                    problems,
                )
        for lang in texts:
            if lang not in flow.languages:
                _warning(
                    flow,
                    step,
                    field,
                    f"text in {lang!r}, which is not among the flow's "
                    f"languages {list(flow.languages)}; add it to "
                    "'languages' or remove the text",
                    problems,
                )


def _check_link_target(path, folder, problems: Problems) -> None:
    """Report a symbolic link that leads out of the flow's folder."""
    if not path.resolve().is_relative_to(folder.resolve()):
        problems.error(
            path,
            None,
            "is a symbolic link to a file outside the flow's "
            "folder; copy the file into the folder instead",
        )


def _check_template_syntax(path, problems: Problems) -> None:
    source = read_text_strict(path, problems)
    if source is None:
        return
    try:
        jinja2.Environment().parse(source)
    except jinja2.TemplateSyntaxError as error:
        problems.error(
            path,
            error.lineno,
            f"template syntax error: {error.message}; fix the template",
        )


MARKDOWN_LINK = re.compile(r"\]\(\s*<?((?:[^()\s>]|\([^()\s]*\))+)")


def _check_links(flow: Flow, problems: Problems) -> None:
    """Warn about Markdown links that the page will not show as links."""
    for step, field, texts in _flow_texts(flow):
        if texts is None or not field.endswith(("body", "description")):
            continue
        for lang, text in texts.items():
            for target in MARKDOWN_LINK.findall(text):
                if not is_safe_url(target):
                    _warning(
                        flow,
                        step,
                        f"{field}.{lang}",
                        f"link target {target!r} is not allowed and is left "
                        "out; link to an https:, mailto: or tel: address or a "
                        "relative path",
                        problems,
                    )


def _check_templates(flow: Flow, problems: Problems) -> None:
    available = template_names(flow)
    for step in flow.steps.values():
        name = f"steps/{step.kind}.html"
        if name not in available:
            _error(
                flow,
                step,
                "kind",
                f"template {name!r} not found in the flow's templates/ folder "
                "or in Stappen's templates; add it",
                problems,
            )
    override = flow.folder / "templates"
    if override.is_dir():
        for path in sorted(override.rglob("*")):
            if path.is_symlink():
                _check_link_target(path, flow.folder, problems)
        for path in sorted(override.rglob("*.html")):
            name = path.relative_to(override).as_posix()
            _check_template_syntax(path, problems)
            if name not in template_names(None):
                problems.warning(
                    path,
                    None,
                    f"template {name!r} overrides nothing: Stappen has no template "
                    "of that name; check the spelling",
                )
