"""DCQL queries for SD-JWT VCs: validating, matching and checking them.

DCQL, the Digital Credentials Query Language, is how a verifier requests
credentials from a wallet in OpenID for Verifiable Presentations 1.0 (section
6 of that specification). A query lists Credential Queries under
``credentials``, each naming a format, the accepted credential types and the
claims to disclose. ``credential_sets`` may specify which combinations of them
satisfy the request.

Three parties use this module:

- validation, through :func:`check_query`, for the queries authors write in a
  flow's wallet steps;
- the test wallet (the holder), through :func:`match`, which picks the
  credentials and claims to disclose;
- the verifier, through :func:`satisfied`, which checks that what a wallet
  presented satisfies the query.

Stappen handles one credential format, SD-JWT VC (``dc+sd-jwt``). The
specification tells wallets to ignore unknown fields. :func:`check_query`
reports them anyway, because in a query written by hand an unknown field is
nearly always a misspelt one.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping
from typing import Any, Protocol

from stappen.yamlload import describe

SD_JWT_FORMAT = "dc+sd-jwt"

OTHER_FORMATS = {
    "mso_mdoc": "ISO mdoc",
    "jwt_vc_json": "W3C VC signed as a JWT",
    "ldp_vc": "W3C VC with Data Integrity",
}
"""Formats that OpenID4VP 1.0 defines and Stappen does not handle."""

DRAFT_SD_JWT_FORMAT = "vc+sd-jwt"
"""The name of the SD-JWT VC format in OpenID4VP drafts before 1.0."""

TRUSTED_AUTHORITY_TYPES = ("aki", "etsi_tl", "openid_federation")

QUERY_FIELDS = ("credentials", "credential_sets")
CREDENTIAL_FIELDS = (
    "id",
    "format",
    "multiple",
    "meta",
    "trusted_authorities",
    "require_cryptographic_holder_binding",
    "claims",
    "claim_sets",
)
META_FIELDS = ("vct_values",)
AUTHORITY_FIELDS = ("type", "values")
CLAIM_FIELDS = ("id", "path", "values")
CREDENTIAL_SET_FIELDS = ("options", "required")

MISSING = {
    "credentials": (
        "list the credentials to request under 'credentials', each with id, "
        "format and meta"
    ),
    "id": (
        "give the credential query an id of letters, digits, '_' or '-'; the "
        "response uses it as the key of the presentation"
    ),
    "format": f"write 'format: {SD_JWT_FORMAT}'",
    "meta": "add 'meta' with vct_values, the credential types to accept",
    "vct_values": "list the credential types (vct) to accept under 'vct_values'",
    "type": f"use one of {', '.join(TRUSTED_AUTHORITY_TYPES)}",
    "values": "list the identifiers of the authorities under 'values'",
    "path": "give the claim's path, a list such as [adres, woonplaats]",
    "options": "list under 'options' the alternative lists of credential query ids",
}
"""The fix for each required field when it is missing, by the field's name."""

ID_PATTERN = re.compile(r"[A-Za-z0-9_-]+")
"""Credential Query and claim ids: letters, digits, underscores, hyphens."""

Position = tuple
"""A place inside a query: the keys and list indexes from its top level."""

Found = list[tuple[Position, str]]


class InvalidQuery(ValueError):
    """A DCQL query that :func:`check_query` rejects, given to match or satisfied."""

    def __init__(self, problems: Found) -> None:
        self.problems = problems
        listed = "; ".join(f"{_format_position(p)}: {m}" for p, m in problems)
        super().__init__(f"invalid DCQL query: {listed}")


class ClaimPathError(ValueError):
    """A claims path pointer that does not fit the credential's structure."""


