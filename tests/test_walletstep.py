"""Settings of wallet steps: every problem, the typed settings, the VIL flow."""

from __future__ import annotations

import copy
from unittest import mock

import jsonschema
import pytest
import yaml

from stappen import flows, walletstep
from stappen.errors import Problems
from stappen.flows import load_flow
from stappen.walletstep import (
    ClaimSource,
    CredentialConfiguration,
    InvalidSettings,
    IssueSettings,
    PresentSettings,
    TxCode,
)
from tests.conftest import PROJECT

ISSUER = "https://uitgifte.gemeente.example"

ISSUE = {
    "purpose": "issue",
    "issuer": ISSUER,
    "credentials": [
        {
            "id": "inkomen",
            "vct": "urn:example:inkomen",
            "claims": {
                "netto_per_maand": {"type": "number", "answer": "inkomen"},
                "peildatum": {"type": "date", "persona": "inkomen.peildatum"},
            },
        }
    ],
}

PRESENT = {
    "purpose": "present",
    "query": {
        "credentials": [
            {
                "id": "inkomen",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": ["urn:example:inkomen"]},
                "claims": [{"path": ["netto_per_maand"]}],
            }
        ]
    },
    "trusted_issuers": [ISSUER],
}


def question(step_id: str, answer: dict, next_step) -> dict:
    return {
        "id": step_id,
        "kind": "question",
        "title": {"nl": step_id},
        "answer": answer,
        "next": next_step,
    }


def flow_data(issue: dict, present: dict) -> dict:
    """A flow that asks three questions, issues a credential, then asks for it.

    'aantal' is asked only when 'kinderen' is true, so it is not asked on
    every path to the wallet steps.
    """
    only_with_children = {"==": [{"var": "kinderen"}, True]}
    return {
        "stappen": 1,
        "title": {"nl": "Proef"},
        "organisation": {"name": {"nl": "Gemeente Voorbeeld"}},
        "languages": ["nl"],
        "steps": [
            question("inkomen", {"type": "amount"}, "kinderen"),
            question(
                "kinderen",
                {"type": "yesno"},
                [{"if": only_with_children, "goto": "aantal"}, {"goto": "ophalen"}],
            ),
            question("aantal", {"type": "number", "integer": True}, "ophalen"),
            {
                "id": "ophalen",
                "kind": "wallet",
                "title": {"nl": "Ophalen"},
                "settings": issue,
                "next": "delen",
            },
            {
                "id": "delen",
                "kind": "wallet",
                "title": {"nl": "Delen"},
                "settings": present,
                "next": "klaar",
            },
            {"id": "klaar", "kind": "outcome", "title": {"nl": "Klaar"}},
        ],
    }


def _schema_without_wallet_settings():
    """The flow schema minus its rules for wallet settings, so that these tests
    reach the settings checker with values the schema would reject first."""
    schema = copy.deepcopy(flows.flow_schema())
    schema["$defs"]["step"]["allOf"] = [
        rule
        for rule in schema["$defs"]["step"]["allOf"]
        if rule["if"]["properties"]["kind"].get("const") != "wallet"
    ]
    return jsonschema.Draft202012Validator(schema)


def load(tmp_path, issue=ISSUE, present=PRESENT, data=None):
    folder = tmp_path / "proef"
    folder.mkdir(exist_ok=True)
    text = yaml.safe_dump(data or flow_data(issue, present), sort_keys=False)
    (folder / "flow.yaml").write_text(text, encoding="utf-8")
    problems = Problems()
    validator = _schema_without_wallet_settings()
    with mock.patch.object(flows, "schema_validator", lambda: validator):
        flow = load_flow(folder, problems)
    assert [str(p) for p in problems] == []
    return flow


def reported(flow, step_id: str, line_of=lambda path: None) -> list[tuple]:
    problems = Problems()
    walletstep.check_wallet_step(flow, flow.steps[step_id], problems, line_of)
    return [(p.severity, p.field, p.message) for p in problems]


def issue_with(**changes) -> dict:
    settings = copy.deepcopy(ISSUE)
    settings.update(changes)
    return settings


def present_with(**changes) -> dict:
    settings = copy.deepcopy(PRESENT)
    settings.update(changes)
    return settings


