"""The citizen's side of the fixture flow, driven in headless Chromium.

The built fixture site is served under a sub-path, as on GitHub Pages, and
each test walks the demo flow the way a citizen would: through the links,
the form and the keyboard, with the answers kept in sessionStorage.
"""

from __future__ import annotations

import re
import urllib.parse

import pytest

from stappen.errors import Problems
from stappen.flows import load_flow
from stappen.flowtests import load_tests
from stappen.routing import predict
from tests.browser import new_page, wait_until_ready
from tests.conftest import FIXTURE_STEPS

pytestmark = pytest.mark.browser

STORAGE_KEY = "stappen:demo"


def load_demo():
    problems = Problems()
    flow = load_flow(FIXTURE_STEPS / "demo", problems)
    cases = load_tests(flow, problems)
    assert not problems.errors, [str(problem) for problem in problems.errors]
    return flow, cases


FLOW, FLOW_TESTS = load_demo()

# Answer sets beyond tests.yaml for the routing comparison: missing, null,
# boundary, unknown and wrongly typed answers.
EXTRA_ANSWERS = {
    "no answers": {},
    "only woonplaats": {"woonplaats": "voorbeeld"},
    "only inkomen above limit": {"inkomen": 2000},
    "income zero": {"woonplaats": "voorbeeld", "inkomen": 0},
    "income at limit": {"woonplaats": "voorbeeld", "inkomen": 1533.5},
    "income just above limit": {"woonplaats": "voorbeeld", "inkomen": 1533.51},
    "income at maximum": {"woonplaats": "voorbeeld", "inkomen": 100000},
    "elsewhere with income": {"woonplaats": "elders", "inkomen": 900},
    "unknown municipality": {"woonplaats": "onbekend", "inkomen": 900},
    "null answers": {"woonplaats": None, "inkomen": None},
    "income as text": {"woonplaats": "voorbeeld", "inkomen": "1533.50"},
    "income not a number": {"woonplaats": "voorbeeld", "inkomen": "veel"},
}

ROUTING_CASES = [
    pytest.param(case.answers, id=f"tests.yaml: {case.name}") for case in FLOW_TESTS
] + [pytest.param(answers, id=name) for name, answers in EXTRA_ANSWERS.items()]


# Helpers ---------------------------------------------------------------------


def step_url(site: str, step: str, lang: str = "nl") -> str:
    return f"{site}{lang}/demo/{step}/"


def open_step(page, site: str, step: str, lang: str = "nl") -> None:
    page.goto(step_url(site, step, lang))
    wait_until_ready(page)


def wait_for_step(page, step: str, lang: str = "nl") -> None:
    """Wait until the browser shows ``step`` (with any query) and is ready."""
    page.wait_for_url(re.compile(rf"/{lang}/demo/{re.escape(step)}/(\?.*)?$"))
    wait_until_ready(page)


def enter(page, value: str) -> None:
    """Choose the option ``value`` or type ``value`` into the text field."""
    kind = page.get_attribute("[data-stappen-question]", "data-stappen-type")
    if kind in ("choice", "yesno"):
        page.check(f"input[name=answer][value='{value}']")
    else:
        page.fill("input[name=answer]", value)


def submit(page) -> None:
    page.click("button[type=submit]")


def answer(page, value: str, expected_step: str, lang: str = "nl") -> None:
    """Answer the current question and wait for the step that should follow."""
    enter(page, value)
    submit(page)
    wait_for_step(page, expected_step, lang)


def start_flow(page, site: str) -> None:
    """Open the first step and follow its next link to the first question."""
    open_step(page, site, "welkom")
    page.click("a[data-stappen-next]")
    wait_for_step(page, "woonplaats")


def go_back(page, expected_step: str) -> None:
    page.click("a[data-stappen-back]")
    wait_for_step(page, expected_step)


def stored_state(page):
    return page.evaluate(f"JSON.parse(sessionStorage.getItem('{STORAGE_KEY}'))")


def visible_error(page) -> str:
    """Return the inline error text; fails when the error summary is hidden."""
    page.wait_for_selector("[data-stappen-error-summary]", state="visible")
    return page.inner_text("[data-stappen-error]")


