"""What every part of the secret store shares: its state, the locked write, lookups, views.

`hub.secrets.store.SecretStore` is built on `SecretStoreBase` (through
`hub.secrets.lifecycle.SecretLifecycle`); nothing else uses it. See `hub.secrets.store` for
the store's promises, among them how a writer locks the row it changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from hub.config import Settings
from hub.crypto import KeyRing
from hub.db import transaction
from hub.errors import Conflict, NotFound
from hub.secrets.lookup import SecretLookup
from hub.secrets.models import Secret
from hub.secrets.records import ReferenceFinder, References, SecretInfo, no_references
from hub.tenants import Tenant, tenant_id_of


class SecretStoreBase:
    """The secret store's state and the steps its operations share (see module doc)."""

    def __init__(self, sessions: sessionmaker[Session], keyring: KeyRing, settings: Settings,
                 *, clock: Callable[[], datetime],
                 references: ReferenceFinder | None = None,
                 reload_keyring: Callable[[], KeyRing] | None = None) -> None:
        self.sessions = sessions
        self.engine: Engine = sessions.kw["bind"]
        self.keyring = keyring
        # Long-running processes meet values re-wrapped by a rotation under a key they
        # started without; with this they load the current ring instead of failing.
        self.reload_keyring = reload_keyring
        self.settings = settings
        self.clock = clock
        self.finder: ReferenceFinder = references or no_references
        self._lookup = SecretLookup()

    @contextmanager
    def _writing(self, tenant: str, key: str,
                 expected_version: int | None) -> Iterator[tuple[Session, Secret]]:
        """A transaction holding the tenant's own live `key`, locked, at the expected version."""
        with transaction(self.sessions) as session:
            tenant_id = tenant_id_of(session, tenant)
            secret = self._live(session, tenant_id, key, lock=True)
            if secret is None:
                inherited = self._lookup.find(session, tenant_id, [key], skip_local=True)
                if key in inherited:
                    raise Conflict(f"secret {key!r} is inherited from tenant "
                                   f"{inherited[key].tenant_name!r}: change it there, or create "
                                   f"a key of that name in tenant {tenant!r} to shadow it")
                raise NotFound(f"secret {key!r} not found in tenant {tenant!r}")
            if expected_version is not None and secret.current_version != expected_version:
                raise Conflict(
                    f"secret {key!r} is at version {secret.current_version}, not "
                    f"{expected_version}: someone changed it meanwhile; reload and retry",
                    current_version=secret.current_version)
            yield session, secret

    @staticmethod
    def _live(session: Session, tenant_id: str, key: str, *,
              lock: bool = False) -> Secret | None:
        query = select(Secret).where(Secret.tenant_id == tenant_id, Secret.key == key,
                                     Secret.deleted_at.is_(None))
        return session.scalars(query.with_for_update() if lock else query).first()

    def _references(self, session: Session, tenant_id: str, key: str) -> References:
        tenant_ids = [tenant_id, *self._lookup.inheriting(session, tenant_id, key)]
        found = self.finder(session, tenant_ids, key)
        names = dict(session.execute(
            select(Tenant.id, Tenant.name).where(Tenant.id.in_(tenant_ids))).all())
        # Finders may name tenants by id; the store's answer names them by name.
        return [replace(r, tenant=names.get(r.tenant, r.tenant)) for r in found]

    def _info(self, session: Session, secret: Secret, *, source_tenant: str,
              names: dict[str, str] | None = None) -> SecretInfo:
        if names is None or secret.tenant_id not in names:
            names = {secret.tenant_id: session.get_one(Tenant, secret.tenant_id).name}
        return SecretInfo(
            key=secret.key, type=secret.type, description=secret.description,
            version=secret.current_version,
            source="local" if secret.tenant_id == source_tenant else "inherited",
            origin_tenant=names[secret.tenant_id], filename=secret.filename,
            media_type=secret.media_type, created_at=secret.created_at,
            updated_at=secret.updated_at, deleted_at=secret.deleted_at)
