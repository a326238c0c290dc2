"""The settings of a decision step: whose decision it shows, and as what credential.

A decision step shows the citizen the decision on the application made at
an application step of the same flow, and offers that decision as a
credential through the pilot issuer. docs/decision-step.md describes the
settings for authors.

:func:`check_decision_step` reports every problem of one step's settings
during validation. :func:`read_settings` turns valid settings into the
frozen objects the API works with.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from stappen.checkstep import (
    LineOf,
    Voucher,
    check_credential_fields,
    report_earlier_step,
    report_settings_keys,
)
from stappen.errors import Problems, StappenError
from stappen.model import Flow, Step
from stappen.walletstep import SettingsReport
from stappen.yamlload import describe

FIELDS = ("application", "credential")
_REQUIRED_FIX = {
    "application": "give the id of the application step whose decision this step shows",
    "credential": "give the decision credential's id, issuer and vct",
}
"""The required settings, each with the fix for its absence."""

DECISION_CLAIMS = (
    ("referentie", "string"),
    ("regeling", "string"),
    ("besluit", "string"),
    ("bedrag", "string"),
    ("motivering", "string"),
    ("besloten_op", "date"),
    ("gemeente", "string"),
    ("regels_versie", "string"),
    ("regels_sha256", "string"),
    ("voucher_id", "string"),
)
"""The claims of a decision credential, by name and claim type.

``besluit`` is ``toegekend`` (granted) or ``afgewezen`` (rejected), and
``bedrag`` the granted amount as exact decimal text, or null.
``besloten_op`` is the day of the decision in the Netherlands.
``regels_versie`` and ``regels_sha256`` name the rules of the voucher the
citizen applied with, and ``voucher_id`` is that voucher's ``besluit_id``.
These three are null once the application's record is erased."""

DECISION_WORDS = {"granted": "toegekend", "rejected": "afgewezen"}
"""The value of the ``besluit`` claim per decision outcome."""


class InvalidDecisionSettings(StappenError):
    """Settings of a decision step that validation would reject."""


@dataclasses.dataclass(frozen=True)
class DecisionCredential(Voucher):
    """The credential that carries the decision to the citizen's wallet.

    It is offered as a check step's voucher is, with the decision's claims.
    """

    claim_types: ClassVar[tuple[tuple[str, str], ...]] = DECISION_CLAIMS


@dataclasses.dataclass(frozen=True)
class DecisionSettings:
    """A decision step's settings, read and validated."""

    application: str
    """The id of the application step whose decision the step shows."""
    credential: DecisionCredential


def read_settings(flow: Flow, step: Step) -> DecisionSettings:
    """Turn a decision step's settings into a DecisionSettings.

    Raises InvalidDecisionSettings when validation would report a problem;
    the API only loads flows that validated, so this guards against misuse.
    """
    problems = Problems()
    check_decision_step(flow, step, problems, lambda path: step.line)
    if problems.errors:
        messages = [problem.message for problem in problems.errors]
        raise InvalidDecisionSettings(
            f"step {step.id!r} has invalid decision settings: " + "; ".join(messages)
        )
    settings = step.settings
    return DecisionSettings(
        application=settings["application"],
        credential=DecisionCredential(**settings["credential"]),
    )


def decision_step_for(flow: Flow, application_step: str) -> Step | None:
    """Return the decision step that shows the decisions of ``application_step``."""
    for step in flow.steps.values():
        settings = step.settings if step.kind == "decision" else None
        if isinstance(settings, dict) and settings.get("application") == (
            application_step
        ):
            return step
    return None


def check_decision_step(
    flow: Flow, step: Step, problems: Problems, line_of: LineOf
) -> None:
    """Report every problem of a decision step's settings into ``problems``.

    Like checkstep.check_check_step, it leaves steps of other kinds alone.
    """
    settings = step.settings
    if step.kind != "decision":
        return
    report = SettingsReport(flow, step, problems, line_of)
    if not isinstance(settings, dict) or not settings:
        report.error(
            (),
            "a decision step needs settings: application and credential; see "
            f"docs/decision-step.md, got {_got(settings)}",
        )
        return

    report_settings_keys(settings, FIELDS, _REQUIRED_FIX, report)
    if "application" in settings:
        _check_application(flow, step, settings["application"], report)
    credential = settings.get("credential")
    if isinstance(credential, dict):
        check_credential_fields(credential, report, "credential")
        _check_credential_id(flow, credential.get("id"), report)
    elif "credential" in settings:
        report.error(
            ("credential",),
            f"expected id, issuer and vct, got {_got(credential)}",
        )


def _check_application(flow: Flow, step: Step, name, report) -> None:
    purpose = "whose decision this step shows"
    target = report_earlier_step(flow, step, name, "application", purpose, report)
    first = None if target is None else decision_step_for(flow, target.id)
    if first is not None and first.id != step.id:
        report.error(
            ("application",),
            f"step {first.id!r} already shows the decisions of application step "
            f"{target.id!r}; keep one decision step per application step",
        )


def _check_credential_id(flow: Flow, credential_id, report) -> None:
    """Report a decision credential id that an issue step or a voucher has.

    The pilot issuer publishes one credential configuration per id, so such
    a flow would make its metadata and every issuance fail.
    """
    # NOTE: A clash with a step of another flow is found only when the API
    # builds its issuer metadata.
    for other in flow.steps.values():
        settings = other.settings if isinstance(other.settings, dict) else {}
        offered = [settings.get("voucher")] if other.kind == "check" else []
        if other.kind == "wallet" and settings.get("purpose") == "issue":
            credentials = settings.get("credentials")
            offered = credentials if isinstance(credentials, list) else []
        ids = [item.get("id") for item in offered if isinstance(item, dict)]
        if isinstance(credential_id, str) and credential_id in ids:
            report.error(
                ("credential", "id"),
                f"step {other.id!r} issues a credential with id "
                f"{credential_id!r} too; give the decision credential its own id",
            )


def _got(value) -> str:
    return describe(None, (), value)