def plain_spaces(text: str) -> str:
    """Replace the no-break spaces that Intl puts in numbers by plain spaces."""
    return re.sub(r"[\u00a0\u202f]", " ", text)


def every_step_page(site: str) -> list[str]:
    return [
        step_url(site, step, lang) for lang in FLOW.languages for step in FLOW.steps
    ]


def indicator_for(answers: dict) -> str:
    path = predict(FLOW, FLOW.start, answers)
    return f"Stap {path.index('inkomen') + 1} van {len(path)}"


# Without JavaScript ----------------------------------------------------------


def test_content_page_without_javascript(chromium, fixture_site_url):
    with new_page(chromium, java_script_enabled=False) as page:
        page.goto(step_url(fixture_site_url, "welkom"))
        page.click("a[data-stappen-next]")
        page.wait_for_url(step_url(fixture_site_url, "woonplaats"))
        heading = page.inner_text("h1")
    assert heading == "In welke gemeente woont u?"


def test_question_without_javascript_stays(chromium, fixture_site_url):
    with new_page(chromium, java_script_enabled=False) as page:
        page.goto(step_url(fixture_site_url, "inkomen"))
        page.fill("input[name=answer]", "500")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        path = urllib.parse.urlsplit(page.url).path
        outcomes = page.locator(".stappen-outcome").count()
    # Without the script the form cannot route, so it reloads its own page
    # and never shows the fallback route's outcome.
    assert path.endswith("/nl/demo/inkomen/")
    assert outcomes == 0


# Validation ------------------------------------------------------------------


def test_empty_answer_shows_error_summary(page, fixture_site_url):
    open_step(page, fixture_site_url, "inkomen")
    submit(page)
    message = visible_error(page)

    summary_focused = page.evaluate("document.activeElement.id")
    link = page.locator("[data-stappen-error-list] a")
    link_text = link.inner_text()
    link_href = link.get_attribute("href")
    link.click()
    input_focused = page.evaluate("document.activeElement.id")

    assert summary_focused == "error-summary"
    assert link_href == "#answer-inkomen"
    assert input_focused == "answer-inkomen"
    assert link_text == message
    assert message == "Beantwoord deze vraag."
    assert page.is_visible("#error-inkomen")
    assert page.get_attribute("#answer-inkomen", "aria-invalid") == "true"
    assert page.title().startswith("Fout: ")
    assert page.url == step_url(fixture_site_url, "inkomen")


def test_choice_error_uses_authored_message(page, fixture_site_url):
    open_step(page, fixture_site_url, "woonplaats")
    submit(page)
    message = visible_error(page)
    link = page.locator("[data-stappen-error-list] a")
    link.click()
    focused = page.evaluate("document.activeElement.id")
    assert message == "Kies uw gemeente."
    assert focused == "answer-woonplaats-1"
    assert page.get_attribute("#answer-woonplaats-1", "aria-invalid") == "true"


def test_error_title_prefixed_once(page, fixture_site_url):
    open_step(page, fixture_site_url, "inkomen")
    submit(page)
    visible_error(page)
    submit(page)
    visible_error(page)
    assert page.title().count("Fout: ") == 1


# Dutch amounts and dates -----------------------------------------------------


def test_amount_ambiguous_rejected(page, fixture_site_url):
    start_flow(page, fixture_site_url)
    answer(page, "voorbeeld", "inkomen")
    enter(page, "1,533")
    submit(page)
    message = visible_error(page)
    assert "1,533" in message
    assert "niet eenduidig" in message
    assert page.url == step_url(fixture_site_url, "inkomen")
    assert "inkomen" not in stored_state(page)["answers"]


def test_amount_at_limit_goes_on(page, fixture_site_url):
    start_flow(page, fixture_site_url)
    answer(page, "voorbeeld", "inkomen")
    answer(page, "1.533,50", "geboortedatum")
    state = stored_state(page)
    assert state["answers"]["inkomen"] == 1533.5
    assert state["entered"]["inkomen"] == "1.533,50"


