"""The automation service: definitions saved whole or not at all, and the lookups ingest and
dispatch rely on. Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub import db
from hub.automations import AutomationService
from hub.errors import Conflict, InvalidInput, NotFound
from hub.parameters import ParameterSpec

Dump = Callable[[], dict[str, list[tuple[object, ...]]]]

URL = {"name": "url", "type": "STRING", "value": "https://hooks.example/{{ payload.team }}"}
TOKEN = {"name": "auth_token", "type": "SECRET", "value": "hook_token"}
ORDER_SCHEMA = {"type": "object", "required": ["id"],
                "properties": {"id": {"type": "integer"}, "total": {"type": "number"}}}


def p(name: str, type_: str, value: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "value": value}


@pytest.fixture
def wired(service: AutomationService, tenant: str) -> AutomationService:
    """An event type, an http action and an automation linking them."""
    service.create_event_type(tenant, name="order.created", schema=ORDER_SCHEMA, actor="t")
    service.create_action(tenant, name="notify", sink="http", parameters=[URL, TOKEN], actor="t")
    service.create_automation(tenant, name="orders-to-hook", event_type="order.created",
                              action="notify", actor="t")
    return service


# -- CRUD ------------------------------------------------------------------------------------

def test_event_type_is_created_read_listed_replaced_and_deleted(
        service: AutomationService, tenant: str) -> None:
    saved = service.create_event_type(tenant, name="order.created", schema=ORDER_SCHEMA,
                                      parameters=[p("region", "STRING", "eu")], actor="alice")
    assert saved.warnings == []
    assert saved.item.schema == ORDER_SCHEMA
    assert saved.item.parameters == [ParameterSpec("region", "STRING", "eu")]
    assert service.get_event_type(tenant, "order.created") == saved.item
    assert [e.name for e in service.list_event_types(tenant)] == ["order.created"]

    replaced = service.update_event_type(tenant, "order.created", actor="alice").item
    assert replaced.schema is None and replaced.parameters == []
    assert replaced.updated_at > saved.item.updated_at
    assert replaced.created_at == saved.item.created_at

    service.delete_event_type(tenant, "order.created", actor="alice")
    with pytest.raises(NotFound):
        service.get_event_type(tenant, "order.created")


def test_action_is_created_read_listed_replaced_and_deleted(
        service: AutomationService, tenant: str) -> None:
    saved = service.create_action(tenant, name="notify", sink="http", parameters=[URL],
                                  timeout=12.5, retry={"attempts": 5, "backoff": 2},
                                  actor="alice")
    action = saved.item
    assert (action.sink, action.timeout, action.retry_attempts, action.retry_backoff) == \
        ("http", 12.5, 5, 2.0)
    assert service.get_action(tenant, "notify") == action
    assert [a.name for a in service.list_actions(tenant)] == ["notify"]

    replaced = service.update_action(tenant, "notify", sink="log", actor="alice").item
    assert (replaced.sink, replaced.parameters, replaced.timeout) == ("log", [], 30.0)
    service.delete_action(tenant, "notify", actor="alice")
    assert service.list_actions(tenant) == []


def test_automation_is_created_read_listed_replaced_and_deleted(
        wired: AutomationService, tenant: str) -> None:
    automation = wired.get_automation(tenant, "orders-to-hook")
    assert (automation.event_type, automation.action, automation.enabled,
            automation.condition) == ("order.created", "notify", True, None)
    assert [a.name for a in wired.list_automations(tenant)] == ["orders-to-hook"]

    wired.create_action(tenant, name="log-it", sink="log", actor="t")
    replaced = wired.update_automation(tenant, "orders-to-hook", event_type="order.created",
                                       action="log-it", condition="total > `100`",
                                       enabled=False, actor="t").item
    assert (replaced.action, replaced.condition, replaced.enabled) == \
        ("log-it", "total > `100`", False)
    wired.delete_automation(tenant, "orders-to-hook", actor="t")
    with pytest.raises(NotFound):
        wired.get_automation(tenant, "orders-to-hook")


def test_names_are_unique_per_tenant_but_free_across_tenants(
        service: AutomationService, tenant: str, make_tenant: Callable[..., str]) -> None:
    service.create_action(tenant, name="notify", sink="log", actor="t")
    with pytest.raises(Conflict):
        service.create_action(tenant, name="notify", sink="log", actor="t")
    make_tenant("globex")
    service.create_action("globex", name="notify", sink="log", actor="t")
    assert [a.name for a in service.list_actions("globex")] == ["notify"]


def test_an_unknown_tenant_is_not_found(service: AutomationService) -> None:
    with pytest.raises(NotFound):
        service.list_actions("nobody")


def test_definitions_of_one_tenant_are_invisible_to_another(
        wired: AutomationService, tenant: str, make_tenant: Callable[..., str]) -> None:
    make_tenant("globex")
    assert wired.list_automations("globex") == []
    with pytest.raises(NotFound):
        wired.get_action("globex", "notify")


# -- refusals ------------------------------------------------------------------------------

def test_an_unknown_sink_is_refused_naming_the_installed_sinks(
        service: AutomationService, tenant: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.create_action(tenant, name="a", sink="carrier-pigeon", actor="t")
    assert "http" in caught.value.message and "smtp" in caught.value.message


def test_a_parameter_the_sink_does_not_take_is_refused_naming_its_parameters(
        service: AutomationService, tenant: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.create_action(tenant, name="a", sink="http",
                              parameters=[URL, p("colour", "STRING", "red")], actor="t")
    assert "'colour'" in caught.value.message and "auth_token" in caught.value.message


@pytest.mark.parametrize("bad", [
    p("method", "STRING", "FETCH"), p("timeout", "NUMBER", -1),
    p("headers", "JSON", ["not", "a", "mapping"]), p("url", "STRING", "ftp://x.example"),
])
def test_a_value_the_sinks_model_refuses_is_refused_at_save(
        service: AutomationService, tenant: str, bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.create_action(tenant, name="a", sink="http", parameters=[URL, bad]
                              if bad["name"] != "url" else [bad], actor="t")
    assert bad["name"] in caught.value.message


def test_a_credential_field_bound_to_a_plain_string_is_refused_naming_the_field(
        service: AutomationService, tenant: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.create_action(tenant, name="a", sink="http",
                              parameters=[URL, p("auth_token", "STRING", "hook_token")],
                              actor="t")
    assert "'auth_token'" in caught.value.message and "SECRET" in caught.value.message


def test_a_literal_value_in_a_secret_parameter_is_refused_without_echoing_it(
        service: AutomationService, tenant: str) -> None:
    literal = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
    with pytest.raises(InvalidInput) as caught:
        service.create_action(tenant, name="a", sink="http",
                              parameters=[URL, p("auth_token", "SECRET", literal)], actor="t")
    assert caught.value.message.endswith(
        "parameter 'auth_token' of type SECRET must name a secret key, not hold a value "
        "(a key is 1 to 128 letters, digits, '_', '.' or '-', starting with a letter or '_')")
    assert literal not in repr(caught.value) and literal not in str(caught.value.details)


def test_an_unknown_parameter_type_is_refused(service: AutomationService, tenant: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.create_event_type(tenant, name="e", parameters=[p("x", "DATE", "2020")],
                                  actor="t")
    assert "'x'" in caught.value.message and "STRING" in caught.value.message


def test_a_bad_template_is_refused_at_save(service: AutomationService, tenant: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.create_action(tenant, name="a", sink="http",
                              parameters=[p("url", "STRING", "https://x/{{ payload.id ")],
                              actor="t")
    assert "syntax error" in caught.value.message


def test_a_bad_jmespath_condition_is_refused_clearly(
        wired: AutomationService, tenant: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        wired.create_automation(tenant, name="x", event_type="order.created",
                                action="notify", condition="total >", actor="t")
    assert "JMESPath" in caught.value.message


def test_an_invalid_payload_schema_is_refused(service: AutomationService, tenant: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        service.create_event_type(tenant, name="e", schema={"type": "integr"}, actor="t")
    assert "schema" in caught.value.message


@pytest.mark.parametrize(("timeout", "retry"), [
    (0, None), (3601, None), ("30", None), (30, {"attempts": 0}), (30, {"attempts": 21}),
    (30, {"backoff": -1}), (30, {"attempts": 2, "jitter": True}), (30, {"attempts": 2.5}),
])
def test_out_of_range_timeouts_and_retry_policies_are_refused(
        service: AutomationService, tenant: str, timeout: Any, retry: Any) -> None:
    with pytest.raises(InvalidInput):
        service.create_action(tenant, name="a", sink="log", timeout=timeout, retry=retry,
                              actor="t")


def test_an_automation_missing_a_required_sink_field_is_refused(
        service: AutomationService, tenant: str) -> None:
    service.create_event_type(tenant, name="e", actor="t")
    service.create_action(tenant, name="mail", sink="smtp", parameters=[
        p("from_address", "STRING", "hub@example.com"), p("to", "JSON", ["ops@example.com"]),
        p("subject", "STRING", "hi"), p("body", "STRING", "{{ payload | tojson }}")], actor="t")
    with pytest.raises(InvalidInput) as caught:
        service.create_automation(tenant, name="x", event_type="e", action="mail", actor="t")
    assert "host" in caught.value.message


def test_the_event_type_may_supply_a_required_sink_field(
        service: AutomationService, tenant: str) -> None:
    service.create_event_type(tenant, name="e", parameters=[p("url", "STRING", "https://x")],
                              actor="t")
    service.create_action(tenant, name="hook", sink="http", actor="t")
    saved = service.create_automation(tenant, name="x", event_type="e", action="hook",
                                      actor="t")
    assert saved.warnings == []


def test_an_event_type_parameter_the_sink_does_not_take_is_a_warning_and_not_sent(
        service: AutomationService, tenant: str, sessions: sessionmaker[Session]) -> None:
    service.create_event_type(tenant, name="e", parameters=[p("region", "STRING", "eu")],
                              actor="t")
    action = service.create_action(tenant, name="hook", sink="http", parameters=[URL],
                                   actor="t").item
    saved = service.create_automation(tenant, name="x", event_type="e", action="hook",
                                      actor="t")
    assert any("'region'" in warning for warning in saved.warnings)
    with db.transaction(sessions) as session:
        plan = service.delivery_plan(session, action.id,
                                     service.get_event_type(tenant, "e").id)
    assert [spec.name for spec in plan.parameters] == ["url"]


def test_an_event_type_credential_bound_to_a_string_is_refused_when_linked(
        service: AutomationService, tenant: str) -> None:
    service.create_event_type(tenant, name="e", parameters=[p("auth_token", "STRING", "x")],
                              actor="t")
    service.create_action(tenant, name="hook", sink="http", parameters=[URL], actor="t")
    with pytest.raises(InvalidInput) as caught:
        service.create_automation(tenant, name="x", event_type="e", action="hook", actor="t")
    assert "'auth_token'" in caught.value.message


def test_an_update_that_would_break_a_linked_automation_is_refused(
        wired: AutomationService, tenant: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        wired.update_action(tenant, "notify", sink="http", parameters=[TOKEN], actor="t")
    assert "'orders-to-hook'" in caught.value.message and "url" in caught.value.message
    assert wired.get_action(tenant, "notify").parameters[0].name == "url"


def test_an_event_type_in_use_cannot_be_deleted_and_the_error_names_its_automations(
        wired: AutomationService, tenant: str) -> None:
    with pytest.raises(Conflict) as caught:
        wired.delete_event_type(tenant, "order.created", actor="t")
    assert "'orders-to-hook'" in caught.value.message
    assert caught.value.details["automations"] == ["orders-to-hook"]


def test_an_action_in_use_cannot_be_deleted(wired: AutomationService, tenant: str) -> None:
    with pytest.raises(Conflict) as caught:
        wired.delete_action(tenant, "notify", actor="t")
    assert "'orders-to-hook'" in caught.value.message


def test_an_automation_naming_an_unknown_action_is_not_found(
        wired: AutomationService, tenant: str) -> None:
    with pytest.raises(NotFound):
        wired.create_automation(tenant, name="x", event_type="order.created",
                                action="missing", actor="t")


def test_every_bad_input_changes_nothing(wired: AutomationService, tenant: str,
                                         dump: Dump) -> None:
    before = dump()
    attempts: list[Callable[[], object]] = [
        lambda: wired.create_action(tenant, name="bad name!", sink="log", actor="t"),
        lambda: wired.create_action(tenant, name="a", sink="nope", actor="t"),
        lambda: wired.create_action(tenant, name="a", sink="http", actor="t", parameters=[
            URL, p("auth_token", "SECRET", "sk_live_51HqLyjWDarjtT1zdp7dcXkQ")]),
        lambda: wired.create_action(tenant, name="a", sink="http", actor="t", parameters=[
            URL, p("auth_token", "STRING", "plain")]),
        lambda: wired.create_action(tenant, name="notify", sink="log", actor="t"),
        lambda: wired.update_action(tenant, "notify", sink="http", parameters=[TOKEN],
                                    actor="t"),
        lambda: wired.create_event_type(tenant, name="e", schema={"type": 5}, actor="t"),
        lambda: wired.create_event_type(tenant, name="e", actor="t",
                                        parameters=[p("x", "FLOAT", 1)]),
        lambda: wired.update_event_type(tenant, "order.created", actor="t",
                                        parameters=[p("headers", "JSON", [1])]),
        lambda: wired.delete_event_type(tenant, "order.created", actor="t"),
        lambda: wired.delete_action(tenant, "notify", actor="t"),
        lambda: wired.create_automation(tenant, name="x", event_type="order.created",
                                        action="notify", condition="a[", actor="t"),
        lambda: wired.update_automation(tenant, "orders-to-hook", event_type="nope",
                                        action="notify", actor="t"),
        lambda: wired.create_automation("nobody", name="x", event_type="order.created",
                                        action="notify", actor="t"),
    ]
    for attempt in attempts:
        with pytest.raises((InvalidInput, NotFound, Conflict)):
            attempt()
    assert dump() == before


# -- warnings ------------------------------------------------------------------------------

def test_saving_an_action_that_names_a_missing_key_warns_but_saves(
        service: AutomationService, tenant: str) -> None:
    saved = service.create_action(tenant, name="a", sink="http", parameters=[URL, TOKEN],
                                  actor="t")
    assert len(saved.warnings) == 1
    assert "'hook_token'" in saved.warnings[0] and "'auth_token'" in saved.warnings[0]
    assert service.get_action(tenant, "a").parameters[1].value == "hook_token"


# -- ingest and dispatch ---------------------------------------------------------------------

def test_validate_payload_returns_the_event_type_or_names_path_and_rule(
        wired: AutomationService, tenant: str, sessions: sessionmaker[Session],
        make_tenant: Callable[..., str]) -> None:
    with db.transaction(sessions) as session:
        from hub.tenants import tenant_id_of

        tenant_id = tenant_id_of(session, tenant)
        info = wired.validate_payload(session, tenant_id, "order.created", {"id": 1})
        assert info.name == "order.created"
        with pytest.raises(InvalidInput) as caught:
            wired.validate_payload(session, tenant_id, "order.created",
                                   {"id": "hunter2-not-a-number"})
        assert "$.id" in caught.value.message and "type" in caught.value.message
        assert "hunter2" not in caught.value.message
        with pytest.raises(InvalidInput) as caught:
            wired.validate_payload(session, tenant_id, "order.created", {"total": 3})
        assert "required" in caught.value.message
        with pytest.raises(NotFound):
            wired.validate_payload(session, tenant_id, "order.deleted", {})


def test_matching_honours_the_enabled_flag_and_the_condition(
        wired: AutomationService, tenant: str, sessions: sessionmaker[Session]) -> None:
    wired.create_action(tenant, name="log-it", sink="log", actor="t")
    wired.create_automation(tenant, name="big-orders", event_type="order.created",
                            action="log-it", condition="total > `100`", actor="t")
    wired.create_automation(tenant, name="switched-off", event_type="order.created",
                            action="log-it", enabled=False, actor="t")
    wired.create_automation(tenant, name="zero-is-true", event_type="order.created",
                            action="log-it", condition="id", actor="t")
    with db.transaction(sessions) as session:
        from hub.tenants import tenant_id_of

        tenant_id = tenant_id_of(session, tenant)

        def names(payload: dict[str, Any]) -> list[str]:
            return [m.automation.name for m in
                    wired.matching(session, tenant_id, "order.created", payload)]

        assert names({"id": 0, "total": 500}) == ["big-orders", "orders-to-hook",
                                                  "zero-is-true"]
        assert names({"id": 0, "total": 5}) == ["orders-to-hook", "zero-is-true"]
        # JMESPath cannot order a string against a number: the condition does not hold.
        assert names({"id": None, "total": "lots"}) == ["orders-to-hook"]
        assert wired.matching(session, tenant_id, "order.deleted", {}) == []
        match = wired.matching(session, tenant_id, "order.created", {"id": 1})[0]
        assert match.action.name == "notify" and match.action_id == match.action.id


def test_the_delivery_plan_merges_parameters_with_the_action_winning_and_keys_not_values(
        service: AutomationService, tenant: str, sessions: sessionmaker[Session]) -> None:
    event_type = service.create_event_type(tenant, name="e", parameters=[
        p("url", "STRING", "https://event-type.example"), p("timeout", "NUMBER", 5),
        p("password", "SECRET", "shared_password"), p("username", "STRING", "bot")],
        actor="t").item
    action = service.create_action(tenant, name="hook", sink="http", timeout=9,
                                   retry={"attempts": 4, "backoff": 1.5}, parameters=[
        p("url", "STRING", "https://action.example/{{ payload.id }}")], actor="t").item
    service.create_automation(tenant, name="x", event_type="e", action="hook", actor="t")
    with db.transaction(sessions) as session:
        plan = service.delivery_plan(session, action.id, event_type.id)
    assert (plan.sink, plan.timeout, plan.retry_attempts, plan.retry_backoff) == \
        ("http", 9.0, 4, 1.5)
    values = {spec.name: spec.value for spec in plan.parameters}
    assert values["url"] == "https://action.example/{{ payload.id }}"
    assert values["timeout"] == 5
    assert plan.secret_params == {"password": "shared_password"}
    assert plan.owners["url"] == ("action", "hook")
    assert plan.owners["password"] == ("event_type", "e")


def test_the_delivery_plan_of_a_deleted_action_is_not_found(
        service: AutomationService, sessions: sessionmaker[Session]) -> None:
    with db.transaction(sessions) as session, pytest.raises(NotFound):
        service.delivery_plan(session, "00000000-0000-0000-0000-000000000000", None)
