"""The reference index: written with its owner, replaced on every save, found across umbrellas."""
# ruff: noqa: F811  (the fixtures imported from the automation tests are parameters here)

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub import db
from hub.automations import AutomationService
from hub.errors import InvalidInput
from hub.parameters import ParameterSpec
from hub.references import (
    SecretReference,
    find_references,
    missing_keys,
    references_by_owner,
    replace_references,
)
from hub.tenants import tenant_id_of
from tests.hub.automations.conftest import (  # noqa: F401  (fixtures)
    clock,
    make_secret,
    make_tenant,
    service,
    sessions,
    tenant,
)

URL = {"name": "url", "type": "STRING", "value": "https://x.example"}


def secret(name: str, key: str) -> dict[str, str]:
    return {"name": name, "type": "SECRET", "value": key}


def index(sessions: sessionmaker[Session]) -> list[tuple[str, str, str, str]]:
    with db.transaction(sessions) as session:
        return sorted(tuple(row) for row in session.execute(
            select(SecretReference.secret_key, SecretReference.owner_kind,
                   SecretReference.owner_name, SecretReference.parameter)))


def test_saving_an_owner_writes_one_row_per_secret_parameter(
        service: AutomationService, tenant: str, sessions: sessionmaker[Session]) -> None:
    service.create_event_type(tenant, name="e", actor="t",
                              parameters=[secret("password", "db_password")])
    service.create_action(tenant, name="hook", sink="http", actor="t",
                          parameters=[URL, secret("auth_token", "hook_token")])
    assert index(sessions) == [("db_password", "event_type", "e", "password"),
                               ("hook_token", "action", "hook", "auth_token")]


def test_rows_are_replaced_on_update_and_dropped_on_delete(
        service: AutomationService, tenant: str, sessions: sessionmaker[Session]) -> None:
    action = service.create_action(tenant, name="hook", sink="http", actor="t",
                                   parameters=[URL, secret("auth_token", "old_token")]).item
    service.update_action(tenant, "hook", sink="http", actor="t",
                          parameters=[URL, secret("password", "new_password"),
                                      {"name": "username", "type": "STRING", "value": "bot"}])
    assert index(sessions) == [("new_password", "action", "hook", "password")]
    with db.transaction(sessions) as session:
        assert references_by_owner(session, owner_kind="action", owner_id=action.id) == {
            "password": "new_password"}
    service.delete_action(tenant, "hook", actor="t")
    assert index(sessions) == []


def test_a_failed_save_leaves_no_rows(tenant: str, sessions: sessionmaker[Session]) -> None:
    with pytest.raises(RuntimeError), db.transaction(sessions) as session:
        replace_references(session, tenant_id=tenant_id_of(session, tenant),
                           owner_kind="action", owner_id="a-1", owner_name="hook",
                           parameters=[ParameterSpec("auth_token", "SECRET", "k")])
        raise RuntimeError("the owner's save failed after its references were written")
    assert index(sessions) == []


def test_a_refused_save_through_the_service_leaves_the_old_rows(
        service: AutomationService, tenant: str, sessions: sessionmaker[Session]) -> None:
    service.create_action(tenant, name="hook", sink="http", actor="t",
                          parameters=[URL, secret("auth_token", "hook_token")])
    with pytest.raises(InvalidInput):
        service.update_action(tenant, "hook", sink="http", actor="t",
                              parameters=[URL, secret("auth_token", "ghp_" + "a1B2" * 9)])
    assert index(sessions) == [("hook_token", "action", "hook", "auth_token")]


def test_find_references_reaches_every_tenant_under_an_umbrella(
        service: AutomationService, make_tenant: Callable[..., str],
        sessions: sessionmaker[Session]) -> None:
    parent = make_tenant("holding")
    child = make_tenant("shop", umbrella="holding")
    other = make_tenant("unrelated")
    for name in ("holding", "shop", "unrelated"):
        service.create_action(name, name="hook", sink="http", actor="t",
                              parameters=[URL, secret("auth_token", "shared_token")])
    with db.transaction(sessions) as session:
        found = find_references(session, [parent, child], "shared_token")
        assert sorted(ref.tenant for ref in found) == sorted([parent, child])
        assert {(ref.owner_kind, ref.owner, ref.parameter) for ref in found} == {
            ("action", "hook", "auth_token")}
        assert other not in [ref.tenant for ref in found]
        assert find_references(session, [parent, child], "other_key") == []
        assert find_references(session, [], "shared_token") == []


def test_missing_keys_resolve_through_the_umbrella_chain(
        make_tenant: Callable[..., str], make_secret: Callable[..., None],
        sessions: sessionmaker[Session]) -> None:
    make_tenant("holding")
    child = make_tenant("shop", umbrella="holding")
    make_secret("holding", "inherited")
    make_secret("shop", "local")
    with db.transaction(sessions) as session:
        assert missing_keys(session, child, ["inherited", "local", "absent"]) == ["absent"]
        assert missing_keys(session, tenant_id_of(session, "holding"), ["local"]) == ["local"]
        assert missing_keys(session, child, []) == []