def claim_with(**source) -> dict:
    """Issue settings whose one credential has one claim, 'waarde'."""
    credential = {"id": "c", "vct": "urn:example:c", "claims": {"waarde": source}}
    return issue_with(credentials=[credential])


def issue_errors(tmp_path, settings: dict) -> list[tuple]:
    return reported(load(tmp_path, issue=settings), "ophalen")


def present_errors(tmp_path, settings: dict) -> list[tuple]:
    return reported(load(tmp_path, present=settings), "delen")


# Valid settings and the typed objects.


def test_valid_steps_report_nothing(tmp_path):
    flow = load(tmp_path)
    assert reported(flow, "ophalen") == []
    assert reported(flow, "delen") == []


def test_read_present_defaults(tmp_path):
    flow = load(tmp_path)
    settings = walletstep.read_settings(flow.steps["delen"])
    assert settings == PresentSettings(
        query=PRESENT["query"],
        trusted_issuers=(ISSUER,),
        expires_in=300,
        response_mode="direct_post",
    )
    assert settings.purpose == "present"


def test_read_present_given(tmp_path):
    changes = {"expires_in": 900, "response_mode": "direct_post.jwt"}
    flow = load(tmp_path, present=present_with(**changes))
    settings = walletstep.read_settings(flow.steps["delen"])
    assert settings.expires_in == 900
    assert settings.response_mode == "direct_post.jwt"


def test_read_present_copies_query(tmp_path):
    flow = load(tmp_path)
    settings = walletstep.read_settings(flow.steps["delen"])
    assert settings.query is not flow.steps["delen"].settings["query"]


def test_read_issue(tmp_path):
    flow = load(tmp_path)
    settings = walletstep.read_settings(flow.steps["ophalen"])
    assert settings == IssueSettings(
        issuer=ISSUER,
        credentials=(
            CredentialConfiguration(
                id="inkomen",
                vct="urn:example:inkomen",
                claims=(
                    ClaimSource("netto_per_maand", "number", answer="inkomen"),
                    ClaimSource("peildatum", "date", persona="inkomen.peildatum"),
                ),
            ),
        ),
        tx_code=None,
        expires_in=300,
    )
    assert settings.purpose == "issue"


def test_read_issue_tx_code_defaults(tmp_path):
    flow = load(tmp_path, issue=issue_with(tx_code={}))
    settings = walletstep.read_settings(flow.steps["ophalen"])
    assert settings.tx_code == TxCode(length=6, input_mode="numeric")


def test_read_issue_tx_code_given(tmp_path):
    tx_code = {"length": 8, "input_mode": "text"}
    flow = load(tmp_path, issue=issue_with(tx_code=tx_code, expires_in=60))
    settings = walletstep.read_settings(flow.steps["ophalen"])
    assert settings.tx_code == TxCode(length=8, input_mode="text")
    assert settings.expires_in == 60


def test_read_invalid_raises(tmp_path):
    flow = load(tmp_path, present=present_with(expires_in=5))
    with pytest.raises(InvalidSettings) as caught:
        walletstep.read_settings(flow.steps["delen"])
    assert str(caught.value) == (
        "step 'delen' has invalid wallet settings: expires_in: expected a whole "
        "number of seconds from 60 to 900, got 5"
    )
    assert caught.value.problems == [
        (("expires_in",), "expected a whole number of seconds from 60 to 900, got 5")
    ]


# Where problems are placed.


def test_line_of_places_problem(tmp_path):
    flow = load(tmp_path, present=present_with(response_mode="query"))
    problems = Problems()
    lines = {("settings", "response_mode"): 42}
    walletstep.check_wallet_step(flow, flow.steps["delen"], problems, lines.get)
    assert [p.line for p in problems] == [42]


def test_line_falls_back_to_step(tmp_path):
    flow = load(tmp_path, present=present_with(response_mode="query"))
    problems = Problems()
    walletstep.check_wallet_step(flow, flow.steps["delen"], problems, lambda p: None)
    assert [p.line for p in problems] == [flow.steps["delen"].line]


def test_problem_names_step_and_file(tmp_path):
    flow = load(tmp_path, present=present_with(response_mode="query"))
    problems = Problems()
    walletstep.check_wallet_step(flow, flow.steps["delen"], problems, lambda p: 7)
    assert [str(p) for p in problems] == [
        f"{flow.file}:7: step 'delen', field 'settings.response_mode': expected "
        "direct_post or direct_post.jwt, got 'query'"
    ]


