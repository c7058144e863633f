"""API tokens: who may call the HTTP API, for which tenant, with which role.

A token is `sk_` (a role: viewer, writer or admin) or `pk_` (an ingest key: it may only post
events) followed by 32 bytes of url-safe randomness. It is shown once, when created; the
database keeps only its SHA-256. The tokens are high-entropy random strings, so an unkeyed
fast hash is safe, and it lets `authenticate` look a token up by hash in one indexed query.
A short prefix is kept in clear so people can tell their tokens apart in a list.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, get_args

from sqlalchemy import CheckConstraint, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from hub import audit
from hub.db import Base, UTCDateTime, transaction
from hub.errors import InvalidInput, NotFound, Unauthenticated

Role = Literal["viewer", "writer", "admin", "ingest"]
ROLES: tuple[Role, ...] = get_args(Role)

SECRET_PREFIX = "sk_"  # noqa: S105 (a kind marker, not a credential)
INGEST_PREFIX = "pk_"
#: Characters of the token kept in clear: the kind and 8 random characters.
SHOWN_PREFIX_LENGTH = 11
#: `last_used_at` is refreshed at most this often, so reads do not each cost a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_DESCRIPTION = 500


class Token(Base):
    """One issued token. The token itself is never stored, only its hash."""

    __tablename__ = "tokens"
    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(MAX_DESCRIPTION))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a token: everything but the token."""

    id: str
    tenant_id: str
    role: Role
    description: str
    prefix: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @property
    def actor(self) -> str:
        """How audit entries name the holder of this token."""
        return f"token:{self.id}"

    @classmethod
    def of(cls, row: Token) -> TokenInfo:
        return cls(id=row.id, tenant_id=row.tenant_id, role=row.role,  # type: ignore[arg-type]
                   description=row.description, prefix=row.prefix, created_by=row.created_by,
                   created_at=row.created_at, revoked_at=row.revoked_at,
                   last_used_at=row.last_used_at)


@dataclass(frozen=True)
class IssuedToken:
    """A new token: its metadata and, this once, the token itself (kept out of repr)."""

    info: TokenInfo
    token: str = field(repr=False)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(role: Role) -> str:
    kind = INGEST_PREFIX if role == "ingest" else SECRET_PREFIX
    return kind + secrets.token_urlsafe(32)


class TokenService:
    """Issues, checks, lists and revokes tokens; every change is audited in its transaction."""

    def __init__(self, sessions: sessionmaker[Session], *, clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.clock = clock

    def create(self, tenant_id: str, role: str, *, description: str = "",
               actor: str) -> IssuedToken:
        """Issue a token for `tenant_id`; the result is the only time the token is visible."""
        with transaction(self.sessions) as session:
            return self.create_in(session, tenant_id, role, description=description, actor=actor)

    def create_in(self, session: Session, tenant_id: str, role: str, *, description: str = "",
                  actor: str) -> IssuedToken:
        """`create` inside the caller's transaction (e.g. together with a new tenant)."""
        checked_role = _check_role(role)
        if len(description) > MAX_DESCRIPTION:
            raise InvalidInput(f"description: at most {MAX_DESCRIPTION} characters")
        token = new_token(checked_role)
        now = self.clock()
        row = Token(id=str(uuid.uuid4()), tenant_id=tenant_id, role=checked_role,
                    description=description, hash=hash_token(token),
                    prefix=token[:SHOWN_PREFIX_LENGTH], created_by=actor, created_at=now)
        session.add(row)
        session.flush()
        audit.record(session, tenant_id=tenant_id, actor=actor, action="token.create",
                     target=f"token:{row.id}", at=now,
                     details={"role": checked_role, "prefix": row.prefix})
        return IssuedToken(TokenInfo.of(row), token)

    def authenticate(self, token: str) -> TokenInfo:
        """The live token `token` is, or `Unauthenticated` (the same answer for every failure)."""
        if not token.startswith((SECRET_PREFIX, INGEST_PREFIX)):
            raise Unauthenticated("invalid or revoked token")
        digest = hash_token(token)
        with self.sessions() as session:
            row = session.scalars(select(Token).where(Token.hash == digest)).one_or_none()
            # The lookup is by hash already; the comparison keeps the check explicit.
            if row is None or row.revoked_at is not None or not hmac.compare_digest(
                    row.hash, digest):
                raise Unauthenticated("invalid or revoked token")
            info = TokenInfo.of(row)
        now = self.clock()
        if info.last_used_at is None or now - info.last_used_at >= LAST_USED_RESOLUTION:
            self._touch(info.id, now)
        return info

    def _touch(self, token_id: str, now: datetime) -> None:
        with transaction(self.sessions) as session:
            row = session.get(Token, token_id)
            if row is not None:
                row.last_used_at = now

    def list(self, tenant_id: str, *, include_revoked: bool = False) -> list[TokenInfo]:
        """The tenant's tokens, oldest first (revoked ones only when asked)."""
        query = select(Token).where(Token.tenant_id == tenant_id)
        if not include_revoked:
            query = query.where(Token.revoked_at.is_(None))
        with self.sessions() as session:
            rows = session.scalars(query.order_by(Token.created_at, Token.id)).all()
            return [TokenInfo.of(row) for row in rows]

    def get(self, tenant_id: str, token_id: str) -> TokenInfo:
        with self.sessions() as session:
            return TokenInfo.of(_owned(session, tenant_id, token_id))

    def revoke(self, tenant_id: str, token_id: str, *, actor: str) -> TokenInfo:
        """Revoke a token of `tenant_id` at once; revoking twice is harmless."""
        with transaction(self.sessions) as session:
            row = _owned(session, tenant_id, token_id)
            if row.revoked_at is None:
                now = self.clock()
                row.revoked_at = now
                audit.record(session, tenant_id=tenant_id, actor=actor, action="token.revoke",
                             target=f"token:{row.id}", at=now, details={"prefix": row.prefix})
            return TokenInfo.of(row)


def _owned(session: Session, tenant_id: str, token_id: str) -> Token:
    row = session.get(Token, token_id)
    # Another tenant's token is reported exactly like a missing one.
    if row is None or row.tenant_id != tenant_id:
        raise NotFound(f"no token {token_id!r}")
    return row


def _check_role(role: str) -> Role:
    if role not in ROLES:
        raise InvalidInput(f"role: must be one of {', '.join(ROLES)}")
    return role
