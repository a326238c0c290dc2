"""Run the API app in tests: a flow with wallet steps, keys, a clock and a wallet.

``make_api(tmp_path)`` builds the real app on a SQLite file in ``tmp_path``;
pass ``database_url`` (the conftest fixture) to run it on PostgreSQL too.
The test plays the wallet: :class:`Wallet` gets credentials signed with the
API's own pilot issuer key (or any other) and presents them with
``stappen.sdjwt``.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from flask import Flask
from joserfc import jwe
from joserfc.jwk import ECKey, Key
from werkzeug.serving import make_server
from werkzeug.test import TestResponse

from stappen import apiconfig, jose, sdjwt, statuslist
from stappen.api import create_app

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PUBLIC_URL = "https://api.proef.example"
SITE = "https://gemeente.github.io"

FLOW = "proef"
PLAIN_STEP = "delen"
ENCRYPTED_STEP = "delen-versleuteld"
ISSUE_STEP = "ophalen"

PILOT_ISSUER = "https://uitgifte.proef.example"
"""The issuer of the flow's issuing step: the API trusts it with its own key."""
FILE_ISSUER = "https://andere.proef.example"
"""An issuer trusted through the STAPPEN_TRUSTED_ISSUERS file."""
UNTRUSTED_ISSUER = "https://onbekend.proef.example"

INKOMEN_VCT = "urn:stappen:proef:inkomen"
LEEFTIJD_VCT = "urn:stappen:proef:leeftijd"
STATUS_LIST_PATH = "/test/status-lists/"

FLOW_YAML = f"""\
stappen: 1
title: {{nl: Walletproef, en: Wallet trial}}
organisation:
  name: {{nl: Gemeente Voorbeeld, en: Municipality of Voorbeeld}}
languages: [nl, en]
theme: voorbeeld
steps:
  - id: {ISSUE_STEP}
    kind: wallet
    title: {{nl: Haal uw gegevens op, en: Collect your data}}
    settings:
      purpose: issue
      issuer: {PILOT_ISSUER}
      credentials:
        - id: inkomen
          vct: "{INKOMEN_VCT}"
          claims:
            netto_per_maand: {{type: number, persona: inkomen.netto_per_maand}}
      tx_code: {{length: 6}}
    next: {PLAIN_STEP}
  - id: {PLAIN_STEP}
    kind: wallet
    title: {{nl: Deel uw gegevens, en: Share your data}}
    settings:
      purpose: present
      query:
        credentials:
          - id: inkomen
            format: dc+sd-jwt
            meta:
              vct_values: ["{INKOMEN_VCT}"]
            claims:
              - path: [netto_per_maand]
      trusted_issuers: [{PILOT_ISSUER}, {FILE_ISSUER}]
    next: {ENCRYPTED_STEP}
  - id: {ENCRYPTED_STEP}
    kind: wallet
    title: {{nl: Deel uw gegevens versleuteld, en: Share your data encrypted}}
    settings:
      purpose: present
      query:
        credentials:
          - id: inkomen
            format: dc+sd-jwt
            meta:
              vct_values: ["{INKOMEN_VCT}"]
            claims:
              - path: [netto_per_maand]
          - id: leeftijd
            format: dc+sd-jwt
            meta:
              vct_values: ["{LEEFTIJD_VCT}"]
            claims:
              - {{id: ouder-dan-21, path: [ouder_dan_21]}}
              - {{id: geboortedatum, path: [geboortedatum]}}
            claim_sets:
              - [ouder-dan-21]
              - [geboortedatum]
      trusted_issuers: [{PILOT_ISSUER}]
      expires_in: 600
      response_mode: direct_post.jwt
    next: klaar
  - id: klaar
    kind: outcome
    title: {{nl: Klaar, en: Done}}
"""


PERSONA = "testpersoon"
PERSONAS_YAML = f"""\
personas:
  - id: {PERSONA}
    name: Tessa Testpersoon
    description:
      nl: Een verzonnen persoon voor de tests.
      en: A made-up person for the tests.
    data:
      inkomen:
        netto_per_maand: 1450.00
"""
"""The personas file of the flow, for the issuing step's ``persona:`` claims."""


