"""DCQL queries: validation, claims path pointers, the holder and the verifier.

The example queries follow the kinds of examples in OpenID4VP 1.0 (sections
6 and 7 and appendix D), written with data of their own.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from stappen import dcql
from stappen.dcql import Candidate, ClaimPathError, Disclosure, InvalidQuery

PID = "urn:example:pid"
REDUCED_PID = "urn:example:pid-reduced"
RESIDENCE = "urn:example:woonadres"
REWARDS = "urn:example:stadspas"


def credential_query(id="pid", vct=PID, **fields) -> dict:
    return {"id": id, "format": "dc+sd-jwt", "meta": {"vct_values": [vct]}, **fields}


def query_of(*credentials, **fields) -> dict:
    return {"credentials": list(credentials) or [credential_query()], **fields}


def claims_query(*paths) -> list[dict]:
    return [{"path": list(path)} for path in paths]


# Example queries in the manner of the specification.

SIMPLE = query_of(
    credential_query(
        claims=claims_query(["achternaam"], ["voornamen"], ["adres", "straat"])
    )
)
"""One SD-JWT VC with three claims, one of them nested."""

MULTIPLE_CREDENTIALS = query_of(
    credential_query(claims=claims_query(["achternaam"])),
    credential_query("woonadres", RESIDENCE, claims=claims_query(["woonplaats"])),
)
"""Two credentials, both of which must be presented."""

CREDENTIAL_ALTERNATIVES = query_of(
    credential_query(claims=claims_query(["achternaam"], ["adres", "straat"])),
    credential_query("ander_pid", "urn:example:ander-pid"),
    credential_query("pid_kort", REDUCED_PID, claims=claims_query(["achternaam"])),
    credential_query("woonadres", RESIDENCE, claims=claims_query(["straat"])),
    credential_query("stadspas", REWARDS, claims=claims_query(["pasnummer"])),
    credential_sets=[
        {"options": [["pid"], ["ander_pid"], ["pid_kort", "woonadres"]]},
        {"required": False, "options": [["stadspas"]]},
    ],
)
"""The pid, or the other pid, or a short pid with an address; a city pass
may come along."""

CLAIM_ALTERNATIVES = query_of(
    credential_query(
        claims=[
            {"id": "naam", "path": ["achternaam"]},
            {"id": "postcode", "path": ["postcode"]},
            {"id": "woonplaats", "path": ["woonplaats"]},
            {"id": "provincie", "path": ["provincie"]},
            {"id": "geboren", "path": ["geboortedatum"]},
        ],
        claim_sets=[
            ["naam", "woonplaats", "provincie", "geboren"],
            ["naam", "postcode", "geboren"],
        ],
    )
)
"""Name and birth date, with place and province or else the postcode."""

VALUE_MATCHING = query_of(
    credential_query(
        claims=[
            {"path": ["achternaam"], "values": ["Jansen"]},
            {"path": ["voornamen"]},
            {"path": ["postcode"], "values": ["3511 AA", "3512 BB"]},
        ]
    )
)
"""Claims restricted to certain values."""

TRUSTED_AUTHORITIES = query_of(
    credential_query(
        trusted_authorities=[
            {"type": "aki", "values": ["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]},
            {"type": "openid_federation", "values": ["https://trust.example"]},
        ],
        require_cryptographic_holder_binding=True,
        multiple=False,
    )
)


@pytest.mark.parametrize(
    "query",
    [
        SIMPLE,
        MULTIPLE_CREDENTIALS,
        CREDENTIAL_ALTERNATIVES,
        CLAIM_ALTERNATIVES,
        VALUE_MATCHING,
        TRUSTED_AUTHORITIES,
    ],
    ids=["simple", "multiple", "credential-sets", "claim-sets", "values", "trust"],
)
def test_examples_are_valid(query):
    assert dcql.check_query(query) == []


def test_null_and_index_paths_valid():
    query = query_of(credential_query(claims=claims_query(["diplomas", None, 0])))
    assert dcql.check_query(query) == []


# Validation: the query and its Credential Queries.


def test_query_not_mapping():
    assert dcql.check_query(["pid"]) == [
        (
            (),
            "expected a DCQL query: a mapping with 'credentials', got a list of 1 item",
        )
    ]


def test_credentials_missing():
    assert dcql.check_query({}) == [
        (
            ("credentials",),
            "missing: list the credentials to request under 'credentials', each "
            "with id, format and meta",
        )
    ]


def test_credentials_empty():
    assert dcql.check_query({"credentials": []}) == [
        (
            ("credentials",),
            "expected a non-empty list of credential queries, got an empty list",
        )
    ]


def test_unknown_field_suggests_name():
    query = query_of(credential_set=[])
    assert dcql.check_query(query) == [
        (
            ("credential_set",),
            "unknown field 'credential_set'; did you mean 'credential_sets'?",
        )
    ]


def test_unknown_field_lists_fields():
    query = query_of(doel="toets")
    assert dcql.check_query(query) == [
        (
            ("doel",),
            "unknown field 'doel'; expected one of credentials, credential_sets",
        )
    ]


def test_credential_not_mapping():
    assert dcql.check_query({"credentials": ["pid"]}) == [
        (
            ("credentials", 0),
            "expected a credential query: a mapping with id, format and meta, "
            "got 'pid'",
        )
    ]


def test_credential_unknown_field():
    query = query_of(credential_query(claim=[]))
    assert dcql.check_query(query) == [
        (("credentials", 0, "claim"), "unknown field 'claim'; did you mean 'claims'?")
    ]


def test_credential_id_missing():
    credential = credential_query()
    del credential["id"]
    assert dcql.check_query(query_of(credential)) == [
        (
            ("credentials", 0, "id"),
            "missing: give the credential query an id of letters, digits, '_' "
            "or '-'; the response uses it as the key of the presentation",
        )
    ]


def test_credential_id_invalid():
    query = query_of(credential_query("mijn pid"))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "id"),
            "expected an id of letters, digits, '_' or '-', got 'mijn pid'",
        )
    ]


def test_credential_id_twice():
    query = query_of(credential_query(), credential_query())
    assert dcql.check_query(query) == [
        (
            ("credentials", 1, "id"),
            "credential query id 'pid' appears twice; give each credential query "
            "its own id",
        )
    ]


def test_format_missing():
    credential = credential_query()
    del credential["format"]
    assert dcql.check_query(query_of(credential)) == [
        (("credentials", 0, "format"), "missing: write 'format: dc+sd-jwt'")
    ]


def test_format_draft_name():
    query = query_of(credential_query(format="vc+sd-jwt"))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "format"),
            "'vc+sd-jwt' is the name of SD-JWT VC in drafts before OpenID4VP 1.0; "
            "use 'dc+sd-jwt'",
        )
    ]


def test_format_mdoc_unsupported():
    query = query_of(credential_query(format="mso_mdoc"))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "format"),
            "format 'mso_mdoc' (ISO mdoc) is not supported: Stappen handles "
            "SD-JWT VCs only; use 'dc+sd-jwt'",
        )
    ]


def test_format_unknown():
    query = query_of(credential_query(format="sd-jwt"))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "format"),
            "expected 'dc+sd-jwt' (SD-JWT VC), got 'sd-jwt'",
        )
    ]


def test_meta_missing():
    credential = credential_query()
    del credential["meta"]
    assert dcql.check_query(query_of(credential)) == [
        (
            ("credentials", 0, "meta"),
            "missing: add 'meta' with vct_values, the credential types to accept",
        )
    ]


def test_meta_not_mapping():
    query = query_of(credential_query(meta=[PID]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "meta"),
            "expected a mapping with vct_values, got a list of 1 item",
        )
    ]


def test_vct_values_missing():
    query = query_of(credential_query(meta={}))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "meta", "vct_values"),
            "missing: list the credential types (vct) to accept under 'vct_values'",
        )
    ]


def test_vct_values_not_list():
    query = query_of(credential_query(meta={"vct_values": PID}))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "meta", "vct_values"),
            "expected a non-empty list of credential types (vct), got "
            "'urn:example:pid'",
        )
    ]


def test_vct_value_empty_text():
    query = query_of(credential_query(meta={"vct_values": [PID, ""]}))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "meta", "vct_values", 1),
            "expected a non-empty text, got ''",
        )
    ]


def test_meta_of_mdoc_unknown():
    meta = {"vct_values": [PID], "doctype_value": "org.iso.18013.5.1.mDL"}
    query = query_of(credential_query(meta=meta))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "meta", "doctype_value"),
            "unknown field 'doctype_value'; did you mean 'vct_values'?",
        )
    ]


@pytest.mark.parametrize("name", ["multiple", "require_cryptographic_holder_binding"])
def test_flag_not_boolean(name):
    query = query_of(credential_query(**{name: "ja"}))
    assert dcql.check_query(query) == [
        (("credentials", 0, name), "expected true or false, got 'ja'")
    ]


# Validation: trusted_authorities.


def test_authorities_empty():
    query = query_of(credential_query(trusted_authorities=[]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "trusted_authorities"),
            "expected a non-empty list of trusted authorities, each with type and "
            "values, got an empty list",
        )
    ]


def test_authority_not_mapping():
    query = query_of(credential_query(trusted_authorities=["aki"]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "trusted_authorities", 0),
            "expected a mapping with type and values, got 'aki'",
        )
    ]


def test_authority_type_missing():
    query = query_of(credential_query(trusted_authorities=[{"values": ["x"]}]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "trusted_authorities", 0, "type"),
            "missing: use one of aki, etsi_tl, openid_federation",
        )
    ]


def test_authority_type_unknown():
    authority = {"type": "x509", "values": ["x"]}
    query = query_of(credential_query(trusted_authorities=[authority]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "trusted_authorities", 0, "type"),
            "expected one of aki, etsi_tl, openid_federation, got 'x509'",
        )
    ]


def test_authority_values_missing():
    query = query_of(credential_query(trusted_authorities=[{"type": "aki"}]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "trusted_authorities", 0, "values"),
            "missing: list the identifiers of the authorities under 'values'",
        )
    ]


def test_authority_values_not_list():
    authority = {"type": "etsi_tl", "values": "https://lotl.example"}
    query = query_of(credential_query(trusted_authorities=[authority]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "trusted_authorities", 0, "values"),
            "expected a non-empty list of texts, got 'https://lotl.example'",
        )
    ]


# Validation: claims and claim_sets.


def test_claims_empty():
    query = query_of(credential_query(claims=[]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "claims"),
            "expected a non-empty list of claims queries, got an empty list",
        )
    ]


def test_claim_not_mapping():
    query = query_of(credential_query(claims=["achternaam"]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "claims", 0),
            "expected a claims query: a mapping with path, got 'achternaam'",
        )
    ]


def test_claim_unknown_field():
    claims = [{"path": ["achternaam"], "intent_to_retain": False}]
    query = query_of(credential_query(claims=claims))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "claims", 0, "intent_to_retain"),
            "unknown field 'intent_to_retain'; expected one of id, path, values",
        )
    ]


def test_claim_path_missing():
    query = query_of(credential_query(claims=[{"values": ["Jansen"]}]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "claims", 0, "path"),
            "missing: give the claim's path, a list such as [adres, woonplaats]",
        )
    ]


def test_claim_path_empty():
    query = query_of(credential_query(claims=[{"path": []}]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "claims", 0, "path"),
            "expected a non-empty list of claim names, array indexes and null, "
            "got an empty list",
        )
    ]


def test_claim_path_text():
    query = query_of(credential_query(claims=[{"path": "adres.straat"}]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "claims", 0, "path"),
            "expected a non-empty list of claim names, array indexes and null, "
            "got 'adres.straat'",
        )
    ]


def test_claim_path_bad_components():
    query = query_of(credential_query(claims=[{"path": ["a", -1, 1.5, True]}]))
    message = "expected a claim name, an array index (0 or more) or null, got "
    assert dcql.check_query(query) == [
        (("credentials", 0, "claims", 0, "path", 1), message + "-1"),
        (("credentials", 0, "claims", 0, "path", 2), message + "1.5"),
        (("credentials", 0, "claims", 0, "path", 3), message + "true"),
    ]


def test_claim_path_twice():
    claims = claims_query(["adres", None, "straat"], ["adres", None, "straat"])
    query = query_of(credential_query(claims=claims))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "claims", 1, "path"),
            "path [adres, null, straat] is requested twice in this credential "
            "query; remove one",
        )
    ]


def test_claim_values_empty():
    claims = [{"path": ["achternaam"], "values": []}]
    query = query_of(credential_query(claims=claims))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "claims", 0, "values"),
            "expected a non-empty list of texts, whole numbers or booleans, got an "
            "empty list",
        )
    ]


def test_claim_values_bad_types():
    claims = [{"path": ["inkomen"], "values": [1500, 1500.5, None, True, "1500"]}]
    query = query_of(credential_query(claims=claims))
    message = "expected a text, a whole number or a boolean, got "
    assert dcql.check_query(query) == [
        (("credentials", 0, "claims", 0, "values", 1), message + "1500.5"),
        (("credentials", 0, "claims", 0, "values", 2), message + "an empty value"),
    ]


def test_claim_id_invalid():
    claims = [{"id": "achter naam", "path": ["achternaam"]}]
    query = query_of(credential_query(claims=claims))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "claims", 0, "id"),
            "expected an id of letters, digits, '_' or '-', got 'achter naam'",
        )
    ]


def test_claim_id_twice():
    claims = [{"id": "naam", "path": ["achternaam"]}, {"id": "naam", "path": ["n"]}]
    query = query_of(credential_query(claims=claims))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "claims", 1, "id"),
            "claim id 'naam' appears twice in this credential query; give each "
            "claim its own id",
        )
    ]


def test_claim_id_needed_for_sets():
    claims = [{"id": "naam", "path": ["achternaam"]}, {"path": ["postcode"]}]
    query = query_of(credential_query(claims=claims, claim_sets=[["naam"]]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "claims", 1, "id"),
            "missing: claim_sets refers to claims by id, so give every claim an id",
        )
    ]


def test_claim_sets_without_claims():
    query = query_of(credential_query(claim_sets=[["naam"]]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "claim_sets"),
            "claim_sets chooses among claims, but there are none; add 'claims' or "
            "remove 'claim_sets'",
        )
    ]


def test_claim_sets_not_list():
    claims = [{"id": "naam", "path": ["achternaam"]}]
    query = query_of(credential_query(claims=claims, claim_sets="naam"))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "claim_sets"),
            "expected a non-empty list of claim sets, each a list of claim ids, "
            "got 'naam'",
        )
    ]


def test_claim_set_empty():
    claims = [{"id": "naam", "path": ["achternaam"]}]
    query = query_of(credential_query(claims=claims, claim_sets=[["naam"], []]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "claim_sets", 1),
            "expected a non-empty list of claim ids, got an empty list",
        )
    ]


def test_claim_set_unknown_id_close():
    claims = [{"id": "naam", "path": ["achternaam"]}]
    query = query_of(credential_query(claims=claims, claim_sets=[["nam"]]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "claim_sets", 0, 0),
            "claim id 'nam' does not exist; did you mean 'naam'?",
        )
    ]


def test_claim_set_unknown_id_listed():
    claims = [{"id": "naam", "path": ["achternaam"]}, {"id": "pc", "path": ["p"]}]
    query = query_of(credential_query(claims=claims, claim_sets=[["geboren"]]))
    assert dcql.check_query(query) == [
        (
            ("credentials", 0, "claim_sets", 0, 0),
            "claim id 'geboren' does not exist; use one of naam, pc",
        )
    ]


def test_claim_set_item_not_text():
    claims = [{"id": "naam", "path": ["achternaam"]}]
    query = query_of(credential_query(claims=claims, claim_sets=[["naam", 2]]))
    assert dcql.check_query(query) == [
        (("credentials", 0, "claim_sets", 0, 1), "expected a claim id, got 2")
    ]


# Validation: credential_sets.


def test_credential_sets_empty():
    assert dcql.check_query(query_of(credential_sets=[])) == [
        (
            ("credential_sets",),
            "expected a non-empty list of credential sets, each with options, got "
            "an empty list",
        )
    ]


def test_credential_set_not_mapping():
    assert dcql.check_query(query_of(credential_sets=[["pid"]])) == [
        (
            ("credential_sets", 0),
            "expected a credential set: a mapping with options, got a list of 1 item",
        )
    ]


def test_credential_set_options_missing():
    assert dcql.check_query(query_of(credential_sets=[{"required": True}])) == [
        (
            ("credential_sets", 0, "options"),
            "missing: list under 'options' the alternative lists of credential "
            "query ids",
        )
    ]


def test_credential_set_options_empty():
    assert dcql.check_query(query_of(credential_sets=[{"options": []}])) == [
        (
            ("credential_sets", 0, "options"),
            "expected a non-empty list of options, each a list of credential query "
            "ids, got an empty list",
        )
    ]


def test_credential_set_option_empty():
    assert dcql.check_query(query_of(credential_sets=[{"options": [[]]}])) == [
        (
            ("credential_sets", 0, "options", 0),
            "expected a non-empty list of credential query ids, got an empty list",
        )
    ]


def test_credential_set_unknown_id():
    query = query_of(credential_sets=[{"options": [["pdi"]]}])
    assert dcql.check_query(query) == [
        (
            ("credential_sets", 0, "options", 0, 0),
            "credential query id 'pdi' does not exist; did you mean 'pid'?",
        )
    ]


def test_credential_set_id_not_text():
    query = query_of(credential_sets=[{"options": [[{"id": "pid"}]]}])
    assert dcql.check_query(query) == [
        (
            ("credential_sets", 0, "options", 0, 0),
            "expected a credential query id, got a mapping with key id",
        )
    ]


def test_credential_set_required_not_boolean():
    query = query_of(credential_sets=[{"options": [["pid"]], "required": "nee"}])
    assert dcql.check_query(query) == [
        (("credential_sets", 0, "required"), "expected true or false, got 'nee'")
    ]


def test_credential_set_unknown_field():
    query = query_of(credential_sets=[{"option": [["pid"]]}])
    assert dcql.check_query(query) == [
        (
            ("credential_sets", 0, "option"),
            "unknown field 'option'; did you mean 'options'?",
        ),
        (
            ("credential_sets", 0, "options"),
            "missing: list under 'options' the alternative lists of credential "
            "query ids",
        ),
    ]


# Claims path pointers, on a credential shaped like the specification's example.

PERSON = {
    "naam": "Fatima el Amrani",
    "adres": {"straat": "Oudegracht 1", "woonplaats": "Utrecht"},
    "diplomas": [
        {"soort": "mbo", "school": "ROC Midden Nederland", "jaar": 2012},
        {"soort": "hbo", "school": "Hogeschool Utrecht"},
    ],
    "nationaliteiten": ["NL", "MA"],
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (["naam"], ["Fatima el Amrani"]),
        (["adres"], [PERSON["adres"]]),
        (["adres", "straat"], ["Oudegracht 1"]),
        (["diplomas", None, "soort"], ["mbo", "hbo"]),
        (["diplomas", None, "jaar"], [2012]),
        (["nationaliteiten", 1], ["MA"]),
        (["nationaliteiten", None], ["NL", "MA"]),
        (["telefoon"], []),
        (["nationaliteiten", 2], []),
        (["adres", "postcode"], []),
    ],
)
def test_claims_at_selects(path, expected):
    assert dcql.claims_at(PERSON, path) == expected


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (["diplomas", "soort"], "component 1 of [diplomas, soort] needs an object, "),
        (["adres", 0], "component 1 of [adres, 0] needs an array, "),
        (["naam", None], "component 1 of [naam, null] needs an array, "),
        (["naam", True], "component 1 of [naam, true] is true; expected a claim "),
        (["naam", -1], "component 1 of [naam, -1] is -1; expected a claim "),
    ],
)
def test_claims_at_rejects_shape(path, message):
    with pytest.raises(ClaimPathError, match=f"^{re.escape(message)}"):
        dcql.claims_at(PERSON, path)


def test_claims_at_error_names_value():
    with pytest.raises(ClaimPathError) as caught:
        dcql.claims_at(PERSON, ["diplomas", "soort"])
    assert str(caught.value) == (
        "component 1 of [diplomas, soort] needs an object, got a list of 2 items"
    )


# The holder: match.

JANSEN = Candidate(
    id="pid-1",
    vct=PID,
    claims={
        "achternaam": "Jansen",
        "voornamen": "Kees",
        "adres": {"straat": "Oudegracht 1"},
        "postcode": "3511 AA",
        "woonplaats": "Utrecht",
        "geboortedatum": "1980-05-01",
    },
    issuer="https://uitgifte.example",
)


def with_claims(candidate: Candidate, **changes) -> Candidate:
    claims = {**candidate.claims, **changes}
    claims = {name: value for name, value in claims.items() if value is not None}
    return dataclasses.replace(candidate, claims=claims)


def test_match_simple():
    selection = dcql.match(SIMPLE, [JANSEN])
    assert selection.credentials == {
        "pid": (
            Disclosure(JANSEN, (("achternaam",), ("voornamen",), ("adres", "straat"))),
        )
    }


def test_match_skips_other_type():
    other = dataclasses.replace(JANSEN, id="pas", vct=REWARDS)
    selection = dcql.match(SIMPLE, [other, JANSEN])
    assert selection.credentials["pid"][0].credential is JANSEN


def test_match_missing_claim_fails():
    without_street = with_claims(JANSEN, adres={"woonplaats": "Utrecht"})
    assert dcql.match(SIMPLE, [without_street]) is None


def test_match_no_claims_discloses_nothing():
    selection = dcql.match(query_of(), [JANSEN])
    assert selection.credentials == {"pid": (Disclosure(JANSEN, ()),)}


def test_match_claim_sets_prefers_first():
    with_province = with_claims(JANSEN, provincie="Utrecht")
    selection = dcql.match(CLAIM_ALTERNATIVES, [with_province])
    paths = selection.credentials["pid"][0].paths
    assert paths == (
        ("achternaam",),
        ("woonplaats",),
        ("provincie",),
        ("geboortedatum",),
    )


def test_match_claim_sets_falls_back():
    selection = dcql.match(CLAIM_ALTERNATIVES, [JANSEN])
    paths = selection.credentials["pid"][0].paths
    assert paths == (("achternaam",), ("postcode",), ("geboortedatum",))


def test_match_claim_sets_none_fits():
    without = with_claims(JANSEN, postcode=None, geboortedatum=None)
    assert dcql.match(CLAIM_ALTERNATIVES, [without]) is None


def test_match_values_accepts_listed():
    assert dcql.match(VALUE_MATCHING, [JANSEN]) is not None


def test_match_values_rejects_other():
    elsewhere = with_claims(JANSEN, postcode="1012 AB")
    assert dcql.match(VALUE_MATCHING, [elsewhere]) is None


@pytest.mark.parametrize(
    ("claim", "values", "fits"),
    [
        (True, [True], True),
        (True, [1], False),
        (1, [True], False),
        (1500.0, [1500], True),
        (1500, ["1500"], False),
        ("ja", ["ja", "nee"], True),
    ],
)
def test_match_values_compare_types(claim, values, fits):
    query = query_of(credential_query(claims=[{"path": ["x"], "values": values}]))
    candidate = dataclasses.replace(JANSEN, claims={"x": claim})
    assert (dcql.match(query, [candidate]) is not None) is fits


def test_match_values_any_of_array():
    query = query_of(
        credential_query(claims=[{"path": ["nationaliteiten", None], "values": ["MA"]}])
    )
    candidate = dataclasses.replace(JANSEN, claims=PERSON)
    assert dcql.match(query, [candidate]) is not None


def test_match_multiple_takes_all():
    second = dataclasses.replace(JANSEN, id="pid-2")
    selection = dcql.match(query_of(credential_query(multiple=True)), [JANSEN, second])
    assert [d.credential.id for d in selection.credentials["pid"]] == ["pid-1", "pid-2"]


def test_match_single_takes_first():
    second = dataclasses.replace(JANSEN, id="pid-2")
    selection = dcql.match(query_of(), [JANSEN, second])
    assert [d.credential.id for d in selection.credentials["pid"]] == ["pid-1"]


def test_match_all_credentials_required():
    assert dcql.match(MULTIPLE_CREDENTIALS, [JANSEN]) is None


def test_match_all_credentials_present():
    address = Candidate("adres-1", RESIDENCE, {"woonplaats": "Utrecht"}, "https://a.nl")
    selection = dcql.match(MULTIPLE_CREDENTIALS, [JANSEN, address])
    assert list(selection.credentials) == ["pid", "woonadres"]


STREET = Candidate("adres-1", RESIDENCE, {"straat": "Oudegracht 1"}, "https://a.nl")
SHORT_PID = Candidate("kort-1", REDUCED_PID, {"achternaam": "Jansen"}, "https://a.nl")
CITY_PASS = Candidate("pas-1", REWARDS, {"pasnummer": "U-1234"}, "https://a.nl")
OTHER_PID = Candidate("ander-1", "urn:example:ander-pid", {}, "https://b.nl")


def test_credential_sets_first_option():
    selection = dcql.match(CREDENTIAL_ALTERNATIVES, [OTHER_PID, JANSEN])
    assert list(selection.credentials) == ["pid"]


def test_credential_sets_second_option():
    selection = dcql.match(CREDENTIAL_ALTERNATIVES, [OTHER_PID, SHORT_PID, STREET])
    assert list(selection.credentials) == ["ander_pid"]


def test_credential_sets_combined_option():
    selection = dcql.match(CREDENTIAL_ALTERNATIVES, [SHORT_PID, STREET])
    assert list(selection.credentials) == ["pid_kort", "woonadres"]


def test_credential_sets_partial_option_fails():
    assert dcql.match(CREDENTIAL_ALTERNATIVES, [SHORT_PID, CITY_PASS]) is None


def test_credential_sets_optional_included():
    selection = dcql.match(CREDENTIAL_ALTERNATIVES, [CITY_PASS, JANSEN])
    assert list(selection.credentials) == ["pid", "stadspas"]


def test_credential_sets_optional_left_out():
    selection = dcql.match(CREDENTIAL_ALTERNATIVES, [JANSEN])
    assert "stadspas" not in selection.credentials


def test_match_rejects_invalid_query():
    with pytest.raises(
        InvalidQuery, match=r"^invalid DCQL query: credentials: missing"
    ):
        dcql.match({}, [JANSEN])


# The verifier: satisfied.


@dataclasses.dataclass(frozen=True)
class Verified:
    vct: str
    claims: dict
    issuer: str = "https://uitgifte.example"


def verified(candidate: Candidate) -> Verified:
    return Verified(candidate.vct, dict(candidate.claims), candidate.issuer)


def test_satisfied_simple():
    assert dcql.satisfied(SIMPLE, {"pid": [verified(JANSEN)]}) == []


def test_satisfied_unknown_id():
    presented = {"pid": [verified(JANSEN)], "paspoort": [verified(JANSEN)]}
    assert dcql.satisfied(SIMPLE, presented) == [
        "the presentation contains 'paspoort', which is not a credential query of "
        "the request; expected 'pid'"
    ]


def test_satisfied_empty_list():
    assert dcql.satisfied(SIMPLE, {"pid": []}) == [
        "credential query 'pid' has an empty list; expected one credential or more"
    ]


def test_satisfied_one_too_many():
    presented = {"pid": [verified(JANSEN), verified(JANSEN)]}
    assert dcql.satisfied(query_of(), presented) == [
        "credential query 'pid' asks for one credential (multiple is false), got 2"
    ]


def test_satisfied_multiple_allowed():
    presented = {"pid": [verified(JANSEN), verified(JANSEN)]}
    query = query_of(credential_query(multiple=True))
    assert dcql.satisfied(query, presented) == []


def test_satisfied_wrong_type():
    presented = {"pid": [Verified(REWARDS, {})]}
    assert dcql.satisfied(query_of(), presented) == [
        "credential 'pid' has type 'urn:example:stadspas', expected 'urn:example:pid'"
    ]


def test_satisfied_wrong_type_of_several():
    query = query_of(credential_query(meta={"vct_values": [PID, REDUCED_PID]}))
    presented = {"pid": [Verified(REWARDS, {})]}
    assert dcql.satisfied(query, presented) == [
        "credential 'pid' has type 'urn:example:stadspas', expected one of "
        "'urn:example:pid', 'urn:example:pid-reduced'"
    ]


def test_satisfied_claim_not_disclosed():
    claims = {"achternaam": "Jansen", "adres": {"straat": "Oudegracht 1"}}
    presented = {"pid": [Verified(PID, claims)]}
    assert dcql.satisfied(SIMPLE, presented) == [
        "credential 'pid' does not disclose claim [voornamen]"
    ]


def test_satisfied_claim_wrong_shape():
    claims = {"achternaam": "J", "voornamen": "K", "adres": "Oudegracht 1"}
    presented = {"pid": [Verified(PID, claims)]}
    assert dcql.satisfied(SIMPLE, presented) == [
        "credential 'pid' does not disclose claim [adres, straat]: component 1 of "
        "[adres, straat] needs an object, got 'Oudegracht 1'"
    ]


def test_satisfied_value_not_listed():
    presented = {"pid": [verified(with_claims(JANSEN, postcode="1012 AB"))]}
    assert dcql.satisfied(VALUE_MATCHING, presented) == [
        "credential 'pid' discloses [postcode] as '1012 AB', expected one of "
        "'3511 AA', '3512 BB'"
    ]


def test_satisfied_claim_sets_met():
    assert dcql.satisfied(CLAIM_ALTERNATIVES, {"pid": [verified(JANSEN)]}) == []


def test_satisfied_claim_sets_unmet():
    without = with_claims(JANSEN, postcode=None, provincie=None)
    assert dcql.satisfied(CLAIM_ALTERNATIVES, {"pid": [verified(without)]}) == [
        "credential 'pid' satisfies none of its claim_sets: [naam, woonplaats, "
        "provincie, geboren] lacks provincie; [naam, postcode, geboren] lacks "
        "postcode"
    ]


def test_satisfied_numbers_each_credential():
    query = query_of(
        credential_query(multiple=True, claims=claims_query(["voornamen"]))
    )
    presented = {"pid": [verified(JANSEN), Verified(PID, {})]}
    assert dcql.satisfied(query, presented) == [
        "credential 'pid' number 2 does not disclose claim [voornamen]"
    ]


def test_satisfied_missing_credential():
    presented = {"pid": [verified(JANSEN)]}
    assert dcql.satisfied(MULTIPLE_CREDENTIALS, presented) == [
        "missing credential 'woonadres', which the query requires"
    ]


def test_satisfied_credential_set_option():
    presented = {"pid_kort": [verified(SHORT_PID)], "woonadres": [verified(STREET)]}
    assert dcql.satisfied(CREDENTIAL_ALTERNATIVES, presented) == []


def test_satisfied_credential_set_unmet():
    presented = {"pid_kort": [verified(SHORT_PID)], "stadspas": [verified(CITY_PASS)]}
    assert dcql.satisfied(CREDENTIAL_ALTERNATIVES, presented) == [
        "no option of credential set 1 was presented; expected 'pid' or "
        "'ander_pid' or 'pid_kort' and 'woonadres'"
    ]


def test_satisfied_optional_set_absent():
    assert dcql.satisfied(CREDENTIAL_ALTERNATIVES, {"pid": [verified(JANSEN)]}) == []


def test_satisfied_rejects_invalid_query():
    query = query_of(credential_query(format="mso_mdoc"))
    with pytest.raises(
        InvalidQuery, match=r"credentials\.0\.format: format 'mso_mdoc'"
    ):
        dcql.satisfied(query, {})


def disclosed(disclosure: Disclosure) -> Verified:
    """Present only the top-level claims that the disclosure's paths name."""
    claims = disclosure.credential.claims
    kept = {path[0]: claims[path[0]] for path in disclosure.paths}
    return Verified(disclosure.credential.vct, kept, disclosure.credential.issuer)


def test_holder_and_verifier_agree():
    wallet = [with_claims(JANSEN, provincie="Utrecht"), STREET]
    for query in (SIMPLE, CLAIM_ALTERNATIVES, VALUE_MATCHING, CREDENTIAL_ALTERNATIVES):
        selection = dcql.match(query, wallet)
        presented = {
            query_id: [disclosed(d) for d in disclosures]
            for query_id, disclosures in selection.credentials.items()
        }
        assert dcql.satisfied(query, presented) == []
