"""Fixtures of the API tests: an app on each real database, two tenants, a token per role.

`world` is the cast every API test uses: tenant `acme` with a token of each role (and a
revoked one), tenant `other` with an admin token, and helpers to make fresh secrets and
tokens. `SECRET_MARK` starts every value the tests store, so a test can assert that no
response body ever contains one.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.api import create_app
from hub.config import Settings
from hub.keyfiles import load_master_keyring, load_transport_keys
from hub.runtime import Hub, open_hub
from hub.secret_value import SecretValue
from hub.tokens import TokenService

SECRET_MARK = "plaintext-"


def secret_text() -> str:
    """A value that could never appear in an answer by chance."""
    return SECRET_MARK + secrets.token_hex(12)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    settings = Settings(home=tmp_path / "home", database_url=database_url,
                        broker_url=None, master_key=None, transport_key=None)
    settings.ensure_home()
    load_master_keyring(settings, may_generate=True)
    load_transport_keys(settings, may_generate=True)
    return settings


@pytest.fixture
def hub(settings: Settings) -> Iterator[Hub]:
    hub = open_hub(settings)
    yield hub
    hub.close()


@pytest.fixture
def app(settings: Settings, hub: Hub) -> FastAPI:
    return create_app(settings, hub=hub)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    # raise_server_exceptions=False: a bug must show as the 500 a client would see.
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@dataclass
class World:
    """Two tenants and their tokens, plus helpers that make fresh objects in `acme`."""

    hub: Hub
    tokens: TokenService
    tenant_ids: dict[str, str]
    bearer: dict[str, str] = field(default_factory=dict)
    values: list[str] = field(default_factory=list)

    def headers(self, who: str) -> dict[str, str]:
        token = self.bearer.get(who)
        return {} if token is None else {"Authorization": f"Bearer {token}"}

    def new_token(self, role: str = "viewer", tenant: str = "acme") -> tuple[str, str]:
        issued = self.tokens.create(self.tenant_ids[tenant], role, description="test",
                                    actor="test")
        return issued.info.id, issued.token

    def new_secret(self, tenant: str = "acme", *, versions: int = 2) -> str:
        """A fresh text secret with `versions` versions; its key."""
        key = f"{tenant}-key-{secrets.token_hex(4)}"
        value = secret_text()
        self.values.append(value)
        self.hub.secrets.create(tenant, key, SecretValue(value), type="text",
                                description="made by a test", actor="test")
        for _ in range(versions - 1):
            value = secret_text()
            self.values.append(value)
            self.hub.secrets.update(tenant, key, value=SecretValue(value), actor="test")
        return key


@pytest.fixture
def world(hub: Hub, app: FastAPI) -> World:
    tenant_ids = {name: hub.tenants.create(name, actor="test").id for name in ("acme", "other")}
    world = World(hub=hub, tokens=app.state.tokens, tenant_ids=tenant_ids)
    for role in ("viewer", "writer", "admin", "ingest"):
        world.bearer[role] = world.new_token(role)[1]
    revoked_id, world.bearer["revoked"] = world.new_token("admin")
    world.tokens.revoke(tenant_ids["acme"], revoked_id, actor="test")
    world.bearer["other_admin"] = world.new_token("admin", tenant="other")[1]
    world.bearer["bad"] = "sk_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return world
