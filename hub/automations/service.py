"""Define Event Types, Actions and Automations; answer dispatch's questions about them.

Every change is checked in full before anything is written (see `rules` and
`hub.parameters`), then written in one transaction together with its reference-index rows
and its audit record, so a refusal changes nothing and a saved definition is always indexed
and audited. Saving may return warnings (a secret key that does not exist yet, an event type
parameter the action's sink does not take): the definition is saved, but the author should
know.

Ingest uses `validate_payload` and `matching`; the dispatcher uses `delivery_plan`. Those take
the caller's session and a tenant id, so they join the caller's transaction; they live in
`hub.automations.routing`, and the service offers them as methods.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hub import audit, references
from hub.automations import routing, rules
from hub.automations.models import (
    KIND,
    Action,
    ActionInfo,
    Automation,
    AutomationInfo,
    Definition,
    DeliveryPlan,
    EventType,
    EventTypeInfo,
    Match,
    Saved,
    find_named,
)
from hub.db import transaction
from hub.errors import Conflict, InvalidInput
from hub.parameters import (
    ParameterSpec,
    merge_parameters,
    parameters_to_json,
    parse_parameters,
    secret_keys,
)
from hub.tenants import tenant_id_of
from sinks.base import get_sink

Clock = Callable[[], datetime]


class AutomationService:
    """CRUD for the three definitions of a tenant, plus the lookups ingest and dispatch need."""

    def __init__(self, sessions: sessionmaker[Session], *, clock: Clock,
                 sinks: rules.SinkLookup = get_sink) -> None:
        self.sessions = sessions
        self.clock = clock
        self.sinks = sinks

    # -- event types ---------------------------------------------------------------------

    def create_event_type(self, tenant: str, *, name: str, schema: Any = None,
                          parameters: Sequence[Mapping[str, Any]] = (),
                          actor: str) -> Saved[EventTypeInfo]:
        name = rules.check_name(name, what="event type")
        schema, params = self._event_type_fields(name, schema, parameters)
        with self._writing(EventType, name) as session:
            tenant_id = tenant_id_of(session, tenant)
            self._refuse_duplicate(session, EventType, tenant_id, name)
            now = self.clock()
            row = EventType(id=_new_id(), tenant_id=tenant_id, name=name, payload_schema=schema,
                            parameters=parameters_to_json(params), created_at=now,
                            updated_at=now)
            session.add(row)
            return Saved(row.info(), self._saved(session, row, params, actor, "create"))

    def update_event_type(self, tenant: str, name: str, *, schema: Any = None,
                          parameters: Sequence[Mapping[str, Any]] = (),
                          actor: str) -> Saved[EventTypeInfo]:
        """Replace the schema and parameters (PUT: what is not given is cleared)."""
        schema, params = self._event_type_fields(name, schema, parameters)
        with self._writing(EventType, name) as session:
            tenant_id = tenant_id_of(session, tenant)
            row = find_named(session, EventType, tenant_id, name)
            warnings = []
            for automation in self._users(session, Automation.event_type_id, row.id):
                action = automation.action
                warnings += self._check_link(automation.name, params, action)
            row.payload_schema, row.parameters = schema, parameters_to_json(params)
            row.updated_at = self.clock()
            warnings += self._saved(session, row, params, actor, "update")
            return Saved(row.info(), warnings)

    def get_event_type(self, tenant: str, name: str) -> EventTypeInfo:
        with transaction(self.sessions) as session:
            return find_named(session, EventType, tenant_id_of(session, tenant), name).info()

    def list_event_types(self, tenant: str) -> list[EventTypeInfo]:
        with transaction(self.sessions) as session:
            return [row.info() for row in self._all(session, EventType, tenant)]

    def delete_event_type(self, tenant: str, name: str, *, actor: str) -> None:
        """Refused (Conflict, naming them) while automations use the event type."""
        with self._writing(EventType, name) as session:
            row = find_named(session, EventType, tenant_id_of(session, tenant), name)
            self._refuse_if_used(session, Automation.event_type_id, row)
            self._deleted(session, row, actor)

    def _event_type_fields(self, name: str, schema: Any,
                           parameters: Sequence[Mapping[str, Any]]
                           ) -> tuple[Any, list[ParameterSpec]]:
        return (rules.check_schema(schema),
                parse_parameters(parameters, owner=f"event type {name!r}"))

    # -- actions ---------------------------------------------------------------------------

    def create_action(self, tenant: str, *, name: str, sink: str,
                      parameters: Sequence[Mapping[str, Any]] = (), timeout: float = 30,
                      retry: Mapping[str, Any] | None = None, actor: str) -> Saved[ActionInfo]:
        name = rules.check_name(name, what="action")
        fields = self._action_fields(name, sink, parameters, timeout, retry)
        with self._writing(Action, name) as session:
            tenant_id = tenant_id_of(session, tenant)
            self._refuse_duplicate(session, Action, tenant_id, name)
            now = self.clock()
            row = Action(id=_new_id(), tenant_id=tenant_id, name=name, created_at=now,
                         updated_at=now)
            params = _apply_action_fields(row, fields)
            session.add(row)
            return Saved(row.info(), self._saved(session, row, params, actor, "create"))

    def update_action(self, tenant: str, name: str, *, sink: str,
                      parameters: Sequence[Mapping[str, Any]] = (), timeout: float = 30,
                      retry: Mapping[str, Any] | None = None, actor: str) -> Saved[ActionInfo]:
        """Replace the sink, parameters, timeout and retry (PUT: what is not given resets)."""
        fields = self._action_fields(name, sink, parameters, timeout, retry)
        with self._writing(Action, name) as session:
            row = find_named(session, Action, tenant_id_of(session, tenant), name)
            params = _apply_action_fields(row, fields)
            warnings = []
            for automation in self._users(session, Automation.action_id, row.id):
                warnings += self._check_link(
                    automation.name, automation.event_type.info().parameters, row)
            row.updated_at = self.clock()
            warnings += self._saved(session, row, params, actor, "update")
            return Saved(row.info(), warnings)

    def get_action(self, tenant: str, name: str) -> ActionInfo:
        with transaction(self.sessions) as session:
            return find_named(session, Action, tenant_id_of(session, tenant), name).info()

    def list_actions(self, tenant: str) -> list[ActionInfo]:
        with transaction(self.sessions) as session:
            return [row.info() for row in self._all(session, Action, tenant)]

    def delete_action(self, tenant: str, name: str, *, actor: str) -> None:
        """Refused (Conflict, naming them) while automations use the action."""
        with self._writing(Action, name) as session:
            row = find_named(session, Action, tenant_id_of(session, tenant), name)
            self._refuse_if_used(session, Automation.action_id, row)
            self._deleted(session, row, actor)

    def _action_fields(self, name: str, sink: str, parameters: Sequence[Mapping[str, Any]],
                       timeout: float, retry: Mapping[str, Any] | None) -> _ActionFields:
        owner = f"action {name!r}"
        found = rules.load_sink(self.sinks, sink)
        params = parse_parameters(parameters, owner=owner)
        rules.check_action_parameters(found, params, owner=owner)
        attempts, backoff = rules.check_retry(retry)
        return _ActionFields(sink=found.name, parameters=params,
                             timeout=rules.check_timeout(timeout),
                             retry_attempts=attempts, retry_backoff=backoff)

    # -- automations -------------------------------------------------------------------------

    def create_automation(self, tenant: str, *, name: str, event_type: str, action: str,
                          condition: str | None = None, enabled: bool = True,
                          actor: str) -> Saved[AutomationInfo]:
        name = rules.check_name(name, what="automation")
        condition = _check_automation_fields(condition, enabled)
        with self._writing(Automation, name) as session:
            tenant_id = tenant_id_of(session, tenant)
            self._refuse_duplicate(session, Automation, tenant_id, name)
            now = self.clock()
            row = Automation(id=_new_id(), tenant_id=tenant_id, name=name, created_at=now)
            warnings = self._link(session, row, tenant_id, event_type, action, condition,
                                  enabled)
            session.add(row)
            self._audit(session, row, actor, "create", {
                "event_type": event_type, "action": action, "enabled": enabled,
                "has_condition": condition is not None})
            return Saved(row.info(), warnings)

    def update_automation(self, tenant: str, name: str, *, event_type: str, action: str,
                          condition: str | None = None, enabled: bool = True,
                          actor: str) -> Saved[AutomationInfo]:
        """Replace the link, condition and enabled flag (PUT semantics)."""
        condition = _check_automation_fields(condition, enabled)
        with self._writing(Automation, name) as session:
            tenant_id = tenant_id_of(session, tenant)
            row = find_named(session, Automation, tenant_id, name)
            warnings = self._link(session, row, tenant_id, event_type, action, condition,
                                  enabled)
            self._audit(session, row, actor, "update", {
                "event_type": event_type, "action": action, "enabled": enabled,
                "has_condition": condition is not None})
            return Saved(row.info(), warnings)

    def get_automation(self, tenant: str, name: str) -> AutomationInfo:
        with transaction(self.sessions) as session:
            return find_named(session, Automation, tenant_id_of(session, tenant), name).info()

    def list_automations(self, tenant: str) -> list[AutomationInfo]:
        with transaction(self.sessions) as session:
            return [row.info() for row in self._all(session, Automation, tenant)]

    def delete_automation(self, tenant: str, name: str, *, actor: str) -> None:
        with self._writing(Automation, name) as session:
            row = find_named(session, Automation, tenant_id_of(session, tenant), name)
            self._audit(session, row, actor, "delete", None)
            session.delete(row)

    def _link(self, session: Session, row: Automation, tenant_id: str, event_type: str,
              action: str, condition: str | None, enabled: bool) -> list[str]:
        event_type_row = find_named(session, EventType, tenant_id, event_type)
        action_row = find_named(session, Action, tenant_id, action)
        warnings = self._check_link(row.name, event_type_row.info().parameters, action_row)
        merged = merge_parameters(event_type_row.info().parameters, action_row.info().parameters)
        warnings += self._missing_keys(session, tenant_id, merged, f"automation {row.name!r}")
        row.event_type, row.action = event_type_row, action_row
        row.condition, row.enabled, row.updated_at = condition, enabled, self.clock()
        return warnings

    def _check_link(self, automation: str, event_type_params: Sequence[ParameterSpec],
                    action: Action) -> list[str]:
        sink = rules.load_sink(self.sinks, action.sink)
        return rules.check_delivery(sink, event_type_params, action.info().parameters,
                                    owner=f"automation {automation!r}")

    # -- used by ingest and dispatch (see `routing`) ---------------------------------------

    def validate_payload(self, session: Session, tenant_id: str, event_type: str,
                         payload: Any) -> EventTypeInfo:
        """The event type, once the payload satisfies its schema (InvalidInput otherwise)."""
        return routing.validate_payload(session, tenant_id, event_type, payload)

    def matching(self, session: Session, tenant_id: str, event_type: str,
                 payload: Any) -> list[Match]:
        """The enabled automations of this event type whose condition holds, by name."""
        return routing.matching(session, tenant_id, event_type, payload)

    def delivery_plan(self, session: Session, action_id: str,
                      event_type_id: str | None) -> DeliveryPlan:
        """The sink, policy and merged parameters for one action triggered by one event type."""
        return routing.delivery_plan(session, self.sinks, action_id, event_type_id)

    # -- shared steps --------------------------------------------------------------------------

    @contextmanager
    def _writing(self, model: type[Definition], name: str) -> Iterator[Session]:
        """One write transaction; a constraint that fires (a concurrent save) is a Conflict."""
        try:
            with transaction(self.sessions) as session:
                yield session
        except IntegrityError:
            raise Conflict(f"{KIND[model]} {name!r} was changed concurrently, "
                           "or already exists; try again") from None

    @staticmethod
    def _all(session: Session, model: type[Definition], tenant: str) -> Sequence[Definition]:
        return session.scalars(
            select(model).where(model.tenant_id == tenant_id_of(session, tenant))
            .order_by(model.name)
        ).unique().all()

    @staticmethod
    def _refuse_duplicate(session: Session, model: type[Definition], tenant_id: str,
                          name: str) -> None:
        exists = session.scalar(
            select(model.id).where(model.tenant_id == tenant_id, model.name == name))
        if exists is not None:
            raise Conflict(f"{KIND[model]} {name!r} already exists")

    @staticmethod
    def _users(session: Session, column: Any, owner_id: str) -> Sequence[Automation]:
        return session.scalars(
            select(Automation).where(column == owner_id).order_by(Automation.name)
        ).unique().all()

    def _refuse_if_used(self, session: Session, column: Any, row: EventType | Action) -> None:
        users = [automation.name for automation in self._users(session, column, row.id)]
        if users:
            raise Conflict(
                f"{KIND[type(row)]} {row.name!r} is used by automation(s) "
                f"{', '.join(repr(user) for user in users)}; delete or change them first",
                automations=users)

    def _saved(self, session: Session, row: EventType | Action, params: list[ParameterSpec],
               actor: str, verb: str) -> list[str]:
        """Index the owner's secret keys, audit the change, and warn about missing keys."""
        session.flush()
        kind: references.OwnerKind = "event_type" if isinstance(row, EventType) else "action"
        references.replace_references(session, tenant_id=row.tenant_id, owner_kind=kind,
                                      owner_id=row.id, owner_name=row.name, parameters=params)
        details: dict[str, Any] = {
            "parameters": [{"name": p.name, "type": p.type} for p in params],
            "secret_keys": sorted(set(secret_keys(params).values())),
        }
        if isinstance(row, Action):
            details.update(sink=row.sink, timeout=row.timeout,
                           retry={"attempts": row.retry_attempts, "backoff": row.retry_backoff})
        self._audit(session, row, actor, verb, details)
        owner = f"{KIND[type(row)]} {row.name!r}"
        return self._missing_keys(session, row.tenant_id, params, owner)

    def _deleted(self, session: Session, row: EventType | Action, actor: str) -> None:
        kind: references.OwnerKind = "event_type" if isinstance(row, EventType) else "action"
        references.drop_references(session, owner_kind=kind, owner_id=row.id)
        self._audit(session, row, actor, "delete", None)
        session.delete(row)

    @staticmethod
    def _missing_keys(session: Session, tenant_id: str, params: Sequence[ParameterSpec],
                      owner: str) -> list[str]:
        wanted = secret_keys(params)
        missing = set(references.missing_keys(session, tenant_id, wanted.values()))
        return [f"{owner}: parameter {parameter!r} names secret key {key!r}, which does not "
                "exist in this tenant or its umbrella; deliveries will fail until it is created"
                for parameter, key in wanted.items() if key in missing]

    def _audit(self, session: Session, row: EventType | Action | Automation, actor: str,
               verb: str, details: dict[str, Any] | None) -> None:
        kind = {EventType: "event_type", Action: "action", Automation: "automation"}[type(row)]
        audit.record(session, tenant_id=row.tenant_id, actor=actor, action=f"{kind}.{verb}",
                     target=f"{kind}:{row.name}", at=self.clock(), details=details)


def _new_id() -> str:
    return str(uuid.uuid4())


def _check_automation_fields(condition: str | None, enabled: bool) -> str | None:
    if not isinstance(enabled, bool):
        raise InvalidInput("enabled must be true or false")
    return rules.compile_condition(condition)


@dataclass(frozen=True)
class _ActionFields:
    """An action's checked settings, ready to be written."""

    sink: str
    parameters: list[ParameterSpec]
    timeout: float
    retry_attempts: int
    retry_backoff: float


def _apply_action_fields(row: Action, fields: _ActionFields) -> list[ParameterSpec]:
    row.sink, row.parameters = fields.sink, parameters_to_json(fields.parameters)
    row.timeout = fields.timeout
    row.retry_attempts, row.retry_backoff = fields.retry_attempts, fields.retry_backoff
    return fields.parameters
