"""Screenshots of a flow's pages, shown on its authors' overview.

``build.py build --screenshots DIR`` reads ``DIR/<flow>/<step>-<width>.png``
and, for a step shown in more than one state, ``<step>--<state>-<width>.png``:
the names that tests/test_journey.py gives the shots it takes. A step id never
has two hyphens in a row, so the double hyphen separates the state. The build
copies the files to ``authors/<flow>/screenshots/`` and lists them there
beside the flow's graph.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import struct
from pathlib import Path

from stappen.errors import Problems, StappenError
from stappen.model import Flow

log = logging.getLogger(__name__)

SITE_FOLDER = "screenshots"
"""The folder below ``authors/<flow>/`` that the screenshots are copied to."""

_WORD = r"[a-z0-9]+(?:-[a-z0-9]+)*"
FILE_NAME = re.compile(
    rf"(?P<step>{_WORD})(?:--(?P<state>{_WORD}))?-(?P<width>[1-9][0-9]*)\.png"
)
NAME_EXAMPLE = "'heeft-wallet-390.png' or 'heeft-wallet--qr-390.png'"

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclasses.dataclass(frozen=True)
class Screenshot:
    """One PNG file of a step's page, at one viewport width."""

    source: Path
    step: str
    state: str | None
    width: int
    """The viewport width in CSS pixels, from the file name."""
    size: tuple[int, int]
    """The image's width and height in pixels, from its PNG header."""

    @property
    def name(self) -> str:
        return self.source.name


def find_screenshots(
    folder: Path, flows: list[Flow], problems: Problems
) -> dict[str, list[Screenshot]]:
    """Return each flow's screenshots in ``folder``, in the order of its steps,
    then by state name and by width.

    Raises StappenError when ``folder`` is missing. Files and folders that
    fit no flow or step are left out, each with a warning in ``problems``.
    """
    check_folder(folder)
    flow_ids = {flow.id for flow in flows}
    for entry in sorted(folder.iterdir()):
        if entry.is_dir() and entry.name not in flow_ids:
            problems.warning(
                str(entry),
                None,
                f"no flow {entry.name!r} to show these screenshots for; name the "
                f"folder after a flow ({', '.join(sorted(flow_ids))}) or remove it",
            )
    found = {}
    for flow in flows:
        shots = _flow_screenshots(folder / flow.id, flow, problems)
        if shots:
            found[flow.id] = shots
    return found


def check_folder(folder: Path) -> None:
    """Raise StappenError, naming ``folder``, unless it is a folder."""
    if not folder.is_dir():
        raise StappenError(
            f"screenshots folder {str(folder)!r} not found; make it with 'make "
            "screenshots', or pass the folder that holds <flow>/<step>-<width>.png"
        )


def _flow_screenshots(folder: Path, flow: Flow, problems: Problems) -> list:
    if not folder.is_dir():
        return []
    shots = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() == ".png":
            shot = _read_screenshot(path, flow, problems)
            if shot is not None:
                shots.append(shot)
    order = {step_id: index for index, step_id in enumerate(flow.steps)}
    return sorted(
        shots, key=lambda shot: (order[shot.step], shot.state or "", shot.width)
    )


def _read_screenshot(path: Path, flow: Flow, problems: Problems):
    """Return the screenshot at ``path``, or None with a warning in ``problems``."""
    match = FILE_NAME.fullmatch(path.name)
    if match is None:
        problems.warning(
            str(path),
            None,
            f"expected a file name such as {NAME_EXAMPLE}: the step id, "
            "optionally '--' and a state, then '-' and the width in pixels",
        )
        return None

    step = match["step"]
    if step not in flow.steps:
        problems.warning(
            str(path),
            None,
            f"no step {step!r} in flow {flow.id!r}; rename the file after one of "
            "the flow's steps or remove it",
            step=step,
        )
        return None

    size = _png_size(path)
    if size is None:
        problems.warning(str(path), None, "not a PNG image; save it as PNG")
        return None
    return Screenshot(path, step, match["state"], int(match["width"]), size)


def _png_size(path: Path) -> tuple[int, int] | None:
    """Return the width and height in the PNG's header, or None for no PNG."""
    with path.open("rb") as file:
        header = file.read(24)
    if len(header) < 24 or not header.startswith(PNG_SIGNATURE):
        return None
    if header[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", header[16:24])


def by_step(shots: list[Screenshot]) -> dict[str, dict[str | None, list]]:
    """Group screenshots by step, then by state, keeping their order."""
    grouped: dict[str, dict[str | None, list]] = {}
    for shot in shots:
        grouped.setdefault(shot.step, {}).setdefault(shot.state, []).append(shot)
    return grouped
