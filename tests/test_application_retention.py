"""``flask applications erase-records``: decided applications lose their evidence."""

from __future__ import annotations

import json

import pytest

from stappen import audit
from stappen.storage import NewApplication
from tests.apiharness import make_api

DAY = 24 * 3600


@pytest.fixture
def api(tmp_path, database_url):
    return make_api(tmp_path, database_url)


def add_application(api, number: int) -> str:
    application_id = f"application-{number}"
    new = NewApplication(
        id=application_id,
        reference=f"VIL-{number:04d}",
        secret_hash="ab" * 32,
        municipality="utrecht",
        flow="proef",
        step="aanvragen",
        scheme="Individuele inkomenstoeslag",
        amount="264",
        outcome_matches=True,
        presentation_session=f"session-{number}",
        record={"claims": {"inkomen": [{"netto_per_maand": 1450}]}},
    )
    with api.db() as db:
        db.create_application(new, now=api.clock.now)
    return application_id


def decide(api, application_id: str) -> None:
    with api.db() as db:
        db.decide_application(
            application_id,
            outcome="granted",
            motivation="In orde.",
            amount="264",
            consultant="c1",
            now=api.clock.now,
        )


def erase(api, *args: str):
    runner = api.app.test_cli_runner()
    return runner.invoke(args=["applications", "erase-records", *args])


def test_erases_old_decided_records(api):
    decided = add_application(api, 1)
    still_open = add_application(api, 2)
    decide(api, decided)
    api.clock.advance(31 * DAY)

    result = erase(api, "--days", "30")

    assert result.exit_code == 0, result.output
    assert "Erased the evidence of 1 applications" in result.output
    with api.db() as db:
        assert db.application(decided)["record"] is None
        assert db.application(still_open)["record"] is not None
        events = [e for e in audit.read_events(db) if e.kind.startswith("application")]
        report = audit.verify_trail(db, audit.audit_keys(api.app))
    assert [event.kind for event in events] == ["application_records.erased"]
    assert json.loads(events[0].data)["applications"] == [decided]
    assert report.problems == []


def test_recent_decisions_kept(api):
    decided = add_application(api, 1)
    decide(api, decided)
    api.clock.advance(29 * DAY)

    result = erase(api, "--days", "30")

    assert result.exit_code == 0, result.output
    with api.db() as db:
        assert db.application(decided)["record"] is not None


def test_setting_used_without_option(tmp_path):
    api = make_api(tmp_path, APPLICATION_RECORD_DAYS="0")
    decided = add_application(api, 1)
    decide(api, decided)
    api.clock.advance(1)

    result = erase(api)

    assert result.exit_code == 0, result.output
    assert "more than 0 days ago" in result.output


def test_missing_setting_named(api):
    result = erase(api)

    assert result.exit_code == 2
    assert "STAPPEN_APPLICATION_RECORD_DAYS is None" in result.output
