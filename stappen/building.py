"""The build as a pipeline: load, validate, render and freeze, then report."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from pathlib import Path

from stappen import checks, flowtests, personas
from stappen.errors import InvalidFlows, Problems, StappenError
from stappen.flows import load_flow, load_flows
from stappen.freezing import freeze, freeze_paths
from stappen.model import Flow
from stappen.rendering import clear_template_cache, forget_flow_templates
from stappen.screenshots import check_folder, find_screenshots
from stappen.site import SITE_MARKER, SiteContent

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class BuildSummary:
    flows: int
    pages: int
    files: int
    warnings: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"Built {self.flows} flow{'s' if self.flows != 1 else ''}: "
            f"{self.pages} pages, {self.files} files, "
            f"{self.warnings} warning{'s' if self.warnings != 1 else ''}, "
            f"in {self.seconds:.2f} s"
        )


def validate(steps_dir: Path, *, strict: bool = False) -> tuple[list[Flow], Problems]:
    """Read and check every flow; raise ``InvalidFlows`` on errors.

    With ``strict``, warnings count as errors. Returns the flows and the
    problems found, which then hold warnings only.
    """
    problems = Problems()
    flows = load_flows(steps_dir, problems)
    for flow in flows:
        checks.check_flow(flow, problems)
        flowtests.check_tests_file(flow, problems)
        _check_personas(flow, problems)
    if problems.errors or (strict and problems.warnings):
        raise InvalidFlows(problems, strict=strict)
    return flows, problems


def _check_personas(flow: Flow, problems: Problems) -> None:
    """Check the flow's test personas, if it has any, against its steps."""
    path = flow.folder / personas.PERSONAS_FILE
    if not path.is_file():
        return
    found = personas.read_personas(path, problems)
    if found is not None:
        personas.check_against_flow(flow, found, problems)


def build(
    steps_dir: Path,
    out_dir: Path,
    *,
    base_url: str = "/",
    api_url: str | None = None,
    strict: bool = False,
    workers: int | None = None,
    screenshots: Path | None = None,
) -> BuildSummary:
    """Validate the flows under ``steps_dir`` and write the site to ``out_dir``.

    ``api_url`` is where the pages reach the Stappen API; without it, the
    steps that need the API render as placeholders. ``screenshots`` is a
    folder of screenshots for the authors' overviews (stappen/screenshots.py).
    """
    builder = SiteBuilder(
        steps_dir,
        out_dir,
        base_url=base_url,
        api_url=api_url,
        strict=strict,
        screenshots=screenshots,
    )
    return builder.build_all(workers=workers)


def _check_out_dir(steps_dir: Path, out_dir: Path) -> None:
    """Refuse an output folder whose clean-up could delete anyone's work.

    The build removes every file in the output folder that it does not
    write, so the folder must be one that an earlier build made (it contains
    the marker file) or an empty or new one.
    """
    out = out_dir.resolve()
    steps = steps_dir.resolve()
    here = Path.cwd().resolve()
    name = str(out_dir)
    if (
        here.is_relative_to(out)
        or steps.is_relative_to(out)
        or out.is_relative_to(steps)
    ):
        raise StappenError(
            f"output folder {name!r} contains the working folder or overlaps the "
            f"flows in {str(steps_dir)!r}; the build deletes files in it that it "
            "does not write, so choose a separate folder such as 'site'"
        )
    if out.exists() and not out.is_dir():
        raise StappenError(
            f"output folder {name!r} is a file; choose another name for the site"
        )
    if out.is_dir() and not (out / SITE_MARKER).is_file():
        _refuse_foreign_folder(out, name)
    if out.is_dir():
        _refuse_links(out, name)


def _refuse_links(out: Path, name: str) -> None:
    """Refuse symbolic links in the output folder: the build would write
    through them, to wherever they point."""
    for folder, folders, files in os.walk(out):
        for entry in [*folders, *files]:
            path = Path(folder) / entry
            if path.is_symlink():
                raise StappenError(
                    f"output folder {name!r} contains a symbolic link, "
                    f"{str(path.relative_to(out))!r}; the build would write through "
                    "it, so remove the link"
                )


def _refuse_foreign_folder(out: Path, name: str) -> None:
    entries = sorted(entry.name for entry in out.iterdir())
    if not entries:
        return
    raise StappenError(
        f"output folder {name!r} contains files that no Stappen build wrote (such as "
        f"{entries[0]!r}); the build deletes files it does not write, so choose an "
        "empty or new folder, or empty this one yourself"
    )


