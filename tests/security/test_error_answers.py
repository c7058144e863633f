"""Error answers of the API carry no value: 500s are opaque, validation errors echo no input.

Each value sent here is a fresh `secret_text()`; every answer and every log line the request
caused is searched for it and its encodings (`leaked`).
"""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.api import problems
from hub.secrets.store import SecretStore
from tests.security.conftest import World, leaked, secret_text

SECRETS = "/api/v1/secrets"


def explode_with(value: str) -> Any:
    def explode(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(f"database said: duplicate value {value!r} for {value}")

    return explode


def test_api_500_never_echoes_the_exception_text(
        client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch,
        logs: io.StringIO) -> None:
    value = secret_text()
    monkeypatch.setattr(SecretStore, "create", explode_with(value))
    response = client.post(SECRETS, json={"key": "boom", "value": value},
                           headers=world.headers("writer"))
    assert response.status_code == 500
    assert response.headers["content-type"] == problems.MEDIA_TYPE
    body = response.json()
    assert body["detail"] == "internal error" and body["code"] == "internal_error"
    assert "RuntimeError" not in response.text and "database said" not in response.text
    assert leaked(response.text, value) == []
    assert leaked(logs.getvalue(), value) == []


def test_an_unexpected_error_is_logged_once_with_a_fixed_message_and_its_values_masked(
        client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch,
        logs: io.StringIO) -> None:
    value = secret_text()
    monkeypatch.setattr(SecretStore, "create", explode_with(value))
    client.post(SECRETS, json={"key": "boom", "value": value}, headers=world.headers("writer"))
    lines = [json.loads(line) for line in logs.getvalue().splitlines()]
    errors = [line for line in lines if line.get("level") == "error"]
    assert len(errors) == 1, lines
    assert errors[0]["event"] == "unexpected error in a request: POST /api/v1/secrets"
    # The traceback is kept for the operator, with the value masked.
    assert "RuntimeError" in errors[0]["exception"] and "[REDACTED]" in errors[0]["exception"]
    assert leaked(logs.getvalue(), value) == []


def test_an_unexpected_error_in_an_id_route_does_not_echo_the_path(
        client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_args: Any, **_kwargs: Any) -> Any:
        raise KeyError("weird-key-in-path")

    monkeypatch.setattr(SecretStore, "get", explode)
    response = client.get(f"{SECRETS}/weird-key-in-path", headers=world.headers("viewer"))
    assert response.status_code == 500
    assert "weird-key-in-path" not in response.text


def _bad_bodies(value: str) -> list[tuple[str, Any]]:
    """JSON bodies for POST /secrets that each break a different rule, all holding `value`."""
    return [
        ("key breaks the pattern", {"key": "no spaces allowed", "value": value}),
        ("key missing", {"value": value}),
        ("type unknown", {"key": "k1", "value": value, "type": "password"}),
        ("unknown field", {"key": "k1", "value": value, "comment": value}),
        ("value not a string", {"key": "k1", "value": [value]}),
        ("value an object", {"key": "k1", "value": {"v": value}}),
        ("description too long", {"key": "k1", "value": value, "description": "d" * 5000}),
        ("file value not base64", {"key": "k1", "value": value + "!*", "type": "file"}),
        ("filename not a string", {"key": "k1", "value": value, "filename": {"x": value}}),
    ]


def test_invalid_secret_bodies_never_echo_the_value_in_answer_or_log(
        client: TestClient, world: World, logs: io.StringIO) -> None:
    for case, body in _bad_bodies(value := secret_text()):
        response = client.post(SECRETS, json=body, headers=world.headers("writer"))
        assert response.status_code in (400, 422), (case, response.text)
        assert leaked(response.text, value) == [], case
        assert all("input" not in error for error in response.json().get("errors", []))
    assert leaked(logs.getvalue(), value) == []


MALFORMED = [
    '{"key": "k1", "value": "%s"',             # truncated
    '{"key": "k1", "value": "%s",}',           # trailing comma
    '{"key": "k1", "value": "%s" "x"}',        # garbage after the value
    '{"key": "k1", "value": "%s\\x"}',         # bad escape right after the value
    '["%s"]',                                  # not an object
    '"%s"',                                    # a bare string
]


def test_malformed_json_around_a_value_is_refused_without_echo(
        client: TestClient, world: World, logs: io.StringIO) -> None:
    value = secret_text()
    update = f"{SECRETS}/{world.new_secret()}"
    for raw in MALFORMED:
        for method, path in (("POST", SECRETS), ("PATCH", update)):
            response = client.request(method, path, content=(raw % value).encode(),
                                      headers={**world.headers("writer"),
                                               "Content-Type": "application/json"})
            assert response.status_code in (400, 422), (raw, response.text)
            assert leaked(response.text, value) == [], response.text
    assert leaked(logs.getvalue(), value) == []


def test_a_body_that_is_not_utf8_is_refused_without_echo(
        client: TestClient, world: World) -> None:
    value = secret_text()
    raw = b'{"key": "k1", "value": "' + value.encode() + b'\xff\xfe"}'
    response = client.post(SECRETS, content=raw, headers={**world.headers("writer"),
                                                          "Content-Type": "application/json"})
    assert response.status_code in (400, 422)
    assert leaked(response.text, value) == []


def test_invalid_updates_never_echo_the_value(
        client: TestClient, world: World, logs: io.StringIO) -> None:
    key = world.new_secret()
    value = secret_text()
    cases = [
        {"value": [value]},
        {"value": value, "unknown": value},
        {"value": value, "expected_version": "not-a-number"},
        {"value": value, "expected_version": 0},
        {"value": value, "filename": "changed.txt"},
        {"value": value, "note": "n" * 5000},
    ]
    for body in cases:
        response = client.patch(f"{SECRETS}/{key}", json=body, headers=world.headers("writer"))
        assert response.status_code in (400, 422), (body, response.text)
        assert leaked(response.text, value) == [], body
    assert leaked(logs.getvalue(), value) == []


def test_a_file_secret_that_is_not_base64_is_refused_without_echo(
        client: TestClient, world: World, logs: io.StringIO) -> None:
    value = secret_text()
    file_key = "file-" + secret_text()[-6:]
    created = client.post(SECRETS, json={
        "key": file_key, "type": "file", "filename": "id.pem", "media_type": "text/plain",
        "value": base64.b64encode(secret_text().encode()).decode()},
        headers=world.headers("writer"))
    assert created.status_code == 201, created.text
    for bad in (value, value + "é", "=" + value, value[:-1]):
        for response in (
            client.post(SECRETS, json={"key": "f2", "type": "file", "value": bad},
                        headers=world.headers("writer")),
            client.patch(f"{SECRETS}/{file_key}", json={"value": bad},
                         headers=world.headers("writer")),
        ):
            assert response.status_code == 422, response.text
            assert response.json()["detail"] == "value: a file secret's value must be base64"
            assert leaked(response.text, value) == []
    assert leaked(logs.getvalue(), value) == []


def test_invalid_multipart_secrets_never_echo_the_file_or_the_text(
        client: TestClient, world: World, logs: io.StringIO) -> None:
    value = secret_text()
    headers = world.headers("writer")
    answers = [
        client.post(SECRETS, data={"key": "bad key"},
                    files={"file": ("id.pem", value.encode(), "text/plain")}, headers=headers),
        client.post(SECRETS, data={"key": "bad key", "value": value}, headers=headers),
        client.post(SECRETS, data={"key": "k1", "type": "password", "value": value},
                    headers=headers),
        client.post(SECRETS, data={"key": "k1", "description": "d" * 5000},
                    files={"file": ("id.pem", value.encode(), "text/plain")}, headers=headers),
        client.post(SECRETS, data={"key": "k1", "file": value}, headers=headers),
        client.post(SECRETS, data={"key": "k1"}, headers=headers),
        client.post(SECRETS, content=b"--x\r\n" + value.encode() + b"\r\n",
                    headers={**headers, "Content-Type": "multipart/form-data; boundary=x"}),
        client.post(SECRETS, content=value.encode(),
                    headers={**headers, "Content-Type": "multipart/form-data"}),
    ]
    for response in answers:
        assert response.status_code in (400, 422), response.text
        assert leaked(response.text, value) == [], response.text
    assert leaked(logs.getvalue(), value) == []


def test_a_literal_value_in_a_secret_parameter_is_refused_without_echo(
        client: TestClient, world: World, logs: io.StringIO) -> None:
    value = "p@ss word/" + secret_text()  # not a key: it has a space and a slash
    headers = world.headers("writer")
    parameter = {"name": "password", "type": "SECRET", "value": value}
    answers = [
        client.post("/api/v1/actions", json={"name": "a1", "sink": "log",
                                             "parameters": [parameter]}, headers=headers),
        client.post("/api/v1/event-types", json={"name": "t1", "parameters": [parameter]},
                    headers=headers),
        client.post("/api/v1/actions", json={"name": "a2", "sink": "log", "parameters": [
            {**parameter, "type": "PASSWORD"}]}, headers=headers),
        client.post("/api/v1/actions", json={"name": "a3", "sink": "log", "parameters": [
            {**parameter, "extra": value}]}, headers=headers),
    ]
    for response in answers:
        assert response.status_code == 422, response.text
        assert leaked(response.text, value) == [], response.text
    assert leaked(logs.getvalue(), value) == []
    assert world.hub.automations.list_actions("acme") == []
