"""The review library: re-verification, recomputation, rule table and export."""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
from datetime import datetime

import pytest

from stappen import apiconfig, jose
from stappen.review import decide, evidence, evidencecheck, recompute, reverify
from stappen.review.ruletable import tables_for
from tests.conftest import PROJECT
from tests.reviewsetup import apply, make_review_api, revoke_issued


@pytest.fixture
def reviewed(tmp_path):
    setup = make_review_api(tmp_path)
    application_id, issuing = apply(setup)
    setup.application_id = application_id
    setup.issuing = issuing
    return setup


def _application(setup) -> dict:
    with setup.app.extensions["stappen.storage"].connection() as db:
        return db.application(setup.application_id)


def _presentation(setup) -> dict:
    return _application(setup)["record"]["presentation"]


def test_reverify_passes_at_both_moments(reviewed):
    presentation = _presentation(reviewed)
    presented = reverify.as_presented(presentation)
    with reviewed.app.app_context():
        now = reverify.as_of_now(reviewed.app, presentation)

    assert presented.passed, presented.failed
    assert now.passed, now.failed
    assert presented.at == datetime.fromisoformat(presentation["presented_at"])
    assert {line["check"] for line in presented.report} >= {"signature", "status"}


def test_revoked_credential_fails_now_only(reviewed):
    reviewed.clock.advance(60)
    revoke_issued(reviewed, reviewed.issuing, "urn:stappen:vil:inkomen")
    presentation = _presentation(reviewed)
    presented = reverify.as_presented(presentation)
    with reviewed.app.app_context():
        now = reverify.as_of_now(reviewed.app, presentation)

    assert presented.passed
    assert not now.passed
    [failed] = now.failed
    assert failed["credential"] == "inkomen"
    assert failed["check"] == "status"
    assert "revoked" in failed["reason"]


def test_rotated_issuer_key_fails_now_only(reviewed):
    apiconfig.generate_keys(reviewed.app, force=True)
    apiconfig._state(reviewed.app).issuer_keys = None
    presentation = _presentation(reviewed)
    with reviewed.app.app_context():
        now = reverify.as_of_now(reviewed.app, presentation)

    assert reverify.as_presented(presentation).passed
    assert {line["check"] for line in now.failed} == {"signature"}
    assert len(now.failed) == 6


def test_side_by_side_pairs_lines(reviewed):
    reviewed.clock.advance(60)
    revoke_issued(reviewed, reviewed.issuing, "urn:stappen:vil:inkomen")
    presentation = _presentation(reviewed)
    with reviewed.app.app_context():
        now = reverify.as_of_now(reviewed.app, presentation)
    rows = reverify.side_by_side(reverify.as_presented(presentation), now)

    status = [r for r in rows if (r["credential"], r["check"]) == ("inkomen", "status")]
    query = [r for r in rows if r["check"] == "query"]
    assert status[0]["presented"]["passed"] is True
    assert status[0]["now"]["passed"] is False
    assert query[0]["now"] is None


def test_missing_status_token_fails_as_presented(reviewed):
    presentation = copy.deepcopy(_presentation(reviewed))
    presentation["status_tokens"] = []
    presented = reverify.as_presented(presentation)

    assert not presented.passed
    assert "the record has no status list token" in presented.failed[0]["reason"]


def test_recompute_matches_voucher(reviewed):
    with reviewed.app.extensions["stappen.storage"].connection() as db:
        result = recompute.recompute_from_db(db, _application(reviewed)["record"])

    assert result.problem is None
    assert result.matches
    assert result.recomputed["amount"] == "264"
    assert result.recomputed["matched_rules"] == ["alleenstaande"]
    assert [line["field"] for line in result.comparison][0] == "uitkomst"


def test_recompute_names_changed_amount(reviewed):
    record = _application(reviewed)["record"]
    record["voucher"]["bedrag"] = "364"
    with reviewed.app.extensions["stappen.storage"].connection() as db:
        result = recompute.recompute_from_db(db, record)

    assert not result.matches
    assert [line["field"] for line in result.differences] == ["bedrag"]
    assert result.differences[0]["voucher"] == "364"
    assert result.differences[0]["recomputed"] == "264"


def test_recompute_without_rule_table_fails_clearly(reviewed):
    record = _application(reviewed)["record"]
    record["voucher"]["regels_sha256"] = "0" * 64
    with reviewed.app.extensions["stappen.storage"].connection() as db:
        result = recompute.recompute_from_db(db, record)

    assert result.recomputed is None
    assert not result.matches
    assert result.problem.startswith(f"rule table {'0' * 64!r} is not stored")


def test_recompute_rejects_other_rules(reviewed):
    record = _application(reviewed)["record"]
    content = (PROJECT / "steps" / "vil" / "iit-utrecht.dmn").read_bytes() + b"\n"
    result = recompute.recompute_with(record, content, "iit-utrecht.dmn")

    assert result.recomputed is None
    assert "but the voucher names rules" in result.problem