class Clock:
    """A clock that tests move by hand; the app reads it through STAPPEN_CLOCK."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    @property
    def epoch(self) -> int:
        return int(self.now.timestamp())


@dataclasses.dataclass
class Api:
    """The app, its test client and clock, and shortcuts for the endpoints."""

    app: Flask
    clock: Clock
    file_issuer_key: Key
    status_lists: dict[str, statuslist.StatusList]

    @property
    def client(self):
        return self.app.test_client()

    @property
    def issuer_key(self) -> Key:
        return apiconfig.issuer_keys(self.app)[0]

    @contextmanager
    def db(self):
        store = self.app.extensions["stappen.storage"]
        with store.connection() as connection:
            yield connection

    def start(self, step: str = PLAIN_STEP, **fields) -> dict:
        """Create a wallet session and return the 201 body."""
        body = {"flow": FLOW, "step": step, **fields}
        response = self.client.post("/api/v1/wallet-sessions", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def fetch_request(self, created: dict) -> dict:
        """Fetch the request object of a session, check its signature, return claims."""
        response = self.client.get(request_path(created))
        assert response.status_code == 200, response.get_json()
        return verified_request_object(response.get_data(as_text=True))

    def respond(self, request: dict, form: dict) -> TestResponse:
        """Post a form to the request's response_uri."""
        return self.client.post(path_of(request["response_uri"]), data=form)

    def status(self, transaction_id: str) -> TestResponse:
        """Wait out the poll interval and fetch the session's status."""
        self.clock.advance(1)
        return self.client.get(f"/api/v1/wallet-sessions/{transaction_id}/status")

    def result(self, transaction_id: str) -> TestResponse:
        return self.client.get(f"/api/v1/wallet-sessions/{transaction_id}/result")

    def session(self, transaction_id: str) -> dict:
        with self.db() as db:
            return db.get_session(transaction_id)

    def evidence(self, transaction_id: str) -> list[dict]:
        with self.db() as db:
            return db.evidence_for(transaction_id)

    def events(self, transaction_id: str) -> list[dict]:
        with self.db() as db:
            return db.events_for(transaction_id)

    def status_uri(self, list_id: str) -> str:
        return f"{apiconfig.public_url(self.app)}{STATUS_LIST_PATH}{list_id}"


def make_api(tmp_path: Path, database_url: str | None = None, **config) -> Api:
    """Build the app on a fresh database with generated keys and a test flow."""
    steps = tmp_path / "steps" / FLOW
    steps.mkdir(parents=True)
    (steps / "flow.yaml").write_text(FLOW_YAML, encoding="utf-8")
    (steps / "personas.yaml").write_text(PERSONAS_YAML, encoding="utf-8")
    file_issuer_key = jose.generate_key("ES256")
    trusted = tmp_path / "trusted-issuers.json"
    jwks = {"keys": [jose.public_jwk(file_issuer_key)]}
    trusted.write_text(json.dumps({FILE_ISSUER: {"jwks": jwks}}), encoding="utf-8")

    clock = Clock()
    settings = {
        "STEPS_DIR": str(tmp_path / "steps"),
        "KEYS_DIR": str(tmp_path / "keys"),
        "DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'api.sqlite3'}",
        "TRUSTED_ISSUERS": str(trusted),
        "SITE_ORIGINS": SITE,
        "PUBLIC_URL": PUBLIC_URL,
        "STAPPEN_CLOCK": clock,
        "TESTING": True,
        **config,
    }
    app = create_app(settings)
    apiconfig.generate_keys(app)
    app.extensions["stappen.storage"].init_schema()

    api = Api(app, clock, file_issuer_key, {})
    app.add_url_rule(
        STATUS_LIST_PATH + "<list_id>", "test_status_list", _status_list_view(api)
    )
    return api


def _status_list_view(api: Api):
    """Serve api.status_lists as tokens signed by the pilot issuer key."""

    def view(list_id: str):
        status_list = api.status_lists.get(list_id)
        if status_list is None:
            return "no such list", 404
        token = status_list_token(api, list_id, status_list)
        return token, 200, {"Content-Type": "application/statuslist+jwt"}

    return view


