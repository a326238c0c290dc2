"""Applications from real presentations, for the review tests.

The VIL flow runs on the real API app with the project's test wallet: the
persona's data is issued, presented and checked, the voucher goes into the
wallet, and the wallet presents the voucher with the data again. That last
presentation is made to an extra wallet step, ``voucher-delen``, whose query
is the one an application step asks: the voucher plus the check's
credentials under the same query ids. The record is assembled from that
session's evidence, as the application endpoint keeps it.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
from datetime import UTC, datetime

from stappen import apiconfig, audit, checkstep, issuer, outcomes
from stappen.rules import load_dmn
from stappen.storage.applications import NewApplication, secret_hash
from tests.conftest import PROJECT
from tests.test_wallet import E2E, make_e2e

IN_PERIOD = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
VIL = "vil"
CHECK_STEP = "toets"
APPLY_STEP = "voucher-delen"
MUNICIPALITY = "utrecht"
VOUCHER_ISSUER = "https://regelingen.vil.example"
DATA_QUERIES = ("inkomen", "huishouden", "leeftijd", "woonplaats", "vermogen")

_VOUCHER_CLAIMS = "\n".join(
    f"              - path: [{name}]" for name, _ in checkstep.VOUCHER_CLAIMS
)
APPLY_STEP_YAML = f"""
  - id: {APPLY_STEP}
    kind: wallet
    title:
      nl: Deel uw voucher
      en: Share your voucher
    settings:
      purpose: present
      query:
        credentials:
          - id: voucher
            format: dc+sd-jwt
            meta:
              vct_values: ["urn:stappen:vil:voucher"]
            claims:
{_VOUCHER_CLAIMS}
          - id: inkomen
            format: dc+sd-jwt
            meta:
              vct_values: ["urn:stappen:vil:inkomen"]
            claims:
              - path: [netto_per_maand]
          - id: huishouden
            format: dc+sd-jwt
            meta:
              vct_values: ["urn:stappen:vil:huishouden"]
            claims:
              - path: [alleenstaand]
              - path: [kinderen_thuis]
          - id: leeftijd
            format: dc+sd-jwt
            meta:
              vct_values: ["urn:stappen:vil:leeftijd"]
            claims:
              - {{id: ouder-dan-21, path: [ouder_dan_21]}}
              - {{id: aow-leeftijd, path: [aow_leeftijd_bereikt]}}
              - {{id: geboortedatum, path: [geboortedatum]}}
            claim_sets:
              - [ouder-dan-21, aow-leeftijd]
              - [geboortedatum]
          - id: woonplaats
            format: dc+sd-jwt
            meta:
              vct_values: ["urn:stappen:vil:woonplaats"]
            claims:
              - path: [gemeente]
          - id: vermogen
            format: dc+sd-jwt
            meta:
              vct_values: ["urn:stappen:vil:vermogen"]
            claims:
              - path: [totaal]
      trusted_issuers:
        - https://uitgifte.vil.example
        - {VOUCHER_ISSUER}
      response_mode: direct_post.jwt
    next: klaar
