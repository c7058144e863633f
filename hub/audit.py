"""The audit log: append-only, value-free, hash-chained per tenant.

Every change to a tenant's secrets, definitions or tokens calls `record` inside the very
transaction that makes the change, so there is no change without its entry and no entry
without its change. Entries carry who, what, on which target, when and how it ended, plus
value-free details (versions, reference lists, flags): never a secret value, nor a hash of
one (a hash of a short secret is a dictionary attack away from the value).

Each tenant's entries form a chain: entry n stores the hash of entry n-1 and its own hash
over its fields, so editing or deleting a row shows in `verify_chain`. Writers to one tenant's
chain are serialised by a row lock on the tenant (PostgreSQL; SQLite serialises all writers).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, column, select, table
from sqlalchemy.orm import Mapped, Session, mapped_column

from hub.db import Base, UTCDateTime
from hub.errors import InvalidInput

GENESIS = "0" * 64
OUTCOMES = ("ok", "denied", "failed")

# The tenants table seen from here without importing hub.tenants (which audits through us).
_tenants = table("tenants", column("id"))


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("tenant_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(16))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def __repr__(self) -> str:
        return (f"AuditEntry(tenant_id={self.tenant_id!r}, seq={self.seq}, "
                f"action={self.action!r}, target={self.target!r}, outcome={self.outcome!r})")


def record(session: Session, *, tenant_id: str, actor: str, action: str, target: str,
           at: datetime, details: Mapping[str, Any] | None = None,
           outcome: str = "ok") -> AuditEntry:
    """Append one entry to `tenant_id`'s chain, in the caller's transaction."""
    if outcome not in OUTCOMES:
        raise InvalidInput(f"audit outcome must be one of {', '.join(OUTCOMES)}")
    clean = _json_safe(details or {})
    # Lock the tenant row: concurrent writers to one chain queue here instead of forking it.
    # FOR NO KEY UPDATE, because the change being audited may already hold the KEY SHARE
    # lock a foreign key check takes on the tenant; a full FOR UPDATE would deadlock two
    # such writers against each other.
    session.execute(select(_tenants.c.id).where(_tenants.c.id == tenant_id)
                    .with_for_update(key_share=True))
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).where(AuditEntry.tenant_id == tenant_id)
        .order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    entry = AuditEntry(tenant_id=tenant_id, seq=seq, at=at.astimezone(UTC), actor=actor[:200],
                       action=action[:64], target=target[:300], details=clean,
                       outcome=outcome, prev_hash=prev_hash)
    entry.hash = entry_hash(entry)
    session.add(entry)
    session.flush()
    return entry


def entries(session: Session, tenant_id: str, *, action: str | None = None,
            target: str | None = None, since: datetime | None = None,
            limit: int = 100) -> list[AuditEntry]:
    """The tenant's entries, newest first, optionally filtered."""
    query = select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    limit = max(1, min(int(limit), 1000))
    return list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit)).all())


def verify_chain(session: Session, tenant_id: str) -> int | None:
    """None if the tenant's chain is intact, else the seq of the first entry that breaks it.

    An entry breaks the chain if its own hash does not match its fields, if it does not
    point at the hash of the entry before it, or if entries before it are missing.
    """
    expected_seq, prev_hash = 1, GENESIS
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
        .order_by(AuditEntry.seq).execution_options(yield_per=1000)
    )
    for entry in rows:
        if (entry.seq != expected_seq or entry.prev_hash != prev_hash
                or entry.hash != entry_hash(entry)):
            return entry.seq
        expected_seq, prev_hash = entry.seq + 1, entry.hash
    return None


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 over a canonical encoding of every field but the row id and the hash itself."""
    fields = {
        "tenant_id": entry.tenant_id, "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor, "action": entry.action, "target": entry.target,
        "details": entry.details, "outcome": entry.outcome, "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def _json_safe(details: Mapping[str, Any]) -> dict[str, Any]:
    """`details` as the JSON column will give it back, so the hash survives a round trip."""
    try:
        return dict(json.loads(json.dumps(dict(details), sort_keys=True, default=_plain)))
    except (TypeError, ValueError):
        raise InvalidInput("audit details must be JSON data") from None


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, set | frozenset):  # json writes tuples as lists by itself
        return sorted(value, key=repr)
    raise TypeError(type(value).__name__)
