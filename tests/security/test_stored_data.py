"""What the database and the audit trail keep: never a value, never a token.

Every action the API offers on secrets and tokens is run with fresh values; then every row
of every table (the audit trail included) and every audit answer is searched for those
values and tokens in any common encoding.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.db import Base, transaction
from tests.security.conftest import World, leaked, secret_text

SECRETS = "/api/v1/secrets"
TOKENS = "/api/v1/tokens"


def dump_database(world: World) -> str:
    """Every column of every row of every table, as text (bytes also as hex and latin-1)."""
    parts: list[str] = []
    with transaction(world.hub.sessions) as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                for cell in row:
                    if isinstance(cell, bytes | bytearray | memoryview):
                        data = bytes(cell)
                        parts += [data.hex(), data.decode("latin-1")]
                    else:
                        parts.append(str(cell))
    return "\n".join(parts)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def run_every_secret_action(client: TestClient, world: World) -> list[str | bytes]:
    """Create, update, restore, rename, delete, undelete, retain: text, file and form."""
    writer, admin = world.headers("writer"), world.headers("admin")
    text, text2, text3 = secret_text(), secret_text(), secret_text()
    binary = b"\x00\xff" + secret_text().encode() + b"\x80"
    form_file = secret_text()
    _ok(client.post(SECRETS, json={"key": "api", "value": text, "note": "first"},
                    headers=writer), 201)
    _ok(client.post(SECRETS, json={"key": "api", "value": text2}, headers=writer), 409)
    _ok(client.patch(f"{SECRETS}/api", json={"value": text2, "note": "second"},
                     headers=writer))
    _ok(client.patch(f"{SECRETS}/api", json={"value": text3, "expected_version": 1},
                     headers=writer), 409)
    _ok(client.post(f"{SECRETS}/api/versions/1/restore", json={"note": "back"},
                    headers=writer))
    _ok(client.post(f"{SECRETS}/api/rename", json={"new_key": "api2"}, headers=writer))
    _ok(client.post(SECRETS, json={"key": "bin", "type": "file", "filename": "k.der",
                                   "media_type": "application/octet-stream",
                                   "value": base64.b64encode(binary).decode()},
                    headers=writer), 201)
    _ok(client.post(SECRETS, data={"key": "pem"},
                    files={"file": ("id.pem", form_file.encode(), "text/plain")},
                    headers=writer), 201)
    _ok(client.delete(f"{SECRETS}/api2", params={"dry_run": "true"}, headers=writer))
    _ok(client.delete(f"{SECRETS}/api2", headers=writer))
    _ok(client.post(f"{SECRETS}/api2/undelete", headers=admin))
    _ok(client.post(f"{SECRETS}/retention", json={"max_versions": 1}, headers=admin))
    return [text, text2, text3, binary, form_file]


def test_no_value_of_any_secret_action_is_stored_in_clear_or_in_the_audit_trail(
        client: TestClient, world: World) -> None:
    values = run_every_secret_action(client, world)
    assert leaked(dump_database(world), *values) == []
    page = _ok(client.get("/api/v1/audit", params={"limit": 1000},
                          headers=world.headers("admin")))
    actions = {entry["action"] for entry in page["entries"]}
    assert {"secret.create", "secret.update", "secret.restore", "secret.rename",
            "secret.delete", "secret.undelete"} <= actions, actions
    assert leaked(str(page), *values) == []


def test_no_answer_to_any_secret_action_holds_a_value(
        client: TestClient, world: World) -> None:
    answers: list[str] = []
    original = client.request

    def recording(*args: Any, **kwargs: Any) -> Any:
        response = original(*args, **kwargs)
        answers.append(response.text)
        return response

    client.request = recording  # type: ignore[method-assign]
    values = run_every_secret_action(client, world)
    for path in (SECRETS, f"{SECRETS}/api2", f"{SECRETS}/api2/versions", f"{SECRETS}/bin",
                 f"{SECRETS}/pem"):
        answers.append(client.get(path, headers=world.headers("viewer")).text)
    assert len(answers) > 15
    assert leaked("\n".join(answers), *values) == []


def test_a_token_is_shown_once_and_kept_nowhere_but_as_its_hash(
        client: TestClient, world: World, logs: io.StringIO) -> None:
    admin = world.headers("admin")
    created = _ok(client.post(TOKENS, json={"role": "writer", "description": "ci"},
                              headers=admin), 201)
    token = created["token"]
    used = {"Authorization": f"Bearer {token}"}
    _ok(client.get(SECRETS, headers=used))
    later = [
        client.get(TOKENS, headers=admin).text,
        client.get(f"{TOKENS}/{created['id']}", headers=admin).text,
        client.delete(f"{TOKENS}/{created['id']}", headers=admin).text,
        client.get(TOKENS, params={"include_revoked": "true"}, headers=admin).text,
        client.get("/api/v1/audit", headers=admin).text,
    ]
    assert client.get(SECRETS, headers=used).status_code == 401
    # The shown prefix is only the kind and 8 characters: the rest is nowhere.
    secret_part = token[11:]
    assert leaked("\n".join(later), token, secret_part) == []
    assert leaked(dump_database(world), token, secret_part) == []
    bearers = [world.bearer[who] for who in ("viewer", "writer", "admin", "ingest", "revoked")]
    assert leaked(dump_database(world), *bearers) == []
    assert leaked(logs.getvalue(), token, secret_part, *bearers) == []


def test_the_repr_of_a_created_token_answer_masks_the_token(
        client: TestClient, world: World) -> None:
    from hub.api.schemas import TokenCreated

    created = _ok(client.post(TOKENS, json={"role": "viewer"},
                              headers=world.headers("admin")), 201)
    answer = TokenCreated.model_validate(created)
    assert created["token"] not in repr(answer) and created["token"] not in str(answer)
