"""The secret store: encrypted, versioned secrets per tenant, inherited along umbrellas.

The one service the API, the CLI and the dispatcher use to create, change, inspect and
resolve secrets. It knows neither HTTP nor Celery. Every change runs in one transaction with
its audit entry; bad input is refused before anything is written. Values come in and go out
as `SecretValue` and exist in plaintext only between a decrypt and the caller; nothing here
returns a value except `resolve`/`resolve_many`.

Concurrency: a writer locks the secret's row (SELECT ... FOR UPDATE; SQLite serialises
writers at BEGIN), re-reads the current version, compares it with `expected_version`, and
creates version n+1, which the (secret_id, version) primary key makes unique besides.

The end of a key's life (delete, undelete, purge, retention) is in `hub.secrets.lifecycle`,
and what all operations share (the store's state, the locked write) in
`hub.secrets.store_base`; `SecretStore` is the one class callers use.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub import audit
from hub.crypto import Envelope
from hub.db import transaction
from hub.errors import Conflict, CryptoError, InvalidInput, NotFound
from hub.secret_value import SecretValue
from hub.secrets import rules
from hub.secrets.keyring_checks import open_keyring, require_writable_primary
from hub.secrets.lifecycle import SecretLifecycle
from hub.secrets.lookup import Found
from hub.secrets.models import Secret, SecretVersion, value_aad
from hub.secrets.records import (
    Actor,
    DeleteReport,
    Infos,
    Reference,
    ReferenceFinder,
    References,
    Resolved,
    SecretInfo,
    VersionInfo,
    Versions,
)
from hub.tenants import tenant_id_of

__all__ = ["Actor", "DeleteReport", "Reference", "ReferenceFinder", "Resolved", "SecretInfo",
           "SecretStore", "VersionInfo", "open_keyring"]


class SecretStore(SecretLifecycle):
    """Create, change, inspect and resolve the secrets of tenants (see module doc).

    Deleting, undeleting, purging and retention come from `SecretLifecycle`.
    """

    # -- writing ---------------------------------------------------------------------------

    def create(self, tenant: str, key: str, value: SecretValue, *, actor: Actor,
               type: str = "text", description: str = "", filename: str | None = None,
               media_type: str | None = None, note: str | None = None) -> SecretInfo:
        """A new key with version 1; `Conflict` if the tenant already has a live `key`."""
        rules.check_key(key)
        rules.check_type(type)
        value = rules.as_secret(value)
        rules.check_value(value, type, self.settings)
        rules.check_description(description)
        rules.check_note(note)
        filename, media_type = rules.check_file_fields(type, filename, media_type)
        try:
            with transaction(self.sessions) as session:
                tenant_id = tenant_id_of(session, tenant)
                if self._live(session, tenant_id, key) is not None:
                    raise Conflict(f"secret {key!r} already exists in tenant {tenant!r}")
                now = self.clock()
                secret = Secret(id=str(uuid.uuid4()), tenant_id=tenant_id, key=key, type=type,
                                description=description, filename=filename,
                                media_type=media_type, current_version=0, created_at=now,
                                updated_at=now)
                session.add(secret)
                session.flush()
                self._add_version(session, secret, value, actor=actor, origin="created",
                                  note=note, now=now)
                audit.record(session, tenant_id=tenant_id, actor=actor, action="secret.create",
                             target=f"secret:{key}", at=now, details={"version": 1, "type": type})
                return self._info(session, secret, source_tenant=tenant_id)
        except IntegrityError:  # a concurrent create of the same key won
            raise Conflict(f"secret {key!r} already exists in tenant {tenant!r}") from None

    def update(self, tenant: str, key: str, *, actor: Actor, value: SecretValue | None = None,
               description: str | None = None, note: str | None = None,
               expected_version: int | None = None) -> SecretInfo:
        """A new description, a new value (a new version), or both; omitted parts stay."""
        rules.check_expected_version(expected_version)
        if value is None and description is None:
            raise InvalidInput("nothing to update: give a new value, a description, or both",
                               field="value")
        if value is None and note is not None:
            raise InvalidInput("note: a note describes a new version; give a value with it",
                               field="note")
        if description is not None:
            rules.check_description(description)
        rules.check_note(note)
        with self._writing(tenant, key, expected_version) as (session, secret):
            now = self.clock()
            changed: dict[str, Any] = {}
            if value is not None:
                value = rules.as_secret(value)
                rules.check_value(value, secret.type, self.settings)
                changed["version"] = self._add_version(session, secret, value, actor=actor,
                                                       origin="updated", note=note, now=now)
            if description is not None and description != secret.description:
                secret.description = description
                changed["description_changed"] = True
            secret.updated_at = now
            audit.record(session, tenant_id=secret.tenant_id, actor=actor,
                         action="secret.update", target=f"secret:{key}", at=now,
                         details=changed)
            return self._info(session, secret, source_tenant=secret.tenant_id)

    def set(self, tenant: str, key: str, value: SecretValue | str | bytes, *, actor: Actor,
            type: str = "text", description: str | None = None,
            note: str | None = None) -> SecretInfo:
        """Create `key`, or give it a new version if the tenant has it already."""
        with self.sessions() as session:
            exists = self._live(session, tenant_id_of(session, tenant), key) is not None
        if exists:
            return self.update(tenant, key, actor=actor, value=rules.as_secret(value),
                               description=description, note=note)
        return self.create(tenant, key, rules.as_secret(value), actor=actor, type=type,
                           description=description or "", note=note)

    def restore(self, tenant: str, key: str, version: int, *, actor: Actor,
                expected_version: int | None = None, note: str | None = None) -> SecretInfo:
        """A new version holding version `version`'s value, re-encrypted server side."""
        rules.check_expected_version(expected_version)
        rules.check_note(note)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidInput("version: a version number (1 or more)", field="version")
        with self._writing(tenant, key, expected_version) as (session, secret):
            old = session.get(SecretVersion, (secret.id, version))
            if old is None:
                raise NotFound(f"secret {key!r} has no version {version}")
            envelope = old.envelope()
            if envelope is None:
                raise Conflict(f"version {version} of secret {key!r} was destroyed and cannot "
                               "be restored")
            plaintext = self._open(
                envelope, value_aad(secret.tenant_id, secret.id, version, secret.type))
            now = self.clock()
            new = self._add_version(session, secret, SecretValue(plaintext), actor=actor,
                                    origin="restored", restored_from=version, note=note, now=now)
            del plaintext
            secret.updated_at = now
            audit.record(session, tenant_id=secret.tenant_id, actor=actor,
                         action="secret.restore", target=f"secret:{key}", at=now,
                         details={"version": new, "restored_from": version})
            return self._info(session, secret, source_tenant=secret.tenant_id)

    def rename(self, tenant: str, key: str, new_key: str, *, actor: Actor,
               force: bool = False) -> SecretInfo:
        """Give `key` a new name, keeping its history (no re-encryption: AAD uses ids)."""
        rules.check_key(new_key, field="new_key")
        with self._writing(tenant, key, None) as (session, secret):
            if new_key == key:
                return self._info(session, secret, source_tenant=secret.tenant_id)
            if self._live(session, secret.tenant_id, new_key) is not None:
                raise Conflict(f"secret {new_key!r} already exists in tenant {tenant!r}")
            found = self._references(session, secret.tenant_id, key)
            if found and not force:
                raise Conflict(f"secret {key!r} is referenced by {len(found)} parameter(s); "
                               "renaming it would leave them dangling (use force to rename "
                               "anyway)", references=[asdict(r) for r in found])
            now = self.clock()
            secret.key = new_key
            secret.updated_at = now
            audit.record(session, tenant_id=secret.tenant_id, actor=actor,
                         action="secret.rename", target=f"secret:{new_key}", at=now,
                         details={"from": key, "to": new_key, "forced": bool(found),
                                  "references": [asdict(r) for r in found]})
            return self._info(session, secret, source_tenant=secret.tenant_id)

    # -- reading ---------------------------------------------------------------------------

    def list(self, tenant: str, *, include_deleted: bool = False,
             include_inherited: bool = True) -> Infos:
        """The keys this tenant sees, by name: never a value."""
        with self.sessions() as session:
            tenant_id = tenant_id_of(session, tenant)
            chain = self._lookup.chain(session, tenant_id)
            names = dict(chain)
            rows = session.scalars(select(Secret).where(
                Secret.tenant_id.in_(list(names) if include_inherited else [tenant_id]),
                Secret.deleted_at.is_(None))).all()
            depth = {tid: n for n, (tid, _) in enumerate(chain)}
            visible: dict[str, Secret] = {}
            for row in sorted(rows, key=lambda r: depth[r.tenant_id], reverse=True):
                visible[row.key] = row  # nearer tenants overwrite: local shadows inherited
            infos = [self._info(session, row, source_tenant=tenant_id, names=names)
                     for row in visible.values()]
            if include_deleted:
                deleted = session.scalars(select(Secret).where(
                    Secret.tenant_id == tenant_id, Secret.deleted_at.is_not(None))).all()
                infos += [self._info(session, row, source_tenant=tenant_id, names=names)
                          for row in deleted]
            return sorted(infos, key=lambda i: (i.key, i.deleted_at is not None))

    def get(self, tenant: str, key: str) -> SecretInfo:
        """The metadata of the key this tenant sees (its own, or inherited)."""
        with self.sessions() as session:
            tenant_id = tenant_id_of(session, tenant)
            return self._info(session, self._visible(session, tenant, tenant_id, key),
                              source_tenant=tenant_id)

    def versions(self, tenant: str, key: str) -> Versions:
        """The history of the key this tenant sees, newest first, the active one marked."""
        with self.sessions() as session:
            secret = self._visible(session, tenant, tenant_id_of(session, tenant), key)
            rows = session.scalars(select(SecretVersion).where(
                SecretVersion.secret_id == secret.id).order_by(SecretVersion.version.desc()))
            return [VersionInfo(version=v.version, origin=v.origin,
                                restored_from=v.restored_from, note=v.note, actor=v.actor,
                                created_at=v.created_at,
                                active=v.version == secret.current_version,
                                destroyed=v.destroyed_at is not None) for v in rows]

    def references(self, tenant: str, key: str) -> References:
        """Parameters naming `key` in this tenant and in every tenant inheriting it."""
        rules.check_key(key)
        with self.sessions() as session:
            return self._references(session, tenant_id_of(session, tenant), key)

    def resolve(self, tenant: str, key: str) -> Resolved:
        """The value of the highest active version of `key`, local first, then umbrellas."""
        return self.resolve_many(tenant, [key])[key]

    def resolve_many(self, tenant: str, keys: Iterable[str]) -> dict[str, Resolved]:
        """Every key's value in one query; `NotFound` naming the keys that do not resolve."""
        wanted = set(keys)
        resolved = self.resolve_present(tenant, wanted)
        missing = sorted(wanted - resolved.keys())
        if missing:
            with self.sessions() as session:
                tenant_id_of(session, tenant)  # a missing tenant says so instead
                listed = ", ".join(repr(k) for k in missing)
                raise NotFound(f"secret {listed} not found in tenant {tenant!r} or its "
                               "umbrella tenants", keys=missing, tenant=tenant)
        return resolved

    def resolve_present(self, tenant: str, keys: Iterable[str]) -> dict[str, Resolved]:
        """The keys that resolve, in one query; those that do not are simply left out."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        # A bare connection, not an ORM session: this is the hot path of every delivery.
        with self.engine.connect() as connection:
            found = self._lookup.find(connection, tenant, wanted)
        return {key: self._decrypt(hit) for key, hit in found.items()}

    # -- helpers ---------------------------------------------------------------------------

    def _decrypt(self, hit: Found) -> Resolved:
        if hit.envelope is None:
            raise CryptoError()
        aad = value_aad(hit.tenant_id, hit.secret_id, hit.version, hit.type)
        return Resolved(key=hit.key, version=hit.version, tenant=hit.tenant_name, type=hit.type,
                        value=SecretValue(self._open(hit.envelope, aad)),
                        tenant_id=hit.tenant_id)

    def _open(self, envelope: Envelope, aad: bytes) -> bytes:
        """Decrypt, first re-reading the ring if a rotation wrapped this under a newer key."""
        if not self.keyring.has(envelope.kek_id) and self.reload_keyring is not None:
            self.keyring = self.reload_keyring()
        return self.keyring.decrypt(envelope, aad)

    def _add_version(self, session: Session, secret: Secret, value: SecretValue, *,
                     actor: Actor, origin: str, note: str | None, now: datetime,
                     restored_from: int | None = None) -> int:
        require_writable_primary(session, self.keyring)
        previous = secret.current_version
        number = previous + 1
        row = SecretVersion(secret_id=secret.id, version=number, origin=origin,
                            restored_from=restored_from, note=note, actor=actor, created_at=now)
        row.store(self.keyring.encrypt(
            value.reveal(), value_aad(secret.tenant_id, secret.id, number, secret.type)))
        session.add(row)
        # Conditional: if another writer moved the version meanwhile, this matches no row.
        moved = session.execute(
            update(Secret).where(Secret.id == secret.id, Secret.current_version == previous)
            .values(current_version=number, updated_at=now)
            .execution_options(synchronize_session=False))
        if moved.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(f"secret {secret.key!r} changed meanwhile; try again")
        secret.current_version = number
        return number

    def _visible(self, session: Session, tenant: str, tenant_id: str, key: str) -> Secret:
        hit = self._lookup.find(session, tenant_id, [key]).get(key)
        secret = session.get(Secret, hit.secret_id) if hit else None
        if secret is None:
            raise NotFound(f"secret {key!r} not found in tenant {tenant!r} or its umbrella "
                           "tenants")
        return secret

