"""The OpenID4VP verifier: request objects, responses, checks and key files.

The tests play the wallet with stappen.sdjwt and run the real app through
its test client, on a SQLite file. Tests that take ``database_url`` run on
PostgreSQL too, and one runs the whole exchange over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from joserfc import jwe
from joserfc.jwk import ECKey
from werkzeug.serving import make_server

from stappen import apiconfig, jose, sdjwt, statuslist
from stappen.api import MAX_BODY_BYTES, create_app
from tests.apiharness import (
    ENCRYPTED_STEP,
    FILE_ISSUER,
    LEEFTIJD_VCT,
    PUBLIC_URL,
    UNTRUSTED_ISSUER,
    Wallet,
    encrypted_form,
    forge_issuer_jwt,
    make_api,
    path_of,
    request_path,
    serve,
    verified_request_object,
)


@pytest.fixture
def api(tmp_path):
    return make_api(tmp_path)


@pytest.fixture
def any_db_api(tmp_path, database_url):
    """The app on SQLite and then on PostgreSQL."""
    return make_api(tmp_path, database_url)


@pytest.fixture
def wallet(api):
    return Wallet(api.clock)


def start_and_fetch(api, step=None):
    created = api.start() if step is None else api.start(step)
    return created, api.fetch_request(created)


def failed_lines(api, transaction_id):
    return [
        evidence["data"]
        for evidence in api.evidence(transaction_id)
        if evidence["kind"] == "check" and not evidence["data"]["passed"]
    ]


def assert_failed_check(api, created, response, check, reason_part):
    """Assert the response failed one check: in the report and in the evidence."""
    transaction_id = created["transaction_id"]
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert check in response.get_json()["error_description"]
    assert api.status(transaction_id).get_json()["status"] == "failed"

    report = api.result(transaction_id).get_json()["report"]
    [failed] = [line for line in report if not line["passed"]]
    assert failed["check"] == check
    assert reason_part in failed["reason"]
    assert failed in failed_lines(api, transaction_id)


# The request object


def test_request_object_claims(api):
    created, request = start_and_fetch(api)
    request_id = path_of(request["response_uri"]).rsplit("/", 1)[1]

    assert request["response_type"] == "vp_token"
    assert request["response_mode"] == "direct_post"
    assert request["response_uri"] == (
        f"{PUBLIC_URL}/api/v1/verifier/responses/{request_id}"
    )
    assert request["aud"] == "https://self-issued.me/v2"
    assert request["dcql_query"]["credentials"][0]["id"] == "inkomen"
    assert request["iat"] == api.clock.epoch
    assert request["exp"] == created["expires_at"]
    assert request["client_metadata"]["vp_formats_supported"]["dc+sd-jwt"] == {
        "sd-jwt_alg_values": ["ES256", "EdDSA"],
        "kb-jwt_alg_values": ["ES256", "EdDSA"],
    }
    assert "jwks" not in request["client_metadata"]


def test_request_object_headers(api):
    created = api.start()

    response = api.client.get(request_path(created))
    header, _ = jose.decode_unverified(response.get_data(as_text=True))

    assert response.mimetype == "application/oauth-authz-req+jwt"
    assert response.headers["Cache-Control"] == "no-store"
    assert header["typ"] == "oauth-authz-req+jwt"
    assert header["alg"] == "ES256"
    assert len(header["x5c"]) == 1


def test_wallet_url_names_client_and_request(api):
    created = api.start()

    scheme, rest = created["wallet_url"].split("://?", 1)
    query = urllib.parse.parse_qs(rest)

    assert scheme == "openid4vp"
    assert query["client_id"] == [apiconfig.verifier_identity(api.app).client_id]
    assert query["request_uri"][0].startswith(f"{PUBLIC_URL}/api/v1/verifier/requests/")


def test_request_object_once(api):
    created = api.start()
    assert api.client.get(request_path(created)).status_code == 200

    again = api.client.get(request_path(created))
    events = api.events(created["transaction_id"])

    assert again.status_code == 404
    assert again.get_json()["error"] == "not_found"
    assert {"kind": "request_uri"} in [
        e["detail"] for e in events if e["kind"] == "replay"
    ]


def test_request_object_head_keeps_it(api):
    created = api.start()

    head = api.client.head(request_path(created))
    get = api.client.get(request_path(created))

    assert head.status_code == 405
    assert get.status_code == 200


def test_request_object_unknown_id(api):
    response = api.client.get("/api/v1/verifier/requests/unknown")
    assert response.status_code == 404


def test_request_object_moves_state(api):
    created, _ = start_and_fetch(api)
    status = api.status(created["transaction_id"]).get_json()
    assert status["status"] == "request_retrieved"


def test_request_object_in_evidence(api):
    created = api.start()
    token = api.client.get(request_path(created)).get_data(as_text=True)

    kinds = {e["kind"]: e["data"] for e in api.evidence(created["transaction_id"])}

    assert kinds["request_object"] == {"request_object": token}


def test_encrypted_request_has_key(api):
    _, request = start_and_fetch(api, ENCRYPTED_STEP)
    metadata = request["client_metadata"]
    [jwk] = metadata["jwks"]["keys"]

    assert request["response_mode"] == "direct_post.jwt"
    assert jwk["kty"] == "EC"
    assert jwk["crv"] == "P-256"
    assert jwk["alg"] == "ECDH-ES"
    assert jwk["use"] == "enc"
    assert jwk["kid"]
    assert "d" not in jwk
    assert metadata["encrypted_response_enc_values_supported"] == ["A128GCM", "A256GCM"]


def test_encryption_keys_differ_per_session(api):
    _, first = start_and_fetch(api, ENCRYPTED_STEP)
    _, second = start_and_fetch(api, ENCRYPTED_STEP)
    first_key = first["client_metadata"]["jwks"]["keys"][0]
    second_key = second["client_metadata"]["jwks"]["keys"][0]
    assert first_key["x"] != second_key["x"]


# The happy path


def test_presentation_verified(any_db_api):
    api = any_db_api
    wallet = Wallet(api.clock)
    created, request = start_and_fetch(api)
    presentation = wallet.present(wallet.credential(api.issuer_key), request)

    response = api.respond(request, wallet.form(request, {"inkomen": [presentation]}))
    status = api.status(created["transaction_id"]).get_json()
    result = api.result(created["transaction_id"]).get_json()

    assert response.status_code == 200
    assert response.get_json() == {}
    assert status["status"] == "verified"
    assert result["status"] == "verified"
    assert result["claims"] == {
        "inkomen": [
            {
                "issuer": "https://uitgifte.proef.example",
                "vct": "urn:stappen:proef:inkomen",
                "claims": {"netto_per_maand": 1450},
            }
        ]
    }


def test_verified_report_lists_checks(api, wallet):
    created, request = start_and_fetch(api)
    presentation = wallet.present(wallet.credential(api.issuer_key), request)
    api.respond(request, wallet.form(request, {"inkomen": [presentation]}))

    report = api.result(created["transaction_id"]).get_json()["report"]
    checks = [(line["credential"], line["check"]) for line in report]

    assert checks == [
        *[("inkomen", name) for name in sdjwt.CHECK_NAMES],
        (None, "query"),
    ]
    assert all(line["passed"] for line in report)
    assert all(line["reason"] for line in report)


def test_verified_evidence(api, wallet):
    created, request = start_and_fetch(api)
    presentation = wallet.present(wallet.credential(api.issuer_key), request)
    form = wallet.form(request, {"inkomen": [presentation]})
    api.respond(request, form)

    evidence = api.evidence(created["transaction_id"])
    kinds = [e["kind"] for e in evidence]
    raw = next(e["data"] for e in evidence if e["kind"] == "response")
    keys = next(e["data"] for e in evidence if e["kind"] == "issuer_keys")

    assert kinds.count("check") == len(sdjwt.CHECK_NAMES) + 1
    assert urllib.parse.parse_qs(raw.decode())["vp_token"] == [form["vp_token"]]
    assert keys == {"https://uitgifte.proef.example": [jose.public_jwk(api.issuer_key)]}


def test_verified_events(api, wallet):
    created, request = start_and_fetch(api)
    presentation = wallet.present(wallet.credential(api.issuer_key), request)
    api.respond(request, wallet.form(request, {"inkomen": [presentation]}))

    moves = [
        (e["from_state"], e["to_state"])
        for e in api.events(created["transaction_id"])
        if e["kind"] == "transition"
    ]

    assert moves == [
        ("created", "request_retrieved"),
        ("request_retrieved", "submitted"),
        ("submitted", "verified"),
    ]


def test_file_issuer_trusted(api, wallet):
    created, request = start_and_fetch(api)
    issued = wallet.credential(api.file_issuer_key, issuer=FILE_ISSUER)

    response = api.respond(
        request, wallet.form(request, {"inkomen": [wallet.present(issued, request)]})
    )

    assert response.status_code == 200
    assert api.status(created["transaction_id"]).get_json()["status"] == "verified"


def test_over_http(tmp_path):
    api = make_api(tmp_path)
    wallet = Wallet(api.clock)
    api.status_lists["1"] = statuslist.StatusList(16)
    with serve(api.app) as base:
        api.app.config["PUBLIC_URL"] = base
        created = _http_json(
            "POST", f"{base}/api/v1/wallet-sessions", {"flow": "proef", "step": "delen"}
        )
        request_uri = urllib.parse.parse_qs(created["wallet_url"].split("?", 1)[1])[
            "request_uri"
        ][0]
        with urllib.request.urlopen(request_uri, timeout=10) as response:
            request = verified_request_object(response.read().decode())

        issued = wallet.credential(
            api.issuer_key, status=statuslist.status_reference(3, api.status_uri("1"))
        )
        form = wallet.form(request, {"inkomen": [wallet.present(issued, request)]})
        answer = _http_form(request["response_uri"], form)
        api.clock.advance(1)
        status = _http_json(
            "GET", f"{base}/api/v1/wallet-sessions/{created['transaction_id']}/status"
        )

    assert request["response_uri"].startswith(base)
    assert answer == (200, {})
    assert status["status"] == "verified"


def _http_json(method: str, url: str, body: dict | None = None) -> dict:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    outgoing = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(outgoing, timeout=10) as response:
        return json.load(response)


def _http_form(url: str, form: dict) -> tuple[int, dict]:
    data = urllib.parse.urlencode(form).encode()
    try:
        with urllib.request.urlopen(url, data=data, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


# direct_post.jwt


@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_encrypted_round_trip(api, wallet, enc):
    created, request = start_and_fetch(api, ENCRYPTED_STEP)
    inkomen = wallet.present(wallet.credential(api.issuer_key), request)
    issued_age = wallet.credential(
        api.issuer_key,
        vct=LEEFTIJD_VCT,
        claims={"ouder_dan_21": True, "geboortedatum": "1990-04-01"},
    )
    leeftijd = wallet.present(issued_age, request, disclose={"ouder_dan_21"})
    payload = {
        "vp_token": {"inkomen": [inkomen], "leeftijd": [leeftijd]},
        "state": request["state"],
    }

    response = api.respond(request, encrypted_form(request, payload, enc))
    result = api.result(created["transaction_id"])

    assert response.status_code == 200
    assert result.get_json()["status"] == "verified"
    assert result.get_json()["claims"]["leeftijd"][0]["claims"] == {
        "ouder_dan_21": True
    }


def test_encrypted_mode_rejects_plain(api, wallet):
    created, request = start_and_fetch(api, ENCRYPTED_STEP)
    presentation = wallet.present(wallet.credential(api.issuer_key), request)

    response = api.respond(request, wallet.form(request, {"inkomen": [presentation]}))

    assert response.status_code == 400
    assert "direct_post.jwt" in response.get_json()["error_description"]
    assert api.session(created["transaction_id"])["state"] == "request_retrieved"


def test_encrypted_to_other_key(api, wallet):
    created, request = start_and_fetch(api, ENCRYPTED_STEP)
    _, other = start_and_fetch(api, ENCRYPTED_STEP)
    payload = {"vp_token": {"inkomen": ["x"]}, "state": request["state"]}

    response = api.respond(request, encrypted_form(other, payload))

    assert response.status_code == 400
    assert "kid" in response.get_json()["error_description"]
    assert api.session(created["transaction_id"])["state"] == "request_retrieved"


def test_encrypted_garbage_rejected(api):
    created, request = start_and_fetch(api, ENCRYPTED_STEP)

    response = api.respond(request, {"response": "a.b.c.d.e"})

    assert response.status_code == 400
    assert "JWE" in response.get_json()["error_description"]
    assert api.session(created["transaction_id"])["state"] == "request_retrieved"


def test_encrypted_tampered_rejected(api):
    created, request = start_and_fetch(api, ENCRYPTED_STEP)
    form = encrypted_form(request, {"vp_token": {}, "state": request["state"]})
    header, key, iv, ciphertext, tag = form["response"].split(".")
    flipped = "A" if ciphertext[0] != "A" else "B"
    tampered = ".".join([header, key, iv, flipped + ciphertext[1:], tag])

    response = api.respond(request, {"response": tampered})

    assert response.status_code == 400
    assert "could not be decrypted" in response.get_json()["error_description"]
    assert api.session(created["transaction_id"])["state"] == "request_retrieved"


def test_encrypted_key_wrap_rejected(api):
    created, request = start_and_fetch(api, ENCRYPTED_STEP)
    [jwk] = request["client_metadata"]["jwks"]["keys"]
    header = {"alg": "ECDH-ES+A128KW", "enc": "A128GCM", "kid": jwk["kid"]}
    token = jwe.encrypt_compact(header, b"{}", ECKey.import_key(jwk))

    response = api.respond(request, {"response": token})

    assert response.status_code == 400
    assert "ECDH-ES+A128KW" in response.get_json()["error_description"]


def test_encrypted_plain_mode_rejects_jwe(api):
    _, request = start_and_fetch(api)
    response = api.respond(request, {"response": "a.b.c.d.e"})
    assert response.status_code == 400
    assert "direct_post" in response.get_json()["error_description"]


# Failed checks


def test_wrong_nonce_fails(api, wallet):
    created, request = start_and_fetch(api)
    presentation = wallet.present(
        wallet.credential(api.issuer_key), request, nonce="another-nonce"
    )
    response = api.respond(request, wallet.form(request, {"inkomen": [presentation]}))
    assert_failed_check(api, created, response, "key binding", "nonce")


def test_aud_array_fails(api, wallet):
    created, request = start_and_fetch(api)
    presentation = wallet.present(
        wallet.credential(api.issuer_key), request, aud=[request["client_id"]]
    )
    response = api.respond(request, wallet.form(request, {"inkomen": [presentation]}))
    assert_failed_check(api, created, response, "key binding", "aud is the array")


def test_wrong_aud_fails(api, wallet):
    created, request = start_and_fetch(api)
    presentation = wallet.present(
        wallet.credential(api.issuer_key), request, aud="x509_hash:other"
    )
    response = api.respond(request, wallet.form(request, {"inkomen": [presentation]}))
    assert_failed_check(api, created, response, "key binding", "aud")


def test_kb_jwt_before_session_fails(api, wallet):
    created, request = start_and_fetch(api)
    presentation = wallet.present(
        wallet.credential(api.issuer_key), request, iat=api.clock.epoch - 3600
    )
    response = api.respond(request, wallet.form(request, {"inkomen": [presentation]}))
    assert_failed_check(api, created, response, "key binding", "iat")


def test_expired_credential_fails(api, wallet):
    created, request = start_and_fetch(api)
    issued = wallet.credential(
        api.issuer_key, iat=api.clock.epoch - 7200, exp=api.clock.epoch - 3600
    )
    response = api.respond(
        request, wallet.form(request, {"inkomen": [wallet.present(issued, request)]})
    )
    assert_failed_check(api, created, response, "times", "expired")


def test_revoked_credential_fails(api, wallet):
    revoked = statuslist.StatusList(16)
    revoked.set(5, statuslist.INVALID)
    api.status_lists["lijst"] = revoked
    created, request = start_and_fetch(api)
    issued = wallet.credential(
        api.issuer_key, status=statuslist.status_reference(5, api.status_uri("lijst"))
    )

    response = api.respond(
        request, wallet.form(request, {"inkomen": [wallet.present(issued, request)]})
    )

    assert_failed_check(api, created, response, "status", "revoked")
    tokens = [
        e["data"]["token"]
        for e in api.evidence(created["transaction_id"])
        if e["kind"] == "status_token"
    ]
    assert len(tokens) == 1
    assert jose.decode_unverified(tokens[0])[1]["sub"] == api.status_uri("lijst")


def test_valid_status_passes(api, wallet):
    api.status_lists["lijst"] = statuslist.StatusList(16)
    created, request = start_and_fetch(api)
    issued = wallet.credential(
        api.issuer_key, status=statuslist.status_reference(5, api.status_uri("lijst"))
    )

    api.respond(
        request, wallet.form(request, {"inkomen": [wallet.present(issued, request)]})
    )
    report = api.result(created["transaction_id"]).get_json()["report"]

    [status] = [line for line in report if line["check"] == "status"]
    assert status["passed"] is True
    assert "valid" in status["reason"]


def test_revoked_over_http_fails(api, wallet):
    revoked = statuslist.StatusList(16)
    revoked.set(2, statuslist.INVALID)

    def status_server(environ, start_response):
        token = statuslist.status_list_token(
            api.issuer_key, uri=uri, status_list=revoked, iat=api.clock.epoch
        )
        start_response("200 OK", [("Content-Type", "application/statuslist+jwt")])
        return [token.encode()]

    with serve(status_server) as base:
        uri = f"{base}/lists/7"
        created, request = start_and_fetch(api)
        issued = wallet.credential(
            api.issuer_key, status=statuslist.status_reference(2, uri)
        )
        response = api.respond(
            request,
            wallet.form(request, {"inkomen": [wallet.present(issued, request)]}),
        )

    assert_failed_check(api, created, response, "status", "revoked")


def test_status_list_unreachable_fails(api, wallet):
    server = make_server("127.0.0.1", 0, lambda environ, start: [])
    port = server.server_port
    server.server_close()
    created, request = start_and_fetch(api)
    uri = f"http://127.0.0.1:{port}/lists/1"
    issued = wallet.credential(
        api.issuer_key, status=statuslist.status_reference(0, uri)
    )

    response = api.respond(
        request, wallet.form(request, {"inkomen": [wallet.present(issued, request)]})
    )

    assert_failed_check(api, created, response, "status", "could not be fetched")


def test_tampered_disclosure_fails(api, wallet):
    created, request = start_and_fetch(api)
    issued = wallet.credential(api.issuer_key)
    presentation = wallet.present(issued, request)
    parts = presentation.split("~")
    salt, name, _ = json.loads(jose.b64url_decode(parts[1]))
    parts[1] = jose.b64url_encode(jose.dumps_json([salt, name, 99]))

    response = api.respond(
        request, wallet.form(request, {"inkomen": ["~".join(parts)]})
    )

    assert_failed_check(api, created, response, "disclosures", "")


def test_untrusted_issuer_fails(api, wallet):
    created, request = start_and_fetch(api)
    issued = wallet.credential(jose.generate_key("ES256"), issuer=UNTRUSTED_ISSUER)
    response = api.respond(
        request, wallet.form(request, {"inkomen": [wallet.present(issued, request)]})
    )
    assert_failed_check(api, created, response, "issuer trusted", "not trusted")


def test_trusted_issuer_wrong_key_fails(api, wallet):
    created, request = start_and_fetch(api)
    issued = wallet.credential(jose.generate_key("ES256"))
    response = api.respond(
        request, wallet.form(request, {"inkomen": [wallet.present(issued, request)]})
    )
    assert_failed_check(api, created, response, "signature", "")


def test_alg_none_fails(api, wallet):
    created, request = start_and_fetch(api)
    issued = forge_issuer_jwt(
        wallet.credential(api.issuer_key),
        {"alg": "none", "typ": "dc+sd-jwt"},
        lambda signing_input: b"",
    )
    response = api.respond(
        request, wallet.form(request, {"inkomen": [wallet.present(issued, request)]})
    )
    assert_failed_check(api, created, response, "signature", "unsigned")


def test_hs256_with_public_key_fails(api, wallet):
    created, request = start_and_fetch(api)
    public_pem = api.issuer_key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )

    def hmac_sign(signing_input: bytes) -> bytes:
        return hmac.new(public_pem, signing_input, hashlib.sha256).digest()

    issued = forge_issuer_jwt(
        wallet.credential(api.issuer_key),
        {"alg": "HS256", "typ": "dc+sd-jwt", "kid": api.issuer_key.kid},
        hmac_sign,
    )
    response = api.respond(
        request, wallet.form(request, {"inkomen": [wallet.present(issued, request)]})
    )
    assert_failed_check(api, created, response, "signature", "HMAC")


def test_missing_claim_fails_query(api, wallet):
    created, request = start_and_fetch(api)
    issued = wallet.credential(api.issuer_key, claims={"netto_per_maand": 1450})
    presentation = wallet.present(issued, request, disclose=set())

    response = api.respond(request, wallet.form(request, {"inkomen": [presentation]}))

    assert_failed_check(api, created, response, "query", "does not disclose")


def test_unrequested_query_id_fails(api, wallet):
    created, request = start_and_fetch(api)
    presentation = wallet.present(wallet.credential(api.issuer_key), request)
    vp_token = {"inkomen": [presentation], "paspoort": [presentation]}

    response = api.respond(request, wallet.form(request, vp_token))

    assert response.status_code == 400
    assert api.session(created["transaction_id"])["state"] == "failed"


@pytest.mark.parametrize(
    "vp_token, reason",
    [
        ("not json", "not valid JSON"),
        ("[]", "non-empty JSON object"),
        ("{}", "non-empty JSON object"),
        ('{"inkomen": "x"}', "non-empty list"),
        ('{"inkomen": []}', "non-empty list"),
        ('{"inkomen": [1]}', "non-empty list"),
        ('{"inkomen": ["no-tilde"]}', ""),
    ],
)
def test_malformed_vp_token_fails(api, vp_token, reason):
    created, request = start_and_fetch(api)

    response = api.respond(request, {"vp_token": vp_token, "state": request["state"]})
    report = api.result(created["transaction_id"]).get_json()["report"]

    assert response.status_code == 400
    assert report[-1]["passed"] is False
    assert reason in report[-1]["reason"]


def test_missing_vp_token_fails(api):
    created, request = start_and_fetch(api)

    response = api.respond(request, {"state": request["state"]})
    report = api.result(created["transaction_id"]).get_json()["report"]

    assert response.status_code == 400
    assert report == [
        {
            "credential": None,
            "check": "vp_token",
            "passed": False,
            "reason": "vp_token is missing",
        }
    ]


# Replays and interleaved sessions


def test_replayed_response_rejected(any_db_api):
    api = any_db_api
    wallet = Wallet(api.clock)
    created, request = start_and_fetch(api)
    presentation = wallet.present(wallet.credential(api.issuer_key), request)
    form = wallet.form(request, {"inkomen": [presentation]})
    assert api.respond(request, form).status_code == 200

    again = api.respond(request, form)
    replays = [e["detail"] for e in api.events(created["transaction_id"])]

    assert again.status_code == 400
    assert "state was used before" in again.get_json()["error_description"]
    assert {"kind": "state"} in replays
    assert api.session(created["transaction_id"])["state"] == "verified"


def test_response_to_other_session_rejected(any_db_api):
    api = any_db_api
    wallet = Wallet(api.clock)
    first, first_request = start_and_fetch(api)
    second, second_request = start_and_fetch(api)
    first_form = wallet.form(
        first_request,
        {"inkomen": [wallet.present(wallet.credential(api.issuer_key), first_request)]},
    )

    mixed = api.respond(second_request, first_form)
    rejected = [
        e["data"]
        for e in api.evidence(second["transaction_id"])
        if e["kind"] == "rejected_response"
    ]

    assert mixed.status_code == 400
    assert rejected == [{"reason": "state does not belong to this request"}]
    assert api.session(second["transaction_id"])["state"] == "request_retrieved"
    assert api.session(first["transaction_id"])["state"] == "request_retrieved"


def test_interleaved_sessions_keep_claims(api, wallet):
    first, first_request = start_and_fetch(api)
    second, second_request = start_and_fetch(api)
    low = wallet.credential(api.issuer_key, claims={"netto_per_maand": 900})
    high = wallet.credential(api.issuer_key, claims={"netto_per_maand": 2900})

    second_answer = api.respond(
        second_request,
        wallet.form(
            second_request, {"inkomen": [wallet.present(high, second_request)]}
        ),
    )
    first_answer = api.respond(
        first_request,
        wallet.form(first_request, {"inkomen": [wallet.present(low, first_request)]}),
    )

    first_claims = api.result(first["transaction_id"]).get_json()["claims"]
    second_claims = api.result(second["transaction_id"]).get_json()["claims"]
    assert first_answer.status_code == 200
    assert second_answer.status_code == 200
    assert first_claims["inkomen"][0]["claims"] == {"netto_per_maand": 900}
    assert second_claims["inkomen"][0]["claims"] == {"netto_per_maand": 2900}


def test_presentation_for_other_nonce_fails(api, wallet):
    first, first_request = start_and_fetch(api)
    second, second_request = start_and_fetch(api)
    presentation = wallet.present(wallet.credential(api.issuer_key), first_request)

    response = api.respond(
        second_request, wallet.form(second_request, {"inkomen": [presentation]})
    )

    assert_failed_check(api, second, response, "key binding", "nonce")
    assert api.session(first["transaction_id"])["state"] == "request_retrieved"


def test_replayed_vp_token_other_session(api, wallet):
    first, first_request = start_and_fetch(api)
    second, second_request = start_and_fetch(api)
    vp_token = {
        "inkomen": [wallet.present(wallet.credential(api.issuer_key), first_request)]
    }
    api.respond(first_request, wallet.form(first_request, vp_token))

    response = api.respond(second_request, wallet.form(second_request, vp_token))
    events = api.events(second["transaction_id"])

    assert_failed_check(api, second, response, "replay", "received before")
    assert {"kind": "presentation"} in [e["detail"] for e in events]
    assert api.session(first["transaction_id"])["state"] == "verified"


# Wallet errors, expiry and malformed requests


def test_access_denied_rejects(api):
    created, request = start_and_fetch(api)

    response = api.respond(
        request, {"error": "access_denied", "state": request["state"]}
    )

    assert response.status_code == 200
    assert response.get_json() == {}
    assert api.status(created["transaction_id"]).get_json()["status"] == "rejected"
    assert api.result(created["transaction_id"]).status_code == 404


def test_other_wallet_error_fails(api):
    created, request = start_and_fetch(api)

    response = api.respond(
        request,
        {
            "error": "vp_formats_not_supported",
            "error_description": "no dc+sd-jwt",
            "state": request["state"],
        },
    )
    report = api.result(created["transaction_id"]).get_json()["report"]

    assert response.status_code == 200
    assert report[0]["check"] == "wallet response"
    assert "vp_formats_not_supported" in report[0]["reason"]


def test_error_without_state_rejected(api):
    created, request = start_and_fetch(api)
    response = api.respond(request, {"error": "access_denied"})
    assert response.status_code == 400
    assert api.session(created["transaction_id"])["state"] == "request_retrieved"


def test_encrypted_step_accepts_plain_error(api):
    created, request = start_and_fetch(api, ENCRYPTED_STEP)
    response = api.respond(
        request, {"error": "access_denied", "state": request["state"]}
    )
    assert response.status_code == 200
    assert api.session(created["transaction_id"])["state"] == "rejected"


def test_response_after_expiry_rejected(any_db_api):
    api = any_db_api
    wallet = Wallet(api.clock)
    created, request = start_and_fetch(api)
    presentation = wallet.present(wallet.credential(api.issuer_key), request)
    api.clock.advance(301)

    response = api.respond(request, wallet.form(request, {"inkomen": [presentation]}))

    assert response.status_code == 400
    assert "expired" in response.get_json()["error_description"]
    assert api.session(created["transaction_id"])["state"] == "expired"


def test_request_after_expiry_gone(api):
    created = api.start()
    api.clock.advance(300)

    response = api.client.get(request_path(created))

    assert response.status_code == 404
    assert api.session(created["transaction_id"])["state"] == "expired"


def test_response_before_request_rejected(api):
    created = api.start()
    response = api.client.post(
        request_path(created).replace("/requests/", "/responses/"),
        data={"vp_token": "{}", "state": "guess"},
    )
    assert response.status_code == 400
    assert api.session(created["transaction_id"])["state"] == "created"


def test_unknown_response_uri(api):
    response = api.client.post(
        "/api/v1/verifier/responses/unknown", data={"state": "x", "vp_token": "{}"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "send, reason",
    [
        ({"json": {"state": "x"}}, "form body"),
        ({"data": b"state=x", "content_type": "text/plain"}, "form body"),
        (
            {
                "data": "state=a&state=b",
                "content_type": "application/x-www-form-urlencoded",
            },
            "appears 2 times",
        ),
        ({"data": {"vp_token": "{}"}}, "state is missing"),
        ({"data": {"vp_token": "{}", "state": "wrong"}}, "does not belong"),
        ({"data": {"vp_token": "{}", "state": "\u00e9\u00e9"}}, "does not belong"),
        (
            {
                "data": b"\xff\xfe=\x00",
                "content_type": "application/x-www-form-urlencoded",
            },
            "state",
        ),
    ],
)
def test_malformed_response_400(api, send, reason):
    created, request = start_and_fetch(api)

    response = api.client.post(path_of(request["response_uri"]), **send)

    assert response.status_code == 400
    assert reason in response.get_json()["error_description"]
    assert api.session(created["transaction_id"])["state"] == "request_retrieved"


def test_oversized_response_413(api):
    _, request = start_and_fetch(api)

    response = api.client.post(
        path_of(request["response_uri"]),
        data={"vp_token": "x" * MAX_BODY_BYTES, "state": request["state"]},
    )

    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"


def test_response_answers_json_for_wallet(api):
    _, request = start_and_fetch(api)
    response = api.respond(request, {"state": "wrong"})
    body = response.get_json()
    assert response.mimetype == "application/json"
    assert set(body) == {"error", "error_description", "message"}


# Keys, certificate and trust configuration


def test_client_id_is_certificate_hash(api):
    identity = apiconfig.verifier_identity(api.app)
    der = identity.certificate.public_bytes(serialization.Encoding.DER)
    digest = jose.b64url_encode(hashlib.sha256(der).digest())
    assert identity.client_id == f"x509_hash:{digest}"


def test_certificate_names_public_host(api):
    certificate = apiconfig.verifier_identity(api.app).certificate
    names = certificate.extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    ).value
    assert names.get_values_for_type(x509.DNSName) == ["api.proef.example"]


def test_keys_generate_command(tmp_path):
    api = make_api(tmp_path)
    runner = api.app.test_cli_runner()
    paths = apiconfig.key_paths(api.app)
    before = {role: path.read_bytes() for role, path in paths.items()}

    again = runner.invoke(args=["keys", "generate"])
    forced = runner.invoke(args=["keys", "generate", "--force"])

    assert again.exit_code == 0
    assert "nothing to do" in again.output
    assert forced.exit_code == 0
    # Only the command's own lines: a logging handler that another test set
    # up may add its "Wrote a new ... key" lines to the output.
    written = [
        line for line in forced.output.splitlines() if line.startswith("Wrote /")
    ]
    assert len(written) == 4
    assert all(paths[role].read_bytes() != data for role, data in before.items())


def test_keys_generate_fresh_folder(tmp_path):
    app = _bare_app(tmp_path)

    result = app.test_cli_runner().invoke(args=["keys", "generate"])

    assert result.exit_code == 0
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == [
        "audit-key.json",
        "issuer-key.json",
        "verifier-cert.pem",
        "verifier-key.json",
    ]
    assert (tmp_path / "keys" / "verifier-key.json").stat().st_mode & 0o077 == 0


def test_keys_generate_keeps_orphan_certificate(tmp_path):
    app = _bare_app(tmp_path)
    runner = app.test_cli_runner()
    runner.invoke(args=["keys", "generate"])
    (tmp_path / "keys" / "verifier-key.json").unlink()

    result = runner.invoke(args=["keys", "generate"])

    assert result.exit_code == 1
    assert "--force" in result.output


def test_init_db_command(tmp_path):
    app = _bare_app(tmp_path)

    result = app.test_cli_runner().invoke(args=["init-db"])
    with app.extensions["stappen.storage"].connection() as db:
        session = db.get_session("none")

    assert result.exit_code == 0
    assert "ready" in result.output
    assert session is None


def test_missing_keys_503(tmp_path):
    app = _bare_app(tmp_path)
    app.extensions["stappen.storage"].init_schema()

    response = app.test_client().post(
        "/api/v1/wallet-sessions", json={"flow": "proef", "step": "delen"}
    )

    assert response.status_code == 503
    assert "flask --app app keys generate" in response.get_json()["message"]


def test_missing_keys_logged_at_start(tmp_path, caplog):
    _bare_app(tmp_path)
    assert "create them with `flask --app app keys generate`" in caplog.text


@pytest.mark.parametrize(
    "content, reason",
    [
        ("[]", "must be a JSON object"),
        ("{", "not valid JSON"),
        ('{"http://plain.example": {"jwks": {"keys": []}}}', "https://"),
        ('{"https://a.example": {}}', "jwks"),
        ('{"https://a.example": {"jwks": {"keys": [{"kty": "RSA"}]}}}', "key 0"),
    ],
)
def test_invalid_trusted_issuers_file(tmp_path, content, reason):
    path = tmp_path / "trusted.json"
    path.write_text(content, encoding="utf-8")

    with pytest.raises(apiconfig.ApiConfigError, match=reason) as raised:
        _bare_app(tmp_path, TRUSTED_ISSUERS=str(path))

    assert str(path) in str(raised.value)


def test_trusted_issuers_file_missing(tmp_path):
    with pytest.raises(apiconfig.ApiConfigError, match="cannot be read"):
        _bare_app(tmp_path, TRUSTED_ISSUERS=str(tmp_path / "absent.json"))


def test_private_key_in_trusted_issuers_file(tmp_path):
    path = tmp_path / "trusted.json"
    private = jose.generate_key("ES256").as_dict(private=True)
    path.write_text(
        json.dumps({"https://a.example": {"jwks": {"keys": [private]}}}),
        encoding="utf-8",
    )
    with pytest.raises(apiconfig.ApiConfigError, match="private member"):
        _bare_app(tmp_path, TRUSTED_ISSUERS=str(path))


def _bare_app(tmp_path, **config):
    """The app on the harness's flow, without keys and tables."""
    from tests.apiharness import FLOW, FLOW_YAML

    steps = tmp_path / "steps" / FLOW
    steps.mkdir(parents=True, exist_ok=True)
    (steps / "flow.yaml").write_text(FLOW_YAML, encoding="utf-8")
    return create_app(
        {
            "STEPS_DIR": str(tmp_path / "steps"),
            "KEYS_DIR": str(tmp_path / "keys"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bare.sqlite3'}",
            "PUBLIC_URL": PUBLIC_URL,
            "TESTING": True,
            **config,
        }
    )