def test_other_kinds_ignored(tmp_path):
    flow = load(tmp_path)
    assert reported(flow, "inkomen") == []


# The settings as a whole.


def test_settings_missing(tmp_path):
    data = flow_data(ISSUE, PRESENT)
    del data["steps"][4]["settings"]
    flow = load(tmp_path, data=data)
    assert reported(flow, "delen") == [
        (
            "error",
            "settings",
            "a wallet step needs settings: 'purpose: present' asks the wallet for "
            "credentials and 'purpose: issue' puts credentials in it; add settings "
            "with a purpose, got an empty mapping",
        )
    ]


def test_purpose_missing(tmp_path):
    settings = present_with()
    del settings["purpose"]
    assert present_errors(tmp_path, settings) == [
        (
            "error",
            "settings.purpose",
            "missing: use 'purpose: present' or 'purpose: issue'",
        )
    ]


def test_purpose_unknown(tmp_path):
    assert present_errors(tmp_path, present_with(purpose="delen")) == [
        ("error", "settings.purpose", "expected present or issue, got 'delen'")
    ]


# Purpose present.


def test_present_unknown_field(tmp_path):
    settings = present_with(trusted_issuer=[ISSUER])
    assert present_errors(tmp_path, settings) == [
        (
            "error",
            "settings.trusted_issuer",
            "unknown field 'trusted_issuer'; did you mean 'trusted_issuers'?",
        )
    ]


def test_present_unknown_field_listed(tmp_path):
    assert present_errors(tmp_path, present_with(doel="toets")) == [
        (
            "error",
            "settings.doel",
            "unknown field 'doel'; expected one of purpose, query, trusted_issuers, "
            "expires_in, response_mode",
        )
    ]


def test_present_field_of_issue(tmp_path):
    assert present_errors(tmp_path, present_with(issuer=ISSUER)) == [
        (
            "error",
            "settings.issuer",
            "'issuer' belongs to purpose issue; remove it or change the purpose",
        )
    ]


def test_query_missing(tmp_path):
    settings = present_with()
    del settings["query"]
    assert present_errors(tmp_path, settings) == [
        (
            "error",
            "settings.query",
            "missing: write under 'query' a DCQL query that names the credentials "
            "and claims to ask for",
        )
    ]


def test_query_problem_placed(tmp_path):
    settings = present_with()
    settings["query"]["credentials"][0]["format"] = "mso_mdoc"
    assert present_errors(tmp_path, settings) == [
        (
            "error",
            "settings.query.credentials.0.format",
            "format 'mso_mdoc' (ISO mdoc) is not supported: Stappen handles SD-JWT "
            "VCs only; use 'dc+sd-jwt'",
        )
    ]


def test_trusted_issuers_missing(tmp_path):
    settings = present_with()
    del settings["trusted_issuers"]
    assert present_errors(tmp_path, settings) == [
        (
            "error",
            "settings.trusted_issuers",
            "missing: list under 'trusted_issuers' the issuers whose credentials "
            "this step accepts, as https:// addresses",
        )
    ]


def test_trusted_issuers_not_list(tmp_path):
    assert present_errors(tmp_path, present_with(trusted_issuers=ISSUER)) == [
        (
            "error",
            "settings.trusted_issuers",
            "expected a non-empty list of issuer identifiers, got "
            "'https://uitgifte.gemeente.example'",
        )
    ]


@pytest.mark.parametrize(
    ("issuer", "got"),
    [
        ("http://uitgifte.example", "'http://uitgifte.example'"),
        ("https://uitgifte.example/?a=1", "'https://uitgifte.example/?a=1'"),
        ("https://uitgifte.example#sleutel", "'https://uitgifte.example#sleutel'"),
        ("did:web:uitgifte.example", "'did:web:uitgifte.example'"),
        ("https://", "'https://'"),
        (42, "42"),
    ],
)
def test_trusted_issuer_invalid(tmp_path, issuer, got):
    settings = present_with(trusted_issuers=[ISSUER, issuer])
    assert present_errors(tmp_path, settings) == [
        (
            "error",
            "settings.trusted_issuers.1",
            "expected an issuer identifier: an https:// address without query or "
            f"fragment, such as https://uitgifte.gemeente.example, got {got}",
        )
    ]


