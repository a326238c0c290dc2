"""The ``build.py`` command line: validate, build, serve, graph and test."""

from __future__ import annotations

import argparse
import logging
import re
import shlex
import sys
import urllib.parse
from importlib import resources
from pathlib import Path

from stappen import building, flowtests
from stappen.errors import InvalidFlows, Problems, StappenError
from stappen.flows import ID_PATTERN
from stappen.slugs import slugify

log = logging.getLogger(__name__)

DEFAULT_STEPS = Path("steps")
DEFAULT_OUT = Path("site")


def main(argv: list[str] | None = None) -> int:
    parser = _make_parser()
    args = parser.parse_args(argv)
    restore = _configure_logging(args.verbose)
    try:
        return args.command(args)
    except InvalidFlows as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"Aborted: {error}.", file=sys.stderr)
        return 1
    except StappenError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        restore()


def _make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="build.py",
        description="Validate step flows written in YAML and build them into a "
        "static portal.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    for add_command in (
        _add_validate,
        _add_build,
        _add_serve,
        _add_graph,
        _add_new,
        _add_test,
    ):
        add_command(commands)
    return parser


def _add_validate(commands) -> None:
    validate = commands.add_parser("validate", help="check the flows, build nothing")
    _add_steps_argument(validate)
    _add_strict(validate)
    validate.set_defaults(command=run_validate)


def _add_build(commands) -> None:
    build = commands.add_parser("build", help="validate and write the static site")
    _add_site_options(build)
    _add_api_url(build)
    _add_screenshots(build)
    build.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes that render pages (default: one per core for large sites)",
    )
    build.set_defaults(command=run_build)


def _add_serve(commands) -> None:
    serve = commands.add_parser("serve", help="preview with live reload")
    _add_site_options(serve, default_base="/")
    _add_api_url(serve)
    _add_screenshots(serve)
    serve.add_argument(
        "--port", type=_port, default=8000, help="port, 1 to 65535 (default: 8000)"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    serve.set_defaults(command=run_serve)


def _add_graph(commands) -> None:
    graph = commands.add_parser("graph", help="draw a flow as an SVG diagram")
    graph.add_argument("flow", help="the flow's folder name, e.g. vil")
    _add_steps_option(graph)
    graph.add_argument(
        "--out", type=Path, default=None, help="SVG file to write (default: FLOW.svg)"
    )
    graph.add_argument(
        "--lang",
        default=None,
        help="language of the step titles (default: the flow's first)",
    )
    graph.set_defaults(command=run_graph)


def _add_new(commands) -> None:
    new = commands.add_parser("new", help="start a new flow from a small example")
    new.add_argument("name", help="folder name of the new flow, e.g. meedoen")
    _add_steps_option(new)
    new.set_defaults(command=run_new)


def _add_test(commands) -> None:
    test = commands.add_parser("test", help="run the flow tests in tests.yaml files")
    _add_steps_argument(test)
    test.set_defaults(command=run_test)


def _add_steps_argument(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "steps",
        nargs="?",
        type=Path,
        default=DEFAULT_STEPS,
        help="folder of flows (default: steps)",
    )


def _add_steps_option(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--steps",
        type=Path,
        default=DEFAULT_STEPS,
        help="folder of flows (default: steps)",
    )


def _base_url(text: str) -> str:
    """Accept a path such as /repo/ or an http(s) URL; add the final slash."""
    parts = urllib.parse.urlsplit(text)
    web = parts.scheme in ("http", "https") and parts.netloc
    if not (web or (not parts.scheme and not parts.netloc and text.startswith("/"))):
        raise argparse.ArgumentTypeError(
            f"expected a path such as /repo/ or a URL such as "
            f"https://org.github.io/repo/, got {text!r}"
        )
    if any(character.isspace() for character in text):
        raise argparse.ArgumentTypeError(f"expected no spaces, got {text!r}")
    return text if text.endswith("/") else text + "/"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"expected a port from 1 to 65535, got {text!r}"
        )
    return port


def _add_api_url(parser) -> None:
    parser.add_argument(
        "--api-url",
        type=_web_url,
        default=None,
        help="public URL of the Stappen API that wallet steps call, e.g. "
        "https://api.gemeente.nl/ (default: none; those steps then render as "
        "placeholders)",
    )


def _add_screenshots(parser) -> None:
    parser.add_argument(
        "--screenshots",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of screenshots, DIR/<flow>/<step>-<width>.png as 'make "
        "screenshots' writes them, to show on each flow's authors' overview "
        "(default: none)",
    )


def _web_url(text: str) -> str:
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(
            f"expected an http(s) URL such as https://api.gemeente.nl/, got {text!r}"
        )
    return text.rstrip("/")


def _add_strict(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--strict", action="store_true", help="count warnings as errors"
    )


def _add_site_options(parser, default_base: str = "/") -> None:
    _add_steps_option(parser)
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="folder to write the site to (default: site)",
    )
    parser.add_argument(
        "--base-url",
        type=_base_url,
        default=default_base,
        help="URL or path the site is published at, e.g. "
        "https://org.github.io/repo/ (default: /); only 404.html "
        "uses it, the other pages link relatively",
    )
    _add_strict(parser)


