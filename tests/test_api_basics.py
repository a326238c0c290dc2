"""The API app: flows description, CORS, JSON errors and body limits."""

from __future__ import annotations

import pytest

from stappen.api import MAX_BODY_BYTES, create_app
from tests.conftest import PROJECT

SITE = "https://gemeente.github.io"


@pytest.fixture
def client(tmp_path):
    app = create_app(
        {
            "STEPS_DIR": str(PROJECT / "steps"),
            "SITE_ORIGINS": SITE,
            "TESTING": True,
        }
    )
    app.instance_path = str(tmp_path)
    return app.test_client()


def test_health_ok(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_flow_lists_wallet_steps(client):
    data = client.get("/api/v1/flows/vil").get_json()
    wallet_steps = [step["id"] for step in data["steps"] if step["kind"] == "wallet"]
    assert data["id"] == "vil"
    assert "gegevens-delen" in wallet_steps


def test_unknown_flow_json_404(client):
    response = client.get("/api/v1/flows/onbekend")
    assert response.status_code == 404
    assert response.get_json() == {
        "error": "not_found",
        "message": "flow 'onbekend' not found",
    }


def test_cors_allows_site_origin(client):
    response = client.get("/api/v1/health", headers={"Origin": SITE})
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in response.headers["Vary"]


def test_cors_ignores_other_origin(client):
    response = client.get("/api/v1/health", headers={"Origin": "https://evil.test"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_never_wildcard(client):
    response = client.get("/api/v1/health", headers={"Origin": "*"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_body_over_limit_413(client):
    response = client.post(
        "/api/v1/health", data=b"x" * (MAX_BODY_BYTES + 1), content_type="text/plain"
    )
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"
