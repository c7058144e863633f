"""The API's request and response bodies (pydantic), shared by the routes.

Requests forbid unknown fields, so a typo is an error rather than a silently ignored option.
Secret values arrive as `SecretStr`, so a stray repr or log line shows a mask; routes turn
them into `hub.secret_value.SecretValue` for the store. No response model has a field that
could hold a value.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hub.tokens import MAX_DESCRIPTION, Role, TokenInfo

KEY_MAX = 128
NAME_MAX = 255
SECRET_DESCRIPTION_MAX = 1000
#: The secret store's key syntax (hub.secrets.rules), stated here so the schema documents it.
KEY_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]*$"
NOTE_MAX = 1024


class Request(BaseModel):
    """Base of request bodies: unknown fields are an error; errors never quote the input.

    `hide_input_in_errors`: a body may hold a value, and the text of a `ValidationError` is
    what a stray log line or traceback would show.
    """

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


class Response(BaseModel):
    """Base of response bodies."""

    model_config = ConfigDict(from_attributes=True)


# Tokens.

class TokenCreate(Request):
    role: Role = Field(description="viewer, writer, admin, or ingest (a `pk_` key).")
    description: str = Field(default="", max_length=MAX_DESCRIPTION)


class TokenOut(Response):
    id: str
    role: Role
    description: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart.")
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, info: TokenInfo) -> TokenOut:
        return cls.model_validate(info)


class TokenCreated(TokenOut):
    # Out of repr: a stray log of this answer must not show the token.
    token: str = Field(description="The token itself. Shown in this answer only.", repr=False)

    @classmethod
    def of(cls, info: TokenInfo, token: str) -> TokenCreated:  # type: ignore[override]
        return cls.model_validate({**TokenOut.of(info).model_dump(), "token": token})


# Secrets.

SecretType = Literal["text", "file"]


class SecretCreate(Request):
    key: str = Field(min_length=1, max_length=KEY_MAX, pattern=KEY_PATTERN)
    value: SecretStr = Field(description="Text, or base64 of the file's bytes for `file`.")
    type: SecretType = "text"
    description: str = Field(default="", max_length=SECRET_DESCRIPTION_MAX)
    note: str | None = Field(default=None, max_length=NOTE_MAX,
                             description="A note on this first version.")
    filename: str | None = Field(default=None, max_length=NAME_MAX)
    media_type: str | None = Field(default=None, max_length=NAME_MAX)


class SecretUpdate(Request):
    value: SecretStr | None = Field(
        default=None, description="A new value (a new version); base64 for a file secret.")
    description: str | None = Field(default=None, max_length=SECRET_DESCRIPTION_MAX)
    note: str | None = Field(default=None, max_length=NOTE_MAX,
                             description="A note on the new version (needs a value).")
    expected_version: int | None = Field(
        default=None, ge=1, description="Refuse (409) unless this is the current version.")
    filename: str | None = Field(
        default=None, max_length=NAME_MAX, description="Accepted only if unchanged.")
    media_type: str | None = Field(
        default=None, max_length=NAME_MAX, description="Accepted only if unchanged.")


class SecretRename(Request):
    new_key: str = Field(min_length=1, max_length=KEY_MAX, pattern=KEY_PATTERN)
    force: bool = Field(default=False, description="Rename even if parameters name the key.")


class VersionRestore(Request):
    note: str | None = Field(default=None, max_length=NOTE_MAX)
    expected_version: int | None = Field(default=None, ge=1)


class RetentionRequest(Request):
    key: str | None = Field(default=None, min_length=1, max_length=KEY_MAX,
                            description="Only this key (default: every key of the tenant).")
    max_versions: int | None = Field(default=None, ge=1, le=10_000,
                                     description="Default: HUB_RETENTION_MAX_VERSIONS.")
    max_age_days: int | None = Field(default=None, ge=1, le=36_500,
                                     description="Default: HUB_RETENTION_MAX_AGE_DAYS.")


class SecretItem(Response):
    key: str
    description: str
    type: SecretType
    version: int = Field(description="The current (highest active) version.")
    source: str = Field(description="`local`, or `inherited` from an umbrella tenant.")
    origin_tenant: str = Field(description="The tenant that holds the key.")
    filename: str | None = None
    media_type: str | None = None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None


class VersionOut(Response):
    version: int
    origin: str = Field(description="created, updated or restored.")
    restored_from: int | None = None
    note: str | None = None
    actor: str
    created_at: datetime
    active: bool = Field(description="True for the version resolution reads.")
    destroyed: bool = Field(description="Its data was destroyed (retention or purge).")


class SecretDetail(SecretItem):
    versions: list[VersionOut]


class ReferenceOut(Response):
    tenant: str
    owner_kind: str
    owner: str
    parameter: str


class DeleteResult(Response):
    key: str
    deleted: bool = Field(description="False for a dry run.")
    dry_run: bool
    forced: bool = Field(description="Deleted although parameters name it.")
    references: list[ReferenceOut]
    recoverable_until: datetime | None = None
    uncovers: str | None = Field(
        default=None, description="The umbrella tenant whose key of this name now resolves.")


class DestroyedVersion(Response):
    key: str
    version: int


class RetentionResult(Response):
    destroyed: list[DestroyedVersion]


# Audit.

class AuditEntryOut(Response):
    seq: int = Field(description="Position in the tenant's chain, from 1.")
    at: datetime
    actor: str
    action: str
    target: str
    outcome: str
    details: dict[str, Any] = Field(default_factory=dict)


class ChainCheck(Response):
    ok: bool = Field(description="True when no entry was altered or removed.")
    broken_at: int | None = Field(default=None, description="The first entry that breaks it.")


class AuditPage(Response):
    entries: list[AuditEntryOut]
    chain: ChainCheck
