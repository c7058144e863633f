"""Master key rotation: re-wrap every data key under the new primary, then retire the old key.

The steps (`hubctl keys rotate` runs them):
1. a new master key joins the ring as primary, the old one stays to read (the CLI saves the
   ring, or prints it when it lives in `HUB_MASTER_KEY`), and its check is recorded;
2. `rewrap` walks, in batches that each commit, the versions whose data key is wrapped by
   any other key, and re-wraps them: only the 32-byte data key is unwrapped and wrapped
   again, the value ciphertext is untouched and no value is ever in plaintext here. It just
   selects by `kek_id`, so it can be interrupted and run again, and it picks up versions
   that processes still on the old ring write meanwhile;
3. `retire` marks an old key retired only when no version uses it any more. Writers hold a
   shared lock on their primary key's check while they write (see `keyring_checks`), so
   retirement waits for writes in flight, and afterwards a process still on the old ring is
   refused instead of writing data nobody could read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from hub.crypto import KeyRing
from hub.db import transaction
from hub.errors import ConfigurationError
from hub.secrets.keyring_checks import require_writable_primary
from hub.secrets.models import MasterKeyCheck, Secret, SecretVersion, value_aad

Progress = Callable[[int], None]


def key_usage(session: Session) -> dict[str, int]:
    """Master key id -> how many stored versions have their data key wrapped by it."""
    rows = session.execute(
        select(SecretVersion.kek_id, func.count()).where(SecretVersion.kek_id.is_not(None))
        .group_by(SecretVersion.kek_id))
    return {kek_id: count for kek_id, count in rows if kek_id is not None}


def pending(sessions: sessionmaker[Session], ring: KeyRing) -> int:
    """How many versions still have their data key wrapped by a key other than the primary."""
    with sessions() as session:
        return sum(count for kek_id, count in key_usage(session).items()
                   if kek_id != ring.primary_id)


def rewrap(sessions: sessionmaker[Session], ring: KeyRing, *, batch_size: int = 200,
           progress: Progress | None = None) -> int:
    """Re-wrap every data key not under the primary; how many were re-wrapped."""
    done = 0
    while True:
        count = _rewrap_batch(sessions, ring, batch_size)
        done += count
        if progress is not None and count:
            progress(count)
        if count == 0:
            return done


def _rewrap_batch(sessions: sessionmaker[Session], ring: KeyRing, batch_size: int) -> int:
    with transaction(sessions) as session:
        require_writable_primary(session, ring)
        rows = session.execute(
            select(SecretVersion, Secret.tenant_id, Secret.type)
            .join(Secret, Secret.id == SecretVersion.secret_id)
            .where(SecretVersion.kek_id.is_not(None), SecretVersion.kek_id != ring.primary_id)
            .order_by(SecretVersion.secret_id, SecretVersion.version)
            .limit(batch_size).with_for_update(of=SecretVersion)
        ).all()
        for version, tenant_id, type_ in rows:
            envelope = version.envelope()
            if envelope is None:  # destroyed since it was selected
                continue
            aad = value_aad(tenant_id, version.secret_id, version.version, type_)
            fresh = ring.rewrap(envelope, aad)
            # Conditional on the old key id: a version destroyed meanwhile stays destroyed.
            session.execute(
                update(SecretVersion)
                .where(SecretVersion.secret_id == version.secret_id,
                       SecretVersion.version == version.version,
                       SecretVersion.kek_id == envelope.kek_id)
                .values(kek_id=fresh.kek_id, wrapped_key=fresh.wrapped_key)
                .execution_options(synchronize_session=False))
        return len(rows)


def retire(sessions: sessionmaker[Session], ring: KeyRing, key_id: str, *,
           now: datetime) -> bool:
    """Mark `key_id` retired if no version uses it; False (and nothing changed) if some do."""
    if key_id == ring.primary_id:
        raise ConfigurationError(f"master key {key_id} is the primary key; it cannot retire")
    with transaction(sessions) as session:
        # The exclusive lock waits for writers holding their shared lock on this key's check.
        check = session.scalars(select(MasterKeyCheck).where(MasterKeyCheck.key_id == key_id)
                                .with_for_update()).first()
        in_use = session.scalar(select(func.count()).select_from(SecretVersion)
                                .where(SecretVersion.kek_id == key_id))
        if in_use:
            return False
        if check is not None and check.retired_at is None:
            check.retired_at = now
        return True
