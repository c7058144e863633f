"""Tenants: who owns secrets and automations, and the umbrella chain secrets are inherited along.

A tenant may name one umbrella tenant; it then sees the umbrella's secrets (and, transitively,
the umbrella's umbrella's) unless it has a local key of the same name, which shadows them.
Chains never loop: `set_umbrella` refuses a cycle and says which chain it would have made.

Tenant ids are UUID strings like every other row id of the hub. Names follow `hub.names` (at
most `NAME_LENGTH` characters) and may never look like an id, so `tenant_id_of` can take
either without ambiguity.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from hub import audit
from hub.db import Base, UTCDateTime, transaction
from hub.errors import Conflict, InvalidInput, NotFound
from hub.names import CHARACTERS, is_valid_name, name_rule

NAME_LENGTH = 64
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
#: Longer chains than this are refused; it also bounds the recursive lookups.
MAX_CHAIN = 16


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    umbrella_id: Mapped[str | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="RESTRICT"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class TenantInfo:
    id: str
    name: str
    umbrella: str | None
    created_at: datetime


def check_tenant_name(name: object) -> str:
    """`name` if it is a valid tenant name, else `InvalidInput` naming the rule."""
    if not isinstance(name, str) or not 0 < len(name) <= NAME_LENGTH:
        raise InvalidInput(f"tenant name: {name_rule(NAME_LENGTH)}", field="name")
    if not is_valid_name(name, max_length=NAME_LENGTH) or looks_like_id(name):
        raise InvalidInput(f"tenant name: {CHARACTERS}, and not shaped like an id",
                           field="name")
    return name


def looks_like_id(text: str) -> bool:
    return _UUID.fullmatch(text) is not None


def tenant_id_of(session: Session, tenant: str) -> str:
    """The id of the tenant named (or identified by) `tenant`; `NotFound` if there is none."""
    column = Tenant.id if looks_like_id(tenant) else Tenant.name
    found = session.scalar(select(Tenant.id).where(column == tenant))
    if found is None:
        raise NotFound(f"tenant {tenant!r} not found")
    return found


def umbrella_chain(session: Session, tenant_id: str) -> list[str]:
    """[tenant_id, its umbrella's id, that one's umbrella's id, ...]."""
    chain = [tenant_id]
    current: str | None = session.scalar(select(Tenant.umbrella_id).where(Tenant.id == tenant_id))
    while current is not None and current not in chain and len(chain) <= MAX_CHAIN:
        chain.append(current)
        current = session.scalar(select(Tenant.umbrella_id).where(Tenant.id == current))
    return chain


def inheritor_ids(session: Session, tenant_id: str) -> list[str]:
    """Every tenant that inherits from `tenant_id`, transitively, nearest first."""
    found: list[str] = []
    frontier = [tenant_id]
    while frontier and len(found) < 100_000:
        children = session.scalars(
            select(Tenant.id).where(Tenant.umbrella_id.in_(frontier)).order_by(Tenant.name)
        ).all()
        frontier = [child for child in children if child not in found and child != tenant_id]
        found.extend(frontier)
    return found


Tenants = list[TenantInfo]  # an alias: `list` is also a method name below


class TenantService:
    """Create tenants and arrange their umbrellas; every change is audited."""

    def __init__(self, sessions: sessionmaker[Session], *,
                 clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.clock = clock

    def create(self, name: str, *, umbrella: str | None = None, actor: str) -> TenantInfo:
        """A new tenant; `Conflict` if the name is taken, `NotFound` if the umbrella is missing."""
        with transaction(self.sessions) as session:
            return self.create_in(session, name, umbrella=umbrella, actor=actor)

    def create_in(self, session: Session, name: str, *, umbrella: str | None = None,
                  actor: str) -> TenantInfo:
        """`create` inside the caller's transaction (e.g. together with its admin token)."""
        check_tenant_name(name)
        if session.scalar(select(Tenant.id).where(Tenant.name == name)) is not None:
            raise Conflict(f"tenant {name!r} already exists")
        umbrella_row = self._row(session, umbrella) if umbrella is not None else None
        if umbrella_row is not None:
            self._refuse_long_chain(session, 1, umbrella_row.id)
        now = self.clock()
        row = Tenant(id=str(uuid.uuid4()), name=name, created_at=now,
                     umbrella_id=umbrella_row.id if umbrella_row else None)
        session.add(row)
        session.flush()
        audit.record(session, tenant_id=row.id, actor=actor, action="tenant.create",
                     target=f"tenant:{name}", at=now, details={"umbrella": umbrella})
        return _info(row, umbrella_row)

    def get(self, name: str) -> TenantInfo:
        """The tenant named (or identified by) `name`."""
        with self.sessions() as session:
            return self._describe(session, self._row(session, name))

    def get_by_id(self, tenant_id: str) -> TenantInfo:
        with self.sessions() as session:
            row = session.get(Tenant, tenant_id)
            if row is None:
                raise NotFound(f"tenant {tenant_id!r} not found")
            return self._describe(session, row)

    def list(self) -> Tenants:
        """Every tenant, by name."""
        with self.sessions() as session:
            rows = session.scalars(select(Tenant).order_by(Tenant.name)).all()
            names = {row.id: row.name for row in rows}
            return [TenantInfo(row.id, row.name, names.get(row.umbrella_id or ""),
                               row.created_at) for row in rows]

    def set_umbrella(self, name: str, umbrella: str | None, *, actor: str) -> TenantInfo:
        """Make `name` inherit from `umbrella` (or from nobody); a cycle is `InvalidInput`."""
        with transaction(self.sessions) as session:
            row = self._row(session, name)
            umbrella_row = self._row(session, umbrella) if umbrella is not None else None
            if umbrella_row is not None:
                chain = [self._name(session, i) for i in umbrella_chain(session, umbrella_row.id)]
                if row.id == umbrella_row.id or row.name in chain:
                    loop = " -> ".join([row.name, *chain[: chain.index(row.name) + 1]]
                                       if row.name in chain else [row.name, row.name])
                    raise InvalidInput(f"umbrella: this would make a cycle ({loop})",
                                       field="umbrella")
                self._refuse_long_chain(session, _height(session, row.id), umbrella_row.id)
            previous = self._name(session, row.umbrella_id) if row.umbrella_id else None
            row.umbrella_id = umbrella_row.id if umbrella_row else None
            audit.record(session, tenant_id=row.id, actor=actor, action="tenant.set_umbrella",
                         target=f"tenant:{row.name}", at=self.clock(),
                         details={"from": previous, "to": umbrella})
            return _info(row, umbrella_row)

    def inheritors(self, name: str) -> Tenants:
        """Every tenant that inherits from `name`, transitively (nearest first)."""
        with self.sessions() as session:
            root = self._row(session, name)
            return [self._describe(session, session.get_one(Tenant, tenant_id))
                    for tenant_id in inheritor_ids(session, root.id)]

    @staticmethod
    def _row(session: Session, name: str) -> Tenant:
        row = session.get(Tenant, tenant_id_of(session, name))
        assert row is not None
        return row

    @staticmethod
    def _name(session: Session, tenant_id: str) -> str:
        return session.get_one(Tenant, tenant_id).name

    def _describe(self, session: Session, row: Tenant) -> TenantInfo:
        umbrella = session.get(Tenant, row.umbrella_id) if row.umbrella_id else None
        return _info(row, umbrella)

    @staticmethod
    def _refuse_long_chain(session: Session, height: int, umbrella_id: str) -> None:
        # Below the umbrella hang the tenant and its own inheritors (`height` levels).
        if len(umbrella_chain(session, umbrella_id)) + height > MAX_CHAIN:
            raise InvalidInput(f"umbrella: chains are at most {MAX_CHAIN} tenants long",
                               field="umbrella")


def _height(session: Session, tenant_id: str) -> int:
    """How many levels of tenants hang from `tenant_id`, itself included."""
    levels, frontier = 1, [tenant_id]
    while levels <= MAX_CHAIN:
        frontier = list(session.scalars(select(Tenant.id).where(Tenant.umbrella_id.in_(frontier))))
        if not frontier:
            break
        levels += 1
    return levels


def _info(row: Tenant, umbrella: Tenant | None) -> TenantInfo:
    return TenantInfo(row.id, row.name, umbrella.name if umbrella else None, row.created_at)
