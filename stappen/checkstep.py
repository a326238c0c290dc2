"""The settings of a check step: which DMN decision decides, and from what.

A check step names a DMN file in the flow's folder, the decision in it, and
the rules' version and validity period. It also names the source of each
input of the decision, which outcomes mean eligible, and which voucher
credential an eligible citizen receives. Inputs come either from claims
that a wallet step of purpose ``present`` verified, or from answers for an
anonymous trial calculation, which never gives a voucher. docs/check-step.md
describes the settings for authors.

:func:`check_check_step` reports every problem of one step's settings during
validation. :func:`read_settings` turns valid settings into the frozen
objects the API works with.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from stappen.checkoutputs import check_decision_outputs
from stappen.errors import Problems, StappenError, with_article
from stappen.model import Flow, Step
from stappen.rules import DmnError, DmnModel, load_dmn
from stappen.walletstep import (
    ISSUER_PATTERN,
    VCT_PATTERN,
    ClaimSource,
    CredentialConfiguration,
    IssueSettings,
    SettingsReport,
    settings_problems,
)
from stappen.yamlload import describe

FIELDS = (
    "rules",
    "decision",
    "version",
    "valid_from",
    "valid_to",
    "inputs",
    "eligible",
    "amount",
    "outcomes",
    "voucher",
)
_REQUIRED_FIX = {
    "rules": "give the DMN file, relative to the flow's folder",
    "decision": "give the name of the decision in the DMN file",
    "version": "give the version of the rules, such as '2026-2'",
    "valid_from": "give the first day the rules apply, as YYYY-MM-DD",
    "valid_to": "give the last day the rules apply, as YYYY-MM-DD",
    "inputs": "map each input of the decision to a claim or an answer",
}
"""The required settings, each with the fix for its absence."""
ELIGIBLE_FIELDS = ("output", "above", "one_of")
VOUCHER_FIELDS = ("id", "issuer", "vct", "expires_in")
OUTCOMES = ("eligible", "not_eligible")

ELIGIBLE, NOT_ELIGIBLE = "eligible", "not-eligible"
RESULT_VALUES = (ELIGIBLE, NOT_ELIGIBLE)
"""The result a check step stores for routing, as an answer under its own id."""

DEFAULT_VOUCHER_EXPIRES_IN = 300
MIN_EXPIRES_IN, MAX_EXPIRES_IN = 60, 900

VOUCHER_CLAIMS = (
    ("regeling", "string"),
    ("uitkomst", "string"),
    ("bedrag", "string"),
    ("besluit_id", "string"),
    ("regels_sha256", "string"),
    ("regels_versie", "string"),
    ("geldig_van", "date"),
    ("geldig_tot", "date"),
    ("regels_toegepast", "array"),
    ("gebruikte_gegevens", "array"),
)
"""The claims of a voucher credential, by name and claim type.

``besluit_id`` is the id of the check's evaluation, and ``regels_toegepast``
the ids of the matched rules. ``gebruikte_gegevens`` has one entry per
presented credential whose claims were used: its type, its issuer and the
SHA-256 of the verifier's record of it (issuer, type and disclosed claims,
as canonical JSON). ``bedrag`` is the amount as exact decimal text, such
as "264", or null when the step names no amount."""

DMN_TYPES = {
    "boolean": ("boolean",),
    "string": ("string",),
    "number": ("number",),
    "double": ("number",),
    "decimal": ("number",),
    "integer": ("integer",),
    "long": ("integer",),
    "date": ("date",),
}
"""The kind of value each DMN input type takes, to match question types to it."""

ANSWER_KINDS = {
    "yesno": "boolean",
    "choice": "string",
    "text": "string",
    "number": "number",
    "amount": "number",
    "date": "date",
}
"""The kind of value each answer type gives; ``choices`` fits no DMN input."""

CLAIM_PATTERN = re.compile(r"([a-z0-9]+(?:-[a-z0-9]+)*)\.([A-Za-z0-9_-]+)\.(.+)")
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")

LineOf = Callable[[tuple], "int | None"]


class InvalidCheckSettings(StappenError):
    """Settings of a check step that validation would reject."""


@dataclasses.dataclass(frozen=True)
class InputSource:
    """The source of one DMN input's value: a presented claim or an answer."""

    name: str
    claim: tuple[str, str, tuple[str, ...]] | None = None
    """The wallet step id, the credential query id and the claim path."""
    answer: str | None = None
    values: dict | None = None
    """For an answer: the input's value per answer (``"true"``/``"false"`` for
    a yesno question), when the DMN compares another value."""


