"""Check a check step's `eligible` and `amount` against its decision's table.

The table lists the outputs of the decision and, where its output cells
are literals, which values each output can take. A setting that names a
missing output, or a value that the table never gives, would make every
check "not eligible" or show no amount, so validation reports it.
"""

from __future__ import annotations

import difflib
from decimal import Decimal

from stappen.rules import DmnModel
from stappen.rules.errors import FeelSyntaxError
from stappen.rules.feelparser import parse_expression
from stappen.rules.feelsyntax import Literal
from stappen.rules.tables import DecisionTable
from stappen.walletstep import SettingsReport

# Hit policies whose value is one output value (or one mapping of outputs).
# The others give a list, or an aggregate that no cell shows.
SINGLE_HIT_POLICIES = frozenset({"UNIQUE", "ANY", "PRIORITY", "FIRST"})

UNKNOWN = object()
"""The value of an output cell that is not a literal."""


def check_decision_outputs(
    model: DmnModel, settings: dict, report: SettingsReport
) -> None:
    """Report `eligible` and `amount` settings that the decision cannot meet.

    A decision written as a literal expression is skipped, because only an
    evaluation shows its value.
    """
    decision = settings["decision"]
    table = model.decisions[decision].table
    if table is None:
        return
    names = [clause.name for clause in table.outputs]
    eligible = settings.get("eligible")
    eligible = eligible if isinstance(eligible, dict) else {}

    amount = settings.get("amount")
    if isinstance(amount, str) and amount and amount != "value":
        _check_output_name(decision, names, amount, ("amount",), report)

    output = eligible.get("output")
    if isinstance(output, str) and output:
        if not _check_output_name(
            decision, names, output, ("eligible", "output"), report
        ):
            return
    elif len(names) > 1 and eligible:
        report.error(
            ("eligible",),
            f"decision {decision!r} has several outputs ({_listed(names)}), so "
            "its value is a mapping; name the output to compare, such as "
            f"{{output: {names[0]}, ...}}",
        )
        return

    index = names.index(output) if output in names and len(names) > 1 else 0
    values = possible_values(table, index)
    if values is not None:
        _check_eligible_values(decision, eligible, values, report)


def possible_values(table: DecisionTable, index: int) -> list | None:
    """Return every value that output ``index`` of a table can take.

    Returns None when a multiple-hit policy gives a list or an aggregate, or
    when a cell of that output is an expression rather than a literal. The
    default output entry counts as a cell. Without one, a table whose rules
    all miss gives null, which is left out because it never means eligible.
    """
    if table.hit_policy not in SINGLE_HIT_POLICIES:
        return None
    texts = [rule.output_texts[index] for rule in table.rules]
    default = table.outputs[index].default_text
    if default is not None:
        texts.append(default)
    values = []
    for text in texts:
        value = _literal_value(text)
        if value is UNKNOWN:
            return None
        if value not in values:
            values.append(value)
    return values


def _literal_value(text: str):
    try:
        node = parse_expression(text)
    except FeelSyntaxError:
        return UNKNOWN
    return node.value if isinstance(node, Literal) else UNKNOWN


def _check_output_name(decision, names, name, path: tuple, report) -> bool:
    """Report an output name that the decision's value does not have."""
    if len(names) == 1:
        fix = "use amount: value" if path == ("amount",) else "remove 'output'"
        report.error(
            path,
            f"decision {decision!r} has one output, so its value is that "
            f"output's value and has no output {name!r}; {fix}",
        )
        return False
    if name in names:
        return True
    close = difflib.get_close_matches(name, names, n=1)
    hint = (
        f"did you mean {close[0]!r}?" if close else f"its outputs are {_listed(names)}"
    )
    report.error(path, f"decision {decision!r} has no output {name!r}; {hint}")
    return False


def _check_eligible_values(decision, eligible: dict, values: list, report) -> None:
    table_values = f"its table gives {_listed(values)}"
    above = eligible.get("above")
    numbers = [value for value in values if _is_number(value)]
    if _is_number(above) and not numbers:
        report.error(
            ("eligible", "above"),
            f"decision {decision!r} never gives a number, so no outcome is above "
            f"{above}; {table_values}. Use {{one_of: [...]}} with the values that mean "
            "eligible",
        )
    one_of = eligible.get("one_of")
    if not isinstance(one_of, list):
        return
    for position, item in enumerate(one_of):
        if item is None or item in values:
            continue
        message = f"decision {decision!r} never gives {_shown(item)}; {table_values}"
        if isinstance(item, bool):
            message += (
                ". YAML reads an unquoted yes, no, true or false as a boolean, "
                "so quote a text"
            )
        report.error(("eligible", "one_of", position), message)


def _is_number(value) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _listed(values) -> str:
    return ", ".join(_shown(value) for value in values)


def _shown(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return str(value)