def _configure_logging(verbose: bool):
    """Send Stappen's log to standard error and return a function that undoes it.

    A caller in the same process, such as a test, then keeps its own logging.
    """
    handler = _StderrHandler()
    handler.setFormatter(_LevelFormatter())
    logger = logging.getLogger("stappen")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    logger.propagate = False

    def restore() -> None:
        logger.handlers[:], level, logger.propagate = saved
        logger.setLevel(level)

    return restore


class _StderrHandler(logging.StreamHandler):
    """Write to whatever ``sys.stderr`` is at the time of each record."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class _LevelFormatter(logging.Formatter):
    """Prefix warnings and errors with their level; leave progress plain."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if getattr(record, "problem", False):
            return message
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message


def run_validate(args) -> int:
    flows, problems = building.validate(args.steps, strict=args.strict)
    for problem in problems:
        print(problem, file=sys.stderr)
    steps = sum(len(flow.steps) for flow in flows)
    print(
        f"{_count(len(flows), 'flow')}, {_count(steps, 'step')}: valid, "
        f"{_count(len(problems.warnings), 'warning')}."
    )
    return 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def run_build(args) -> int:
    summary = building.build(
        args.steps,
        args.out,
        base_url=args.base_url,
        api_url=args.api_url,
        strict=args.strict,
        workers=args.workers,
        screenshots=args.screenshots,
    )
    print(summary)
    return 0


def run_serve(args) -> int:
    from stappen import preview

    preview.serve(
        args.steps,
        args.out,
        base_url=args.base_url,
        api_url=args.api_url,
        host=args.host,
        port=args.port,
        strict=args.strict,
        screenshots=args.screenshots,
    )
    return 0


def run_graph(args) -> int:
    from stappen import graph
    from stappen.flows import load_flow

    folder = args.steps / args.flow
    if not (folder / "flow.yaml").is_file():
        raise StappenError(
            f"flow {args.flow!r} not found: {folder}/flow.yaml does not exist"
        )
    problems = Problems()
    flow = load_flow(folder, problems)
    if flow is None:
        raise InvalidFlows(problems)
    lang = args.lang or flow.default_language
    if lang not in flow.languages:
        raise StappenError(
            f"language {lang!r} is not one of the flow's languages "
            f"({', '.join(flow.languages)}); pass one of those to --lang"
        )
    out = args.out or Path(f"{flow.id}.svg")
    _check_graph_out(out, args.steps)
    try:
        out.write_text(graph.render_svg(flow, lang), encoding="utf-8")
    except OSError as error:
        raise StappenError(f"cannot write {str(out)!r}: {error.strerror}") from error
    print(f"Wrote {out}")
    return 0


def _check_graph_out(out: Path, steps_dir: Path) -> None:
    """Refuse to write the diagram anywhere but a new or SVG file."""
    if out.suffix.lower() != ".svg":
        raise StappenError(f"--out {str(out)!r} must name an .svg file")
    if out.resolve().is_relative_to(steps_dir.resolve()):
        raise StappenError(
            f"--out {str(out)!r} lies inside the flows folder {str(steps_dir)!r}; "
            "write the diagram elsewhere"
        )
    if out.is_dir():
        raise StappenError(f"--out {str(out)!r} is a folder; name an .svg file")
    if not out.parent.is_dir():
        raise StappenError(
            f"folder {str(out.parent)!r} does not exist; create it or choose "
            "another place for the diagram"
        )


def run_new(args) -> int:
    if not re.fullmatch(ID_PATTERN, args.name):
        raise StappenError(
            f"flow name {args.name!r} is not a valid page path: use lowercase ASCII "
            f"letters, digits and single hyphens, such as {slugify(args.name)!r}"
        )
    folder = args.steps / args.name
    if folder.exists():
        raise StappenError(f"{str(folder)!r} already exists; choose another name")
    folder.mkdir(parents=True)
    starter = resources.files("stappen").joinpath("starter")
    for name in ("flow.yaml", "tests.yaml"):
        (folder / name).write_text(starter.joinpath(name).read_text(), encoding="utf-8")
    steps = shlex.quote(str(args.steps))
    print(
        f"Wrote {folder}/flow.yaml and {folder}/tests.yaml. Edit them while the "
        f"preview runs, then check them:\n"
        f"  python build.py serve --steps {steps}   (preview, rebuilt on each save)\n"
        f"  python build.py validate {steps}\n"
        f"  python build.py test {steps}"
    )
    return 0


def run_test(args) -> int:
    flows, _ = building.validate(args.steps)
    problems = Problems()
    outcomes = []
    for flow in flows:
        outcomes += flowtests.run_tests(flow, flowtests.load_tests(flow, problems))
    for outcome in outcomes:
        print(outcome)
    failed = sum(not outcome.passed for outcome in outcomes)
    print(f"{len(outcomes) - failed} passed, {failed} failed")
    return 1 if failed else 0
