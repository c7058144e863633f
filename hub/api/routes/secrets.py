"""`/api/v1/secrets`: thin handlers over `hub.secrets.store.SecretStore`; no answer has a value.

Viewers list and read metadata; writers create, update, rename, restore and delete; admins
also undelete within the recovery window and apply the retention policy. Every value that
arrives is registered with the process scrubber before anything could log it, and is handed
to the store wrapped in `SecretValue`.

`POST /api/v1/secrets` takes JSON (a file secret as base64 `value` with `filename` and
`media_type`) or `multipart/form-data` (fields `key`, `type`, `description`, `note`, and the
file in `file` or text in `value`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from hub.api.auth import Admin, HubDep, Viewer, Writer
from hub.api.schemas import (
    DeleteResult,
    DestroyedVersion,
    ReferenceOut,
    RetentionRequest,
    RetentionResult,
    SecretCreate,
    SecretDetail,
    SecretItem,
    SecretRename,
    SecretUpdate,
    VersionOut,
    VersionRestore,
)
from hub.errors import InvalidInput
from hub.logging import get_scrubber
from hub.secret_value import SecretValue
from hub.secrets.store import SecretInfo

router = APIRouter(prefix="/api/v1/secrets", tags=["secrets"])

SCRUB_TTL_SECONDS = 3600.0

_CREATE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": SecretCreate.model_json_schema()},
            "multipart/form-data": {"schema": {
                "type": "object",
                "required": ["key"],
                "properties": {
                    "key": {"type": "string", "minLength": 1, "maxLength": 128},
                    "type": {"type": "string", "enum": ["text", "file"], "default": "file"},
                    "description": {"type": "string", "maxLength": 500},
                    "note": {"type": "string", "maxLength": 500},
                    "value": {"type": "string", "description": "A text value."},
                    "file": {"type": "string", "format": "binary"},
                },
            }},
        },
    },
}


def scrub(raw: str | bytes) -> SecretValue:
    """Register a value with this process's scrubber, so no log line can show it; wrap it.

    The API process holds a value only while the request runs, so it is masked for an hour
    rather than forever. A value shorter than the scrubber's floor is refused by the store
    anyway (with a clear error), so it is not registered.
    """
    scrubber = get_scrubber()
    if len(raw) >= scrubber.min_length:
        scrubber.add(raw, label="api", ttl=SCRUB_TTL_SECONDS)
    return SecretValue(raw)


@router.get("", response_model=list[SecretItem])
def list_secrets(principal: Viewer, hub: HubDep) -> list[SecretItem]:
    """The tenant's secrets and those it inherits from its umbrella tenants."""
    return [SecretItem.model_validate(info) for info in hub.secrets.list(principal.tenant)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SecretItem,
             openapi_extra=_CREATE_BODY)
async def create_secret(request: Request, principal: Writer, hub: HubDep) -> SecretItem:
    """Create a secret (version 1). The answer is its metadata, never the value."""
    fields, value = await _new_secret(request)
    info = await run_in_threadpool(
        lambda: hub.secrets.create(principal.tenant, fields.key, value, type=fields.type,
                                   description=fields.description, note=fields.note,
                                   filename=fields.filename, media_type=fields.media_type,
                                   actor=principal.actor))
    return SecretItem.model_validate(info)


@router.post("/retention", response_model=RetentionResult)
def apply_retention(body: RetentionRequest, principal: Admin, hub: HubDep) -> RetentionResult:
    """Destroy old versions by the retention policy; the active version is always kept."""
    destroyed = hub.secrets.apply_retention(
        principal.tenant, body.key, max_versions=body.max_versions,
        max_age_days=body.max_age_days, actor=principal.actor)
    return RetentionResult(destroyed=[DestroyedVersion(key=key, version=version)
                                      for key, version in destroyed])


@router.get("/{key}", response_model=SecretDetail)
def show_secret(key: str, principal: Viewer, hub: HubDep) -> SecretDetail:
    """A secret's metadata and its versions."""
    info = hub.secrets.get(principal.tenant, key)
    versions = hub.secrets.versions(principal.tenant, key)
    return SecretDetail.model_validate(
        {**SecretItem.model_validate(info).model_dump(),
         "versions": [VersionOut.model_validate(v) for v in versions]})


@router.patch("/{key}", response_model=SecretItem)
def update_secret(key: str, body: SecretUpdate, principal: Writer, hub: HubDep) -> SecretItem:
    """Change the description, or the value (a new version); `expected_version` guards races."""
    value = None
    if body.value is not None:
        # Registered before the store is asked anything: no line logged from here can show it.
        scrub(body.value.get_secret_value())
    if body.value is not None or body.filename is not None or body.media_type is not None:
        current = hub.secrets.get(principal.tenant, key)
        _refuse_file_field_changes(body, current)
        if body.value is not None:
            value = _decoded(body.value.get_secret_value(), current.type)
    info = hub.secrets.update(principal.tenant, key, value=value, description=body.description,
                              note=body.note, expected_version=body.expected_version,
                              actor=principal.actor)
    return SecretItem.model_validate(info)


