"""The settings of a wallet step: what it requests from the citizen's wallet.

A wallet step has one of two purposes. ``present`` requests the wallet app to
present SD-JWT VCs, with a DCQL query, through OpenID for Verifiable
Presentations 1.0. ``issue`` offers SD-JWT VCs for the wallet to receive,
through OpenID for Verifiable Credential Issuance 1.0 with a pre-authorized
code. docs/wallet-step.md describes the settings for authors.

:func:`check_wallet_step` reports every problem of one step's settings, with
the field's path under the step, during validation. :func:`read_settings`
turns valid settings into the frozen objects the API works with.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import re
from collections.abc import Callable, Iterator
from typing import ClassVar

from stappen import dcql
from stappen.errors import Problems, StappenError, with_article
from stappen.model import Flow, Step
from stappen.yamlload import describe

PURPOSES = ("present", "issue")
PRESENT_FIELDS = ("purpose", "query", "trusted_issuers", "expires_in", "response_mode")
ISSUE_FIELDS = ("purpose", "issuer", "credentials", "tx_code", "expires_in")
CREDENTIAL_FIELDS = ("id", "vct", "claims")
CLAIM_FIELDS = ("type", "answer", "persona")
TX_CODE_FIELDS = ("length", "input_mode")

RESPONSE_MODES = ("direct_post", "direct_post.jwt")
INPUT_MODES = ("numeric", "text")
CLAIM_TYPES = ("boolean", "integer", "number", "string", "date", "array")

DEFAULT_EXPIRES_IN = 300
MIN_EXPIRES_IN, MAX_EXPIRES_IN = 60, 900
"""Seconds a request or an offer stays valid: long enough to find the phone
and scan the QR code, short enough that a code left on a screen expires."""

DEFAULT_TX_CODE_LENGTH = 6
MIN_TX_CODE_LENGTH, MAX_TX_CODE_LENGTH = 4, 8
"""Digits of a transaction code: fewer are easy to guess, more are hard to type."""

RESERVED_CLAIMS = frozenset({"iss", "sub", "iat", "nbf", "exp", "cnf", "vct", "status"})
"""Registered JWT and SD-JWT VC claims: issuer, subject, times, holder key, type
and status. The issuer sets these itself, so a flow cannot define them."""

ISSUER_PATTERN = re.compile(r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s?#]*)?")
VCT_PATTERN = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+|https://\S+")
CLAIM_NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
PERSONA_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
STEP_ID_PATTERN = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")

MISSING = {
    "purpose": "use 'purpose: present' or 'purpose: issue'",
    "query": (
        "write under 'query' a DCQL query that names the credentials and claims "
        "to ask for"
    ),
    "trusted_issuers": (
        "list under 'trusted_issuers' the issuers whose credentials this step "
        "accepts, as https:// addresses"
    ),
    "issuer": (
        "give under 'issuer' the identifier of the issuer that signs the "
        "credentials, an https:// address"
    ),
    "credentials": (
        "list under 'credentials' the credentials to issue, each with id, vct "
        "and claims"
    ),
    "id": (
        "give the credential an id of letters, digits, '_' or '-'; the wallet "
        "receives it as the credential configuration id"
    ),
    "vct": "give the credential type, such as urn:example:inkomen",
    "claims": (
        "map each claim name to the source of its value, such as "
        "netto_per_maand: {type: number, persona: inkomen.netto_per_maand}"
    ),
    "type": f"use one of {', '.join(CLAIM_TYPES)}",
}
"""The fix for each required setting when it is missing, by the setting's name."""

ANSWER_VALUES = {
    "yesno": ("true or false", ("boolean",)),
    "choice": ("the value of one option, a text", ("string",)),
    "choices": ("a list of option values", ("array",)),
    "number": ("a number", ("number",)),
    "amount": ("an amount of euros, a number", ("number",)),
    "date": ("a date", ("date",)),
    "text": ("a text", ("string",)),
}
"""Per answer type: what the citizen's answer is, and the claim types it fits."""

Found = list[tuple[tuple, str]]
LineOf = Callable[[tuple], "int | None"]


