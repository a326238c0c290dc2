"""The audit events that the API records, on SQLite and PostgreSQL.

Each test drives the real endpoints, reads ``audit_events`` back and
asserts the exact kinds and data in order. The tests end with ``flask
audit verify`` and, where a citizen's data is involved, a search of the
event data and the captured logs for their personal values.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from datetime import UTC, datetime, timedelta

import pytest

from stappen import apiconfig, audit, jose
from stappen.errors import Problems
from stappen.flows import load_flow
from stappen.issuer import revoke
from stappen.verifier.verification import REPLAY_REASON
from tests.apiharness import ENCRYPTED_STEP, FLOW, PLAIN_STEP, Wallet, make_api
from tests.conftest import PROJECT
from tests.test_wallet import make_e2e

IN_PERIOD = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
"""A moment inside the validity period of the VIL flow's rules."""

HARNESS_PERSONAL = (r"\b1450\b",)
"""The income in the test harness's credential."""

SANNE_PERSONAL = (
    r"\b1290\b",
    r"1988-05-17",
    r"NL92TEST0000123456",
    r"S\. Testpersoon",
    r"\b1850\b",
)
"""Persona Sanne's income, birth date, bank account, account name and savings."""

PRESENT_CHECKS = [
    "format",
    "issuer trusted",
    "signature",
    "times",
    "disclosures",
    "key binding",
    "status",
]
"""The checks of one presentation, in order, before the DCQL query."""


@pytest.fixture
def api(tmp_path, database_url):
    return make_api(tmp_path, database_url)


@pytest.fixture
def wallet(api):
    return Wallet(api.clock)


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


# Reading the trail


def trail(app) -> list[audit.AuditEvent]:
    store = app.extensions["stappen.storage"]
    with store.connection() as db:
        return audit.read_events(db)


def kinds(events) -> list[str]:
    return [event.kind for event in events]


def data_of(event: audit.AuditEvent) -> dict:
    return json.loads(event.data)


def personal_of(app, event: audit.AuditEvent) -> dict | None:
    store = app.extensions["stappen.storage"]
    with store.connection() as db:
        return audit.read_personal(db, event.seq)


def assert_trail_intact(app) -> None:
    result = app.test_cli_runner().invoke(args=["audit", "verify"])

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Audit trail intact: ")


def assert_no_personal(app, caplog, patterns) -> None:
    """Assert that no event's data and no log line contains a personal value."""
    for event in trail(app):
        for pattern in patterns:
            assert not re.search(pattern, event.data), (event.kind, event.data)
    for pattern in patterns:
        assert not re.search(pattern, caplog.text), pattern


def session_events(app, transaction_id: str) -> list[audit.AuditEvent]:
    subject = audit.session_subject(transaction_id)
    return [event for event in trail(app) if event.subject == subject]


def changed(from_state: str, to: str) -> tuple[str, dict]:
    return ("wallet_session.state_changed", {"from": from_state, "to": to})


def start_and_fetch(api, step: str = PLAIN_STEP) -> tuple[dict, dict]:
    created = api.start(step)
    return created, api.fetch_request(created)


def response_bytes(api, transaction_id: str) -> int:
    [raw] = [e for e in api.evidence(transaction_id) if e["kind"] == "response"]
    return len(raw["data"])


def check_lines(api, transaction_id: str) -> list[dict]:
    evidence = api.evidence(transaction_id)
    return [e["data"] for e in evidence if e["kind"] == "check"]


# Presentations