class SiteBuilder:
    """Builds a site once, then rebuilds only what a changed file affects.

    ``build.py serve`` keeps one builder for the whole session: after an
    edit in one flow it reads and checks that flow again, renders its pages
    and the pages that list all flows, and writes the files whose bytes
    changed.
    """

    def __init__(
        self,
        steps_dir: Path,
        out_dir: Path,
        *,
        base_url: str = "/",
        api_url: str | None = None,
        strict: bool = False,
        screenshots: Path | None = None,
    ):
        _check_out_dir(steps_dir, out_dir)
        if screenshots is not None:
            check_folder(screenshots)
        self.steps_dir = steps_dir
        self.out_dir = out_dir
        self.base_url = base_url
        self.api_url = api_url
        self.strict = strict
        self.screenshots_dir = screenshots
        self.flows: dict[str, Flow] = {}
        self.content: SiteContent | None = None

    def build_all(self, *, workers: int | None = None) -> BuildSummary:
        """Validate every flow and write the whole site."""
        started = time.perf_counter()
        clear_template_cache()
        log.info("Reading flows from %s", self.steps_dir)
        flows, problems = validate(self.steps_dir, strict=self.strict)
        shots = self._find_screenshots(flows, problems)
        if self.strict and problems.warnings:
            raise InvalidFlows(problems, strict=True)
        for problem in problems:
            log.warning("%s", problem, extra={"problem": True})
        self.flows = {flow.id: flow for flow in flows}
        self.content = SiteContent(
            flows, self.base_url, api_url=self.api_url, screenshots=shots
        )
        pages = len(self.content.pages) + 1
        log.info("Rendering %d pages into %s", pages, self.out_dir)
        files = freeze(self.content, self.out_dir, workers=workers)
        return BuildSummary(
            len(flows),
            pages,
            files,
            len(problems.warnings),
            time.perf_counter() - started,
        )

    def rebuild(self, changed: list[Path]) -> list[str]:
        """Bring the site up to date after ``changed`` files; return the
        site paths that were rendered again.

        Raises ``InvalidFlows`` when the changed flows have errors; the
        site on disk then stays as it was.
        """
        folders = {self._flow_folder(path) for path in changed}
        if None in folders or self.content is None:
            self.build_all()
            return self.content.paths()

        problems = Problems()
        updated = dict(self.flows)
        for folder in folders:
            forget_flow_templates(folder)
            flow = load_flow(folder, problems) if folder.is_dir() else None
            if flow is None:
                updated.pop(folder.name, None)
                continue
            checks.check_flow(flow, problems)
            flowtests.check_tests_file(flow, problems)
            _check_personas(flow, problems)
            updated[flow.id] = flow
        shots = self._find_screenshots(list(updated.values()), problems)
        if problems.errors or (self.strict and problems.warnings):
            raise InvalidFlows(problems, strict=self.strict)

        changed_ids = {folder.name for folder in folders}
        return self._write_changes(updated, changed_ids, shots)

    def _write_changes(self, updated: dict[str, Flow], changed_ids: set[str], shots):
        previous = self.content
        old_paths = set(previous.paths())
        flows = [updated[key] for key in sorted(updated)]
        self.content = SiteContent(
            flows,
            self.base_url,
            api_url=self.api_url,
            previous=previous,
            changed=changed_ids,
            screenshots=shots,
        )
        self.flows = updated
        new_paths = self.content.paths()
        affected = [
            path
            for path in new_paths
            if path not in old_paths
            or (
                self.content.depends_on(path, changed_ids)
                and self.content.fingerprint(path) != previous.fingerprint(path)
            )
        ]
        freeze_paths(self.content, self.out_dir, affected)
        for stale in sorted(old_paths - set(new_paths)):
            _remove_output(self.out_dir, stale)
        return affected

    def _find_screenshots(self, flows: list[Flow], problems: Problems):
        """Read the screenshots folder, when the build has one, for ``flows``."""
        if self.screenshots_dir is None:
            return None
        shots = find_screenshots(self.screenshots_dir, flows, problems)
        count = sum(len(found) for found in shots.values())
        log.info("Showing %d screenshots from %s", count, self.screenshots_dir)
        return shots

    def _flow_folder(self, path: Path) -> Path | None:
        """Return the flow folder a changed file belongs to, or None when the
        change can affect every page (a template, an asset, a new flow)."""
        try:
            relative = path.resolve().relative_to(self.steps_dir.resolve())
        except ValueError:
            return None
        if len(relative.parts) < 2 or relative.parts[0] not in self.flows:
            return None
        return self.steps_dir / relative.parts[0]


def _remove_output(out_dir: Path, site_path: str) -> None:
    file = out_dir / (
        site_path + "index.html"
        if site_path.endswith("/") or site_path == ""
        else site_path
    )
    if file.is_file():
        file.unlink()
        log.info("Removed %s", file)
