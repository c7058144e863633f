"""Request and response bodies of the automation, event and execution routes.

Requests forbid unknown fields, so a typo (`condtion`) is an error rather than a silent
default. The services do the real checking (names, parameter types, schemas, sinks) and
explain themselves; these models only give the API its shape and its OpenAPI document.
Responses carry definitions, ids, statuses and `key@version` facts: never a secret value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hub.automations import ActionInfo, AutomationInfo, EventTypeInfo
from hub.automations.models import Saved
from hub.errors import InvalidInput
from hub.events import IngestResult
from hub.executions import AttemptRecord, ExecutionRecord, SecretUsage, SecretUse
from hub.parameters import ParameterSpec, parameters_to_json


class Request(BaseModel):
    # hide_input_in_errors: a parameter's value may be a secret pasted in by mistake, and the
    # text of a ValidationError is what a stray log line would show.
    model_config = ConfigDict(extra="forbid", populate_by_name=True, hide_input_in_errors=True)


class Replacement(Request):
    """A PUT body: it replaces the thing at its path, so a `name`, if given, must match."""

    name: str | None = Field(default=None, description="If given, must match the path.")

    def check_name(self, path_name: str, *, what: str) -> None:
        if self.name is not None and self.name != path_name:
            raise InvalidInput(f"the {what} name in the body differs from the one in the path; "
                               "renaming is not supported (create the new one, then delete)")


# -- parameters --------------------------------------------------------------------------------


class Parameter(Request):
    """`{name, type, value}`; a `SECRET` value is the key of a secret, never a value."""

    name: str
    type: str = Field(description="STRING, NUMBER, BOOLEAN, JSON or SECRET.")
    value: Any = Field(description="For SECRET: the key of a secret (never its value).")


def _specs_out(params: list[ParameterSpec]) -> list[dict[str, Any]]:
    return parameters_to_json(params)


class WithParameters(Request):
    parameters: list[Parameter] = Field(default_factory=list)

    def parameter_dicts(self) -> list[dict[str, Any]]:
        """The raw `{name, type, value}` list the service validates (and explains)."""
        return [parameter.model_dump() for parameter in self.parameters]


# -- event types -------------------------------------------------------------------------------


class EventTypeFields(WithParameters):
    # `schema` would shadow a BaseModel attribute; the wire name stays `schema`.
    payload_schema: Any = Field(default=None, alias="schema",
                                description="JSON schema of the payload; null accepts any.")


class EventTypeCreate(EventTypeFields):
    name: str


class EventTypeReplace(EventTypeFields, Replacement):
    pass


class EventTypeOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    name: str
    payload_schema: Any = Field(default=None, alias="schema")
    parameters: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, info: EventTypeInfo) -> EventTypeOut:
        return cls(id=info.id, name=info.name, payload_schema=info.schema,
                   parameters=_specs_out(info.parameters), created_at=info.created_at,
                   updated_at=info.updated_at)


class EventTypeSaved(EventTypeOut):
    warnings: list[str]

    @classmethod
    def of_saved(cls, saved: Saved[EventTypeInfo]) -> EventTypeSaved:
        return cls(**EventTypeOut.of(saved.item).model_dump(), warnings=saved.warnings)


# -- actions -----------------------------------------------------------------------------------


class Retry(Request):
    attempts: int | None = Field(default=None, description="Tries in all, the first included.")
    backoff: float | None = Field(default=None, description="Seconds before the first retry; "
                                  "doubles each time.")

    def as_mapping(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class ActionFields(WithParameters):
    sink: str
    timeout: float = Field(default=30, description="Seconds one delivery may take.")
    retry: Retry | None = None


class ActionCreate(ActionFields):
    name: str


class ActionReplace(ActionFields, Replacement):
    pass


class RetryOut(BaseModel):
    attempts: int
    backoff: float


class ActionOut(BaseModel):
    id: str
    name: str
    sink: str
    parameters: list[dict[str, Any]]
    timeout: float
    retry: RetryOut
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, info: ActionInfo) -> ActionOut:
        return cls(id=info.id, name=info.name, sink=info.sink,
                   parameters=_specs_out(info.parameters), timeout=info.timeout,
                   retry=RetryOut(attempts=info.retry_attempts, backoff=info.retry_backoff),
                   created_at=info.created_at, updated_at=info.updated_at)


class ActionSaved(ActionOut):
    warnings: list[str]

    @classmethod
    def of_saved(cls, saved: Saved[ActionInfo]) -> ActionSaved:
        return cls(**ActionOut.of(saved.item).model_dump(), warnings=saved.warnings)


# -- automations -------------------------------------------------------------------------------


class AutomationFields(Request):
    event_type: str
    action: str
    condition: str | None = Field(default=None,
                                  description="JMESPath over the payload; null always matches.")
    enabled: bool = True


class AutomationCreate(AutomationFields):
    name: str


class AutomationReplace(AutomationFields, Replacement):
    pass


class AutomationOut(BaseModel):
    id: str
    name: str
    event_type: str
    action: str
    condition: str | None
    enabled: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, info: AutomationInfo) -> AutomationOut:
        return cls(id=info.id, name=info.name, event_type=info.event_type, action=info.action,
                   condition=info.condition, enabled=info.enabled, created_at=info.created_at,
                   updated_at=info.updated_at)


class AutomationSaved(AutomationOut):
    warnings: list[str]

    @classmethod
    def of_saved(cls, saved: Saved[AutomationInfo]) -> AutomationSaved:
        return cls(**AutomationOut.of(saved.item).model_dump(), warnings=saved.warnings)


# -- sinks -------------------------------------------------------------------------------------


class SinkOut(BaseModel):
    name: str
    description: str
    credentials: list[str] = Field(description="Fields that must be SECRET parameters.")
    parameters: dict[str, Any] = Field(description="JSON schema of the sink's parameters; "
                                       'credential fields carry "x-credential": true.')


# -- events ------------------------------------------------------------------------------------


class EventIn(Request):
    type: str
    payload: Any = Field(description="Any JSON; checked against the event type's schema.")
    idempotency_key: str | None = Field(
        default=None, description="Repeat a post safely: the same key returns the first event.")


class ExecutionBrief(BaseModel):
    id: str
    action: str
    status: str


class EventAccepted(BaseModel):
    id: str
    duplicate: bool = Field(description="True when the idempotency key named an earlier event.")
    executions: list[ExecutionBrief]

    @classmethod
    def of(cls, result: IngestResult) -> EventAccepted:
        return cls(id=result.event_id, duplicate=result.duplicate,
                   executions=[ExecutionBrief(id=e.id, action=e.action, status=e.status)
                               for e in result.executions])


# -- executions --------------------------------------------------------------------------------


class EventRef(BaseModel):
    id: str
    type: str


class SecretUseOut(BaseModel):
    """One secret an attempt received: its key and version, never its value."""

    parameter: str
    key: str
    version: int
    inherited: bool = Field(description="Resolved from an umbrella tenant.")

    @classmethod
    def of(cls, use: SecretUse, tenant_id: str) -> SecretUseOut:
        return cls(parameter=use.parameter, key=use.key, version=use.version,
                   inherited=use.source_tenant_id != tenant_id)


class AttemptOut(BaseModel):
    number: int
    trigger: str = Field(description="first, retry, replay or lost.")
    status: str
    actor: str | None
    sent_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    summary: str | None
    secrets: list[SecretUseOut]

    @classmethod
    def of(cls, attempt: AttemptRecord, tenant_id: str) -> AttemptOut:
        return cls(number=attempt.number, trigger=attempt.trigger, status=attempt.status,
                   actor=attempt.actor, sent_at=attempt.sent_at,
                   started_at=attempt.started_at, finished_at=attempt.finished_at,
                   error=attempt.error, summary=attempt.summary,
                   secrets=[SecretUseOut.of(s, tenant_id) for s in attempt.secrets])


class ExecutionOut(BaseModel):
    id: str
    event: EventRef
    action: str
    status: str = Field(description="queued, running, succeeded, failed, retrying or dead.")
    attempts: int = Field(description="Attempts made so far.")
    error: str | None = None
    result: str | None = None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    next_attempt_at: datetime | None

    @classmethod
    def fields_of(cls, record: ExecutionRecord) -> dict[str, Any]:
        return dict(id=record.id, event=EventRef(id=record.event_id, type=record.event_type),
                    action=record.action, status=record.status, attempts=record.attempt,
                    error=record.error, result=record.result_summary,
                    created_at=record.created_at, updated_at=record.updated_at,
                    finished_at=record.finished_at, next_attempt_at=record.next_attempt_at)

    @classmethod
    def of(cls, record: ExecutionRecord) -> ExecutionOut:
        return cls(**cls.fields_of(record))


class ExecutionDetail(ExecutionOut):
    secrets: list[SecretUseOut] = Field(description="What the latest attempt received.")
    history: list[AttemptOut]

    @classmethod
    def of(cls, record: ExecutionRecord) -> ExecutionDetail:
        history = [AttemptOut.of(a, record.tenant_id) for a in record.attempts]
        latest = history[-1].secrets if history else []
        return cls(**cls.fields_of(record), secrets=latest, history=history)


class SecretUsageOut(BaseModel):
    """One delivery of one version of a secret ("who got API_TOKEN@3?")."""

    execution: str
    attempt: int
    parameter: str
    key: str
    version: int
    tenant_id: str = Field(description="The tenant whose execution received it.")
    inherited: bool = Field(description="Received by a tenant inheriting the key.")
    at: datetime

    @classmethod
    def of(cls, usage: SecretUsage) -> SecretUsageOut:
        return cls(execution=usage.execution_id, attempt=usage.attempt,
                   parameter=usage.parameter, key=usage.key, version=usage.version,
                   tenant_id=usage.tenant_id,
                   inherited=usage.tenant_id != usage.source_tenant_id, at=usage.at)