class InvalidSettings(StappenError):
    """Settings of a wallet step that validation would reject."""

    def __init__(self, step_id: str, problems: Found) -> None:
        self.problems = problems
        listed = "; ".join(f"{_field(path)}: {message}" for path, message in problems)
        super().__init__(f"step {step_id!r} has invalid wallet settings: {listed}")


@dataclasses.dataclass(frozen=True)
class PresentSettings:
    """A request for the wallet to present credentials."""

    purpose: ClassVar[str] = "present"
    query: dict
    """The DCQL query, sent to the wallet as ``dcql_query``."""
    trusted_issuers: tuple[str, ...]
    """Issuer identifiers; the API's configuration gives each one's keys."""
    expires_in: int = DEFAULT_EXPIRES_IN
    response_mode: str = "direct_post"


@dataclasses.dataclass(frozen=True)
class ClaimSource:
    """A claim of an issued credential and where its value comes from."""

    name: str
    type: str
    answer: str | None = None
    """The id of the question whose answer is the value."""
    persona: str | None = None
    """The dotted name of the pilot persona's field that contains the value."""


@dataclasses.dataclass(frozen=True)
class CredentialConfiguration:
    """One credential to issue: its configuration id, type and claims."""

    id: str
    vct: str
    claims: tuple[ClaimSource, ...]


@dataclasses.dataclass(frozen=True)
class TxCode:
    """The transaction code a citizen types in the wallet to receive credentials."""

    length: int = DEFAULT_TX_CODE_LENGTH
    input_mode: str = "numeric"


@dataclasses.dataclass(frozen=True)
class IssueSettings:
    """An offer of credentials for the wallet to receive."""

    purpose: ClassVar[str] = "issue"
    issuer: str
    """The identifier of the issuer that signs, resolved to keys by the API."""
    credentials: tuple[CredentialConfiguration, ...]
    tx_code: TxCode | None = None
    expires_in: int = DEFAULT_EXPIRES_IN


WalletStepSettings = PresentSettings | IssueSettings


def read_settings(step: Step) -> WalletStepSettings:
    """Turn a wallet step's settings into typed objects.

    Raises InvalidSettings with every problem when the settings are invalid.
    Checks that need the whole flow, such as answers asked before the step,
    are left to :func:`check_wallet_step`.
    """
    found = settings_problems(step.settings)
    if found:
        raise InvalidSettings(step.id, found)
    return _build(step.settings)


def settings_problems(settings) -> Found:
    """Check a wallet step's settings on their own, without the flow.

    Returns (path under ``settings``, message) pairs; an empty list means
    the settings are valid.
    """
    if not isinstance(settings, dict) or not settings:
        message = (
            "a wallet step needs settings: 'purpose: present' asks the wallet "
            "for credentials and 'purpose: issue' puts credentials in it; add "
            f"settings with a purpose, got {_got(settings)}"
        )
        return [((), message)]
    found: Found = []
    if not _has(settings, "purpose", (), found):
        return found
    purpose = settings["purpose"]
    if purpose not in PURPOSES:
        return [(("purpose",), f"expected present or issue, got {_got(purpose)}")]

    if purpose == "present":
        _check_present(settings, found)
    else:
        _check_issue(settings, found)
    return found


def check_wallet_step(flow: Flow, step: Step, problems: Problems, line_of: LineOf):
    """Report every problem of a wallet step's settings into ``problems``.

    ``line_of`` returns the line of a path under the step, such as
    ``("settings", "query", "credentials", 0, "id")``, or None; the step's
    own line is used then. Steps of other kinds are left alone.
    """
    if step.kind != "wallet":
        return
    report = SettingsReport(flow, step, problems, line_of)
    found = settings_problems(step.settings)
    for path, message in found:
        report.error(path, message)

    purpose = step.settings.get("purpose") if isinstance(step.settings, dict) else None
    if purpose == "issue":
        _check_answer_sources(flow, step, report)
    elif purpose == "present" and not found:
        _check_against_issue_steps(flow, _build(step.settings), report)


