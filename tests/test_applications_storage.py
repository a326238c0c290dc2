"""Applications, decisions and rule tables in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stappen import storage
from stappen.storage import IntegrityError, NewApplication
from stappen.storage.applications import secret_hash

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(database_url, tmp_path):
    store = storage.open_store(database_url, tmp_path)
    store.init_schema()
    with store.connection() as connection:
        yield connection


def new_application(number: int = 1, **changes) -> NewApplication:
    fields = {
        "id": f"application-{number}",
        "reference": f"VIL-{number:04d}",
        "secret_hash": "ab" * 32,
        "municipality": "utrecht",
        "flow": "vil",
        "step": "aanvragen",
        "scheme": "Individuele inkomenstoeslag",
        "amount": "264",
        "outcome_matches": True,
        "presentation_session": f"session-{number}",
        "record": {"claims": {"inkomen": [{"netto_per_maand": 1450}]}},
    }
    return NewApplication(**{**fields, **changes})


def test_application_round_trip(db):
    db.create_application(new_application(), now=NOW)

    found = db.application_by_reference("VIL-0001")

    assert found["id"] == "application-1"
    assert found["status"] == "submitted"
    assert found["outcome_matches"] is True
    assert found["created_at"] == NOW
    assert found["record"] == {"claims": {"inkomen": [{"netto_per_maand": 1450}]}}
    assert found["decision"] is None


def test_unknown_reference_is_none(db):
    assert db.application_by_reference("VIL-9999") is None


def test_presentation_redeems_once(db):
    db.create_application(new_application(1), now=NOW)

    with pytest.raises(IntegrityError, match="rejected the write"):
        db.create_application(
            new_application(2, presentation_session="session-1"), now=NOW
        )


def test_list_filters_and_pages(db):
    for number in range(1, 6):
        moment = NOW + timedelta(minutes=number)
        db.create_application(new_application(number), now=moment)
    db.create_application(new_application(6, municipality="amersfoort"), now=NOW)
    db.decide_application(
        "application-2",
        outcome="granted",
        motivation="In orde.",
        amount="264",
        consultant="c1",
        now=NOW + timedelta(hours=1),
    )

    page = db.list_applications("utrecht", limit=2)
    submitted = db.list_applications("utrecht", status="submitted")

    assert page.total == 5
    assert [item["reference"] for item in page.items] == ["VIL-0005", "VIL-0004"]
    assert "record" not in page.items[0]
    assert submitted.total == 4
    assert db.list_applications("amersfoort").total == 1


def test_decision_only_once(db):
    db.create_application(new_application(), now=NOW)
    later = NOW + timedelta(days=1)

    first = db.decide_application(
        "application-1",
        outcome="rejected",
        motivation="Inkomen te hoog.",
        amount=None,
        consultant="c1",
        now=later,
    )
    second = db.decide_application(
        "application-1",
        outcome="granted",
        motivation="Toch wel.",
        amount="264",
        consultant="c2",
        now=later,
    )
    found = db.application("application-1")

    assert first is True
    assert second is False
    assert found["status"] == "rejected"
    assert found["decision"]["consultant"] == "c1"
    assert found["decision"]["decided_at"] == later


def test_unknown_outcome_rejected(db):
    with pytest.raises(ValueError, match="outcome 'maybe' is not a decision"):
        db.decide_application(
            "application-1",
            outcome="maybe",
            motivation="",
            amount=None,
            consultant="c1",
            now=NOW,
        )


def test_decision_credential_times(db):
    db.create_application(new_application(), now=NOW)
    db.decide_application(
        "application-1",
        outcome="granted",
        motivation="In orde.",
        amount="264",
        consultant="c1",
        now=NOW,
    )

    db.note_decision_offer("application-1", "issue-session", now=NOW)
    issued_for = db.note_decision_issued("issue-session", now=NOW)
    unknown = db.note_decision_issued("other-session", now=NOW)
    decision = db.application("application-1")["decision"]

    assert issued_for == "application-1"
    assert unknown is None
    assert decision["credential_session"] == "issue-session"
    assert decision["credential_issued_at"] == NOW


def test_erasure_keeps_open_applications(db):
    db.create_application(new_application(1), now=NOW)
    db.create_application(new_application(2), now=NOW)
    db.decide_application(
        "application-1",
        outcome="granted",
        motivation="In orde.",
        amount="264",
        consultant="c1",
        now=NOW,
    )

    erased = db.erase_application_records(NOW + timedelta(days=1), now=NOW)

    assert erased == ["application-1"]
    assert db.application("application-1")["record"] is None
    assert db.application("application-1")["record_erased_at"] == NOW
    assert db.application("application-2")["record"] is not None


def test_rule_table_stored_once(db):
    content = b"<definitions/>"

    first = db.store_rule_table("c0ffee", "iit.dmn", content, now=NOW)
    again = db.store_rule_table("c0ffee", "iit.dmn", content, now=NOW)

    assert first is True
    assert again is False
    assert db.rule_table("c0ffee")["content"] == content
    assert db.rule_table("missing") is None


def test_citizen_needs_secret(db):
    db.create_application(
        new_application(secret_hash=secret_hash("geheim-1234")), now=NOW
    )

    found = db.citizen_application("VIL-0001", "geheim-1234")

    assert found["id"] == "application-1"
    assert db.citizen_application("VIL-0001", "geheim-9999") is None
    assert db.citizen_application("VIL-0404", "geheim-1234") is None
