"""`/api/v1/event-types`, `/actions`, `/automations` and `/sinks` on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.hub.api.conftest import SECRET_MARK, World, secret_text


def post(client: TestClient, world: World, path: str, body: Any, who: str = "writer") -> Any:
    response = client.post(path, json=body, headers=world.headers(who))
    assert response.status_code == 201, response.text
    return response.json()


def log_action(name: str = "notify", **extra: Any) -> dict[str, Any]:
    return {"name": name, "sink": "log",
            "parameters": [{"name": "level", "type": "STRING", "value": "INFO"}], **extra}


@pytest.fixture
def linked(client: TestClient, world: World) -> dict[str, Any]:
    """An event type, an action and the automation linking them, made through the API."""
    return {
        "event_type": post(client, world, "/api/v1/event-types", {"name": "order.created"}),
        "action": post(client, world, "/api/v1/actions", log_action()),
        "automation": post(client, world, "/api/v1/automations", {
            "name": "orders", "event_type": "order.created", "action": "notify"}),
    }


def test_event_type_round_trip_create_show_list_replace_delete(
        client: TestClient, world: World) -> None:
    headers = world.headers("writer")
    created = post(client, world, "/api/v1/event-types", {
        "name": "order.created", "schema": {"type": "object", "required": ["id"]},
        "parameters": [{"name": "level", "type": "STRING", "value": "INFO"}]})
    assert created["schema"] == {"type": "object", "required": ["id"]}
    assert created["parameters"] == [{"name": "level", "type": "STRING", "value": "INFO"}]
    assert created["warnings"] == []

    shown = client.get("/api/v1/event-types/order.created", headers=world.headers("viewer"))
    assert shown.json()["id"] == created["id"]
    listed = client.get("/api/v1/event-types", headers=world.headers("viewer")).json()
    assert [item["name"] for item in listed] == ["order.created"]

    replaced = client.put("/api/v1/event-types/order.created", json={"parameters": []},
                          headers=headers)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["schema"] is None and replaced.json()["parameters"] == []

    assert client.delete("/api/v1/event-types/order.created",
                         headers=headers).status_code == 204
    gone = client.get("/api/v1/event-types/order.created", headers=headers)
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"


def test_a_secret_parameter_naming_a_missing_key_is_saved_with_a_warning(
        client: TestClient, world: World) -> None:
    saved = post(client, world, "/api/v1/event-types", {
        "name": "push", "parameters": [
            {"name": "signing_secret", "type": "SECRET", "value": "not-created-yet"}]})
    assert len(saved["warnings"]) == 1
    assert "not-created-yet" in saved["warnings"][0]
    assert client.get("/api/v1/event-types/push",
                      headers=world.headers("viewer")).status_code == 200


def test_a_secret_parameter_naming_an_existing_key_saves_without_warnings(
        client: TestClient, world: World) -> None:
    key = world.new_secret()
    saved = post(client, world, "/api/v1/event-types", {
        "name": "push", "parameters": [{"name": "signing_secret", "type": "SECRET",
                                        "value": key}]})
    assert saved["warnings"] == []
    assert SECRET_MARK not in str(saved)


def test_a_body_name_different_from_the_path_is_refused_and_nothing_changes(
        client: TestClient, world: World, linked: dict[str, Any]) -> None:
    response = client.put("/api/v1/actions/notify", json=log_action("other-name"),
                          headers=world.headers("writer"))
    assert response.status_code == 422
    names = [a["name"] for a in client.get("/api/v1/actions",
                                            headers=world.headers("viewer")).json()]
    assert names == ["notify"]


def test_unknown_fields_in_a_request_are_refused(client: TestClient, world: World) -> None:
    response = client.post("/api/v1/automations", json={
        "name": "a", "event_type": "t", "action": "x", "condtion": "payload.id"},
        headers=world.headers("writer"))
    assert response.status_code == 422
    assert "condtion" in response.text


def test_action_round_trip_keeps_timeout_and_retry(client: TestClient, world: World) -> None:
    created = post(client, world, "/api/v1/actions", log_action(
        timeout=5, retry={"attempts": 2, "backoff": 1.5}))
    assert (created["sink"], created["timeout"]) == ("log", 5)
    assert created["retry"] == {"attempts": 2, "backoff": 1.5}
    replaced = client.put("/api/v1/actions/notify", json={"sink": "log"},
                          headers=world.headers("writer"))
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["parameters"] == []
    assert replaced.json()["retry"] == {"attempts": 3, "backoff": 10.0}  # PUT resets


def test_an_unknown_sink_is_invalid_input(client: TestClient, world: World) -> None:
    response = client.post("/api/v1/actions", json={"name": "x", "sink": "carrier-pigeon"},
                           headers=world.headers("writer"))
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"
    assert "carrier-pigeon" in response.json()["detail"]


@pytest.mark.parametrize("kind", ["STRING", "SECRET"])
def test_a_pasted_credential_is_refused_without_being_echoed(
        client: TestClient, world: World, kind: str) -> None:
    pasted = "sk_live_" + secret_text().replace("-", "")
    response = client.post("/api/v1/actions", json={
        "name": "call", "sink": "http", "parameters": [
            {"name": "url", "type": "STRING", "value": "https://example.invalid/hook"},
            {"name": "auth_token", "type": kind, "value": pasted}]},
        headers=world.headers("writer"))
    assert response.status_code == 422
    assert pasted not in response.text
    assert client.get("/api/v1/actions", headers=world.headers("viewer")).json() == []


def test_automation_round_trip_and_its_links(client: TestClient, world: World,
                                             linked: dict[str, Any]) -> None:
    assert linked["automation"]["enabled"] is True
    assert linked["automation"]["event_type"] == "order.created"
    replaced = client.put("/api/v1/automations/orders", json={
        "event_type": "order.created", "action": "notify", "condition": "total > `10`",
        "enabled": False}, headers=world.headers("writer"))
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["condition"], replaced.json()["enabled"]) == ("total > `10`", False)
    assert client.get("/api/v1/automations",
                      headers=world.headers("viewer")).json()[0]["enabled"] is False
    assert client.delete("/api/v1/automations/orders",
                         headers=world.headers("writer")).status_code == 204


def test_an_automation_naming_a_missing_action_is_not_found(
        client: TestClient, world: World) -> None:
    post(client, world, "/api/v1/event-types", {"name": "t"})
    response = client.post("/api/v1/automations", json={
        "name": "a", "event_type": "t", "action": "missing"}, headers=world.headers("writer"))
    assert response.status_code == 404
    assert "missing" in response.json()["detail"]


def test_deleting_an_event_type_or_action_in_use_is_a_conflict_naming_the_automation(
        client: TestClient, world: World, linked: dict[str, Any]) -> None:
    for path in ("/api/v1/event-types/order.created", "/api/v1/actions/notify"):
        response = client.delete(path, headers=world.headers("writer"))
        assert response.status_code == 409
        assert response.json()["automations"] == ["orders"]


def test_a_duplicate_name_is_a_conflict(client: TestClient, world: World,
                                        linked: dict[str, Any]) -> None:
    response = client.post("/api/v1/actions", json=log_action(),
                           headers=world.headers("writer"))
    assert response.status_code == 409


def test_a_viewer_reads_definitions_but_cannot_change_them(
        client: TestClient, world: World, linked: dict[str, Any]) -> None:
    viewer = world.headers("viewer")
    assert client.get("/api/v1/automations/orders", headers=viewer).status_code == 200
    assert client.post("/api/v1/event-types", json={"name": "x"},
                       headers=viewer).status_code == 403
    assert client.put("/api/v1/actions/notify", json={"sink": "log"},
                      headers=viewer).status_code == 403
    assert client.delete("/api/v1/automations/orders", headers=viewer).status_code == 403


def test_another_tenant_neither_sees_nor_reaches_the_definitions(
        client: TestClient, world: World, linked: dict[str, Any]) -> None:
    other = world.headers("other_admin")
    for path in ("/api/v1/event-types", "/api/v1/actions", "/api/v1/automations"):
        assert client.get(path, headers=other).json() == []
    assert client.get("/api/v1/actions/notify", headers=other).status_code == 404
    assert client.delete("/api/v1/automations/orders", headers=other).status_code == 404


def test_an_ingest_key_cannot_touch_definitions(client: TestClient, world: World) -> None:
    ingest = world.headers("ingest")
    assert client.get("/api/v1/event-types", headers=ingest).status_code == 403
    assert client.post("/api/v1/event-types", json={"name": "x"},
                       headers=ingest).status_code == 403
    assert client.get("/api/v1/sinks", headers=ingest).status_code == 403


def test_sinks_are_listed_with_their_schemas_and_credential_fields(
        client: TestClient, world: World) -> None:
    response = client.get("/api/v1/sinks", headers=world.headers("viewer"))
    assert response.status_code == 200
    sinks = {sink["name"]: sink for sink in response.json()}
    assert {"http", "smtp", "sql", "log"} <= sinks.keys()
    assert sinks["log"]["credentials"] == []
    assert {"auth_token", "password"} <= set(sinks["http"]["credentials"])
    assert sinks["http"]["parameters"]["properties"]["auth_token"]["x-credential"] is True


def test_no_definition_answer_carries_a_stored_secret_value(
        client: TestClient, world: World) -> None:
    key = world.new_secret()
    post(client, world, "/api/v1/actions", {
        "name": "call", "sink": "http", "parameters": [
            {"name": "url", "type": "STRING", "value": "https://example.invalid/hook"},
            {"name": "auth_token", "type": "SECRET", "value": key}]})
    for path in ("/api/v1/actions", "/api/v1/actions/call", "/api/v1/sinks"):
        response = client.get(path, headers=world.headers("admin"))
        assert response.status_code == 200
        assert SECRET_MARK not in response.text
        assert not any(value in response.text for value in world.values)