class VerifiedLike(Protocol):
    """A credential whose signature the verifier has checked."""

    vct: str
    claims: Mapping[str, Any]
    issuer: str


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A credential stored in a wallet, which the wallet could present."""

    id: str
    vct: str
    claims: Mapping[str, Any]
    issuer: str


@dataclasses.dataclass(frozen=True)
class Disclosure:
    """One credential to present, with the claim paths to disclose from it."""

    credential: Candidate
    paths: tuple[tuple, ...]


@dataclasses.dataclass(frozen=True)
class Selection:
    """The wallet's response to a query: disclosures per Credential Query id."""

    credentials: Mapping[str, tuple[Disclosure, ...]]


# Validating a query.


def check_query(query) -> Found:
    """Check a DCQL query against OpenID4VP 1.0 and Stappen's single format.

    Returns (path, message) pairs. A path leads from the query's top level to
    the value in question, or to the missing field, so that the caller can
    place the message. An empty list means the query is valid.
    """
    found: Found = []
    if not isinstance(query, dict):
        message = (
            f"expected a DCQL query: a mapping with 'credentials', got {_got(query)}"
        )
        return [((), message)]

    _check_unknown(query, QUERY_FIELDS, (), found)
    ids = _check_credentials(query, found)
    if "credential_sets" in query:
        _check_credential_sets(query["credential_sets"], ids, found)
    return found


def _check_credentials(query: dict, found: Found) -> list[str]:
    """Check every Credential Query and return the ids they define."""
    if not _has(query, "credentials", (), found):
        return []
    credentials = query["credentials"]
    if not _is_filled_list(credentials):
        message = (
            f"expected a non-empty list of credential queries, got {_got(credentials)}"
        )
        found.append((("credentials",), message))
        return []

    ids: list[str] = []
    for index, credential in enumerate(credentials):
        _check_credential(credential, ("credentials", index), ids, found)
    return ids


def _check_credential(credential, path: Position, ids: list[str], found: Found) -> None:
    if not isinstance(credential, dict):
        message = (
            "expected a credential query: a mapping with id, format and meta, "
            f"got {_got(credential)}"
        )
        found.append((path, message))
        return

    _check_unknown(credential, CREDENTIAL_FIELDS, path, found)
    _check_credential_id(credential, path, ids, found)
    _check_format(credential, path, found)
    _check_meta(credential, path, found)
    for name in ("multiple", "require_cryptographic_holder_binding"):
        _check_boolean(credential, name, path, found)
    if "trusted_authorities" in credential:
        _check_authorities(credential["trusted_authorities"], path, found)
    _check_claims(credential, path, found)


def _check_credential_id(
    credential: dict, path: Position, ids: list[str], found
) -> None:
    if not _has(credential, "id", path, found):
        return
    value = credential["id"]
    if not _is_id(value):
        found.append(((*path, "id"), _id_message(value)))
        return
    if value in ids:
        message = (
            f"credential query id {value!r} appears twice; give each credential "
            "query its own id"
        )
        found.append(((*path, "id"), message))
    ids.append(value)


def _check_format(credential: dict, path: Position, found: Found) -> None:
    if not _has(credential, "format", path, found):
        return
    value = credential["format"]
    if value == SD_JWT_FORMAT:
        return
    if value == DRAFT_SD_JWT_FORMAT:
        message = (
            f"{value!r} is the name of SD-JWT VC in drafts before OpenID4VP "
            f"1.0; use {SD_JWT_FORMAT!r}"
        )
    elif value in OTHER_FORMATS:
        message = (
            f"format {value!r} ({OTHER_FORMATS[value]}) is not supported: "
            f"Stappen handles SD-JWT VCs only; use {SD_JWT_FORMAT!r}"
        )
    else:
        message = f"expected {SD_JWT_FORMAT!r} (SD-JWT VC), got {_got(value)}"
    found.append(((*path, "format"), message))


def _check_meta(credential: dict, path: Position, found: Found) -> None:
    if not _has(credential, "meta", path, found):
        return
    here = (*path, "meta")
    meta = credential["meta"]
    if not isinstance(meta, dict):
        found.append((here, f"expected a mapping with vct_values, got {_got(meta)}"))
        return

    _check_unknown(meta, META_FIELDS, here, found)
    if not _has(meta, "vct_values", here, found):
        return
    _check_texts(
        meta["vct_values"], (*here, "vct_values"), "credential types (vct)", found
    )


