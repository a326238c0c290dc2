"""Screenshots of the pages a browser test passes, for the authors' overview.

Each shot is taken at a phone and a desktop width and saved as
``<folder>/<flow>/<step>-<width>.png``, or ``<step>--<state>-<width>.png``
when a step has several states worth showing. Step ids never contain two
hyphens in a row, so the double hyphen separates the state unambiguously.

The folder is STAPPEN_SCREENSHOTS when set; ``make screenshots`` sets it to
docs/screenshots. Without it the shots go to a temporary folder, so that a
test run never writes into the working tree.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image

SCREENSHOTS_VARIABLE = "STAPPEN_SCREENSHOTS"

WIDTHS = {390: 844, 1280: 800}
"""Viewport width to height in CSS pixels: a common phone, then a laptop."""

# Waits for the web fonts and two animation frames, so that a shot never
# catches a layout that is still changing after a resize.
SETTLE = """
async () => {
  await document.fonts.ready;
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
}
"""


def screenshot_folder(default: Path) -> Path:
    """Return the folder from STAPPEN_SCREENSHOTS, or ``default`` without it."""
    configured = os.environ.get(SCREENSHOTS_VARIABLE)
    return Path(configured) if configured else default


class Camera:
    """Saves shots of the pages of one flow into ``folder/<flow>/``."""

    def __init__(self, folder: Path, flow: str) -> None:
        self.folder = folder / flow
        self.folder.mkdir(parents=True, exist_ok=True)
        self.saved: list[Path] = []

    def shoot(
        self, page, step: str, state: str | None = None, *, full_page: bool = True
    ) -> None:
        """Save ``page`` at each width, then restore the page's own viewport.

        Without ``full_page`` a shot holds only the first screen, for pages
        too long to show whole, such as the consultant's review.
        """
        original = page.viewport_size
        name = step if state is None else f"{step}--{state}"
        for width, height in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            page.evaluate(SETTLE)
            shot = page.screenshot(
                full_page=full_page, animations="disabled", caret="hide"
            )
            path = self.folder / f"{name}-{width}.png"
            path.write_bytes(_shrink(shot))
            self.saved.append(path)
        page.set_viewport_size(original)
        page.evaluate(SETTLE)


def _shrink(png: bytes) -> bytes:
    """Reduce a screenshot to 256 colours and compress it again.

    The pages are flat colour and text, so the palette loses little that
    shows, and the files of the VIL journey shrink to less than half.
    """
    with Image.open(io.BytesIO(png)) as image:
        palette = image.convert("RGB").quantize(256, dither=Image.Dither.NONE)
    output = io.BytesIO()
    palette.save(output, format="PNG", optimize=True)
    return output.getvalue()