@dataclasses.dataclass
class SettingsReport:
    """Places problems of one step's settings in the flow file."""

    flow: Flow
    step: Step
    problems: Problems
    line_of: LineOf

    def error(self, path: tuple, message: str) -> None:
        self._add(self.problems.error, path, message)

    def warning(self, path: tuple, message: str) -> None:
        self._add(self.problems.warning, path, message)

    def _add(self, add, path: tuple, message: str) -> None:
        full = ("settings", *path)
        line = self.line_of(full) or self.step.line
        add(self.flow.file, line, message, step=self.step.id, field=_field(full))


# Checking the settings of purpose present.


def _check_present(settings: dict, found: Found) -> None:
    _check_unknown(settings, PRESENT_FIELDS, found, purpose="present")
    if _has(settings, "query", (), found):
        for path, message in dcql.check_query(settings["query"]):
            found.append((("query", *path), message))
    _check_trusted_issuers(settings, found)
    _check_expires_in(settings, found)
    mode = settings.get("response_mode", RESPONSE_MODES[0])
    if mode not in RESPONSE_MODES:
        message = f"expected direct_post or direct_post.jwt, got {_got(mode)}"
        found.append((("response_mode",), message))


def _check_trusted_issuers(settings: dict, found: Found) -> None:
    if not _has(settings, "trusted_issuers", (), found):
        return
    here = ("trusted_issuers",)
    issuers = settings["trusted_issuers"]
    if not isinstance(issuers, list) or not issuers:
        message = (
            f"expected a non-empty list of issuer identifiers, got {_got(issuers)}"
        )
        found.append((here, message))
        return

    _check_issuer_list(issuers, here, found)


def _check_issuer_list(issuers: list, path: tuple, found: Found) -> None:
    seen = set()
    for index, issuer in enumerate(issuers):
        if not _is_issuer(issuer):
            found.append(((*path, index), _issuer_message(issuer)))
        elif issuer in seen:
            message = f"issuer {issuer!r} appears twice; remove one"
            found.append(((*path, index), message))
        seen.add(issuer if isinstance(issuer, str) else None)


def _check_expires_in(settings: dict, found: Found) -> None:
    value = settings.get("expires_in", DEFAULT_EXPIRES_IN)
    if _is_whole_number(value, MIN_EXPIRES_IN, MAX_EXPIRES_IN):
        return
    message = (
        f"expected a whole number of seconds from {MIN_EXPIRES_IN} to "
        f"{MAX_EXPIRES_IN}, got {_got(value)}"
    )
    found.append((("expires_in",), message))


# Checking the settings of purpose issue.


def _check_issue(settings: dict, found: Found) -> None:
    _check_unknown(settings, ISSUE_FIELDS, found, purpose="issue")
    if _has(settings, "issuer", (), found) and not _is_issuer(settings["issuer"]):
        found.append((("issuer",), _issuer_message(settings["issuer"])))
    _check_credentials(settings, found)
    if "tx_code" in settings:
        _check_tx_code(settings["tx_code"], found)
    _check_expires_in(settings, found)


def _check_credentials(settings: dict, found: Found) -> None:
    if not _has(settings, "credentials", (), found):
        return
    here = ("credentials",)
    credentials = settings["credentials"]
    if not isinstance(credentials, list) or not credentials:
        message = f"expected a non-empty list of credentials, got {_got(credentials)}"
        found.append((here, message))
        return

    seen: dict[str, set] = {"id": set(), "vct": set()}
    for index, credential in enumerate(credentials):
        _check_credential(credential, (*here, index), seen, found)


def _check_credential(credential, path: tuple, seen: dict, found: Found) -> None:
    if not isinstance(credential, dict):
        message = (
            "expected a credential: a mapping with id, vct and claims, got "
            f"{_got(credential)}"
        )
        found.append((path, message))
        return

    _check_unknown(credential, CREDENTIAL_FIELDS, found, path)
    _check_configuration_id(credential, path, seen["id"], found)
    _check_vct(credential, path, seen["vct"], found)
    _check_claim_sources(credential, path, found)


def _check_configuration_id(credential: dict, path: tuple, seen: set, found) -> None:
    if not _has(credential, "id", path, found):
        return
    here = (*path, "id")
    value = credential["id"]
    if not _matches(dcql.ID_PATTERN, value):
        message = f"expected an id of letters, digits, '_' or '-', got {_got(value)}"
        found.append((here, message))
    elif value in seen:
        message = (
            f"credential id {value!r} appears twice; give each credential its own id"
        )
        found.append((here, message))
    seen.add(value if isinstance(value, str) else None)


