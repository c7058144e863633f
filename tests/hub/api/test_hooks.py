"""Signed inbound webhooks: `POST /hooks/{tenant}/{event_type}` on both databases."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hub.db import transaction
from hub.executions import Event, Execution
from hub.hooks import SIGNATURE_HEADER, sign
from hub.logging import get_scrubber
from hub.secret_value import SecretValue
from tests.hub.api.conftest import World, secret_text

BODY = json.dumps({"ref": "refs/heads/main", "commits": 3}).encode()


class Signer:
    """The signing secret of each tenant's `push` event type."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def headers(self, tenant: str, body: bytes = BODY) -> dict[str, str]:
        return {SIGNATURE_HEADER: sign(body, self.values[tenant].encode()),
                "Content-Type": "application/json"}


@pytest.fixture
def signer(world: World) -> Signer:
    """Tenants `acme` and `other` each have event type `push` signed with their own secret;
    acme's `push` triggers one log action."""
    signer = Signer()
    for tenant in ("acme", "other"):
        value = secret_text()
        signer.values[tenant] = value
        world.values.append(value)
        world.hub.secrets.create(tenant, "push-signing", SecretValue(value), type="text",
                                 description="webhook signing", actor="test")
        world.hub.automations.create_event_type(tenant, name="push", actor="test", parameters=[
            {"name": "signing_secret", "type": "SECRET", "value": "push-signing"}])
    world.hub.automations.create_event_type("acme", name="unsigned", actor="test")
    world.hub.automations.create_action("acme", name="log-push", sink="log", actor="test")
    world.hub.automations.create_automation("acme", name="on-push", event_type="push",
                                            action="log-push", actor="test")
    return signer


def stored(world: World) -> tuple[int, int]:
    with transaction(world.hub.sessions) as session:
        return (int(session.scalar(select(func.count()).select_from(Event)) or 0),
                int(session.scalar(select(func.count()).select_from(Execution)) or 0))


def test_a_rightly_signed_body_is_accepted_and_stored_as_an_event(
        client: TestClient, world: World, signer: Signer) -> None:
    response = client.post("/hooks/acme/push", content=BODY, headers=signer.headers("acme"))
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert [(e["action"], e["status"]) for e in accepted["executions"]] == [
        ("log-push", "queued")]
    assert stored(world) == (1, 1)
    executions = client.get("/api/v1/executions", params={"event": accepted["id"]},
                            headers=world.headers("viewer")).json()
    assert [e["event"]["type"] for e in executions] == ["push"]


def test_the_signature_hex_may_be_upper_case(client: TestClient, world: World,
                                              signer: Signer) -> None:
    headers = signer.headers("acme")
    headers[SIGNATURE_HEADER] = "sha256=" + headers[SIGNATURE_HEADER][7:].upper()
    assert client.post("/hooks/acme/push", content=BODY, headers=headers).status_code == 202


@pytest.mark.parametrize("signature", [
    None, "", "sha256=", "sha256=" + "0" * 64, "sha1=" + "0" * 40, "sha256=zz",
    "sha256=é".encode("latin-1"),  # not ASCII: must not break the constant-time compare
])
def test_a_missing_or_wrong_signature_is_401_and_stores_nothing(
        client: TestClient, world: World, signer: Signer, signature: str | bytes | None
) -> None:
    headers = {} if signature is None else {SIGNATURE_HEADER: signature}
    response = client.post("/hooks/acme/push", content=BODY, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert stored(world) == (0, 0)


def test_a_body_changed_after_signing_is_401(client: TestClient, world: World,
                                             signer: Signer) -> None:
    tampered = BODY.replace(b"3", b"4")
    response = client.post("/hooks/acme/push", content=tampered, headers=signer.headers("acme"))
    assert response.status_code == 401
    assert stored(world) == (0, 0)


def test_a_body_signed_with_another_tenants_secret_is_401(
        client: TestClient, world: World, signer: Signer) -> None:
    response = client.post("/hooks/acme/push", content=BODY, headers=signer.headers("other"))
    assert response.status_code == 401
    assert stored(world) == (0, 0)


@pytest.mark.parametrize("path", ["/hooks/nobody/push", "/hooks/acme/nothing",
                                  "/hooks/acme/unsigned"])
def test_unknown_targets_and_unsigned_types_answer_exactly_like_a_wrong_signature(
        client: TestClient, world: World, signer: Signer, path: str) -> None:
    wrong = client.post("/hooks/acme/push", content=BODY,
                        headers={SIGNATURE_HEADER: "sha256=" + "0" * 64})
    response = client.post(path, content=BODY, headers=signer.headers("acme"))
    assert (response.status_code, response.json()) == (401, wrong.json())
    assert stored(world) == (0, 0)


def test_a_signing_key_missing_from_the_store_is_401(client: TestClient, world: World,
                                                     signer: Signer) -> None:
    world.hub.secrets.delete("acme", "push-signing", force=True, actor="test")
    response = client.post("/hooks/acme/push", content=BODY, headers=signer.headers("acme"))
    assert response.status_code == 401
    assert stored(world) == (0, 0)


def test_a_signed_body_that_is_not_json_is_refused_and_stores_nothing(
        client: TestClient, world: World, signer: Signer) -> None:
    body = b"not json at all"
    response = client.post("/hooks/acme/push", content=body,
                           headers=signer.headers("acme", body))
    assert response.status_code == 422
    assert "not json" not in response.text
    assert stored(world) == (0, 0)


def test_an_idempotency_key_header_makes_a_redelivery_return_the_first_event(
        client: TestClient, world: World, signer: Signer) -> None:
    headers = {**signer.headers("acme"), "Idempotency-Key": "delivery-1"}
    first = client.post("/hooks/acme/push", content=BODY, headers=headers).json()
    again = client.post("/hooks/acme/push", content=BODY, headers=headers).json()
    assert again["id"] == first["id"] and again["duplicate"] is True
    assert stored(world) == (1, 1)


def test_the_signing_secret_is_in_no_answer_and_no_log_line(
        client: TestClient, world: World, signer: Signer,
        caplog: pytest.LogCaptureFixture) -> None:
    value = signer.values["acme"]
    caplog.set_level(logging.DEBUG)
    answers = [
        client.post("/hooks/acme/push", content=BODY, headers=signer.headers("acme")),
        client.post("/hooks/acme/push", content=BODY, headers={SIGNATURE_HEADER: "sha256=0"}),
        client.get("/api/v1/event-types/push", headers=world.headers("admin")),
    ]
    for response in answers:
        assert value not in response.text
    assert value not in caplog.text
    # Resolved once, the value is registered: a log line that did hold it would be masked.
    assert value not in get_scrubber().scrub(f"leaked: {value}")
