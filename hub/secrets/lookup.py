"""Finding which key a tenant sees: its own first, then up the umbrella chain.

Resolution is on the dispatch path of every delivery, so it is one SQL statement: a
recursive query walks the tenant's umbrella chain, joins the live secrets of the wanted keys
in those tenants and their current versions, and the nearest tenant wins (see
docs/benchmarks/resolve.md for what it costs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, TextClause, bindparam, select, text
from sqlalchemy.orm import Session

from hub.crypto import Envelope
from hub.secrets.models import Secret
from hub.tenants import MAX_CHAIN, Tenant, looks_like_id


@dataclass(frozen=True, repr=False)
class Found:
    """One visible key with its current version's envelope (None if destroyed)."""

    key: str
    secret_id: str
    tenant_id: str
    tenant_name: str
    depth: int  # 0 = the tenant itself, 1 = its umbrella, ...
    version: int
    type: str
    envelope: Envelope | None

    def __repr__(self) -> str:
        return f"Found(key={self.key!r}, tenant={self.tenant_name!r}, version={self.version})"


# Hand-written on purpose: this runs for every delivery, and a text statement skips the
# per-call cache-key walk SQLAlchemy does for a constructed one (measured: about half of a
# resolve's time on PostgreSQL). Portable: SQLite and PostgreSQL both speak WITH RECURSIVE.
_VISIBLE = """
WITH RECURSIVE chain (tenant_id, tenant_name, umbrella_id, depth) AS (
    SELECT id, name, umbrella_id, 0 FROM tenants WHERE {start} = :tenant
    UNION ALL
    SELECT t.id, t.name, t.umbrella_id, chain.depth + 1
    FROM tenants t JOIN chain ON t.id = chain.umbrella_id
    WHERE chain.depth < :max_depth
)
SELECT s.key, s.id, s.tenant_id, chain.tenant_name, chain.depth, v.version, s.type,
       v.kek_id, v.wrapped_key, v.ciphertext
FROM chain
JOIN secrets s ON s.tenant_id = chain.tenant_id
JOIN secret_versions v ON v.secret_id = s.id AND v.version = s.current_version
WHERE s.key IN :keys AND s.deleted_at IS NULL AND chain.depth >= :min_depth
"""


def _visible_keys(start_by_id: bool) -> TextClause:
    sql = _VISIBLE.format(start="id" if start_by_id else "name")
    return text(sql).bindparams(bindparam("keys", expanding=True))


class SecretLookup:
    """The prepared statements of key visibility, shared by every call of one store."""

    def __init__(self) -> None:
        self._by_id = _visible_keys(start_by_id=True)
        self._by_name = _visible_keys(start_by_id=False)

    def find(self, session: Session | Connection, tenant: str, keys: Sequence[str], *,
             skip_local: bool = False) -> dict[str, Found]:
        """key -> the nearest live definition `tenant` (a name or an id) sees; missing keys
        are absent. `skip_local` looks only at umbrellas (what a local key shadows)."""
        statement = self._by_id if looks_like_id(tenant) else self._by_name
        rows = session.execute(statement, {"tenant": tenant, "keys": list(keys),
                                           "min_depth": 1 if skip_local else 0,
                                           "max_depth": MAX_CHAIN})
        found: dict[str, Found] = {}
        for row in rows:
            key, secret_id, tenant_id, name, depth, version, type_, kek, wrapped, blob = row
            if key in found and found[key].depth <= depth:
                continue
            envelope = (Envelope(kek, bytes(wrapped), bytes(blob))
                        if kek is not None and wrapped is not None and blob is not None
                        else None)
            found[key] = Found(key, secret_id, tenant_id, name, depth, version, type_, envelope)
        return found

    @staticmethod
    def chain(session: Session, tenant_id: str) -> list[tuple[str, str]]:
        """[(id, name)] of the tenant and its umbrellas, nearest first."""
        chain: list[tuple[str, str]] = []
        current: str | None = tenant_id
        while current is not None and len(chain) <= MAX_CHAIN:
            row = session.get(Tenant, current)
            if row is None or any(current == seen for seen, _ in chain):
                break
            chain.append((row.id, row.name))
            current = row.umbrella_id
        return chain

    @staticmethod
    def inheriting(session: Session, owner_id: str, key: str) -> list[str]:
        """Tenants below `owner_id` that see its `key`: those not shadowing it on the way."""
        inheritors: list[str] = []
        frontier = [owner_id]
        for _ in range(MAX_CHAIN):
            children = session.scalars(
                select(Tenant.id).where(Tenant.umbrella_id.in_(frontier))).all()
            if not children:
                break
            shadowing = set(session.scalars(select(Secret.tenant_id).where(
                Secret.tenant_id.in_(children), Secret.key == key,
                Secret.deleted_at.is_(None))).all())
            frontier = [c for c in children
                        if c not in shadowing and c not in inheritors and c != owner_id]
            inheritors.extend(frontier)
        return inheritors
