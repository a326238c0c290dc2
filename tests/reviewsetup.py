"""Applications from real presentations, for the review tests.

The VIL flow runs on the real API app with the project's test wallet: the
persona's data is issued, presented and checked, the voucher goes into the
wallet, and the wallet presents the voucher with the data again at the
application step, whose presentation ``POST /api/v1/applications`` redeems.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

from stappen import apiconfig, issuer
from tests.conftest import PROJECT
from tests.test_wallet import E2E, make_e2e

IN_PERIOD = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
VIL = "vil"
CHECK_STEP = "toets"
APPLY_STEP = "aanvragen"


def make_review_api(tmp_path, database_url: str | None = None) -> E2E:
    """Build the API app on a copy of the VIL flow, at a moment the rules apply."""
    steps = tmp_path / "steps"
    shutil.copytree(PROJECT / "steps" / VIL, steps / VIL)
    setup = make_e2e(tmp_path, steps, database_url)
    # The keys are made again, because the verifier's certificate is valid
    # from the moment it is made.
    setup.clock.now = IN_PERIOD
    apiconfig.generate_keys(setup.app, force=True)
    return setup


def apply(setup: E2E, persona: str = "sanne") -> tuple[str, str]:
    """Run the journey up to an application; return (application id, issuing id)."""
    issuing = setup.start("gegevens-ophalen", persona=persona)
    setup.holder.receive(issuing["wallet_url"])
    sharing = setup.start("gegevens-delen")
    setup.holder.present(sharing["wallet_url"])
    assert setup.status(sharing) == "verified"
    checked = _post(setup, "/api/v1/checks", CHECK_STEP, sharing["transaction_id"])
    assert checked["eligible"] is True, checked
    setup.holder.receive(checked["voucher"]["wallet_url"])

    applying = setup.start(APPLY_STEP, lang="nl")
    setup.holder.present(applying["wallet_url"])
    assert setup.status(applying) == "verified"
    created = _post(
        setup, "/api/v1/applications", APPLY_STEP, applying["transaction_id"]
    )
    assert created["status"] == "submitted", created
    with _db(setup) as db:
        application = db.application_by_reference(created["reference"])
    return application["id"], issuing["transaction_id"]


def _post(setup: E2E, path: str, step: str, presentation: str) -> dict:
    body = {"flow": VIL, "step": step, "lang": "nl", "presentation": presentation}
    response = setup.client.post(path, json=body)
    assert response.status_code in (200, 201), response.get_json()
    return response.get_json()


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
