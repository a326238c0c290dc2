"""Pages of the portal: which exist, and how each renders with Jinja.

Every page has a site path such as ``nl/vil/welkom/``; links between pages
are made relative to the page that holds them, so the site works under
any sub-path. Only ``404.html`` uses absolute links, because GitHub Pages
serves it at whatever depth the missing URL had.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import html
import json
import re
from importlib import resources
from pathlib import Path

import jinja2
import jinja2.sandbox
import markdown
import markdown.extensions
import markdown.treeprocessors
from markupsafe import Markup

from stappen import applicationstep, checkstep, decisionstep, routing
from stappen.i18n import MESSAGES, messages
from stappen.model import Flow, Route, Step
from stappen.personas import PERSONAS_FILE, load_personas
from stappen.screenshots import Screenshot, by_step
from stappen.walletstep import read_settings

PACKAGE_TEMPLATES = Path(str(resources.files("stappen").joinpath("templates")))


@dataclasses.dataclass(frozen=True)
class Page:
    """One HTML page of the site: its path, template and what it shows."""

    path: str
    template: str
    lang: str
    flow: Flow | None = None
    step: Step | None = None

    @property
    def file(self) -> str:
        """Return the output file, relative to the site folder."""
        if self.path.endswith(".html"):
            return self.path
        return self.path + "index.html"


def template_names(flow: Flow | None) -> set[str]:
    """List the templates available to ``flow`` (Stappen's and its own)."""
    names = _package_template_names()
    if flow is not None and (flow.folder / "templates").is_dir():
        override = flow.folder / "templates"
        names |= {p.relative_to(override).as_posix() for p in override.rglob("*.html")}
    return names


@functools.cache
def _package_template_names() -> frozenset[str]:
    return frozenset(
        p.relative_to(PACKAGE_TEMPLATES).as_posix()
        for p in PACKAGE_TEMPLATES.rglob("*.html")
    )


def step_path(flow: Flow, lang: str, step_id: str) -> str:
    return f"{lang}/{flow.id}/{step_id}/"


def flow_path(flow: Flow, lang: str) -> str:
    return f"{lang}/{flow.id}/"


def home_path(lang: str) -> str:
    return "" if lang == "nl" else f"{lang}/"


def site_pages(flows: list[Flow], known: dict | None = None) -> list[Page]:
    """List every HTML page of the site, in a stable order.

    ``known`` maps flows to their pages from an earlier call; a flow found
    there is not listed again.
    """
    languages = sorted({lang for flow in flows for lang in flow.languages}) or ["nl"]
    pages = [Page(home_path(lang), "home.html", lang) for lang in languages]
    for flow in flows:
        if known is None or flow not in known:
            pages += flow_pages(flow)
        else:
            pages += known[flow]
    return pages


def flow_pages(flow: Flow) -> list[Page]:
    """List the pages of one flow: its authors' page, start pages and steps."""
    pages = [Page(f"authors/{flow.id}/", "authors.html", "en", flow)]
    for lang in flow.languages:
        pages.append(Page(flow_path(flow, lang), "flow.html", lang, flow))
        for step in flow.steps.values():
            template = f"steps/{step.kind}.html"
            pages.append(
                Page(step_path(flow, lang, step.id), template, lang, flow, step)
            )
    return pages


class Renderer:
    """Render pages with Jinja; one instance serves a whole build."""

    def __init__(
        self,
        flows: list[Flow],
        base_url: str = "/",
        api_url: str | None = None,
        screenshots: dict[str, list[Screenshot]] | None = None,
    ) -> None:
        self.flows = flows
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.api_url = api_url
        self.screenshots = screenshots or {}
        self._flow_data: dict[str, str] = {}
        self._positions: dict[str, dict[str, tuple[int, int]]] = {}
        self._fingerprints: dict[str, str] = {}
        self._step_fingerprints: dict[int, str] = {}
        self._persona_lists: dict[str, list] = {}
        # Taken now: a fingerprint computed later must still describe the
        # templates this renderer was made with.
        self._templates = {flow.id: _templates_state(flow) for flow in flows}

    def render(self, page: Page) -> str:
        environment = self.environment(page.flow)
        template = environment.get_template(page.template)
        return template.render(self.context(page))

    def render_not_found(self, lang: str = "nl") -> str:
        page = Page("404.html", "404.html", lang)
        context = self.context(page)
        context["href"] = self._absolute_href
        return self.environment(None).get_template("404.html").render(context)

    def fingerprint(self, page: Page) -> str:
        """Return a digest of everything ``page`` renders from.

        Two renderers give a page the same fingerprint only when its bytes
        are the same, templates aside; the preview's rebuild skips those.
        """
        parts = [page.template, page.lang, page.path]
        if page.flow is None:
            parts.append(repr([_flow_summary(flow) for flow in self.flows]))
        else:
            parts.append(self._flow_fingerprint(page.flow))
        if page.step is not None:
            parts.append(self._step_fingerprint(page.step))
        if page.template in WHOLE_FLOW_TEMPLATES:
            parts += [self._step_fingerprint(step) for step in page.flow.steps.values()]
        if page.template == "authors.html":
            parts.append(repr(self.screenshots.get(page.flow.id)))
        return digest("\x00".join(parts))

    def _step_fingerprint(self, step: Step) -> str:
        key = id(step)
        if key not in self._step_fingerprints:
            self._step_fingerprints[key] = digest(_step_summary(step))
        return self._step_fingerprints[key]

    def compile_templates(self) -> None:
        """Compile every template now, so that forked workers share them."""
        flows_with_own = [f for f in self.flows if (f.folder / "templates").is_dir()]
        for flow in [None, *flows_with_own]:
            environment = self.environment(flow)
            for name in template_names(flow):
                environment.get_template(name)

    def _flow_fingerprint(self, flow: Flow) -> str:
        if flow.id not in self._fingerprints:
            positions = sorted(self.positions(flow).items())
            text = repr(
                (_flow_summary(flow), positions, self._templates[flow.id])
            ) + self.flow_data(flow)
            self._fingerprints[flow.id] = digest(text)
        return self._fingerprints[flow.id]

    def environment(self, flow: Flow | None) -> jinja2.Environment:
        """Return the Jinja environment for ``flow``: a shared one, unless the
        flow replaces templates with its own."""
        own = flow is not None and (flow.folder / "templates").is_dir()
        key = str(flow.folder) if own else ""
        if key not in _ENVIRONMENTS:
            _ENVIRONMENTS[key] = _make_environment(flow if own else None)
        return _ENVIRONMENTS[key]

    def context(self, page: Page) -> dict:
        lang = page.lang
        context = {
            "page": page,
            "lang": lang,
            "t": messages(lang),
            "flows": self.flows,
            "flow": page.flow,
            "step": page.step,
            "href": functools.partial(_relative_href, page.path),
            "other_languages": self._other_languages(page),
            "home": home_path(lang),
            "flow_home": flow_path(page.flow, lang) if page.flow else home_path(lang),
            "api_url": self.api_url,
        }
        if page.flow is not None:
            context["flow_data"] = self.flow_data(page.flow)
            context["text"] = functools.partial(_text, page.flow, lang)
            context["text_lang"] = functools.partial(_text_lang, page.flow, lang)
        if page.step is not None:
            context.update(self._step_context(page))
        if page.step is not None and page.step.kind == "wallet":
            context.update(self._wallet_context(page))
        if page.step is not None and page.step.kind == "check" and self.api_url:
            context.update(_check_context(page))
        if page.step is not None and page.step.kind == "application" and self.api_url:
            context.update(_application_context(page))
        if page.template == "authors.html":
            context["reachable_ids"] = routing.reachable(page.flow)
            shots = self.screenshots.get(page.flow.id, [])
            context["screenshots"] = by_step(shots)
        return context

    def _wallet_context(self, page: Page) -> dict:
        """Tell an issuing wallet step which pilot sources its claims use."""
        settings = read_settings(page.step)
        if settings.purpose != "issue":
            return {"personas": [], "sends_answers": False}
        sources = [c for cred in settings.credentials for c in cred.claims]
        uses_personas = any(source.persona for source in sources)
        return {
            "personas": self._personas(page.flow) if uses_personas else [],
            "sends_answers": any(source.answer for source in sources),
        }

    def _personas(self, flow: Flow) -> list:
        if flow.id not in self._persona_lists:
            path = flow.folder / PERSONAS_FILE
            found = load_personas(path) if path.is_file() else {}
            self._persona_lists[flow.id] = list(found.values())
        return self._persona_lists[flow.id]

    def _step_context(self, page: Page) -> dict:
        flow, step = page.flow, page.step
        positions = self.positions(flow)
        prefix = routing.shortest_prefix(flow, step.id)
        previous = prefix[-2] if len(prefix) > 1 else None
        return {
            "messages_json": _script_json(_browser_messages(flow, step, page.lang)),
            "labels_json": _script_json(_labels(flow, page.lang))
            if step.kind == "summary"
            else "",
            "position": positions.get(step.id, (1, 1)),
            "previous_path": step_path(flow, page.lang, previous)
            if previous
            else flow_path(flow, page.lang),
            "next_path": step_path(flow, page.lang, step.routes[-1].goto)
            if step.routes
            else None,
        }

    def positions(self, flow: Flow) -> dict[str, tuple[int, int]]:
        if flow.id not in self._positions:
            self._positions[flow.id] = routing.positions(flow)
        return self._positions[flow.id]

    def flow_data(self, flow: Flow) -> str:
        """Return the flow's routing as JSON for the browser script."""
        if flow.id not in self._flow_data:
            self._flow_data[flow.id] = _script_json(_routing_data(flow))
        return self._flow_data[flow.id]

    def _other_languages(self, page: Page) -> list[tuple[str, str]]:
        if page.flow is not None:
            languages = page.flow.languages
        else:
            languages = sorted({lang for f in self.flows for lang in f.languages})
        result = []
        for lang in languages:
            if lang == page.lang:
                continue
            if page.step is not None:
                target = step_path(page.flow, lang, page.step.id)
            elif page.flow is not None and page.template == "flow.html":
                target = flow_path(page.flow, lang)
            else:
                target = home_path(lang)
            result.append((lang, target))
        return result

    def _absolute_href(self, target: str) -> str:
        return self.base_url + target


def _check_context(page: Page) -> dict:
    """Tell a check step's page what it sends: answers, or a wallet step's data.

    ``check_back_path`` is where the citizen goes to try again: the wallet
    step that shares the data, or the step before a trial calculation.
    """
    settings = checkstep.read_settings(page.flow, page.step)
    wallet_step = settings.wallet_step
    if wallet_step is None:
        prefix = routing.shortest_prefix(page.flow, page.step.id)
        back = step_path(page.flow, page.lang, prefix[-2]) if len(prefix) > 1 else None
    else:
        back = step_path(page.flow, page.lang, wallet_step)
    answers = [source.answer for source in settings.inputs if source.answer]
    return {
        "check_trial": settings.trial,
        "check_wallet_later": settings.trial and _has_wallet_check(page.flow),
        "check_wallet_step": wallet_step,
        "check_inputs": json.dumps(answers),
        "check_back_path": back or flow_path(page.flow, page.lang),
    }


def _has_wallet_check(flow) -> bool:
    """Tell whether a check step of ``flow`` reads data shared from a wallet."""
    return any(
        checkstep.read_settings(flow, step).wallet_step is not None
        for step in flow.steps.values()
        if step.kind == "check"
    )


def _application_context(page: Page) -> dict:
    """Tell an application step's page where the citizen goes next.

    ``application_decision_path`` is the decision step that reopens the
    application, and ``application_voucher_path`` the wallet step before the
    check, where the citizen starts again for a new voucher.
    """
    flow, lang = page.flow, page.lang
    settings = applicationstep.read_settings(flow, page.step)
    check = applicationstep.check_settings(flow, settings)
    decision = decisionstep.decision_step_for(flow, page.step.id)
    return {
        "application_decision_path": step_path(flow, lang, decision.id)
        if decision is not None
        else None,
        "application_voucher_path": step_path(flow, lang, check.wallet_step),
    }


WHOLE_FLOW_TEMPLATES = ("authors.html", "steps/summary.html")
"""Templates whose pages show every step of their flow."""


def _flow_summary(flow: Flow) -> tuple:
    """The flow's own fields, without its steps."""
    return (
        flow.id,
        flow.title,
        flow.description,
        flow.organisation,
        flow.languages,
        flow.theme,
        flow.start,
    )


def _step_summary(step: Step) -> str:
    """Describe ``step`` for a fingerprint, leaving out its line numbers."""
    routes = tuple(Route(route.goto, route.condition) for route in step.routes)
    return repr(dataclasses.replace(step, line=None, routes=routes))


def _routing_data(flow: Flow) -> dict:
    """Describe what the browser needs to route: kinds, answers and routes."""
    steps = {}
    for step in flow.steps.values():
        data = {
            "kind": step.kind,
            "routes": [
                {"goto": r.goto, **({"if": r.condition} if r.condition else {})}
                for r in step.routes
            ],
        }
        if step.answer is not None:
            data["answer"] = _answer_data(step)
        steps[step.id] = data
    return {
        "flow": flow.id,
        "start": flow.start,
        "languages": list(flow.languages),
        "steps": steps,
    }


def _script_json(data) -> str:
    """Serialise ``data`` for a ``<script type="application/json">`` element."""
    text = json.dumps(
        data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    # Inside <script>, "</script" and "<!--" change how the element ends, so
    # no "<" is left as it is; JSON reads the escapes as the same text.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _browser_messages(flow: Flow, step: Step, lang: str) -> dict:
    """Collect the words the browser script shows on a step's page."""
    ui = messages(lang)
    data = {
        "lang": lang,
        "ui": {
            key: value
            for key, value in ui.items()
            if key.startswith(("error_", "step_of"))
            or (
                step.kind in ("wallet", "check", "decision")
                and key.startswith("wallet_status_")
            )
            or (step.kind == "check" and key.startswith("check_"))
            or (
                step.kind == "application"
                and key.startswith(("application_", "wallet_status_"))
            )
            or (step.kind == "decision" and key.startswith("decision_"))
        },
    }
    if step.errors:
        data["errors"] = {
            key: flow.text(texts, lang) for key, texts in step.errors.items()
        }
    return data


def _labels(flow: Flow, lang: str) -> dict:
    """Collect question titles and option labels for check-your-answers."""
    labels = {}
    for step in flow.questions():
        entry = {"title": flow.text(step.title, lang), "type": step.answer.type}
        if step.answer.options:
            entry["options"] = {
                option.value: flow.text(option.label, lang)
                for option in step.answer.options
            }
        labels[step.id] = entry
    return {
        "questions": labels,
        "yes": messages(lang)["answer_yes"],
        "no": messages(lang)["answer_no"],
        "change": messages(lang)["change"],
    }


def _answer_data(step: Step) -> dict:
    answer = step.answer
    data = {"type": answer.type, "required": answer.required}
    for name in ("min", "max", "max_length"):
        if getattr(answer, name) is not None:
            data[name] = getattr(answer, name)
    if answer.integer:
        data["integer"] = True
    if answer.options:
        data["options"] = [option.value for option in answer.options]
    return data


_ENVIRONMENTS: dict[str, jinja2.Environment] = {}
"""Jinja environments by flow folder ("" for Stappen's own templates), kept
between builds so that a rebuild does not compile the templates again."""


def _templates_state(flow: Flow) -> list[tuple]:
    """Describe the flow's own template files by name, size and change time."""
    folder = flow.folder / "templates"
    if not folder.is_dir():
        return []
    return sorted(
        (
            path.relative_to(folder).as_posix(),
            path.stat().st_size,
            path.stat().st_mtime_ns,
        )
        for path in folder.rglob("*")
        if path.is_file()
    )


def forget_flow_templates(flow_folder: Path) -> None:
    """Forget a flow's compiled templates, so that edits to them are read."""
    _ENVIRONMENTS.pop(str(flow_folder), None)


def clear_template_cache() -> None:
    """Forget compiled templates, so that edited template files are read."""
    _ENVIRONMENTS.clear()
    _package_template_names.cache_clear()


def _make_environment(flow: Flow | None) -> jinja2.Environment:
    loaders = [jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES))]
    if flow is not None and (flow.folder / "templates").is_dir():
        loaders.insert(0, jinja2.FileSystemLoader(str(flow.folder / "templates")))
    # A flow's own templates come with the flow, from whoever edits steps/,
    # so they run sandboxed: no access to Python internals from a template.
    kind = jinja2.Environment if flow is None else jinja2.sandbox.SandboxedEnvironment
    environment = kind(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,
    )
    environment.filters["markdown"] = render_markdown
    environment.filters["format"] = _format_message
    environment.globals["all_messages"] = MESSAGES
    return environment