def _check_vct(credential: dict, path: tuple, seen: set, found: Found) -> None:
    if not _has(credential, "vct", path, found):
        return
    here = (*path, "vct")
    value = credential["vct"]
    if not _matches(VCT_PATTERN, value):
        message = (
            "expected a credential type (vct): a urn: name or an https:// "
            f"address, got {_got(value)}"
        )
        found.append((here, message))
    elif value in seen:
        message = (
            f"credential type {value!r} is issued twice in this step; put its "
            "claims in one credential"
        )
        found.append((here, message))
    seen.add(value if isinstance(value, str) else None)


def _check_claim_sources(credential: dict, path: tuple, found: Found) -> None:
    if not _has(credential, "claims", path, found):
        return
    here = (*path, "claims")
    claims = credential["claims"]
    if not isinstance(claims, dict) or not claims:
        message = f"expected a mapping from claim names to sources, got {_got(claims)}"
        found.append((here, message))
        return
    for name, source in claims.items():
        _check_claim_name(name, (*here, name), found)
        _check_claim_source(source, (*here, name), found)


def _check_claim_name(name: str, path: tuple, found: Found) -> None:
    if name in RESERVED_CLAIMS:
        message = (
            f"claim {name!r} is a registered claim that the issuer sets itself; "
            "choose another name"
        )
        found.append((path, message))
    elif not _matches(CLAIM_NAME_PATTERN, name):
        message = (
            f"claim name {name!r} is not valid; use lowercase letters, digits "
            "and '_', starting with a letter"
        )
        found.append((path, message))


def _check_claim_source(source, path: tuple, found: Found) -> None:
    if not isinstance(source, dict):
        message = (
            "expected a mapping with type and either answer or persona, got "
            f"{_got(source)}"
        )
        found.append((path, message))
        return

    _check_unknown(source, CLAIM_FIELDS, found, path)
    known_type = source.get("type") in CLAIM_TYPES
    if _has(source, "type", path, found) and not known_type:
        message = (
            f"expected one of {', '.join(CLAIM_TYPES)}, got {_got(source['type'])}"
        )
        found.append(((*path, "type"), message))
    _check_value_source(source, path, found)


def _check_value_source(source: dict, path: tuple, found: Found) -> None:
    if "answer" in source and "persona" in source:
        message = "give either 'answer' or 'persona', not both; remove one"
        found.append((path, message))
    elif "answer" in source:
        if not _matches(STEP_ID_PATTERN, source["answer"]):
            message = (
                f"expected the id of a question step, got {_got(source['answer'])}"
            )
            found.append(((*path, "answer"), message))
    elif "persona" in source:
        if not _matches(PERSONA_PATTERN, source["persona"]):
            found.append(((*path, "persona"), _persona_message(source["persona"])))
    else:
        message = (
            "missing: take the value from a question with 'answer: <step id>' "
            "or from the pilot persona with 'persona: <field>'"
        )
        found.append(((*path, "answer"), message))


def _persona_message(value) -> str:
    return (
        "expected a persona field: lowercase names joined by dots, such as "
        f"inkomen.netto_per_maand, got {_got(value)}"
    )


def _check_tx_code(tx_code, found: Found) -> None:
    here = ("tx_code",)
    if not isinstance(tx_code, dict):
        message = f"expected a mapping with length and input_mode, got {_got(tx_code)}"
        found.append((here, message))
        return

    _check_unknown(tx_code, TX_CODE_FIELDS, found, here)
    length = tx_code.get("length", DEFAULT_TX_CODE_LENGTH)
    if not _is_whole_number(length, MIN_TX_CODE_LENGTH, MAX_TX_CODE_LENGTH):
        message = (
            f"expected a whole number from {MIN_TX_CODE_LENGTH} to "
            f"{MAX_TX_CODE_LENGTH}, got {_got(length)}"
        )
        found.append(((*here, "length"), message))
    mode = tx_code.get("input_mode", INPUT_MODES[0])
    if mode not in INPUT_MODES:
        message = f"expected numeric or text, got {_got(mode)}"
        found.append(((*here, "input_mode"), message))


