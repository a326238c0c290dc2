"""The test wallet: its file, its misbehaviour modes, its checks and the API.

The end-to-end tests at the bottom drive the real API app through the
wallet's transport hook, with a Flask test client instead of the network.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import importlib.util
import json
import os
import shutil
import stat
import urllib.parse

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from joserfc import jwe
from joserfc.jwk import ECKey

from stappen import jose, sdjwt
from stappen.wallet import __main__ as cli
from stappen.wallet import holder as holding
from stappen.wallet import modes
from stappen.wallet.store import Wallet, WalletError, WalletFileError, read_credential
from tests.conftest import PROJECT

NOW = 1_780_000_000
ISSUER = "https://uitgifte.vil.example"
VCT = "urn:stappen:vil:inkomen"
NONCE = "nonce-0S6_WzA2Mj"
CLAIMS = {
    "netto_per_maand": 1290.0,
    "adres": {"woonplaats": "Utrecht", "straat": "Dom 1"},
}
DISCLOSABLE = {"netto_per_maand", "adres", "adres.woonplaats", "adres.straat"}


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Run in a fresh folder, so a default ./wallet.json never lands in the project."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def issuer_key():
    return jose.generate_key("ES256")


@pytest.fixture
def wallet(tmp_path):
    return Wallet.create(tmp_path / "wallet.json")


def receive_local(wallet, issuer_key, *, exp=NOW + 86400, vct=VCT, now=NOW):
    """Issue a credential to a new key of ``wallet`` without an API, and keep it."""
    key = wallet.new_key()
    raw = sdjwt.issue(
        issuer_key,
        issuer=ISSUER,
        vct=vct,
        claims=CLAIMS,
        disclosable=DISCLOSABLE,
        holder_jwk=jose.public_jwk(key),
        iat=now - 60,
        exp=exp,
    )
    return wallet.add_credential(raw, key_id=jose.key_id(key), now=now)


# The wallet file


def test_create_writes_mode_0600(wallet):
    mode = stat.S_IMODE(os.stat(wallet.path).st_mode)
    assert mode == 0o600


def test_create_rejects_existing_file(wallet):
    with pytest.raises(WalletFileError, match="already exists; remove it first"):
        Wallet.create(wallet.path)


def test_save_keeps_mode_0600(wallet, issuer_key):
    receive_local(wallet, issuer_key)
    wallet.save()
    assert stat.S_IMODE(os.stat(wallet.path).st_mode) == 0o600
    assert [p.name for p in wallet.path.parent.iterdir()] == ["wallet.json"]


def test_round_trip_keeps_everything(wallet, issuer_key):
    credential = receive_local(wallet, issuer_key)
    wallet.last_response = {"vp_token": {"inkomen": ["x"]}, "sent_at": NOW}
    wallet.save()

    loaded = Wallet.load(wallet.path)
    assert loaded.credentials == [credential]
    assert loaded.keys == wallet.keys
    assert loaded.last_response == wallet.last_response
    assert loaded.key(credential.key_id).thumbprint() == credential.key_id


def test_credential_ids_stay_unique(wallet, issuer_key):
    first = receive_local(wallet, issuer_key)
    wallet.save()
    loaded = Wallet.load(wallet.path)
    second = receive_local(loaded, issuer_key)
    assert (first.id, second.id) == ("inkomen-1", "inkomen-2")


def test_missing_file_names_init(tmp_path):
    path = tmp_path / "nergens.json"
    with pytest.raises(WalletFileError, match=r"not found; create it with `.* init`"):
        Wallet.load(path)


def test_corrupt_file_names_fix(wallet):
    wallet.path.write_text('{"format": "stappen-wallet", "keys": {', encoding="utf-8")
    with pytest.raises(WalletFileError, match="is not valid JSON .*restore it"):
        Wallet.load(wallet.path)


def test_other_json_is_not_a_wallet(wallet):
    wallet.path.write_text('{"keys": []}', encoding="utf-8")
    with pytest.raises(WalletFileError, match="is not a Stappen wallet file"):
        Wallet.load(wallet.path)


def test_damaged_credential_entry(wallet):
    document = json.loads(wallet.path.read_text())
    document["credentials"] = [{"id": "x"}]
    wallet.path.write_text(json.dumps(document))
    with pytest.raises(WalletFileError, match="credential 0 lacks id, raw or key_id"):
        Wallet.load(wallet.path)


def test_readable_file_warns(wallet, caplog):
    os.chmod(wallet.path, 0o644)
    Wallet.load(wallet.path)
    assert "run `chmod 600" in caplog.text


def test_claims_include_disclosures(wallet, issuer_key):
    credential = receive_local(wallet, issuer_key)
    assert credential.claims["netto_per_maand"] == 1290.0
    assert credential.claims["adres"] == CLAIMS["adres"]
    assert "_sd" not in json.dumps(credential.claims)
    assert (credential.issuer, credential.vct) == (ISSUER, VCT)
    assert credential.expires_at == NOW + 86400


def test_credential_for_other_key_rejected(wallet, issuer_key):
    stranger = jose.generate_key()
    key = wallet.new_key()
    raw = sdjwt.issue(
        issuer_key,
        issuer=ISSUER,
        vct=VCT,
        claims=CLAIMS,
        holder_jwk=jose.public_jwk(stranger),
        iat=NOW,
        exp=None,
    )
    with pytest.raises(WalletError, match="is bound to key .*, not to the holder key"):
        wallet.add_credential(raw, key_id=jose.key_id(key), now=NOW)


def test_read_credential_rejects_garbage():
    with pytest.raises(WalletError, match="not a valid SD-JWT VC"):
        read_credential("not-a-credential")


def test_get_unknown_lists_known(wallet, issuer_key):
    receive_local(wallet, issuer_key)
    with pytest.raises(
        WalletError, match="no credential 'x-9'; its credentials: inkomen-1"
    ):
        wallet.get("x-9")


# Misbehaviour modes, checked with the verifier's own sdjwt.verify_presentation

CLIENT_ID = "x509_hash:Uvo3HtuIxuhC92rShpgqcT3YXwrqRxWEviRiA0OZszk"


@pytest.fixture
def item(wallet, issuer_key):
    credential = receive_local(wallet, issuer_key)
    return modes.PresentationInput(
        credential=credential,
        holder_key=wallet.key(credential.key_id),
        disclose={"netto_per_maand", "adres.woonplaats"},
        nonce=NONCE,
        aud=CLIENT_ID,
        iat=NOW,
    )


def verify(presentation, issuer_key, now=NOW):
    trusted = sdjwt.TrustedIssuers({ISSUER: [jose.public_jwk(issuer_key)]})
    return sdjwt.verify_presentation(
        presentation, trusted=trusted, nonce=NONCE, aud=CLIENT_ID, now=now
    )


def test_honest_presentation_verifies(item, issuer_key):
    verified = verify(modes.honest_presentation(item), issuer_key)
    assert verified.claims["netto_per_maand"] == 1290.0
    assert verified.claims["adres"] == {"woonplaats": "Utrecht"}


@pytest.mark.parametrize(
    ("mode", "check", "reason"),
    [
        ("wrong-nonce", "key binding", "KB-JWT nonce 'wrong-"),
        ("aud-array", "key binding", "KB-JWT aud is the array"),
        ("tampered-disclosure", "disclosures", "matches no digest"),
        ("foreign-key", "key binding", "signature does not verify"),
        ("alg-none", "key binding", "alg 'none' marks an unsigned token"),
        ("hs256-public-key", "key binding", "alg 'HS256' is an HMAC"),
        ("no-kb", "key binding", "presentation has no KB-JWT"),
    ],
)
def test_mode_fails_expected_check(item, issuer_key, mode, check, reason):
    presentation = modes.MODES[mode].build(item)
    with pytest.raises(sdjwt.PresentationRejected) as rejected:
        verify(presentation, issuer_key)

    assert rejected.value.failed.name == check
    assert reason in rejected.value.failed.reason
    assert check in modes.MODES[mode].expected


def kb_jwt(presentation):
    return jose.decode_unverified(sdjwt.parse(presentation).kb_jwt)


def test_aud_array_is_array(item):
    _, claims = kb_jwt(modes.aud_array(item))
    assert claims["aud"] == [CLIENT_ID]
    assert claims["nonce"] == NONCE


def test_tampered_disclosure_keeps_salt(item):
    honest = sdjwt.parse(modes.honest_presentation(item)).disclosures
    tampered = sdjwt.parse(modes.tampered_disclosure(item)).disclosures

    assert tampered[0].salt == honest[0].salt
    assert tampered[0].name == honest[0].name
    assert tampered[0].value != honest[0].value
    assert tampered[1:] == honest[1:]


def test_tampered_sd_hash_covers_change(item):
    presentation = modes.tampered_disclosure(item)
    _, claims = kb_jwt(presentation)
    assert claims["sd_hash"] == modes.sd_hash(
        sdjwt.parse(presentation).without_key_binding
    )


@pytest.mark.parametrize(
    ("value", "changed"),
    [(True, False), (1290.0, 1291.0), (7, 8), ("Utrecht", "Utrecht (changed)")],
)
def test_changed_value_keeps_type(value, changed):
    assert modes.changed_value(value) == changed
    assert type(modes.changed_value(value)) is type(value)


def test_alg_none_has_no_signature(item):
    presentation = modes.alg_none(item)
    header, _ = kb_jwt(presentation)
    assert header == {"alg": "none", "typ": "kb+jwt"}
    assert presentation.endswith(".")


def test_hs256_uses_public_key_as_secret(item):
    presentation = modes.hs256_public_key(item)
    token = sdjwt.parse(presentation).kb_jwt
    signing_input, _, signature = token.rpartition(".")
    secret = modes.public_key_pem(item.holder_key)
    expected = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()

    assert kb_jwt(presentation)[0]["alg"] == "HS256"
    assert secret.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert jose.b64url_decode(signature) == expected


def test_foreign_key_names_holder_kid(item):
    header, _ = kb_jwt(modes.foreign_key(item))
    assert header["kid"] == jose.key_id(item.holder_key)


def test_no_kb_ends_after_disclosures(item):
    presentation = modes.no_key_binding(item)
    assert presentation.endswith("~")
    assert sdjwt.parse(presentation).kb_jwt is None


def test_tampered_needs_disclosure(item):
    bare = modes.PresentationInput(**{**item.__dict__, "disclose": set()})
    with pytest.raises(WalletError, match="needs a disclosed claim"):
        modes.tampered_disclosure(bare)


def test_usable_skips_expired(wallet, issuer_key):
    old = receive_local(wallet, issuer_key, exp=NOW - 10)
    fresh = receive_local(wallet, issuer_key, now=NOW + 5)
    assert modes.usable_credentials(wallet.credentials, NOW) == [fresh]
    assert old.is_expired(NOW)


def test_expired_first_prefers_expired(wallet, issuer_key):
    old = receive_local(wallet, issuer_key, exp=NOW - 10)
    receive_local(wallet, issuer_key)
    other = receive_local(wallet, issuer_key, vct="urn:stappen:vil:leeftijd")
    assert modes.expired_first(wallet.credentials, NOW) == [old, other]


def test_expired_needs_expired_credential(wallet, issuer_key):
    receive_local(wallet, issuer_key)
    with pytest.raises(WalletError, match="mode expired needs a credential"):
        modes.expired_first(wallet.credentials, NOW)


def test_find_unknown_mode_lists_modes():
    with pytest.raises(WalletError, match="unknown mode 'sloppy'; use one of replay"):
        modes.find("sloppy")


def test_every_mode_documented():
    text = (PROJECT / "docs" / "test-wallet.md").read_text(encoding="utf-8")
    for name in modes.MODES:
        assert f"`{name}`" in text


# Checking the request object


def self_signed(key, *, days=30, moment=NOW):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "verifier.test")])
    start = datetime.datetime.fromtimestamp(moment, tz=datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - datetime.timedelta(hours=1))
        .not_valid_after(start + datetime.timedelta(days=days))
        .sign(key.private_key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def verifier_key():
    return jose.generate_key("ES256")


@pytest.fixture(scope="module")
def certificate(verifier_key):
    return self_signed(verifier_key)


def client_id_of(certificate):
    der = certificate.public_bytes(serialization.Encoding.DER)
    return "x509_hash:" + jose.b64url_encode(hashlib.sha256(der).digest())


def request_object(key, certificate, typ="oauth-authz-req+jwt", **changes):
    claims = {
        "client_id": client_id_of(certificate),
        "response_type": "vp_token",
        "response_mode": "direct_post",
        "response_uri": "http://stappen.test/api/v1/verifier/responses/r1",
        "nonce": NONCE,
        "state": "state-1",
        "dcql_query": {"credentials": []},
        "aud": "https://self-issued.me/v2",
        "iat": NOW,
        "exp": NOW + 300,
        **changes,
    }
    der = certificate.public_bytes(serialization.Encoding.DER)
    x5c = [base64.b64encode(der).decode()]
    return jose.sign(claims, key, typ=typ, headers={"x5c": x5c})


def test_request_object_accepted(verifier_key, certificate):
    token = request_object(verifier_key, certificate)
    request = holding.verify_request_object(token, client_id_of(certificate), NOW)
    assert request.client_id == client_id_of(certificate)
    assert (request.nonce, request.state, request.expires_at) == (
        NONCE,
        "state-1",
        NOW + 300,
    )
    assert request.certificate_subject == "CN=verifier.test"


def test_request_hash_mismatch_rejected(verifier_key, certificate):
    token = request_object(verifier_key, certificate)
    other = "x509_hash:" + jose.b64url_encode(b"\0" * 32)
    with pytest.raises(WalletError, match="failed the client_id check: client_id hash"):
        holding.verify_request_object(token, other, NOW)


def test_request_other_signer_rejected(certificate):
    token = request_object(jose.generate_key("ES256"), certificate)
    with pytest.raises(WalletError, match="failed the signature check"):
        holding.verify_request_object(token, client_id_of(certificate), NOW)


def test_request_wrong_typ_rejected(verifier_key, certificate):
    token = request_object(verifier_key, certificate, typ="JWT")
    with pytest.raises(WalletError, match="failed the typ check"):
        holding.verify_request_object(token, client_id_of(certificate), NOW)


def test_request_expired_rejected(verifier_key, certificate):
    token = request_object(verifier_key, certificate)
    with pytest.raises(WalletError, match="failed the exp check"):
        holding.verify_request_object(token, client_id_of(certificate), NOW + 400)


def test_request_expired_certificate_rejected(verifier_key):
    certificate = self_signed(verifier_key, days=1, moment=NOW - 5 * 86400)
    token = request_object(verifier_key, certificate)
    with pytest.raises(WalletError, match="failed the x5c check: leaf certificate"):
        holding.verify_request_object(token, client_id_of(certificate), NOW)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"client_id": "x509_hash:other"}, "has client_id 'x509_hash:other'"),
        ({"aud": "https://verifier.test"}, "has aud 'https://verifier.test'"),
        ({"response_type": "code"}, "has response_type 'code'"),
        ({"response_mode": "fragment"}, "has response_mode 'fragment'"),
        ({"response_uri": "ftp://x"}, "response_uri is 'ftp://x'"),
        ({"nonce": None}, "has nonce None; expected a str"),
        ({"redirect_uri": "https://x"}, "has a redirect_uri"),
    ],
)
def test_request_claims_checked(verifier_key, certificate, changes, message):
    token = request_object(verifier_key, certificate, **changes)
    with pytest.raises(WalletError, match=message):
        holding.verify_request_object(token, client_id_of(certificate), NOW)


def test_non_x509_hash_client_id_rejected(verifier_key, certificate):
    token = request_object(verifier_key, certificate)
    with pytest.raises(WalletError, match="does not use the x509_hash: prefix"):
        holding.verify_request_object(token, "redirect_uri:https://x", NOW)


# Encrypting the response


def encryption_key(kid="enc-1"):
    parameters = {"use": "enc", "alg": "ECDH-ES", "kid": kid}
    return ECKey.generate_key("P-256", parameters=parameters)


def test_encrypted_response_decrypts():
    key = encryption_key()
    metadata = {
        "jwks": {"keys": [key.as_dict(private=False)]},
        "encrypted_response_enc_values_supported": ["A256GCM"],
    }
    params = {"vp_token": {"inkomen": ["x~y~"]}, "state": "s"}
    token = holding.encrypt_response(params, metadata)

    decrypted = jwe.decrypt_compact(token, key)
    assert json.loads(decrypted.plaintext) == params
    assert decrypted.headers()["kid"] == "enc-1"
    assert decrypted.headers()["enc"] == "A256GCM"
    assert decrypted.headers()["alg"] == "ECDH-ES"


def test_encrypted_response_default_enc():
    key = encryption_key()
    metadata = {"jwks": {"keys": [key.as_dict(private=False)]}}
    token = holding.encrypt_response({"state": "s"}, metadata)
    assert jwe.decrypt_compact(token, key).headers()["enc"] == "A128GCM"


def test_encryption_needs_jwks():
    with pytest.raises(WalletError, match="client_metadata has no jwks"):
        holding.encrypt_response({}, {})


def test_encryption_needs_alg_on_key():
    public = encryption_key().as_dict(private=False)
    del public["alg"]
    with pytest.raises(WalletError, match="no ECDH-ES key on P-256 or X25519"):
        holding.encrypt_response({}, {"jwks": {"keys": [public]}})


def test_encryption_unsupported_enc():
    public = encryption_key().as_dict(private=False)
    metadata = {
        "jwks": {"keys": [public]},
        "encrypted_response_enc_values_supported": ["X"],
    }
    with pytest.raises(WalletError, match="verifier supports enc \\['X'\\]"):
        holding.encrypt_response({}, metadata)


# Small helpers


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("netto_per_maand",), "netto_per_maand"),
        (("adres", "woonplaats"), "adres.woonplaats"),
        (("kinderen", None, "naam"), "kinderen.*.naam"),
        (("nationaliteiten", 0), "nationaliteiten.0"),
    ],
)
def test_sdjwt_path(path, expected):
    assert holding.sdjwt_path(path) == expected


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("http://api.test", "http://api.test/.well-known/openid-credential-issuer"),
        ("https://api.test/", "https://api.test/.well-known/openid-credential-issuer"),
        (
            "https://api.test/proef",
            "https://api.test/.well-known/openid-credential-issuer/proef",
        ),
    ],
)
def test_well_known_url(identifier, expected):
    assert holding.well_known_url(identifier, "openid-credential-issuer") == expected


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://x/y", "/relative", None])
def test_only_http_urls(url):
    with pytest.raises(WalletError, match="expected an absolute http:// or https://"):
        holding.check_http_url(url, "request_uri")


def test_offer_link_without_uri(wallet):
    holder = holding.Holder(wallet.path, transport=no_network_transport)
    with pytest.raises(WalletError, match="has no credential_offer_uri parameter"):
        holder.receive("openid-credential-offer://?credential_offer=%7B%7D")


def test_request_uri_method_post_unsupported(wallet):
    holder = holding.Holder(wallet.path, transport=no_network_transport)
    url = "openid4vp://?client_id=x&request_uri=http://a.test/r&request_uri_method=post"
    with pytest.raises(WalletError, match="fetches request objects with GET only"):
        holder.present(url)


def test_request_object_media_type_checked(wallet):
    def transport(request):
        return holding.HttpResponse(200, {"content-type": "text/plain"}, b"x.y.z")

    holder = holding.Holder(wallet.path, transport=transport)
    url = "openid4vp://?client_id=x509_hash:abc&request_uri=http://a.test/r"
    with pytest.raises(WalletError, match="returned Content-Type 'text/plain'"):
        holder.present(url)


def test_token_identifiers_used():
    token = {
        "authorization_details": [
            {
                "type": "openid_credential",
                "credential_configuration_id": "inkomen",
                "credential_identifiers": ["inkomen-2026"],
            },
            {"type": "openid_credential", "credential_configuration_id": "leeftijd"},
        ]
    }
    assert holding._credential_identifiers(token) == {"inkomen": ["inkomen-2026"]}


def no_network_transport(request):
    raise AssertionError(
        f"no HTTP request expected, got {request.method} {request.url}"
    )


def test_server_error_names_error():
    def transport(request):
        body = json.dumps({"error": "invalid_grant", "error_description": "code used"})
        return holding.HttpResponse(
            400, {"content-type": "application/json"}, body.encode()
        )

    http = holding._Http(transport)
    with pytest.raises(holding.ServerError, match="HTTP 400: invalid_grant: code used"):
        http.get_json("http://api.test/x")


def test_server_error_without_json():
    def transport(request):
        return holding.HttpResponse(502, {}, b"<html>Bad gateway</html>")

    with pytest.raises(holding.ServerError, match="HTTP 502: no JSON error: <html>"):
        holding._Http(transport).get_json("http://api.test/x")


# The command


def run(capsys, *argv):
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _wallet_errors(stderr: str) -> str:
    """Keep the command's own error lines; other tests may leave log handlers."""
    return "".join(
        line for line in stderr.splitlines(True) if line.startswith("error:")
    )


