"""The small HTTP client every operator command shares: one hub, one token, clear errors.

`HUB_URL` and `HUB_TOKEN` (settings `url` and `token`) say which hub and who is asking. An
answer of the API that is an error is `application/problem+json`; `ApiError` carries its one
line (`detail`, and the status), which `fail()` prints to stderr before exiting with code 1.
Tests and embedders can hand in a `transport` (an `httpx.BaseTransport`) as the command's
context object instead of going through the network.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn

import httpx
import typer

from hub.config import Settings, load_settings
from hub.errors import HubError

API = "/api/v1"
TIMEOUT_SECONDS = 30.0


class ApiError(Exception):
    """The hub refused, or could not be reached; `str()` is the one line to show."""

    def __init__(self, message: str, *, status: int | None = None,
                 problem: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.problem = dict(problem or {})


class HubClient:
    """JSON over HTTP to one hub as one token; paths are relative to `/api/v1`."""

    def __init__(self, url: str, token: str | None, *,
                 transport: httpx.BaseTransport | None = None,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        headers = {"Accept": "application/json", "User-Agent": "hubctl"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, transport=transport,
                                  timeout=timeout)

    def request(self, method: str, path: str, *, json: Any = None,
                params: Mapping[str, Any] | None = None, content: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> Any:
        """The decoded JSON answer (None for 204), or `ApiError` with the problem's detail."""
        target = path if path.startswith("/hooks/") else API + path
        query = {name: value for name, value in (params or {}).items() if value is not None}
        try:
            response = self._http.request(method, target, json=json, params=query,
                                          content=content, headers=headers)
        except httpx.HTTPError as exc:
            # The exception text can hold the URL with a query; the kind is enough to act on.
            raise ApiError(f"cannot reach the hub at {self.url} ({type(exc).__name__}); "
                           "is it running, and is HUB_URL right?") from None
        if response.status_code >= 400:
            raise _problem(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None, **params: Any) -> Any:
        return self.request("POST", path, json=json, params=params)

    def put(self, path: str, json: Any) -> Any:
        return self.request("PUT", path, json=json)

    def patch(self, path: str, json: Any) -> Any:
        return self.request("PATCH", path, json=json)

    def delete(self, path: str, **params: Any) -> Any:
        return self.request("DELETE", path, params=params)

    def close(self) -> None:
        self._http.close()


def _problem(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return ApiError(f"{body['detail']} ({response.status_code})",
                        status=response.status_code, problem=body)
    return ApiError(f"the hub answered {response.status_code} {response.reason_phrase}",
                    status=response.status_code)


def connect(settings: Settings | None = None, *,
            transport: httpx.BaseTransport | None = None) -> HubClient:
    """A client for `HUB_URL` as `HUB_TOKEN`; `ApiError` if there is no token."""
    try:
        settings = settings or load_settings()
    except HubError as exc:
        raise ApiError(exc.message) from None
    if settings.token is None or not settings.token.get_secret_value():
        raise ApiError("HUB_TOKEN is not set: export the token the hub gave you "
                       "(`hubctl tenants create` or `hubctl up` print one)")
    return HubClient(settings.url, settings.token.get_secret_value(), transport=transport)


@contextmanager
def session(ctx: typer.Context) -> Iterator[HubClient]:
    """A connected client for one command; any `ApiError` becomes one line and exit code 1.

    The transport, if any, is the command's context object (`obj=` of `CliRunner.invoke`, or
    of `app(obj=...)`), so an embedder or a test can serve the API in-process.
    """
    transport = ctx.obj if isinstance(ctx.obj, httpx.BaseTransport) else None
    try:
        client = connect(transport=transport)
    except ApiError as exc:
        fail(str(exc))
    try:
        yield client
    except ApiError as exc:
        fail(str(exc))
    finally:
        client.close()


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)
