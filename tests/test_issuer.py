"""The pilot issuer: metadata, offers, tokens, key proofs, credentials, status.

The tests play the wallet with stappen.jose and stappen.sdjwt: a holder key,
key proofs, and presentations that ``sdjwt.verify_presentation`` checks
against the API's own pilot issuer key, as the verifier does. Most tests
use the Flask test client; one runs over a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from werkzeug.exceptions import BadRequest
from werkzeug.serving import make_server

from stappen import apiconfig, issuer, jose, sdjwt, statuslist
from stappen.api import create_app
from stappen.errors import InvalidFlows
from stappen.walletstep import read_settings
from tests.conftest import PROJECT

PUBLIC_URL = "https://api.proef.example"
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
VERIFIER = "https://verifier.proef.example"

VIL_ISSUER = "https://uitgifte.vil.example"
VIL_STEP = "gegevens-ophalen"
VIL_CONFIGURATIONS = [
    "inkomen",
    "huishouden",
    "leeftijd",
    "woonplaats",
    "vermogen",
    "bankrekening",
]

PROEF_ISSUER = "https://uitgifte.proef.example"
ANSWERS_STEP = "ophalen-antwoorden"
PERSONA_STEP = "ophalen-persona"

PROEF_FLOW = f"""\
stappen: 1
title: {{nl: Uitgifteproef, en: Issuing trial}}
organisation:
  name: {{nl: Gemeente Voorbeeld, en: Municipality of Voorbeeld}}
languages: [nl, en]
theme: voorbeeld
steps:
  - id: netto-inkomen
    kind: question
    title: {{nl: Wat is uw netto inkomen?, en: What is your net income?}}
    answer: {{type: amount, min: 0, max: 20000}}
    next: woonplaats
  - id: woonplaats
    kind: question
    title: {{nl: Waar woont u?, en: Where do you live?}}
    answer:
      type: choice
      options:
        - {{value: utrecht, label: {{nl: Utrecht, en: Utrecht}}}}
        - {{value: elders, label: {{nl: Elders, en: Elsewhere}}}}
    next: kinderen
  - id: kinderen
    kind: question
    title: {{nl: Wonen er kinderen bij u?, en: Do children live with you?}}
    answer: {{type: yesno, required: false}}
    next: {ANSWERS_STEP}
  - id: {ANSWERS_STEP}
    kind: wallet
    title: {{nl: Haal uw opgave op, en: Collect your statement}}
    settings:
      purpose: issue
      issuer: {PROEF_ISSUER}
      credentials:
        - id: opgave
          vct: "urn:stappen:proef:opgave"
          claims:
            netto_per_maand: {{type: number, answer: netto-inkomen}}
            woonplaats: {{type: string, answer: woonplaats}}
            kinderen_thuis: {{type: boolean, answer: kinderen}}
      tx_code: {{length: 6}}
    next: {PERSONA_STEP}
  - id: {PERSONA_STEP}
    kind: wallet
    title: {{nl: Haal uw gegevens op, en: Collect your data}}
    settings:
      purpose: issue
      issuer: {PROEF_ISSUER}
      credentials:
        - id: leeftijd
          vct: "urn:stappen:proef:leeftijd"
          claims:
            ouder_dan_21: {{type: boolean, persona: leeftijd.ouder_dan_21}}
            geboortedatum: {{type: date, persona: leeftijd.geboortedatum}}
        - id: woonadres
          vct: "urn:stappen:proef:woonadres"
          claims:
            gemeente: {{type: string, persona: woonplaats.gemeente}}
    next: klaar
  - id: klaar
    kind: outcome
    title: {{nl: Klaar, en: Done}}
"""

PROEF_PERSONAS = """\
personas:
  - id: anna
    name: Anna Fictief
    data:
      leeftijd: {ouder_dan_21: true, geboortedatum: "1990-01-02"}
      woonplaats: {gemeente: Utrecht}
  - id: bram
    name: Bram Fictief
    data:
      leeftijd: {ouder_dan_21: false, geboortedatum: "2008-05-05"}
      woonplaats: {gemeente: Amersfoort}
"""

PROEF_ANSWERS = {"netto-inkomen": 1450.5, "woonplaats": "utrecht", "kinderen": True}


class Clock:
    """A clock the tests move by hand; the app reads it through STAPPEN_CLOCK."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    @property
    def epoch(self) -> int:
        return int(self.now.timestamp())