@functools.lru_cache(maxsize=65536)
def _relative_href(current: str, target: str) -> str:
    """Link from the page at site path ``current`` to the site path ``target``.

    Site paths have no leading slash; a page path ends with "/" (its file is
    index.html there), a file path does not.
    """
    folder = current if current.endswith("/") else current.rpartition("/")[0] + "/"
    here = folder.split("/")[:-1] if folder != "/" else []
    there = target.split("/")
    common = 0
    while (
        common < len(here) and common < len(there) - 1 and here[common] == there[common]
    ):
        common += 1
    relative = "../" * (len(here) - common) + "/".join(there[common:])
    return relative or "./"


def _text(flow: Flow, lang: str, texts) -> str:
    return flow.text(texts, lang)


def _text_lang(flow: Flow, lang: str, texts) -> str | None:
    """Return the language a text is shown in, when it is not ``lang``."""
    if texts and not texts.get(lang) and texts.get(flow.default_language):
        return flow.default_language
    return None


SAFE_URL = re.compile(r"^(https?:|mailto:|tel:|#|/|\.{0,2}/|[^:/?#]+(?:[/?#]|$))", re.I)
"""Link targets a body may use: web, mail and phone links and relative paths."""


def is_safe_url(target: str) -> bool:
    """Whether a body may link to ``target``.

    Character references and the whitespace and control characters that
    browsers skip are decoded and removed first: "&#106;avascript:" and
    "java&#x09;script:" are javascript: links to a browser.
    """
    decoded = html.unescape(html.unescape(target))
    cleaned = "".join(ch for ch in decoded if ch.isprintable() and not ch.isspace())
    return bool(SAFE_URL.match(cleaned))


class _SafeLinks(markdown.treeprocessors.Treeprocessor):
    """Drop link and image targets with other schemes, such as javascript:."""

    def run(self, root):
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is not None and not is_safe_url(value):
                    del element.attrib[attribute]


class _PlainMarkdown(markdown.extensions.Extension):
    """Markdown without raw HTML: tags an author writes are shown as text."""

    def extendMarkdown(self, md):
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_SafeLinks(md), "stappen_safe_links", 0)


@functools.lru_cache(maxsize=4096)
def render_markdown(text: str) -> Markup:
    """Render an author's Markdown; raw HTML in it is shown as text."""
    converter = markdown.Markdown(
        extensions=["sane_lists", _PlainMarkdown()], output_format="html"
    )
    return Markup(converter.convert(text))


def _format_message(message: str, **values) -> str:
    return message.format(**values)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
