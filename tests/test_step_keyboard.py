"""The VIL question, content and summary steps with the keyboard alone.

The site is built with an API URL and served with the API on loopback
(the ``portal`` fixture of test_wallet_page.py), so the wallet, check,
application and decision pages are the real ones. Each case opens one
step with stored answers that put it on a path, then uses only Tab,
Shift+Tab, Space, the arrow keys and Enter, and must arrive at the step
that ``stappen.routing.next_step`` gives. The special steps and the
outcomes are covered by the keyboard journey tests.

The last test runs axe-core and the 320 px reflow check on every page of
this build, in both languages.
"""

from __future__ import annotations

import json
import re

import pytest

from stappen.errors import Problems
from stappen.flows import load_flow
from stappen.routing import next_step, walk
from tests import test_wallet_page
from tests.browser import new_page, wait_until_ready
from tests.conftest import PROJECT
from tests.inspection import (
    MOUSE_COUNTER,
    Inspector,
    choose_radio,
    describe_focus,
    focused,
    mouse_presses,
    tab_to,
)
from tests.sitecrawl import crawl

pytestmark = pytest.mark.browser

portal = test_wallet_page.portal

FLOW_ID = "vil"
STORAGE_KEY = f"stappen:{FLOW_ID}"
CONTINUE_KINDS = ("content", "summary")
"""Kinds of step that a citizen leaves by the Volgende (next) link."""
OTHER_KINDS = ("outcome", "wallet", "check", "application", "decision")
"""Kinds that these tests leave to the keyboard journey tests."""

CHOICE_TYPES = ("yesno", "choice")
PARSED_TYPES = ("amount", "number", "date")
NOT_A_NUMBER = "abc"
CHECK_RESULTS = ("eligible", "not-eligible")
"""What a check step keeps as its answer, for routing."""


def _load_vil():
    problems = Problems()
    flow = load_flow(PROJECT / "steps" / FLOW_ID, problems)
    assert not problems.errors, [str(problem) for problem in problems.errors]
    return flow


FLOW = _load_vil()
QUESTIONS = [step.id for step in FLOW.steps.values() if step.kind == "question"]
CONTINUES = [step.id for step in FLOW.steps.values() if step.kind in CONTINUE_KINDS]


# Answers ---------------------------------------------------------------------


def _candidates(step) -> list:
    """Return answers that ``step`` accepts: one per option, or one amount."""
    if step.kind == "check":
        return list(CHECK_RESULTS)
    if step.kind != "question":
        return [None]
    answer = step.answer
    if answer.type == "yesno":
        return [True, False]
    if answer.type == "choice":
        return [option.value for option in answer.options]
    if answer.type == "amount":
        return [max(answer.min or 0, min(100, answer.max or 100))]
    raise AssertionError(
        f"step {step.id!r} has answer type {answer.type!r}, which these tests "
        "cannot fill in yet; add it to _candidates and _type_answer"
    )


def _answers_reaching(step_id: str) -> dict:
    """Return the fewest answers whose path from the start passes ``step_id``.

    A breadth-first search over the answers of the questions and checks on
    the way. The shortest chain of links alone is not enough, because a
    route can read an earlier answer that the chain needs the other way.
    """
    queue = [(FLOW.start, {}, ())]
    for current, answers, path in queue:
        if current == step_id:
            assert step_id in walk(FLOW, answers).path
            return answers
        if current is None or current in path:
            continue
        step = FLOW.steps[current]
        for candidate in _candidates(step):
            trial = answers if candidate is None else {**answers, current: candidate}
            queue.append((next_step(step, trial), trial, (*path, current)))
    raise AssertionError(f"no answers lead from {FLOW.start!r} to {step_id!r}")


def _answer_and_next(step_id: str, answers: dict) -> tuple:
    """Return an answer to question ``step_id`` and the step it leads to."""
    step = FLOW.steps[step_id]
    for candidate in _candidates(step):
        kept = walk(FLOW, {**answers, step_id: candidate}).answers
        following = next_step(step, kept)
        if following is not None:
            return candidate, following
    raise AssertionError(f"no answer to {step_id!r} leads to another step")


# Browser helpers -------------------------------------------------------------