@dataclasses.dataclass(frozen=True)
class Voucher:
    """The voucher credential an eligible citizen is offered."""

    id: str
    issuer: str
    vct: str
    expires_in: int = DEFAULT_VOUCHER_EXPIRES_IN
    claim_types: ClassVar[tuple[tuple[str, str], ...]] = VOUCHER_CLAIMS
    """The credential's claims, by name and claim type."""

    def issue_settings(self) -> IssueSettings:
        """Return the voucher as an issue step's credential offer."""
        claims = tuple(ClaimSource(name, kind) for name, kind in self.claim_types)
        configuration = CredentialConfiguration(self.id, self.vct, claims)
        return IssueSettings(self.issuer, (configuration,), None, self.expires_in)


@dataclasses.dataclass(frozen=True)
class CheckSettings:
    """A check step's settings, read and validated."""

    rules: Path
    decision: str
    version: str
    valid_from: datetime.date
    valid_to: datetime.date
    inputs: tuple[InputSource, ...]
    eligible_output: str | None = None
    eligible_above: Decimal | None = None
    eligible_one_of: tuple = ()
    amount: str | None = None
    outcomes: dict = dataclasses.field(default_factory=dict)
    voucher: Voucher | None = None

    @property
    def trial(self) -> bool:
        """Tell whether the inputs are answers: an anonymous estimate."""
        return any(source.answer is not None for source in self.inputs)

    @property
    def wallet_step(self) -> str | None:
        """Return the id of the wallet step whose claims are the inputs."""
        for source in self.inputs:
            if source.claim is not None:
                return source.claim[0]
        return None


def read_settings(flow: Flow, step: Step) -> CheckSettings:
    """Turn a check step's settings into a CheckSettings.

    Raises InvalidCheckSettings when validation would report a problem; the
    API only loads flows that validated, so this guards against misuse.
    """
    problems = Problems()
    check_check_step(flow, step, problems, lambda path: step.line)
    if problems.errors:
        listed = "; ".join(problem.message for problem in problems.errors)
        raise InvalidCheckSettings(
            f"step {step.id!r} has invalid check settings: {listed}"
        )
    return _build(flow, step.settings)


def rules_path(flow: Flow, settings: dict) -> Path:
    return (flow.folder / settings["rules"]).resolve()


# Checking, with the flow.


def check_check_step(flow: Flow, step: Step, problems: Problems, line_of: LineOf):
    """Report every problem of a check step's settings into ``problems``.

    Steps of other kinds are left alone. ``line_of`` returns the flow file's
    line of a path under the step, or None.
    """
    if step.kind != "check":
        return
    report = SettingsReport(flow, step, problems, line_of)
    settings = step.settings
    if not isinstance(settings, dict) or not settings:
        report.error((), _no_settings_message(settings))
        return

    report_settings_keys(settings, FIELDS, _REQUIRED_FIX, report)
    _check_version(settings, report)
    _check_dates(settings, report)
    model = _check_rules(flow, settings, report)
    if model is not None and _check_decision(model, settings, report):
        _check_inputs(flow, step, model, settings, report)
        check_decision_outputs(model, settings, report)
    _check_eligible(settings, report)
    _check_amount(settings, report)
    _check_outcomes(flow, settings, report)
    _check_voucher(settings, report)


def _no_settings_message(settings) -> str:
    return (
        "a check step needs settings: at least rules, decision, version, "
        "valid_from, valid_to, inputs and eligible; see docs/check-step.md, got "
        f"{_got(settings)}"
    )