def test_amount_above_limit_not_entitled(page, fixture_site_url):
    start_flow(page, fixture_site_url)
    answer(page, "voorbeeld", "inkomen")
    answer(page, "1533,51", "geen-recht")
    assert stored_state(page)["answers"]["inkomen"] == 1533.51


def test_date_that_does_not_exist(page, fixture_site_url):
    open_step(page, fixture_site_url, "geboortedatum")
    enter(page, "31-02-2026")
    submit(page)
    message = visible_error(page)
    assert "31-02-2026" in message
    assert page.url == step_url(fixture_site_url, "geboortedatum")


def test_date_short_day_and_month(page, fixture_site_url):
    start_flow(page, fixture_site_url)
    answer(page, "voorbeeld", "inkomen")
    answer(page, "900", "geboortedatum")
    answer(page, "1-5-1980", "controleren")
    assert stored_state(page)["answers"]["geboortedatum"] == "1980-05-01"


# Going back and changing answers ---------------------------------------------


def test_back_keeps_choice(page, fixture_site_url):
    start_flow(page, fixture_site_url)
    answer(page, "voorbeeld", "inkomen")
    go_back(page, "woonplaats")
    assert page.is_checked("input[name=answer][value='voorbeeld']")
    assert not page.is_checked("input[name=answer][value='elders']")


def test_back_keeps_amount_as_typed(page, fixture_site_url):
    start_flow(page, fixture_site_url)
    answer(page, "voorbeeld", "inkomen")
    answer(page, "1.533,50", "geboortedatum")
    go_back(page, "inkomen")
    assert page.input_value("input[name=answer]") == "1.533,50"


def test_answers_off_path_dropped(page, fixture_site_url):
    start_flow(page, fixture_site_url)
    answer(page, "voorbeeld", "inkomen")
    answer(page, "900", "geboortedatum")
    go_back(page, "inkomen")
    go_back(page, "woonplaats")
    answer(page, "elders", "andere-gemeente")
    state = stored_state(page)
    assert state["answers"] == {"woonplaats": "elders"}
    assert "inkomen" not in state["entered"]


# Records in sessionStorage whether the page came from the back/forward cache.
BFCACHE_RECORDER = """
window.addEventListener("pageshow", (event) => {
  if (event.persisted) sessionStorage.setItem("test:bfcache", "1");
});
"""


def test_history_back_keeps_newer_answers(page, fixture_site_url):
    page.add_init_script(BFCACHE_RECORDER)
    start_flow(page, fixture_site_url)
    answer(page, "voorbeeld", "inkomen")
    answer(page, "900", "geboortedatum")
    go_back(page, "inkomen")
    answer(page, "2000", "geen-recht")

    # History: ..., inkomen, geboortedatum (loaded with 900), inkomen, geen-recht.
    page.go_back(wait_until="commit")
    page.go_back(wait_until="commit")
    page.wait_for_url(step_url(fixture_site_url, "geboortedatum"), wait_until="commit")
    wait_until_ready(page)
    restored = page.evaluate("sessionStorage.getItem('test:bfcache')")
    answer(page, "1-5-1980", "controleren")

    assert restored == "1", "the page did not come from the back/forward cache"
    assert stored_state(page)["answers"]["inkomen"] == 2000


def test_step_indicator_follows_answers(page, fixture_site_url):
    high = {"woonplaats": "voorbeeld", "inkomen": 2000}
    low = {"woonplaats": "voorbeeld", "inkomen": 900}
    assert indicator_for(high) != indicator_for(low), "the fixture flow changed"

    start_flow(page, fixture_site_url)
    answer(page, "voorbeeld", "inkomen")
    answer(page, "2000", "geen-recht")
    go_back(page, "inkomen")
    after_high = page.inner_text("[data-stappen-indicator]")
    answer(page, "900", "geboortedatum")
    go_back(page, "inkomen")
    after_low = page.inner_text("[data-stappen-indicator]")

    assert after_high == indicator_for(high)
    assert after_low == indicator_for(low)


# Check your answers ----------------------------------------------------------