def test_rule_table_marks_matched_rule(reviewed):
    record = _application(reviewed)["record"]
    content = (PROJECT / "steps" / "vil" / "iit-utrecht.dmn").read_bytes()
    [table] = tables_for(content, "iit-utrecht.dmn", record["recomputed"]["trace"])

    assert table.decision == "Individuele inkomenstoeslag"
    assert table.hit_policy == "FIRST"
    assert table.input_columns[0] == "aowLeeftijdBereikt"
    assert table.output_columns == ("Toeslag per jaar in euro",)
    assert [rule.id for rule in table.rules if rule.matched] == ["alleenstaande"]
    first = table.rules[0]
    assert first.inputs[5] == "<= 1533"
    assert first.annotation.startswith("U bent een alleenstaande ouder.")


# The evidence export and its standalone verifier.


def _export(setup, decided: bool = True) -> dict:
    store = setup.app.extensions["stappen.storage"]
    with setup.app.app_context(), store.connection() as db:
        if decided:
            assert decide.decide(
                db,
                setup.application_id,
                outcome="granted",
                motivation="Voldoet aan de voorwaarden.",
                amount="264",
                consultant_id="c-1",
                now=setup.clock.now,
            )
        decide.note_exported(db, setup.application_id, "c-1", setup.clock.now)
        document = evidence.export_evidence(setup.app, db, setup.application_id)
    return json.loads(json.dumps(document))


def _verify_file(path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stappen.review", "verify", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT,
    )


def _failed(document: dict) -> list[str]:
    return [
        line.name for line in evidencecheck.check_document(document) if not line.passed
    ]


def test_export_verifies_standalone(reviewed, tmp_path):
    document = _export(reviewed)
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    run = _verify_file(path)

    assert run.returncode == 0, run.stdout
    assert "secret_hash" not in document["application"]
    assert document["application"]["presentation_session"].startswith("wallet-session:")
    assert "PASS  presentation voucher signature" in run.stdout
    assert "PASS  recomputed bedrag" in run.stdout
    assert "PASS  decision" in run.stdout
    assert "PASS  audit checkpoint" in run.stdout
    assert "FAIL" not in run.stdout


def test_second_decision_refused(reviewed):
    _export(reviewed)
    store = reviewed.app.extensions["stappen.storage"]
    with reviewed.app.app_context(), store.connection() as db:
        again = decide.decide(
            db,
            reviewed.application_id,
            outcome="rejected",
            motivation="Toch niet.",
            amount=None,
            consultant_id="c-2",
            now=reviewed.clock.now,
        )
        events = [e.kind for e in evidence.audit.read_events(db)]

    assert again is False
    assert events.count("decision.made") == 1


def _tamper_amount(document):
    document["application"]["amount"] = "364"


def _tamper_decision(document):
    document["decision"]["amount"] = "999"


def _tamper_voucher(document):
    document["record"]["voucher"]["bedrag"] = "364"


def _tamper_claims(document):
    document["record"]["claims"]["inkomen"][0]["claims"]["netto_per_maand"] = 900


def _tamper_disclosure(document):
    vp_token = document["record"]["presentation"]["vp_token"]
    parts = vp_token["inkomen"][0].split("~")
    salt, name, _ = jose.loads_json(jose.b64url_decode(parts[1]))
    parts[1] = jose.b64url_encode(json.dumps([salt, name, 900]).encode())
    vp_token["inkomen"][0] = "~".join(parts)


def _tamper_rules(document):
    content = base64.b64decode(document["rules"]["content_base64"])
    changed = content.replace(b"&lt;= 1533", b"&lt;= 1633")
    document["rules"]["content_base64"] = base64.b64encode(changed).decode()


def _tamper_event(document):
    [event] = [
        event
        for event in document["audit"]["events"]
        if event["kind"] == "application.created"
    ]
    event["data"] = event["data"].replace("Individuele", "Andere")
    assert "Andere" in event["data"]


@pytest.mark.parametrize(
    ("tamper", "failed"),
    [
        (_tamper_amount, "application"),
        (_tamper_decision, "decision"),
        (_tamper_voucher, "voucher"),
        (_tamper_claims, "claims"),
        (_tamper_disclosure, "presentation inkomen disclosures"),
        (_tamper_rules, "rules sha256"),
        (_tamper_event, "audit event seq"),
    ],
)
def test_tampered_export_names_check(reviewed, tamper, failed):
    document = _export(reviewed)
    assert _failed(document) == []
    tamper(document)

    names = _failed(document)
    assert names, "the tampered document passed"
    assert names[0].startswith(failed)


def test_tampered_file_exits_one(reviewed, tmp_path):
    document = _export(reviewed)
    _tamper_rules(document)
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    run = _verify_file(path)

    assert run.returncode == 1
    assert "FAIL  rules sha256: the DMN file hashes to" in run.stdout


def test_unreadable_file_exits_two(tmp_path):
    path = tmp_path / "evidence.json"
    path.write_text("{", encoding="utf-8")
    run = _verify_file(path)

    assert run.returncode == 2
    assert run.stderr.startswith(f"cannot read {path}")


def test_malformed_parts_fail_by_name(reviewed):
    document = _export(reviewed)
    del document["record"]["presentation"]["nonce"]
    document["audit"]["events"][0]["seq"] = "one"

    assert _failed(document) == ["record", "audit"]


def test_erased_record_fails_export_check(reviewed):
    document = _export(reviewed)
    document["record"] = None
    document["application"]["record_erased_at"] = "2027-01-01T00:00:00+00:00"

    assert _failed(document) == ["record"]
