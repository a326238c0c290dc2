"""Everything the static site holds, served by a Flask app for freezing.

The app answers each site path with a rendered page or an asset. The
build freezes it with Frozen-Flask; ``build.py serve`` serves the frozen
files, so a preview shows exactly what is published.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import mimetypes
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import jinja2
from flask import Flask, Response, abort

from stappen import graph
from stappen.errors import StappenError
from stappen.model import Flow
from stappen.rendering import Page, Renderer, site_pages
from stappen.screenshots import SITE_FOLDER as SCREENSHOTS_FOLDER
from stappen.screenshots import Screenshot

log = logging.getLogger(__name__)

PACKAGE_STATIC = Path(str(resources.files("stappen").joinpath("static")))
PROJECT_ROOT = Path(__file__).resolve().parent.parent

SITE_MARKER = ".stappen-site"
"""A file every build writes, so that the next build knows the folder is its
own and may delete files in it that it no longer writes."""

MARKER_TEXT = (
    b"This folder is written by the Stappen build (python build.py build).\n"
    b"Files in it that the build does not write are deleted at the next build.\n"
)

VENDOR_FILES = {
    "assets/vendor/utrecht/index.css": "@utrecht/component-library-css/dist/index.css",
    "assets/vendor/json-logic/logic.js": "json-logic-js/logic.js",
    "assets/themes/utrecht.css": "@utrecht/design-tokens/dist/theme.css",
    "assets/themes/voorbeeld.css": (
        "@nl-design-system-unstable/voorbeeld-design-tokens/dist/theme.css"
    ),
}
"""Site paths of the files taken from npm packages, and where they come from."""


@dataclasses.dataclass(frozen=True)
class Asset:
    """A file of the site that is not a page: copied from ``source``, given as
    ``content``, or made by ``make`` when first read (the flow graphs, so
    that the freezing workers draw them in parallel)."""

    source: Path | None
    content: bytes | None = None
    make: Callable[[], bytes] | None = dataclasses.field(default=None, compare=False)
    made_from: str | None = None
    """For a made asset: the page whose inputs it is made from too."""

    def read(self) -> bytes:
        if self.content is not None:
            return self.content
        if self.make is not None:
            return self.make()
        return self.source.read_bytes()


def node_modules() -> Path:
    """Find the npm packages the site's look and scripts come from."""
    folder = Path(os.environ.get("STAPPEN_NODE_MODULES", PROJECT_ROOT / "node_modules"))
    missing = [name for name in VENDOR_FILES.values() if not (folder / name).is_file()]
    if missing:
        raise StappenError(
            f"npm packages not installed: {folder / missing[0]} not found; run "
            f"'npm ci' in {PROJECT_ROOT} (or set STAPPEN_NODE_MODULES)"
        )
    return folder


def collect_assets(
    flows: list[Flow], previous=None, changed=(), screenshots=None
) -> dict[str, Asset]:
    """List every file of the site that is not a rendered page.

    Graphs of flows not in ``changed`` are taken from ``previous``, the
    assets of an earlier build, when it has them. ``screenshots`` maps flow
    ids to the screenshots their authors' overviews show.
    """
    assets = {".nojekyll": Asset(None, b""), SITE_MARKER: Asset(None, MARKER_TEXT)}
    modules = node_modules()
    for site_path, package_path in VENDOR_FILES.items():
        assets[site_path] = Asset(modules / package_path)
    for path in sorted(PACKAGE_STATIC.rglob("*")):
        if path.is_file():
            assets["assets/" + path.relative_to(PACKAGE_STATIC).as_posix()] = Asset(
                path
            )
    schema = Path(str(resources.files("stappen").joinpath("schema/flow.schema.json")))
    assets["schema/flow.schema.json"] = Asset(schema)
    for flow in flows:
        path = f"authors/{flow.id}/graph.svg"
        if previous and path in previous and flow.id not in changed:
            assets[path] = previous[path]
            continue
        make = functools.partial(_graph_svg, flow)
        assets[path] = Asset(None, make=make, made_from=f"authors/{flow.id}/")
    for flow_id, shots in (screenshots or {}).items():
        for shot in shots:
            path = f"authors/{flow_id}/{SCREENSHOTS_FOLDER}/{shot.name}"
            assets[path] = Asset(shot.source)
    return assets