def reach_summary(page, site: str) -> None:
    start_flow(page, site)
    answer(page, "voorbeeld", "inkomen")
    answer(page, "1.533,50", "geboortedatum")
    answer(page, "1-5-1980", "controleren")


def summary_rows(page) -> dict[str, str]:
    """Map each question title on the summary to its shown value."""
    rows = page.locator("[data-stappen-summary] .utrecht-data-list__item")
    values = {}
    for index in range(rows.count()):
        row = rows.nth(index)
        title = row.locator("dt").inner_text()
        value = row.locator(".utrecht-data-list__item-value").inner_text()
        values[title] = plain_spaces(value)
    return values


def test_summary_lists_formatted_answers(page, fixture_site_url):
    reach_summary(page, fixture_site_url)
    rows = summary_rows(page)
    assert rows == {
        "In welke gemeente woont u?": "Voorbeeld",
        "Wat is uw netto inkomen per maand?": "€ 1.533,50",
        "Wat is uw geboortedatum?": "1 mei 1980",
    }
    assert page.is_hidden("[data-stappen-no-answers]")


def test_summary_change_links(page, fixture_site_url):
    reach_summary(page, fixture_site_url)
    links = page.locator("[data-stappen-summary] a")
    targets = links.evaluate_all("(links) => links.map((link) => link.href)")
    assert targets == [
        step_url(fixture_site_url, step) + "?terug=controleren"
        for step in ("woonplaats", "inkomen", "geboortedatum")
    ]


def test_summary_change_returns_to_summary(page, fixture_site_url):
    reach_summary(page, fixture_site_url)
    page.click("[data-stappen-summary] a[href*='inkomen']")
    wait_for_step(page, "inkomen")
    prefilled = page.input_value("input[name=answer]")
    answer(page, "1200", "controleren")
    rows = summary_rows(page)
    assert prefilled == "1.533,50"
    assert page.url == step_url(fixture_site_url, "controleren")
    assert rows["Wat is uw netto inkomen per maand?"] == "€ 1.200,00"


def test_language_switch_keeps_return(page, fixture_site_url):
    reach_summary(page, fixture_site_url)
    page.click("[data-stappen-summary] a[href*='inkomen']")
    wait_for_step(page, "inkomen")
    page.click("a[data-stappen-language='en']")
    wait_for_step(page, "inkomen", lang="en")
    answer(page, "1200", "controleren", lang="en")
    assert page.url == step_url(fixture_site_url, "controleren", lang="en")


def test_summary_in_english(page, fixture_site_url):
    reach_summary(page, fixture_site_url)
    open_step(page, fixture_site_url, "controleren", lang="en")
    rows = summary_rows(page)
    assert rows == {
        "Which municipality do you live in?": "Voorbeeld",
        "What is your net income per month?": "€1,533.50",
        "What is your date of birth?": "1 May 1980",
    }


def test_summary_without_answers(page, fixture_site_url):
    open_step(page, fixture_site_url, "controleren")
    assert page.is_visible("[data-stappen-no-answers]")


# Starting again and switching language ---------------------------------------


def test_start_again_clears_answers(page, fixture_site_url):
    start_flow(page, fixture_site_url)
    answer(page, "voorbeeld", "inkomen")
    page.click("a[data-stappen-restart]")
    page.wait_for_url(f"{fixture_site_url}nl/demo/")
    open_step(page, fixture_site_url, "woonplaats")
    assert stored_state(page) is None
    assert not page.is_checked("input[name=answer][value='voorbeeld']")


def test_language_switch_keeps_answers(page, fixture_site_url):
    start_flow(page, fixture_site_url)
    answer(page, "voorbeeld", "inkomen")
    answer(page, "1.533,50", "geboortedatum")
    go_back(page, "inkomen")
    page.click("a[data-stappen-language='en']")
    wait_for_step(page, "inkomen", lang="en")
    amount = page.input_value("input[name=answer]")
    lang = page.get_attribute("html", "lang")
    label = page.inner_text("label[for=answer-inkomen]")
    button = page.inner_text("button[type=submit]")
    page.click("a[data-stappen-back]")
    wait_for_step(page, "woonplaats", lang="en")

    assert amount == "1.533,50"
    assert lang == "en"
    assert label == "What is your net income per month?"
    assert button == "Continue"
    assert page.is_checked("input[name=answer][value='voorbeeld']")