def _check_boolean(mapping: dict, name: str, path: Position, found: Found) -> None:
    if name in mapping and not isinstance(mapping[name], bool):
        found.append(
            ((*path, name), f"expected true or false, got {_got(mapping[name])}")
        )


def _check_authorities(authorities, path: Position, found: Found) -> None:
    here = (*path, "trusted_authorities")
    if not _is_filled_list(authorities):
        message = (
            "expected a non-empty list of trusted authorities, each with type "
            f"and values, got {_got(authorities)}"
        )
        found.append((here, message))
        return
    for index, authority in enumerate(authorities):
        _check_authority(authority, (*here, index), found)


def _check_authority(authority, path: Position, found: Found) -> None:
    if not isinstance(authority, dict):
        message = f"expected a mapping with type and values, got {_got(authority)}"
        found.append((path, message))
        return

    _check_unknown(authority, AUTHORITY_FIELDS, path, found)
    known_type = authority.get("type") in TRUSTED_AUTHORITY_TYPES
    if _has(authority, "type", path, found) and not known_type:
        types = ", ".join(TRUSTED_AUTHORITY_TYPES)
        message = f"expected one of {types}, got {_got(authority['type'])}"
        found.append(((*path, "type"), message))
    if _has(authority, "values", path, found):
        _check_texts(authority["values"], (*path, "values"), "texts", found)


def _check_texts(values, path: Position, noun: str, found: Found) -> None:
    """Check a non-empty list of non-empty texts."""
    if not _is_filled_list(values):
        found.append((path, f"expected a non-empty list of {noun}, got {_got(values)}"))
        return
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value:
            found.append(
                ((*path, index), f"expected a non-empty text, got {_got(value)}")
            )


# Validating the claims of a Credential Query.


def _check_claims(credential: dict, path: Position, found: Found) -> None:
    has_sets = "claim_sets" in credential
    if "claims" in credential:
        claims = credential["claims"]
        if _is_filled_list(claims):
            _check_claim_list(claims, (*path, "claims"), has_sets, found)
        else:
            message = f"expected a non-empty list of claims queries, got {_got(claims)}"
            found.append(((*path, "claims"), message))
    if has_sets:
        _check_claim_sets(credential, (*path, "claim_sets"), found)


def _check_claim_list(
    claims: list, path: Position, has_sets: bool, found: Found
) -> None:
    ids: list[str] = []
    paths: list[tuple] = []
    for index, claim in enumerate(claims):
        here = (*path, index)
        if not isinstance(claim, dict):
            message = f"expected a claims query: a mapping with path, got {_got(claim)}"
            found.append((here, message))
            continue
        _check_unknown(claim, CLAIM_FIELDS, here, found)
        _check_claim_id(claim, here, has_sets, ids, found)
        _check_claim_path(claim, here, paths, found)
        if "values" in claim:
            _check_values(claim["values"], (*here, "values"), found)


def _check_claim_id(
    claim: dict, path: Position, has_sets: bool, ids: list, found
) -> None:
    here = (*path, "id")
    if "id" not in claim:
        if has_sets:
            message = (
                "missing: claim_sets refers to claims by id, so give every claim an id"
            )
            found.append((here, message))
        return
    value = claim["id"]
    if not _is_id(value):
        found.append((here, _id_message(value)))
        return
    if value in ids:
        message = (
            f"claim id {value!r} appears twice in this credential query; give "
            "each claim its own id"
        )
        found.append((here, message))
    ids.append(value)


