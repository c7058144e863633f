"""The end of a secret's life: delete (soft, within a recovery window), undelete, purge, retention.

A delete only marks the key: `undelete` brings it back while the recovery window is open;
after it, `purge_expired` destroys the data keys for good. Retention destroys old versions of
live keys by count and age. Destroying itself is `hub.secrets.retention`'s.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import timedelta

from sqlalchemy import select

from hub import audit
from hub.db import transaction
from hub.errors import Conflict, NotFound
from hub.secrets import retention, rules
from hub.secrets.models import Secret
from hub.secrets.records import Actor, DeleteReport, Destroyed, SecretInfo
from hub.secrets.store_base import SecretStoreBase
from hub.tenants import tenant_id_of


class SecretLifecycle(SecretStoreBase):
    """Delete, undelete, purge and retention of the secret store (see module doc)."""

    def delete(self, tenant: str, key: str, *, actor: Actor, force: bool = False,
               dry_run: bool = False) -> DeleteReport:
        """Soft-delete `key` at once (undeletable within the recovery window).

        Parameters that name the key (here, or in tenants inheriting it) would dangle: that
        is a `Conflict` listing them, unless `force`. `dry_run` only reports.
        """
        with self._writing(tenant, key, None) as (session, secret):
            found = self._references(session, secret.tenant_id, key)
            now = self.clock()
            window = timedelta(days=self.settings.recovery_window_days)
            uncovered = self._lookup.find(session, secret.tenant_id, [key], skip_local=True)
            report = DeleteReport(
                tenant=tenant, key=key, references=found, deleted=not dry_run,
                forced=bool(found), recoverable_until=now + window,
                uncovers=uncovered[key].tenant_name if key in uncovered else None)
            if dry_run:
                return replace(report, forced=False)
            if found and not force:
                raise Conflict(f"secret {key!r} is referenced by {len(found)} parameter(s); "
                               "deleting it would leave them dangling (use force to delete "
                               "anyway)", references=[asdict(r) for r in found])
            secret.deleted_at = now
            secret.deleted_by = actor
            audit.record(session, tenant_id=secret.tenant_id, actor=actor,
                         action="secret.delete", target=f"secret:{key}", at=now,
                         details={"version": secret.current_version, "forced": bool(found),
                                  "references": [asdict(r) for r in found]})
            return report

    def undelete(self, tenant: str, key: str, *, actor: Actor) -> SecretInfo:
        """Bring back the most recently deleted `key`, if its recovery window is still open."""
        with transaction(self.sessions) as session:
            tenant_id = tenant_id_of(session, tenant)
            secret = session.scalars(
                select(Secret).where(Secret.tenant_id == tenant_id, Secret.key == key,
                                     Secret.deleted_at.is_not(None))
                .order_by(Secret.deleted_at.desc()).limit(1).with_for_update()).first()
            if secret is None:
                raise NotFound(f"no deleted secret {key!r} in tenant {tenant!r}")
            now = self.clock()
            assert secret.deleted_at is not None
            if secret.purged_at is not None or now > secret.deleted_at + timedelta(
                    days=self.settings.recovery_window_days):
                raise Conflict(f"secret {key!r} was deleted longer ago than the recovery "
                               f"window ({self.settings.recovery_window_days} days); its data "
                               "is destroyed")
            if self._live(session, tenant_id, key) is not None:
                raise Conflict(f"secret {key!r} exists again in tenant {tenant!r}; rename or "
                               "delete that one first")
            secret.deleted_at = None
            secret.deleted_by = None
            secret.updated_at = now
            audit.record(session, tenant_id=tenant_id, actor=actor, action="secret.undelete",
                         target=f"secret:{key}", at=now,
                         details={"version": secret.current_version})
            return self._info(session, secret, source_tenant=tenant_id)

    def purge_expired(self, *, batch_size: int = 100) -> int:
        """Destroy the data keys of keys deleted longer ago than the recovery window."""
        purged = 0
        while True:
            with transaction(self.sessions) as session:
                now = self.clock()
                batch = retention.expired_deleted(
                    session, now=now, window_days=self.settings.recovery_window_days,
                    limit=batch_size)
                for secret in batch:
                    retention.purge_secret(session, secret, now=now)
            purged += len(batch)
            if len(batch) < batch_size:
                return purged

    def apply_retention(self, tenant: str, key: str | None = None, *, actor: Actor,
                        max_versions: int | None = None,
                        max_age_days: int | None = None) -> Destroyed:
        """Destroy old versions of the tenant's keys (or of `key`); (key, version) destroyed.

        Keeps at most `max_versions` versions and destroys those older than `max_age_days`
        (defaults: the settings); the active version is always kept.
        """
        rules.check_retention(max_versions, max_age_days)
        max_versions = max_versions or self.settings.retention_max_versions
        max_age_days = max_age_days or self.settings.retention_max_age_days
        if max_versions is None and max_age_days is None:
            return []
        destroyed: Destroyed = []
        with transaction(self.sessions) as session:
            tenant_id = tenant_id_of(session, tenant)
            query = select(Secret).where(Secret.tenant_id == tenant_id,
                                         Secret.deleted_at.is_(None))
            if key is not None:
                query = query.where(Secret.key == key)
            secrets = session.scalars(query.order_by(Secret.key).with_for_update()).all()
            if key is not None and not secrets:
                raise NotFound(f"secret {key!r} not found in tenant {tenant!r}")
            now = self.clock()
            for secret in secrets:
                numbers = retention.apply_to_secret(session, secret, actor=actor, now=now,
                                                    max_versions=max_versions,
                                                    max_age_days=max_age_days)
                destroyed.extend((secret.key, n) for n in numbers)
        return destroyed