def _open_with_answers(page, portal, lang: str, step_id: str, answers: dict) -> None:
    """Store ``answers`` in this tab's sessionStorage, then open ``step_id``."""
    url = f"{portal['site']}{lang}/{FLOW_ID}/{step_id}/"
    state = json.dumps({"answers": answers, "entered": {}})
    page.goto(url)
    page.evaluate(
        "([key, state]) => sessionStorage.setItem(key, state)", [STORAGE_KEY, state]
    )
    page.goto(url)
    wait_until_ready(page)


def _wait_for_step(page, lang: str, step_id: str) -> None:
    page.wait_for_url(re.compile(rf"/{lang}/{FLOW_ID}/{re.escape(step_id)}/(\?.*)?$"))
    wait_until_ready(page)


def _type_answer(page, step, value) -> None:
    """Enter ``value`` into the focused question with the keyboard only."""
    if step.answer.type in CHOICE_TYPES:
        # The focus is on the first option; Shift+Tab leaves the group, so
        # that choose_radio's Tab enters it again as a citizen's would.
        page.keyboard.press("Shift+Tab")
        choose_radio(
            page, "answer", json.dumps(value) if isinstance(value, bool) else value
        )
    else:
        page.keyboard.press("Control+A")
        page.keyboard.type(str(value))


def _enter_invalid(page, step) -> None:
    """Type an answer that ``step`` rejects, when leaving it empty is allowed."""
    if step.answer.required:
        return
    if step.answer.type not in PARSED_TYPES:
        raise AssertionError(
            f"optional question {step.id!r} of type {step.answer.type!r} "
            "accepts every input, so no error summary can be shown"
        )
    tab_to(page, "[data-stappen-first]")
    page.keyboard.type(NOT_A_NUMBER)


# Question steps --------------------------------------------------------------


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("step_id", QUESTIONS)
def test_question_by_keyboard(chromium, portal, lang, step_id):
    answers = _answers_reaching(step_id)
    value, expected = _answer_and_next(step_id, answers)
    step = FLOW.steps[step_id]
    with new_page(chromium) as page:
        page.context.add_init_script(MOUSE_COUNTER)
        _open_with_answers(page, portal, lang, step_id, answers)

        _enter_invalid(page, step)
        tab_to(page, "button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_selector("[data-stappen-error-summary]", state="visible")
        summary_focus = describe_focus(page)
        summary_focused = focused(page, "#error-summary")

        tab_to(page, "[data-stappen-error-list] a")
        page.keyboard.press("Enter")
        field_focus = describe_focus(page)
        field_focused = focused(page, "[data-stappen-first]")

        _type_answer(page, step, value)
        page.keyboard.press("Enter")
        _wait_for_step(page, lang, expected)
        presses = mouse_presses(page)

    assert summary_focused, summary_focus
    assert field_focused, field_focus
    assert presses == 0


# Content and summary steps ---------------------------------------------------


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("step_id", CONTINUES)
def test_continue_by_keyboard(chromium, portal, lang, step_id):
    answers = walk(FLOW, _answers_reaching(step_id)).answers
    expected = next_step(FLOW.steps[step_id], answers)
    with new_page(chromium) as page:
        page.context.add_init_script(MOUSE_COUNTER)
        _open_with_answers(page, portal, lang, step_id, answers)
        tab_to(page, "a[data-stappen-next]")
        link_visible = page.is_visible("a[data-stappen-next]")
        page.keyboard.press("Enter")
        _wait_for_step(page, lang, expected)
        presses = mouse_presses(page)

    assert link_visible
    assert presses == 0


def test_keyboard_cases_cover_flow():
    covered = set(QUESTIONS) | set(CONTINUES)
    left = {step.id for step in FLOW.steps.values() if step.kind in OTHER_KINDS}
    assert covered
    assert covered | left == set(FLOW.steps)
    assert covered.isdisjoint(left)


# Every page ------------------------------------------------------------------


def test_every_api_site_page_passes(chromium, portal):
    base = portal["site"].split(test_wallet_page.PREFIX)[0]
    seen, problems = crawl(base, portal["site"])
    pages = sorted(url for url in seen if url.endswith("/"))
    inspector = Inspector()
    with new_page(chromium) as page:
        for url in pages:
            page.goto(url)
            wait_until_ready(page)
            inspector.look(page, url.removeprefix(portal["site"]))

    step_pages = {
        f"{portal['site']}{lang}/{FLOW_ID}/{step_id}/"
        for lang in FLOW.languages
        for step_id in FLOW.steps
    }
    assert problems == []
    assert set(FLOW.languages) == {"nl", "en"}
    assert step_pages <= set(pages)
    assert inspector.problems == {}