def test_verified_presentation_events(api, wallet, logs):
    created, request = start_and_fetch(api)
    transaction_id = created["transaction_id"]
    presentation = wallet.present(wallet.credential(api.issuer_key), request)
    response = api.respond(request, wallet.form(request, {"inkomen": [presentation]}))
    events = trail(api.app)
    lines = check_lines(api, transaction_id)

    assert response.status_code == 200, response.get_json()
    assert kinds(events) == [
        "wallet_session.created",
        "wallet_session.state_changed",
        "wallet_session.state_changed",
        "presentation.received",
        *["check.result"] * (len(PRESENT_CHECKS) + 1),
        "wallet_session.state_changed",
    ]
    assert data_of(events[0]) == {
        "flow": FLOW,
        "step": PLAIN_STEP,
        "purpose": "present",
        "response_mode": "direct_post",
    }
    assert data_of(events[1]) == changed("created", "request_retrieved")[1]
    assert data_of(events[2]) == changed("request_retrieved", "submitted")[1]
    assert data_of(events[3]) == {
        "response_mode": "direct_post",
        "bytes": response_bytes(api, transaction_id),
        "verified": True,
        "error": None,
    }
    assert [data_of(event) for event in events[4:-1]] == lines
    assert [line["check"] for line in lines] == [*PRESENT_CHECKS, "query"]
    assert all(event.personal_digest is None for event in events)
    assert data_of(events[-1]) == changed("submitted", "verified")[1]
    assert_trail_intact(api.app)
    assert_no_personal(api.app, logs, HARNESS_PERSONAL)


def test_events_name_session_by_digest(api):
    created, _ = start_and_fetch(api)
    transaction_id = created["transaction_id"]
    events = trail(api.app)
    subject = audit.session_subject(transaction_id)

    assert [event.subject for event in events] == [subject, subject]
    assert [event.actor for event in events] == ["citizen", "wallet"]
    assert re.fullmatch(r"wallet-session:[0-9a-f]{32}", subject)
    assert transaction_id not in subject
    for event in events:
        assert transaction_id not in event.data
        assert transaction_id[:6] not in event.data


def test_encrypted_response_mode_recorded(api):
    created, request = start_and_fetch(api, ENCRYPTED_STEP)
    events = session_events(api.app, created["transaction_id"])

    assert data_of(events[0])["response_mode"] == "direct_post.jwt"
    assert request["nonce"] not in events[0].data
    assert request["state"] not in events[0].data


def test_tampered_disclosure_events(api, wallet, logs):
    created, request = start_and_fetch(api)
    transaction_id = created["transaction_id"]
    parts = wallet.present(wallet.credential(api.issuer_key), request).split("~")
    salt, name, _ = json.loads(jose.b64url_decode(parts[1]))
    parts[1] = jose.b64url_encode(jose.dumps_json([salt + "x", name, 1450]))
    form = wallet.form(request, {"inkomen": ["~".join(parts)]})

    response = api.respond(request, form)
    events = trail(api.app)
    checks = [event for event in events if event.kind == "check.result"]
    lines = check_lines(api, transaction_id)

    assert response.status_code == 400
    assert kinds(events) == [
        "wallet_session.created",
        "wallet_session.state_changed",
        "wallet_session.state_changed",
        "presentation.received",
        *["check.result"] * 5,
        "wallet_session.state_changed",
    ]
    assert data_of(events[3])["verified"] is False
    assert [data_of(event)["check"] for event in checks] == PRESENT_CHECKS[:5]
    assert [data_of(event) for event in checks[:4]] == lines[:4]
    assert data_of(checks[4]) == {
        "credential": "inkomen",
        "check": "disclosures",
        "passed": False,
        "reason": None,
    }
    assert personal_of(api.app, checks[4]) == {"reason": lines[4]["reason"]}
    assert parts[1][:20] in lines[4]["reason"]
    assert all(parts[1][:20] not in event.data for event in events)
    assert data_of(events[-1]) == changed("submitted", "failed")[1]
    assert_trail_intact(api.app)
    assert_no_personal(api.app, logs, HARNESS_PERSONAL)


