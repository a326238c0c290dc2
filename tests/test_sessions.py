"""The citizen's page's wallet session endpoints: create, status, result, cancel.

The app runs through its test client on a SQLite file; tests that take
``database_url`` run on PostgreSQL too.
"""

from __future__ import annotations

import time

import pytest

from stappen.api import MAX_BODY_BYTES
from tests.apiharness import (
    ENCRYPTED_STEP,
    FLOW,
    ISSUE_STEP,
    PERSONA,
    PLAIN_STEP,
    SITE,
    Wallet,
    make_api,
    request_path,
)

SESSIONS = "/api/v1/wallet-sessions"


@pytest.fixture
def api(tmp_path):
    return make_api(tmp_path)


@pytest.fixture
def any_db_api(tmp_path, database_url):
    """The app on SQLite and then on PostgreSQL."""
    return make_api(tmp_path, database_url)


def verify(api, created):
    """Play the wallet through a successful presentation."""
    wallet = Wallet(api.clock)
    request = api.fetch_request(created)
    presentation = wallet.present(wallet.credential(api.issuer_key), request)
    response = api.respond(request, wallet.form(request, {"inkomen": [presentation]}))
    assert response.status_code == 200


# Creating a session


def test_create_returns_session(api):
    response = api.client.post(SESSIONS, json={"flow": FLOW, "step": PLAIN_STEP})
    created = response.get_json()

    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert set(created) == {
        "transaction_id",
        "wallet_url",
        "qr_svg",
        "expires_at",
        "poll_after_ms",
    }
    assert len(created["transaction_id"]) >= 43
    assert created["wallet_url"].startswith("openid4vp://?client_id=x509_hash%3A")
    assert created["expires_at"] == api.clock.epoch + 300
    assert created["poll_after_ms"] == 1000


def test_create_stores_session(api):
    created = api.start(lang="en")
    session = api.session(created["transaction_id"])

    assert session["flow"] == FLOW
    assert session["step"] == PLAIN_STEP
    assert session["purpose"] == "present"
    assert session["state"] == "created"
    assert session["data"]["lang"] == "en"
    assert session["data"]["response_mode"] == "direct_post"


def test_create_uses_step_lifetime(api):
    created = api.start(ENCRYPTED_STEP)
    assert created["expires_at"] == api.clock.epoch + 600


def test_ids_differ_per_session(api):
    first, second = api.start(), api.start()
    assert first["transaction_id"] != second["transaction_id"]
    assert first["wallet_url"] != second["wallet_url"]


@pytest.mark.parametrize(
    "lang, label",
    [
        ("nl", "QR-code: scan deze met uw wallet-app om uw gegevens te delen"),
        ("en", "QR code: scan it with your wallet app to share your data"),
    ],
)
def test_qr_label_by_language(api, lang, label):
    created = api.start(lang=lang)
    assert created["qr_svg"].startswith("<svg")
    assert f'aria-label="{label}"' in created["qr_svg"]


def test_qr_label_defaults_to_flow_language(api):
    created = api.start()
    assert 'aria-label="QR-code:' in created["qr_svg"]


@pytest.mark.parametrize(
    "send, reason",
    [
        ({"data": "{", "content_type": "application/json"}, "not valid JSON"),
        ({"data": b"\xff", "content_type": "application/json"}, "not valid JSON"),
        ({"data": '{"a": 1, "a": 2}', "content_type": "application/json"}, "twice"),
        ({"data": "", "content_type": "application/json"}, "not valid JSON"),
        ({"data": "flow=proef", "content_type": "text/plain"}, "application/json"),
        ({"data": "flow=proef"}, "application/json"),
        ({"json": ["proef", "delen"]}, "JSON object"),
        ({"json": {"flow": FLOW}}, "flow and step are required"),
        ({"json": {"flow": 1, "step": PLAIN_STEP}}, "flow and step are required"),
        ({"json": {"flow": "onbekend", "step": PLAIN_STEP}}, "flow 'onbekend'"),
        ({"json": {"flow": FLOW, "step": "onbekend"}}, "no step 'onbekend'"),
        ({"json": {"flow": FLOW, "step": "klaar"}}, "is a outcome step"),
        ({"json": {"flow": FLOW, "step": PLAIN_STEP, "lang": "de"}}, "lang 'de'"),
        ({"json": {"flow": FLOW, "step": PLAIN_STEP, "lang": ["nl"]}}, "lang ["),
        ({"json": {"flow": FLOW, "step": PLAIN_STEP, "colour": 1}}, "fields 'colour'"),
        ({"json": {"flow": FLOW, "step": PLAIN_STEP, "persona": 1}}, "persona"),
        ({"json": {"flow": FLOW, "step": PLAIN_STEP, "answers": []}}, "answers"),
    ],
)
def test_create_rejects_bad_input(api, send, reason):
    response = api.client.post(SESSIONS, **send)

    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
    assert reason in response.get_json()["message"]


