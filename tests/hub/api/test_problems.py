"""Hub error kinds map to statuses and problem+json documents, without echoing input."""

from __future__ import annotations

import json

import pytest

from hub import errors
from hub.api.problems import describe_validation_errors, from_hub_error, status_of


@pytest.mark.parametrize(("error", "status"), [
    (errors.InvalidInput("bad"), 422),
    (errors.NotFound("gone"), 404),
    (errors.Conflict("clash"), 409),
    (errors.PermissionDenied("no"), 403),
    (errors.Unauthenticated("who"), 401),
    (errors.CryptoError(), 500),
    (errors.ConfigurationError("conf"), 500),
    (errors.SchemaOutOfDate("old"), 503),
    (errors.Unavailable("down"), 503),
    (errors.HubError("other"), 400),
])
def test_each_error_kind_has_its_status(error: errors.HubError, status: int) -> None:
    assert status_of(error) == status


def test_problem_carries_code_detail_and_value_free_details() -> None:
    response = from_hub_error(errors.Conflict("in use", references=[{"owner": "a"}]))
    body = json.loads(response.body)
    assert response.media_type == "application/problem+json"
    assert body["status"] == 409 and body["code"] == "conflict"
    assert body["detail"] == "in use" and body["references"] == [{"owner": "a"}]


def test_details_cannot_overwrite_the_problem_members() -> None:
    body = json.loads(from_hub_error(errors.NotFound("x", status=200, detail="y")).body)
    assert body["status"] == 404 and body["detail"] == "x"


def test_unauthenticated_problem_asks_for_a_bearer_token() -> None:
    assert from_hub_error(errors.Unauthenticated("no")).headers["www-authenticate"] == "Bearer"


def test_validation_description_names_field_and_rule_but_never_the_input() -> None:
    raw = [{"type": "string_type", "loc": ("body", "value"), "msg": "Input should be a string",
            "input": {"the": "secret-input"}, "ctx": {"given": "secret-input"}}]
    detail, items = describe_validation_errors(raw)
    assert detail == "value: Input should be a string"
    assert items == [{"field": "value", "in": "body", "rule": "string_type",
                      "message": "Input should be a string"}]
    assert "secret-input" not in json.dumps(items)
