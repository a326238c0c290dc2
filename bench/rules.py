"""Benchmark: evaluations per second of DMN decision tables (parsing excluded).

Run with ``.venv/bin/python bench/rules.py``. It loads each table once and
then measures ``DmnModel.evaluate``, trace included, for:

- Utrecht's individuele inkomenstoeslag table (hit policy FIRST, 9 rules,
  7 inputs), with inputs that match its last rule. Target: under 50 µs.
- Utrecht's draagkracht table (FIRST, 10 rules, decimal arithmetic in the
  output), with inputs that match a rule with a formula. Target: under 50 µs.
- A generated table of 1,000 rules (hit policy UNIQUE, so every rule is
  tested), 3 inputs: a number range, a text and a boolean. Target: under 5 ms.

Each figure is the best of five rounds of about half a second.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from stappen.rules import load_dmn  # noqa: E402

REAL = PROJECT.parent / "shared" / "dmn" / "real" / "vil-utrecht"
RULES = 1000

IIT_INPUTS = {
    "aowLeeftijdBehaald": True,
    "ouderDan21": True,
    "woonplaats": "Utrecht",
    "alleenstaande": True,
    "thuiswonendeKinderen": True,
    "inkomenPerMaand": "1200.50",
    "vermogen": 0,
}
DRAAGKRACHT_INPUTS = {
    "bijstand": False,
    "alleenstaande": True,
    "inrichting": False,
    "inkomen_norm": 1500,
    "kosten": 900,
    "vermogen": 8000,
    "draagkracht_verbruikt": 0,
}


def generated_table(rules: int) -> str:
    """Write a DMN file with one UNIQUE table of ``rules`` exclusive rules."""
    rows = []
    for index in range(rules):
        low, high = index * 10, index * 10 + 10
        rows.append(
            f'<rule id="r{index}">'
            f"<inputEntry><text>[{low}..{high}[</text></inputEntry>"
            f'<inputEntry><text>"regio-{index % 7}", "overig"</text></inputEntry>'
            f"<inputEntry><text>{'true' if index % 2 else '-'}</text></inputEntry>"
            f"<outputEntry><text>{index} * 1.5</text></outputEntry>"
            "</rule>"
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/"
    id="bench" name="bench" namespace="urn:stappen:bench">
  <inputData id="in_bedrag" name="bedrag">
    <variable name="bedrag" typeRef="number"/></inputData>
  <inputData id="in_regio" name="regio">
    <variable name="regio" typeRef="string"/></inputData>
  <inputData id="in_actief" name="actief">
    <variable name="actief" typeRef="boolean"/></inputData>
  <decision id="uitkomst" name="uitkomst">
    <informationRequirement><requiredInput href="#in_bedrag"/></informationRequirement>
    <informationRequirement><requiredInput href="#in_regio"/></informationRequirement>
    <informationRequirement><requiredInput href="#in_actief"/></informationRequirement>
    <decisionTable hitPolicy="UNIQUE">
      <input label="bedrag"><inputExpression typeRef="number">
        <text>bedrag</text></inputExpression></input>
      <input label="regio"><inputExpression typeRef="string">
        <text>regio</text></inputExpression></input>
      <input label="actief"><inputExpression typeRef="boolean">
        <text>actief</text></inputExpression></input>
      <output name="uitkomst" typeRef="number"/>
      {"".join(rows)}
    </decisionTable>
  </decision>
</definitions>
"""


def measure(model, decision: str, inputs: dict) -> float:
    """Return the best time of one evaluation in seconds."""
    model.evaluate(decision, inputs)
    count = 1
    while True:
        started = time.perf_counter()
        for _ in range(count):
            model.evaluate(decision, inputs)
        if time.perf_counter() - started > 0.05:
            break
        count *= 2
    count = max(1, int(count * 0.5 / (time.perf_counter() - started)))
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(count):
            model.evaluate(decision, inputs)
        best = min(best, (time.perf_counter() - started) / count)
    return best


def report(label: str, seconds: float, target_us: float | None) -> None:
    micro = seconds * 1e6
    target = f"{target_us:>10.0f}" if target_us is not None else f"{'-':>10}"
    verdict = ""
    if target_us is not None:
        verdict = "met" if micro < target_us else "MISSED"
    print(f"{label:<28} {1 / seconds:>12.0f} {micro:>10.1f} {target} {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rules", type=int, default=RULES, help="rules in the generated table"
    )
    args = parser.parse_args()

    print(f"{'table':<28} {'evals/s':>12} {'µs/eval':>10} {'target µs':>10}")
    iit = load_dmn(REAL / "iit-utrecht.dmn")
    report("Utrecht iit", measure(iit, "Inkomen Toeslag", IIT_INPUTS), 50)
    draagkracht = load_dmn(REAL / "draagkracht-utrecht.dmn")
    seconds = measure(draagkracht, "Draagkracht-inkomen", DRAAGKRACHT_INPUTS)
    report("Utrecht draagkracht", seconds, 50)

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.dmn"
        path.write_text(generated_table(args.rules), encoding="utf-8")
        generated = load_dmn(path)
    inputs = {"bedrag": (args.rules - 1) * 10 + 5, "regio": "overig", "actief": True}
    seconds = measure(generated, "uitkomst", inputs)
    report(f"generated, {args.rules} rules", seconds, 5000)


if __name__ == "__main__":
    main()
