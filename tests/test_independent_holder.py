"""Drive the running wallet API with a holder written elsewhere.

tests/js/holder/holder.mjs is a Node.js holder built on the npm packages
@openid4vc/openid4vci, @openid4vc/openid4vp, @sd-jwt/sd-jwt-vc and dcql,
which share no code with Stappen. These tests serve the real API over HTTP
on 127.0.0.1, with keys and a SQLite file in tmp_path, and let the holder
receive the VIL flow's credentials and then present them.
docs/independent-holder.md describes what this proves.
"""

from __future__ import annotations

import base64
import datetime
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.nodejs import (
    PROJECT,
    node_or_skip,
    require_packages,
    run_node_script,
    run_node_tests,
)

HOLDER_DIR = PROJECT / "tests" / "js" / "holder"
HOLDER = HOLDER_DIR / "holder.mjs"
NPM_PACKAGES = (
    "@openid4vc/oauth2",
    "@openid4vc/openid4vci",
    "@openid4vc/openid4vp",
    "@sd-jwt/crypto-nodejs",
    "@sd-jwt/sd-jwt-vc",
    "dcql",
    "jose",
)

FLOW = "vil"
ISSUE_STEP = "gegevens-ophalen"
PRESENT_STEP = "gegevens-delen"
PERSONA = "sanne"
PILOT_ISSUER = "https://uitgifte.vil.example"
"""The credentials' ``iss``: the issuer setting of ``gegevens-ophalen``."""
PILOT_MARKS = {"bron": "pilot", "herkomst": "testpersona"}
"""The plain claims that the pilot issuer adds to every credential from a persona."""

HOLDER_TIMEOUT_SECONDS = 60
"""Generous, because receiving the six VIL credentials makes 21 HTTP requests
on loopback and presenting makes two."""

STATUS_TIMEOUT_SECONDS = 10
"""How long a session may take to reach its end state after the holder has
finished. The API responds to the holder only after it has recorded the
result, so the first poll normally returns the end state already."""

END_STATES = {"verified", "issued", "failed", "rejected", "expired", "cancelled"}


# The holder's own unit tests


def test_holder_unit_tests_pass():
    require_packages(*NPM_PACKAGES)

    passed = run_node_tests(HOLDER_DIR / "holder.test.mjs")

    assert passed >= 21


# Trust in the verifier's certificate


def _certificate(
    key: ec.EllipticCurvePrivateKey,
    subject: str,
    *,
    issuer: x509.Certificate | None = None,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
    ca: bool = False,
    not_before: datetime.datetime | None = None,
    days: int = 30,
) -> x509.Certificate:
    """Return a certificate for ``key``: self-signed unless ``issuer`` signs it."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    an_hour_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    start = not_before or an_hour_ago
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key or key, hashes.SHA256())
    )


def _der_base64(certificate: x509.Certificate) -> str:
    return base64.b64encode(
        certificate.public_bytes(serialization.Encoding.DER)
    ).decode()


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _check_chain(
    chain: list[x509.Certificate], trusted: list[x509.Certificate]
) -> dict:
    """Run the holder's checkCertificateChain and return {trusted, error}."""
    require_packages(*NPM_PACKAGES)
    callbacks = (HOLDER_DIR / "callbacks.mjs").as_uri()
    source = (
        'import { X509Certificate } from "node:crypto";\n'
        'import { readFileSync } from "node:fs";\n'
        f"import {{ checkCertificateChain }} from {json.dumps(callbacks)};\n"
        'const input = JSON.parse(readFileSync(0, "utf8"));\n'
        "const trusted = input.trusted.map((pem) => new X509Certificate(pem));\n"
        "let outcome;\n"
        "try {\n"
        "  const leaf = checkCertificateChain(input.x5c, trusted, new Date());\n"
        "  outcome = { trusted: true, subject: leaf.subject };\n"
        "} catch (error) {\n"
        "  outcome = { trusted: false, error: error.message };\n"
        "}\n"
        "process.stdout.write(JSON.stringify(outcome));\n"
    )
    stdin = json.dumps(
        {"x5c": [_der_base64(c) for c in chain], "trusted": [_pem(c) for c in trusted]}
    )
    return json.loads(run_node_script(source, stdin))


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_holder_trusts_pinned_self_signed_certificate():
    key = _new_key()
    certificate = _certificate(key, "127.0.0.1")

    outcome = _check_chain([certificate], [certificate])

    assert outcome["trusted"] is True
    assert outcome["subject"] == "CN=127.0.0.1"


