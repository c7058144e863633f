"""Errors at the HTTP edge: the one place hub error kinds become statuses and problem+json.

Every error answer of the API is an RFC 9457 `application/problem+json` document:
`{type, title, status, detail, code, ...}` plus the error's value-free `details` (for example
the `references` of a refused delete). Services raise `hub.errors` kinds and know nothing of
HTTP; routes raise them too; this module maps them.

Nothing here echoes what the client sent: pydantic validation errors carry the offending
`input` (which may be a secret value), so the problem names the field and the rule only.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub import errors

MEDIA_TYPE = "application/problem+json"
#: The whole answer to an error nobody foresaw: its text may quote anything, values included.
INTERNAL_ERROR = "internal error"

logger = logging.getLogger("hub.api")
TYPE_BASE = "https://hub.invalid/problems/"

#: Status of each error kind; a subclass not listed here takes its nearest listed base.
STATUS: dict[type[errors.HubError], int] = {
    errors.InvalidInput: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PermissionDenied: 403,
    errors.Unauthenticated: 401,
    errors.CryptoError: 500,
    errors.ConfigurationError: 500,
    errors.SchemaOutOfDate: 503,
    errors.Unavailable: 503,
    errors.HubError: 400,
}

TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    500: "Internal error",
    503: "Unavailable",
}

#: Extension members a problem may not overwrite with its details.
_RESERVED = frozenset({"type", "title", "status", "detail", "code"})


def status_of(error: errors.HubError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


def problem(status: int, detail: str, *, code: str | None = None,
            headers: Mapping[str, str] | None = None,
            extra: Mapping[str, Any] | None = None) -> JSONResponse:
    """A problem+json response."""
    code = code or TITLES.get(status, "error").lower().replace(" ", "_")
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    # Details may be dataclasses (e.g. the references of a refused delete).
    body.update(jsonable_encoder({key: value for key, value in (extra or {}).items()
                                  if key not in _RESERVED}))
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def from_hub_error(error: errors.HubError) -> JSONResponse:
    status = status_of(error)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, error.message, code=error.code, headers=headers,
                   extra=error.details)


def describe_validation_errors(raw: Sequence[Any]) -> tuple[str, list[dict[str, str]]]:
    """`(detail, errors)` naming each field and broken rule, never the input given.

    pydantic puts the offending `input` (and sometimes `ctx` derived from it) in each error;
    only `loc`, `type` and `msg` are kept, and `msg` is pydantic's fixed wording for the rule.
    """
    problems = []
    for error in raw:
        location = [str(part) for part in error.get("loc", ())]
        if location and location[0] in {"body", "query", "path", "header"}:
            where, location = location[0], location[1:]
        else:
            where = "body"
        field = ".".join(location) or where
        problems.append({"field": field, "in": where, "rule": str(error.get("type", "invalid")),
                         "message": str(error.get("msg", "invalid"))})
    detail = "; ".join(f"{item['field']}: {item['message']}" for item in problems)
    return detail or "invalid request", problems


def _validation_status(raw: Sequence[Any]) -> int:
    # A body that is not JSON at all is a malformed request, not an invalid value.
    if any(error.get("type") == "json_invalid" for error in raw):
        return 400
    return 422


async def _on_hub_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.HubError)
    return from_hub_error(exc)


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    detail, items = describe_validation_errors(raw)
    return problem(_validation_status(raw), detail, code="invalid_input",
                   extra={"errors": items})


async def _on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "error")
    return problem(exc.status_code, detail, headers=exc.headers)


async def _on_unexpected(_request: Request, _exc: Exception) -> JSONResponse:
    # Last resort for an error raised outside `CatchUnexpected` (in an outer middleware):
    # Starlette re-raises it to the server, which logs it through the scrubbing handler.
    return problem(500, INTERNAL_ERROR, code="internal_error")


class CatchUnexpected:
    """Answer an exception no handler took with a fixed 500 problem; log it once, scrubbed.

    Without this layer Starlette answers and then re-raises to the server, and the line the
    client never sees is written by uvicorn in its own words. Here the one log line is ours:
    a fixed message naming the method and route template (never the path typed, which may
    hold anything), with the traceback rendered by the logging chain, where every registered
    value is masked. Installed innermost, right around the routes and their handlers.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def noting_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        except Exception:
            route = getattr(scope.get("route"), "path", "unmatched")
            logger.error("unexpected error in a request: %s %s", scope["method"], route,
                         exc_info=True)
            if not started:  # otherwise the server closes the half-sent answer
                await send_problem(send, 500, INTERNAL_ERROR, code="internal_error")


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""
    app.add_exception_handler(errors.HubError, _on_hub_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)


async def send_problem(send: Send, status: int, detail: str, *, code: str) -> None:
    """Answer with a problem from raw ASGI middleware, before any route runs."""
    response = problem(status, detail, code=code)
    await send({"type": "http.response.start", "status": status,
                "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})
