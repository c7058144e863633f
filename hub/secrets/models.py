"""Tables of the secret store: secrets, their immutable versions, and the master key checks.

A `Secret` is a key in a tenant with its metadata and the number of its current version.
Each `SecretVersion` holds one encrypted value (an `hub.crypto.Envelope` spread over three
columns). Versions are never edited, except that destroying one (retention, or the purge
after a delete's recovery window) blanks its three crypto columns and stamps `destroyed_at`,
leaving a tombstone. The value ciphertext is bound (associated data) to the immutable ids
of its row, so renaming a key needs no re-encryption and a copied blob fails to decrypt.

`MasterKeyCheck` remembers, per master key id, a small blob only that key opens: a process
started with the wrong key under a known id is refused before it touches a secret.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.crypto import Envelope, associated_data
from hub.db import Base, UTCDateTime
from hub.names import KEY_LENGTH

TYPES = ("text", "file")


class Secret(Base):
    __tablename__ = "secrets"
    __table_args__ = (
        # One live key per name and tenant; deleted keys (and their tombstones) may repeat it.
        Index("uq_secrets_live_key", "tenant_id", "key", unique=True,
              sqlite_where=text("deleted_at IS NULL"),
              postgresql_where=text("deleted_at IS NULL")),
        Index("ix_secrets_deleted_at", "deleted_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(KEY_LENGTH))
    type: Mapped[str] = mapped_column(String(8))
    description: Mapped[str] = mapped_column(String(1000))
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    media_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deleted_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    #: When the purge destroyed every data key of this deleted secret (no undelete after).
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SecretVersion(Base):
    __tablename__ = "secret_versions"
    __table_args__ = (Index("ix_secret_versions_kek_id", "kek_id"),)

    # The composite key is what makes two writers unable to both create version n+1.
    secret_id: Mapped[str] = mapped_column(
        ForeignKey("secrets.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    origin: Mapped[str] = mapped_column(String(16))
    restored_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kek_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    def envelope(self) -> Envelope | None:
        """The stored envelope, or None once the version is destroyed."""
        if self.kek_id is None or self.wrapped_key is None or self.ciphertext is None:
            return None
        return Envelope(self.kek_id, bytes(self.wrapped_key), bytes(self.ciphertext))

    def store(self, envelope: Envelope) -> None:
        self.kek_id = envelope.kek_id
        self.wrapped_key = envelope.wrapped_key
        self.ciphertext = envelope.ciphertext

    def destroy(self, at: datetime) -> None:
        """Crypto-shred: without its wrapped data key the ciphertext is noise; drop both."""
        self.kek_id = self.wrapped_key = self.ciphertext = None
        self.destroyed_at = at


class MasterKeyCheck(Base):
    __tablename__ = "master_key_checks"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    check: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Set when rotation retired the key: nothing may be written under it any more.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


def value_aad(tenant_id: str, secret_id: str, version: int, type: str) -> bytes:
    """What a version's ciphertext is bound to: ids that never change, never the key name."""
    return associated_data("secret-value", tenant_id, secret_id, version, type)