@pytest.mark.parametrize(
    "issuer",
    [
        "https://uitgifte.example",
        "https://uitgifte.example:8443/vil",
        "https://localhost:5000",
    ],
)
def test_trusted_issuer_valid(tmp_path, issuer):
    settings = present_with(trusted_issuers=[ISSUER, issuer])
    assert present_errors(tmp_path, settings) == []


def test_trusted_issuer_twice(tmp_path):
    settings = present_with(trusted_issuers=[ISSUER, ISSUER])
    assert present_errors(tmp_path, settings) == [
        (
            "error",
            "settings.trusted_issuers.1",
            "issuer 'https://uitgifte.gemeente.example' appears twice; remove one",
        )
    ]


@pytest.mark.parametrize(
    ("value", "got"),
    [(59, "59"), (901, "901"), ("300", "'300'"), (True, "true"), (300.5, "300.5")],
)
def test_expires_in_invalid(tmp_path, value, got):
    assert present_errors(tmp_path, present_with(expires_in=value)) == [
        (
            "error",
            "settings.expires_in",
            f"expected a whole number of seconds from 60 to 900, got {got}",
        )
    ]


def test_issue_expires_in_invalid(tmp_path):
    assert issue_errors(tmp_path, issue_with(expires_in=3600)) == [
        (
            "error",
            "settings.expires_in",
            "expected a whole number of seconds from 60 to 900, got 3600",
        )
    ]


def test_response_mode_invalid(tmp_path):
    assert present_errors(tmp_path, present_with(response_mode="fragment")) == [
        (
            "error",
            "settings.response_mode",
            "expected direct_post or direct_post.jwt, got 'fragment'",
        )
    ]


# Purpose issue.


def test_issue_unknown_field(tmp_path):
    settings = issue_with(credential=[])
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credential",
            "unknown field 'credential'; did you mean 'credentials'?",
        )
    ]


def test_issue_field_of_present(tmp_path):
    assert issue_errors(tmp_path, issue_with(response_mode="direct_post")) == [
        (
            "error",
            "settings.response_mode",
            "'response_mode' belongs to purpose present; remove it or change the "
            "purpose",
        )
    ]


def test_issuer_missing(tmp_path):
    settings = issue_with()
    del settings["issuer"]
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.issuer",
            "missing: give under 'issuer' the identifier of the issuer that signs "
            "the credentials, an https:// address",
        )
    ]


def test_issuer_invalid(tmp_path):
    assert issue_errors(tmp_path, issue_with(issuer="uitgifte.example")) == [
        (
            "error",
            "settings.issuer",
            "expected an issuer identifier: an https:// address without query or "
            "fragment, such as https://uitgifte.gemeente.example, got "
            "'uitgifte.example'",
        )
    ]


def test_credentials_missing(tmp_path):
    settings = issue_with()
    del settings["credentials"]
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credentials",
            "missing: list under 'credentials' the credentials to issue, each with "
            "id, vct and claims",
        )
    ]


def test_credentials_empty(tmp_path):
    assert issue_errors(tmp_path, issue_with(credentials=[])) == [
        (
            "error",
            "settings.credentials",
            "expected a non-empty list of credentials, got an empty list",
        )
    ]


def test_credential_not_mapping(tmp_path):
    assert issue_errors(tmp_path, issue_with(credentials=["inkomen"])) == [
        (
            "error",
            "settings.credentials.0",
            "expected a credential: a mapping with id, vct and claims, got 'inkomen'",
        )
    ]


def test_credential_unknown_field(tmp_path):
    settings = issue_with()
    settings["credentials"][0]["format"] = "dc+sd-jwt"
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credentials.0.format",
            "unknown field 'format'; expected one of id, vct, claims",
        )
    ]


def test_credential_id_missing(tmp_path):
    settings = issue_with()
    del settings["credentials"][0]["id"]
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credentials.0.id",
            "missing: give the credential an id of letters, digits, '_' or '-'; the "
            "wallet receives it as the credential configuration id",
        )
    ]


def test_credential_id_invalid(tmp_path):
    settings = issue_with()
    settings["credentials"][0]["id"] = "netto inkomen"
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credentials.0.id",
            "expected an id of letters, digits, '_' or '-', got 'netto inkomen'",
        )
    ]


