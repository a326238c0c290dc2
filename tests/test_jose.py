"""Tests for the strict JOSE helpers: keys, signing, verification and x5c chains."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jws
from joserfc.jwk import OctKey

from stappen import jose
from stappen.jose import VerificationError

NOW = 1_750_000_000


@pytest.fixture(scope="module")
def es_key():
    return jose.generate_key("ES256")


@pytest.fixture(scope="module")
def ed_key():
    return jose.generate_key("EdDSA")


def encode_part(value) -> str:
    return jose.b64url_encode(json.dumps(value).encode())


def with_header(token: str, header: dict) -> str:
    """Replace the header of ``token``, keeping its payload and signature."""
    _, payload, signature = token.split(".")
    return f"{encode_part(header)}.{payload}.{signature}"


def rejection(token, keys, **options) -> VerificationError:
    options.setdefault("typ", "test+jwt")
    with pytest.raises(VerificationError, match=r".") as raised:
        jose.verify(token, keys, **options)
    return raised.value


# Keys


def test_generate_key_kid_is_thumbprint(es_key):
    assert es_key.kid == es_key.thumbprint()


def test_generate_key_ed25519(ed_key):
    assert jose.public_jwk(ed_key)["crv"] == "Ed25519"


def test_generate_key_unknown_alg():
    with pytest.raises(ValueError, match=r"cannot generate a key for alg 'RS256'"):
        jose.generate_key("RS256")


def test_public_jwk_drops_private_part(es_key):
    assert "d" not in jose.public_jwk(es_key)


def test_key_from_jwk_round_trip(ed_key):
    key = jose.key_from_jwk(jose.public_jwk(ed_key))

    assert key.thumbprint() == ed_key.thumbprint()
    assert not key.is_private


def test_key_from_jwk_rejects_private_part(es_key):
    with pytest.raises(ValueError, match=r"contains the private member 'd'"):
        jose.key_from_jwk(es_key.as_dict(private=True))


def test_key_from_jwk_allows_private_when_asked(es_key):
    key = jose.key_from_jwk(es_key.as_dict(private=True), public_only=False)

    assert key.is_private


def test_key_from_jwk_rejects_rsa():
    with pytest.raises(ValueError, match=r"kty 'RSA' and crv None; only EC P-256"):
        jose.key_from_jwk({"kty": "RSA", "n": "AQAB", "e": "AQAB"})


def test_key_from_jwk_rejects_p384():
    with pytest.raises(ValueError, match=r"crv 'P-384'"):
        jose.key_from_jwk({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"})


def test_key_from_jwk_rejects_encryption_use(es_key):
    jwk = {**jose.public_jwk(es_key), "use": "enc"}

    with pytest.raises(ValueError, match=r"use 'enc'; a signing key needs 'sig'"):
        jose.key_from_jwk(jwk)


def test_key_from_jwk_rejects_point_off_curve(es_key):
    jwk = {**jose.public_jwk(es_key), "y": jose.public_jwk(es_key)["x"]}

    with pytest.raises(ValueError, match=r"JWK is not a valid P-256 key"):
        jose.key_from_jwk(jwk)


def test_key_from_jwk_rejects_non_object():
    with pytest.raises(ValueError, match=r"JWK must be a JSON object, got 'x'"):
        jose.key_from_jwk("x")


# Signing and verification


def test_round_trip_es256(es_key):
    token = jose.sign({"sub": "a"}, es_key, typ="test+jwt")

    header, claims = jose.verify(token, jose.public_jwk(es_key), typ="test+jwt")

    assert header == {"alg": "ES256", "typ": "test+jwt", "kid": es_key.kid}
    assert claims == {"sub": "a"}


def test_round_trip_eddsa(ed_key):
    token = jose.sign({"sub": "a"}, ed_key, typ="test+jwt")

    header, _ = jose.verify(token, [jose.public_jwk(ed_key)], typ="test+jwt")

    assert header["alg"] == "EdDSA"


def test_verify_picks_key_by_kid(es_key, ed_key):
    token = jose.sign({}, ed_key, typ="test+jwt")

    header, _ = jose.verify(token, [es_key, ed_key], typ="test+jwt")

    assert header["kid"] == ed_key.kid


def test_sign_rejects_public_key(es_key):
    public = jose.key_from_jwk(jose.public_jwk(es_key))

    with pytest.raises(ValueError, match=r"signing needs a private key"):
        jose.sign({}, public, typ="test+jwt")


def test_sign_rejects_alg_in_headers(es_key):
    with pytest.raises(ValueError, match=r"headers must not set 'alg'"):
        jose.sign({}, es_key, typ="test+jwt", headers={"alg": "none"})


def test_sign_leaves_out_kid_with_jwk(es_key):
    token = jose.sign({}, es_key, typ="t", headers={"jwk": jose.public_jwk(es_key)})

    header, _ = jose.decode_unverified(token)

    assert "kid" not in header


def test_alg_none_rejected(es_key):
    token = jose.sign({}, es_key, typ="test+jwt")
    unsigned = with_header(token, {"alg": "none", "typ": "test+jwt"}).rsplit(".", 1)[0]

    error = rejection(unsigned + ".", es_key)

    assert error.check == "alg"
    assert error.reason == "alg 'none' marks an unsigned token, which is never accepted"


def test_hs256_with_public_key_as_secret_rejected(es_key):
    # The attacker has the issuer's public key and uses its PEM bytes as an
    # HMAC secret, hoping the verifier feeds that same "key" into HS256.
    public_pem = es_key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = encode_part({"alg": "HS256", "typ": "test+jwt", "kid": es_key.kid})
    signing_input = f"{header}.{encode_part({'sub': 'admin'})}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{jose.b64url_encode(mac)}"

    error = rejection(forged, jose.public_jwk(es_key))

    assert error.check == "alg"
    assert error.reason == (
        "alg 'HS256' is an HMAC shared-secret algorithm; tokens from a "
        "public-key signer are never verified with HMAC"
    )


def test_hs256_with_public_jwk_as_secret_rejected(es_key):
    secret = OctKey.import_key(json.dumps(jose.public_jwk(es_key)).encode())
    header = {"alg": "HS256", "typ": "test+jwt"}
    forged = jws.serialize_compact(header, b"{}", secret, algorithms=["HS256"])

    error = rejection(forged, es_key)

    assert error.check == "alg"


def test_alg_outside_allow_list_rejected(es_key):
    token = with_header(
        jose.sign({}, es_key, typ="test+jwt"), {"alg": "ES384", "typ": "test+jwt"}
    )

    error = rejection(token, es_key)

    assert error.check == "alg"
    assert error.reason == "alg 'ES384' is not allowed; allowed: ES256, EdDSA"


def test_alg_missing_rejected(es_key):
    token = with_header(jose.sign({}, es_key, typ="test+jwt"), {"typ": "test+jwt"})

    error = rejection(token, es_key)

    assert error.check == "alg"
    assert error.reason == "header alg is None; expected a string"


def test_es256_header_over_ed25519_key_rejected(ed_key):
    token = jose.sign({}, ed_key, typ="test+jwt")
    forged = with_header(token, {"alg": "ES256", "typ": "test+jwt", "kid": ed_key.kid})

    error = rejection(forged, jose.public_jwk(ed_key))

    assert error.check == "alg"
    assert (
        error.reason == "alg 'ES256' needs a EC P-256 key, but the key is OKP Ed25519"
    )


def test_eddsa_header_over_p256_key_rejected(es_key):
    token = jose.sign({}, es_key, typ="test+jwt")
    forged = with_header(token, {"alg": "EdDSA", "typ": "test+jwt", "kid": es_key.kid})

    error = rejection(forged, jose.public_jwk(es_key))

    assert error.check == "alg"
    assert (
        error.reason == "alg 'EdDSA' needs a OKP Ed25519 key, but the key is EC P-256"
    )


def test_typ_swapped_rejected(es_key):
    token = jose.sign({}, es_key, typ="kb+jwt")

    error = rejection(token, es_key, typ="dc+sd-jwt")

    assert error.check == "typ"
    assert error.reason == "header typ is 'kb+jwt'; expected 'dc+sd-jwt'"


def test_typ_missing_rejected(es_key):
    token = with_header(jose.sign({}, es_key, typ="x"), {"alg": "ES256"})

    error = rejection(token, es_key, typ=("dc+sd-jwt", "vc+sd-jwt"))

    assert error.check == "typ"
    assert error.reason == "header typ is missing; expected 'dc+sd-jwt' or 'vc+sd-jwt'"


def test_typ_with_application_prefix_accepted(es_key):
    token = jose.sign({}, es_key, typ="application/KB+JWT")

    header, _ = jose.verify(token, es_key, typ="kb+jwt")

    assert header["typ"] == "application/KB+JWT"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("", "token has 1 dot-separated parts; a compact JWS has 3"),
        ("a.b", "token has 2 dot-separated parts; a compact JWS has 3"),
        ("a.b.c.d", "token has 4 dot-separated parts; a compact JWS has 3"),
        ("e30=.e30.AA", "token header is invalid: 'e30=' is not unpadded base64url"),
        ("e31.e30.AA", "token header is invalid: 'e31' is not canonical base64url"),
        ("bm90IGpzb24.e30.AA", "token header is invalid: Expecting value"),
        ("W10.e30.AA", "token header is not a JSON object"),
        ("e30.W10.AA", "token payload is not a JSON object"),
        ("e30.e30.A", "token signature is invalid: 'A' is not valid base64url"),
        (
            encode_part({"a": 1})[:-1] + "." + "e30.AA",
            "token header is invalid:",
        ),
    ],
)
def test_malformed_token_rejected(es_key, token, reason):
    error = rejection(token, es_key)

    assert error.check == "format"
    assert error.reason.startswith(reason)


def test_duplicate_header_member_rejected(es_key):
    header = jose.b64url_encode(b'{"alg":"ES256","alg":"none"}')

    error = rejection(f"{header}.e30.AA", es_key)

    assert (
        error.reason
        == "token header is invalid: JSON object has the member 'alg' twice"
    )


def test_non_string_token_rejected(es_key):
    error = rejection(b"a.b.c", es_key)

    assert error.reason == "token must be a string, got bytes"


@pytest.mark.parametrize("name", ["jku", "x5u", "jwk"])
def test_key_carrying_header_rejected(es_key, name):
    value = jose.public_jwk(es_key) if name == "jwk" else "https://evil.example/keys"
    token = jose.sign({}, es_key, typ="test+jwt", headers={name: value})

    error = rejection(token, es_key)

    assert error.check == "header"
    assert error.reason == (
        f"header {name!r} would let the token choose its own key; "
        "keys come only from the verifier's trusted keys"
    )


def test_embedded_jwk_allowed_for_key_proofs(ed_key):
    token = jose.sign(
        {}, ed_key, typ="proof+jwt", headers={"jwk": jose.public_jwk(ed_key)}
    )

    header, _ = jose.verify(token, None, typ="proof+jwt", allow_embedded_jwk=True)

    assert header["jwk"] == jose.public_jwk(ed_key)


def test_embedded_private_jwk_rejected(ed_key):
    token = jose.sign({}, ed_key, typ="proof+jwt")
    header = {"alg": "EdDSA", "typ": "proof+jwt", "jwk": ed_key.as_dict(private=True)}
    token = with_header(token, header)

    error = rejection(token, None, typ="proof+jwt", allow_embedded_jwk=True)

    assert error.check == "key"
    assert error.reason.startswith(
        "header jwk is invalid: JWK contains the private member"
    )


def test_embedded_jwk_of_other_key_rejected(ed_key):
    other = jose.generate_key("EdDSA")
    token = jose.sign(
        {}, ed_key, typ="proof+jwt", headers={"jwk": jose.public_jwk(other)}
    )

    error = rejection(token, None, typ="proof+jwt", allow_embedded_jwk=True)

    assert error.check == "signature"


def test_sign_rejects_private_embedded_jwk(ed_key):
    private = ed_key.as_dict(private=True)

    with pytest.raises(
        ValueError, match=r"^headers jwk contains the private member 'd'"
    ):
        jose.sign({}, ed_key, typ="proof+jwt", headers={"jwk": private})


def test_crit_header_rejected(es_key):
    header = {"alg": "ES256", "typ": "test+jwt", "crit": ["exp"], "exp": 1}
    token = with_header(jose.sign({}, es_key, typ="test+jwt"), header)

    error = rejection(token, es_key)

    assert error.check == "crit"
    assert error.reason == (
        "header marks ['exp'] as critical extensions, "
        "which this verifier does not support"
    )


def test_b64_header_rejected(es_key):
    token = with_header(jose.sign({}, es_key, typ="t"), {"alg": "ES256", "b64": False})

    error = rejection(token, es_key, typ="t")

    assert error.check == "header"
    assert error.reason == "header 'b64' (unencoded payload) is not accepted"


def test_other_key_signature_rejected(es_key):
    token = jose.sign(
        {}, jose.generate_key("ES256"), typ="test+jwt", headers={"kid": "k1"}
    )

    error = rejection(token, {**jose.public_jwk(es_key), "kid": "k1"})

    assert error.check == "signature"
    assert error.reason == "signature does not verify with the trusted key(s) 'k1'"


def test_tampered_payload_rejected(es_key):
    header, _, signature = jose.sign({"sub": "a"}, es_key, typ="test+jwt").split(".")
    tampered = f"{header}.{encode_part({'sub': 'b'})}.{signature}"

    error = rejection(tampered, es_key)

    assert error.check == "signature"


def test_unknown_kid_rejected(es_key):
    token = jose.sign({}, es_key, typ="test+jwt", headers={"kid": "unknown"})

    error = rejection(token, es_key)

    assert error.check == "key"
    assert (
        error.reason
        == f"no trusted key has kid 'unknown'; trusted kids: {es_key.kid!r}"
    )


def test_no_trusted_keys_rejected(es_key):
    token = jose.sign({}, es_key, typ="test+jwt")

    error = rejection(token, [])

    assert error.check == "key"
    assert error.reason == "no trusted key was given to verify the token with"


def test_verify_checks_times_when_now_given(es_key):
    token = jose.sign({"iat": NOW, "exp": NOW + 10}, es_key, typ="test+jwt")

    error = rejection(token, es_key, now=NOW + 100)

    assert error.check == "exp"


def test_verify_rejects_unusable_keys_argument(es_key):
    token = jose.sign({}, es_key, typ="test+jwt")

    with pytest.raises(ValueError, match=r"keys must be a joserfc Key or KeySet"):
        jose.verify(token, "not a key", typ="test+jwt")


# Time claims


def test_check_times_accepts_current_claims():
    jose.check_times({"iat": NOW - 5, "nbf": NOW - 5, "exp": NOW + 5}, NOW)


def test_check_times_allows_skew():
    jose.check_times({"iat": NOW + 59, "exp": NOW - 59}, NOW)


def test_check_times_expired():
    with pytest.raises(
        VerificationError, match=r"^exp: token expired at 1749999900 "
    ) as raised:
        jose.check_times({"iat": NOW - 200, "exp": NOW - 100}, NOW)

    assert raised.value.reason.endswith(
        "100 s before now (1750000000 (2025-06-15T15:06:40+00:00))"
    )


def test_check_times_not_yet_valid():
    with pytest.raises(
        VerificationError,
        match=r"^nbf: token is not valid before 1750000100 .*, 100 s after now$",
    ):
        jose.check_times({"iat": NOW, "nbf": NOW + 100}, NOW)


def test_check_times_issued_in_future():
    with pytest.raises(
        VerificationError, match=r"^iat: token was issued at .*, 61 s after now$"
    ):
        jose.check_times({"iat": NOW + 61}, NOW)


def test_check_times_requires_iat():
    with pytest.raises(VerificationError, match=r"^iat: claim 'iat' is missing$"):
        jose.check_times({"exp": NOW + 10}, NOW)


def test_check_times_without_requirements():
    jose.check_times({}, NOW, require=())


@pytest.mark.parametrize("value", ["1750000000", True, None, [1]])
def test_check_times_rejects_non_numbers(value):
    with pytest.raises(
        VerificationError, match=r"expected seconds since 1970 \(NumericDate\)"
    ):
        jose.check_times({"iat": NOW, "exp": value}, NOW)


def test_check_times_huge_exp_is_fine():
    jose.check_times({"iat": NOW, "exp": 10**20}, NOW)


# x5c chains


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificate(
    subject_key,
    issuer_key,
    subject: str,
    issuer: str,
    *,
    ca: bool,
    digital_signature: bool = True,
    days: int = 30,
    names: list[x509.GeneralName] | None = None,
) -> x509.Certificate:
    """A test certificate valid from a day before NOW for ``days`` days."""
    start = datetime.datetime.fromtimestamp(NOW, tz=datetime.UTC) - datetime.timedelta(
        days=1
    )
    usage = x509.KeyUsage(
        digital_signature=digital_signature and not ca,
        content_commitment=False,
        key_encipherment=not digital_signature,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(names), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def make_chain(issuer: str = "https://issuer.example", **leaf_options):
    """Return (root certificate, leaf private key, x5c list) for a two-level chain."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    root = make_certificate(
        root_key, root_key, "Test root", "Test root", ca=True, days=3650
    )
    leaf_options.setdefault("names", [x509.UniformResourceIdentifier(issuer)])
    leaf_options.setdefault("ca", False)
    leaf = make_certificate(
        leaf_key, root_key, "Test issuer", "Test root", **leaf_options
    )
    return root, leaf_key, [x5c_entry(leaf)]