"""


def make_review_api(tmp_path, database_url: str | None = None) -> E2E:
    """Build the API app on a copy of the VIL flow with the extra wallet step."""
    steps = tmp_path / "steps"
    shutil.copytree(PROJECT / "steps" / VIL, steps / VIL)
    flow = steps / VIL / "flow.yaml"
    flow.write_text(flow.read_text(encoding="utf-8") + APPLY_STEP_YAML, "utf-8")
    setup = make_e2e(tmp_path, steps, database_url)
    # A moment inside the rules' period. The keys are made again, because
    # the verifier's certificate is valid from the moment it is made.
    setup.clock.now = IN_PERIOD
    apiconfig.generate_keys(setup.app, force=True)
    # The API signs vouchers with its own issuer key, so the application's
    # presentation trusts the voucher issuer with that key.
    apiconfig.pilot_issuers(setup.app).add(VOUCHER_ISSUER)
    return setup


def apply(setup: E2E, persona: str = "sanne", municipality: str = MUNICIPALITY):
    """Run the journey up to an application; return (application id, issuing id)."""
    issuing = setup.start("gegevens-ophalen", persona=persona)
    setup.holder.receive(issuing["wallet_url"])
    sharing = setup.start("gegevens-delen")
    setup.holder.present(sharing["wallet_url"])
    assert setup.status(sharing) == "verified"
    body = {
        "flow": VIL,
        "step": CHECK_STEP,
        "lang": "nl",
        "presentation": sharing["transaction_id"],
    }
    checked = setup.client.post("/api/v1/checks", json=body).get_json()
    assert checked["eligible"] is True, checked
    setup.holder.receive(checked["voucher"]["wallet_url"])

    applying = setup.start(APPLY_STEP)
    setup.holder.present(applying["wallet_url"])
    assert setup.status(applying) == "verified"
    application_id = create_application(setup, applying["transaction_id"], municipality)
    return application_id, issuing["transaction_id"]


def create_application(setup: E2E, session_id: str, municipality: str) -> str:
    """Store an application with the record of a verified presentation."""
    record = record_of(setup, session_id)
    matches = all(line["equal"] for line in record["comparison"])
    application = NewApplication(
        id=secrets.token_hex(8),
        reference="VIL-" + secrets.token_hex(3).upper(),
        secret_hash=secret_hash(secrets.token_urlsafe(16)),
        municipality=municipality,
        flow=VIL,
        step="aanvragen",
        scheme=record["voucher"]["regeling"],
        amount=record["recomputed"]["amount"],
        outcome_matches=matches,
        presentation_session=session_id,
        record=record,
    )
    with setup.app.app_context(), _db(setup) as db, db.transaction():
        db.create_application(application, now=setup.clock.now)
        audit.record(
            db,
            "application.created",
            subject=application.id,
            actor="citizen",
            data={"reference": application.reference, "scheme": application.scheme},
        )
    return application.id


def record_of(setup: E2E, session_id: str) -> dict:
    """Assemble an application record (version 1) from a session's evidence."""
    with _db(setup) as db:
        session = db.get_session(session_id)
        evidence = db.evidence_for(session_id)
    by_kind: dict[str, list[dict]] = {}
    for item in evidence:
        by_kind.setdefault(item["kind"], []).append(item)
    [vp_token] = by_kind["vp_token"]
    claims = session["result"]["claims"]
    data = session["data"]
    presentation = {
        "created_at": session["created_at"].isoformat(),
        "presented_at": vp_token["created_at"].isoformat(),
        "client_id": data["client_id"],
        "nonce": session["nonce"],
        "response_mode": data["response_mode"],
        "dcql_query": data["dcql_query"],
        "trusted_issuers": data["trusted_issuers"],
        "vp_token": vp_token["data"]["vp_token"],
        "issuer_keys": by_kind["issuer_keys"][0]["data"],
        "status_tokens": [item["data"]["token"] for item in by_kind["status_token"]],
        "report": [item["data"] for item in by_kind["check"]],
    }
    voucher = claims["voucher"][0]["claims"]
    voucher = {name: voucher.get(name) for name, _ in checkstep.VOUCHER_CLAIMS}
    snap, model = _check_snapshot(setup)
    recomputed = outcomes.recompute(snap, claims, model)
    return {
        "version": 1,
        "presentation": presentation,
        "claims": claims,
        "voucher": voucher,
        "check": snap.to_dict(),
        "recomputed": recomputed,
        "comparison": outcomes.compare(voucher, recomputed, recomputed["used"]),
    }


def _check_snapshot(setup: E2E):
    flow = setup.app.extensions["stappen.flows"][VIL]
    settings = checkstep.read_settings(flow, flow.steps[CHECK_STEP])
    sha256 = hashlib.sha256(settings.rules.read_bytes()).hexdigest()
    snap = outcomes.snapshot(VIL, CHECK_STEP, settings, sha256)
    return snap, load_dmn(settings.rules)


def revoke_issued(setup: E2E, issuing_session: str, vct: str) -> None:
    """Revoke the credential of type ``vct`` issued in ``issuing_session``."""
    with _db(setup) as db:
        issued = [
            item["data"]
            for item in db.evidence_for(issuing_session)
            if item["kind"].endswith("credential_issued") and item["data"]["vct"] == vct
        ]
    assert issued, f"no credential of type {vct} was issued"
    store = setup.app.extensions["stappen.storage"]
    with setup.app.app_context():
        issuer.revoke(store, issued[0]["credential_id"])


def _db(setup: E2E):
    return setup.app.extensions["stappen.storage"].connection()
