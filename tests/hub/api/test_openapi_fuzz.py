"""Schemathesis against the app's own OpenAPI schema, bounded: no 500, no value, no change.

Positive cases (valid by the schema) must never crash the app nor answer with a stored
value. Negative cases (wrong types, unknown fields, missing fields) must get a 4xx problem
and leave the tenant's secrets and tokens exactly as they were. Derandomized and small, so
the run is fast and the same on every machine; SQLite only (the PostgreSQL paths are
covered by the other API tests).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.hub.api.conftest import SECRET_MARK, World

EXAMPLES = 200
PROBLEM = "application/problem+json"

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _sent_value(body: Any) -> str | None:
    """The value a case sends, if it is distinctive enough to look for in the answer."""
    if not isinstance(body, dict) or not isinstance(body.get("value"), str):
        return None
    value = body["value"]
    others = [s for key, item in body.items() if key != "value" for s in _strings(item)]
    if len(value) < 8 or any(value in other for other in others):
        return None
    return value


def _content_type(response: Any) -> str:
    value = response.headers.get("content-type", "")
    return str(value[0] if isinstance(value, list) else value)


def _state(client: TestClient, world: World) -> tuple[str, str]:
    headers = world.headers("admin")
    return (client.get("/api/v1/secrets", headers=headers).text,
            client.get("/api/v1/tokens", headers=headers).text)


def _fuzz(app: FastAPI, client: TestClient, world: World, mode: GenerationMode) -> None:
    key = world.new_secret(versions=3)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    headers = world.headers("admin")
    # Half the cases aim at a key that exists, so the paths past "not found" are reached too.
    cases = st.one_of(schema.as_strategy(generation_mode=mode),
                      schema.as_strategy(generation_mode=mode,
                                         path_parameters={"key": key, "version": 2}))

    @given(case=cases)
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        before = _state(client, world) if mode is GenerationMode.NEGATIVE else None
        response = case.call(headers={**(case.headers or {}), **headers})
        label = f"{case.method} {case.formatted_path} -> {response.status_code}"
        assert response.status_code < 500, label
        assert SECRET_MARK not in response.text, label
        sent = _sent_value(case.body)
        if sent is not None and case.path != "/api/v1/tokens":
            assert sent not in response.text, label
        if response.status_code >= 400 and case.path not in {"/readyz"}:
            assert _content_type(response) == PROBLEM, label
        if before is not None and 400 <= response.status_code < 500:
            assert _state(client, world) == before, label

    check()


def test_valid_requests_never_crash_nor_answer_with_a_value(
        app: FastAPI, client: TestClient, world: World) -> None:
    _fuzz(app, client, world, GenerationMode.POSITIVE)


def test_invalid_requests_get_a_4xx_problem_and_change_nothing(
        app: FastAPI, client: TestClient, world: World) -> None:
    _fuzz(app, client, world, GenerationMode.NEGATIVE)