def report_settings_keys(
    settings: dict, fields: tuple, required: dict[str, str], report: SettingsReport
) -> None:
    """Report unknown and missing settings of a step.

    A setting that is not one of ``fields`` is reported with a close match.
    A missing key of ``required`` is reported with its fix, the text that
    ``required`` maps it to.
    """
    for key in settings:
        if key not in fields:
            close = difflib.get_close_matches(str(key), fields, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "remove it"
            report.error((key,), f"unknown setting {key!r}; {hint}")
    for key, fix in required.items():
        if key not in settings:
            report.error((key,), f"setting {key!r} is missing; {fix}")


def report_earlier_step(
    flow: Flow, step: Step, name, kind: str, purpose: str, report: SettingsReport
) -> Step | None:
    """Return the step of ``kind`` called ``name``, or None if there is none.

    Problems are reported under the setting named ``kind``. A step that does
    not come before ``step`` on every path is reported and still returned,
    so the caller can report more about it. ``purpose`` completes the fix,
    such as "whose voucher this step redeems".
    """
    if isinstance(name, str) and name in flow.skipped_steps:
        return None
    target = flow.steps.get(name) if isinstance(name, str) else None
    if target is None or target.kind != kind:
        candidates = [other.id for other in flow.steps.values() if other.kind == kind]
        known = ", ".join(map(repr, candidates)) or "none"
        report.error(
            (kind,),
            f"{_got(name)} is not {with_article(kind)} step of this flow; name "
            f"the {kind} step {purpose} (this flow has: {known})",
        )
        return None
    before = _before(flow, step)
    if before is not None and target.id not in before:
        report.error(
            (kind,),
            f"{kind} step {target.id!r} does not come before step {step.id!r} on "
            "every path; route every path to this step through it",
        )
    return target


def _check_version(settings: dict, report: SettingsReport) -> None:
    version = settings.get("version")
    if "version" in settings and not (isinstance(version, str) and version.strip()):
        report.error(
            ("version",),
            f"expected a text such as '2026-2' (in quotes), got {_got(version)}",
        )


def _check_dates(settings: dict, report: SettingsReport) -> None:
    dates = {}
    for key in ("valid_from", "valid_to"):
        if key not in settings:
            continue
        value = _as_date(settings[key])
        if value is None:
            report.error(
                (key,), f"expected a date as YYYY-MM-DD, got {_got(settings[key])}"
            )
        dates[key] = value
    start, end = dates.get("valid_from"), dates.get("valid_to")
    if start is not None and end is not None and start > end:
        report.error(
            ("valid_to",),
            f"valid_to {end.isoformat()} is before valid_from "
            f"{start.isoformat()}; swap the two dates",
        )


def _as_date(value) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return None
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _check_rules(flow: Flow, settings: dict, report: SettingsReport) -> DmnModel | None:
    name = settings.get("rules")
    if "rules" not in settings:
        return None
    if not isinstance(name, str) or not name.endswith(".dmn"):
        report.error(("rules",), f"expected the name of a .dmn file, got {_got(name)}")
        return None
    folder = flow.folder.resolve()
    path = rules_path(flow, settings)
    if not path.is_relative_to(folder):
        report.error(
            ("rules",),
            f"{name!r} is outside the flow's folder {str(flow.folder)!r}; put "
            "the DMN file in that folder",
        )
        return None
    if not path.is_file():
        report.error(("rules",), f"DMN file {name!r} not found in {str(flow.folder)!r}")
        return None
    try:
        # The flow-relative path, so messages name the file as the author does.
        return load_dmn(flow.folder / name)
    except DmnError as error:
        for problem in error.problems:
            report.error(("rules",), f"invalid DMN file: {problem.location_text()}")
        return None


def _check_decision(model: DmnModel, settings: dict, report: SettingsReport) -> bool:
    decision = settings.get("decision")
    if "decision" not in settings:
        return False
    if decision in model.decision_names:
        return True
    known = ", ".join(repr(name) for name in model.decision_names)
    fix = (
        f"the decisions there are {known}"
        if known
        else "the file defines no decision; export it again from the DMN modeler"
    )
    report.error(
        ("decision",),
        f"decision {decision!r} not found in {settings['rules']!r}; {fix}",
    )
    return False


def _check_inputs(flow, step, model, settings: dict, report: SettingsReport) -> None:
    inputs = settings.get("inputs")
    if not isinstance(inputs, dict) or not inputs:
        report.error(
            ("inputs",),
            "expected a mapping of each input of the decision to {claim: ...} "
            f"or {{answer: ...}}, got {_got(inputs)}",
        )
        return
    required = model.required_inputs(settings["decision"])
    for name in required:
        if name not in inputs:
            report.error(
                ("inputs",),
                f"input {name!r} of decision {settings['decision']!r} has no "
                "source; add it with {claim: ...} or {answer: ...}",
            )
    kinds = set()
    for name, source in inputs.items():
        if name not in required:
            report.error(("inputs", name), _unknown_input_message(name, required))
            continue
        dmn_kind = DMN_TYPES.get(model.input_data[name].type.base)
        kind = _check_source(flow, step, name, source, dmn_kind, report)
        kinds.add(kind)
    if {"claim", "answer"} <= kinds:
        report.error(
            ("inputs",),
            "the inputs mix claims and answers; take every input from claims "
            "of one wallet step, or every input from answers for a trial "
            "calculation",
        )
    _check_one_wallet_step(inputs, report)


def _unknown_input_message(name: str, required: list[str]) -> str:
    close = difflib.get_close_matches(name, required, n=1)
    hint = f"did you mean {close[0]!r}?" if close else "remove it"
    return f"decision has no input {name!r}; {hint}"


def _check_source(flow, step, name, source, dmn_kind, report) -> str | None:
    if not isinstance(source, dict) or len(set(source) & {"claim", "answer"}) != 1:
        report.error(
            ("inputs", name),
            "expected {claim: <wallet step>.<credential id>.<claim>} or "
            f"{{answer: <question id>}}, got {_got(source)}",
        )
        return None
    unknown = set(source) - {"claim", "answer", "values"}
    if unknown or ("values" in source and "claim" in source):
        report.error(
            ("inputs", name),
            f"unknown keys {', '.join(sorted(map(str, unknown or {'values'})))}; "
            "a claim takes only 'claim', an answer 'answer' and 'values'",
        )
        return None
    if "claim" in source:
        _check_claim(flow, step, name, source["claim"], report)
        return "claim"
    _check_answer(flow, step, name, source, dmn_kind, report)
    return "answer"


def _check_claim(flow: Flow, step: Step, name: str, claim, report) -> None:
    path = ("inputs", name, "claim")
    match = CLAIM_PATTERN.fullmatch(claim) if isinstance(claim, str) else None
    if match is None:
        report.error(
            path,
            "expected <wallet step>.<credential id>.<claim path>, such as "
            f"gegevens-delen.inkomen.netto_per_maand, got {_got(claim)}",
        )
        return
    step_id, query_id, claim_path = match.groups()
    if step_id in flow.skipped_steps:
        return
    wallet = flow.steps.get(step_id)
    if wallet is None or wallet.kind != "wallet" or not _presents(wallet):
        report.error(
            path,
            f"step {step_id!r} is not a wallet step of purpose present; name "
            "the wallet step that asks for the claim",
        )
        return
    before = _before(flow, step)
    if before is not None and step_id not in before:
        report.error(
            path,
            f"wallet step {step_id!r} does not come before step {step.id!r} on "
            "every path; route every path to this check through it",
        )
        return
    _check_claim_in_query(wallet, query_id, tuple(claim_path.split(".")), path, report)


def _presents(wallet: Step) -> bool:
    settings = wallet.settings
    return isinstance(settings, dict) and settings.get("purpose") == "present"


def _check_claim_in_query(wallet, query_id, claim_path, path, report) -> None:
    if settings_problems(wallet.settings):
        return
    queries = {q["id"]: q for q in wallet.settings["query"]["credentials"]}
    query = queries.get(query_id)
    if query is None:
        report.error(
            path,
            f"wallet step {wallet.id!r} asks for no credential {query_id!r}; its "
            f"credentials are {', '.join(map(repr, queries))}",
        )
        return
    asked = [tuple(claim["path"]) for claim in query.get("claims", [])]
    if asked and claim_path not in asked:
        listed = ", ".join(".".join(map(str, p)) for p in asked)
        report.error(
            path,
            f"credential {query_id!r} of wallet step {wallet.id!r} does not ask "
            f"for claim {'.'.join(claim_path)!r}; it asks for {listed}; add the "
            "claim to that step's query",
        )


def _before(flow: Flow, step: Step) -> set[str] | None:
    """Return the steps on every path from the start to ``step``.

    Returns None while a skipped step or a missing route target leaves the
    paths unknown, so that callers report nothing about them yet.
    """
    from stappen.checks import paths_known, steps_before

    if not paths_known(flow):
        return None
    return steps_before(flow).get(step.id, set())


def _check_answer(flow, step, name, source, dmn_kind, report) -> None:
    path = ("inputs", name, "answer")
    if source["answer"] in flow.skipped_steps:
        return
    question = flow.steps.get(source["answer"])
    if question is None or question.kind != "question":
        report.error(
            path,
            f"{source['answer']!r} is not a question step of this flow; use "
            "the id of a question asked before this step",
        )
        return
    before = _before(flow, step)
    if before is not None and question.id not in before:
        report.error(
            path,
            f"question {question.id!r} is not asked on every path to step "
            f"{step.id!r}; ask it on every path before this step",
        )
        return
    if "values" in source:
        _check_values(question, name, source["values"], dmn_kind, report)
        return
    kind = ANSWER_KINDS.get(question.answer.type)
    if question.answer.type == "number" and question.answer.integer:
        kind = "integer"
    if dmn_kind is not None and not _fits(kind, dmn_kind[0]):
        report.error(
            path,
            f"question {question.id!r} is {with_article(question.answer.type)} "
            f"question, which gives {with_article(kind or 'list')}, but input "
            f"{name!r} needs {with_article(dmn_kind[0])}; map its answers with "
            "'values' or take another question",
        )


def _fits(kind: str | None, needed: str) -> bool:
    return kind == needed or (kind == "integer" and needed == "number")


def _check_values(question, name, values, dmn_kind, report) -> None:
    path = ("inputs", name, "values")
    answer = question.answer
    if answer.type == "yesno":
        expected = ["true", "false"]
    elif answer.type == "choice":
        expected = [option.value for option in answer.options]
    else:
        report.error(
            path,
            f"'values' maps the answers of a yesno or choice question; "
            f"question {question.id!r} is {with_article(answer.type)} question",
        )
        return
    if not isinstance(values, dict) or set(values) != set(expected):
        shown = ", ".join(_shown(value) for value in expected)
        report.error(
            path, f"expected one value for each answer: {shown}, got {_got(values)}"
        )
        return
    for key, value in values.items():
        if dmn_kind is not None and _kind_of(value) != dmn_kind[0]:
            report.error(
                (*path, key),
                f"input {name!r} needs {with_article(dmn_kind[0])}, got {_got(value)}",
            )


def _shown(value) -> str:
    return repr(value)


def value_key(answer) -> str:
    """Return the key of ``answer`` in an input's ``values`` mapping."""
    if isinstance(answer, bool):
        return "true" if answer else "false"
    return answer if isinstance(answer, str) else repr(answer)


def answer_inputs(settings: CheckSettings, answers: dict) -> dict:
    """Return a trial check's DMN inputs from ``answers``, mapped by ``values``.

    Raises KeyError for a missing answer: validate the answers first.
    """
    inputs = {}
    for source in settings.inputs:
        value = answers[source.answer]
        if source.values is not None:
            value = source.values[value_key(value)]
        inputs[source.name] = value
    return inputs


def _kind_of(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "other"


def _check_one_wallet_step(inputs: dict, report: SettingsReport) -> None:
    steps = set()
    for source in inputs.values():
        claim = source.get("claim") if isinstance(source, dict) else None
        match = CLAIM_PATTERN.fullmatch(claim) if isinstance(claim, str) else None
        if match:
            steps.add(match.group(1))
    if len(steps) > 1:
        report.error(
            ("inputs",),
            f"the claims come from several wallet steps ({', '.join(sorted(steps))}); "
            "take them all from one, so one presentation decides",
        )


def _check_eligible(settings: dict, report: SettingsReport) -> None:
    eligible = settings.get("eligible")
    if eligible is None:
        report.error(
            ("eligible",),
            "setting 'eligible' is missing; say which outcomes mean eligible, "
            "such as {above: 0} or {one_of: [ja]}",
        )
        return
    if not isinstance(eligible, dict) or len(set(eligible) & {"above", "one_of"}) != 1:
        report.error(
            ("eligible",),
            f"expected {{above: <number>}} or {{one_of: [...]}}, with an "
            f"optional output, got {_got(eligible)}",
        )
        return
    for key in eligible:
        if key not in ELIGIBLE_FIELDS:
            report.error(("eligible", key), f"unknown key {key!r}; remove it")
    above = eligible.get("above")
    if "above" in eligible and (isinstance(above, bool) or not _is_number(above)):
        report.error(("eligible", "above"), f"expected a number, got {_got(above)}")
    one_of = eligible.get("one_of")
    if "one_of" in eligible and (not isinstance(one_of, list) or not one_of):
        report.error(
            ("eligible", "one_of"), f"expected a list of values, got {_got(one_of)}"
        )
    _check_output_name(eligible.get("output"), ("eligible", "output"), report)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and value == value


def _check_amount(settings: dict, report: SettingsReport) -> None:
    if "amount" in settings:
        _check_output_name(settings["amount"], ("amount",), report, value=True)


def _check_output_name(name, path: tuple, report: SettingsReport, value=False) -> None:
    if name is None and not value:
        return
    if not isinstance(name, str) or not name:
        expected = "'value' or the name of an output" if value else "an output name"
        report.error(path, f"expected {expected}, got {_got(name)}")


def _check_outcomes(flow: Flow, settings: dict, report: SettingsReport) -> None:
    outcomes = settings.get("outcomes")
    if outcomes is None:
        return
    if not isinstance(outcomes, dict):
        report.error(
            ("outcomes",),
            f"expected a mapping of eligible and not_eligible to texts, got "
            f"{_got(outcomes)}",
        )
        return
    for key, texts in outcomes.items():
        if key not in OUTCOMES:
            report.error(
                ("outcomes", key),
                f"unknown outcome {key!r}; use eligible or not_eligible",
            )
            continue
        missing = [lang for lang in flow.languages if not _has_text(texts, lang)]
        if missing:
            report.error(
                ("outcomes", key),
                f"the text is missing in {', '.join(missing)}; give it in every "
                "language of the flow",
            )


def _has_text(texts, lang: str) -> bool:
    return isinstance(texts, dict) and isinstance(texts.get(lang), str)


def _check_voucher(settings: dict, report: SettingsReport) -> None:
    voucher = settings.get("voucher")
    inputs = settings.get("inputs")
    trial = isinstance(inputs, dict) and any(
        isinstance(source, dict) and "answer" in source for source in inputs.values()
    )
    if voucher is None:
        return
    if trial:
        report.error(
            ("voucher",),
            "a trial calculation from answers never gives a voucher; remove "
            "'voucher', or take the inputs from a wallet step's claims",
        )
        return
    if not isinstance(voucher, dict):
        report.error(("voucher",), f"expected id, issuer and vct, got {_got(voucher)}")
        return
    check_credential_fields(voucher, report, "voucher")


def check_credential_fields(
    credential: dict, report: SettingsReport, field: str
) -> None:
    """Report the problems of a credential that a step offers, under ``field``.

    The voucher of a check step and the decision credential of a decision
    step take the same keys: id, issuer, vct and expires_in.
    """
    for key in credential:
        if key not in VOUCHER_FIELDS:
            report.error((field, key), f"unknown key {key!r}; remove it")
    checks = {
        "id": (ID_PATTERN, "an id of letters, digits, '_' or '-'"),
        "issuer": (ISSUER_PATTERN, "an https:// address"),
        "vct": (VCT_PATTERN, "a credential type such as urn:example:voucher"),
    }
    for key, (pattern, expected) in checks.items():
        value = credential.get(key)
        if not (isinstance(value, str) and pattern.fullmatch(value)):
            report.error((field, key), f"expected {expected}, got {_got(value)}")
    expires_in = credential.get("expires_in", DEFAULT_VOUCHER_EXPIRES_IN)
    if not (
        isinstance(expires_in, int)
        and not isinstance(expires_in, bool)
        and MIN_EXPIRES_IN <= expires_in <= MAX_EXPIRES_IN
    ):
        report.error(
            (field, "expires_in"),
            f"expected whole seconds from {MIN_EXPIRES_IN} to {MAX_EXPIRES_IN}, "
            f"got {_got(expires_in)}",
        )


def _got(value) -> str:
    return describe(None, (), value)


# Building the typed settings from valid ones.


def _build(flow: Flow, settings: dict) -> CheckSettings:
    eligible = settings["eligible"]
    above = eligible.get("above")
    voucher = settings.get("voucher")
    return CheckSettings(
        rules=rules_path(flow, settings),
        decision=settings["decision"],
        version=settings["version"],
        valid_from=_as_date(settings["valid_from"]),
        valid_to=_as_date(settings["valid_to"]),
        inputs=tuple(_build_input(n, s) for n, s in settings["inputs"].items()),
        eligible_output=eligible.get("output"),
        eligible_above=None if above is None else Decimal(str(above)),
        eligible_one_of=tuple(eligible.get("one_of", ())),
        amount=settings.get("amount"),
        outcomes=settings.get("outcomes", {}),
        voucher=None if voucher is None else Voucher(**voucher),
    )


def _build_input(name: str, source: dict) -> InputSource:
    if "claim" in source:
        step_id, query_id, claim_path = CLAIM_PATTERN.fullmatch(
            source["claim"]
        ).groups()
        return InputSource(
            name, claim=(step_id, query_id, tuple(claim_path.split(".")))
        )
    return InputSource(name, answer=source["answer"], values=source.get("values"))
