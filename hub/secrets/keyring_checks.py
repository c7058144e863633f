"""Start-up checks of the master key ring against the database, and the write-time guard.

`open_keyring` is how every hub process gets its ring. It refuses to start, with a message
saying what to do, when:
- the database holds encrypted secrets and no master key is configured (never plaintext);
- stored data was written under a key id the ring lacks (that id is named);
- a ring key's stored check does not open: the right id with the wrong key material.
A ring key the database has not seen yet gets its check recorded. Only a database without
secrets lets the embedded default generate a fresh key into `HUB_HOME`.

`require_writable_primary` runs inside every write: it refuses to write under a key that
rotation has retired (a process still running on the old ring), holding a shared lock on the
key's check so that retirement waits for writes in flight.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.config import Settings
from hub.crypto import KeyRing
from hub.db import make_sessionmaker, transaction
from hub.errors import ConfigurationError
from hub.keyfiles import load_master_keyring, master_key_source
from hub.secrets.models import MasterKeyCheck, SecretVersion


def open_keyring(engine: Engine, settings: Settings) -> KeyRing:
    """The master key ring, verified against what the database holds (see module doc)."""
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        holds_secrets = session.scalar(select(exists().where(SecretVersion.kek_id.is_not(None))))
    ring = load_master_keyring(settings, may_generate=not holds_secrets)
    source = master_key_source(settings)
    with transaction(sessions) as session:
        used = {kek_id for kek_id in session.scalars(select(SecretVersion.kek_id).distinct())
                if kek_id is not None}
        missing = sorted(used - set(ring.ids))
        if missing:
            raise ConfigurationError(
                f"the database holds secrets encrypted under master key id(s) "
                f"{', '.join(missing)}, which the key ring from {source} does not have: "
                "start the hub with the key ring that includes them")
        for key_id in ring.ids:
            verify_or_record_check(session, ring, key_id, source=source)
    return ring


def verify_or_record_check(session: Session, ring: KeyRing, key_id: str, *,
                           source: str = "the key ring") -> None:
    """Refuse a ring key whose stored check fails; remember the check of a new one."""
    row = session.get(MasterKeyCheck, key_id)
    if row is None:
        try:
            with session.begin_nested():
                session.add(MasterKeyCheck(key_id=key_id, check=ring.make_check(key_id),
                                           created_at=datetime.now(UTC)))
        except IntegrityError:  # another process recorded it first; verify theirs instead
            row = session.get(MasterKeyCheck, key_id)
    if row is not None and not ring.verify_check(key_id, bytes(row.check)):
        raise ConfigurationError(
            f"wrong master key for id {key_id} (from {source}): it does not open the check "
            "the database holds for that id; start the hub with the key it was set up with")


def require_writable_primary(session: Session, ring: KeyRing) -> None:
    """Refuse to write under a retired primary key; lock its check against retirement."""
    retired = session.execute(
        select(MasterKeyCheck.retired_at).where(MasterKeyCheck.key_id == ring.primary_id)
        .with_for_update(read=True)
    ).first()
    if retired is not None and retired[0] is not None:
        raise ConfigurationError(
            f"master key {ring.primary_id} has been retired by a key rotation: restart this "
            "process with the current key ring")
