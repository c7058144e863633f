"""The reference index: which Action and Event Type parameters name which secret key.

One row per (tenant, secret key, owner kind, owner, parameter). The automation service
replaces an owner's rows in the same transaction that saves or deletes the owner, so the
index is never out of step with the definitions. It answers, without scanning JSON:

- `find_references`: who would be left dangling if this key went away? (the secret store's
  delete and rename guard, injected into it as its `ReferenceFinder`);
- `missing_keys`: which of these keys resolve to nothing? (a warning when an action is saved).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from sqlalchemy import ForeignKey, Index, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from hub.db import Base
from hub.parameters import ParameterSpec, secret_keys
from hub.secrets.store import Reference

__all__ = [
    "OwnerKind",
    "SecretReference",
    "drop_references",
    "find_references",
    "missing_keys",
    "references_by_owner",
    "replace_references",
]

OwnerKind = Literal["action", "event_type"]


class SecretReference(Base):
    __tablename__ = "secret_references"
    __table_args__ = (
        Index("ix_secret_references_key", "secret_key", "tenant_id"),
        Index("ix_secret_references_owner", "owner_kind", "owner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    secret_key: Mapped[str] = mapped_column(String(128))
    owner_kind: Mapped[str] = mapped_column(String(16))
    # No foreign key: the owner is one of two tables; the service keeps the rows in step.
    owner_id: Mapped[str] = mapped_column(String(36))
    owner_name: Mapped[str] = mapped_column(String(128))
    parameter: Mapped[str] = mapped_column(String(128))


def replace_references(session: Session, *, tenant_id: str, owner_kind: OwnerKind,
                       owner_id: str, owner_name: str,
                       parameters: Iterable[ParameterSpec]) -> None:
    """Make the index say exactly which keys this owner's SECRET parameters name."""
    drop_references(session, owner_kind=owner_kind, owner_id=owner_id)
    session.add_all(
        SecretReference(tenant_id=tenant_id, secret_key=key, owner_kind=owner_kind,
                        owner_id=owner_id, owner_name=owner_name, parameter=parameter)
        for parameter, key in secret_keys(parameters).items()
    )
    session.flush()


def drop_references(session: Session, *, owner_kind: OwnerKind, owner_id: str) -> None:
    """Forget an owner's rows (it is being deleted, or its rows are being replaced)."""
    session.execute(delete(SecretReference).where(SecretReference.owner_kind == owner_kind,
                                                  SecretReference.owner_id == owner_id))


def find_references(session: Session, tenant_ids: Sequence[str], key: str) -> list[Reference]:
    """Every parameter in these tenants that names `key`, in a stable order.

    The store passes the tenant that owns the key and the tenants that inherit it through
    their umbrella; this function does not decide inheritance, it only looks up.
    """
    if not tenant_ids:
        return []
    rows = session.execute(
        select(SecretReference.tenant_id, SecretReference.owner_kind,
               SecretReference.owner_name, SecretReference.parameter)
        .where(SecretReference.secret_key == key,
               SecretReference.tenant_id.in_(list(tenant_ids)))
        .order_by(SecretReference.tenant_id, SecretReference.owner_kind,
                  SecretReference.owner_name, SecretReference.parameter)
    ).all()
    return [Reference(tenant=tenant, owner_kind=kind, owner=owner, parameter=parameter)
            for tenant, kind, owner, parameter in rows]


def references_by_owner(session: Session, *, owner_kind: OwnerKind,
                        owner_id: str) -> dict[str, str]:
    """Parameter -> secret key for one owner, as the index holds it."""
    rows = session.execute(
        select(SecretReference.parameter, SecretReference.secret_key)
        .where(SecretReference.owner_kind == owner_kind, SecretReference.owner_id == owner_id)
    ).all()
    return {parameter: key for parameter, key in rows}


def missing_keys(session: Session, tenant_id: str, keys: Iterable[str]) -> list[str]:
    """The keys (sorted) that exist neither in the tenant nor anywhere up its umbrella chain."""
    from hub.secrets.models import Secret
    from hub.tenants import umbrella_chain

    wanted = set(keys)
    if not wanted:
        return []
    found = session.scalars(
        select(Secret.key).where(Secret.tenant_id.in_(umbrella_chain(session, tenant_id)),
                                 Secret.key.in_(wanted), Secret.deleted_at.is_(None))
    ).all()
    return sorted(wanted - set(found))