def _check_claim_path(
    claim: dict, path: Position, paths: list[tuple], found: Found
) -> None:
    if not _has(claim, "path", path, found):
        return
    here = (*path, "path")
    pointer = claim["path"]
    if not _is_filled_list(pointer):
        message = (
            "expected a non-empty list of claim names, array indexes and null, "
            f"got {_got(pointer)}"
        )
        found.append((here, message))
        return

    if not _components_valid(pointer, here, found):
        return
    if tuple(pointer) in paths:
        message = (
            f"path {format_path(pointer)} is requested twice in this credential "
            "query; remove one"
        )
        found.append((here, message))
    paths.append(tuple(pointer))


def _components_valid(pointer: list, path: Position, found: Found) -> bool:
    valid = True
    for index, part in enumerate(pointer):
        if not _is_path_component(part):
            message = (
                "expected a claim name, an array index (0 or more) or null, got "
                f"{_got(part)}"
            )
            found.append(((*path, index), message))
            valid = False
    return valid


def _check_values(values, path: Position, found: Found) -> None:
    if not _is_filled_list(values):
        message = (
            "expected a non-empty list of texts, whole numbers or booleans, got "
            f"{_got(values)}"
        )
        found.append((path, message))
        return
    for index, value in enumerate(values):
        if not isinstance(value, (str, int)):
            message = f"expected a text, a whole number or a boolean, got {_got(value)}"
            found.append(((*path, index), message))


def _check_claim_sets(credential: dict, path: Position, found: Found) -> None:
    if "claims" not in credential:
        message = (
            "claim_sets chooses among claims, but there are none; add 'claims' "
            "or remove 'claim_sets'"
        )
        found.append((path, message))
        return
    claim_sets = credential["claim_sets"]
    if not _is_filled_list(claim_sets):
        message = (
            "expected a non-empty list of claim sets, each a list of claim ids, "
            f"got {_got(claim_sets)}"
        )
        found.append((path, message))
        return
    claim_ids = _claim_ids(credential["claims"])
    for index, option in enumerate(claim_sets):
        _check_references(option, (*path, index), claim_ids, "claim", found)


def _claim_ids(claims) -> list[str]:
    if not isinstance(claims, list):
        return []
    return [c["id"] for c in claims if isinstance(c, dict) and _is_id(c.get("id"))]


def _check_references(
    option, path: Position, known: list[str], noun: str, found
) -> None:
    """Check a list of ids that must name existing claims or credential queries."""
    if not _is_filled_list(option):
        found.append(
            (path, f"expected a non-empty list of {noun} ids, got {_got(option)}")
        )
        return
    for index, reference in enumerate(option):
        if not isinstance(reference, str):
            message = f"expected a {noun} id, got {_got(reference)}"
            found.append(((*path, index), message))
        elif reference not in known:
            found.append(((*path, index), _unknown_id_message(reference, known, noun)))


def _unknown_id_message(reference: str, known: list[str], noun: str) -> str:
    message = f"{noun} id {reference!r} does not exist"
    close = difflib.get_close_matches(reference, known, n=1)
    if close:
        return f"{message}; did you mean {close[0]!r}?"
    if known:
        return f"{message}; use one of {', '.join(known)}"
    return f"{message}; give the {noun}s ids first"


# Validating credential_sets.


def _check_credential_sets(credential_sets, ids: list[str], found: Found) -> None:
    here = ("credential_sets",)
    if not _is_filled_list(credential_sets):
        message = (
            "expected a non-empty list of credential sets, each with options, "
            f"got {_got(credential_sets)}"
        )
        found.append((here, message))
        return
    for index, credential_set in enumerate(credential_sets):
        _check_credential_set(credential_set, (*here, index), ids, found)


def _check_credential_set(
    credential_set, path: Position, ids: list[str], found
) -> None:
    if not isinstance(credential_set, dict):
        message = (
            "expected a credential set: a mapping with options, got "
            f"{_got(credential_set)}"
        )
        found.append((path, message))
        return

    _check_unknown(credential_set, CREDENTIAL_SET_FIELDS, path, found)
    _check_boolean(credential_set, "required", path, found)
    if _has(credential_set, "options", path, found):
        _check_options(credential_set["options"], (*path, "options"), ids, found)


