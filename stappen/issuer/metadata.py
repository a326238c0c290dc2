"""The issuer's metadata: the credential configurations the flows offer."""

from __future__ import annotations

import dataclasses
import logging
from urllib.parse import urlsplit

from flask import current_app, jsonify

from stappen import checkstep, decisionstep, jose
from stappen.issuer.blueprint import (
    CREDENTIAL_FORMAT,
    CREDENTIAL_PATH,
    ISSUER_METADATA_PATH,
    ISSUER_NAME,
    NONCE_PATH,
    PILOT_CLAIM_NAMES,
    PILOT_CLAIMS,
    PILOT_DESCRIPTION,
    PILOT_WORD,
    PRE_AUTHORIZED_GRANT,
    SERVER_METADATA_PATH,
    TOKEN_PATH,
    IssuerError,
    IssuerSetupError,
    blueprint,
    public_url,
    signing_key,
)
from stappen.model import Flow, Step
from stappen.walletstep import (
    ClaimSource,
    CredentialConfiguration,
    InvalidSettings,
    read_settings,
)

log = logging.getLogger(__name__)


# Metadata.


@dataclasses.dataclass(frozen=True)
class _Offered:
    """A credential configuration and the issue step that offers it."""

    flow: Flow
    step: Step
    configuration: CredentialConfiguration


@blueprint.get(ISSUER_METADATA_PATH)
@blueprint.get(ISSUER_METADATA_PATH + "/<path:suffix>")
def issuer_metadata(suffix: str = ""):
    _check_metadata_suffix(suffix)
    public = public_url(current_app)
    signing_alg = jose.algorithm_for(signing_key())
    configurations = {
        configuration_id: _configuration_metadata(offered, signing_alg)
        for configuration_id, offered in _catalogue().items()
    }
    return jsonify(
        credential_issuer=public,
        credential_endpoint=public + CREDENTIAL_PATH,
        nonce_endpoint=public + NONCE_PATH,
        display=[
            {"name": name, "locale": locale} for locale, name in ISSUER_NAME.items()
        ],
        credential_configurations_supported=configurations,
    )


@blueprint.get(SERVER_METADATA_PATH)
@blueprint.get(SERVER_METADATA_PATH + "/<path:suffix>")
def server_metadata(suffix: str = ""):
    _check_metadata_suffix(suffix)
    public = public_url(current_app)
    # The pre-authorized code grant needs no authorization endpoint, so
    # response_types_supported is left out, as OpenID4VCI 1.0 allows.
    return jsonify(
        {
            "issuer": public,
            "token_endpoint": public + TOKEN_PATH,
            "grant_types_supported": [PRE_AUTHORIZED_GRANT],
            "token_endpoint_auth_methods_supported": ["none"],
            "pre-authorized_grant_anonymous_access_supported": True,
        }
    )


def _check_metadata_suffix(suffix: str) -> None:
    """Accept the path of PUBLIC_URL after the well-known name, and only that.

    OpenID4VCI 1.0 and RFC 8414 put the well-known name between the host and
    the path of an identifier such as ``https://host/stappen``.
    """
    expected = urlsplit(public_url(current_app)).path.strip("/")
    if suffix.strip("/") != expected:
        raise IssuerError(
            "not_found",
            f"no metadata for path {suffix!r}; the credential issuer is "
            f"{public_url(current_app)!r}",
            status=404,
        )


def _catalogue() -> dict[str, _Offered]:
    try:
        return offered_configurations(current_app.extensions["stappen.flows"])
    except IssuerSetupError as error:
        log.error("The issuer metadata cannot be built: %s", error)
        raise IssuerError(
            "server_error",
            "the issuer's credential configurations are inconsistent; the "
            "server log names the fix",
            status=500,
        ) from error


def offered_configurations(flows: dict[str, Flow]) -> dict[str, _Offered]:
    """Map each credential configuration id of every issue step to its step.

    Two steps may share an id only with the same type and claims, because
    a wallet finds a configuration by its id alone. Raises IssuerSetupError
    for a conflict or for a claim named like one of PILOT_CLAIMS.
    """
    found: dict[str, _Offered] = {}
    for flow in flows.values():
        offering = [*_issue_steps(flow), *_voucher_steps(flow), *_decision_steps(flow)]
        for step, settings in offering:
            for configuration in settings.credentials:
                _check_pilot_claim_names(flow, step, configuration)
                offered = _Offered(flow, step, configuration)
                _check_same_configuration(found.get(configuration.id), offered)
                found.setdefault(configuration.id, offered)
    return found