def test_credential_id_twice(tmp_path):
    settings = issue_with()
    second = copy.deepcopy(settings["credentials"][0])
    second["vct"] = "urn:example:ander"
    settings["credentials"].append(second)
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credentials.1.id",
            "credential id 'inkomen' appears twice; give each credential its own id",
        )
    ]


def test_vct_missing(tmp_path):
    settings = issue_with()
    del settings["credentials"][0]["vct"]
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credentials.0.vct",
            "missing: give the credential type, such as urn:example:inkomen",
        )
    ]


@pytest.mark.parametrize(
    ("vct", "got"),
    [("inkomen", "'inkomen'"), ("urn:inkomen", "'urn:inkomen'"), (3, "3")],
)
def test_vct_invalid(tmp_path, vct, got):
    settings = issue_with()
    settings["credentials"][0]["vct"] = vct
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credentials.0.vct",
            "expected a credential type (vct): a urn: name or an https:// address, "
            f"got {got}",
        )
    ]


def test_vct_twice(tmp_path):
    settings = issue_with()
    second = copy.deepcopy(settings["credentials"][0])
    second["id"] = "inkomen2"
    settings["credentials"].append(second)
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credentials.1.vct",
            "credential type 'urn:example:inkomen' is issued twice in this step; "
            "put its claims in one credential",
        )
    ]


def test_claims_missing(tmp_path):
    settings = issue_with()
    del settings["credentials"][0]["claims"]
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credentials.0.claims",
            "missing: map each claim name to the source of its value, such as "
            "netto_per_maand: {type: number, persona: inkomen.netto_per_maand}",
        )
    ]


def test_claims_not_mapping(tmp_path):
    settings = issue_with()
    settings["credentials"][0]["claims"] = ["netto_per_maand"]
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credentials.0.claims",
            "expected a mapping from claim names to sources, got a list of 1 item",
        )
    ]


def test_claim_name_invalid(tmp_path):
    settings = issue_with()
    claims = settings["credentials"][0]["claims"]
    claims["Netto-Inkomen"] = claims.pop("netto_per_maand")
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credentials.0.claims.Netto-Inkomen",
            "claim name 'Netto-Inkomen' is not valid; use lowercase letters, digits "
            "and '_', starting with a letter",
        )
    ]


def test_claim_name_reserved(tmp_path):
    settings = issue_with()
    claims = settings["credentials"][0]["claims"]
    claims["iss"] = claims.pop("peildatum")
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credentials.0.claims.iss",
            "claim 'iss' is a registered claim that the issuer sets itself; choose "
            "another name",
        )
    ]


def test_claim_source_not_mapping(tmp_path):
    settings = issue_with()
    settings["credentials"][0]["claims"]["peildatum"] = "inkomen.peildatum"
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credentials.0.claims.peildatum",
            "expected a mapping with type and either answer or persona, got "
            "'inkomen.peildatum'",
        )
    ]


def test_claim_source_unknown_field(tmp_path):
    settings = claim_with(type="string", persona="naam", waarde="x")
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credentials.0.claims.waarde.waarde",
            "unknown field 'waarde'; expected one of type, answer, persona",
        )
    ]


def test_claim_type_missing(tmp_path):
    assert issue_errors(tmp_path, claim_with(persona="naam")) == [
        (
            "error",
            "settings.credentials.0.claims.waarde.type",
            "missing: use one of boolean, integer, number, string, date, array",
        )
    ]


def test_claim_type_unknown(tmp_path):
    assert issue_errors(tmp_path, claim_with(type="bedrag", persona="x")) == [
        (
            "error",
            "settings.credentials.0.claims.waarde.type",
            "expected one of boolean, integer, number, string, date, array, got "
            "'bedrag'",
        )
    ]


def test_claim_two_sources(tmp_path):
    settings = claim_with(type="number", answer="inkomen", persona="inkomen")
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credentials.0.claims.waarde",
            "give either 'answer' or 'persona', not both; remove one",
        )
    ]


def test_claim_no_source(tmp_path):
    assert issue_errors(tmp_path, claim_with(type="number")) == [
        (
            "error",
            "settings.credentials.0.claims.waarde.answer",
            "missing: take the value from a question with 'answer: <step id>' or "
            "from the pilot persona with 'persona: <field>'",
        )
    ]