def _check_options(options, path: Position, ids: list[str], found: Found) -> None:
    if not _is_filled_list(options):
        message = (
            "expected a non-empty list of options, each a list of credential "
            f"query ids, got {_got(options)}"
        )
        found.append((path, message))
        return
    for index, option in enumerate(options):
        _check_references(option, (*path, index), ids, "credential query", found)


# Small checks and messages shared by the validation.


def _check_unknown(mapping: dict, known: tuple, path: Position, found: Found) -> None:
    for key in mapping:
        if key in known:
            continue
        message = f"unknown field {key!r}"
        close = difflib.get_close_matches(str(key), known, n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        else:
            message += f"; expected one of {', '.join(known)}"
        found.append(((*path, key), message))


def _has(mapping: dict, name: str, path: Position, found: Found) -> bool:
    """Tell whether ``mapping`` has the field, reporting it as missing if not."""
    if name in mapping:
        return True
    found.append(((*path, name), f"missing: {MISSING[name]}"))
    return False


def _is_filled_list(value) -> bool:
    return isinstance(value, list) and len(value) > 0


def _is_id(value) -> bool:
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


def _id_message(value) -> str:
    return f"expected an id of letters, digits, '_' or '-', got {_got(value)}"


def _is_path_component(part) -> bool:
    if part is None or isinstance(part, str):
        return True
    return isinstance(part, int) and not isinstance(part, bool) and part >= 0


def _got(value) -> str:
    return describe(None, (), value)


def _format_position(path: Position) -> str:
    return ".".join(str(part) for part in path) or "query"


def format_path(path) -> str:
    """Write a claims path pointer the way YAML shows it: [adres, null, 0]."""
    return f"[{', '.join(_format_component(part) for part in path)}]"


def _format_component(part) -> str:
    if part is None:
        return "null"
    if isinstance(part, bool):
        return "true" if part else "false"
    return str(part)


# Claims path pointers.


def claims_at(claims: Mapping[str, Any], path) -> list:
    """Select the values that a claims path pointer points to in ``claims``.

    Follows OpenID4VP 1.0, section 7.1: a text selects that key of every
    selected object, null selects every element of every selected array, and
    an integer selects that index. Objects without the key and arrays without
    the index drop out of the selection. Returns the selected values, an empty
    list when nothing is left.

    Raises ClaimPathError when a component meets a value of the wrong kind (a
    key applied to an array, for example) or is not a text, null or an
    integer of 0 or more. The specification calls both outcomes an error;
    this function keeps "not there" apart from "shaped differently".
    """
    selected = [claims]
    for position, component in enumerate(path):
        if not _is_path_component(component):
            raise ClaimPathError(
                f"component {position} of {format_path(path)} is {_got(component)}; "
                "expected a claim name, an array index (0 or more) or null"
            )
        selected = _select(selected, component, path, position)
    return selected


def _select(selected: list, component, path, position: int) -> list:
    expected = dict if isinstance(component, str) else list
    for element in selected:
        if not isinstance(element, expected):
            kind = "an object" if expected is dict else "an array"
            raise ClaimPathError(
                f"component {position} of {format_path(path)} needs {kind}, "
                f"got {_got(element)}"
            )
    if component is None:
        return [item for element in selected for item in element]
    if isinstance(component, str):
        return [element[component] for element in selected if component in element]
    return [element[component] for element in selected if component < len(element)]


def _claim_problem(claims: Mapping[str, Any], claim: dict) -> str | None:
    """Describe how ``claims`` fails a claims query, or return None if it matches."""
    path = format_path(claim["path"])
    try:
        found = claims_at(claims, claim["path"])
    except ClaimPathError as error:
        return f"does not disclose claim {path}: {error}"
    if not found:
        return f"does not disclose claim {path}"

    values = claim.get("values")
    if values is None or any(_same_value(a, b) for a in found for b in values):
        return None
    shown = ", ".join(_got(value) for value in found)
    expected = ", ".join(_got(value) for value in values)
    return f"discloses {path} as {shown}, expected one of {expected}"


def _same_value(claim_value, expected) -> bool:
    """Compare a claim's value with one from ``values``: same type, same value.

    Booleans equal only booleans, so true never matches 1. Numbers compare by
    value, so a claim of 1500.0 matches 1500.
    """
    if isinstance(expected, bool) or isinstance(claim_value, bool):
        return type(claim_value) is type(expected) and claim_value == expected
    if isinstance(expected, int):
        return isinstance(claim_value, (int, float)) and claim_value == expected
    return isinstance(claim_value, str) and claim_value == expected


# The holder's side: picking credentials and claims.


def match(query: dict, credentials: list[Candidate]) -> Selection | None:
    """Pick the credentials and claims a wallet should present for ``query``.

    Follows the selection rules of OpenID4VP 1.0, section 6.4: a credential
    must have one of the accepted types and every requested claim. Claims
    come from the first of the ``claim_sets`` options that the credential can
    satisfy. A Credential Query takes the first fitting credential, or every
    fitting one when ``multiple`` is true. With ``credential_sets``, each set
    takes its first option whose credentials are all there. Returns None
    when a required credential or set cannot be satisfied, because a wallet
    then returns no credentials at all.

    ``trusted_authorities`` is not matched: it needs the issuer's certificate
    or trust chain, which a Candidate does not carry. Raises InvalidQuery for
    a query that check_query rejects.
    """
    _require_valid(query)
    fitting = {
        credential_query["id"]: _fitting(credential_query, credentials)
        for credential_query in query["credentials"]
    }
    chosen = _chosen_ids(query, fitting)
    if chosen is None:
        return None
    return Selection({query_id: fitting[query_id] for query_id in chosen})


def _fitting(credential_query: dict, credentials: list[Candidate]) -> tuple:
    disclosures = []
    for candidate in credentials:
        paths = _disclosed_paths(credential_query, candidate)
        if paths is not None:
            disclosures.append(Disclosure(candidate, paths))
    if credential_query.get("multiple", False):
        return tuple(disclosures)
    return tuple(disclosures[:1])


def _disclosed_paths(credential_query: dict, candidate: Candidate) -> tuple | None:
    """Return the claim paths to disclose, or None if the candidate does not fit."""
    if candidate.vct not in credential_query["meta"]["vct_values"]:
        return None
    for option in _claim_options(credential_query):
        if all(_claim_problem(candidate.claims, claim) is None for claim in option):
            return tuple(tuple(claim["path"]) for claim in option)
    return None


def _claim_options(credential_query: dict) -> list[list[dict]]:
    """List the alternative sets of claims, most preferred first."""
    claims = credential_query.get("claims", [])
    if "claim_sets" not in credential_query:
        return [claims]
    by_id = {claim["id"]: claim for claim in claims}
    return [
        [by_id[claim_id] for claim_id in option]
        for option in credential_query["claim_sets"]
    ]


def _chosen_ids(query: dict, fitting: dict) -> list[str] | None:
    """List the Credential Query ids to respond to, or None if the query fails."""
    if "credential_sets" not in query:
        return list(fitting) if all(fitting.values()) else None
    chosen: list[str] = []
    for credential_set in query["credential_sets"]:
        options = credential_set["options"]
        option = next((o for o in options if all(fitting[i] for i in o)), None)
        if option is not None:
            chosen.extend(i for i in option if i not in chosen)
        elif credential_set.get("required", True):
            return None
    return chosen


def _require_valid(query) -> None:
    problems = check_query(query)
    if problems:
        raise InvalidQuery(problems)


# The verifier's side: checking a presentation against the query.


def satisfied(query: dict, presented: Mapping[str, list[VerifiedLike]]) -> list[str]:
    """Check verified credentials against the query they respond to.

    ``presented`` maps each Credential Query id of the ``vp_token`` to the
    credentials presented for it, after their signatures were verified.
    Returns problems in plain words; an empty list means the presentation
    satisfies the query. A wallet may ignore ``values``, and the verifier
    must not rely on the wallet, so every rule is checked again here.

    Issuers are not checked here: the caller accepts only credentials signed
    by the step's trusted issuers. Raises InvalidQuery for a query that
    check_query rejects.
    """
    _require_valid(query)
    by_id = {
        credential_query["id"]: credential_query
        for credential_query in query["credentials"]
    }
    problems: list[str] = []
    for query_id, credentials in presented.items():
        if query_id in by_id:
            problems += _presentation_problems(by_id[query_id], credentials)
        else:
            problems.append(_unknown_query_id(query_id, list(by_id)))
    return problems + _missing_credentials(query, presented)


def _unknown_query_id(query_id: str, known: list[str]) -> str:
    return (
        f"the presentation contains {query_id!r}, which is not a credential "
        f"query of the request; expected {_either(known)}"
    )


def _presentation_problems(credential_query: dict, credentials: list) -> list[str]:
    query_id = credential_query["id"]
    if not credentials:
        return [
            f"credential query {query_id!r} has an empty list; expected one "
            "credential or more"
        ]
    problems = _count_problems(credential_query, len(credentials))
    for number, credential in enumerate(credentials, start=1):
        name = f"credential {query_id!r}"
        if len(credentials) > 1:
            name += f" number {number}"
        problems += _credential_problems(credential_query, credential, name)
    return problems


def _count_problems(credential_query: dict, count: int) -> list[str]:
    if count == 1 or credential_query.get("multiple", False):
        return []
    return [
        f"credential query {credential_query['id']!r} asks for one credential "
        f"(multiple is false), got {count}"
    ]


def _credential_problems(credential_query: dict, credential, name: str) -> list[str]:
    accepted = credential_query["meta"]["vct_values"]
    if credential.vct not in accepted:
        return [f"{name} has type {credential.vct!r}, expected {_either(accepted)}"]
    if "claim_sets" not in credential_query:
        problems = (
            _claim_problem(credential.claims, claim)
            for claim in credential_query.get("claims", [])
        )
        return [f"{name} {problem}" for problem in problems if problem is not None]
    return _claim_set_problems(credential_query, credential, name)


def _claim_set_problems(credential_query: dict, credential, name: str) -> list[str]:
    by_id = {claim["id"]: claim for claim in credential_query["claims"]}
    lacking = []
    for option in credential_query["claim_sets"]:
        missing = [
            claim_id
            for claim_id in option
            if _claim_problem(credential.claims, by_id[claim_id]) is not None
        ]
        if not missing:
            return []
        lacking.append(f"[{', '.join(option)}] lacks {', '.join(missing)}")
    return [f"{name} satisfies none of its claim_sets: {'; '.join(lacking)}"]


def _missing_credentials(query: dict, presented: Mapping) -> list[str]:
    if "credential_sets" in query:
        return _unmet_credential_sets(query, presented)
    return [
        f"missing credential {credential_query['id']!r}, which the query requires"
        for credential_query in query["credentials"]
        if credential_query["id"] not in presented
    ]


def _unmet_credential_sets(query: dict, presented: Mapping) -> list[str]:
    problems = []
    for number, credential_set in enumerate(query["credential_sets"], start=1):
        if not credential_set.get("required", True):
            continue
        options = credential_set["options"]
        if not any(all(i in presented for i in option) for option in options):
            alternatives = " or ".join(_both(option) for option in options)
            problems.append(
                f"no option of credential set {number} was presented; expected "
                f"{alternatives}"
            )
    return problems


def _either(names: list[str]) -> str:
    quoted = [repr(name) for name in names]
    if len(quoted) == 1:
        return quoted[0]
    return f"one of {', '.join(quoted)}"


def _both(option: list[str]) -> str:
    quoted = [repr(name) for name in option]
    if len(quoted) == 1:
        return quoted[0]
    return f"{', '.join(quoted[:-1])} and {quoted[-1]}"