# Shared checks and messages.


def _check_unknown(
    mapping: dict, known: tuple, found: Found, path: tuple = (), purpose=None
) -> None:
    """Report the keys of ``mapping`` that are not ``known``.

    With ``purpose``, the message for a key of the other purpose names it.
    """
    for key in mapping:
        if key in known:
            continue
        if purpose == "present" and key in ISSUE_FIELDS:
            message = (
                f"{key!r} belongs to purpose issue; remove it or change the purpose"
            )
        elif purpose == "issue" and key in PRESENT_FIELDS:
            message = (
                f"{key!r} belongs to purpose present; remove it or change the purpose"
            )
        else:
            message = _unknown_message(key, known)
        found.append(((*path, key), message))


def _has(mapping: dict, name: str, path: tuple, found: Found) -> bool:
    """Tell whether ``mapping`` has the setting, reporting it as missing if not."""
    if name in mapping:
        return True
    found.append(((*path, name), f"missing: {MISSING[name]}"))
    return False


def _unknown_message(key, known: tuple) -> str:
    close = difflib.get_close_matches(str(key), known, n=1)
    if close:
        return f"unknown field {key!r}; did you mean {close[0]!r}?"
    return f"unknown field {key!r}; expected one of {', '.join(known)}"


def _matches(pattern: re.Pattern, value) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _is_whole_number(value, low: int, high: int) -> bool:
    is_integer = isinstance(value, int) and not isinstance(value, bool)
    return is_integer and low <= value <= high


def _is_issuer(value) -> bool:
    return _matches(ISSUER_PATTERN, value)


def _issuer_message(value) -> str:
    return (
        "expected an issuer identifier: an https:// address without query or "
        f"fragment, such as https://uitgifte.gemeente.example, got {_got(value)}"
    )


def _got(value) -> str:
    return describe(None, (), value)


def _field(path: tuple) -> str:
    return ".".join(str(part) for part in path)


# Checks that need the whole flow.


def _check_answer_sources(flow: Flow, step: Step, report: SettingsReport) -> None:
    """Check that each claim taken from an answer can have that answer."""
    asked = _asked_before(flow, step)
    for path, source in _answer_sources(step.settings):
        answer_id = source["answer"]
        if answer_id in flow.skipped_steps:
            continue
        question = flow.steps.get(answer_id)
        if question is None or question.kind != "question":
            report.error((*path, "answer"), _not_a_question(flow, answer_id))
        elif asked is not None and answer_id not in asked:
            report.error((*path, "answer"), _not_asked_message(answer_id, step))
        elif source.get("type") in CLAIM_TYPES:
            _check_answer_type(question, source["type"], (*path, "type"), report)


def _answer_sources(settings: dict) -> Iterator[tuple[tuple, dict]]:
    """Yield (path, source) for each claim whose only source is a question id."""
    credentials = settings.get("credentials")
    if not isinstance(credentials, list):
        return
    for index, credential in enumerate(credentials):
        claims = credential.get("claims") if isinstance(credential, dict) else None
        if not isinstance(claims, dict):
            continue
        for name, source in claims.items():
            if _is_answer_source(source):
                yield ("credentials", index, "claims", name), source


def _is_answer_source(source) -> bool:
    if not isinstance(source, dict) or "persona" in source:
        return False
    return _matches(STEP_ID_PATTERN, source.get("answer"))


def _asked_before(flow: Flow, step: Step) -> set[str] | None:
    """Return the questions asked on every path to ``step``, None if unknown."""
    # Imported here because stappen.checks imports this module to call
    # check_wallet_step, so an import at the top would be circular.
    from stappen.checks import answered_before, paths_known

    if not paths_known(flow):
        return None
    return answered_before(flow).get(step.id)


def _not_a_question(flow: Flow, answer_id: str) -> str:
    other = flow.steps.get(answer_id)
    if other is not None:
        return (
            f"step {answer_id!r} is {with_article(other.kind)} step, which asks "
            "nothing; use the id of a question step"
        )
    questions = [s.id for s in flow.questions()]
    message = f"answer {answer_id!r} does not exist"
    close = difflib.get_close_matches(answer_id, questions, n=1)
    if close:
        return f"{message}; did you mean {close[0]!r}?"
    return f"{message}; use the id of a question step before this one"


