"""Accessibility checks for every page and state a browser test passes.

An ``Inspector`` checks a page in its current state with axe-core's
WCAG 2.1 A and AA rules, and checks reflow at 320 CSS pixels (the page
must not scroll sideways). It collects what it finds under the name of the state, so a
test walks on and asserts once at the end, with every problem listed.

The keyboard helpers move focus with Tab and act with Enter, Space and
the arrow keys, as a person without a mouse does. ``MOUSE_COUNTER``
counts pointer events in sessionStorage, so that a test can show that no
click slipped in.
"""

from __future__ import annotations

from tests.conftest import PROJECT

AXE = PROJECT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
REFLOW_VIEWPORT = {"width": 320, "height": 640}
MAX_TABS = 80
"""More Tab presses than any page of the project has focusable elements."""

# Waits for the web fonts and two animation frames, so that a measurement
# never catches a layout that is still changing after a resize.
SETTLE = """
async () => {
  await document.fonts.ready;
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
}
"""

MOUSE_COUNTER = """
for (const type of ["mousedown", "mouseup", "pointerdown"]) {
  window.addEventListener(type, () => {
    const count = Number(sessionStorage.getItem("test:mouse") || 0);
    sessionStorage.setItem("test:mouse", String(count + 1));
  }, true);
}
"""
"""An init script that counts pointer presses. Key presses do not fire these."""


def axe_violations(page) -> list[str]:
    """Run axe-core on ``page`` and describe each WCAG A or AA violation."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        WCAG_TAGS,
    )
    return [
        f"{violation['id']}: {violation['help']} "
        f"({', '.join(str(node['target']) for node in violation['nodes'][:3])})"
        for violation in result["violations"]
    ]


def reflow_problem(page) -> str | None:
    """Describe how ``page`` scrolls sideways at 320 CSS pixels, or None."""
    original = page.viewport_size
    page.set_viewport_size(REFLOW_VIEWPORT)
    page.evaluate(SETTLE)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(original)
    page.evaluate(SETTLE)
    if width <= REFLOW_VIEWPORT["width"]:
        return None
    return f"scrolls sideways at 320 px: the page is {width} px wide"


class Inspector:
    """A collector of the axe violations and reflow problems a test finds."""

    def __init__(self) -> None:
        self.looked: list[str] = []
        self.problems: dict[str, list[str]] = {}

    def look(self, page, state: str) -> None:
        """Check ``page`` as it is now and file what is wrong under ``state``."""
        self.looked.append(state)
        found = axe_violations(page)
        reflow = reflow_problem(page)
        if reflow is not None:
            found.append(reflow)
        if found:
            self.problems[state] = found


def focused(page, selector: str) -> bool:
    return page.evaluate("(s) => document.activeElement.matches(s)", selector)


def describe_focus(page) -> str:
    """Describe the focused element as a short tag, for failure messages."""
    return page.evaluate(
        """() => {
          const element = document.activeElement;
          const text = (element.textContent || element.value || "").trim();
          return `<${element.tagName.toLowerCase()}> ${text.slice(0, 40)}`;
        }"""
    )


def tab_to(page, selector: str) -> None:
    """Press Tab until the element matching ``selector`` has the focus.

    An element that has the focus already keeps it: no key is pressed.
    """
    if focused(page, selector):
        return
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if focused(page, selector):
            return
    raise AssertionError(
        f"{MAX_TABS} Tab presses never reached {selector!r}; "
        f"the focus is on {describe_focus(page)} at {page.url}"
    )


def choose_radio(page, group: str, value: str) -> None:
    """Tab into the radio group ``group`` and select ``value`` with the arrows.

    Tab lands on the group's checked radio, or on its first when none is
    checked; Space checks it, and ArrowDown moves the choice on.
    """
    tab_to(page, f"input[type=radio][name={group}]")
    page.keyboard.press("Space")
    options = page.locator(f"input[type=radio][name={group}]").count()
    for _ in range(options):
        if focused(page, f"input[type=radio][name={group}][value='{value}']"):
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"radio group {group!r} has no option {value!r}")


def mouse_presses(page) -> int:
    """Count the pointer presses since the page's tab first loaded."""
    return int(page.evaluate("sessionStorage.getItem('test:mouse') || 0"))