def test_cli_init_then_list(tmp_path, capsys):
    path = str(tmp_path / "w.json")
    assert run(capsys, "--wallet", path, "init")[0] == 0

    status, out, _ = run(capsys, "list", "--wallet", path)
    assert status == 0
    assert "contains no credentials" in out


def test_cli_list_and_show(wallet, issuer_key, capsys):
    credential = receive_local(wallet, issuer_key)
    wallet.save()

    status, out, _ = run(capsys, "--wallet", str(wallet.path), "list")
    assert status == 0
    assert out.startswith(f"inkomen-1  {VCT}  from {ISSUER}  received ")

    status, out, _ = run(capsys, "--wallet", str(wallet.path), "show", "inkomen-1")
    assert status == 0
    assert '"woonplaats": "Utrecht"' in out
    assert out.rstrip().endswith(credential.raw)


def test_cli_missing_wallet_exit_1(tmp_path, capsys):
    status, out, err = run(capsys, "--wallet", str(tmp_path / "x.json"), "list")
    assert status == 1
    assert _wallet_errors(err).startswith("error: wallet file ")
    assert "Traceback" not in err


def test_cli_show_unknown_id(wallet, capsys):
    status, _, err = run(capsys, "--wallet", str(wallet.path), "show", "x-1")
    assert status == 1
    assert "has no credential 'x-1'" in err


