"""Destroying secret versions: retention by count and age, and the purge after a delete.

Destroying is crypto-shredding: the version's wrapped data key and its ciphertext are
deleted, the row stays as a tombstone (version, origin, note, actor, time, `destroyed_at`),
and an audit entry says who destroyed what and why. The active (current) version of a live
key is never destroyed here; the purge only touches keys deleted longer ago than the
recovery window, which can then no longer be undeleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import audit
from hub.secrets.models import Secret, SecretVersion

PURGE_ACTOR = "system:purge"


def retention_victims(versions: Sequence[SecretVersion], *, current: int,
                      max_versions: int | None, max_age_days: int | None,
                      now: datetime) -> list[SecretVersion]:
    """The versions the policy destroys: beyond the newest `max_versions`, or older than
    `max_age_days`; never the current one, never one already destroyed."""
    alive = sorted((v for v in versions if v.destroyed_at is None),
                   key=lambda v: v.version, reverse=True)
    cutoff = now - timedelta(days=max_age_days) if max_age_days is not None else None
    victims = []
    for position, version in enumerate(alive):
        if version.version == current:
            continue
        too_many = max_versions is not None and position >= max_versions
        too_old = cutoff is not None and version.created_at < cutoff
        if too_many or too_old:
            victims.append(version)
    return victims


def apply_to_secret(session: Session, secret: Secret, *, actor: str, now: datetime,
                    max_versions: int | None, max_age_days: int | None) -> list[int]:
    """Destroy what the policy says of one (locked) secret; the destroyed version numbers."""
    versions = session.scalars(
        select(SecretVersion).where(SecretVersion.secret_id == secret.id)).all()
    victims = retention_victims(versions, current=secret.current_version,
                                max_versions=max_versions, max_age_days=max_age_days, now=now)
    for version in victims:
        version.destroy(now)
    if victims:
        audit.record(session, tenant_id=secret.tenant_id, actor=actor,
                     action="secret.retention", target=f"secret:{secret.key}", at=now,
                     details={"destroyed_versions": sorted(v.version for v in victims),
                              "max_versions": max_versions, "max_age_days": max_age_days})
    return sorted(v.version for v in victims)


def expired_deleted(session: Session, *, now: datetime, window_days: int,
                    limit: int) -> list[Secret]:
    """Deleted keys whose recovery window is over and whose data keys still exist (locked)."""
    cutoff = now - timedelta(days=window_days)
    return list(session.scalars(
        select(Secret).where(Secret.deleted_at.is_not(None), Secret.deleted_at <= cutoff,
                             Secret.purged_at.is_(None))
        .order_by(Secret.deleted_at).limit(limit).with_for_update(skip_locked=True)
    ).all())


def purge_secret(session: Session, secret: Secret, *, now: datetime) -> None:
    """Destroy every version of a deleted secret, keep the tombstones, audit it."""
    versions = session.scalars(
        select(SecretVersion).where(SecretVersion.secret_id == secret.id,
                                    SecretVersion.destroyed_at.is_(None))).all()
    for version in versions:
        version.destroy(now)
    secret.purged_at = now
    audit.record(session, tenant_id=secret.tenant_id, actor=PURGE_ACTOR, action="secret.purge",
                 target=f"secret:{secret.key}", at=now,
                 details={"destroyed_versions": sorted(v.version for v in versions),
                          "deleted_at": secret.deleted_at})
