"""Tests for Token Status Lists: encoding, decoding, tokens and status checks."""

from __future__ import annotations

import zlib

import pytest

from stappen import jose
from stappen.statuslist import (
    INVALID,
    MAX_LIST_BYTES,
    SUSPENDED,
    VALID,
    StatusList,
    StatusListError,
    check_status,
    status_list_token,
    status_reference,
)

NOW = 1_750_000_000
URI = "https://gemeente.example/statuslists/1"


@pytest.fixture(scope="module")
def issuer_key():
    return jose.generate_key("ES256")


def two_bit_list() -> StatusList:
    status_list = StatusList(16, bits=2)
    status_list.set(3, INVALID)
    status_list.set(5, SUSPENDED)
    status_list.set(7, 3)
    return status_list


def fetch_from(tokens: dict[str, str]):
    def fetch(uri: str) -> str:
        return tokens[uri]

    return fetch


def checked(issuer_key, reference, *, token=None, keys=None, now=NOW):
    token = token or status_list_token(
        issuer_key, uri=URI, status_list=two_bit_list(), iat=NOW
    )
    keys = keys if keys is not None else [jose.public_jwk(issuer_key)]
    return check_status(reference, fetch_from({URI: token}), keys, now)


# The list itself


def test_decode_specification_example():
    # 16 one-bit statuses from the Token Status List draft: bytes b9 a3.
    status_list = StatusList.decode({"bits": 1, "lst": "eNrbuRgAAhcBXQ"})

    revoked = [index for index in range(16) if status_list.get(index) == INVALID]

    assert revoked == [0, 3, 4, 5, 7, 8, 9, 13, 15]


def test_encode_packs_from_least_significant_bit():
    status_list = StatusList(12, bits=2)
    for index, status in enumerate([1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]):
        status_list.set(index, status)

    packed = zlib.decompress(jose.b64url_decode(status_list.encode()["lst"]))

    assert packed == bytes([0xC9, 0x44, 0xF9])


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_round_trip(bits):
    status_list = StatusList(100, bits=bits)
    status_list.set(0, 1)
    status_list.set(99, (1 << bits) - 1)

    decoded = StatusList.decode(status_list.encode())

    assert decoded.get(0) == 1
    assert decoded.get(99) == (1 << bits) - 1
    assert decoded.get(50) == VALID


def test_set_overwrites_status():
    status_list = two_bit_list()

    status_list.set(7, VALID)

    assert status_list.get(7) == VALID
    assert status_list.get(5) == SUSPENDED


def test_set_rejects_status_too_wide():
    with pytest.raises(
        StatusListError, match=r"^status 2 does not fit in 1 bits \(0 to 1\)$"
    ):
        StatusList(8).set(0, 2)


def test_get_rejects_index_outside():
    with pytest.raises(
        StatusListError, match=r"^index 8 is outside the list of 8 statuses$"
    ):
        StatusList(8).get(8)


def test_get_rejects_negative_index():
    with pytest.raises(
        StatusListError, match=r"^index -1 is outside the list of 8 statuses$"
    ):
        StatusList(8).get(-1)


@pytest.mark.parametrize("bits", [0, 3, 16, True, "1"])
def test_rejects_bad_bits(bits):
    with pytest.raises(StatusListError, match=r"it must be one of 1, 2, 4, 8$"):
        StatusList(8, bits=bits)


def test_rejects_zero_size():
    with pytest.raises(
        StatusListError, match=r"^size must be a positive integer, got 0$"
    ):
        StatusList(0)


def test_rejects_oversize_list():
    with pytest.raises(StatusListError, match=r"at most 16777216 bytes are allowed$"):
        StatusList(MAX_LIST_BYTES * 8 + 1)


def test_decode_rejects_bad_bits():
    with pytest.raises(StatusListError, match=r"^bits is 5; it must be one of"):
        StatusList.decode({"bits": 5, "lst": "eNrbuRgAAhcBXQ"})


def test_decode_rejects_corrupt_zlib():
    lst = jose.b64url_encode(b"not zlib data")

    with pytest.raises(StatusListError, match=r"^status_list lst is not ZLIB data: "):
        StatusList.decode({"bits": 1, "lst": lst})


def test_decode_rejects_truncated_zlib():
    lst = jose.b64url_encode(zlib.compress(bytes(100))[:-3])

    with pytest.raises(
        StatusListError, match=r"^status_list lst is truncated or has trailing"
    ):
        StatusList.decode({"bits": 1, "lst": lst})


def test_decode_rejects_trailing_data():
    lst = jose.b64url_encode(zlib.compress(bytes(100)) + b"extra")

    with pytest.raises(
        StatusListError, match=r"^status_list lst is truncated or has trailing"
    ):
        StatusList.decode({"bits": 1, "lst": lst})


def test_decode_rejects_inflation_bomb():
    lst = jose.b64url_encode(zlib.compress(bytes(MAX_LIST_BYTES + 1), level=9))

    with pytest.raises(
        StatusListError, match=r"inflates to more than 16777216 bytes; lists"
    ):
        StatusList.decode({"bits": 1, "lst": lst})


def test_decode_rejects_non_base64url():
    with pytest.raises(
        StatusListError, match=r"^status_list lst is invalid: 'a\+b' is not"
    ):
        StatusList.decode({"bits": 1, "lst": "a+b"})


def test_decode_rejects_empty_list():
    lst = jose.b64url_encode(zlib.compress(b""))

    with pytest.raises(
        StatusListError, match=r"^status_list lst decompresses to an empty list$"
    ):
        StatusList.decode({"bits": 1, "lst": lst})


