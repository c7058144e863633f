"""Signed webhooks: every refusal is the same 401, costs one constant-time comparison, and
leaves no trace in the database.

A stranger probing `/hooks/{tenant}/{event_type}` must not learn which tenants, event types
or signing keys exist: not from the status, the body or the headers of the answer, and not
from whether a comparison ran.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hub import hooks
from hub.audit import AuditEntry
from hub.db import transaction
from hub.executions import Event, Execution
from hub.hooks import SIGNATURE_HEADER, sign
from hub.secret_value import SecretValue
from tests.security.conftest import World, leaked, secret_text

BODY = json.dumps({"ref": "main"}).encode()


@pytest.fixture
def signing(world: World) -> dict[str, str]:
    """acme and other each have a signed `push` type; acme also `unsigned` and `dangling`."""
    values = {}
    for tenant in ("acme", "other"):
        values[tenant] = secret_text()
        world.hub.secrets.create(tenant, "push-signing", SecretValue(values[tenant]),
                                 type="text", actor="test")
        world.hub.automations.create_event_type(tenant, name="push", actor="test", parameters=[
            {"name": "signing_secret", "type": "SECRET", "value": "push-signing"}])
    world.hub.automations.create_event_type("acme", name="unsigned", actor="test")
    world.hub.automations.create_event_type("acme", name="dangling", actor="test", parameters=[
        {"name": "signing_secret", "type": "SECRET", "value": "no-such-key"}])
    return values


def _refusals(values: dict[str, str]) -> dict[str, tuple[str, dict[str, str]]]:
    good = sign(BODY, values["acme"].encode())
    return {
        "wrong signature": ("/hooks/acme/push", {SIGNATURE_HEADER: "sha256=" + "0" * 64}),
        "no signature": ("/hooks/acme/push", {}),
        "other scheme": ("/hooks/acme/push", {SIGNATURE_HEADER: good.replace("sha256", "sha1")}),
        "not ascii": ("/hooks/acme/push", {SIGNATURE_HEADER: "sha256=ü" + good[8:]}),
        "upper-case scheme": ("/hooks/acme/push", {SIGNATURE_HEADER: good.upper()}),
        "other tenant's secret": ("/hooks/acme/push",
                                  {SIGNATURE_HEADER: sign(BODY, values["other"].encode())}),
        "signed for another tenant": ("/hooks/other/push", {SIGNATURE_HEADER: good}),
        "unknown tenant": ("/hooks/nobody/push", {SIGNATURE_HEADER: good}),
        "unknown type": ("/hooks/acme/nothing", {SIGNATURE_HEADER: good}),
        "unsigned type": ("/hooks/acme/unsigned", {SIGNATURE_HEADER: good}),
        "signing key missing": ("/hooks/acme/dangling", {SIGNATURE_HEADER: good}),
        "tenant name invalid": ("/hooks/no%20such%20tenant!/push", {SIGNATURE_HEADER: good}),
        "tenant name too long": ("/hooks/" + "t" * 400 + "/push", {SIGNATURE_HEADER: good}),
        "type name invalid": ("/hooks/acme/..%2A/", {SIGNATURE_HEADER: good}),
    }


def _answer(client: TestClient, world: World, path: str,
            headers: dict[str, str]) -> tuple[int, str, str | None]:
    # Header values go as latin-1 bytes, as a raw client could send them.
    raw = {name: value.encode("latin-1") for name, value in headers.items()}
    response = client.post(path, content=BODY,
                           headers={**raw, "Content-Type": b"application/json"})
    return response.status_code, response.text, response.headers.get("www-authenticate")


def _stored(world: World) -> tuple[int, int, int]:
    with transaction(world.hub.sessions) as session:
        return tuple(int(session.scalar(select(func.count()).select_from(model)) or 0)
                     for model in (Event, Execution, AuditEntry))  # type: ignore[return-value]


def test_every_refused_hook_gets_the_same_401_answer_and_stores_nothing(
        client: TestClient, world: World, signing: dict[str, str]) -> None:
    before = _stored(world)
    answers = {case: _answer(client, world, path, headers)
               for case, (path, headers) in _refusals(signing).items()}
    reference = answers["wrong signature"]
    assert reference[0] == 401
    for case, answer in answers.items():
        assert answer == reference, case
        assert leaked(answer[1], *signing.values()) == []
    assert _stored(world) == before


def test_a_right_signature_is_accepted_so_the_refusals_above_are_not_vacuous(
        client: TestClient, world: World, signing: dict[str, str]) -> None:
    headers = {SIGNATURE_HEADER: sign(BODY, signing["acme"].encode())}
    assert _answer(client, world, "/hooks/acme/push", headers)[0] == 202


def test_every_hook_refusal_runs_exactly_one_constant_time_comparison(
        client: TestClient, world: World, signing: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real: Callable[..., Any] = hmac.compare_digest

    def counting(a: Any, b: Any) -> bool:
        calls.append(1)
        return bool(real(a, b))

    monkeypatch.setattr(hooks.hmac, "compare_digest", counting)
    for case, (path, headers) in _refusals(signing).items():
        calls.clear()
        _answer(client, world, path, headers)
        assert len(calls) == 1, case
