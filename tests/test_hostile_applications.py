"""Hostile input to the application, decision and consultant features.

Each test sends what an attacker or a broken client could send to a real
app (on SQLite and PostgreSQL where the store matters), a command or the
flow validator, and checks for a clear rejection, never a server error or
a traceback.
"""

from __future__ import annotations

import json
import shutil
import threading

import pytest

from stappen import audit
from stappen.building import validate
from stappen.errors import InvalidFlows
from stappen.review import evidence
from tests.apiharness import make_api
from tests.conftest import PROJECT
from tests.consultants import add_consultant, login
from tests.reviewsetup import APPLY_STEP, VIL, apply, make_review_api
from tests.test_consultant_auth import post_login
from tests.test_review import _verify_file

APPLICATIONS = "/api/v1/applications"


@pytest.fixture
def applied(tmp_path, database_url):
    setup = make_review_api(tmp_path, database_url)
    setup.application_id, setup.issuing = apply(setup)
    return setup


@pytest.fixture
def sqlite_applied(tmp_path):
    setup = make_review_api(tmp_path)
    setup.application_id, setup.issuing = apply(setup)
    return setup


def _application(setup) -> dict:
    with setup.app.extensions["stappen.storage"].connection() as db:
        return db.application(setup.application_id)


# The citizen's endpoints.


@pytest.mark.parametrize(
    "presentation",
    ["\ud800", "x\x00y", "x" * 60_000],
    ids=["lone-surrogate", "nul", "huge"],
)
def test_unusable_presentation_id_not_found(applied, presentation):
    body = {"flow": VIL, "step": APPLY_STEP, "presentation": presentation}

    response = applied.client.post(APPLICATIONS, json=body)

    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.get_json()["error"] == "not_found"


@pytest.mark.parametrize("reference", ["VIL-%ED%A0%80AB-CDEF", "VIL-" + "A" * 5000])
def test_unusable_reference_not_found(applied, reference):
    headers = {"Authorization": "Bearer not-the-secret"}

    status = applied.client.get(f"{APPLICATIONS}/{reference}", headers=headers)
    offer = applied.client.post(
        f"{APPLICATIONS}/{reference}/decision-offer", headers=headers
    )

    assert status.status_code == 404, status.get_data(as_text=True)
    assert offer.status_code == 404, offer.get_data(as_text=True)


def test_nul_in_secret_not_found(applied):
    reference = _application(applied)["reference"]

    response = applied.client.get(
        f"{APPLICATIONS}/{reference}", headers={"Authorization": "Bearer a\x00b"}
    )

    assert response.status_code == 404, response.get_data(as_text=True)


def test_rejection_log_escapes_path(applied, caplog):
    forged = "VIL-AAAA-AAAA%0AINFO stappen.deciding: application granted"

    response = applied.client.get(
        f"{APPLICATIONS}/{forged}", headers={"Authorization": "Bearer x"}
    )

    assert response.status_code == 404
    rejections = [r.getMessage() for r in caplog.records if "Rejected" in r.msg]
    assert rejections, caplog.text
    assert all("\n" not in message for message in rejections)


# The standalone evidence check.


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"format": "x", "format": "y"}', "member 'format' twice"),
        ('{"format": NaN}', "NaN"),
    ],
    ids=["deep", "duplicate-name", "nan"],
)
def test_verify_unreadable_json_exits_two(tmp_path, text, reason):
    path = tmp_path / "evidence.json"
    path.write_text(text, encoding="utf-8")

    run = _verify_file(path)

    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 2
    assert run.stderr.startswith(f"cannot read {path}: ")
    assert reason in run.stderr


def test_verify_escapes_hostile_names(sqlite_applied, tmp_path):
    store = sqlite_applied.app.extensions["stappen.storage"]
    with sqlite_applied.app.app_context(), store.connection() as db:
        document = evidence.export_evidence(
            sqlite_applied.app, db, sqlite_applied.application_id
        )
    vp_token = document["record"]["presentation"]["vp_token"]
    vp_token["\ud800\x1b[2J"] = vp_token.pop("voucher")
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    run = _verify_file(path)

    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 1
    assert "\x1b" not in run.stdout
    assert "\\ud800\\x1b[2J" in run.stdout


# The consultant portal.


