"""Tests for SD-JWT VC issuance, presentation and verification."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc.jwk import ECKey

from stappen import jose, sdjwt, statuslist
from stappen.sdjwt import (
    CHECK_NAMES,
    MalformedSdJwt,
    PresentationRejected,
    TrustedIssuers,
)
from tests.test_jose import make_chain

NOW = 1_750_000_000
ISSUER = "https://gemeente.example"
OTHER_ISSUER = "https://andere-gemeente.example"
VCT = "https://stappen.example/vct/vil-inkomen"
NONCE = "n-0S6_WzA2Mj"
AUD = "x509_san_dns:verifier.example"
STATUS_URI = "https://gemeente.example/status/1"

CLAIMS = {
    "given_name": "Anna",
    "family_name": "de Vries",
    "birthdate": "1990-04-01",
    "address": {"street_address": "Dam 1", "locality": "Amsterdam"},
    "nationalities": ["NL", "DE"],
    "income": 1250,
}
DISCLOSABLE = {
    "given_name",
    "family_name",
    "birthdate",
    "address",
    "address.street_address",
    "address.locality",
    "nationalities.*",
}


@pytest.fixture(scope="module")
def issuer_key():
    return jose.generate_key("ES256")


@pytest.fixture(scope="module")
def holder_key():
    return jose.generate_key("EdDSA")


@pytest.fixture(scope="module")
def trusted(issuer_key):
    return TrustedIssuers({ISSUER: [jose.public_jwk(issuer_key)]})


@pytest.fixture(scope="module")
def issued(issuer_key, holder_key):
    return issue_credential(issuer_key, holder_key)


def issue_credential(issuer_key, holder_key, **options) -> str:
    arguments = {
        "issuer": ISSUER,
        "vct": VCT,
        "claims": CLAIMS,
        "disclosable": DISCLOSABLE,
        "holder_jwk": jose.public_jwk(holder_key),
        "iat": NOW - 3600,
        "exp": NOW + 86400,
        **options,
    }
    return sdjwt.issue(issuer_key, **arguments)


def present_credential(
    issued: str, holder_key, disclose=frozenset(DISCLOSABLE), **options
):
    arguments = {"nonce": NONCE, "aud": AUD, "iat": NOW, **options}
    return sdjwt.present(
        issued, disclose=set(disclose), holder_key=holder_key, **arguments
    )


def verify(presentation: str, trusted, **options) -> sdjwt.VerifiedCredential:
    arguments = {"nonce": NONCE, "aud": AUD, "now": NOW, **options}
    return sdjwt.verify_presentation(presentation, trusted=trusted, **arguments)


def rejection(presentation, trusted, check: str, **options) -> PresentationRejected:
    """Verify, expecting ``check`` to fail, and return the exception."""
    with pytest.raises(
        PresentationRejected, match=rf"^{check} check failed: "
    ) as raised:
        verify(presentation, trusted, **options)

    checks = raised.value.checks
    assert [c.name for c in checks] == list(CHECK_NAMES[: len(checks)])
    assert [c.passed for c in checks] == [True] * (len(checks) - 1) + [False]
    return raised.value


def sign_credential(issuer_key, payload: dict, disclosures: list[str], typ="dc+sd-jwt"):
    """Sign a hand-made payload, for credentials that ``issue`` would not produce."""
    token = jose.sign(payload, issuer_key, typ=typ)
    return token + "~" + "".join(d + "~" for d in disclosures)


def make_disclosure(*content) -> str:
    return jose.b64url_encode(json.dumps(list(content)).encode())


def crafted_payload(holder_key, **claims) -> dict:
    return {
        "iss": ISSUER,
        "iat": NOW - 60,
        "vct": VCT,
        "cnf": {"jwk": jose.public_jwk(holder_key)},
        "_sd_alg": "sha-256",
        **claims,
    }


def key_bound(credential: str, holder_key, **options) -> str:
    """Append a KB-JWT to ``credential`` as is, for ones ``present`` would reject."""
    claims = {
        "iat": NOW,
        "aud": AUD,
        "nonce": NONCE,
        "sd_hash": sdjwt._digest(credential),
    }
    return credential + jose.sign(claims | options, holder_key, typ="kb+jwt")


def split_kb(presentation: str) -> tuple[str, str]:
    prefix, _, kb_jwt = presentation.rpartition("~")
    return prefix + "~", kb_jwt


# Disclosure encoding


def test_disclosure_digest_matches_rfc_example():
    # Object property disclosure from RFC 9901, section 4.2.1.
    encoded = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"

    (disclosure,) = sdjwt.parse(f"a.b.c~{encoded}~").disclosures

    assert disclosure.name == "family_name"
    assert disclosure.value == "Möbius"
    assert disclosure.digest == "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"


def test_array_disclosure_digest_matches_rfc_example():
    # Array element disclosure from RFC 9901, section 4.2.2.
    encoded = "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIkZSIl0"

    (disclosure,) = sdjwt.parse(f"a.b.c~{encoded}~").disclosures

    assert disclosure.name is None
    assert disclosure.value == "FR"
    assert disclosure.digest == "w0I8EKcdCtUPkGCNUrfwVp2xEgNjtoIDlOxc9-PlOhs"


# Issuance


def test_issue_payload_hides_disclosable_claims(issued, holder_key):
    header, payload = jose.decode_unverified(issued.split("~")[0])

    assert header["typ"] == "dc+sd-jwt"
    assert payload["_sd_alg"] == "sha-256"
    assert payload["cnf"] == {"jwk": jose.public_jwk(holder_key)}
    assert payload["income"] == 1250
    assert "given_name" not in payload
    assert "address" not in payload
    assert len(payload["_sd"]) == 4


def test_issue_arrays_use_ellipsis_digests(issued):
    _, payload = jose.decode_unverified(issued.split("~")[0])

    assert [list(item) for item in payload["nationalities"]] == [["..."], ["..."]]


def test_issue_disclosure_count(issued):
    assert len(sdjwt.parse(issued).disclosures) == 8


def test_issue_sorts_digests(issued):
    _, payload = jose.decode_unverified(issued.split("~")[0])

    assert payload["_sd"] == sorted(payload["_sd"])


def test_issue_adds_decoys(issuer_key, holder_key):
    credential = issue_credential(
        issuer_key, holder_key, disclosable={"income"}, decoys=3
    )

    _, payload = jose.decode_unverified(credential.split("~")[0])

    assert len(payload["_sd"]) == 4
    assert len(sdjwt.parse(credential).disclosures) == 1


def test_issue_without_disclosures(issuer_key, holder_key):
    credential = issue_credential(issuer_key, holder_key, disclosable=None)

    assert credential.endswith("~")
    assert credential.count("~") == 1


def test_issue_uses_salt_callable(issuer_key, holder_key):
    credential = issue_credential(
        issuer_key, holder_key, disclosable={"income"}, salt=lambda: "fixed-salt"
    )

    (disclosure,) = sdjwt.parse(credential).disclosures

    assert disclosure.salt == "fixed-salt"


def test_issue_extra_claims_stay_plain(issuer_key, holder_key):
    credential = issue_credential(issuer_key, holder_key, extra={"sub": "burger-1"})

    _, payload = jose.decode_unverified(credential.split("~")[0])

    assert payload["sub"] == "burger-1"


def test_issue_status_reference(issuer_key, holder_key):
    status = statuslist.status_reference(4, STATUS_URI)
    credential = issue_credential(issuer_key, holder_key, status=status)

    _, payload = jose.decode_unverified(credential.split("~")[0])

    assert payload["status"] == status


@pytest.mark.parametrize("name", ["iss", "vct", "cnf", "exp", "status"])
def test_issue_rejects_reserved_disclosable(issuer_key, holder_key, name):
    with pytest.raises(
        ValueError, match=rf"^claim {name!r} must stay plain in an SD-JWT VC"
    ):
        issue_credential(issuer_key, holder_key, disclosable={name})


def test_issue_rejects_unknown_path(issuer_key, holder_key):
    with pytest.raises(
        ValueError, match=r"^disclosable path 'adres' names no claim in claims$"
    ):
        issue_credential(issuer_key, holder_key, disclosable={"adres"})


def test_issue_rejects_reserved_claim(issuer_key, holder_key):
    with pytest.raises(ValueError, match=r"^claim 'iss' is set by issue\(\) itself"):
        issue_credential(issuer_key, holder_key, claims={**CLAIMS, "iss": "x"})


def test_issue_rejects_nested_sd_name(issuer_key, holder_key):
    claims = {**CLAIMS, "address": {"_sd": ["x"]}}

    with pytest.raises(
        ValueError, match=r"^claim at address uses the reserved SD-JWT name"
    ):
        issue_credential(issuer_key, holder_key, claims=claims, disclosable=set())


def test_issue_rejects_claim_in_claims_and_extra(issuer_key, holder_key):
    with pytest.raises(
        ValueError, match=r"^claims \['income'\] are in both claims and extra"
    ):
        issue_credential(issuer_key, holder_key, extra={"income": 1})


def test_issue_rejects_private_holder_key(issuer_key, holder_key):
    private = holder_key.as_dict(private=True)

    with pytest.raises(ValueError, match=r"contains the private member 'd'"):
        issue_credential(issuer_key, holder_key, holder_jwk=private)


def test_issue_rejects_bad_salt(issuer_key, holder_key):
    with pytest.raises(ValueError, match=r"^salt\(\) returned 5; it must return"):
        issue_credential(issuer_key, holder_key, salt=lambda: 5)


# Parsing


def test_parse_issued(issued):
    parsed = sdjwt.parse(issued)

    assert parsed.kb_jwt is None
    assert parsed.without_key_binding == issued


def test_parse_presentation(issued, holder_key):
    presentation = present_credential(issued, holder_key, disclose={"income"})

    parsed = sdjwt.parse(presentation)

    assert parsed.disclosures == ()
    assert parsed.kb_jwt == presentation.rpartition("~")[2]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (5, "SD-JWT must be a string, got int"),
        ("a.b.c", "SD-JWT has no '~'; expected <issuer JWT>~<disclosures>~"),
        ("a.b~", "issuer-signed JWT is not a compact JWS of three dot-separated parts"),
        ("a.b.c~x.y", "KB-JWT is not a compact JWS of three dot-separated parts"),
        ("a.b.c~~", "disclosure 1 is empty (two '~' in a row)"),
        ("a.b.c~é~", "SD-JWT contains non-ASCII characters"),
        (
            "a.b.c~!!~",
            "disclosure 1 is not base64url JSON: '!!' is not unpadded base64url",
        ),
        (
            f"a.b.c~{make_disclosure('s')}~",
            "disclosure 1 is ['s']; expected [salt, name",
        ),
        (
            f"a.b.c~{make_disclosure(1, 'n', 'v')}~",
            "disclosure 1 has salt 1; expected a",
        ),
        (
            f"a.b.c~{make_disclosure('s', '_sd', 1)}~",
            "disclosure 1 has claim name '_sd'",
        ),
        (
            f"a.b.c~{make_disclosure('s', '...', 1)}~",
            "disclosure 1 has claim name '...'",
        ),
        (
            f"a.b.c~{make_disclosure('s', 2, 1)}~",
            "disclosure 1 has claim name 2, which",
        ),
    ],
)
def test_parse_rejects_malformed(text, reason):
    with pytest.raises(MalformedSdJwt, match=r".") as raised:
        sdjwt.parse(text)

    assert str(raised.value).startswith(reason)


# Presentation and round trips


@pytest.mark.parametrize(
    ("disclose", "expected", "disclosed"),
    [
        (set(), {}, []),
        ({"given_name"}, {"given_name": "Anna"}, ["given_name"]),
        (
            {"birthdate", "family_name"},
            {"family_name": "de Vries", "birthdate": "1990-04-01"},
            ["family_name", "birthdate"],
        ),
        (
            {"address.locality"},
            {"address": {"locality": "Amsterdam"}},
            ["address.locality", "address"],
        ),
        (
            {"address"},
            {"address": {"street_address": "Dam 1", "locality": "Amsterdam"}},
            ["address.street_address", "address.locality", "address"],
        ),
        ({"nationalities.1"}, {"nationalities": ["DE"]}, ["nationalities.1"]),
        (
            {"nationalities"},
            {"nationalities": ["NL", "DE"]},
            ["nationalities.0", "nationalities.1"],
        ),
        ({"income"}, {}, []),
    ],
)
def test_round_trip_subsets(issued, holder_key, trusted, disclose, expected, disclosed):
    presentation = present_credential(issued, holder_key, disclose=disclose)

    credential = verify(presentation, trusted)

    subject = {
        name: value for name, value in credential.claims.items() if name in CLAIMS
    }
    assert subject == {"nationalities": [], **expected, "income": 1250}
    assert credential.disclosed == disclosed


def test_round_trip_everything(issued, holder_key, trusted):
    credential = verify(present_credential(issued, holder_key), trusted)

    assert {k: credential.claims[k] for k in CLAIMS} == CLAIMS
    assert credential.issuer == ISSUER
    assert credential.vct == VCT
    assert credential.holder_jwk == jose.public_jwk(holder_key)
    assert credential.status_token is None


def test_round_trip_removes_sd_members(issued, holder_key, trusted):
    credential = verify(present_credential(issued, holder_key), trusted)

    assert "_sd" not in credential.claims
    assert "_sd" not in credential.claims["address"]
    assert "_sd_alg" not in credential.claims


def test_round_trip_checks_in_order(issued, holder_key, trusted):
    credential = verify(present_credential(issued, holder_key), trusted)

    assert [check.name for check in credential.checks] == list(CHECK_NAMES)
    assert all(check.passed for check in credential.checks)
    assert credential.checks[-1].reason == "credential has no status reference"


def test_round_trip_eddsa_issuer(holder_key):
    issuer_key = jose.generate_key("EdDSA")
    trusted = TrustedIssuers({ISSUER: {"keys": [jose.public_jwk(issuer_key)]}})
    credential = issue_credential(issuer_key, holder_key)

    verified = verify(present_credential(credential, holder_key), trusted)

    assert verified.checks[2].reason.startswith("EdDSA signature by key")


def test_round_trip_legacy_typ(issuer_key, holder_key, trusted):
    payload = crafted_payload(holder_key, given_name="Anna")
    credential = sign_credential(issuer_key, payload, [], typ="vc+sd-jwt")

    verified = verify(present_credential(credential, holder_key, disclose=()), trusted)

    assert verified.claims["given_name"] == "Anna"


def test_round_trip_x5c_issuer(holder_key):
    root, leaf_key, x5c = make_chain(ISSUER)
    issuer_key = ECKey.import_key(leaf_key)
    trusted = TrustedIssuers()
    trusted.add(ISSUER, anchors=[root])
    credential = issue_credential(issuer_key, holder_key, headers={"x5c": x5c})

    verified = verify(present_credential(credential, holder_key), trusted)

    assert (
        verified.checks[1].reason
        == f"issuer {ISSUER!r} is trusted through its x5c certificate chain"
    )


def test_present_rejects_unknown_path(issued, holder_key):
    with pytest.raises(
        ValueError, match=r"^disclose path 'adres' names no claim in the credential"
    ):
        present_credential(issued, holder_key, disclose={"adres"})


def test_present_rejects_other_holder_key(issued):
    with pytest.raises(ValueError, match=r"is not the key in the credential's cnf.jwk"):
        present_credential(issued, jose.generate_key("EdDSA"))


def test_present_rejects_presentation(issued, holder_key):
    presentation = present_credential(issued, holder_key)

    with pytest.raises(MalformedSdJwt, match=r"already ends in a KB-JWT"):
        present_credential(presentation, holder_key)


def test_present_kb_jwt_claims(issued, holder_key):
    presentation = present_credential(issued, holder_key, disclose={"given_name"})
    prefix, kb_jwt = split_kb(presentation)

    header, claims = jose.decode_unverified(kb_jwt)

    assert header["typ"] == "kb+jwt"
    assert claims["nonce"] == NONCE
    assert claims["aud"] == AUD
    assert claims["iat"] == NOW
    assert claims["sd_hash"] == sdjwt._digest(prefix)


# Rejections: format


def test_rejects_non_string(trusted):
    error = rejection(None, trusted, "format")

    assert error.failed.reason == "SD-JWT must be a string, got NoneType"


def test_rejects_missing_vct(issuer_key, holder_key, trusted):
    payload = crafted_payload(holder_key)
    del payload["vct"]
    credential = sign_credential(issuer_key, payload, [])

    error = rejection(
        present_credential(credential, holder_key, disclose=()), trusted, "format"
    )

    assert error.failed.reason == "credential claim 'vct' is None; expected a string"


# Rejections: issuer trusted


def test_rejects_issuer_a_against_trusted_b(issued, holder_key, issuer_key):
    trusted_b = TrustedIssuers({OTHER_ISSUER: [jose.public_jwk(issuer_key)]})

    error = rejection(
        present_credential(issued, holder_key), trusted_b, "issuer trusted"
    )

    assert error.failed.reason == (
        f"issuer {ISSUER!r} is not trusted; trusted issuers: {OTHER_ISSUER!r}"
    )


def test_rejects_issuer_claiming_other_name(holder_key):
    key_a, key_b = jose.generate_key(), jose.generate_key()
    trusted = TrustedIssuers(
        {ISSUER: [jose.public_jwk(key_a)], OTHER_ISSUER: [jose.public_jwk(key_b)]}
    )
    credential = issue_credential(key_a, holder_key, issuer=OTHER_ISSUER)

    error = rejection(present_credential(credential, holder_key), trusted, "signature")

    assert error.failed.reason.startswith("no trusted key has kid")


def test_rejects_anchor_only_issuer_without_x5c(issued, holder_key):
    root, _, _ = make_chain(ISSUER)
    trusted = TrustedIssuers()
    trusted.add(ISSUER, anchors=[root])

    error = rejection(present_credential(issued, holder_key), trusted, "issuer trusted")

    assert error.failed.reason == (
        f"issuer {ISSUER!r} is trusted only through X.509 anchors, "
        "but the credential has no x5c header"
    )


def test_rejects_x5c_from_other_anchor(holder_key):
    _, leaf_key, x5c = make_chain(ISSUER)
    other_root, _, _ = make_chain(ISSUER)
    trusted = TrustedIssuers()
    trusted.add(ISSUER, anchors=[other_root])
    credential = issue_credential(
        ECKey.import_key(leaf_key), holder_key, headers={"x5c": x5c}
    )

    error = rejection(
        present_credential(credential, holder_key), trusted, "issuer trusted"
    )

    assert error.failed.reason.startswith("certificate 'CN=Test issuer' is not trusted")


def test_trusted_issuers_reject_private_key(issuer_key):
    with pytest.raises(
        ValueError, match=rf"^trusted issuer {ISSUER!r} has an invalid key"
    ):
        TrustedIssuers({ISSUER: [issuer_key.as_dict(private=True)]})


# Rejections: signature


def test_rejects_alg_none_credential(issued, holder_key, trusted):
    presentation = present_credential(issued, holder_key)
    issuer_jwt, _, rest = presentation.partition("~")
    _, payload, _ = issuer_jwt.split(".")
    header = jose.b64url_encode(b'{"alg":"none","typ":"dc+sd-jwt"}')

    error = rejection(f"{header}.{payload}.~{rest}", trusted, "signature")

    assert (
        error.failed.reason
        == "alg 'none' marks an unsigned token, which is never accepted"
    )


def test_rejects_swapped_typ(issuer_key, holder_key, trusted):
    credential = sign_credential(
        issuer_key, crafted_payload(holder_key), [], typ="kb+jwt"
    )

    error = rejection(
        present_credential(credential, holder_key, disclose=()), trusted, "signature"
    )

    assert (
        error.failed.reason
        == "header typ is 'kb+jwt'; expected 'dc+sd-jwt' or 'vc+sd-jwt'"
    )


def test_rejects_tampered_issuer_payload(issued, holder_key, trusted):
    presentation = present_credential(issued, holder_key)
    issuer_jwt, _, rest = presentation.partition("~")
    header, payload, signature = issuer_jwt.split(".")
    claims = jose.loads_json(jose.b64url_decode(payload)) | {"income": 10}
    forged = f"{header}.{jose.b64url_encode(jose.dumps_json(claims))}.{signature}"

    error = rejection(f"{forged}~{rest}", trusted, "signature")

    assert error.failed.reason.startswith(
        "signature does not verify with the trusted key(s)"
    )


# Rejections: times


def test_rejects_expired_credential(issuer_key, holder_key, trusted):
    credential = issue_credential(
        issuer_key, holder_key, iat=NOW - 7200, exp=NOW - 3600
    )

    error = rejection(present_credential(credential, holder_key), trusted, "times")

    assert error.failed.reason.startswith("token expired at 1749996400 ")


def test_rejects_nbf_in_future(issuer_key, holder_key, trusted):
    credential = issue_credential(issuer_key, holder_key, nbf=NOW + 3600)

    error = rejection(present_credential(credential, holder_key), trusted, "times")

    assert error.failed.reason.startswith("token is not valid before 1750003600 ")


def test_accepts_expiry_within_skew(issuer_key, holder_key, trusted):
    credential = issue_credential(issuer_key, holder_key, exp=NOW - 30)

    verified = verify(present_credential(credential, holder_key), trusted)

    assert verified.checks[3].passed


# Rejections: disclosures


def test_rejects_tampered_disclosure(issued, holder_key, trusted):
    presentation = present_credential(issued, holder_key, disclose={"given_name"})
    prefix, kb_jwt = split_kb(presentation)
    original = sdjwt.parse(presentation).disclosures[0]
    changed = make_disclosure(original.salt, "given_name", "Bob")
    tampered = prefix.replace(original.encoded, changed) + kb_jwt

    error = rejection(tampered, trusted, "disclosures")

    assert error.failed.reason.startswith(f"disclosure {changed[:20]!r}"[:-1])
    assert error.failed.reason.endswith(
        "(claim 'given_name') matches no digest that the issuer signed"
    )


def test_rejects_disclosure_never_signed(issued, holder_key, trusted):
    extra = make_disclosure("salt-1", "is_admin", True)
    prefix, kb_jwt = split_kb(
        present_credential(issued, holder_key, disclose={"given_name"})
    )

    error = rejection(f"{prefix}{extra}~{kb_jwt}", trusted, "disclosures")

    assert error.failed.reason == (
        f"disclosure {extra!r} (claim 'is_admin') matches no digest "
        "that the issuer signed"
    )


def test_rejects_duplicate_disclosure(issued, holder_key, trusted):
    presentation = present_credential(issued, holder_key, disclose={"given_name"})
    prefix, kb_jwt = split_kb(presentation)
    (disclosure,) = sdjwt.parse(presentation).disclosures

    error = rejection(f"{prefix}{disclosure.encoded}~{kb_jwt}", trusted, "disclosures")

    assert error.failed.reason.endswith("(claim 'given_name') is presented twice")


def test_rejects_disclosure_replacing_plain_claim(issuer_key, holder_key, trusted):
    disclosure = make_disclosure("salt-2", "given_name", "Bob")
    payload = crafted_payload(
        holder_key, given_name="Anna", _sd=[sdjwt._digest(disclosure)]
    )
    credential = sign_credential(issuer_key, payload, [disclosure])

    error = rejection(key_bound(credential, holder_key), trusted, "disclosures")

    assert error.failed.reason == (
        "disclosure for 'given_name' would replace a claim "
        "that the issuer signed in plain text"
    )


def test_rejects_digest_listed_twice(issuer_key, holder_key, trusted):
    disclosure = make_disclosure("salt-3", "given_name", "Anna")
    digest = sdjwt._digest(disclosure)
    payload = crafted_payload(holder_key, _sd=[digest], address={"_sd": [digest]})
    credential = sign_credential(issuer_key, payload, [disclosure])

    error = rejection(key_bound(credential, holder_key), trusted, "disclosures")

    assert (
        error.failed.reason
        == f"digest {digest!r} appears more than once in the credential"
    )


def test_rejects_other_sd_alg(issuer_key, holder_key, trusted):
    payload = crafted_payload(holder_key) | {"_sd_alg": "sha-512"}
    credential = sign_credential(issuer_key, payload, [])

    error = rejection(key_bound(credential, holder_key), trusted, "disclosures")

    assert error.failed.reason == "_sd_alg is 'sha-512'; only 'sha-256' is supported"


def test_rejects_disclosed_expiry(issuer_key, holder_key, trusted):
    disclosure = make_disclosure("salt-4", "exp", NOW + 10**6)
    payload = crafted_payload(holder_key, _sd=[sdjwt._digest(disclosure)])
    credential = sign_credential(issuer_key, payload, [disclosure])

    error = rejection(key_bound(credential, holder_key), trusted, "disclosures")

    assert error.failed.reason == "claim 'exp' must not be selectively disclosed"


def test_rejects_array_disclosure_in_object(issuer_key, holder_key, trusted):
    disclosure = make_disclosure("salt-5", "NL")
    payload = crafted_payload(holder_key, _sd=[sdjwt._digest(disclosure)])
    credential = sign_credential(issuer_key, payload, [disclosure])

    error = rejection(key_bound(credential, holder_key), trusted, "disclosures")

    assert error.failed.reason == (
        f"disclosure {disclosure!r} has the wrong shape for "
        "an object (_sd) at the top level"
    )


def test_rejects_sd_that_is_not_a_list(issuer_key, holder_key, trusted):
    payload = crafted_payload(holder_key, address={"_sd": "abc"})
    credential = sign_credential(issuer_key, payload, [])

    error = rejection(key_bound(credential, holder_key), trusted, "disclosures")

    assert error.failed.reason == "digests at address must be a list of strings"


def test_recursive_disclosures_revealed(issuer_key, holder_key, trusted):
    inner = make_disclosure("salt-6", "locality", "Utrecht")
    outer = make_disclosure("salt-7", "address", {"_sd": [sdjwt._digest(inner)]})
    payload = crafted_payload(holder_key, _sd=[sdjwt._digest(outer)])
    credential = sign_credential(issuer_key, payload, [inner, outer])

    verified = verify(
        present_credential(credential, holder_key, disclose={"address"}), trusted
    )

    assert verified.claims["address"] == {"locality": "Utrecht"}


# Rejections: key binding


def test_rejects_missing_kb_jwt(issued, holder_key, trusted):
    prefix, _ = split_kb(present_credential(issued, holder_key))

    error = rejection(prefix, trusted, "key binding")

    assert error.failed.reason == "presentation has no KB-JWT; key binding is required"


def test_rejects_kb_jwt_of_other_key(issued, holder_key, trusted):
    prefix, _ = split_kb(present_credential(issued, holder_key))
    stranger = jose.generate_key("EdDSA")
    claims = {"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": sdjwt._digest(prefix)}
    kb_jwt = jose.sign(claims, stranger, typ="kb+jwt", headers={"kid": holder_key.kid})

    error = rejection(prefix + kb_jwt, trusted, "key binding")

    assert error.failed.reason == (
        f"signature does not verify with the trusted key(s) {holder_key.kid!r}"
    )


def test_rejects_kb_jwt_wrong_typ(issued, holder_key, trusted):
    prefix, _ = split_kb(present_credential(issued, holder_key))
    claims = {"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": sdjwt._digest(prefix)}

    error = rejection(
        prefix + jose.sign(claims, holder_key, typ="jwt"), trusted, "key binding"
    )

    assert error.failed.reason == "header typ is 'jwt'; expected 'kb+jwt'"


def test_rejects_wrong_nonce(issued, holder_key, trusted):
    presentation = present_credential(issued, holder_key, nonce="replayed-nonce")

    error = rejection(presentation, trusted, "key binding")

    assert error.failed.reason == (
        f"KB-JWT nonce 'replayed-nonce' does not match the expected {NONCE!r}"
    )


def test_rejects_aud_array(issued, holder_key, trusted):
    presentation = present_credential(
        issued, holder_key, aud=[AUD, "x509_san_dns:other"]
    )

    error = rejection(presentation, trusted, "key binding")

    assert error.failed.reason == (
        f"KB-JWT aud is the array {[AUD, 'x509_san_dns:other']!r}; OpenID4VP "
        f"requires a single string equal to {AUD!r}"
    )


def test_rejects_aud_array_of_only_expected(issued, holder_key, trusted):
    presentation = present_credential(issued, holder_key, aud=[AUD])

    error = rejection(presentation, trusted, "key binding")

    assert error.failed.reason.startswith(f"KB-JWT aud is the array {[AUD]!r}")


def test_rejects_aud_mismatch(issued, holder_key, trusted):
    presentation = present_credential(
        issued, holder_key, aud="x509_san_dns:evil.example"
    )

    error = rejection(presentation, trusted, "key binding")

    assert error.failed.reason == (
        f"KB-JWT aud 'x509_san_dns:evil.example' does not match the expected {AUD!r}"
    )


def test_rejects_stale_kb_iat(issued, holder_key, trusted):
    presentation = present_credential(issued, holder_key, iat=NOW - 301)

    error = rejection(presentation, trusted, "key binding")

    assert error.failed.reason == (
        "KB-JWT iat 1749999699 is 301 s before now; "
        "accepted from 300 s before to 60 s after now"
    )


def test_rejects_future_kb_iat(issued, holder_key, trusted):
    presentation = present_credential(issued, holder_key, iat=NOW + 61)

    error = rejection(presentation, trusted, "key binding")

    assert error.failed.reason == (
        "KB-JWT iat 1750000061 is 61 s after now; "
        "accepted from 300 s before to 60 s after now"
    )


def test_accepts_kb_iat_inside_custom_window(issued, holder_key, trusted):
    presentation = present_credential(issued, holder_key, iat=NOW - 500)

    verified = verify(presentation, trusted, iat_window=(600, 0))

    assert verified.checks[5].passed


def test_rejects_sd_hash_of_other_presentation(issued, holder_key, trusted):
    small = present_credential(issued, holder_key, disclose={"given_name"})
    large = present_credential(issued, holder_key, disclose={"given_name", "birthdate"})
    large_prefix, _ = split_kb(large)
    _, small_kb = split_kb(small)

    error = rejection(large_prefix + small_kb, trusted, "key binding")

    assert error.failed.reason.startswith("KB-JWT sd_hash ")
    assert error.failed.reason.endswith(
        f"whose hash is {sdjwt._digest(large_prefix)!r}"
    )


def test_rejects_credential_without_cnf(issuer_key, holder_key, trusted):
    payload = crafted_payload(holder_key)
    del payload["cnf"]
    presentation = key_bound(sign_credential(issuer_key, payload, []), holder_key)

    error = rejection(presentation, trusted, "key binding")

    assert (
        error.failed.reason == "credential cnf is None; expected an object with a jwk"
    )


# Rejections: status


def status_setup(issuer_key, holder_key, revoked: bool, list_key=None):
    status_list = statuslist.StatusList(64)
    status_list.set(9, statuslist.INVALID if revoked else statuslist.VALID)
    token = statuslist.status_list_token(
        list_key or issuer_key, uri=STATUS_URI, status_list=status_list, iat=NOW - 60
    )
    credential = issue_credential(
        issuer_key, holder_key, status=statuslist.status_reference(9, STATUS_URI)
    )

    def status_check(claim):
        keys = [jose.public_jwk(issuer_key)]
        return statuslist.check_status(
            claim, {STATUS_URI: token}.__getitem__, keys, NOW
        )

    return present_credential(credential, holder_key), status_check, token


def test_status_valid(issuer_key, holder_key, trusted):
    presentation, status_check, token = status_setup(
        issuer_key, holder_key, revoked=False
    )

    verified = verify(presentation, trusted, status_check=status_check)

    assert verified.status_token == token
    assert (
        verified.checks[-1].reason == f"credential is valid (index 9 of {STATUS_URI!r})"
    )


def test_rejects_revoked_credential(issuer_key, holder_key, trusted):
    presentation, status_check, token = status_setup(
        issuer_key, holder_key, revoked=True
    )

    error = rejection(presentation, trusted, "status", status_check=status_check)

    assert (
        error.failed.reason
        == f"credential is revoked (index 9 of {STATUS_URI!r} is INVALID)"
    )
    assert error.status_token == token


def test_rejects_status_token_of_untrusted_key(issuer_key, holder_key, trusted):
    stranger = jose.generate_key()
    presentation, status_check, _ = status_setup(
        issuer_key, holder_key, revoked=False, list_key=stranger
    )

    error = rejection(presentation, trusted, "status", status_check=status_check)

    assert error.failed.reason.startswith(
        f"status list token from {STATUS_URI!r} is not trusted: no trusted key has kid"
    )


def test_rejects_status_without_status_check(issuer_key, holder_key, trusted):
    presentation, _, _ = status_setup(issuer_key, holder_key, revoked=False)

    error = rejection(presentation, trusted, "status")

    assert error.failed.reason == (
        "credential has a status reference, but no status_check was given"
    )


def test_verify_requires_nonce(issued, holder_key, trusted):
    with pytest.raises(ValueError, match=r"needs a non-empty nonce and aud"):
        verify(present_credential(issued, holder_key), trusted, nonce="")


# Hostile input


@pytest.fixture(scope="module")
def presentation(issued, holder_key):
    return present_credential(
        issued, holder_key, disclose={"given_name", "address.locality"}
    )


def flip_bytes(presentation: str, flips: list[tuple[int, int]]) -> str:
    data = bytearray(presentation.encode("ascii"))
    for position, mask in flips:
        data[position % len(data)] ^= mask
    return data.decode("latin-1")


@settings(max_examples=300, deadline=None)
@given(
    flips=st.lists(
        st.tuples(st.integers(min_value=0), st.integers(min_value=1, max_value=255)),
        min_size=1,
        max_size=3,
    )
)
def test_byte_flips_never_verify(presentation, trusted, flips):
    changed = flip_bytes(presentation, flips)
    if changed == presentation:
        return

    with pytest.raises(PresentationRejected, match=r" check failed: "):
        verify(changed, trusted)


@settings(max_examples=300, deadline=None)
@given(
    position=st.integers(min_value=0),
    replacement=st.sampled_from(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
    ),
)
def test_alphabet_substitutions_never_verify(
    presentation, trusted, position, replacement
):
    position %= len(presentation)
    changed = presentation[:position] + replacement + presentation[position + 1 :]
    if changed == presentation:
        return

    with pytest.raises(PresentationRejected, match=r" check failed: "):
        verify(changed, trusted)