def test_english_error_message(page, fixture_site_url):
    open_step(page, fixture_site_url, "inkomen", lang="en")
    submit(page)
    message = visible_error(page)
    assert message == "Answer this question."
    assert page.title().startswith("Error: ")


# Keyboard and layout ---------------------------------------------------------

# Counts mouse and pointer events in sessionStorage, so the count survives the
# navigation to the next step.
MOUSE_COUNTER = """
for (const type of ["mousedown", "mouseup", "mousemove", "pointerdown"]) {
  window.addEventListener(type, () => {
    const count = Number(sessionStorage.getItem("test:mouse") || 0);
    sessionStorage.setItem("test:mouse", String(count + 1));
  }, true);
}
"""


def test_keyboard_only_answer(page, fixture_site_url):
    page.add_init_script(MOUSE_COUNTER)
    open_step(page, fixture_site_url, "woonplaats")
    first_radio = "answer-woonplaats-1"
    # The skip link and the header, language and back links come first.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == first_radio:
            break
    reached_radio = page.evaluate("document.activeElement.id")
    page.keyboard.press("Space")
    checked = page.is_checked(f"#{first_radio}")
    page.keyboard.press("Tab")
    on_button = page.evaluate("document.activeElement.type")
    page.keyboard.press("Enter")
    wait_for_step(page, "inkomen")
    mouse_events = page.evaluate("sessionStorage.getItem('test:mouse')")

    assert reached_radio == first_radio
    assert checked
    assert on_button == "submit"
    assert mouse_events is None


def test_no_horizontal_scroll_at_320px(chromium, fixture_site_url):
    too_wide = []
    with new_page(chromium, viewport={"width": 320, "height": 640}) as page:
        for url in every_step_page(fixture_site_url):
            page.goto(url)
            wait_until_ready(page)
            if page.evaluate(
                "document.documentElement.scrollWidth > window.innerWidth"
            ):
                too_wide.append(url)
    assert too_wide == []


def test_no_horizontal_scroll_with_error(chromium, fixture_site_url):
    with new_page(chromium, viewport={"width": 320, "height": 640}) as page:
        open_step(page, fixture_site_url, "inkomen")
        enter(page, "1,533")
        submit(page)
        visible_error(page)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        inner_width = page.evaluate("window.innerWidth")
    assert scroll_width <= inner_width


# Routing parity and console errors -------------------------------------------


@pytest.mark.parametrize("answers", ROUTING_CASES)
def test_routing_matches_python(page, fixture_site_url, answers):
    open_step(page, fixture_site_url, "welkom")
    path = page.evaluate(
        """async ([script, answers]) => {
          const stappen = await import(script);
          const flow = JSON.parse(
            document.getElementById("stappen-flow").textContent,
          );
          return stappen.predictedPath(flow, answers);
        }""",
        [f"{fixture_site_url}assets/js/stappen.js", answers],
    )
    assert path == predict(FLOW, FLOW.start, answers)


def collect_console_errors(page, urls: list[str]) -> list[str]:
    """Open each URL and return every console error and uncaught exception."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    errors = []
    current = {"url": ""}

    def on_console(message) -> None:
        if message.type == "error":
            errors.append(f"{current['url']}: {message.text}")

    def on_page_error(error) -> None:
        errors.append(f"{current['url']}: {error}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    for url in urls:
        current["url"] = url
        page.goto(url)
        try:
            wait_until_ready(page)
        except PlaywrightTimeoutError:
            errors.append(f"{url}: the page script did not finish")
    return errors


def test_no_console_errors_without_answers(page, fixture_site_url):
    urls = [fixture_site_url, f"{fixture_site_url}nl/demo/"]
    urls += every_step_page(fixture_site_url)
    assert collect_console_errors(page, urls) == []


def test_no_console_errors_with_answers(page, fixture_site_url):
    reach_summary(page, fixture_site_url)
    urls = every_step_page(fixture_site_url)
    assert collect_console_errors(page, urls) == []