def test_cli_unreachable_server_exit_1(wallet, capsys, unused_port, monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    url = "openid-credential-offer://?credential_offer_uri=" + urllib.parse.quote(
        f"http://127.0.0.1:{unused_port}/offers/1"
    )
    status, _, err = run(capsys, "--wallet", str(wallet.path), "receive", url)
    assert status == 1
    assert "cannot be reached" in err
    assert "Traceback" not in err


@pytest.fixture
def unused_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_cli_unknown_mode_rejected(wallet, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--wallet", str(wallet.path), "present", "x", "--mode", "sloppy"])
    assert exited.value.code == 2
    assert "invalid choice: 'sloppy'" in capsys.readouterr().err


API_MODULES = ("stappen.verifier", "stappen.issuer", "stappen.sessions")
MISSING_API = [name for name in API_MODULES if importlib.util.find_spec(name) is None]


# End to end, against the real API app


E2E_PUBLIC_URL = "https://api.stappen.test"
VIL = "vil"
ISSUE_STEP = "gegevens-ophalen"
PRESENT_STEP = "gegevens-delen"
PERSONA = "sanne"
VIL_TYPES = {
    f"urn:stappen:vil:{name}"
    for name in (
        "inkomen",
        "huishouden",
        "leeftijd",
        "woonplaats",
        "vermogen",
        "bankrekening",
    )
}

needs_api = pytest.mark.skipif(
    bool(MISSING_API),
    reason=f"the API has no {', '.join(MISSING_API)} yet, so there is nothing to "
    "receive from or present to",
)


class ApiClock:
    """The API's clock (STAPPEN_CLOCK), which tests move instead of sleeping."""

    def __init__(self) -> None:
        self.now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += datetime.timedelta(seconds=seconds)

    @property
    def epoch(self) -> int:
        return int(self.now.timestamp())


def flask_transport(app):
    """Return a wallet transport that hands each request to ``app``'s test client."""
    client = app.test_client()
    public = urllib.parse.urlsplit(E2E_PUBLIC_URL)

    def send(request: holding.HttpRequest) -> holding.HttpResponse:
        url = urllib.parse.urlsplit(request.url)
        assert (url.scheme, url.netloc) == (public.scheme, public.netloc), (
            f"the wallet sent a request outside the API: {request.url}"
        )
        path = url.path + (f"?{url.query}" if url.query else "")
        response = client.open(
            path,
            method=request.method,
            headers=dict(request.headers),
            data=request.body,
            base_url=f"{public.scheme}://{public.netloc}",
        )
        headers = {name.lower(): value for name, value in response.headers.items()}
        return holding.HttpResponse(response.status_code, headers, response.get_data())

    return send


class E2E:
    """The API app, its clock and a wallet that talks to it."""

    def __init__(self, app, clock: ApiClock, wallet_path) -> None:
        self.app = app
        self.clock = clock
        self.client = app.test_client()
        self.lines: list[str] = []
        self.issuing_sessions: list[str] = []
        self.holder = holding.Holder(
            wallet_path,
            transport=flask_transport(app),
            clock=lambda: clock.epoch,
            sleep=clock.advance,
            echo=self.lines.append,
        )

    def start(self, step: str, **fields) -> dict:
        body = {"flow": VIL, "step": step, **fields}
        response = self.client.post("/api/v1/wallet-sessions", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def status(self, session: dict) -> str:
        self.clock.advance(1)
        path = f"/api/v1/wallet-sessions/{session['transaction_id']}/status"
        return self.client.get(path).get_json()["status"]

    def result(self, session: dict) -> dict:
        path = f"/api/v1/wallet-sessions/{session['transaction_id']}/result"
        response = self.client.get(path)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def failed_checks(self, session: dict) -> list[str]:
        report = self.result(session)["report"]
        return [line["check"] for line in report if not line["passed"]]

    def receive_persona(self) -> list[str]:
        session = self.start(ISSUE_STEP, persona=PERSONA)
        self.issuing_sessions.append(session["transaction_id"])
        return self.holder.receive(session["wallet_url"])

    def receive_persona_with_code(self) -> list[str]:
        session = self.start(ISSUE_STEP, persona=PERSONA)
        return self.holder.receive(session["wallet_url"], tx_code=session["tx_code"])

    def wallet(self) -> Wallet:
        return Wallet.load(self.holder.wallet_path)


def make_e2e(tmp_path, steps_dir, database_url: str | None = None) -> E2E:
    """Build the API app on ``steps_dir`` with fresh keys, database and clock.

    The database is a new SQLite file unless ``database_url`` names another.
    """
    from stappen import apiconfig
    from stappen.api import create_app

    clock = ApiClock()
    app = create_app(
        {
            "STEPS_DIR": str(steps_dir),
            "KEYS_DIR": str(tmp_path / "keys"),
            "DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'api.sqlite3'}",
            "PUBLIC_URL": E2E_PUBLIC_URL,
            "STAPPEN_CLOCK": clock,
            "TESTING": True,
        }
    )
    apiconfig.generate_keys(app)
    app.extensions["stappen.storage"].init_schema()
    wallet_path = tmp_path / "e2e-wallet.json"
    Wallet.create(wallet_path)
    return E2E(app, clock, wallet_path)


@pytest.fixture
def e2e(tmp_path):
    return make_e2e(tmp_path, PROJECT / "steps")


@pytest.fixture
def variant(tmp_path):
    """The VIL flow with a transaction code on issuing and plain direct_post."""
    steps = tmp_path / "steps"
    shutil.copytree(PROJECT / "steps" / VIL, steps / VIL)
    flow = steps / VIL / "flow.yaml"
    text = flow.read_text(encoding="utf-8")
    changes = [
        (
            "      expires_in: 600\n    next: regeling",
            "      expires_in: 600\n      tx_code: {length: 6, input_mode: numeric}\n"
            "    next: regeling",
        ),
        (
            "      response_mode: direct_post.jwt\n",
            "      response_mode: direct_post\n",
        ),
    ]
    for old, new in changes:
        assert text.count(old) == 1, f"the VIL flow changed; update this fixture: {old}"
        text = text.replace(old, new)
    flow.write_text(text, encoding="utf-8")
    return make_e2e(tmp_path, steps)


@pytest.fixture
def filled(e2e):
    """The end-to-end set-up with the persona's credentials in the wallet."""
    e2e.receive_persona()
    return e2e


@needs_api
def test_receive_persona_credentials(e2e):
    session = e2e.start(ISSUE_STEP, persona=PERSONA)
    ids = e2e.holder.receive(session["wallet_url"])

    credentials = e2e.wallet().credentials
    assert ids == [credential.id for credential in credentials]
    assert {credential.vct for credential in credentials} == VIL_TYPES
    inkomen = next(c for c in credentials if c.vct.endswith(":inkomen"))
    assert inkomen.claims["netto_per_maand"] == 1290.0
    assert inkomen.issuer == "https://uitgifte.vil.example"
    assert inkomen.credential_issuer == E2E_PUBLIC_URL
    assert e2e.status(session) == "issued"


@needs_api
def test_receive_keys_per_credential(e2e):
    e2e.receive_persona()
    wallet = e2e.wallet()
    key_ids = [credential.key_id for credential in wallet.credentials]
    assert len(set(key_ids)) == len(key_ids) == 6
    assert set(wallet.keys) == set(key_ids)


@needs_api
def test_receive_offer_only_once(e2e):
    session = e2e.start(ISSUE_STEP, persona=PERSONA)
    e2e.holder.receive(session["wallet_url"])
    with pytest.raises(holding.ServerError, match="HTTP 404: not_found"):
        e2e.holder.receive(session["wallet_url"])


@needs_api
def test_receive_needs_tx_code(variant):
    session = variant.start(ISSUE_STEP, persona=PERSONA)
    with pytest.raises(WalletError, match="needs a transaction code of 6 characters"):
        variant.holder.receive(session["wallet_url"])


@needs_api
def test_receive_wrong_tx_code(variant):
    session = variant.start(ISSUE_STEP, persona=PERSONA)
    wrong = "000000" if session["tx_code"] != "000000" else "111111"
    with pytest.raises(
        holding.ServerError, match="invalid_grant: the transaction code"
    ):
        variant.holder.receive(session["wallet_url"], tx_code=wrong)


@needs_api
def test_receive_with_tx_code(variant):
    session = variant.start(ISSUE_STEP, persona=PERSONA)
    ids = variant.holder.receive(session["wallet_url"], tx_code=session["tx_code"])
    assert len(ids) == 6
    assert variant.status(session) == "issued"


@needs_api
def test_present_plain_direct_post(variant):
    variant.receive_persona_with_code()
    session = variant.start(PRESENT_STEP)
    assert variant.holder.present(session["wallet_url"]) == {}
    assert variant.status(session) == "verified"
    assert any(line.endswith("response mode direct_post") for line in variant.lines)


@needs_api
def test_plain_wrong_nonce_fails(variant):
    variant.receive_persona_with_code()
    session = variant.start(PRESENT_STEP)
    with pytest.raises(holding.ResponseRejected, match="failed checks key binding"):
        variant.holder.present(session["wallet_url"], mode="wrong-nonce")
    assert variant.status(session) == "failed"


@needs_api
def test_present_honest_verified(filled):
    session = filled.start(PRESENT_STEP)
    answer = filled.holder.present(session["wallet_url"])

    assert answer == {}
    assert filled.status(session) == "verified"
    result = filled.result(session)
    assert all(line["passed"] for line in result["report"])
    [inkomen] = result["claims"]["inkomen"]
    assert inkomen["claims"]["netto_per_maand"] == 1290.0
    [leeftijd] = result["claims"]["leeftijd"]
    assert leeftijd["claims"]["ouder_dan_21"] is True
    assert "geboortedatum" not in leeftijd["claims"]


@needs_api
def test_present_discloses_only_requested(filled):
    session = filled.start(PRESENT_STEP)
    filled.holder.present(session["wallet_url"])

    claims = filled.result(session)["claims"]
    assert set(claims) == {
        "inkomen",
        "huishouden",
        "leeftijd",
        "woonplaats",
        "vermogen",
    }
    assert set(claims["woonplaats"][0]["claims"]) <= {
        "gemeente",
        "bron",
        "herkomst",
    }
    assert "gemeentecode" not in claims["woonplaats"][0]["claims"]


@needs_api
def test_present_encrypts_direct_post_jwt(filled):
    session = filled.start(PRESENT_STEP)
    filled.holder.present(session["wallet_url"])
    assert any("response mode direct_post.jwt" in line for line in filled.lines)


@needs_api
def test_decline_ends_rejected(filled):
    session = filled.start(PRESENT_STEP)
    assert filled.holder.present(session["wallet_url"], decline=True) == {}
    assert filled.status(session) == "rejected"


@needs_api
def test_present_without_credentials(e2e):
    session = e2e.start(PRESENT_STEP)
    with pytest.raises(WalletError, match="the wallet cannot satisfy the request"):
        e2e.holder.present(session["wallet_url"])


@needs_api
@pytest.mark.parametrize(
    ("mode", "check"),
    [
        ("wrong-nonce", "key binding"),
        ("aud-array", "key binding"),
        ("tampered-disclosure", "disclosures"),
        ("foreign-key", "key binding"),
        ("alg-none", "key binding"),
        ("hs256-public-key", "key binding"),
        ("no-kb", "key binding"),
    ],
)
def test_misbehaviour_fails_its_check(filled, mode, check):
    session = filled.start(PRESENT_STEP)
    with pytest.raises(holding.ResponseRejected, match="failed checks") as rejected:
        filled.holder.present(session["wallet_url"], mode=mode)

    assert rejected.value.error == "invalid_request"
    assert check in rejected.value.description
    assert filled.status(session) == "failed"
    assert check in filled.failed_checks(session)


@needs_api
def test_replay_second_post_rejected(filled):
    session = filled.start(PRESENT_STEP)
    with pytest.raises(holding.ResponseRejected, match="state was used before"):
        filled.holder.present(session["wallet_url"], mode="replay")

    assert filled.status(session) == "verified"
    assert "Sent the response to" in filled.lines[-2]


@needs_api
def test_replay_previous_fails_replay_check(filled):
    first = filled.start(PRESENT_STEP)
    filled.holder.present(first["wallet_url"])

    second = filled.start(PRESENT_STEP)
    with pytest.raises(holding.ResponseRejected, match="failed checks replay"):
        filled.holder.present(second["wallet_url"], mode="replay-previous")
    assert filled.status(second) == "failed"
    assert "replay" in filled.failed_checks(second)
    assert filled.status(first) == "verified"


@needs_api
def test_replay_previous_needs_history(filled):
    session = filled.start(PRESENT_STEP)
    with pytest.raises(WalletError, match="needs a response that a verifier accepted"):
        filled.holder.present(session["wallet_url"], mode="replay-previous")


@needs_api
def test_expired_fails_times_check(e2e):
    # Issue 32 days ago, so the 30-day credentials expired at least 2 days ago.
    e2e.clock.advance(-32 * 86400)
    e2e.receive_persona()
    e2e.clock.advance(32 * 86400)

    session = e2e.start(PRESENT_STEP)
    with pytest.raises(holding.ResponseRejected, match="failed checks times"):
        e2e.holder.present(session["wallet_url"], mode="expired")
    assert e2e.status(session) == "failed"
    assert "times" in e2e.failed_checks(session)


@needs_api
def test_expired_credentials_not_presented(e2e):
    e2e.clock.advance(-32 * 86400)
    e2e.receive_persona()
    e2e.clock.advance(32 * 86400)

    session = e2e.start(PRESENT_STEP)
    with pytest.raises(WalletError, match="contains nothing usable"):
        e2e.holder.present(session["wallet_url"])


@needs_api
def test_revoked_fails_status_check(filled):
    from stappen import issuer

    store = filled.app.extensions["stappen.storage"]
    inkomen = next(c for c in filled.wallet().credentials if c.vct.endswith("inkomen"))
    with store.connection() as db:
        issued = db.issued_credentials(filled.issuing_sessions[0])
    [record] = [row for row in issued if row["holder_jwk_thumbprint"] == inkomen.key_id]
    issuer.revoke(store, record["credential_id"])

    session = filled.start(PRESENT_STEP)
    with pytest.raises(holding.ResponseRejected, match="failed checks status"):
        filled.holder.present(session["wallet_url"], mode="revoked")
    assert filled.status(session) == "failed"
    assert "status" in filled.failed_checks(session)


@needs_api
def test_late_ends_expired(filled):
    session = filled.start(PRESENT_STEP)
    with pytest.raises(holding.ResponseRejected, match="ended or expired"):
        filled.holder.present(session["wallet_url"], mode="late")

    assert any(line.startswith("Waiting ") for line in filled.lines)
    assert filled.status(session) == "expired"


@needs_api
def test_cli_receive_and_present(e2e, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_holder", lambda args: _cli_holder(e2e, args))
    wallet = str(e2e.holder.wallet_path)
    offer = e2e.start(ISSUE_STEP, persona=PERSONA)

    status, out, err = run(capsys, "--wallet", wallet, "receive", offer["wallet_url"])
    assert (status, _wallet_errors(err)) == (0, "")
    assert out.splitlines()[-1].startswith("Stored 6 credential(s) in ")

    request = e2e.start(PRESENT_STEP)
    status, out, err = run(capsys, "--wallet", wallet, "present", request["wallet_url"])
    assert (status, _wallet_errors(err)) == (0, "")
    assert out.splitlines()[-1] == "The verifier accepted the response: {}"


@needs_api
def test_cli_mode_rejected_exit_0(filled, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_holder", lambda args: _cli_holder(filled, args))
    request = filled.start(PRESENT_STEP)
    wallet = str(filled.holder.wallet_path)

    status, out, _ = run(
        capsys, "--wallet", wallet, "present", request["wallet_url"], "--mode", "no-kb"
    )
    assert status == 0
    assert "The verifier rejected the response, as mode no-kb intends" in out


@needs_api
def test_cli_server_refusal_exit_1(filled, monkeypatch, capsys):
    monkeypatch.setattr(cli, "_holder", lambda args: _cli_holder(filled, args))
    request = filled.start(PRESENT_STEP)
    wallet = str(filled.holder.wallet_path)
    run(capsys, "--wallet", wallet, "present", request["wallet_url"])

    status, _, err = run(capsys, "--wallet", wallet, "present", request["wallet_url"])
    assert status == 1
    assert _wallet_errors(err).startswith(
        "error: https://api.stappen.test/api/v1/verifier/requests/"
    )
    assert "HTTP 404" in err
    assert "Traceback" not in err


def _cli_holder(e2e: E2E, args) -> holding.Holder:
    return holding.Holder(
        args.wallet,
        transport=flask_transport(e2e.app),
        clock=lambda: e2e.clock.epoch,
        sleep=e2e.clock.advance,
        echo=print,
    )


def test_redirect_to_file_rejected():
    import urllib.request

    request = urllib.request.Request("http://127.0.0.1:9/start")
    with pytest.raises(WalletError, match="redirect from http://127.0.0.1:9/start"):
        holding._HttpOnlyRedirects().redirect_request(
            request, None, 302, "Found", {}, "file:///etc/passwd"
        )