def x5c_entry(certificate: x509.Certificate) -> str:
    return base64.b64encode(
        certificate.public_bytes(serialization.Encoding.DER)
    ).decode()


def test_x5c_chain_returns_leaf_key():
    root, leaf_key, x5c = make_chain()

    key = jose.verify_x5c_chain(x5c, [root], NOW, issuer="https://issuer.example")

    assert key.public_key.public_numbers() == leaf_key.public_key().public_numbers()


def test_x5c_chain_with_dns_name_for_https_issuer():
    root, _, x5c = make_chain(names=[x509.DNSName("issuer.example")])

    key = jose.verify_x5c_chain(x5c, [root], NOW, issuer="https://issuer.example/path")

    assert key.key_type == "EC"


def test_x5c_chain_expired_leaf():
    root, _, x5c = make_chain(days=1)

    with pytest.raises(
        VerificationError, match=r"^x5c: certificate 'CN=Test issuer' expired at "
    ):
        jose.verify_x5c_chain(x5c, [root], NOW + 2 * 86400)


def test_x5c_chain_untrusted_anchor():
    _, _, x5c = make_chain()
    other_root, _, _ = make_chain()

    with pytest.raises(
        VerificationError, match=r"^x5c: certificate 'CN=Test issuer' is not trusted"
    ):
        jose.verify_x5c_chain(x5c, [other_root], NOW)