def test_concurrent_decisions_one_wins(applied):
    add_consultant(applied.app, "anna", "utrecht")
    add_consultant(applied.app, "bert", "utrecht")
    clients = {name: applied.app.test_client() for name in ("anna", "bert")}
    tokens = {name: login(client, name) for name, client in clients.items()}
    outcomes = {"anna": "granted", "bert": "rejected"}
    start = threading.Barrier(len(clients))
    locations = {}

    def decide(name: str) -> None:
        form = {
            "csrf_token": tokens[name],
            "outcome": outcomes[name],
            "motivation": f"Besluit van {name}.",
            "amount": "264",
        }
        start.wait()
        response = clients[name].post(
            f"/consultant/applications/{applied.application_id}/decision", data=form
        )
        locations[name] = response.headers.get("Location", str(response.status_code))

    threads = [threading.Thread(target=decide, args=(name,)) for name in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    notices = sorted(location.split("notice=")[-1] for location in locations.values())
    assert notices == ["already_decided#notice", "decided#notice"], locations
    [winner] = [name for name, url in locations.items() if "=decided#" in url]
    decision = _application(applied)["decision"]
    assert decision["outcome"] == outcomes[winner]
    assert decision["motivation"] == f"Besluit van {winner}."
    with applied.app.extensions["stappen.storage"].connection() as db:
        decision_events = [
            event
            for event in audit.read_events(db)
            if event.kind == "decision.made" and event.subject == applied.application_id
        ]
    assert len(decision_events) == 1


@pytest.mark.parametrize(
    "page", ["\u00b2", "\u2460", "-1", "1e3", "99999999999999999999", "9" * 5000]
)
def test_odd_page_number_shows_a_page(sqlite_applied, page):
    add_consultant(sqlite_applied.app, "anna", "utrecht")
    login(sqlite_applied.client, "anna")

    response = sqlite_applied.client.get(
        "/consultant/applications", query_string={"page": page}
    )

    assert response.status_code == 200


def test_rate_limit_covers_ipv6_prefix(sqlite_applied):
    clients = []
    for host in range(11):
        client = sqlite_applied.app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"2001:db8:0:1::{host + 1:x}"
        clients.append(client)
    other_network = sqlite_applied.app.test_client()
    other_network.environ_base["REMOTE_ADDR"] = "2001:db8:0:2::1"

    first = [post_login(client, "nobody", "some password") for client in clients]
    elsewhere = post_login(other_network, "nobody", "some password")

    assert [response.status_code for response in first] == [401] * 10 + [429]
    assert elsewhere.status_code == 401


# The users commands.


@pytest.fixture
def cli(tmp_path):
    return make_api(tmp_path).app.test_cli_runner()


def _add_user(cli, *options, password: bytes = b"correct horse battery staple\n"):
    arguments = ["users", "add", "gert", "--municipality", "utrecht", *options]
    return cli.invoke(args=[*arguments, "--password-stdin"], input=password)


def test_cli_password_not_utf8_rejected(cli):
    result = _add_user(cli, password=b"correct horse \xff battery\n")

    assert result.exit_code == 1, result.exception
    assert "not valid UTF-8" in result.output


@pytest.mark.parametrize(
    "name",
    ["Gert\udcff", "Gert\x1b[2J", "G" * 101],
    ids=["undecodable", "control", "long"],
)
def test_cli_bad_display_name_rejected(cli, name):
    result = _add_user(cli, "--name", name)

    assert result.exit_code == 1, result.exception
    assert "Error: name " in result.output


# Every endpoint: PostgreSQL rejects text with NUL in a query.


@pytest.mark.parametrize(
    ("method", "path", "form"),
    [
        ("GET", "/api/v1/wallet-sessions/a%00b/status", None),
        ("GET", "/api/v1/wallet-sessions/a%00b/result", None),
        ("DELETE", "/api/v1/wallet-sessions/a%00b", None),
        ("GET", "/api/v1/verifier/requests/a%00b", None),
        ("POST", "/api/v1/verifier/responses/a%00b", {"state": "x"}),
        ("GET", "/api/v1/issuer/offers/a%00b", None),
        ("POST", "/api/v1/issuer/token", {"pre-authorized_code": "a\x00b"}),
        ("GET", "/consultant/login?next=/consultant/%00", None),
        ("POST", "/consultant/login", {"username": "an\x00na", "password": "x"}),
        ("GET", "/consultant/applications/a%00b", None),
        ("GET", "/consultant/applications/a%00b/evidence.json", None),
        ("POST", "/consultant/applications/a%00b/decision", {"outcome": "granted"}),
    ],
)
def test_nul_anywhere_rejected(applied, method, path, form):
    response = applied.client.open(path, method=method, data=form)

    assert response.status_code == 400, response.get_data(as_text=True)
    if path.startswith("/api/"):
        assert "NUL character" in response.get_json()["message"]


# Flow settings.


@pytest.mark.parametrize(
    ("new_id", "owner"), [("inkomen", "gegevens-ophalen"), ("voucher-iit", "toets")]
)
def test_decision_credential_id_taken_invalid(tmp_path, new_id, owner):
    steps = tmp_path / "steps"
    shutil.copytree(PROJECT / "steps" / VIL, steps / VIL)
    flow_file = steps / VIL / "flow.yaml"
    text = flow_file.read_text(encoding="utf-8")
    assert text.count("id: besluit-iit") == 1
    flow_file.write_text(text.replace("id: besluit-iit", f"id: {new_id}"), "utf-8")
    line = text[: text.index("id: besluit-iit")].count("\n") + 1

    with pytest.raises(InvalidFlows) as raised:
        validate(steps)

    [problem] = raised.value.problems.errors
    assert str(problem) == (
        f"{flow_file}:{line}: step 'besluit', field 'settings.credential.id': step "
        f"{owner!r} issues a credential with id {new_id!r} too; give the decision "
        "credential its own id"
    )


FORGED_LINE = "x%0AINFO stappen.sessions: Session forged: verified"


@pytest.mark.parametrize(
    ("path", "extra_bytes", "status"),
    [
        (f"/api/v1/{FORGED_LINE}", 1, 413),
        (f"/consultant/applications/{FORGED_LINE}/decision", -1000, 400),
    ],
    ids=["body-too-large", "missing-csrf-token"],
)
def test_rejection_logs_escape_path(sqlite_applied, caplog, path, extra_bytes, status):
    add_consultant(sqlite_applied.app, "anna", "utrecht")
    login(sqlite_applied.client, "anna")
    limit = sqlite_applied.app.config["MAX_CONTENT_LENGTH"]

    response = sqlite_applied.client.post(path, data=b"x" * (limit + extra_bytes))

    assert response.status_code == status
    rejections = [r.getMessage() for r in caplog.records if "Rejected" in r.msg]
    assert rejections, caplog.text
    assert all("\n" not in message for message in rejections)