def test_replayed_response_events(api, wallet, logs):
    created, request = start_and_fetch(api)
    presentation = wallet.present(wallet.credential(api.issuer_key), request)
    form = wallet.form(request, {"inkomen": [presentation]})
    assert api.respond(request, form).status_code == 200
    recorded = len(trail(api.app))

    again = api.respond(request, form)
    events = trail(api.app)[recorded:]

    assert again.status_code == 400
    assert kinds(events) == ["presentation.replayed"]
    assert data_of(events[0]) == {"kind": "state"}
    assert events[0].subject == audit.session_subject(created["transaction_id"])
    assert events[0].actor == "wallet"
    assert_trail_intact(api.app)
    assert_no_personal(api.app, logs, HARNESS_PERSONAL)


def test_replayed_vp_token_events(api, wallet, logs):
    first, request = start_and_fetch(api)
    presentation = wallet.present(wallet.credential(api.issuer_key), request)
    form = wallet.form(request, {"inkomen": [presentation]})
    assert api.respond(request, form).status_code == 200
    second, other_request = start_and_fetch(api)

    response = api.respond(other_request, {**form, "state": other_request["state"]})
    events = session_events(api.app, second["transaction_id"])

    assert response.status_code == 400
    assert kinds(events) == [
        "wallet_session.created",
        "wallet_session.state_changed",
        "wallet_session.state_changed",
        "presentation.replayed",
        "presentation.received",
        "check.result",
        "wallet_session.state_changed",
    ]
    assert data_of(events[3]) == {"kind": "presentation"}
    assert data_of(events[5]) == {
        "credential": "inkomen",
        "check": "replay",
        "passed": False,
        "reason": REPLAY_REASON,
    }
    assert events[5].personal_digest is None
    assert data_of(events[6]) == changed("submitted", "failed")[1]
    assert_trail_intact(api.app)
    assert_no_personal(api.app, logs, HARNESS_PERSONAL)


def test_declined_request_events(api, logs):
    created, request = start_and_fetch(api)
    transaction_id = created["transaction_id"]
    form = {
        "error": "access_denied",
        "error_description": "the citizen declined",
        "state": request["state"],
    }

    response = api.respond(request, form)
    events = trail(api.app)

    assert response.status_code == 200
    assert kinds(events) == [
        "wallet_session.created",
        "wallet_session.state_changed",
        "wallet_session.state_changed",
        "presentation.received",
        "check.result",
    ]
    assert data_of(events[2]) == changed("request_retrieved", "rejected")[1]
    assert events[2].actor == "wallet"
    assert data_of(events[3]) == {
        "response_mode": "direct_post",
        "bytes": response_bytes(api, transaction_id),
        "verified": False,
        "error": "access_denied",
    }
    assert data_of(events[4]) == {
        "credential": None,
        "check": "wallet response",
        "passed": False,
        "reason": None,
    }
    [line] = check_lines(api, transaction_id)
    assert personal_of(api.app, events[4]) == {"reason": line["reason"]}
    assert "the citizen declined" not in events[4].data
    assert_trail_intact(api.app)
    assert_no_personal(api.app, logs, HARNESS_PERSONAL)


def test_expired_session_events(api):
    created = api.start()
    transaction_id = created["transaction_id"]
    api.clock.advance(400)

    status = api.status(transaction_id)
    events = trail(api.app)

    assert status.get_json()["status"] == "expired"
    assert kinds(events) == ["wallet_session.created", "wallet_session.state_changed"]
    assert data_of(events[1]) == changed("created", "expired")[1]
    assert events[1].actor == "system"
    assert_trail_intact(api.app)


def test_status_poll_records_nothing(api):
    created = api.start()
    transaction_id = created["transaction_id"]
    recorded = trail(api.app)

    for _ in range(3):
        assert api.status(transaction_id).get_json()["status"] == "created"

    assert trail(api.app) == recorded


def test_cancelled_session_events(api):
    created = api.start()
    transaction_id = created["transaction_id"]

    response = api.client.delete(f"/api/v1/wallet-sessions/{transaction_id}")
    events = trail(api.app)

    assert response.status_code == 200
    assert data_of(events[-1]) == changed("created", "cancelled")[1]
    assert events[-1].actor == "citizen"
    assert_trail_intact(api.app)