def test_decode_rejects_non_object():
    with pytest.raises(
        StatusListError, match=r"^status_list must be a JSON object, got \[\]$"
    ):
        StatusList.decode([])


# Tokens and status checks


def test_token_claims(issuer_key):
    token = status_list_token(
        issuer_key, uri=URI, status_list=StatusList(8), iat=NOW, exp=NOW + 10, ttl=5
    )

    header, claims = jose.verify(token, issuer_key, typ="statuslist+jwt")

    assert header["typ"] == "statuslist+jwt"
    assert claims["sub"] == URI
    assert (claims["iat"], claims["exp"], claims["ttl"]) == (NOW, NOW + 10, 5)
    assert claims["status_list"] == StatusList(8).encode()


def test_status_reference_shape():
    assert status_reference(7, URI) == {"status_list": {"idx": 7, "uri": URI}}


def test_check_status_valid(issuer_key):
    valid, reason, token = checked(issuer_key, status_reference(0, URI))

    assert valid
    assert reason == f"credential is valid (index 0 of {URI!r})"
    assert token.count(".") == 2


def test_check_status_revoked(issuer_key):
    valid, reason, token = checked(issuer_key, status_reference(3, URI))

    assert not valid
    assert reason == f"credential is revoked (index 3 of {URI!r} is INVALID)"
    assert token is not None


def test_check_status_suspended(issuer_key):
    valid, reason, _ = checked(issuer_key, status_reference(5, URI))

    assert not valid
    assert reason == f"credential is suspended (index 5 of {URI!r} is SUSPENDED)"


def test_check_status_application_specific(issuer_key):
    valid, reason, _ = checked(issuer_key, status_reference(7, URI))

    assert not valid
    assert (
        reason
        == f"credential has status 0x03 at index 7 of {URI!r}, which is not VALID"
    )


def test_check_status_unknown_index(issuer_key):
    valid, reason, _ = checked(issuer_key, status_reference(16, URI))

    assert not valid
    assert reason == f"status list {URI!r} has no index 16; it contains 16 statuses"


def test_check_status_untrusted_key(issuer_key):
    stranger = jose.generate_key("ES256")
    token = status_list_token(stranger, uri=URI, status_list=two_bit_list(), iat=NOW)

    valid, reason, evidence = checked(issuer_key, status_reference(0, URI), token=token)

    assert not valid
    assert reason.startswith(
        f"status list token from {URI!r} is not trusted: no trusted key"
    )
    assert evidence == token


def test_check_status_wrong_typ(issuer_key):
    claims = {"sub": URI, "iat": NOW, "status_list": two_bit_list().encode()}
    token = jose.sign(claims, issuer_key, typ="jwt")

    valid, reason, _ = checked(issuer_key, status_reference(0, URI), token=token)

    assert not valid
    assert reason == (
        f"status list token from {URI!r} is not trusted: "
        "header typ is 'jwt'; expected 'statuslist+jwt'"
    )


def test_check_status_expired_token(issuer_key):
    token = status_list_token(
        issuer_key, uri=URI, status_list=two_bit_list(), iat=NOW - 7200, exp=NOW - 3600
    )

    valid, reason, _ = checked(issuer_key, status_reference(0, URI), token=token)

    assert not valid
    assert reason.startswith(
        f"status list token from {URI!r} is not valid now: token expired"
    )


def test_check_status_token_without_iat(issuer_key):
    token = jose.sign(
        {"sub": URI, "status_list": two_bit_list().encode()},
        issuer_key,
        typ="statuslist+jwt",
    )

    valid, reason, _ = checked(issuer_key, status_reference(0, URI), token=token)

    assert not valid
    assert (
        reason
        == f"status list token from {URI!r} is not valid now: claim 'iat' is missing"
    )


def test_check_status_uri_mismatch(issuer_key):
    other = "https://gemeente.example/statuslists/2"
    token = status_list_token(
        issuer_key, uri=other, status_list=two_bit_list(), iat=NOW
    )

    valid, reason, _ = checked(issuer_key, status_reference(0, URI), token=token)

    assert not valid
    assert reason == (
        f"status list token has sub {other!r}, but the credential refers to uri {URI!r}"
    )


def test_check_status_fetch_failure(issuer_key, caplog):
    def fetch(uri: str) -> str:
        raise OSError("connection refused")

    valid, reason, token = check_status(
        status_reference(0, URI), fetch, [issuer_key], NOW
    )

    assert not valid
    assert reason == f"status list {URI!r} could not be fetched: connection refused"
    assert token is None
    assert "Fetching status list" in caplog.text


def test_check_status_corrupt_list_in_token(issuer_key):
    claims = {"sub": URI, "iat": NOW, "status_list": {"bits": 1, "lst": "AAAA"}}
    token = jose.sign(claims, issuer_key, typ="statuslist+jwt")

    valid, reason, _ = checked(issuer_key, status_reference(0, URI), token=token)

    assert not valid
    assert reason.startswith("status_list lst is not ZLIB data")


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        (None, "status claim None has no status_list object with idx and uri"),
        (
            {"status_list": {"uri": URI}},
            "status_list idx is None; expected an integer >= 0",
        ),
        ({"status_list": {"idx": -1, "uri": URI}}, "status_list idx is -1; expected"),
        (
            {"status_list": {"idx": True, "uri": URI}},
            "status_list idx is True; expected",
        ),
        (
            {"status_list": {"idx": 0, "uri": 5}},
            "status_list uri is 5; expected a URI string",
        ),
    ],
)
def test_check_status_malformed_reference(issuer_key, claim, reason):
    valid, message, token = checked(issuer_key, claim)

    assert not valid
    assert message.startswith(reason)
    assert token is None