def test_claim_answer_not_id(tmp_path):
    assert issue_errors(tmp_path, claim_with(type="number", answer="Inkomen")) == [
        (
            "error",
            "settings.credentials.0.claims.waarde.answer",
            "expected the id of a question step, got 'Inkomen'",
        )
    ]


@pytest.mark.parametrize(
    ("persona", "got"),
    [("Inkomen", "'Inkomen'"), ("inkomen..netto", "'inkomen..netto'"), (1, "1")],
)
def test_claim_persona_invalid(tmp_path, persona, got):
    assert issue_errors(tmp_path, claim_with(type="number", persona=persona)) == [
        (
            "error",
            "settings.credentials.0.claims.waarde.persona",
            "expected a persona field: lowercase names joined by dots, such as "
            f"inkomen.netto_per_maand, got {got}",
        )
    ]


def test_tx_code_not_mapping(tmp_path):
    assert issue_errors(tmp_path, issue_with(tx_code=True)) == [
        (
            "error",
            "settings.tx_code",
            "expected a mapping with length and input_mode, got true",
        )
    ]


def test_tx_code_unknown_field(tmp_path):
    settings = issue_with(tx_code={"description": "Code uit de brief"})
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.tx_code.description",
            "unknown field 'description'; expected one of length, input_mode",
        )
    ]


@pytest.mark.parametrize(("length", "got"), [(3, "3"), (9, "9"), ("6", "'6'")])
def test_tx_code_length_invalid(tmp_path, length, got):
    assert issue_errors(tmp_path, issue_with(tx_code={"length": length})) == [
        (
            "error",
            "settings.tx_code.length",
            f"expected a whole number from 4 to 8, got {got}",
        )
    ]


def test_tx_code_input_mode_invalid(tmp_path):
    settings = issue_with(tx_code={"input_mode": "alphanumeric"})
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.tx_code.input_mode",
            "expected numeric or text, got 'alphanumeric'",
        )
    ]


# Claims whose value is an answer of the flow.


def test_answer_not_found_close(tmp_path):
    assert issue_errors(tmp_path, claim_with(type="number", answer="inkomn")) == [
        (
            "error",
            "settings.credentials.0.claims.waarde.answer",
            "answer 'inkomn' does not exist; did you mean 'inkomen'?",
        )
    ]


def test_answer_not_found(tmp_path):
    assert issue_errors(tmp_path, claim_with(type="number", answer="vermogen")) == [
        (
            "error",
            "settings.credentials.0.claims.waarde.answer",
            "answer 'vermogen' does not exist; use the id of a question step before "
            "this one",
        )
    ]


def test_answer_of_other_kind(tmp_path):
    assert issue_errors(tmp_path, claim_with(type="string", answer="klaar")) == [
        (
            "error",
            "settings.credentials.0.claims.waarde.answer",
            "step 'klaar' is an outcome step, which asks nothing; use the id of a "
            "question step",
        )
    ]


def test_answer_not_on_every_path(tmp_path):
    assert issue_errors(tmp_path, claim_with(type="integer", answer="aantal")) == [
        (
            "error",
            "settings.credentials.0.claims.waarde.answer",
            "answer 'aantal' is not asked on every path to step 'ophalen'; ask it "
            "on every path before this step, or take the value from the persona",
        )
    ]


def test_answer_type_mismatch(tmp_path):
    assert issue_errors(tmp_path, claim_with(type="boolean", answer="inkomen")) == [
        (
            "error",
            "settings.credentials.0.claims.waarde.type",
            "answer 'inkomen' is an amount answer, which gives an amount of euros, a "
            "number, not a boolean; set 'type: number' or take another answer",
        )
    ]


def test_answer_yesno_needs_boolean(tmp_path):
    assert issue_errors(tmp_path, claim_with(type="string", answer="kinderen")) == [
        (
            "error",
            "settings.credentials.0.claims.waarde.type",
            "answer 'kinderen' is a yesno answer, which gives true or false, not a "
            "string; set 'type: boolean' or take another answer",
        )
    ]


def test_answer_yesno_fits_boolean(tmp_path):
    assert issue_errors(tmp_path, claim_with(type="boolean", answer="kinderen")) == []


def whole_number_flow(tmp_path, claim_type: str, integer: bool):
    data = flow_data(claim_with(type=claim_type, answer="aantal"), PRESENT)
    data["steps"][1]["next"] = "aantal"
    data["steps"][2]["answer"]["integer"] = integer
    return load(tmp_path, data=data)


