"""The authorization matrix: every route of the app x every kind of caller.

The table is keyed by the app's own routes, so a route added without an entry here fails
`test_every_route_has_an_entry_in_the_matrix`. An entry says the least role the route needs
(None: public), the status an allowed caller gets, and how to fill the path and body for a
fresh object of tenant `acme` (each caller gets its own, so one caller's delete does not
change what the next one sees).

Callers: no token, a malformed token, a revoked token, an ingest key, another tenant's
admin, then viewer, writer and admin of `acme`. Another tenant's admin gets 404 for acme's
objects (not 403: it must not learn they exist) and sees none of acme's objects in lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Route

from tests.hub.api.conftest import SECRET_MARK, World, secret_text

LADDER = {"viewer": 1, "writer": 2, "admin": 3}
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
Fill = Callable[[World], dict[str, Any]]


def nothing(_world: World) -> dict[str, Any]:
    return {}


def a_secret(world: World) -> dict[str, Any]:
    return {"key": world.new_secret()}


def a_token(world: World) -> dict[str, Any]:
    return {"token_id": world.new_token()[0]}


@dataclass(frozen=True)
class Entry:
    minimum: str | None
    ok: int
    fill: Fill = nothing
    body: Callable[[], Any] | None = None
    query: dict[str, str] = field(default_factory=dict)
    #: True when the route is about the caller's own tenant as a whole (lists, creates): a
    #: caller of another tenant gets `ok` for its own tenant rather than 404.
    collection: bool = False
    #: True when a `pk_` ingest key may call the route (posting events).
    ingest: bool = False


MATRIX: dict[tuple[str, str], Entry] = {
    ("GET", "/healthz"): Entry(None, 200),
    ("GET", "/readyz"): Entry(None, 200),
    ("GET", "/metrics"): Entry(None, 200),
    ("GET", "/api/v1/openapi.json"): Entry(None, 200),
    ("GET", "/api/v1/docs"): Entry(None, 200),
    ("POST", "/api/v1/tokens"): Entry("admin", 201, collection=True,
                                      body=lambda: {"role": "viewer", "description": "m"}),
    ("GET", "/api/v1/tokens"): Entry("admin", 200, collection=True),
    ("GET", "/api/v1/tokens/{token_id}"): Entry("admin", 200, a_token),
    ("DELETE", "/api/v1/tokens/{token_id}"): Entry("admin", 200, a_token),
    ("GET", "/api/v1/secrets"): Entry("viewer", 200, collection=True),
    ("POST", "/api/v1/secrets"): Entry(
        "writer", 201, collection=True,
        body=lambda: {"key": "new-" + secret_text()[-8:], "value": secret_text()}),
    ("POST", "/api/v1/secrets/retention"): Entry("admin", 200, collection=True,
                                                 body=lambda: {"max_versions": 5}),
    ("GET", "/api/v1/secrets/{key}"): Entry("viewer", 200, a_secret),
    ("PATCH", "/api/v1/secrets/{key}"): Entry("writer", 200, a_secret,
                                              body=lambda: {"value": secret_text()}),
    ("DELETE", "/api/v1/secrets/{key}"): Entry("writer", 200, a_secret),
    ("POST", "/api/v1/secrets/{key}/rename"): Entry(
        "writer", 200, a_secret, body=lambda: {"new_key": "renamed-" + secret_text()[-8:]}),
    ("GET", "/api/v1/secrets/{key}/versions"): Entry("viewer", 200, a_secret),
    ("POST", "/api/v1/secrets/{key}/versions/{version}/restore"): Entry(
        "writer", 200, lambda w: {**a_secret(w), "version": 1}),
    ("GET", "/api/v1/secrets/{key}/references"): Entry("viewer", 200, a_secret),
    ("POST", "/api/v1/secrets/{key}/undelete"): Entry("admin", 200, lambda w: _deleted(w)),
    ("GET", "/api/v1/audit"): Entry("admin", 200, collection=True),
}

# The automation, event, execution and hook routes; imported late because that module uses
# `Entry` and the fixtures above.
from tests.hub.api.automation_matrix import ENTRIES  # noqa: E402

MATRIX.update(ENTRIES)

DENIED_BEFORE_ANY_ROLE = {"anonymous": 401, "bad": 401, "revoked": 401}
CALLERS = ("anonymous", "bad", "revoked", "ingest", "other_admin", "viewer", "writer", "admin")


def _deleted(world: World) -> dict[str, Any]:
    key = world.new_secret()
    world.hub.secrets.delete("acme", key, force=True, actor="test")
    return {"key": key}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route: the OpenAPI paths, plus the app's own routes
    that are not in the schema (the schema and docs pages themselves)."""
    found = {(method.upper(), path) for path, operations in app.openapi()["paths"].items()
             for method in operations if method.upper() in HTTP_METHODS}
    for route in app.routes:
        if isinstance(route, Route):
            found.update((method, route.path) for method in route.methods or ()
                         if method != "HEAD")
    return found


def expected(entry: Entry, caller: str) -> int:
    if entry.minimum is None:
        return entry.ok
    if caller in DENIED_BEFORE_ANY_ROLE:
        return DENIED_BEFORE_ANY_ROLE[caller]
    if caller == "ingest":
        return entry.ok if entry.ingest else 403
    if caller == "other_admin":
        if LADDER["admin"] < LADDER[entry.minimum]:
            return 403
        return entry.ok if entry.collection else 404
    return entry.ok if LADDER[caller] >= LADDER[entry.minimum] else 403


def test_every_route_has_an_entry_in_the_matrix(app: FastAPI) -> None:
    routes = app_routes(app)
    assert routes - MATRIX.keys() == set(), "add these routes to MATRIX"
    assert MATRIX.keys() - routes == set(), "these MATRIX entries match no route"


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_caller_gets_the_status_its_role_allows_and_nothing_crosses_tenants(
        route: tuple[str, str], client: TestClient, world: World) -> None:
    method, template = route
    entry = MATRIX[route]
    acme_keys = {world.new_secret()}
    for caller in CALLERS:
        params = entry.fill(world)
        acme_keys.update(str(v) for k, v in params.items() if k == "key")
        path = template.format(**params)
        headers = world.headers("anonymous" if caller == "anonymous" else caller)
        body = entry.body() if entry.body else None
        response = client.request(method, path, headers=headers, json=body,
                                  params=entry.query)
        assert response.status_code == expected(entry, caller), (caller, response.text)
        assert SECRET_MARK not in response.text
        if caller == "other_admin" and entry.collection:
            assert not any(key in response.text for key in acme_keys), response.text
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
