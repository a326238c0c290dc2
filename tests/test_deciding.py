"""The citizen's decision endpoints, on the VIL flow's decision step.

Applications are stored and decided through the storage layer, as the
application endpoint and the consultant's review do. The project's test
wallet (stappen.wallet) collects the decision credential from the real
pilot issuer, through the app's test client, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from stappen import apiconfig, audit, jose
from stappen.errors import Problems
from stappen.flows import load_flow
from stappen.storage.applications import secret_hash
from stappen.wallet import Holder, Wallet
from tests.apiharness import SITE, make_api
from tests.conftest import PROJECT
from tests.test_applications_storage import new_application
from tests.test_applying import _apply as _redeem
from tests.test_applying import _get_voucher, _present_voucher, e2e
from tests.test_wallet import E2E_PUBLIC_URL, flask_transport

APPLICATIONS = "/api/v1/applications"
SECRET = "geheim-" + "x" * 36
DECIDED_AT = datetime(2026, 9, 14, 22, 30, tzinfo=UTC)
"""Late on 14 September in UTC, which is 15 September in Utrecht."""
VOUCHER = {
    "regeling": "Individuele inkomenstoeslag",
    "uitkomst": "eligible",
    "bedrag": "264",
    "besluit_id": "41",
    "regels_sha256": "ab" * 32,
    "regels_versie": "2026-2",
}
MOTIVATION = "Uw inkomen en vermogen vallen binnen de grenzen."

__all__ = ["e2e"]


@pytest.fixture
def api(tmp_path, database_url):
    api = make_api(tmp_path / "api", database_url, PUBLIC_URL=E2E_PUBLIC_URL)
    # Only the VIL flow: the harness's own flow offers another credential
    # with the id 'inkomen', which the issuer metadata cannot publish twice.
    flows = api.app.extensions["stappen.flows"]
    flows.clear()
    flows["vil"] = load_flow(PROJECT / "steps" / "vil", Problems())
    api.clock.now = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
    return api


def _holder(api, tmp_path) -> Holder:
    path = tmp_path / "wallet.json"
    Wallet.create(path)
    return Holder(
        path,
        transport=flask_transport(api.app),
        clock=lambda: api.clock.epoch,
        sleep=api.clock.advance,
    )


def _apply(api, reference: str = "VIL-7K3M-Q9TX") -> str:
    """Store a submitted application of the VIL flow; return its id."""
    new = new_application(
        id=uuid.uuid4().hex,
        reference=reference,
        secret_hash=secret_hash(SECRET),
        presentation_session=uuid.uuid4().hex,
        record={"version": 1, "voucher": VOUCHER},
    )
    with api.db() as db:
        db.create_application(new, now=api.clock.now)
    return new.id


def _decide(api, application_id: str, outcome: str = "granted") -> None:
    amount = "264" if outcome == "granted" else None
    with api.db() as db:
        decided = db.decide_application(
            application_id,
            outcome=outcome,
            motivation=MOTIVATION,
            amount=amount,
            consultant="consultant-1",
            now=DECIDED_AT,
        )
    assert decided


def _status(api, reference="VIL-7K3M-Q9TX", secret=SECRET, **headers):
    headers.setdefault("Authorization", f"Bearer {secret}")
    return api.client.get(f"{APPLICATIONS}/{reference}", headers=headers)


def _offer(api, reference="VIL-7K3M-Q9TX", secret=SECRET, lang="nl"):
    return api.client.post(
        f"{APPLICATIONS}/{reference}/decision-offer",
        json={"lang": lang},
        headers={"Authorization": f"Bearer {secret}"},
    )


def _events(api, kind: str) -> list:
    with api.db() as db:
        return [event for event in audit.read_events(db) if event.kind == kind]


def test_status_typed_reference(api):
    _apply(api)
    response = _status(api, reference="vil 7k3m q9tx")

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["reference"] == "VIL-7K3M-Q9TX"


def test_status_submitted(api):
    _apply(api)
    response = _status(api)
    body = response.get_json()

    assert response.status_code == 200, body
    assert body["reference"] == "VIL-7K3M-Q9TX"
    assert body["status"] == "submitted"
    assert body["scheme"] == "Individuele inkomenstoeslag"
    assert body["submitted_at"] == "2026-09-01T12:00:00Z"
    assert body["decision"] is None
    assert response.headers["Cache-Control"] == "no-store"


def test_status_granted(api):
    _decide(api, _apply(api))
    body = _status(api).get_json()

    assert body["status"] == "granted"
    assert body["decision"] == {
        "outcome": "granted",
        "motivation": MOTIVATION,
        "amount": "264",
        "decided_at": "2026-09-14T22:30:00Z",
        "credential_issued": False,
    }


def test_status_rejected(api):
    _decide(api, _apply(api), "rejected")
    body = _status(api).get_json()

    assert body["status"] == "rejected"
    assert body["decision"]["outcome"] == "rejected"
    assert body["decision"]["amount"] is None
    assert body["decision"]["motivation"] == MOTIVATION


def test_wrong_secret_same_as_unknown(api):
    _apply(api)
    wrong = _status(api, secret="raden")
    unknown = _status(api, reference="VIL-0000-0000")

    assert wrong.status_code == 404
    assert unknown.status_code == 404
    assert wrong.get_json() == unknown.get_json()
    assert wrong.get_data() == unknown.get_data()


@pytest.mark.parametrize("header", ["", "Basic abc", "Bearer ", SECRET])
def test_missing_bearer_unauthorized(api, header):
    _apply(api)
    response = _status(api, Authorization=header)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.get_json()["message"]


def test_offer_undecided_conflict(api):
    _apply(api)
    response = _offer(api)

    assert response.status_code == 409
    assert "not decided yet" in response.get_json()["message"]
    assert _events(api, "decision_credential.offered") == []


def test_offer_wrong_secret_not_found(api):
    _decide(api, _apply(api))

    assert _offer(api, secret="raden").status_code == 404


def test_offer_unknown_language_rejected(api):
    _decide(api, _apply(api))
    response = _offer(api, lang="fr")

    assert response.status_code == 400
    assert "lang 'fr'" in response.get_json()["message"]


def test_wallet_collects_granted_decision(api, tmp_path):
    application_id = _apply(api)
    _decide(api, application_id)
    response = _offer(api)
    offer = response.get_json()
    received = _holder(api, tmp_path).receive(offer["wallet_url"])
    [credential] = Wallet.load(tmp_path / "wallet.json").credentials
    claims = credential.claims

    assert response.status_code == 201, offer
    assert offer["wallet_url"].startswith("openid-credential-offer://")
    assert "<svg" in offer["qr_svg"]
    assert len(received) == 1
    assert credential.vct == "urn:stappen:vil:besluit"
    assert credential.issuer == "https://besluiten.vil.example"
    assert claims["referentie"] == "VIL-7K3M-Q9TX"
    assert claims["regeling"] == "Individuele inkomenstoeslag"
    assert claims["besluit"] == "toegekend"
    assert claims["bedrag"] == "264"
    assert claims["motivering"] == MOTIVATION
    assert claims["besloten_op"] == "2026-09-15"
    assert claims["gemeente"] == "utrecht"
    assert claims["regels_versie"] == "2026-2"
    assert claims["regels_sha256"] == "ab" * 32
    assert claims["voucher_id"] == "41"
    assert claims["bron"] == "pilot"
    assert claims["herkomst"] == "besluit"


def test_rejected_decision_credential(api, tmp_path):
    _decide(api, _apply(api), "rejected")
    offer = _offer(api).get_json()
    _holder(api, tmp_path).receive(offer["wallet_url"])
    [credential] = Wallet.load(tmp_path / "wallet.json").credentials

    assert credential.claims["besluit"] == "afgewezen"
    assert credential.claims["bedrag"] is None
    assert credential.claims["motivering"] == MOTIVATION


def test_collected_decision_noted(api, tmp_path):
    application_id = _apply(api)
    _decide(api, application_id)
    offered_at = api.clock.now
    offer = _offer(api).get_json()
    _holder(api, tmp_path).receive(offer["wallet_url"])
    with api.db() as db:
        decision = db.application(application_id)["decision"]
        session = db.get_session(offer["transaction_id"])
    body = _status(api).get_json()

    assert decision["credential_session"] == offer["transaction_id"]
    assert decision["credential_offered_at"] == offered_at
    assert decision["credential_issued_at"] >= offered_at
    assert session["state"] == "issued"
    assert body["decision"]["credential_issued"] is True


def test_decision_events_in_trail(api, tmp_path):
    application_id = _apply(api)
    _decide(api, application_id)
    offer = _offer(api).get_json()
    _holder(api, tmp_path).receive(offer["wallet_url"])
    offered = _events(api, "decision_credential.offered")
    issued = _events(api, "decision_credential.issued")
    session = audit.session_subject(offer["transaction_id"])
    verify = api.app.test_cli_runner().invoke(args=["audit", "verify"])

    assert len(offered) == 1
    assert offered[0].subject == application_id
    assert offered[0].actor == "citizen"
    assert '"outcome":"granted"' in offered[0].data
    assert session in offered[0].data
    assert len(issued) == 1
    assert issued[0].subject == application_id
    assert issued[0].actor == "wallet"
    assert session in issued[0].data
    assert verify.exit_code == 0, verify.output


def test_new_offer_cancels_earlier(api, tmp_path):
    application_id = _apply(api)
    _decide(api, application_id)
    first = _offer(api).get_json()
    second = _offer(api).get_json()
    _holder(api, tmp_path).receive(second["wallet_url"])
    with api.db() as db:
        earlier = db.get_session(first["transaction_id"])
        decision = db.application(application_id)["decision"]

    assert earlier["state"] == "cancelled"
    assert decision["credential_session"] == second["transaction_id"]
    assert decision["credential_issued_at"] is not None


def test_offer_again_after_collecting(api, tmp_path):
    _decide(api, _apply(api))
    first = _offer(api).get_json()
    _holder(api, tmp_path).receive(first["wallet_url"])
    again = _offer(api)

    assert again.status_code == 201
    assert again.get_json()["transaction_id"] != first["transaction_id"]


def test_cors_preflight_allows_authorization(api):
    _apply(api)
    preflight = api.client.options(
        f"{APPLICATIONS}/VIL-7K3M-Q9TX",
        headers={
            "Origin": SITE,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    response = _status(api, Origin=SITE)
    allowed = preflight.headers["Access-Control-Allow-Headers"]

    assert preflight.status_code == 200
    assert "Authorization" in [name.strip() for name in allowed.split(",")]
    assert preflight.headers["Access-Control-Allow-Origin"] == SITE
    assert response.headers["Access-Control-Allow-Origin"] == SITE


def test_cors_other_origin_not_allowed(api):
    _apply(api)
    response = _status(api, Origin="https://elders.example")

    assert "Access-Control-Allow-Origin" not in response.headers


# The whole journey: voucher, application through POST /api/v1/applications,
# a decision, and the decision credential in the same wallet.


def test_decision_after_redeemed_voucher(e2e):
    checked = _get_voucher(e2e)
    created = _redeem(e2e, _present_voucher(e2e)).get_json()
    auth = {"Authorization": f"Bearer {created['secret']}"}
    path = f"{APPLICATIONS}/{created['reference']}"
    before = e2e.client.get(path, headers=auth).get_json()
    with e2e.app.extensions["stappen.storage"].connection() as db:
        application = db.application_by_reference(created["reference"])
        db.decide_application(
            application["id"],
            outcome="granted",
            motivation=MOTIVATION,
            amount="264",
            consultant="consultant-1",
            now=e2e.clock.now,
        )
    offer = e2e.client.post(f"{path}/decision-offer", json={}, headers=auth)
    e2e.holder.receive(offer.get_json()["wallet_url"])
    wallet = Wallet.load(e2e.holder.wallet_path)
    [decision] = [c for c in wallet.credentials if c.vct == "urn:stappen:vil:besluit"]

    assert before["status"] == "submitted"
    assert before["decision"] is None
    assert offer.status_code == 201
    assert decision.claims["referentie"] == created["reference"]
    assert decision.claims["besluit"] == "toegekend"
    assert decision.claims["bedrag"] == "264"
    assert decision.claims["regeling"] == created["scheme"]
    assert decision.claims["voucher_id"] == checked["check_id"]
    assert decision.claims["regels_sha256"] == checked["rules"]["sha256"]
    assert decision.claims["regels_versie"] == "2026-2"
    assert decision.claims["gemeente"] == "utrecht"


def test_decision_issuer_trusted_as_pilot(api):
    issuer = "https://besluiten.vil.example"
    trusted = apiconfig.issuer_jwks(api.app, (issuer,))

    assert trusted[issuer] == [jose.public_jwk(api.issuer_key)]