def test_create_oversized_413(api):
    body = '{"flow": "' + "x" * MAX_BODY_BYTES + '"}'
    response = api.client.post(SESSIONS, data=body, content_type="application/json")
    assert response.status_code == 413


def test_issue_session_created(api):
    created = api.start(ISSUE_STEP, persona=PERSONA)
    session = api.session(created["transaction_id"])

    assert created["wallet_url"].startswith("openid-credential-offer://")
    assert len(created["tx_code"]) == 6
    assert (
        'aria-label="QR-code: scan deze met uw wallet-app om uw gegevens op'
        in (created["qr_svg"])
    )
    assert session["purpose"] == "issue"
    assert session["state"] == "created"
    assert "tx_code" not in session["data"]


def test_issue_session_not_a_verifier_request(api):
    created = api.start(ISSUE_STEP, persona=PERSONA)
    offer_id = created["wallet_url"].rsplit("%2F", 1)[1]

    response = api.client.get(f"/api/v1/verifier/requests/{offer_id}")

    assert response.status_code == 404


# Status and polling


def test_status_of_new_session(any_db_api):
    api = any_db_api
    created = api.start()

    response = api.status(created["transaction_id"])

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {
        "status": "created",
        "expires_at": created["expires_at"],
    }


def test_poll_too_fast_429(any_db_api):
    api = any_db_api
    created = api.start()
    assert api.status(created["transaction_id"]).status_code == 200
    api.clock.advance(0.3)

    response = api.client.get(f"{SESSIONS}/{created['transaction_id']}/status")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response.get_json()["error"] == "too_many_requests"
    assert "700 ms" in response.get_json()["message"]


def test_poll_after_interval_allowed(api):
    created = api.start()
    path = f"{SESSIONS}/{created['transaction_id']}/status"
    assert api.client.get(path).status_code == 200

    api.clock.advance(0.999)
    early = api.client.get(path)
    api.clock.advance(0.001)
    on_time = api.client.get(path)

    assert early.status_code == 429
    assert on_time.status_code == 200


def test_status_on_the_system_clock(tmp_path):
    api = make_api(tmp_path, STAPPEN_CLOCK=None)
    before = time.time()
    created = api.client.post(SESSIONS, json={"flow": FLOW, "step": PLAIN_STEP})
    transaction_id = created.get_json()["transaction_id"]

    first = api.client.get(f"{SESSIONS}/{transaction_id}/status")
    second = api.client.get(f"{SESSIONS}/{transaction_id}/status")

    assert first.status_code == 200
    assert first.get_json()["status"] == "created"
    assert first.get_json()["expires_at"] > before
    assert second.status_code == 429


def test_expired_on_read(any_db_api):
    api = any_db_api
    created = api.start()
    api.clock.advance(298)
    before = api.status(created["transaction_id"]).get_json()["status"]

    after = api.status(created["transaction_id"]).get_json()["status"]
    expiry = [
        e for e in api.events(created["transaction_id"]) if e["to_state"] == "expired"
    ]

    assert before == "created"
    assert after == "expired"
    assert len(expiry) == 1
    assert expiry[0]["detail"] == {"reason": "expired"}


def test_expired_after_request_fetched(api):
    created = api.start()
    api.fetch_request(created)
    api.clock.advance(400)

    status = api.status(created["transaction_id"]).get_json()["status"]

    assert status == "expired"


def test_status_follows_state_change(any_db_api):
    api = any_db_api
    created = api.start()
    before = api.status(created["transaction_id"]).get_json()["status"]

    api.fetch_request(created)
    after = api.status(created["transaction_id"]).get_json()["status"]

    assert before == "created"
    assert after == "request_retrieved"


def test_status_sees_other_host_change_within_ttl(any_db_api):
    from stappen.storage import StoreConnection

    api = any_db_api
    created = api.start()
    transaction_id = created["transaction_id"]
    api.status(transaction_id)

    # A connection without this host's table, as on another API host.
    store = api.app.extensions["stappen.storage"]
    with StoreConnection(store.backend, store.backend.connect()) as elsewhere:
        elsewhere.transition(
            transaction_id,
            from_states={"created"},
            to="cancelled",
            now=api.clock.now,
        )
    soon = api.status(transaction_id).get_json()["status"]
    api.clock.advance(store.poll_times.state_ttl_ms / 1000)
    later = api.status(transaction_id).get_json()["status"]

    assert soon == "created"
    assert later == "cancelled"


