"""`/api/v1/events`, `/api/v1/executions` and `/api/v1/secrets/{key}/usage` on both databases.

What the dispatcher would do (send an attempt, record the secret versions it resolved, finish
an execution) is written straight into the tables here: these tests are about the API's
answers, not about dispatch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hub.db import transaction
from hub.executions import Attempt, AttemptSecret, Event, Execution
from tests.hub.api.conftest import SECRET_MARK, World

EVENTS = "/api/v1/events"


@pytest.fixture
def defined(world: World) -> World:
    """Event type `order` (payload needs an integer `id`), two log actions, two automations."""
    service = world.hub.automations
    service.create_event_type("acme", name="order", actor="test", schema={
        "type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}})
    for action in ("audit-log", "notify"):
        service.create_action("acme", name=action, sink="log", actor="test")
        service.create_automation("acme", name=f"on-order-{action}", event_type="order",
                                  action=action, actor="test")
    return world


def send(client: TestClient, world: World, payload: Any = None, who: str = "writer",
         **extra: Any) -> Any:
    response = client.post(EVENTS, json={"type": "order", "payload": payload or {"id": 1},
                                         **extra}, headers=world.headers(who))
    assert response.status_code == 202, response.text
    return response.json()


def count(world: World, model: type) -> int:
    with transaction(world.hub.sessions) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def finish(world: World, execution_id: str, status: str, *,
           secrets: tuple[tuple[str, str, int], ...] = ()) -> None:
    """Record one attempt that received `secrets` (parameter, key, version) and ended so."""
    now = datetime.now(UTC)
    with transaction(world.hub.sessions) as session:
        execution = session.get(Execution, execution_id)
        assert execution is not None
        execution.attempt += 1
        attempt = Attempt(execution_id=execution_id, number=execution.attempt, trigger="first",
                          status=status if status != "dead" else "failed", sent_at=now,
                          finished_at=now, error="boom" if status != "succeeded" else None)
        for parameter, key, version in secrets:
            attempt.secrets.append(AttemptSecret(
                execution_id=execution_id, tenant_id=execution.tenant_id, parameter=parameter,
                secret_key=key, version=version, source_tenant_id=execution.tenant_id, at=now))
        session.add(attempt)
        execution.status, execution.finished_at = status, now
        execution.error = "boom" if status != "succeeded" else None


def test_an_event_is_accepted_with_one_queued_execution_per_matching_automation(
        client: TestClient, defined: World) -> None:
    accepted = send(client, defined)
    assert accepted["duplicate"] is False
    assert sorted((e["action"], e["status"]) for e in accepted["executions"]) == [
        ("audit-log", "queued"), ("notify", "queued")]
    shown = client.get(f"{EVENTS}/{accepted['id']}", headers=defined.headers("viewer"))
    assert shown.json()["executions"] == accepted["executions"]


def test_the_same_idempotency_key_answers_with_the_first_event_and_stores_nothing(
        client: TestClient, defined: World) -> None:
    first = send(client, defined, idempotency_key="order-1")
    again = send(client, defined, payload={"id": 2}, idempotency_key="order-1")
    assert again["id"] == first["id"] and again["duplicate"] is True
    assert again["executions"] == first["executions"]
    assert count(defined, Event) == 1 and count(defined, Execution) == 2


def test_a_payload_breaking_the_schema_is_refused_and_nothing_is_stored(
        client: TestClient, defined: World) -> None:
    response = client.post(EVENTS, json={"type": "order", "payload": {"id": "x"}},
                           headers=defined.headers("writer"))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    unknown = client.post(EVENTS, json={"type": "nope", "payload": {}},
                          headers=defined.headers("writer"))
    assert unknown.status_code == 404
    assert count(defined, Event) == 0


def test_an_ingest_key_posts_events_and_does_nothing_else(
        client: TestClient, defined: World) -> None:
    accepted = send(client, defined, who="ingest")
    ingest = defined.headers("ingest")
    execution = accepted["executions"][0]["id"]
    for method, path in (("GET", f"{EVENTS}/{accepted['id']}"), ("GET", "/api/v1/executions"),
                         ("GET", f"/api/v1/executions/{execution}"),
                         ("POST", f"/api/v1/executions/{execution}/replay"),
                         ("GET", "/api/v1/secrets/any-key/usage")):
        assert client.request(method, path, headers=ingest).status_code == 403, path


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("anonymous", 401),
                                             ("admin", 202), ("other_admin", 404)])
def test_who_may_post_an_event(client: TestClient, defined: World, who: str,
                               status: int) -> None:
    response = client.post(EVENTS, json={"type": "order", "payload": {"id": 1}},
                           headers=defined.headers(who))
    # Another tenant's admin may post, but `order` is not one of its event types.
    assert response.status_code == status, response.text


def test_executions_filter_by_status_action_and_time(
        client: TestClient, defined: World) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    accepted = send(client, defined)
    by_action = {e["action"]: e["id"] for e in accepted["executions"]}
    finish(defined, by_action["notify"], "failed")
    viewer = defined.headers("viewer")

    def ids(**query: Any) -> set[str]:
        response = client.get("/api/v1/executions", params=query, headers=viewer)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()}

    assert ids() == set(by_action.values())
    assert ids(status="failed") == {by_action["notify"]}
    assert ids(status="queued", action="audit-log") == {by_action["audit-log"]}
    assert ids(action="notify", status="queued") == set()
    assert ids(since=before.isoformat()) == set(by_action.values())
    assert ids(since=(datetime.now(UTC) + timedelta(hours=1)).isoformat()) == set()
    assert ids(event=accepted["id"]) == set(by_action.values())
    bad = client.get("/api/v1/executions", params={"status": "exploded"}, headers=viewer)
    assert bad.status_code == 422


def test_an_execution_shows_its_attempts_and_the_secret_versions_they_received(
        client: TestClient, defined: World) -> None:
    execution = send(client, defined)["executions"][0]
    finish(defined, execution["id"], "succeeded", secrets=(("token", "api-token", 3),))
    response = client.get(f"/api/v1/executions/{execution['id']}",
                          headers=defined.headers("viewer"))
    assert response.status_code == 200
    detail = response.json()
    assert detail["event"]["type"] == "order"
    assert (detail["action"], detail["status"], detail["attempts"]) == (
        execution["action"], "succeeded", 1)
    assert detail["secrets"] == [{"parameter": "token", "key": "api-token", "version": 3,
                                  "inherited": False}]
    assert detail["history"][0]["secrets"] == detail["secrets"]


def test_replay_queues_a_finished_execution_and_refuses_an_unfinished_one(
        client: TestClient, defined: World) -> None:
    execution_id = send(client, defined)["executions"][0]["id"]
    path = f"/api/v1/executions/{execution_id}/replay"
    writer = defined.headers("writer")
    assert client.post(path, headers=writer).status_code == 409
    finish(defined, execution_id, "dead")
    assert client.post(path, headers=defined.headers("viewer")).status_code == 403
    replayed = client.post(path, headers=writer)
    assert replayed.status_code == 202, replayed.text
    assert replayed.json()["status"] == "queued"
    assert client.get(f"/api/v1/executions/{execution_id}",
                      headers=writer).json()["status"] == "queued"


def test_usage_says_which_execution_received_which_version(
        client: TestClient, defined: World) -> None:
    executions = [e["id"] for e in send(client, defined)["executions"]]
    finish(defined, executions[0], "succeeded", secrets=(("token", "api-token", 2),))
    finish(defined, executions[1], "succeeded", secrets=(("token", "api-token", 3),
                                                          ("other", "unrelated", 1)))
    response = client.get("/api/v1/secrets/api-token/usage", headers=defined.headers("viewer"))
    assert response.status_code == 200
    received = {(u["execution"], u["key"], u["version"]) for u in response.json()}
    assert received == {(executions[0], "api-token", 2), (executions[1], "api-token", 3)}
    other = client.get("/api/v1/secrets/api-token/usage",
                       headers=defined.headers("other_admin"))
    assert other.json() == []


def test_another_tenant_cannot_see_or_replay_an_execution(
        client: TestClient, defined: World) -> None:
    execution_id = send(client, defined)["executions"][0]["id"]
    finish(defined, execution_id, "failed")
    other = defined.headers("other_admin")
    assert client.get(f"/api/v1/executions/{execution_id}", headers=other).status_code == 404
    assert client.post(f"/api/v1/executions/{execution_id}/replay",
                       headers=other).status_code == 404
    assert client.get("/api/v1/executions", headers=other).json() == []


def test_no_event_or_execution_answer_carries_a_stored_secret_value(
        client: TestClient, defined: World) -> None:
    key = defined.new_secret()
    accepted = send(client, defined)
    finish(defined, accepted["executions"][0]["id"], "succeeded",
           secrets=(("token", key, 2),))
    admin = defined.headers("admin")
    for path in (f"{EVENTS}/{accepted['id']}", "/api/v1/executions",
                 f"/api/v1/executions/{accepted['executions'][0]['id']}",
                 f"/api/v1/secrets/{key}/usage"):
        response = client.get(path, headers=admin)
        assert response.status_code == 200, path
        assert SECRET_MARK not in response.text