@dataclasses.dataclass
class Api:
    """The app with its clock, and shortcuts for sessions and their records."""

    app: Flask
    clock: Clock

    @property
    def client(self):
        return self.app.test_client()

    @property
    def store(self):
        return self.app.extensions["stappen.storage"]

    def start(self, flow_id: str, step_id: str, **body) -> tuple[str, str, str]:
        """Create an issuing session as the page's endpoint does.

        Returns the transaction id, the wallet URL and the transaction code
        (or None).
        """
        flow = self.app.extensions["stappen.flows"][flow_id]
        step = flow.steps[step_id]
        settings = read_settings(step)
        body = {"flow": flow_id, "step": step_id, **body}
        fields, wallet_url = issuer.prepare_issuance(
            self.app, flow, step, settings, self.clock.now, body
        )
        tx_code = fields.pop("tx_code", None)
        transaction_id = f"tx-{len(self.sessions())}-{step_id}"
        session = {
            "id": transaction_id,
            "flow": flow_id,
            "step": step_id,
            "created_at": self.clock.now,
            "expires_at": self.clock.now + timedelta(seconds=settings.expires_in),
            **fields,
        }
        with self.store.connection() as db:
            db.create_session(session)
        return transaction_id, wallet_url, tx_code

    def start_on_page(self, **body) -> dict:
        """Create a session through POST /api/v1/wallet-sessions."""
        response = self.client.post("/api/v1/wallet-sessions", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def sessions(self) -> list[str]:
        with self.store.connection() as db:
            rows = db._all("SELECT id FROM sessions")
        return [row["id"] for row in rows]

    def session(self, transaction_id: str) -> dict:
        with self.store.connection() as db:
            return db.get_session(transaction_id)

    def evidence_kinds(self, transaction_id: str) -> list[str]:
        with self.store.connection() as db:
            return [item["kind"] for item in db.evidence_for(transaction_id)]

    def issued(self, transaction_id: str) -> list[dict]:
        with self.store.connection() as db:
            return db.issued_credentials(transaction_id)

    def fetch(self, uri: str) -> str:
        response = self.client.get(path_of(uri))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_data(as_text=True)


def build_api(tmp_path: Path, steps_dir: Path, database_url=None, **config) -> Api:
    clock = Clock()
    settings = {
        "STEPS_DIR": str(steps_dir),
        "KEYS_DIR": str(tmp_path / "keys"),
        "DATABASE_URL": database_url or f"sqlite:///{tmp_path / 'api.sqlite3'}",
        "PUBLIC_URL": PUBLIC_URL,
        "STAPPEN_CLOCK": clock,
        "TESTING": True,
        **config,
    }
    app = create_app(settings)
    apiconfig.generate_keys(app)
    app.extensions["stappen.storage"].init_schema()
    return Api(app, clock)


def proef_steps(tmp_path: Path, personas: str = PROEF_PERSONAS) -> Path:
    folder = tmp_path / "steps" / "proef"
    folder.mkdir(parents=True)
    (folder / "flow.yaml").write_text(PROEF_FLOW, encoding="utf-8")
    (folder / "personas.yaml").write_text(personas, encoding="utf-8")
    return tmp_path / "steps"


@pytest.fixture
def vil(tmp_path) -> Api:
    return build_api(tmp_path, PROJECT / "steps")


@pytest.fixture
def proef(tmp_path) -> Api:
    return build_api(tmp_path, proef_steps(tmp_path))


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def offer_uri(wallet_url: str) -> str:
    assert wallet_url.startswith("openid-credential-offer://?")
    return parse_qs(urlsplit(wallet_url).query)["credential_offer_uri"][0]


class Wallet:
    """The holder's side: a key, key proofs and the requests a wallet sends."""

    def __init__(self, api: Api, alg: str = "ES256") -> None:
        self.api = api
        self.key = jose.generate_key(alg)

    def offer(self, wallet_url: str) -> dict:
        response = self.api.client.get(path_of(offer_uri(wallet_url)))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def token_response(self, offer: dict, tx_code: str | None = None):
        grant = offer["grants"][issuer.PRE_AUTHORIZED_GRANT]
        form = {
            "grant_type": issuer.PRE_AUTHORIZED_GRANT,
            "pre-authorized_code": grant["pre-authorized_code"],
        }
        if tx_code is not None:
            form["tx_code"] = tx_code
        return self.api.client.post("/api/v1/issuer/token", data=form)

    def access_token(self, wallet_url: str, tx_code: str | None = None) -> str:
        response = self.token_response(self.offer(wallet_url), tx_code)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["access_token"]

    def c_nonce(self) -> str:
        response = self.api.client.post("/api/v1/issuer/nonce")
        assert response.status_code == 200
        return response.get_json()["c_nonce"]

    def proof(self, nonce: str | None = None, **overrides) -> str:
        claims = {"aud": PUBLIC_URL, "iat": self.api.clock.epoch, "nonce": nonce}
        claims.update(overrides.pop("claims", {}))
        claims = {name: value for name, value in claims.items() if value is not None}
        headers = overrides.pop("headers", {"jwk": jose.public_jwk(self.key)})
        typ = overrides.pop("typ", issuer.PROOF_TYP)
        return jose.sign(
            claims, overrides.pop("key", self.key), typ=typ, headers=headers
        )

    def credential_response(self, access_token: str, body: dict):
        return self.api.client.post(
            "/api/v1/issuer/credential",
            json=body,
            headers={"Authorization": f"Bearer {access_token}"},
        )

    def request(self, access_token: str, configuration_id: str, proof=None):
        proof = self.proof(self.c_nonce()) if proof is None else proof
        body = {
            "credential_configuration_id": configuration_id,
            "proofs": {"jwt": [proof]},
        }
        return self.credential_response(access_token, body)

    def receive(self, wallet_url: str, tx_code: str | None = None) -> dict[str, str]:
        offer = self.offer(wallet_url)
        response = self.token_response(offer, tx_code)
        assert response.status_code == 200, response.get_json()
        access_token = response.get_json()["access_token"]
        received = {}
        for configuration_id in offer["credential_configuration_ids"]:
            answer = self.request(access_token, configuration_id)
            assert answer.status_code == 200, answer.get_json()
            [item] = answer.get_json()["credentials"]
            received[configuration_id] = item["credential"]
        return received

    def present(self, credential: str, disclose: set[str] | None = None) -> str:
        names = {d.name for d in sdjwt.parse(credential).disclosures}
        return sdjwt.present(
            credential,
            disclose=names if disclose is None else disclose,
            holder_key=self.key,
            nonce="verifier-nonce",
            aud=VERIFIER,
            iat=self.api.clock.epoch,
        )


def verify(api: Api, wallet: Wallet, credential: str, issuer_id: str):
    """Verify a presentation of ``credential`` as the API's verifier would."""
    keys = apiconfig.issuer_jwks(api.app, (issuer_id,))

    def status_check(claim: dict):
        return statuslist.check_status(
            claim, api.fetch, keys[issuer_id], api.clock.epoch
        )

    return sdjwt.verify_presentation(
        wallet.present(credential),
        trusted=sdjwt.TrustedIssuers(keys),
        nonce="verifier-nonce",
        aud=VERIFIER,
        now=api.clock.epoch,
        status_check=status_check,
    )


def error_of(response) -> tuple[int, str, str]:
    body = response.get_json()
    assert body["message"] == body["error_description"]
    return response.status_code, body["error"], body["error_description"]


# Metadata


def test_issuer_metadata_endpoints(vil):
    metadata = vil.client.get("/.well-known/openid-credential-issuer").get_json()
    assert metadata["credential_issuer"] == PUBLIC_URL
    assert metadata["credential_endpoint"] == PUBLIC_URL + "/api/v1/issuer/credential"
    assert metadata["nonce_endpoint"] == PUBLIC_URL + "/api/v1/issuer/nonce"
    assert "authorization_servers" not in metadata
    assert {item["locale"] for item in metadata["display"]} == {"nl", "en"}


def test_issuer_metadata_lists_vil_configurations(vil):
    metadata = vil.client.get("/.well-known/openid-credential-issuer").get_json()
    configurations = metadata["credential_configurations_supported"]
    expected = [*VIL_CONFIGURATIONS, "voucher-iit", "besluit-iit"]
    assert sorted(configurations) == sorted(expected)
    inkomen = configurations["inkomen"]
    assert inkomen["format"] == "dc+sd-jwt"
    assert inkomen["vct"] == "urn:stappen:vil:inkomen"
    assert inkomen["cryptographic_binding_methods_supported"] == ["jwk"]
    assert inkomen["credential_signing_alg_values_supported"] == ["ES256"]
    proof_algs = inkomen["proof_types_supported"]["jwt"]
    assert proof_algs["proof_signing_alg_values_supported"] == ["ES256", "EdDSA"]


def test_issuer_metadata_display_marks_pilot(vil):
    metadata = vil.client.get("/.well-known/openid-credential-issuer").get_json()
    leeftijd = metadata["credential_configurations_supported"]["leeftijd"]
    display = {
        item["locale"]: item for item in leeftijd["credential_metadata"]["display"]
    }
    assert display["nl"]["name"] == "Leeftijd (proef)"
    assert display["en"]["name"] == "Leeftijd (pilot)"
    assert "Virtueel Inkomsten Loket" in display["nl"]["description"]
    assert "not from an authentic source" in display["en"]["description"]


def test_issuer_metadata_claims(vil):
    metadata = vil.client.get("/.well-known/openid-credential-issuer").get_json()
    leeftijd = metadata["credential_configurations_supported"]["leeftijd"]
    claims = leeftijd["credential_metadata"]["claims"]
    assert [claim["path"] for claim in claims] == [
        ["ouder_dan_21"],
        ["aow_leeftijd_bereikt"],
        ["geboortedatum"],
        ["bron"],
        ["herkomst"],
    ]
    assert all(claim["mandatory"] for claim in claims)
    assert claims[0]["display"] == [{"name": "Ouder dan 21", "locale": "nl"}]
    assert {"name": "Source", "locale": "en"} in claims[3]["display"]


def test_optional_answer_claim_not_mandatory(proef):
    metadata = proef.client.get("/.well-known/openid-credential-issuer").get_json()
    claims = metadata["credential_configurations_supported"]["opgave"][
        "credential_metadata"
    ]["claims"]
    mandatory = {claim["path"][0]: claim["mandatory"] for claim in claims}
    assert mandatory["kinderen_thuis"] is False
    assert mandatory["netto_per_maand"] is True


def test_server_metadata(vil):
    metadata = vil.client.get("/.well-known/oauth-authorization-server").get_json()
    assert metadata == {
        "issuer": PUBLIC_URL,
        "token_endpoint": PUBLIC_URL + "/api/v1/issuer/token",
        "grant_types_supported": [issuer.PRE_AUTHORIZED_GRANT],
        "token_endpoint_auth_methods_supported": ["none"],
        "pre-authorized_grant_anonymous_access_supported": True,
    }


def test_metadata_under_public_url_path(tmp_path):
    api = build_api(tmp_path, PROJECT / "steps", PUBLIC_URL=PUBLIC_URL + "/stappen")
    inserted = api.client.get("/.well-known/openid-credential-issuer/stappen")
    assert inserted.status_code == 200
    assert inserted.get_json()["credential_issuer"] == PUBLIC_URL + "/stappen"
    server = api.client.get("/.well-known/oauth-authorization-server/stappen")
    assert server.get_json()["issuer"] == PUBLIC_URL + "/stappen"
    assert api.client.get("/.well-known/openid-credential-issuer").status_code == 404


def test_metadata_without_key_503(vil):
    (Path(vil.app.config["KEYS_DIR"]) / apiconfig.ISSUER_KEY_FILE).unlink()
    response = vil.client.get("/.well-known/openid-credential-issuer")
    assert error_of(response) == (
        503,
        "server_error",
        "the issuer has no signing key yet; the server log names the fix",
    )


def issue_flow(credentials: str, title: str = "Proef") -> str:
    return f"""\
stappen: 1
title: {{nl: {title}, en: {title}}}
organisation:
  name: {{nl: Gemeente Voorbeeld, en: Municipality of Voorbeeld}}
languages: [nl, en]
theme: voorbeeld
steps:
  - id: ophalen
    kind: wallet
    title: {{nl: Ophalen, en: Collect}}
    settings:
      purpose: issue
      issuer: {PROEF_ISSUER}
      credentials:
{credentials}
    next: klaar
  - id: klaar
    kind: outcome
    title: {{nl: Klaar, en: Done}}
"""


def write_flows(tmp_path: Path, flows: dict[str, str]) -> Path:
    for flow_id, text in flows.items():
        folder = tmp_path / "steps" / flow_id
        folder.mkdir(parents=True)
        (folder / "flow.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "steps"


INKOMEN_CREDENTIAL = """\
        - id: inkomen
          vct: "urn:stappen:proef:{vct}"
          claims:
            netto: {{type: number, persona: inkomen.netto}}
"""


def test_conflicting_configuration_ids_500(tmp_path, caplog):
    steps = write_flows(
        tmp_path,
        {
            "een": issue_flow(INKOMEN_CREDENTIAL.format(vct="inkomen")),
            "twee": issue_flow(INKOMEN_CREDENTIAL.format(vct="ander-inkomen")),
        },
    )
    api = build_api(tmp_path, steps)
    response = api.client.get("/.well-known/openid-credential-issuer")
    assert error_of(response)[:2] == (500, "server_error")
    assert (
        "credential configuration 'inkomen' is defined differently in step "
        "'ophalen' of flow 'een' and step 'ophalen' of flow 'twee'; give one of "
        "them another id"
    ) in caplog.text


def test_shared_identical_configuration_listed_once(tmp_path):
    credential = INKOMEN_CREDENTIAL.format(vct="inkomen")
    steps = write_flows(
        tmp_path, {"een": issue_flow(credential), "twee": issue_flow(credential)}
    )
    api = build_api(tmp_path, steps)
    metadata = api.client.get("/.well-known/openid-credential-issuer").get_json()
    assert list(metadata["credential_configurations_supported"]) == ["inkomen"]


def test_claim_named_like_pilot_marker_500(tmp_path, caplog):
    credential = """\
        - id: inkomen
          vct: "urn:stappen:proef:inkomen"
          claims:
            bron: {type: string, persona: inkomen.bron}
"""
    api = build_api(tmp_path, write_flows(tmp_path, {"een": issue_flow(credential)}))
    response = api.client.get("/.well-known/openid-credential-issuer")
    assert error_of(response)[:2] == (500, "server_error")
    assert "claim 'bron' of credential 'inkomen' is set by the pilot issuer" in (
        caplog.text
    )


# The whole flow


def test_vil_persona_flow(tmp_path, database_url):
    api = build_api(tmp_path, PROJECT / "steps", database_url)
    created = api.start_on_page(flow="vil", step=VIL_STEP, persona="sanne")
    wallet = Wallet(api)
    received = wallet.receive(created["wallet_url"])

    assert list(received) == VIL_CONFIGURATIONS
    for credential in received.values():
        verified = verify(api, wallet, credential, VIL_ISSUER)
        assert verified.issuer == VIL_ISSUER
        assert verified.claims["bron"] == "pilot"
        assert verified.claims["herkomst"] == "testpersona"
    inkomen = verify(api, wallet, received["inkomen"], VIL_ISSUER)
    assert inkomen.claims["netto_per_maand"] == 1290.0
    assert inkomen.disclosed == ["netto_per_maand"]
    assert api.session(created["transaction_id"])["state"] == "issued"


def test_vil_credential_claims(vil):
    transaction_id, wallet_url, _ = vil.start("vil", VIL_STEP, persona="sanne")
    wallet = Wallet(vil)
    received = wallet.receive(wallet_url)
    leeftijd = verify(vil, wallet, received["leeftijd"], VIL_ISSUER)
    assert leeftijd.vct == "urn:stappen:vil:leeftijd"
    assert {
        name: leeftijd.claims[name]
        for name in ("ouder_dan_21", "aow_leeftijd_bereikt", "geboortedatum")
    } == {
        "ouder_dan_21": True,
        "aow_leeftijd_bereikt": False,
        "geboortedatum": "1988-05-17",
    }
    assert leeftijd.holder_jwk == jose.public_jwk(wallet.key)


def test_credential_hides_every_step_claim(vil):
    _, wallet_url, _ = vil.start("vil", VIL_STEP, persona="sanne")
    received = Wallet(vil).receive(wallet_url)
    _, payload = jose.decode_unverified(sdjwt.parse(received["huishouden"]).issuer_jwt)
    assert "alleenstaand" not in payload
    assert "kinderen_thuis" not in payload
    assert len(payload["_sd"]) == 2
    assert (payload["bron"], payload["herkomst"]) == ("pilot", "testpersona")
    assert payload["iss"] == VIL_ISSUER
    assert payload["status"]["status_list"]["uri"] == (
        PUBLIC_URL + "/api/v1/status-lists/1"
    )


def test_credential_times_rounded_to_day(vil):
    _, wallet_url, _ = vil.start("vil", VIL_STEP, persona="sanne")
    received = Wallet(vil).receive(wallet_url)
    _, payload = jose.decode_unverified(sdjwt.parse(received["inkomen"]).issuer_jwt)
    midnight = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
    assert payload["iat"] == midnight
    assert payload["exp"] == midnight + 30 * 86400


def test_eddsa_holder_key(vil):
    _, wallet_url, _ = vil.start("vil", VIL_STEP, persona="jeroen")
    wallet = Wallet(vil, alg="EdDSA")
    received = wallet.receive(wallet_url)
    verified = verify(vil, wallet, received["inkomen"], VIL_ISSUER)
    assert verified.claims["netto_per_maand"] == 3140.0


def test_session_issued_with_result(vil):
    transaction_id, wallet_url, _ = vil.start("vil", VIL_STEP, persona="sanne")
    Wallet(vil).receive(wallet_url)
    session = vil.session(transaction_id)
    assert session["state"] == "issued"
    assert session["result"]["issued"] == VIL_CONFIGURATIONS
    assert session["result"]["pilot"] is True
    assert set(session["result"]["notice"]) == {"nl", "en"}


def test_claim_values_erased_once_issued(vil):
    transaction_id, wallet_url, _ = vil.start("vil", VIL_STEP, persona="sanne")
    assert "claims" in vil.session(transaction_id)["data"]["credentials"]["inkomen"]
    Wallet(vil).receive(wallet_url)
    credentials = vil.session(transaction_id)["data"]["credentials"]
    assert all("claims" not in entry for entry in credentials.values())


def test_session_stays_open_until_all_issued(vil):
    transaction_id, wallet_url, _ = vil.start("vil", VIL_STEP, persona="sanne")
    wallet = Wallet(vil)
    access_token = wallet.access_token(wallet_url)
    assert wallet.request(access_token, "inkomen").status_code == 200
    assert vil.session(transaction_id)["state"] == "submitted"
    assert len(vil.issued(transaction_id)) == 1


def test_evidence_recorded(vil):
    transaction_id, wallet_url, _ = vil.start("vil", VIL_STEP, persona="sanne")
    Wallet(vil).receive(wallet_url)
    kinds = vil.evidence_kinds(transaction_id)
    assert kinds[:2] == ["issuer.offer_retrieved", "issuer.token_granted"]
    assert kinds[2:] == ["issuer.credential_issued"] * len(VIL_CONFIGURATIONS)


def test_issued_records_status_entries(vil):
    transaction_id, wallet_url, _ = vil.start("vil", VIL_STEP, persona="sanne")
    Wallet(vil).receive(wallet_url)
    issued = vil.issued(transaction_id)
    assert sorted(row["status_index"] for row in issued) == list(range(6))
    assert {row["status_list_id"] for row in issued} == {"1"}
    assert all(len(row["holder_jwk_thumbprint"]) == 43 for row in issued)


# The offer


def test_offer_shape(proef):
    _, wallet_url, _ = proef.start("proef", ANSWERS_STEP, answers=PROEF_ANSWERS)
    assert offer_uri(wallet_url).startswith(PUBLIC_URL + "/api/v1/issuer/offers/")
    offer = Wallet(proef).offer(wallet_url)
    assert offer["credential_issuer"] == PUBLIC_URL
    assert offer["credential_configuration_ids"] == ["opgave"]
    grant = offer["grants"][issuer.PRE_AUTHORIZED_GRANT]
    assert len(grant["pre-authorized_code"]) >= 43
    assert grant["tx_code"]["input_mode"] == "numeric"
    assert grant["tx_code"]["length"] == 6
    assert grant["tx_code"]["description"].startswith("Typ de code")


def test_offer_moves_session_once(proef):
    transaction_id, wallet_url, _ = proef.start("proef", PERSONA_STEP, persona="anna")
    wallet = Wallet(proef)
    assert proef.session(transaction_id)["state"] == "created"
    first = wallet.offer(wallet_url)
    assert proef.session(transaction_id)["state"] == "request_retrieved"
    assert wallet.offer(wallet_url) == first


def test_offer_gone_after_token(proef):
    _, wallet_url, _ = proef.start("proef", PERSONA_STEP, persona="anna")
    wallet = Wallet(proef)
    wallet.access_token(wallet_url)
    response = proef.client.get(path_of(offer_uri(wallet_url)))
    assert error_of(response)[:2] == (404, "not_found")
    assert "the session is submitted" in error_of(response)[2]


def test_unknown_offer_404(proef):
    response = proef.client.get("/api/v1/issuer/offers/onbekend")
    assert error_of(response) == (
        404,
        "not_found",
        "credential offer not found; scan the QR code on the page again",
    )


def test_offer_without_tx_code(proef):
    _, wallet_url, tx_code = proef.start("proef", PERSONA_STEP, persona="anna")
    grant = Wallet(proef).offer(wallet_url)["grants"][issuer.PRE_AUTHORIZED_GRANT]
    assert tx_code is None
    assert "tx_code" not in grant


# Sources of the values


def test_answers_issued(proef):
    _, wallet_url, tx_code = proef.start("proef", ANSWERS_STEP, answers=PROEF_ANSWERS)
    wallet = Wallet(proef)
    received = wallet.receive(wallet_url, tx_code)
    verified = verify(proef, wallet, received["opgave"], PROEF_ISSUER)
    assert verified.claims["netto_per_maand"] == 1450.5
    assert verified.claims["woonplaats"] == "utrecht"
    assert verified.claims["kinderen_thuis"] is True
    assert verified.claims["herkomst"] == "eigen_opgave"


def test_optional_answer_left_out(proef):
    answers = {"netto-inkomen": 900, "woonplaats": "elders"}
    _, wallet_url, tx_code = proef.start("proef", ANSWERS_STEP, answers=answers)
    wallet = Wallet(proef)
    received = wallet.receive(wallet_url, tx_code)
    verified = verify(proef, wallet, received["opgave"], PROEF_ISSUER)
    assert "kinderen_thuis" not in verified.claims
    assert verified.claims["netto_per_maand"] == 900


def test_persona_values_issued(proef):
    _, wallet_url, _ = proef.start("proef", PERSONA_STEP, persona="bram")
    wallet = Wallet(proef)
    received = wallet.receive(wallet_url)
    leeftijd = verify(proef, wallet, received["leeftijd"], PROEF_ISSUER)
    woonadres = verify(proef, wallet, received["woonadres"], PROEF_ISSUER)
    assert leeftijd.claims["ouder_dan_21"] is False
    assert leeftijd.claims["geboortedatum"] == "2008-05-05"
    assert woonadres.claims["gemeente"] == "Amersfoort"


@pytest.mark.parametrize(
    ("step", "body", "message"),
    [
        (
            PERSONA_STEP,
            {"persona": "carla"},
            "persona 'carla' not found in flow 'proef'; choose one of: anna, bram",
        ),
        (
            PERSONA_STEP,
            {},
            "step 'ophalen-persona' takes its values from a test persona; send "
            "'persona' with one of: anna, bram",
        ),
        (
            PERSONA_STEP,
            {"persona": "anna", "answers": PROEF_ANSWERS},
            "step 'ophalen-persona' takes no values from answers; remove "
            "'answers' from the request",
        ),
        (
            ANSWERS_STEP,
            {"persona": "anna", "answers": PROEF_ANSWERS},
            "step 'ophalen-antwoorden' takes no values from a test persona; "
            "remove 'persona' from the request",
        ),
        (
            ANSWERS_STEP,
            {},
            "step 'ophalen-antwoorden' takes values from the citizen's answers; "
            "send 'answers' as an object from question id to answer",
        ),
        (
            ANSWERS_STEP,
            {"answers": {**PROEF_ANSWERS, "netto-inkomen": "veel"}},
            "answer 'netto-inkomen' does not fit claim 'netto_per_maand': "
            "expected a number (got 'veel')",
        ),
        (
            ANSWERS_STEP,
            {"answers": {**PROEF_ANSWERS, "netto-inkomen": True}},
            "answer 'netto-inkomen' does not fit claim 'netto_per_maand': "
            "expected a number (got True)",
        ),
        (
            ANSWERS_STEP,
            {"answers": {**PROEF_ANSWERS, "woonplaats": "amsterdam"}},
            "answer 'woonplaats' does not fit claim 'woonplaats': expected "
            "option values among utrecht, elders (got 'amsterdam')",
        ),
        (
            ANSWERS_STEP,
            {"answers": {"woonplaats": "utrecht"}},
            "answer 'netto-inkomen' for claim 'netto_per_maand' is missing; send "
            "the answer to that question in 'answers'",
        ),
    ],
)
def test_values_rejected(proef, step, body, message):
    with pytest.raises(BadRequest) as rejected:
        proef.start("proef", step, **body)
    assert rejected.value.description == message


def test_unknown_persona_400_on_page(vil):
    response = vil.client.post(
        "/api/v1/wallet-sessions",
        json={"flow": "vil", "step": VIL_STEP, "persona": "onbekend"},
    )
    assert response.status_code == 400
    assert response.get_json()["message"] == (
        "persona 'onbekend' not found in flow 'vil'; choose one of: fatima, "
        "jeroen, kees, sanne"
    )


def test_value_not_logged(proef, caplog):
    answers = {**PROEF_ANSWERS, "netto-inkomen": "geheim-1234"}
    with pytest.raises(BadRequest):
        proef.start("proef", ANSWERS_STEP, answers=answers)
    assert "does not fit claim 'netto_per_maand'" in caplog.text
    assert "geheim-1234" not in caplog.text


def test_invalid_personas_file_stops_start(tmp_path, caplog):
    broken = PROEF_PERSONAS.replace("gemeente: Amersfoort", "gemeente: 12")
    with pytest.raises(InvalidFlows, match="1 error in the flows"):
        build_api(tmp_path, proef_steps(tmp_path, personas=broken))
    assert (
        "persona 'bram': field 'woonplaats.gemeente' is 12; expected a text, "
        "which step 'ophalen-persona' issues as claim 'gemeente'"
    ) in caplog.text


def test_flow_without_personas_file(tmp_path):
    steps = proef_steps(tmp_path)
    (steps / "proef" / "personas.yaml").unlink()
    api = build_api(tmp_path, steps)
    with pytest.raises(BadRequest) as rejected:
        api.start("proef", PERSONA_STEP, persona="anna")
    assert rejected.value.description == (
        "persona 'anna' not found in flow 'proef'; choose one of: none"
    )


# The token endpoint


def test_token_response(proef):
    _, wallet_url, _ = proef.start("proef", PERSONA_STEP, persona="anna")
    wallet = Wallet(proef)
    response = wallet.token_response(wallet.offer(wallet_url))
    body = response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert len(body["access_token"]) >= 43


def test_code_replay_invalid_grant(proef):
    transaction_id, wallet_url, _ = proef.start("proef", PERSONA_STEP, persona="anna")
    wallet = Wallet(proef)
    offer = wallet.offer(wallet_url)
    assert wallet.token_response(offer).status_code == 200
    status, error, description = error_of(wallet.token_response(offer))
    assert (status, error) == (400, "invalid_grant")
    assert description.startswith("the pre-authorized code was used before")
    assert "issuer.rejected" in proef.evidence_kinds(transaction_id)


def test_unknown_code_invalid_grant(proef):
    form = {"grant_type": issuer.PRE_AUTHORIZED_GRANT, "pre-authorized_code": "x"}
    response = proef.client.post("/api/v1/issuer/token", data=form)
    assert error_of(response)[:2] == (400, "invalid_grant")


def test_expired_code_invalid_grant(proef):
    _, wallet_url, _ = proef.start("proef", PERSONA_STEP, persona="anna")
    wallet = Wallet(proef)
    offer = wallet.offer(wallet_url)
    proef.clock.advance(301)
    assert error_of(wallet.token_response(offer)) == (
        400,
        "invalid_grant",
        "the pre-authorized code has expired; scan a new QR code on the page",
    )


@pytest.mark.parametrize(
    ("form", "error", "description"),
    [
        (
            {"grant_type": "authorization_code", "code": "x"},
            "unsupported_grant_type",
            "grant_type 'authorization_code' is not supported; use "
            "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        ),
        (
            {"grant_type": issuer.PRE_AUTHORIZED_GRANT},
            "invalid_request",
            "pre-authorized_code is missing; copy it from the credential offer",
        ),
    ],
)
def test_token_request_rejected(proef, form, error, description):
    response = proef.client.post("/api/v1/issuer/token", data=form)
    assert error_of(response) == (400, error, description)


def test_token_request_as_json_rejected(proef):
    response = proef.client.post("/api/v1/issuer/token", json={"grant_type": "x"})
    assert error_of(response)[:2] == (400, "invalid_request")
    assert "send it as application/x-www-form-urlencoded" in error_of(response)[2]


def test_tx_code_accepted(proef):
    _, wallet_url, tx_code = proef.start("proef", ANSWERS_STEP, answers=PROEF_ANSWERS)
    assert len(tx_code) == 6
    assert tx_code.isdigit()
    assert Wallet(proef).access_token(wallet_url, tx_code)


def test_tx_code_missing_invalid_request(proef):
    _, wallet_url, _ = proef.start("proef", ANSWERS_STEP, answers=PROEF_ANSWERS)
    wallet = Wallet(proef)
    response = wallet.token_response(wallet.offer(wallet_url))
    assert error_of(response) == (
        400,
        "invalid_request",
        "tx_code is missing; type the code shown on the page",
    )


def test_tx_code_not_expected_invalid_request(proef):
    _, wallet_url, _ = proef.start("proef", PERSONA_STEP, persona="anna")
    wallet = Wallet(proef)
    response = wallet.token_response(wallet.offer(wallet_url), "123456")
    assert error_of(response)[:2] == (400, "invalid_request")


def wrong(tx_code: str) -> str:
    return "".join(str((int(digit) + 1) % 10) for digit in tx_code)


def test_tx_code_wrong_then_right(proef):
    _, wallet_url, tx_code = proef.start("proef", ANSWERS_STEP, answers=PROEF_ANSWERS)
    wallet = Wallet(proef)
    offer = wallet.offer(wallet_url)
    assert error_of(wallet.token_response(offer, wrong(tx_code))) == (
        400,
        "invalid_grant",
        "the transaction code is wrong; 2 attempt(s) left",
    )
    assert wallet.token_response(offer, tx_code).status_code == 200


def test_tx_code_wrong_three_times_fails_session(proef):
    transaction_id, wallet_url, tx_code = proef.start(
        "proef", ANSWERS_STEP, answers=PROEF_ANSWERS
    )
    wallet = Wallet(proef)
    offer = wallet.offer(wallet_url)
    for _ in range(2):
        wallet.token_response(offer, wrong(tx_code))
    assert error_of(wallet.token_response(offer, wrong(tx_code))) == (
        400,
        "invalid_grant",
        "the transaction code was wrong 3 times, so this offer is cancelled; "
        "start again on the page",
    )
    session = proef.session(transaction_id)
    assert session["state"] == "failed"
    assert "claims" not in session["data"]["credentials"]["opgave"]
    status, error, _ = error_of(wallet.token_response(offer, tx_code))
    assert (status, error) == (400, "invalid_grant")


def test_text_tx_code(tmp_path):
    steps = proef_steps(tmp_path)
    flow = steps / "proef" / "flow.yaml"
    text = flow.read_text(encoding="utf-8")
    flow.write_text(
        text.replace("tx_code: {length: 6}", "tx_code: {length: 8, input_mode: text}"),
        encoding="utf-8",
    )
    api = build_api(tmp_path, steps)
    _, wallet_url, tx_code = api.start("proef", ANSWERS_STEP, answers=PROEF_ANSWERS)
    assert len(tx_code) == 8
    assert set(tx_code) <= set(issuer.TEXT_TX_CODE_ALPHABET)
    grant = Wallet(api).offer(wallet_url)["grants"][issuer.PRE_AUTHORIZED_GRANT]
    assert grant["tx_code"]["input_mode"] == "text"


# The nonce endpoint


def test_nonce_fresh_and_uncached(proef):
    first = proef.client.post("/api/v1/issuer/nonce")
    second = proef.client.post("/api/v1/issuer/nonce")
    assert first.headers["Cache-Control"] == "no-store"
    assert first.get_json()["c_nonce"] != second.get_json()["c_nonce"]


# The credential endpoint


@pytest.fixture
def redeemed(proef) -> tuple[Wallet, str, str]:
    """A wallet with an access token for the persona step, and the session id."""
    transaction_id, wallet_url, _ = proef.start("proef", PERSONA_STEP, persona="anna")
    wallet = Wallet(proef)
    return wallet, wallet.access_token(wallet_url), transaction_id


def foreign_nonce(api: Api) -> str:
    other_key = jose.generate_key("ES256")
    claims = {"iat": api.clock.epoch, "exp": api.clock.epoch + 300, "jti": "x"}
    return jose.sign(claims, other_key, typ=issuer.C_NONCE_TYP)


def hs256_with_public_key(wallet: Wallet, nonce: str) -> str:
    import hashlib
    import hmac

    header = {
        "alg": "HS256",
        "typ": issuer.PROOF_TYP,
        "jwk": jose.public_jwk(wallet.key),
    }
    claims = {"aud": PUBLIC_URL, "iat": wallet.api.clock.epoch, "nonce": nonce}
    signing_input = (
        jose.b64url_encode(jose.dumps_json(header))
        + "."
        + jose.b64url_encode(jose.dumps_json(claims))
    )
    secret = json.dumps(jose.public_jwk(wallet.key)).encode()
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + jose.b64url_encode(signature)


def unsigned(wallet: Wallet, nonce: str) -> str:
    header = {
        "alg": "none",
        "typ": issuer.PROOF_TYP,
        "jwk": jose.public_jwk(wallet.key),
    }
    claims = {"aud": PUBLIC_URL, "iat": wallet.api.clock.epoch, "nonce": nonce}
    parts = [jose.b64url_encode(jose.dumps_json(part)) for part in (header, claims)]
    return ".".join(parts) + "."


def with_private_jwk(wallet: Wallet, nonce: str) -> str:
    header = {
        "alg": "ES256",
        "typ": issuer.PROOF_TYP,
        "jwk": wallet.key.as_dict(private=True),
    }
    claims = {"aud": PUBLIC_URL, "iat": wallet.api.clock.epoch, "nonce": nonce}
    from joserfc import jws

    return jws.serialize_compact(header, jose.dumps_json(claims), wallet.key)


PROOF_CASES = {
    "wrong aud": (
        lambda w, n: w.proof(n, claims={"aud": "https://ander.example"}),
        "invalid_proof",
        "key proof aud is 'https://ander.example'; expected the credential issuer "
        "'https://api.proef.example'",
    ),
    "wrong typ": (
        lambda w, n: w.proof(n, typ="JWT"),
        "invalid_proof",
        "key proof is invalid: header typ is 'JWT'; expected 'openid4vci-proof+jwt'",
    ),
    "alg none": (
        unsigned,
        "invalid_proof",
        "key proof is invalid: alg 'none' marks an unsigned token, which is "
        "never accepted",
    ),
    "HS256 with the public key": (
        hs256_with_public_key,
        "invalid_proof",
        "key proof is invalid: alg 'HS256' is an HMAC shared-secret algorithm; "
        "tokens from a public-key signer are never verified with HMAC",
    ),
    "private key in jwk": (
        with_private_jwk,
        "invalid_proof",
        "key proof is invalid: header jwk is invalid: JWK contains the private "
        "member 'd' where a public key is expected; send the public key only",
    ),
    "stale iat": (
        lambda w, n: w.proof(n, claims={"iat": w.api.clock.epoch - 301}),
        "invalid_proof",
        "key proof iat is 301 s old, more than the 300 s allowed; sign a new "
        "proof with a fresh c_nonce",
    ),
    "iat in the future": (
        lambda w, n: w.proof(n, claims={"iat": w.api.clock.epoch + 120}),
        "invalid_proof",
        "key proof is invalid: token was issued at 1772366520 "
        "(2026-03-01T12:02:00+00:00), 120 s after now",
    ),
    "no iat": (
        lambda w, n: w.proof(n, claims={"iat": None}),
        "invalid_proof",
        "key proof is invalid: claim 'iat' is missing",
    ),
    "no nonce": (
        lambda w, n: w.proof(None),
        "invalid_proof",
        "key proof nonce is None; get a c_nonce from the nonce endpoint and put "
        "it in the proof's nonce claim",
    ),
    "nonce of another issuer": (
        lambda w, n: w.proof(foreign_nonce(w.api)),
        "invalid_nonce",
        "key proof nonce is not a valid c_nonce of this issuer (no trusted key "
        "has kid ",
    ),
    "made-up nonce": (
        lambda w, n: w.proof("abc"),
        "invalid_nonce",
        "key proof nonce is not a valid c_nonce of this issuer (token has 1 "
        "dot-separated parts; a compact JWS has 3); get a new one from the "
        "nonce endpoint",
    ),
    "kid instead of jwk": (
        lambda w, n: w.proof(n, headers={"kid": "sleutel-1"}),
        "invalid_proof",
        "key proof has no 'jwk' header; put the holder's public key there, "
        "because this issuer resolves no kid or x5c",
    ),
    "kid next to jwk": (
        lambda w, n: w.proof(n, headers={"jwk": jose.public_jwk(w.key), "kid": "1"}),
        "invalid_proof",
        "key proof has kid next to jwk; OpenID4VCI 1.0 allows only one of them, "
        "so remove it",
    ),
    "signed by another key": (
        lambda w, n: w.proof(n, key=jose.generate_key("ES256")),
        "invalid_proof",
        "key proof is invalid: signature does not verify with the trusted key(s) ",
    ),
    "not a JWT": (
        lambda w, n: "kapot",
        "invalid_proof",
        "key proof is invalid: token has 1 dot-separated parts; a compact JWS has 3",
    ),
}


@pytest.mark.parametrize("case", PROOF_CASES)
def test_bad_proof_rejected(proef, redeemed, case):
    wallet, access_token, transaction_id = redeemed
    make_proof, error, description = PROOF_CASES[case]
    proof = make_proof(wallet, wallet.c_nonce())
    response = wallet.request(access_token, "leeftijd", proof)
    status, got_error, got_description = error_of(response)
    assert (status, got_error) == (400, error)
    assert got_description.startswith(description)
    assert proef.issued(transaction_id) == []


def test_nonce_replay_invalid_nonce(proef, redeemed):
    wallet, access_token, _ = redeemed
    nonce = wallet.c_nonce()
    assert (
        wallet.request(access_token, "leeftijd", wallet.proof(nonce)).status_code == 200
    )
    response = wallet.request(access_token, "woonadres", wallet.proof(nonce))
    assert error_of(response) == (
        400,
        "invalid_nonce",
        "key proof nonce was used before; get a new c_nonce from the nonce endpoint",
    )


def test_expired_nonce_invalid_nonce(tmp_path):
    steps = proef_steps(tmp_path)
    flow = steps / "proef" / "flow.yaml"
    text = flow.read_text(encoding="utf-8")
    flow.write_text(
        text.replace("    next: klaar\n", "      expires_in: 900\n    next: klaar\n")
    )
    api = build_api(tmp_path, steps)
    _, wallet_url, _ = api.start("proef", PERSONA_STEP, persona="anna")
    wallet = Wallet(api)
    nonce = wallet.c_nonce()
    api.clock.advance(250)
    access_token = wallet.access_token(wallet_url)
    api.clock.advance(120)
    response = wallet.request(access_token, "leeftijd", wallet.proof(nonce))
    status, error, description = error_of(response)
    assert (status, error) == (400, "invalid_nonce")
    assert "token expired at" in description


@pytest.mark.parametrize(
    ("body", "error", "description"),
    [
        (
            [],
            "invalid_credential_request",
            "the body must be a JSON object with credential_configuration_id and "
            "proofs",
        ),
        (
            {"credential_identifier": "x", "proofs": {"jwt": ["x"]}},
            "invalid_credential_request",
            "credential_identifier is not supported, because the token response "
            "names no credential identifiers; send credential_configuration_id",
        ),
        (
            {"proofs": {"jwt": ["x"]}},
            "invalid_credential_request",
            "credential_configuration_id is missing; use an id from the offer's "
            "credential_configuration_ids",
        ),
        (
            {"credential_configuration_id": "leeftijd"},
            "invalid_proof",
            "proofs must be an object with one member 'jwt', a list of key proof JWTs",
        ),
        (
            {"credential_configuration_id": "leeftijd", "proof": {"jwt": "x"}},
            "invalid_proof",
            "the singular 'proof' of earlier drafts is not supported; send "
            "'proofs': {'jwt': [<key proof JWT>]}",
        ),
        (
            {"credential_configuration_id": "leeftijd", "proofs": {"jwt": ["a", "b"]}},
            "invalid_proof",
            "proofs.jwt must contain exactly one key proof JWT; this issuer "
            "issues one credential per request",
        ),
        (
            {
                "credential_configuration_id": "leeftijd",
                "proofs": {"jwt": ["x"]},
                "credential_response_encryption": {"enc": "A128GCM"},
            },
            "invalid_encryption_parameters",
            "this issuer does not encrypt credential responses; leave "
            "credential_response_encryption out",
        ),
    ],
)
def test_credential_request_rejected(redeemed, body, error, description):
    wallet, access_token, _ = redeemed
    response = wallet.credential_response(access_token, body)
    assert error_of(response) == (400, error, description)


def test_unknown_configuration(redeemed):
    wallet, access_token, _ = redeemed
    response = wallet.request(access_token, "inkomen")
    assert error_of(response) == (
        400,
        "unknown_credential_configuration",
        "credential configuration 'inkomen' is not in this session's offer; the "
        "offer has leeftijd, woonadres",
    )


def test_configuration_issued_once(redeemed):
    wallet, access_token, _ = redeemed
    assert wallet.request(access_token, "leeftijd").status_code == 200
    response = wallet.request(access_token, "leeftijd")
    assert error_of(response) == (
        400,
        "credential_request_denied",
        "credential configuration 'leeftijd' was already issued in this "
        "session; each is issued once",
    )


def test_token_of_session_a_not_for_session_b(proef):
    _, answers_url, tx_code = proef.start("proef", ANSWERS_STEP, answers=PROEF_ANSWERS)
    _, persona_url, _ = proef.start("proef", PERSONA_STEP, persona="anna")
    wallet = Wallet(proef)
    token_a = wallet.access_token(answers_url, tx_code)
    wallet.access_token(persona_url)
    response = wallet.request(token_a, "leeftijd")
    assert error_of(response)[:2] == (400, "unknown_credential_configuration")


def test_tokens_carry_their_own_values(vil):
    _, sanne_url, _ = vil.start("vil", VIL_STEP, persona="sanne")
    _, jeroen_url, _ = vil.start("vil", VIL_STEP, persona="jeroen")
    wallet = Wallet(vil)
    sanne_token = wallet.access_token(sanne_url)
    wallet.access_token(jeroen_url)
    issued = wallet.request(sanne_token, "inkomen").get_json()["credentials"][0]
    verified = verify(vil, wallet, issued["credential"], VIL_ISSUER)
    assert verified.claims["netto_per_maand"] == 1290.0


def test_token_after_session_issued_401(proef):
    _, wallet_url, _ = proef.start("proef", PERSONA_STEP, persona="anna")
    wallet = Wallet(proef)
    access_token = wallet.access_token(wallet_url)
    for configuration_id in ("leeftijd", "woonadres"):
        assert wallet.request(access_token, configuration_id).status_code == 200
    response = wallet.request(access_token, "leeftijd")
    assert error_of(response) == (
        401,
        "invalid_token",
        "the access token is no longer valid (the session is issued); scan a new "
        "QR code on the page",
    )


@pytest.mark.parametrize(
    "header", [None, "Basic dGVzdDp0ZXN0", "Bearer", "Bearer onbekend"]
)
def test_bad_authorization_401(proef, header):
    headers = {} if header is None else {"Authorization": header}
    response = proef.client.post("/api/v1/issuer/credential", json={}, headers=headers)
    status, error, _ = error_of(response)
    assert (status, error) == (401, "invalid_token")
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_expired_access_token_401(proef, redeemed):
    wallet, access_token, _ = redeemed
    proef.clock.advance(issuer.ACCESS_TOKEN_LIFETIME)
    status, error, _ = error_of(wallet.request(access_token, "leeftijd"))
    assert (status, error) == (401, "invalid_token")


def test_rejection_logged_with_session_label(proef, redeemed, caplog):
    wallet, access_token, transaction_id = redeemed
    with caplog.at_level(logging.WARNING, logger="stappen.issuer"):
        wallet.request(access_token, "leeftijd", wallet.proof(None))
    label = repr(transaction_id[:6] + "...")
    assert (
        f"Rejected a request to issuer.credential for session {label}: "
        "invalid_proof: key proof nonce is None"
    ) in caplog.text
    assert access_token not in caplog.text


def test_rejection_recorded_as_evidence(proef, redeemed):
    wallet, access_token, transaction_id = redeemed
    wallet.request(access_token, "leeftijd", wallet.proof(None))
    with proef.store.connection() as db:
        rejected = [
            e for e in db.evidence_for(transaction_id) if e["kind"] == "issuer.rejected"
        ]
    assert rejected[0]["data"]["error"] == "invalid_proof"
    assert rejected[0]["data"]["endpoint"] == "issuer.credential"


# The status list and revocation


def test_status_list_token(vil):
    transaction_id, wallet_url, _ = vil.start("vil", VIL_STEP, persona="sanne")
    Wallet(vil).receive(wallet_url)
    response = vil.client.get("/api/v1/status-lists/1")
    assert response.mimetype == "application/statuslist+jwt"
    assert response.headers["Cache-Control"] == "max-age=300"
    keys = apiconfig.issuer_jwks(vil.app, (VIL_ISSUER,))[VIL_ISSUER]
    _, claims = jose.verify(response.get_data(as_text=True), keys, typ="statuslist+jwt")
    assert claims["sub"] == PUBLIC_URL + "/api/v1/status-lists/1"
    assert claims["ttl"] == 300
    entries = statuslist.StatusList.decode(claims["status_list"])
    assert entries.bits == 2
    assert len(entries) == issuer.STATUS_LIST_SIZE
    assert [entries.get(i) for i in range(7)] == [statuslist.VALID] * 7


def test_unknown_status_list_404(vil):
    response = vil.client.get("/api/v1/status-lists/2")
    assert error_of(response)[:2] == (404, "not_found")


def test_revocation_shows_in_status_list(vil):
    transaction_id, wallet_url, _ = vil.start("vil", VIL_STEP, persona="sanne")
    wallet = Wallet(vil)
    received = wallet.receive(wallet_url)
    [record] = [r for r in vil.issued(transaction_id) if r["vct"].endswith("vermogen")]

    result = vil.app.test_cli_runner().invoke(
        args=["credentials", "revoke", record["credential_id"]]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Revoked credential {record['credential_id']} (urn:stappen:vil:vermogen): "
        f"status list 1, index {record['status_index']} is now INVALID\n"
    )

    with pytest.raises(sdjwt.PresentationRejected) as rejected:
        verify(vil, wallet, received["vermogen"], VIL_ISSUER)
    assert rejected.value.failed.name == "status"
    assert rejected.value.failed.reason.startswith("credential is revoked")
    assert (
        verify(vil, wallet, received["inkomen"], VIL_ISSUER).claims["bron"] == "pilot"
    )


def test_revoke_function(vil):
    transaction_id, wallet_url, _ = vil.start("vil", VIL_STEP, persona="sanne")
    Wallet(vil).receive(wallet_url)
    record = vil.issued(transaction_id)[0]
    assert issuer.revoke(vil.store, record["credential_id"])["vct"] == record["vct"]
    with vil.store.connection() as db:
        assert db.status_values("1")[record["status_index"]] == statuslist.INVALID


def test_revoke_unknown_id(vil):
    result = vil.app.test_cli_runner().invoke(
        args=["credentials", "revoke", "onbekend"]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: credential 'onbekend' not found among the issued credentials; "
        "take the id from the issuer.credential_issued evidence of its session\n"
    )
    with pytest.raises(issuer.CredentialNotFound):
        issuer.revoke(vil.store, "onbekend")


# Over a real HTTP server


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


class Http:
    """A tiny HTTP client that never uses a proxy, for the loopback server."""

    def __init__(self) -> None:
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, url, *, data=None, headers=None, method=None) -> tuple[int, bytes]:
        request = urllib.request.Request(
            url, data=data, headers=headers or {}, method=method
        )
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def json(self, url, **options) -> dict:
        status, body = self.call(url, **options)
        assert status in (200, 201), body
        return json.loads(body)

    def post_json(self, url, document, headers=None) -> dict:
        headers = {"Content-Type": "application/json", **(headers or {})}
        return self.json(url, data=json.dumps(document).encode(), headers=headers)

    def post_form(self, url, fields) -> dict:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.json(url, data=urlencode(fields).encode(), headers=headers)


def test_persona_flow_over_http(vil):
    http = Http()
    wallet = Wallet(vil)
    with serve(vil.app) as base:
        vil.app.config["PUBLIC_URL"] = base
        created = http.post_json(
            base + "/api/v1/wallet-sessions",
            {"flow": "vil", "step": VIL_STEP, "persona": "kees"},
        )
        offer = http.json(offer_uri(created["wallet_url"]))
        issuer_id = offer["credential_issuer"]
        metadata = http.json(issuer_id + "/.well-known/openid-credential-issuer")
        server = http.json(issuer_id + "/.well-known/oauth-authorization-server")
        grant = offer["grants"][issuer.PRE_AUTHORIZED_GRANT]
        token = http.post_form(
            server["token_endpoint"],
            {
                "grant_type": issuer.PRE_AUTHORIZED_GRANT,
                "pre-authorized_code": grant["pre-authorized_code"],
            },
        )
        c_nonce = http.json(metadata["nonce_endpoint"], data=b"")["c_nonce"]
        proof = wallet.proof(c_nonce, claims={"aud": issuer_id})
        answer = http.post_json(
            metadata["credential_endpoint"],
            {"credential_configuration_id": "leeftijd", "proofs": {"jwt": [proof]}},
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
        credential = answer["credentials"][0]["credential"]
        keys = apiconfig.issuer_jwks(vil.app, (VIL_ISSUER,))

        def fetch(uri: str) -> str:
            status, body = http.call(uri)
            assert status == 200
            return body.decode("ascii")

        verified = sdjwt.verify_presentation(
            wallet.present(credential),
            trusted=sdjwt.TrustedIssuers(keys),
            nonce="verifier-nonce",
            aud=VERIFIER,
            now=vil.clock.epoch,
            status_check=lambda claim: statuslist.check_status(
                claim, fetch, keys[VIL_ISSUER], vil.clock.epoch
            ),
        )

    assert issuer_id == base
    assert verified.claims["aow_leeftijd_bereikt"] is True
    assert verified.checks[-1].reason.startswith("credential is valid")