def test_x5c_chain_leaf_without_digital_signature():
    root, _, x5c = make_chain(digital_signature=False)

    with pytest.raises(
        VerificationError, match=r"does not allow digitalSignature in its key usage"
    ):
        jose.verify_x5c_chain(x5c, [root], NOW)


def test_x5c_chain_issuer_not_named():
    root, _, x5c = make_chain(issuer="https://other.example")

    with pytest.raises(
        VerificationError,
        match=r"does not name issuer 'https://issuer.example' in its subject",
    ):
        jose.verify_x5c_chain(x5c, [root], NOW, issuer="https://issuer.example")


def test_x5c_chain_garbage_entry():
    root, _, _ = make_chain()

    with pytest.raises(
        VerificationError, match=r"^x5c: x5c\[0\] is not a base64 DER certificate"
    ):
        jose.verify_x5c_chain(["bm90IGEgY2VydA=="], [root], NOW)


def test_x5c_chain_empty():
    with pytest.raises(
        VerificationError, match=r"^x5c: x5c must be a non-empty list, got \[\]$"
    ):
        jose.verify_x5c_chain([], [], NOW)


def test_x5c_chain_too_long():
    root, _, x5c = make_chain()

    with pytest.raises(VerificationError, match=r"x5c has 11 certificates; at most 10"):
        jose.verify_x5c_chain(x5c * 11, [root], NOW)