@pytest.mark.parametrize("claim_type", ["integer", "number"])
def test_whole_number_fits(tmp_path, claim_type):
    flow = whole_number_flow(tmp_path, claim_type, integer=True)
    assert reported(flow, "ophalen") == []


def test_fraction_not_integer(tmp_path):
    flow = whole_number_flow(tmp_path, "integer", integer=False)
    assert reported(flow, "ophalen") == [
        (
            "error",
            "settings.credentials.0.claims.waarde.type",
            "answer 'aantal' is a number answer, which gives a number, not an "
            "integer; set 'type: number' or take another answer",
        )
    ]


def test_whole_number_not_string(tmp_path):
    flow = whole_number_flow(tmp_path, "string", integer=True)
    assert reported(flow, "ophalen") == [
        (
            "error",
            "settings.credentials.0.claims.waarde.type",
            "answer 'aantal' is a number answer, which gives a whole number, not a "
            "string; set 'type: integer' or take another answer",
        )
    ]


def test_answer_of_invalid_step_skipped(tmp_path):
    data = flow_data(claim_with(type="number", answer="inkomen"), PRESENT)
    data["steps"][0]["answer"]["type"] = "bedrag"
    folder = tmp_path / "proef"
    folder.mkdir()
    (folder / "flow.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    flow = load_flow(folder, Problems())
    assert "inkomen" in flow.skipped_steps
    assert reported(flow, "ophalen") == []


def test_answer_checked_beside_errors(tmp_path):
    settings = claim_with(type="number", answer="inkomn")
    settings["expires_in"] = 0
    assert issue_errors(tmp_path, settings) == [
        (
            "error",
            "settings.credentials.0.claims.waarde.answer",
            "answer 'inkomn' does not exist; did you mean 'inkomen'?",
        ),
        (
            "error",
            "settings.expires_in",
            "expected a whole number of seconds from 60 to 900, got 0",
        ),
    ]


# A query that asks for credentials issued in the same flow.


def test_issuer_of_flow_untrusted(tmp_path):
    settings = present_with(trusted_issuers=["https://elders.example"])
    assert present_errors(tmp_path, settings) == [
        (
            "warning",
            "settings.trusted_issuers",
            "step 'ophalen' issues 'urn:example:inkomen' signed by "
            "'https://uitgifte.gemeente.example', which trusted_issuers does not "
            "list, so those credentials would be rejected; add "
            "'https://uitgifte.gemeente.example'",
        )
    ]


def test_claim_not_issued(tmp_path):
    settings = present_with()
    settings["query"]["credentials"][0]["claims"].append({"path": ["bruto"]})
    assert present_errors(tmp_path, settings) == [
        (
            "warning",
            "settings.query.credentials.0.claims.1.path",
            "claim 'bruto' is not among the claims that step 'ophalen' issues in "
            "'urn:example:inkomen' (netto_per_maand, peildatum); correct the path or "
            "add the claim there",
        )
    ]


def test_other_credential_types_unchecked(tmp_path):
    settings = present_with()
    credential = settings["query"]["credentials"][0]
    credential["meta"]["vct_values"] = ["urn:example:elders"]
    credential["claims"] = [{"path": ["bruto"]}]
    assert present_errors(tmp_path, settings) == []


# The shipped VIL flow.


def test_vil_wallet_steps_valid():
    flow = load_flow(PROJECT / "steps" / "vil", Problems())
    wallet_steps = [s for s in flow.steps.values() if s.kind == "wallet"]
    assert [s.id for s in wallet_steps] == ["gegevens-ophalen", "gegevens-delen"]
    for step in wallet_steps:
        assert reported(flow, step.id) == []


def test_vil_reads_settings():
    flow = load_flow(PROJECT / "steps" / "vil", Problems())
    issue = walletstep.read_settings(flow.steps["gegevens-ophalen"])
    present = walletstep.read_settings(flow.steps["gegevens-delen"])
    issued = {c.vct for c in issue.credentials}
    asked = {
        vct
        for credential in present.query["credentials"]
        for vct in credential["meta"]["vct_values"]
    }
    assert asked <= issued
    assert issue.issuer in present.trusted_issuers
