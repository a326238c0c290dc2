"""The settings of an application step: which check's voucher it redeems.

An application step requests from the citizen's wallet the voucher of a check
step, together with the credentials that the check read its inputs from,
so the municipality can recompute the check and compare. A consultant of
``municipality`` then reviews the application. docs/application-step.md
describes the settings for authors.

:func:`check_application_step` reports every problem of one step's
settings during validation, :func:`read_settings` turns valid settings
into an ApplicationSettings, and :func:`present_settings` derives the
wallet request of the step's sessions.
"""

from __future__ import annotations

import dataclasses
import re

from stappen import checkstep, walletstep
from stappen.checkstep import (
    VOUCHER_CLAIMS,
    CheckSettings,
    LineOf,
    report_earlier_step,
    report_settings_keys,
)
from stappen.consultant.accounts import MUNICIPALITY_PATTERN
from stappen.errors import Problems, StappenError
from stappen.model import Flow, Step
from stappen.walletstep import RESPONSE_MODES, PresentSettings, SettingsReport
from stappen.yamlload import describe

FIELDS = ("check", "municipality", "reference_prefix", "response_mode")
VOUCHER_QUERY_ID = "voucher"
"""The credential query id of the voucher in an application step's request."""

PREFIX_PATTERN = re.compile(r"[A-Z]{1,8}")
DEFAULT_RESPONSE_MODE = "direct_post.jwt"

_REQUIRED_FIX = {
    "check": "give the id of the check step whose voucher this step redeems",
    "municipality": "give the id of the municipality whose consultants review "
    "the applications, such as utrecht",
}
"""The required settings, each with the fix for its absence."""


class InvalidApplicationSettings(StappenError):
    """Settings of an application step that validation would reject."""


@dataclasses.dataclass(frozen=True)
class ApplicationSettings:
    """An application step's settings, read and validated."""

    check: str
    """The id of the check step whose voucher the step redeems."""
    municipality: str
    reference_prefix: str
    """Capital letters that start each application's reference, such as VIL."""
    response_mode: str = DEFAULT_RESPONSE_MODE


def read_settings(flow: Flow, step: Step) -> ApplicationSettings:
    """Turn an application step's settings into an ApplicationSettings.

    Raises InvalidApplicationSettings when validation would report a
    problem; the API only loads flows that validated, so this guards
    against misuse.
    """
    problems = Problems()
    check_application_step(flow, step, problems, lambda path: step.line)
    if problems.errors:
        listed = "; ".join(problem.message for problem in problems.errors)
        raise InvalidApplicationSettings(
            f"step {step.id!r} has invalid application settings: {listed}"
        )
    settings = step.settings
    return ApplicationSettings(
        check=settings["check"],
        municipality=settings["municipality"],
        reference_prefix=settings.get("reference_prefix", default_prefix(flow.id)),
        response_mode=settings.get("response_mode", DEFAULT_RESPONSE_MODE),
    )


def default_prefix(flow_id: str) -> str:
    """Return the reference prefix of a flow: the first 8 letters of its id."""
    letters = "".join(char for char in flow_id.upper() if "A" <= char <= "Z")
    return letters[:8] or "APP"


def check_settings(flow: Flow, settings: ApplicationSettings) -> CheckSettings:
    """Return the settings of the check step whose voucher is redeemed."""
    return checkstep.read_settings(flow, flow.steps[settings.check])


def present_settings(flow: Flow, settings: ApplicationSettings) -> PresentSettings:
    """Derive the wallet request of an application step's sessions.

    It requests the voucher (credential query id ``voucher``, every voucher
    claim) and for each credential that the check's inputs read, with the
    query of the check's wallet step unchanged, so the wallet presents the
    same disclosures and their digests can match the voucher's. It trusts
    the wallet step's issuers and the voucher's issuer.
    """
    check = check_settings(flow, settings)
    wallet = walletstep.read_settings(flow.steps[check.wallet_step])
    used = {source.claim[1] for source in check.inputs if source.claim is not None}
    credentials = [_voucher_query(check.voucher.vct)] + [
        query for query in wallet.query["credentials"] if query["id"] in used
    ]
    trusted = dict.fromkeys((*wallet.trusted_issuers, check.voucher.issuer))
    return PresentSettings(
        query={"credentials": credentials},
        trusted_issuers=tuple(trusted),
        expires_in=wallet.expires_in,
        response_mode=settings.response_mode,
    )