def test_holder_rejects_certificate_not_pinned():
    certificate = _certificate(_new_key(), "127.0.0.1")
    other = _certificate(_new_key(), "127.0.0.1")

    outcome = _check_chain([certificate], [other])

    assert outcome["trusted"] is False
    assert "is not trusted" in outcome["error"]
    assert "--trust-certificate" in outcome["error"]


def test_holder_trusts_leaf_issued_by_trusted_root():
    root_key, leaf_key = _new_key(), _new_key()
    root = _certificate(root_key, "Test Root", ca=True)
    leaf = _certificate(leaf_key, "verifier", issuer=root, issuer_key=root_key)

    leaf_only = _check_chain([leaf], [root])
    with_root = _check_chain([leaf, root], [root])

    assert leaf_only["trusted"] is True
    assert with_root["trusted"] is True


def test_holder_rejects_chain_out_of_order():
    root_key, leaf_key = _new_key(), _new_key()
    root = _certificate(root_key, "Test Root", ca=True)
    leaf = _certificate(leaf_key, "verifier", issuer=root, issuer_key=root_key)

    outcome = _check_chain([root, leaf], [root])

    assert outcome["trusted"] is False
    assert "is not signed by the next one" in outcome["error"]


def test_holder_rejects_expired_pinned_certificate():
    long_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=60)
    certificate = _certificate(_new_key(), "127.0.0.1", not_before=long_ago, days=30)

    outcome = _check_chain([certificate], [certificate])

    assert outcome["trusted"] is False
    assert "is valid from" in outcome["error"]


# The holder against the running API


@dataclass
class RunningApi:
    """The API served on loopback, with the files the holder needs."""

    url: str
    verifier_certificate: Path
    issuer_jwks: Path
    wallet: Path


