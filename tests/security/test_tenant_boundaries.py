"""Tenant and role boundaries: refused callers change nothing, and learn nothing.

The authorization matrix (tests/hub/api/test_authorization.py) pins the status each caller
gets on each route. These tests prove what the status alone does not: that a refused call
left every table as it was, that another tenant's object answers exactly like one that does
not exist, and that a child tenant cannot change the secrets it inherits from its umbrella.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.db import Base, transaction
from hub.secret_value import SecretValue
from tests.hub.api.test_authorization import MATRIX
from tests.security.conftest import World, leaked, secret_text

MUTATING = sorted(route for route in MATRIX if route[0] in {"POST", "PUT", "PATCH", "DELETE"})
# Volatile bookkeeping a read of any kind may update: not a change made by the caller.
VOLATILE = {("tokens", "last_used_at")}


def snapshot(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (sorted), without the volatile columns."""
    state: dict[str, list[tuple[Any, ...]]] = {}
    with transaction(world.hub.sessions) as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if (table.name, c.name) not in VOLATILE]
            rows = session.execute(select(*columns)).all()
            state[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return state


def _call(client: TestClient, world: World, route: tuple[str, str], who: str) -> Any:
    method, template = route
    entry = MATRIX[route]
    path = template.format(**entry.fill(world))
    before = snapshot(world)
    response = client.request(method, path, headers=world.headers(who),
                              json=entry.body() if entry.body else None, params=entry.query)
    return response, before


def test_a_refused_caller_changes_nothing_on_any_mutating_route(
        client: TestClient, world: World) -> None:
    # One test for every caller and route: a fresh database per case would cost a minute.
    for who in ("viewer", "ingest", "revoked", "bad", "other_admin"):
        for route in MUTATING:
            entry = MATRIX[route]
            if entry.minimum is None or (who == "ingest" and entry.ingest):
                continue
            if who == "other_admin" and entry.collection:
                continue  # acts on its own tenant, as it may
            response, before = _call(client, world, route, who)
            assert response.status_code in (401, 403, 404), (who, route, response.text)
            assert snapshot(world) == before, (who, route)


#: Routes naming one object by key, id or name (not the hooks: they have their own tests).
ID_ROUTES = [route for route in sorted(MATRIX)
             if "{" in route[1] and not route[1].startswith("/hooks")
             and not MATRIX[route].collection and MATRIX[route].minimum is not None]


def _placeholders(params: dict[str, Any]) -> dict[str, Any]:
    missing: dict[str, Any] = {}
    for name, value in params.items():
        if name == "version":
            missing[name] = value
        elif re.fullmatch(r"[0-9a-f-]{36}", str(value)):
            missing[name] = "00000000-0000-4000-8000-000000000000"
        else:
            missing[name] = "missing-" + str(value)[-8:]
    return missing


def test_another_tenants_object_answers_exactly_like_a_missing_one(
        client: TestClient, world: World) -> None:
    assert len(ID_ROUTES) >= 15  # secrets, tokens, events, executions, definitions
    for method, template in ID_ROUTES:
        entry = MATRIX[(method, template)]
        params = entry.fill(world)
        missing = _placeholders(params)
        body = entry.body() if entry.body else None
        answers = []
        for values in (params, missing):
            response = client.request(method, template.format(**values), json=body,
                                      params=entry.query, headers=world.headers("other_admin"))
            text = response.text
            for name in params:  # the detail may name what was asked for; nothing else may
                text = text.replace(str(values[name]), "<id>")
            answers.append((response.status_code, text))
        assert answers[0] == answers[1], (method, template)
        assert answers[0][0] == 404, (method, template)


@pytest.fixture
def umbrella(world: World) -> dict[str, Any]:
    """Tenant `child` under umbrella `acme`, which holds `shared` (two versions)."""
    hub = world.hub
    world.tenant_ids["child"] = hub.tenants.create("child", umbrella="acme", actor="test").id
    for role in ("writer", "admin"):
        world.bearer[f"child_{role}"] = world.new_token(role, tenant="child")[1]
    values = [secret_text(), secret_text()]
    hub.secrets.create("acme", "shared", SecretValue(values[0]), type="text", actor="test")
    hub.secrets.update("acme", "shared", value=SecretValue(values[1]), actor="test")
    return {"values": values}


def _umbrella_state(world: World) -> tuple[Any, ...]:
    secrets = world.hub.secrets
    return (secrets.get("acme", "shared"), secrets.versions("acme", "shared"),
            secrets.resolve("acme", "shared").value.reveal())


def test_a_child_tenant_cannot_change_its_umbrellas_secret(
        client: TestClient, world: World, umbrella: dict[str, Any]) -> None:
    child = secret_text()
    before = _umbrella_state(world)
    acme_before = snapshot(world)["audit_log"]
    attempts = [
        ("PATCH", "/api/v1/secrets/shared", {"value": child}, {}),
        ("PATCH", "/api/v1/secrets/shared", {"description": "taken over"}, {}),
        ("POST", "/api/v1/secrets/shared/rename", {"new_key": "mine"}, {}),
        ("POST", "/api/v1/secrets/shared/rename", {"new_key": "mine", "force": True}, {}),
        ("POST", "/api/v1/secrets/shared/versions/1/restore", {}, {}),
        ("DELETE", "/api/v1/secrets/shared", None, {"force": "true"}),
        ("DELETE", "/api/v1/secrets/shared", None, {}),
        ("POST", "/api/v1/secrets/shared/undelete", None, {}),
        ("POST", "/api/v1/secrets/retention", {"key": "shared", "max_versions": 1}, {}),
    ]
    for who in ("child_writer", "child_admin"):
        for method, path, body, query in attempts:
            response = client.request(method, path, json=body, params=query,
                                      headers=world.headers(who))
            assert response.status_code != 500, response.text
            assert leaked(response.text, *umbrella["values"], child) == []
            assert _umbrella_state(world) == before, (who, method, path, response.text)
    assert snapshot(world)["audit_log"] == acme_before


def test_a_child_tenant_reads_the_inherited_secrets_metadata_but_never_its_value(
        client: TestClient, world: World, umbrella: dict[str, Any]) -> None:
    shown = client.get("/api/v1/secrets/shared", headers=world.headers("child_writer"))
    assert shown.status_code == 200 and shown.json()["source"] == "inherited"
    assert leaked(shown.text, *umbrella["values"]) == []


def test_a_child_tenants_own_key_shadows_the_umbrellas_without_touching_it(
        client: TestClient, world: World, umbrella: dict[str, Any]) -> None:
    before = _umbrella_state(world)
    mine = secret_text()
    created = client.post("/api/v1/secrets", json={"key": "shared", "value": mine},
                          headers=world.headers("child_writer"))
    assert created.status_code == 201, created.text
    assert world.hub.secrets.resolve("child", "shared").value.reveal() == mine.encode()
    assert _umbrella_state(world) == before
    deleted = client.delete("/api/v1/secrets/shared", headers=world.headers("child_writer"))
    assert deleted.status_code == 200 and deleted.json()["uncovers"] == "acme"
    assert _umbrella_state(world) == before
