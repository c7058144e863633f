"""The API process masks every value it was sent, and its tokens, in every log line.

A value reaches the API in a request body (JSON text, JSON base64 for a file, a multipart
file or text field, a PATCH); from that moment on any log line of the process, whoever
writes it (our code, uvicorn, a library) and however it is encoded, shows a mask. The last
test runs the app under a real uvicorn server, set up as `hubctl serve` does, so uvicorn's
own access and error logging is part of what is checked.
"""

from __future__ import annotations

import base64
import io
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import structlog
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.secrets.store import SecretStore
from tests.security.conftest import World, leaked, secret_text

SECRETS = "/api/v1/secrets"

def _json_text(client: TestClient, world: World, value: str) -> None:
    assert client.post(SECRETS, json={"key": "json-text", "value": value},
                       headers=world.headers("writer")).status_code == 201


def _json_file(client: TestClient, world: World, value: str) -> None:
    assert client.post(SECRETS, json={
        "key": "json-file", "type": "file", "filename": "v.bin",
        "value": base64.b64encode(value.encode()).decode()},
        headers=world.headers("writer")).status_code == 201


def _multipart_file(client: TestClient, world: World, value: str) -> None:
    assert client.post(SECRETS, data={"key": "form-file"},
                       files={"file": ("v.pem", value.encode(), "text/plain")},
                       headers=world.headers("writer")).status_code == 201


def _multipart_text(client: TestClient, world: World, value: str) -> None:
    # A part without a filename is a text field; `files` makes httpx send multipart.
    assert client.post(SECRETS, data={"key": "form-text"},
                       files={"value": (None, value.encode())},
                       headers=world.headers("writer")).status_code == 201


def _update(client: TestClient, world: World, value: str) -> None:
    key = world.new_secret()
    assert client.patch(f"{SECRETS}/{key}", json={"value": value},
                        headers=world.headers("writer")).status_code == 200


def _log_everywhere(value: str) -> None:
    """Log the value the ways a careless line would: stdlib, structlog, encoded, nested."""
    raw = value.encode()
    logging.getLogger("uvicorn.error").error("connection said %s", value)
    logging.getLogger("some.library").warning("dsn=postgresql://u:%s@db/x", quote(value, safe=""))
    logging.getLogger("some.library").info("auth %s / %s", base64.b64encode(raw).decode(),
                                           raw.hex())
    structlog.get_logger("hub.test").info("saw", body={"nested": [value]}, raw=raw)
    try:
        raise ValueError(f"could not parse {value!r}")
    except ValueError:
        logging.getLogger("hub.test").exception("parsing failed")


def test_a_value_sent_to_the_api_is_masked_in_every_later_log_line(
        client: TestClient, world: World, logs: io.StringIO) -> None:
    for send in (_json_text, _json_file, _multipart_file, _multipart_text, _update):
        value = secret_text()
        start = logs.tell()
        send(client, world, value)
        _log_everywhere(value)
        output = logs.getvalue()[start:]
        assert output.count("[REDACTED]") >= 5, (send.__name__, output)
        assert leaked(output, value) == [], send.__name__


def test_a_bearer_token_the_api_accepted_is_masked_in_later_log_lines(
        client: TestClient, world: World, logs: io.StringIO) -> None:
    token = world.bearer["viewer"]
    assert client.get(SECRETS, headers=world.headers("viewer")).status_code == 200
    _log_everywhere(token)
    assert leaked(logs.getvalue(), token) == []


def test_a_token_created_through_the_api_is_masked_in_later_log_lines(
        client: TestClient, world: World, logs: io.StringIO) -> None:
    created = client.post("/api/v1/tokens", json={"role": "writer"},
                          headers=world.headers("admin"))
    token = created.json()["token"]
    _log_everywhere(token)
    assert leaked(logs.getvalue(), token) == []


@pytest.fixture
def served(app: FastAPI, logs: io.StringIO) -> Iterator[str]:
    """The app under a real uvicorn server configured as `hubctl serve` does; its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, lifespan="off", log_level="debug")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    host, port = sock.getsockname()
    yield f"http://{host}:{port}"
    server.should_exit = True
    thread.join(10)
    sock.close()


def test_under_uvicorn_access_and_error_logs_go_through_the_scrubber(
        served: str, world: World, logs: io.StringIO,
        monkeypatch: pytest.MonkeyPatch) -> None:
    value, other = secret_text(), secret_text()
    writer = world.headers("writer")
    with httpx.Client(base_url=served, timeout=10) as http:
        assert http.post(SECRETS, json={"key": "served", "value": value},
                         headers=writer).status_code == 201

        def explode(*_args: Any, **_kwargs: Any) -> Any:
            raise RuntimeError(f"driver error near {value!r} and {other!r}")

        monkeypatch.setattr(SecretStore, "update", explode)
        failed = http.patch(f"{SECRETS}/served", json={"value": other}, headers=writer)
        refused = http.get(SECRETS, headers={"Authorization": f"Bearer {world.bearer['bad']}"})
    assert failed.status_code == 500 and leaked(failed.text, value, other) == []
    assert refused.status_code == 401
    output = logs.getvalue()
    # uvicorn's own lines are there (so they went through our handler), and ours:
    assert '"logger": "uvicorn.access"' in output and "PATCH /api/v1/secrets/served" in output
    assert "unexpected error in a request: PATCH /api/v1/secrets/{key}" in output
    assert "Exception in ASGI application" not in output  # the server saw no exception
    assert leaked(output, value, other, world.bearer["writer"]) == []


def test_an_update_value_is_masked_even_when_the_update_is_refused(
        client: TestClient, world: World, logs: io.StringIO) -> None:
    # A writer's value is registered as soon as the route has it, before the store decides.
    value = secret_text()
    missing = client.patch(f"{SECRETS}/no-such-key", json={"value": value},
                           headers=world.headers("writer"))
    assert missing.status_code == 404
    _log_everywhere(value)
    assert leaked(logs.getvalue(), value) == []