@router.post("/{key}/rename", response_model=SecretItem)
def rename_secret(key: str, body: SecretRename, principal: Writer, hub: HubDep) -> SecretItem:
    """Give a secret a new key (refused while parameters still name the old one)."""
    info = hub.secrets.rename(principal.tenant, key, body.new_key, force=body.force,
                              actor=principal.actor)
    return SecretItem.model_validate(info)


@router.get("/{key}/versions", response_model=list[VersionOut])
def list_versions(key: str, principal: Viewer, hub: HubDep) -> list[VersionOut]:
    return [VersionOut.model_validate(v) for v in hub.secrets.versions(principal.tenant, key)]


@router.post("/{key}/versions/{version}/restore", response_model=SecretItem)
def restore_version(key: str, version: int, principal: Writer, hub: HubDep,
                    body: VersionRestore | None = None) -> SecretItem:
    """Make version `version`'s value current again, as a new version."""
    body = body or VersionRestore()
    info = hub.secrets.restore(principal.tenant, key, version, note=body.note,
                               expected_version=body.expected_version, actor=principal.actor)
    return SecretItem.model_validate(info)


@router.get("/{key}/references", response_model=list[ReferenceOut])
def list_references(key: str, principal: Viewer, hub: HubDep) -> list[ReferenceOut]:
    """The parameters (of actions and event types) that name this key."""
    hub.secrets.get(principal.tenant, key)  # a key this tenant cannot see is not found
    return [ReferenceOut.model_validate(r)
            for r in hub.secrets.references(principal.tenant, key)]


@router.delete("/{key}", response_model=DeleteResult, responses={409: {
    "description": "Parameters still name this key; the problem lists them in `references`."}})
def delete_secret(
    key: str, principal: Writer, hub: HubDep,
    force: Annotated[bool, Query(description="Delete even if parameters name it.")] = False,
    dry_run: Annotated[bool, Query(description="Only say what would happen.")] = False,
) -> DeleteResult:
    """Delete a secret (recoverable by an admin within the recovery window)."""
    report = hub.secrets.delete(principal.tenant, key, force=force, dry_run=dry_run,
                                actor=principal.actor)
    return DeleteResult.model_validate({**asdict(report), "dry_run": dry_run})


@router.post("/{key}/undelete", response_model=SecretItem)
def undelete_secret(key: str, principal: Admin, hub: HubDep) -> SecretItem:
    """Bring back a deleted secret within the recovery window."""
    return SecretItem.model_validate(
        hub.secrets.undelete(principal.tenant, key, actor=principal.actor))


async def _new_secret(request: Request) -> tuple[SecretCreate, SecretValue]:
    """The fields and the value of a new secret, from JSON or a multipart form."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        return await _from_form(request)
    raw = await request.body()
    try:
        fields = SecretCreate.model_validate_json(raw or b"null")
    except ValidationError as exc:
        raise _invalid(exc) from None
    return fields, _decoded(fields.value.get_secret_value(), fields.type)


def _decoded(text: str, kind: str) -> SecretValue:
    """The value as the store takes it (a file's is base64 in JSON), registered to scrub."""
    as_text = scrub(text)
    if kind != "file":
        return as_text
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise InvalidInput("value: a file secret's value must be base64", field="value") from None
    return scrub(data)


def _refuse_file_field_changes(body: SecretUpdate, current: SecretInfo) -> None:
    # The store keeps a file's name and media type from its creation; accepting a different
    # one here and dropping it silently would be worse than saying so.
    for name in ("filename", "media_type"):
        given = getattr(body, name)
        if given is not None and given != getattr(current, name):
            raise InvalidInput(f"{name}: cannot be changed by an update (create a new key)",
                               field=name)


async def _from_form(request: Request) -> tuple[SecretCreate, SecretValue]:
    form = await request.form()
    upload = form.get("file")
    text = form.get("value")
    given: dict[str, str | None] = {
        name: item for name in ("key", "type", "description", "note")
        if isinstance(item := form.get(name), str)}
    if isinstance(upload, UploadFile):
        value = scrub(await upload.read())
        given.setdefault("type", "file")
        given["filename"] = upload.filename
        given["media_type"] = upload.content_type
    elif isinstance(text, str):
        value = scrub(text)
        given.setdefault("type", "text")
    else:
        raise InvalidInput("file: a multipart secret needs a `file` part or a `value` field")
    try:
        # The value is checked by the store; the model sees a placeholder for it.
        fields = SecretCreate.model_validate({**given, "value": ""})
    except ValidationError as exc:
        raise _invalid(exc) from None
    return fields, value


def _invalid(exc: ValidationError) -> RequestValidationError:
    # Only field, rule and message go on: `input` could be the secret value itself.
    return RequestValidationError([
        {"type": e["type"], "loc": ("body", *e["loc"]), "msg": e["msg"]}
        for e in exc.errors(include_input=False, include_context=False, include_url=False)
    ])

