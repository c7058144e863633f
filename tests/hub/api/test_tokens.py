"""Tokens through the API and the service: shown once, stored hashed, revocable."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.hub.api.conftest import World

API = "/api/v1/tokens"


def test_created_token_is_shown_once_and_works(client: TestClient, world: World) -> None:
    response = client.post(API, headers=world.headers("admin"),
                           json={"role": "viewer", "description": "ci"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert {"id", "role", "token"} <= created.keys()
    assert created["token"].startswith("sk_") and created["role"] == "viewer"
    listed = client.get(API, headers=world.headers("admin"))
    assert created["token"] not in listed.text
    assert created["id"] in listed.text
    mine = client.get("/api/v1/secrets", headers={"Authorization": f"Bearer {created['token']}"})
    assert mine.status_code == 200


def test_ingest_key_starts_with_pk(client: TestClient, world: World) -> None:
    response = client.post(API, headers=world.headers("admin"), json={"role": "ingest"})
    assert response.json()["token"].startswith("pk_")


def test_database_holds_only_a_hash_of_each_token(client: TestClient, world: World) -> None:
    token = client.post(API, headers=world.headers("admin"),
                        json={"role": "writer"}).json()["token"]
    with world.hub.engine.connect() as conn:
        rows = conn.execute(text("SELECT hash, prefix FROM tokens")).all()
    assert all(token not in (digest, prefix) for digest, prefix in rows)
    assert any(token.startswith(prefix) for _digest, prefix in rows)


def test_revoked_token_is_refused_at_once(client: TestClient, world: World) -> None:
    created = client.post(API, headers=world.headers("admin"), json={"role": "admin"}).json()
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert client.get(API, headers=headers).status_code == 200
    revoked = client.delete(f"{API}/{created['id']}", headers=world.headers("admin"))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    refused = client.get(API, headers=headers)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"


def test_unknown_role_is_refused_and_no_token_is_made(client: TestClient, world: World) -> None:
    before = len(client.get(API, headers=world.headers("admin")).json())
    response = client.post(API, headers=world.headers("admin"), json={"role": "root"})
    assert response.status_code == 422
    assert "role" in response.json()["detail"]
    assert len(client.get(API, headers=world.headers("admin")).json()) == before


def test_authenticating_records_last_use(world: World) -> None:
    token_id, token = world.new_token("viewer")
    assert world.tokens.get(world.tenant_ids["acme"], token_id).last_used_at is None
    world.tokens.authenticate(token)
    assert world.tokens.get(world.tenant_ids["acme"], token_id).last_used_at is not None


def test_token_of_another_tenant_cannot_be_revoked_by_this_one(
        client: TestClient, world: World) -> None:
    token_id, token = world.new_token("viewer", tenant="other")
    response = client.delete(f"{API}/{token_id}", headers=world.headers("admin"))
    assert response.status_code == 404
    assert world.tokens.authenticate(token).id == token_id


def test_issued_token_repr_does_not_show_the_token(world: World) -> None:
    issued = world.tokens.create(world.tenant_ids["acme"], "viewer", actor="test")
    assert issued.token not in repr(issued)
