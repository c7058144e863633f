"""What the secret store hands out: value-free descriptions, resolved values, reports.

Plain frozen dataclasses, so the API and the CLI can serialise them as they are. Only
`Resolved` carries a value, wrapped in a `SecretValue` so a stray repr shows a mask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from hub.secret_value import SecretValue

Actor = str  # who acts, e.g. "token:1f2e", "cli:root"


@dataclass(frozen=True)
class VersionInfo:
    version: int
    origin: str  # "created" | "updated" | "restored"
    restored_from: int | None
    note: str | None
    actor: str
    created_at: datetime
    active: bool
    destroyed: bool


@dataclass(frozen=True)
class SecretInfo:
    key: str
    type: str  # "text" | "file"
    description: str
    version: int  # the current (active) version
    source: str  # "local" | "inherited"
    origin_tenant: str  # the tenant that holds the key
    filename: str | None
    media_type: str | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


@dataclass(frozen=True)
class Resolved:
    key: str
    version: int
    tenant: str  # the tenant where the key was found (this one or an umbrella)
    type: str
    value: SecretValue
    tenant_id: str  # that tenant's id


@dataclass(frozen=True)
class Reference:
    tenant: str
    owner_kind: str  # "action" | "event_type"
    owner: str
    parameter: str


# Aliases for SecretStore's annotations, where `list` names a method.
References = list[Reference]
Infos = list[SecretInfo]
Versions = list[VersionInfo]
Destroyed = list[tuple[str, int]]


class ReferenceFinder(Protocol):
    def __call__(self, session: Session, tenant_ids: Sequence[str],
                 key: str) -> References: ...


def no_references(session: Session, tenant_ids: Sequence[str], key: str) -> References:
    return []


@dataclass(frozen=True)
class DeleteReport:
    tenant: str
    key: str
    references: References
    deleted: bool  # False for a dry run
    forced: bool
    recoverable_until: datetime | None
    #: The umbrella tenant whose key of the same name resolves here once this one is gone.
    uncovers: str | None