def _voucher_query(vct: str) -> dict:
    return {
        "id": VOUCHER_QUERY_ID,
        "format": "dc+sd-jwt",
        "meta": {"vct_values": [vct]},
        "claims": [{"path": [name]} for name, _ in VOUCHER_CLAIMS],
    }


# Checking, with the flow.


def check_application_step(
    flow: Flow, step: Step, problems: Problems, line_of: LineOf
) -> None:
    """Report every problem of an application step's settings into ``problems``.

    Steps of other kinds are left alone. ``line_of`` returns the flow file's
    line of a path under the step, or None.
    """
    if step.kind != "application":
        return
    report = SettingsReport(flow, step, problems, line_of)
    settings = step.settings
    if not isinstance(settings, dict) or not settings:
        report.error(
            (),
            "an application step needs settings: at least check and "
            f"municipality; see docs/application-step.md, got {_got(settings)}",
        )
        return

    report_settings_keys(settings, FIELDS, _REQUIRED_FIX, report)
    if "check" in settings:
        _check_check(flow, step, settings["check"], report)
    _check_municipality(settings, report)
    _check_prefix(settings, report)
    mode = settings.get("response_mode", DEFAULT_RESPONSE_MODE)
    if mode not in RESPONSE_MODES:
        report.error(
            ("response_mode",),
            f"expected direct_post or direct_post.jwt, got {_got(mode)}",
        )


def _check_check(flow: Flow, step: Step, name, report: SettingsReport) -> None:
    purpose = "whose voucher this step redeems"
    target = report_earlier_step(flow, step, name, "check", purpose, report)
    if target is not None:
        _check_voucher_of(flow, target, report)


def _check_voucher_of(flow: Flow, target: Step, report: SettingsReport) -> None:
    """Report a check step that gives no voucher to redeem."""
    try:
        check = checkstep.read_settings(flow, target)
    except checkstep.InvalidCheckSettings:
        return  # The check step's own problems are reported at that step.
    if check.trial:
        report.error(
            ("check",),
            f"check step {target.id!r} is a trial calculation from answers, "
            "which gives no voucher; name a check step that reads claims",
        )
    elif check.voucher is None:
        report.error(
            ("check",),
            f"check step {target.id!r} offers no voucher; add 'voucher' to its "
            "settings, or name a check step that offers one",
        )
    elif _asks_for_voucher_id(flow, check):
        report.error(
            ("check",),
            f"wallet step {check.wallet_step!r} has a credential query with id "
            f"{VOUCHER_QUERY_ID!r}, which this step uses for the voucher; "
            "rename that credential query",
        )


def _asks_for_voucher_id(flow: Flow, check: CheckSettings) -> bool:
    query = flow.steps[check.wallet_step].settings["query"]
    return any(c.get("id") == VOUCHER_QUERY_ID for c in query["credentials"])


def _check_municipality(settings: dict, report: SettingsReport) -> None:
    value = settings.get("municipality")
    if "municipality" in settings and not _matches(MUNICIPALITY_PATTERN, value):
        report.error(
            ("municipality",),
            "expected a lowercase id of up to 64 letters, digits and '-', "
            f"such as utrecht, got {_got(value)}",
        )


def _check_prefix(settings: dict, report: SettingsReport) -> None:
    value = settings.get("reference_prefix")
    if "reference_prefix" in settings and not _matches(PREFIX_PATTERN, value):
        report.error(
            ("reference_prefix",),
            f"expected 1 to 8 capital letters A-Z, such as VIL, got {_got(value)}",
        )


def _matches(pattern: re.Pattern, value) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _got(value) -> str:
    return describe(None, (), value)
