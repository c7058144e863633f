"""The HTTP API application: `create_app(settings)` wires the hub's services to the routes.

Each resource is one module under `hub/api/routes/` exposing a `router`; adding a resource is
adding its module name to `ROUTE_MODULES`. Around the routes sit three small ASGI layers: a
request-size limit that refuses large bodies before anything parses them, request metrics
labelled by route template (never by the path a client typed), and innermost the catch of
unexpected errors (`problems.CatchUnexpected`: an opaque 500, one scrubbed log line).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub import metrics
from hub.api import problems
from hub.config import MIB, Settings
from hub.runtime import Hub, open_hub
from hub.tokens import TokenService

API_PREFIX = "/api/v1"
#: Larger bodies are refused with 413 before parsing (file secrets are at most 1 MiB,
#: and base64 makes them a third larger).
MAX_BODY_BYTES = 2 * MIB

#: One module per resource under `hub.api.routes`, each with a `router`.
ROUTE_MODULES = (
    "health", "tokens", "secrets", "audit", "event_types", "actions", "automations", "events",
    "executions", "sinks", "hooks",
)


def create_app(settings: Settings, *, hub: Hub | None = None) -> FastAPI:
    """The API for `settings`; pass `hub` to serve an already built one (tests do)."""
    owned = hub is None
    the_hub = hub if hub is not None else open_hub(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            the_hub.close()

    app = FastAPI(
        title="Hub API",
        version="1",
        description="Automations with secret injection. No response ever carries a secret value.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,  # bearer tokens only; no OAuth2 flow to finish
        lifespan=lifespan,
    )
    app.state.hub = the_hub
    app.state.settings = settings
    app.state.tokens = TokenService(the_hub.sessions, clock=the_hub.clock)
    problems.install(app)
    for name in ROUTE_MODULES:
        app.include_router(importlib.import_module(f"hub.api.routes.{name}").router)
    # Added first, so it sits innermost: an unexpected error becomes the opaque 500 (and one
    # scrubbed log line) before the metrics and the body limit see the answer.
    app.add_middleware(problems.CatchUnexpected)
    app.add_middleware(RequestMetrics)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    return app


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413, declared or streamed, before parsing.

    The body is read here (it is small by definition) and replayed to the app, so a chunked
    upload without `Content-Length` is held to the same limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await problems.send_problem(send, 400, "invalid Content-Length header",
                                            code="invalid_input")
                return
            if int(declared) > self.max_bytes:
                await self._too_large(send)
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _too_large(self, send: Send) -> None:
        await problems.send_problem(
            send, 413, f"the request body is larger than {self.max_bytes} bytes",
            code="request_too_large")


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class RequestMetrics:
    """Count requests and time them by route template; unknown paths share one label."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            metrics.HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            metrics.HTTP_LATENCY.labels(route).observe(time.perf_counter() - started)
