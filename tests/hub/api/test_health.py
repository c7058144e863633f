"""Liveness, readiness and metrics."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from hub.api import create_app
from hub.config import Settings
from hub.runtime import open_hub
from tests.hub.api.conftest import SECRET_MARK, World


def test_healthz_answers_without_a_token(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_is_ok_when_database_and_broker_answer(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, database_url="postgresql+psycopg://nobody@127.0.0.1:1/x")
    hub = open_hub(settings, check_schema=False)
    try:
        with TestClient(create_app(settings, hub=hub)) as client:
            response = client.get("/readyz")
    finally:
        hub.close()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["checks"]["database"] == "unreachable"


def test_metrics_count_requests_by_route_template_and_hold_no_values(
        client: TestClient, world: World) -> None:
    key = world.new_secret()
    client.get(f"/api/v1/secrets/{key}", headers=world.headers("viewer"))
    text = client.get("/metrics").text
    assert 'route="/api/v1/secrets/{key}"' in text
    assert key not in text
    assert SECRET_MARK not in text