def _issue_steps(flow: Flow):
    for step in flow.steps.values():
        if step.kind != "wallet" or step.settings.get("purpose") != "issue":
            continue
        try:
            yield step, read_settings(step)
        except InvalidSettings as error:
            log.error("Flow %r: %s", flow.id, error)


def _voucher_steps(flow: Flow):
    """Yield each check step that offers a voucher, with the voucher's offer."""
    for step in flow.steps.values():
        voucher = step.settings.get("voucher") if step.kind == "check" else None
        if not isinstance(voucher, dict):
            continue
        try:
            yield step, checkstep.read_settings(flow, step).voucher.issue_settings()
        except checkstep.InvalidCheckSettings as error:
            log.error("Flow %r: %s", flow.id, error)


def _decision_steps(flow: Flow):
    """Yield each decision step with the offer of its decision credential."""
    for step in flow.steps.values():
        if step.kind != "decision":
            continue
        try:
            settings = decisionstep.read_settings(flow, step)
        except decisionstep.InvalidDecisionSettings as error:
            log.error("Flow %r: %s", flow.id, error)
            continue
        yield step, settings.credential.issue_settings()


def _check_pilot_claim_names(flow, step, configuration) -> None:
    for claim in configuration.claims:
        if claim.name in PILOT_CLAIMS:
            raise IssuerSetupError(
                f"flow {flow.id!r}, step {step.id!r}: claim {claim.name!r} of "
                f"credential {configuration.id!r} is set by the pilot issuer "
                "to mark pilot data; rename the claim"
            )


def _check_same_configuration(first: _Offered | None, other: _Offered) -> None:
    if first is None or _shape(first) == _shape(other):
        return
    raise IssuerSetupError(
        f"credential configuration {other.configuration.id!r} is defined "
        f"differently in step {first.step.id!r} of flow {first.flow.id!r} and "
        f"step {other.step.id!r} of flow {other.flow.id!r}; give one of them "
        "another id"
    )


def _shape(offered: _Offered) -> tuple:
    configuration = offered.configuration
    claims = tuple((claim.name, claim.type) for claim in configuration.claims)
    return configuration.vct, claims


def _configuration_metadata(offered: _Offered, signing_alg: str) -> dict:
    proof_algs = list(jose.ALLOWED_ALGORITHMS)
    return {
        "format": CREDENTIAL_FORMAT,
        "vct": offered.configuration.vct,
        "cryptographic_binding_methods_supported": ["jwk"],
        "credential_signing_alg_values_supported": [signing_alg],
        "proof_types_supported": {
            "jwt": {"proof_signing_alg_values_supported": proof_algs}
        },
        "credential_metadata": {
            "display": _credential_display(offered),
            "claims": _claims_metadata(offered),
        },
    }


def _credential_display(offered: _Offered) -> list[dict]:
    flow = offered.flow
    name = _humanize(offered.configuration.id)
    display = []
    for locale in flow.languages:
        language = locale if locale in PILOT_WORD else "en"
        flow_title = flow.text(flow.title, locale)
        display.append(
            {
                "name": f"{name} ({PILOT_WORD[language]})",
                "locale": locale,
                "description": PILOT_DESCRIPTION[language].format(flow=flow_title),
            }
        )
    return display


def _claims_metadata(offered: _Offered) -> list[dict]:
    # The claim names are written in the flow author's language, so they
    # are shown in the flow's first language only.
    locale = offered.flow.default_language
    claims = [
        {
            "path": [claim.name],
            "mandatory": _always_present(offered.flow, claim),
            "display": [{"name": _humanize(claim.name), "locale": locale}],
        }
        for claim in offered.configuration.claims
    ]
    for name, texts in PILOT_CLAIM_NAMES.items():
        display = [{"name": text, "locale": lang} for lang, text in texts.items()]
        claims.append({"path": [name], "mandatory": True, "display": display})
    return claims


def _always_present(flow: Flow, claim: ClaimSource) -> bool:
    """Tell whether a claim has a value in every credential of its type."""
    if claim.answer is None:
        return True
    question = flow.steps.get(claim.answer)
    return question is None or question.answer is None or question.answer.required


def _humanize(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").capitalize()
