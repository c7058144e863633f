"""The questions asked of the definitions on every event: ingest's and the dispatcher's.

Ingest asks whether a payload fits its event type (`validate_payload`) and which automations
it triggers (`matching`); the dispatcher asks what one delivery needs (`delivery_plan`).
Each takes the caller's session, so it joins the caller's transaction; nothing here writes.
`hub.automations.service.AutomationService` offers them as methods.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.automations import rules
from hub.automations.models import (
    Action,
    Automation,
    DeliveryPlan,
    EventType,
    EventTypeInfo,
    Match,
    find_named,
)
from hub.errors import NotFound
from hub.parameters import ParameterSpec, merge_parameters, secret_keys

logger = logging.getLogger(__name__)


def validate_payload(session: Session, tenant_id: str, event_type: str,
                     payload: Any) -> EventTypeInfo:
    """The event type, once the payload satisfies its schema (InvalidInput otherwise)."""
    info = find_named(session, EventType, tenant_id, event_type).info()
    rules.validate_payload(info.schema, payload, event_type=event_type)
    return info


def matching(session: Session, tenant_id: str, event_type: str, payload: Any) -> list[Match]:
    """The enabled automations of this event type whose condition holds, by name."""
    rows = session.scalars(
        select(Automation).join(Automation.event_type)
        .where(Automation.tenant_id == tenant_id, EventType.name == event_type,
               Automation.enabled.is_(True))
        .order_by(Automation.name)
    ).unique().all()
    matches = []
    for row in rows:
        try:
            holds = rules.condition_holds(row.condition, payload)
        except Exception as exc:
            # A condition that errs on this payload (a function given the wrong type;
            # jmespath itself raises TypeError ordering a string against a number) does
            # not hold; the event still reaches the other automations.
            logger.warning("condition of automation %r failed: %s", row.name,
                           type(exc).__name__)
            holds = False
        if holds:
            matches.append(Match(automation_id=row.id, automation=row.info(),
                                 action_id=row.action_id, action=row.action.info()))
    return matches


def delivery_plan(session: Session, sinks: rules.SinkLookup, action_id: str,
                  event_type_id: str | None) -> DeliveryPlan:
    """The sink, policy and merged parameters for one action triggered by one event type.

    Only parameters the sink takes are included; secrets stay keys (`secret_params`).
    """
    action = session.get(Action, str(action_id))
    if action is None:
        raise NotFound(f"action {action_id!r} no longer exists")
    event_params: list[ParameterSpec] = []
    owners: dict[str, tuple[str, str]] = {}
    if event_type_id is not None:
        event_type = session.get(EventType, str(event_type_id))
        if event_type is None or event_type.tenant_id != action.tenant_id:
            raise NotFound(f"event type {event_type_id!r} no longer exists")
        event_params = event_type.info().parameters
        owners = {spec.name: ("event_type", event_type.name) for spec in event_params}
    action_params = action.info().parameters
    owners.update((spec.name, ("action", action.name)) for spec in action_params)
    fields = rules.sink_fields(rules.load_sink(sinks, action.sink))
    merged = [spec for spec in merge_parameters(event_params, action_params)
              if spec.name in fields]
    return DeliveryPlan(sink=action.sink, timeout=action.timeout,
                        retry_attempts=action.retry_attempts,
                        retry_backoff=action.retry_backoff, parameters=merged,
                        secret_params=secret_keys(merged),
                        owners={spec.name: owners[spec.name] for spec in merged})