@contextmanager
def _serve_api(tmp_path: Path, steps_dir: Path) -> Iterator[RunningApi]:
    """Serve the real API app over HTTP on 127.0.0.1 for the holder."""
    require_packages(*NPM_PACKAGES)
    node_or_skip()

    from werkzeug.serving import make_server

    from stappen import apiconfig, keys, storage
    from stappen.api import create_app

    # The socket is bound before the app is made, so STAPPEN_PUBLIC_URL can
    # name its port and no other process can take the port in between.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    keys_dir = tmp_path / "keys"

    app = create_app(
        {
            "STEPS_DIR": str(steps_dir),
            "PUBLIC_URL": url,
            "KEYS_DIR": str(keys_dir),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'api.sqlite3'}",
        }
    )
    with app.app_context():
        apiconfig.generate_keys(app)
        app.extensions[storage.EXTENSION_KEY].init_schema()
        issuer_jwks = keys.public_keyset(apiconfig.issuer_keys(app))
    (tmp_path / "issuer-jwks.json").write_text(json.dumps(issuer_jwks))

    server = make_server("127.0.0.1", 0, app, threaded=True, fd=listener.fileno())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningApi(
            url=url,
            verifier_certificate=keys_dir / apiconfig.VERIFIER_CERTIFICATE_FILE,
            issuer_jwks=tmp_path / "issuer-jwks.json",
            wallet=tmp_path / "wallet.json",
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        listener.close()


@pytest.fixture
def running_api(tmp_path) -> Iterator[RunningApi]:
    """The API with the project's own flows."""
    with _serve_api(tmp_path, PROJECT / "steps") as api:
        yield api


@pytest.fixture
def api_with_tx_code(tmp_path) -> Iterator[RunningApi]:
    """The API with a VIL flow whose issuing step requires a transaction code."""
    steps = tmp_path / "steps"
    shutil.copytree(PROJECT / "steps" / FLOW, steps / FLOW)
    flow_file = steps / FLOW / "flow.yaml"
    text = flow_file.read_text()
    assert text.count("      purpose: issue\n") == 1
    tx_code = "      purpose: issue\n      tx_code: {length: 6}\n"
    flow_file.write_text(text.replace("      purpose: issue\n", tx_code))
    with _serve_api(tmp_path, steps) as api:
        yield api


def _post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        message = f"POST {url} answered {error.code}: {error.read().decode()}"
        pytest.fail(message, pytrace=False)


def _get_json(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        message = f"GET {url} answered {error.code}: {error.read().decode()}"
        pytest.fail(message, pytrace=False)


def _start_session(api: RunningApi, step: str, **extra) -> dict:
    body = {"flow": FLOW, "step": step, "lang": "nl", **extra}
    return _post_json(f"{api.url}/api/v1/wallet-sessions", body)


def _final_status(api: RunningApi, session: dict) -> str:
    """Poll the session's status, as fast as the API allows, until it ends."""
    url = f"{api.url}/api/v1/wallet-sessions/{session['transaction_id']}/status"
    deadline = time.monotonic() + STATUS_TIMEOUT_SECONDS
    status = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                status = json.load(response)["status"]
        except urllib.error.HTTPError as error:
            if error.code != 429:
                pytest.fail(f"GET {url} answered {error.code}: {error.read().decode()}")
            time.sleep(float(error.headers.get("Retry-After", "1")))
            continue
        if status in END_STATES:
            return status
        time.sleep(session["poll_after_ms"] / 1000)
    return status


def _run_holder(*arguments: str) -> subprocess.CompletedProcess:
    node = node_or_skip()
    return subprocess.run(
        [node, str(HOLDER), *arguments],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=HOLDER_TIMEOUT_SECONDS,
        check=False,
    )


def _holder_outcome(result: subprocess.CompletedProcess) -> dict:
    """Return the holder's JSON line, failing the test when it is not there."""
    lines = result.stdout.strip().splitlines()
    if not lines:
        status = result.returncode
        message = f"the holder printed nothing (exit status {status}):\n{result.stderr}"
        pytest.fail(message, pytrace=False)
    return json.loads(lines[-1])


def _succeeded(result: subprocess.CompletedProcess) -> dict:
    outcome = _holder_outcome(result)
    if result.returncode != 0 or not outcome["ok"]:
        status = result.returncode
        message = f"the holder failed (exit status {status}): {outcome.get('error')}"
        pytest.fail(message, pytrace=False)
    return outcome


def _answer_request(api: RunningApi, command: str, request: dict):
    """Run the holder's ``present`` or ``decline`` for a session, trusting the API."""
    return _run_holder(
        command,
        request["wallet_url"],
        "--wallet",
        str(api.wallet),
        "--trust-certificate",
        str(api.verifier_certificate),
        "--allow-http",
    )


def _persona_data() -> dict:
    import yaml

    document = yaml.safe_load((PROJECT / "steps" / FLOW / "personas.yaml").read_text())
    [persona] = [entry for entry in document["personas"] if entry["id"] == PERSONA]
    return persona["data"]


def test_holder_rejects_untrusted_verifier(running_api):
    session = _start_session(running_api, PRESENT_STEP)

    wallet = str(running_api.wallet)

    result = _run_holder(
        "present", session["wallet_url"], "--wallet", wallet, "--allow-http"
    )
    outcome = _holder_outcome(result)

    assert result.returncode == 1
    assert outcome["ok"] is False
    assert "is not trusted" in outcome["error"]
    assert _final_status(running_api, session) == "request_retrieved"


def test_holder_declines_presentation(running_api):
    request = _start_session(running_api, PRESENT_STEP)
    declined = _succeeded(_answer_request(running_api, "decline", request))

    assert declined["client_id"].startswith("x509_hash:")
    assert declined["verifier_response"] == {}
    assert _final_status(running_api, request) == "rejected"


def test_holder_receives_then_presents(running_api):
    persona = _persona_data()

    # Receive the six credentials of gegevens-ophalen.
    offer = _start_session(running_api, ISSUE_STEP, persona=PERSONA)
    received = _succeeded(
        _run_holder(
            "receive",
            offer["wallet_url"],
            "--wallet",
            str(running_api.wallet),
            "--issuer-jwks",
            str(running_api.issuer_jwks),
            "--allow-http",
        )
    )

    assert offer["wallet_url"].startswith("openid-credential-offer://")
    assert received["credential_issuer"] == running_api.url
    assert received["verified_by_holder"] is True
    by_type = {entry["vct"]: entry["claims"] for entry in received["credentials"]}
    assert sorted(by_type) == sorted(f"urn:stappen:vil:{name}" for name in persona)
    for name, claims in persona.items():
        assert by_type[f"urn:stappen:vil:{name}"] == {**claims, **PILOT_MARKS}
    assert _final_status(running_api, offer) == "issued"

    # Present them for gegevens-delen.
    request = _start_session(running_api, PRESENT_STEP)
    presented = _succeeded(_answer_request(running_api, "present", request))

    assert presented["client_id"].startswith("x509_hash:")
    assert presented["response_mode"] == "direct_post.jwt"
    assert presented["verifier_response"] == {}
    assert _final_status(running_api, request) == "verified"

    result = _get_json(
        f"{running_api.url}/api/v1/wallet-sessions/{request['transaction_id']}/result"
    )
    claims = result["claims"]
    expected = {
        "inkomen": {"netto_per_maand": persona["inkomen"]["netto_per_maand"]},
        "huishouden": persona["huishouden"],
        "leeftijd": {
            "ouder_dan_21": persona["leeftijd"]["ouder_dan_21"],
            "aow_leeftijd_bereikt": persona["leeftijd"]["aow_leeftijd_bereikt"],
        },
        "woonplaats": {"gemeente": persona["woonplaats"]["gemeente"]},
        "vermogen": {"totaal": persona["vermogen"]["totaal"]},
    }
    assert sorted(claims) == sorted(expected)
    for query_id, values in expected.items():
        [credential] = claims[query_id]
        assert credential["issuer"] == PILOT_ISSUER
        assert credential["vct"] == f"urn:stappen:vil:{query_id}"
        assert credential["claims"] == {**values, **PILOT_MARKS}
    failed = [line for line in result["report"] if not line["passed"]]
    assert failed == []
    status_lines = [line for line in result["report"] if line["check"] == "status"]
    assert len(status_lines) == len(expected)


def test_holder_needs_requested_tx_code(api_with_tx_code):
    offer = _start_session(api_with_tx_code, ISSUE_STEP, persona=PERSONA)

    wallet = str(api_with_tx_code.wallet)

    result = _run_holder(
        "receive", offer["wallet_url"], "--wallet", wallet, "--allow-http"
    )
    outcome = _holder_outcome(result)

    assert result.returncode == 1
    assert "asks for a transaction code (6 characters, numeric" in outcome["error"]
    assert "--tx-code" in outcome["error"]


def test_holder_receives_with_tx_code(api_with_tx_code):
    offer = _start_session(api_with_tx_code, ISSUE_STEP, persona=PERSONA)
    wrong_code = "000000" if offer["tx_code"] != "000000" else "111111"
    wallet = str(api_with_tx_code.wallet)

    rejected = _run_holder(
        "receive",
        offer["wallet_url"],
        "--wallet",
        wallet,
        "--tx-code",
        wrong_code,
        "--allow-http",
    )
    received = _succeeded(
        _run_holder(
            "receive",
            offer["wallet_url"],
            "--wallet",
            wallet,
            "--tx-code",
            offer["tx_code"],
            "--allow-http",
        )
    )

    assert rejected.returncode == 1
    assert "invalid_grant" in _holder_outcome(rejected)["error"]
    assert len(received["credentials"]) == len(_persona_data())
    assert _final_status(api_with_tx_code, offer) == "issued"