def _not_asked_message(answer_id: str, step: Step) -> str:
    return (
        f"answer {answer_id!r} is not asked on every path to step {step.id!r}; "
        "ask it on every path before this step, or take the value from the "
        "persona"
    )


def _check_answer_type(question: Step, claim_type: str, path: tuple, report) -> None:
    answer = question.answer
    meaning, fitting = ANSWER_VALUES[answer.type]
    if answer.type == "number" and answer.integer:
        meaning, fitting = "a whole number", ("integer", "number")
    if claim_type in fitting:
        return
    report.error(
        path,
        f"answer {question.id!r} is {with_article(answer.type)} answer, which "
        f"gives {meaning}, not {with_article(claim_type)}; set 'type: "
        f"{fitting[0]}' or take another answer",
    )


def _check_against_issue_steps(flow: Flow, settings: PresentSettings, report) -> None:
    """Warn when the query requests more than the flow's issue steps provide.

    A credential type that another wallet step of the flow issues must be
    trusted from that step's issuer, and the claims requested from it must
    be among the claims it issues.
    """
    issued = _issued_in_flow(flow)
    for index, credential_query in enumerate(settings.query["credentials"]):
        for vct in credential_query["meta"]["vct_values"]:
            if vct not in issued:
                continue
            issuing_step, issue, configuration = issued[vct]
            if issue.issuer not in settings.trusted_issuers:
                report.warning(
                    ("trusted_issuers",),
                    _untrusted_message(issuing_step, vct, issue.issuer),
                )
            path = ("query", "credentials", index)
            _check_claims_issued(
                credential_query, configuration, issuing_step, path, report
            )


def _issued_in_flow(flow: Flow) -> dict[str, tuple]:
    """Map each credential type issued in the flow to (step id, settings, config)."""
    issued = {}
    for other in flow.steps.values():
        if other.kind != "wallet" or other.settings.get("purpose") != "issue":
            continue
        if settings_problems(other.settings):
            continue
        settings = _build(other.settings)
        for configuration in settings.credentials:
            issued.setdefault(configuration.vct, (other.id, settings, configuration))
    return issued


def _untrusted_message(issuing_step: str, vct: str, issuer: str) -> str:
    return (
        f"step {issuing_step!r} issues {vct!r} signed by {issuer!r}, which "
        "trusted_issuers does not list, so those credentials would be "
        f"rejected; add {issuer!r}"
    )


def _check_claims_issued(credential_query, configuration, issuing_step, path, report):
    names = [claim.name for claim in configuration.claims]
    for index, claim in enumerate(credential_query.get("claims", [])):
        first = claim["path"][0]
        if not isinstance(first, str) or first in names:
            continue
        report.warning(
            (*path, "claims", index, "path"),
            f"claim {first!r} is not among the claims that step {issuing_step!r} "
            f"issues in {configuration.vct!r} ({', '.join(names)}); correct the "
            "path or add the claim there",
        )


# Building the typed settings from valid ones.


def _build(settings: dict) -> WalletStepSettings:
    if settings["purpose"] == "present":
        return PresentSettings(
            query=copy.deepcopy(settings["query"]),
            trusted_issuers=tuple(settings["trusted_issuers"]),
            expires_in=settings.get("expires_in", DEFAULT_EXPIRES_IN),
            response_mode=settings.get("response_mode", RESPONSE_MODES[0]),
        )
    tx_code = settings.get("tx_code")
    return IssueSettings(
        issuer=settings["issuer"],
        credentials=tuple(_build_credential(c) for c in settings["credentials"]),
        tx_code=None if tx_code is None else TxCode(**tx_code),
        expires_in=settings.get("expires_in", DEFAULT_EXPIRES_IN),
    )


def _build_credential(raw: dict) -> CredentialConfiguration:
    claims = tuple(
        ClaimSource(name=name, **source) for name, source in raw["claims"].items()
    )
    return CredentialConfiguration(id=raw["id"], vct=raw["vct"], claims=claims)