def status_list_token(api: Api, list_id: str, status_list) -> str:
    return statuslist.status_list_token(
        api.issuer_key,
        uri=api.status_uri(list_id),
        status_list=status_list,
        iat=api.clock.epoch,
    )


# Request objects and paths


def request_path(created: dict) -> str:
    """Return the path of the request_uri inside a session's wallet URL."""
    query = created["wallet_url"].split("?", 1)[1]
    return path_of(parse_qs(query)["request_uri"][0])


def path_of(url: str) -> str:
    return urlsplit(url).path


def verified_request_object(token: str) -> dict:
    """Verify a request object with its x5c certificate, as a wallet would.

    Checks that client_id is the x509_hash of that certificate.
    """
    header, _ = jose.decode_unverified(token)
    der = base64.b64decode(header["x5c"][0])
    certificate = x509.load_der_x509_certificate(der)
    key = ECKey.import_key(certificate.public_key())
    _, claims = jose.verify(token, key, typ="oauth-authz-req+jwt")
    digest = jose.b64url_encode(hashlib.sha256(der).digest())
    assert claims["client_id"] == f"x509_hash:{digest}"
    return claims


def encrypted_form(request: dict, payload: dict, enc: str = "A128GCM") -> dict:
    """Encrypt a response to the request's client_metadata key (direct_post.jwt)."""
    [jwk] = request["client_metadata"]["jwks"]["keys"]
    key = ECKey.import_key(jwk)
    header = {"alg": jwk["alg"], "enc": enc, "kid": jwk["kid"]}
    token = jwe.encrypt_compact(header, json.dumps(payload).encode(), key)
    return {"response": token}


# The wallet


class Wallet:
    """A holder with one key that gets credentials and presents them.

    Times default to the clock's: credentials issued an hour ago and valid
    for a year, presentations made now.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.key = jose.generate_key("ES256")

    def credential(
        self,
        issuer_key: Key,
        *,
        issuer: str = PILOT_ISSUER,
        vct: str = INKOMEN_VCT,
        claims: dict | None = None,
        iat: int | None = None,
        exp: int | None = None,
        status: dict | None = None,
    ) -> str:
        claims = {"netto_per_maand": 1450} if claims is None else claims
        iat = self.clock.epoch - 3600 if iat is None else iat
        return sdjwt.issue(
            issuer_key,
            issuer=issuer,
            vct=vct,
            claims=claims,
            disclosable=set(claims),
            holder_jwk=jose.public_jwk(self.key),
            iat=iat,
            exp=iat + 365 * 86400 if exp is None else exp,
            status=status,
        )

    def present(
        self,
        issued: str,
        request: dict,
        *,
        disclose: set[str] | None = None,
        nonce: str | None = None,
        aud=None,
        iat: int | None = None,
    ) -> str:
        names = set(_disclosed_names(issued)) if disclose is None else disclose
        return sdjwt.present(
            issued,
            disclose=names,
            holder_key=self.key,
            nonce=request["nonce"] if nonce is None else nonce,
            aud=request["client_id"] if aud is None else aud,
            iat=self.clock.epoch if iat is None else iat,
        )

    def form(self, request: dict, presentations: dict[str, list[str]]) -> dict:
        return {"vp_token": json.dumps(presentations), "state": request["state"]}


def _disclosed_names(issued: str) -> list[str]:
    return [d.name for d in sdjwt.parse(issued).disclosures if d.name is not None]


def forge_issuer_jwt(issued: str, header: dict, sign) -> str:
    """Replace the issuer JWT of ``issued`` with one signed by ``sign(input)``."""
    issuer_jwt, rest = issued.split("~", 1)
    payload_part = issuer_jwt.split(".")[1]
    header_part = jose.b64url_encode(jose.dumps_json(header))
    signing_input = f"{header_part}.{payload_part}".encode("ascii")
    signature = jose.b64url_encode(sign(signing_input))
    return f"{header_part}.{payload_part}.{signature}~{rest}"


# A real HTTP server


@contextmanager
def serve(app) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 in a thread and yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