def test_state_change_rolls_back_without_event(api):
    created = api.start()
    transaction_id = created["transaction_id"]
    with api.db() as db:
        db.raw.execute("DELETE FROM audit_head")
        db.raw.commit()

    with api.db() as db, pytest.raises(RuntimeError, match="audit_head row"):
        db.transition(
            transaction_id,
            from_states={"created"},
            to="cancelled",
            now=api.clock(),
        )

    assert api.session(transaction_id)["state"] == "created"
    assert [e["kind"] for e in api.events(transaction_id)] == ["created"]


# Purging and revoking


def test_purge_records_count(api):
    for _ in range(2):
        api.client.delete(f"/api/v1/wallet-sessions/{api.start()['transaction_id']}")
    api.start()
    recorded = len(trail(api.app))
    api.clock.advance(31 * 86400)

    result = api.app.test_cli_runner().invoke(args=["sessions", "purge"])
    events = trail(api.app)[recorded:]

    assert result.exit_code == 0, result.output
    assert kinds(events) == ["sessions.purged"]
    assert data_of(events[0]) == {
        "count": 3,
        "cutoff": int((api.clock() - timedelta(days=30)).timestamp() * 1000),
    }
    assert events[0].subject is None
    assert events[0].actor == "system"
    assert_trail_intact(api.app)


def test_purge_without_sessions_records_nothing(api):
    result = api.app.test_cli_runner().invoke(args=["sessions", "purge"])

    assert result.exit_code == 0, result.output
    assert trail(api.app) == []


# Checks and vouchers, on the VIL flow with the project's test wallet


@pytest.fixture
def e2e(tmp_path, database_url):
    setup = make_e2e(tmp_path, PROJECT / "steps", database_url)
    # The keys are made again, because the verifier's certificate is valid
    # from the moment it is made.
    setup.clock.now = IN_PERIOD
    apiconfig.generate_keys(setup.app, force=True)
    return setup


def _check(e2e, presentation: str):
    body = {"flow": "vil", "step": "toets", "lang": "nl", "presentation": presentation}
    return e2e.client.post("/api/v1/checks", json=body)


def test_check_with_voucher_events(e2e, logs):
    issuing = e2e.start("gegevens-ophalen", persona="sanne")
    e2e.holder.receive(issuing["wallet_url"])
    presenting = e2e.start("gegevens-delen")
    e2e.holder.present(presenting["wallet_url"])
    assert e2e.status(presenting) == "verified"
    before_check = len(trail(e2e.app))

    result = _check(e2e, presenting["transaction_id"]).get_json()
    e2e.holder.receive(result["voucher"]["wallet_url"])
    events = trail(e2e.app)
    presented = audit.session_subject(presenting["transaction_id"])
    voucher = audit.session_subject(result["voucher"]["transaction_id"])

    assert result["eligible"] is True, result
    assert kinds(events[before_check:]) == [
        "rules.evaluated",
        "wallet_session.created",
        "credential_offer.created",
        "wallet_session.state_changed",
        "wallet_session.state_changed",
        "voucher.issued",
        "wallet_session.state_changed",
    ]
    evaluated, created, offered, *_, issued, finished = events[before_check:]
    assert evaluated.subject == presented
    assert data_of(evaluated) == {
        "decision": result["rules"]["decision"],
        "version": "2026-2",
        "sha256": result["rules"]["sha256"],
        "matched_rules": ["alleenstaande"],
        "result": "eligible",
        "amount": "264",
        "trial": False,
        "check_id": result["check_id"],
    }
    inputs = personal_of(e2e.app, evaluated)["inputs"]
    assert inputs["nettoInkomenPerMaand"] == "1290.0"
    assert inputs["vermogen"] == "1850.0"
    assert {created.subject, offered.subject, issued.subject} == {voucher}
    assert data_of(created)["purpose"] == "issue"
    assert data_of(offered) == {
        "credential_configuration_ids": ["voucher-iit"],
        "tx_code": False,
        "source": ["check"],
        "check_id": result["check_id"],
    }
    assert data_of(issued)["check_id"] == result["check_id"]
    assert data_of(issued)["vct"] == "urn:stappen:vil:voucher"
    assert data_of(finished) == changed("submitted", "issued")[1]
    assert_trail_intact(e2e.app)
    assert_no_personal(e2e.app, logs, SANNE_PERSONAL)