# Encoding helpers


def test_b64url_decode_rejects_non_canonical():
    with pytest.raises(ValueError, match=r"'AB' is not canonical base64url"):
        jose.b64url_decode("AB")


def test_loads_json_rejects_nan():
    with pytest.raises(ValueError, match=r"JSON contains NaN, which is not valid JSON"):
        jose.loads_json("[NaN]")


def test_loads_json_rejects_infinite_number():
    with pytest.raises(ValueError, match=r"JSON number 1e999 is out of range"):
        jose.loads_json("[1e999]")


def test_loads_json_rejects_deep_nesting():
    with pytest.raises(ValueError, match=r"JSON is nested too deeply"):
        jose.loads_json("[" * 100_000 + "]" * 100_000)


# Hostile input

HOSTILE_KEY = jose.generate_key("ES256")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
headers = st.fixed_dictionaries(
    {
        "alg": st.sampled_from(["ES256", "EdDSA", "HS256", "none", "RS256"]),
        "typ": st.just("test+jwt") | json_values,
    },
    optional={
        "kid": st.just(HOSTILE_KEY.kid) | json_values,
        "jwk": st.just(jose.public_jwk(HOSTILE_KEY)) | json_values,
        **{name: json_values for name in ["x5c", "crit", "b64", "jku", "cty"]},
    },
)


@settings(max_examples=500, deadline=None)
@given(
    header=headers,
    claims=st.dictionaries(st.text(max_size=5), json_values, max_size=4),
    signature=st.binary(min_size=64, max_size=64) | st.binary(max_size=80),
    embedded=st.booleans(),
)
def test_hostile_tokens_raise_only_verification_error(
    header, claims, signature, embedded
):
    token = ".".join(
        [encode_part(header), encode_part(claims), jose.b64url_encode(signature)]
    )

    with pytest.raises(VerificationError, match=r"."):
        jose.verify(token, HOSTILE_KEY, typ="test+jwt", allow_embedded_jwk=embedded)