def _graph_svg(flow: Flow) -> bytes:
    return graph.render_svg(flow, flow.default_language).encode()


class SiteContent:
    """The pages and assets of one build, looked up by site path."""

    def __init__(
        self,
        flows: list[Flow],
        base_url: str = "/",
        *,
        api_url: str | None = None,
        previous: SiteContent | None = None,
        changed: set[str] = frozenset(),
        screenshots: dict[str, list[Screenshot]] | None = None,
    ) -> None:
        self.flows = flows
        self.renderer = Renderer(flows, base_url, api_url, screenshots)
        known = previous.pages_by_flow if previous else None
        listed = site_pages(flows, known)
        self.pages: dict[str, Page] = {page.path: page for page in listed}
        self.pages_by_flow: dict[Flow, list[Page]] = {flow: [] for flow in flows}
        for page in listed:
            if page.flow is not None:
                self.pages_by_flow[page.flow].append(page)
        earlier = previous.assets if previous else None
        self.assets = collect_assets(flows, earlier, changed, screenshots)

    def depends_on(self, path: str, flow_ids: set[str]) -> bool:
        """Whether the file at ``path`` may change when the flows ``flow_ids``
        change. Pages that list every flow always may."""
        page = self.pages.get(path)
        if page is not None:
            return page.flow is None or page.flow.id in flow_ids
        if path.startswith("authors/"):
            return path.split("/")[1] in flow_ids
        return path == "404.html"

    def fingerprint(self, path: str) -> str | None:
        """Return a digest of what the file at ``path`` is made from."""
        page = self.pages.get(path)
        if page is not None:
            return self.renderer.fingerprint(page)
        asset = self.assets.get(path)
        if asset is None:
            return None
        if asset.made_from is not None:
            return self.renderer.fingerprint(self.pages[asset.made_from])
        if asset.content is not None:
            return hashlib.sha256(asset.content).hexdigest()
        return None

    def paths(self) -> list[str]:
        """Return every site path, pages first, in a stable order."""
        return [*self.pages, "404.html", *sorted(self.assets)]

    def response(self, path: str) -> tuple[bytes, str]:
        """Return the bytes and the content type served at ``path``."""
        if path in self.pages:
            page = self.pages[path]
            try:
                html = self.renderer.render(page)
            except jinja2.TemplateError as error:
                raise StappenError(_template_problem(page, error)) from error
            except RecursionError as error:
                raise StappenError(
                    f"{page.template}: rendering page {page.path!r} failed: the "
                    "templates include or extend each other without end; fix the "
                    "template"
                ) from error
            return html.encode(), "text/html"
        if path == "404.html":
            return self.renderer.render_not_found().encode(), "text/html"
        if path in self.assets:
            kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
            return self.assets[path].read(), kind
        raise KeyError(path)


def _template_problem(page: Page, error: jinja2.TemplateError) -> str:
    """Describe a template that failed to render ``page``, for its author."""
    if isinstance(error, jinja2.TemplateNotFound):
        return (
            f"{page.template}: rendering page {page.path!r} failed: template "
            f"{error.name!r} not found; templates can only use Stappen's templates "
            "and those in the flow's templates/ folder"
        )
    name = getattr(error, "filename", None) or getattr(error, "name", None)
    where = name or page.template
    line = getattr(error, "lineno", None)
    if line:
        where += f":{line}"
    return (
        f"{where}: rendering page {page.path!r} failed: {error.message}; fix the "
        "template (a flow's own templates are in its templates/ folder)"
    )


def create_site_app(content: SiteContent) -> Flask:
    """Make the Flask app that Frozen-Flask freezes into the static site."""
    app = Flask(__name__, static_folder=None)
    app.config["STAPPEN_SITE"] = content
    app.config["PROPAGATE_EXCEPTIONS"] = True

    @app.route("/", defaults={"path": ""})
    @app.route("/<path:path>")
    def serve(path: str) -> Response:
        try:
            body, kind = content.response(path)
        except KeyError:
            abort(404)
        charset = "utf-8" if kind.startswith("text/") or kind.endswith("json") else None
        return Response(
            body,
            mimetype=kind,
            content_type=None if not charset else f"{kind}; charset={charset}",
        )

    return app
