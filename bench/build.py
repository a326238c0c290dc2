"""Benchmark: build time of generated flows, beside a plain Jinja loop.

Run with ``make bench`` (or ``.venv/bin/python bench/build.py``). For 1,000
and 5,000 pages it prints, measured in this one run:

- a cold build with Stappen (validate, render, freeze into an empty folder),
- a plain loop that renders the same pages with the same Jinja templates
  and writes them, in one process,
- the rebuild after one step of one flow is edited, in the preview's
  long-running builder,
- peak memory (maximum resident set size) of the cold build.

Targets: the cold build at least as fast as the loop, the rebuild under
200 ms at 5,000 pages, peak memory under 500 MB.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

STEPS_PER_FLOW = 50
LANGUAGES = 2


def flow_yaml(number: int) -> str:
    """Write a flow of STEPS_PER_FLOW steps with questions, branches and texts."""
    lines = [
        "stappen: 1",
        f"title: {{nl: Regeling {number}, en: Scheme {number}}}",
        "description:",
        f"  nl: Een **gegenereerde** flow, nummer {number}.",
        f"  en: A **generated** flow, number {number}.",
        "organisation:",
        "  name: {nl: Gemeente Voorbeeld, en: Municipality of Voorbeeld}",
        "theme: voorbeeld",
        "steps:",
    ]
    count = STEPS_PER_FLOW - 2
    for index in range(count):
        lines += _step(index, count)
    lines += [
        "  - id: klaar",
        "    kind: outcome",
        "    tone: positive",
        "    title: {nl: U heeft misschien recht, en: You may be entitled}",
        "    body: {nl: Vraag het aan., en: Apply for it.}",
        "  - id: geen-recht",
        "    kind: outcome",
        "    tone: negative",
        "    title: {nl: Geen recht, en: Not entitled}",
    ]
    return "\n".join(lines) + "\n"


def _step(index: int, count: int) -> list[str]:
    step_id = f"stap-{index}"
    following = f"stap-{index + 1}" if index + 1 < count else "klaar"
    head = [f"  - id: {step_id}"]
    title = f"    title: {{nl: Vraag {index} over uw situatie, en: Question {index}}}"
    kind = index % 4
    if kind == 0:
        return head + [
            "    kind: content",
            title.replace("Vraag", "Uitleg"),
            "    body:",
            "      nl: |",
            "        Lees dit **goed**. Het gaat over uw inkomen.",
            "",
            "        - Punt een",
            "        - Punt twee",
            "      en: Read this **carefully**.",
            f"    next: {following}",
        ]
    if kind == 1:
        return head + [
            "    kind: question",
            title,
            "    hint: {nl: Kies een antwoord., en: Choose an answer.}",
            "    answer: {type: yesno}",
            "    next:",
            f'      - if: {{"==": [{{var: {step_id}}}, false]}}',
            "        goto: geen-recht",
            f"      - goto: {following}",
        ]
    if kind == 2:
        return head + [
            "    kind: question",
            title,
            "    answer:",
            "      type: amount",
            "      min: 0",
            "    errors: {required: {nl: Vul een bedrag in., en: Enter an amount.}}",
            f"    next: {following}",
        ]
    return head + [
        "    kind: question",
        title,
        "    answer:",
        "      type: choice",
        "      options:",
        "        - {value: alleen, label: {nl: Alleen, en: Alone}}",
        "        - {value: samen, label: {nl: Samen, en: Together}}",
        f"    next: {following}",
    ]


def generate(folder: Path, flows: int) -> Path:
    steps = folder / "steps"
    for number in range(flows):
        flow = steps / f"regeling-{number}"
        flow.mkdir(parents=True)
        (flow / "flow.yaml").write_text(flow_yaml(number), encoding="utf-8")
    return steps


def measure_cold(steps: Path, out: Path) -> dict:
    from stappen.building import build

    started = time.perf_counter()
    summary = build(steps, out)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "pages": summary.pages}


def measure_loop(steps: Path, out: Path) -> dict:
    """Render every page with the same templates and write it: no Flask, no
    freezing, no comparison with the previous bytes, one process."""
    from stappen.building import validate
    from stappen.rendering import Renderer, site_pages

    started = time.perf_counter()
    flows, _ = validate(steps)
    renderer = Renderer(flows)
    pages = site_pages(flows)
    for page in pages:
        target = out / page.file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(renderer.render(page), encoding="utf-8")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "pages": len(pages)}


def measure_rebuild(steps: Path, out: Path) -> dict:
    """Time the preview's rebuild after one step's title changes."""
    from stappen.building import SiteBuilder

    builder = SiteBuilder(steps, out)
    builder.build_all()
    flow_file = sorted(steps.glob("*/flow.yaml"))[len(list(steps.iterdir())) // 2]
    text = flow_file.read_text(encoding="utf-8")
    flow_file.write_text(text.replace("Vraag 5 over", "Vraag 5 (gewijzigd) over"))
    started = time.perf_counter()
    rendered = builder.rebuild([flow_file])
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "pages": len(rendered)}


MEASURES = {"cold": measure_cold, "loop": measure_loop, "rebuild": measure_rebuild}


def run_measure(name: str, flows: int) -> dict:
    """Run one measurement in a fresh process, with fresh flows and output."""
    with tempfile.TemporaryDirectory() as folder:
        steps = generate(Path(folder), flows)
        out = Path(folder) / "site"
        command = [sys.executable, __file__, "--measure", name, str(steps), str(out)]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
        return json.loads(result.stdout.strip().splitlines()[-1])


def _child_main(name: str, steps: Path, out: Path) -> None:
    import logging

    logging.disable(logging.INFO)
    result = MEASURES[name](steps, out)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result["peak_mb"] = max(own, children) / 1024
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--measure", nargs=3, metavar=("NAME", "STEPS", "OUT"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--sizes", default="1000,5000", help="site sizes in pages, comma-separated"
    )
    args = parser.parse_args()
    if args.measure:
        name, steps, out = args.measure
        _child_main(name, Path(steps), Path(out))
        return

    print(
        f"{'pages':>6} {'stappen p/s':>12} {'loop p/s':>9} {'ratio':>6} "
        f"{'rebuild ms':>11} {'peak MB':>8}"
    )
    for size in (int(part) for part in args.sizes.split(",")):
        flows = max(1, size // (STEPS_PER_FLOW * LANGUAGES))
        cold = run_measure("cold", flows)
        loop = run_measure("loop", flows)
        rebuild = run_measure("rebuild", flows)
        cold_rate = cold["pages"] / cold["seconds"]
        loop_rate = loop["pages"] / loop["seconds"]
        print(
            f"{cold['pages']:>6} {cold_rate:>12.0f} {loop_rate:>9.0f} "
            f"{cold_rate / loop_rate:>6.2f} {rebuild['seconds'] * 1000:>11.0f} "
            f"{cold['peak_mb']:>8.0f}"
        )
    shutil.rmtree(PROJECT / "bench" / "out", ignore_errors=True)


if __name__ == "__main__":
    main()