def test_issuing_session_events(e2e, logs):
    issuing = e2e.start("gegevens-ophalen", persona="sanne")
    e2e.holder.receive(issuing["wallet_url"])
    events = trail(e2e.app)
    issued = [event for event in events if event.kind == "credential.issued"]

    assert kinds(events) == [
        "wallet_session.created",
        "credential_offer.created",
        "wallet_session.state_changed",
        "wallet_session.state_changed",
        *["credential.issued"] * 6,
        "wallet_session.state_changed",
    ]
    assert data_of(events[1])["source"] == ["persona"]
    assert data_of(events[1])["check_id"] is None
    assert [data_of(event)["status_index"] for event in issued] == list(range(6))
    assert all("check_id" not in data_of(event) for event in issued)
    assert_trail_intact(e2e.app)
    assert_no_personal(e2e.app, logs, SANNE_PERSONAL)


def test_revoke_records_event(e2e):
    issuing = e2e.start("gegevens-ophalen", persona="sanne")
    e2e.holder.receive(issuing["wallet_url"])
    issued = next(
        event for event in trail(e2e.app) if event.kind == "credential.issued"
    )
    credential_id = data_of(issued)["credential_id"]

    with e2e.app.app_context():
        revoke(e2e.app.extensions["stappen.storage"], credential_id)
    revoked = trail(e2e.app)[-1]

    assert revoked.kind == "credential.revoked"
    assert revoked.subject == issued.subject
    assert revoked.actor == "operator"
    assert data_of(revoked) == {
        "credential_id": credential_id,
        "vct": data_of(issued)["vct"],
        "status_list": data_of(issued)["status_list"],
        "status_index": data_of(issued)["status_index"],
    }
    assert_trail_intact(e2e.app)


# Trial calculations


@pytest.fixture
def vil(tmp_path, database_url):
    source = tmp_path / "source"
    (source / "steps").mkdir(parents=True)
    shutil.copytree(PROJECT / "steps" / "vil", source / "steps" / "vil")
    api = make_api(tmp_path / "api", database_url)
    flows = api.app.extensions["stappen.flows"]
    flows["vil"] = load_flow(source / "steps" / "vil", Problems())
    api.clock.now = IN_PERIOD
    return api


def test_trial_check_events(vil, logs):
    answers = {
        "aow-leeftijd": False,
        "ouder-dan-21": True,
        "woont-in-utrecht": True,
        "alleenstaand": True,
        "kinderen-thuis": False,
        "netto-inkomen": 1290,
        "vermogen": 1850,
    }
    body = {"flow": "vil", "step": "proefberekening", "answers": answers}

    result = vil.client.post("/api/v1/checks", json=body).get_json()
    [event] = trail(vil.app)

    assert result["trial"] is True, result
    assert event.kind == "rules.evaluated"
    assert event.subject is None
    assert event.actor == "citizen"
    assert event.personal_digest is None
    assert data_of(event) == {
        "decision": result["rules"]["decision"],
        "version": "2026-2",
        "sha256": result["rules"]["sha256"],
        "matched_rules": ["alleenstaande"],
        "result": "eligible",
        "amount": "264",
        "trial": True,
    }
    assert_trail_intact(vil.app)
    assert_no_personal(vil.app, logs, SANNE_PERSONAL)