# Unknown ids


@pytest.mark.parametrize(
    "method, suffix",
    [("GET", "/status"), ("GET", "/result"), ("DELETE", "")],
)
def test_unknown_ids_look_alike(api, method, suffix):
    created = api.start()
    real = created["transaction_id"]
    wrong = real[:-1] + ("A" if real[-1] != "A" else "B")

    responses = [
        api.client.open(f"{SESSIONS}/{transaction_id}{suffix}", method=method)
        for transaction_id in (wrong, "x", "0" * 43)
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert responses[0].get_data() == responses[1].get_data()
    assert responses[1].get_data() == responses[2].get_data()


# Results


def test_result_before_end_409(api):
    created = api.start()

    response = api.result(created["transaction_id"])

    assert response.status_code == 409
    assert "'created'" in response.get_json()["message"]


def test_result_only_once(any_db_api):
    api = any_db_api
    created = api.start()
    verify(api, created)

    first = api.result(created["transaction_id"])
    second = api.result(created["transaction_id"])

    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "no-store"
    assert first.get_json()["status"] == "verified"
    assert second.status_code == 404
    assert "taken before" in second.get_json()["message"]


def test_result_erased_after_taking(api):
    created = api.start()
    verify(api, created)
    api.result(created["transaction_id"])

    session = api.session(created["transaction_id"])

    assert session["result"] is None
    assert session["result_taken_at"] == api.clock.now


def test_result_of_expired_404(api):
    created = api.start()
    api.clock.advance(301)

    response = api.result(created["transaction_id"])

    assert response.status_code == 404
    assert "'expired'" in response.get_json()["message"]


# Cancelling


def test_cancel_session(api):
    created = api.start()

    response = api.client.delete(f"{SESSIONS}/{created['transaction_id']}")
    status = api.status(created["transaction_id"]).get_json()["status"]

    assert response.status_code == 200
    assert response.get_json() == {"status": "cancelled"}
    assert status == "cancelled"


def test_cancel_twice_409(api):
    created = api.start()
    api.client.delete(f"{SESSIONS}/{created['transaction_id']}")

    again = api.client.delete(f"{SESSIONS}/{created['transaction_id']}")

    assert again.status_code == 409
    assert "'cancelled'" in again.get_json()["message"]


def test_cancel_verified_409(api):
    created = api.start()
    verify(api, created)

    response = api.client.delete(f"{SESSIONS}/{created['transaction_id']}")

    assert response.status_code == 409
    assert api.session(created["transaction_id"])["state"] == "verified"


def test_cancel_stops_wallet(api):
    wallet = Wallet(api.clock)
    created = api.start()
    request = api.fetch_request(created)
    api.client.delete(f"{SESSIONS}/{created['transaction_id']}")
    presentation = wallet.present(wallet.credential(api.issuer_key), request)

    response = api.respond(request, wallet.form(request, {"inkomen": [presentation]}))

    assert response.status_code == 400
    assert api.session(created["transaction_id"])["state"] == "cancelled"


def test_cancel_before_fetch_hides_request(api):
    created = api.start()
    api.client.delete(f"{SESSIONS}/{created['transaction_id']}")

    response = api.client.get(request_path(created))

    assert response.status_code == 404


# CORS


def test_cors_for_site_origin(api):
    response = api.client.post(
        SESSIONS, json={"flow": FLOW, "step": PLAIN_STEP}, headers={"Origin": SITE}
    )
    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == SITE


def test_cors_not_for_other_origin(api):
    response = api.client.post(
        SESSIONS,
        json={"flow": FLOW, "step": PLAIN_STEP},
        headers={"Origin": "https://elders.example"},
    )
    assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.parametrize(
    "origin, allowed",
    [(SITE, True), ("https://elders.example", False), ("null", False)],
)
def test_cors_preflight(api, origin, allowed):
    created = api.start()
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "DELETE",
    }

    response = api.client.options(
        f"{SESSIONS}/{created['transaction_id']}", headers=headers
    )

    assert response.status_code == 200
    assert ("Access-Control-Allow-Origin" in response.headers) is allowed
    if allowed:
        assert "DELETE" in response.headers["Access-Control-Allow-Methods"]
