"""The HTTP sink: send the event (or a rendered body) as JSON to a webhook.

Every request carries ``Idempotency-Key: <delivery.idempotency_key>`` so a receiver can tell a
redelivery from a new event. Credentials are a bearer token or basic auth, never a free-form
``Authorization`` header, so they stay typed as secrets from the hub to the socket.

2xx is success; 408, 425, 429, 5xx, connection errors and timeouts are worth retrying; any
other answer is permanent.
"""

from __future__ import annotations

import base64
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Literal

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    SecretStr,
    field_validator,
    model_validator,
)

from sinks.base import (
    Delivery,
    DeliveryResult,
    PermanentSinkError,
    RetryableSinkError,
    Sink,
    SinkError,
)


def _user_agent() -> str:
    try:
        return f"hub/{version('hub')}"
    except PackageNotFoundError:
        return "hub"


USER_AGENT = _user_agent()
RETRYABLE_STATUSES = frozenset({408, 425, 429})
SNIPPET_LENGTH = 120
# Headers the sink owns: credentials go through typed fields, the key is the hub's promise.
RESERVED_HEADERS = frozenset({"authorization", "proxy-authorization", "idempotency-key"})


class HttpParameters(BaseModel):
    """Where and how to send. Credential fields are SecretStr."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="http:// or https:// address of the receiver")
    method: Literal["POST", "PUT", "PATCH", "GET", "DELETE"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict, description="extra request headers")
    body: JsonValue | None = Field(
        default=None, description="JSON to send; default: the event payload (none for GET/DELETE)"
    )
    auth_token: SecretStr | None = Field(default=None, description="sent as a Bearer token")
    username: str | None = Field(default=None, description="basic auth user")
    password: SecretStr | None = Field(default=None, description="basic auth password")
    timeout: float | None = Field(
        default=None, gt=0, description="seconds; capped by the delivery's own timeout"
    )
    verify_tls: bool = True

    @field_validator("method", mode="before")
    @classmethod
    def _upper_method(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        try:
            url = httpx.URL(value)
        except httpx.InvalidURL:
            raise ValueError("not a valid URL") from None
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("must be an http:// or https:// URL with a host")
        if url.userinfo:
            raise ValueError("must not carry credentials; use username and password")
        return value

    @field_validator("headers")
    @classmethod
    def _no_reserved_headers(cls, value: dict[str, str]) -> dict[str, str]:
        reserved = sorted(name for name in value if name.lower() in RESERVED_HEADERS)
        if reserved:
            raise ValueError(
                f"header(s) {', '.join(reserved)} are set by the sink; "
                "use auth_token or username/password for credentials"
            )
        return value

    @model_validator(mode="after")
    def _one_kind_of_auth(self) -> HttpParameters:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        if self.auth_token is not None and self.password is not None:
            raise ValueError("auth_token and username/password are mutually exclusive")
        return self


class HttpSink:
    """Delivers over HTTP. Pass a ``transport`` to route requests without a network."""

    def __init__(self, transport: httpx.BaseTransport | None = None) -> None:
        self.transport = transport

    def deliver(self, params: HttpParameters, delivery: Delivery) -> DeliveryResult:
        target = _display_url(params.url)
        timeout = min(params.timeout or delivery.timeout, delivery.timeout)
        headers = {**params.headers, "Idempotency-Key": delivery.idempotency_key,
                   "User-Agent": USER_AGENT}
        secrets = _attach_credentials(params, headers)
        body = params.body if params.body is not None else dict(delivery.payload)
        sends_body = params.method not in ("GET", "DELETE") or params.body is not None
        try:
            with httpx.Client(transport=self.transport, verify=params.verify_tls,
                              timeout=timeout, follow_redirects=False) as client:
                response = client.request(params.method, params.url, headers=headers,
                                          json=body if sends_body else None)
        except httpx.TimeoutException:
            error: SinkError = RetryableSinkError(f"{params.method} {target} timed out")
        except httpx.UnsupportedProtocol:
            error = PermanentSinkError(f"{params.method} {target}: unsupported protocol")
        except httpx.TransportError as exc:
            error = RetryableSinkError(f"{params.method} {target} failed: {type(exc).__name__}")
        else:
            return _outcome(params.method, target, response, secrets)
        # Raised outside the except block: httpx's exception is not chained into the traceback.
        raise error


def _attach_credentials(params: HttpParameters, headers: dict[str, str]) -> list[str]:
    """Add the Authorization header; return every revealed form, to redact from snippets."""
    if params.auth_token is not None:
        token = params.auth_token.get_secret_value()
        headers["Authorization"] = f"Bearer {token}"
        return [token]
    if params.username is not None and params.password is not None:
        password = params.password.get_secret_value()
        pair = base64.b64encode(f"{params.username}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {pair}"
        return [password, pair]
    return []


def _outcome(method: str, target: str, response: httpx.Response,
             secrets: list[str]) -> DeliveryResult:
    status = response.status_code
    summary = f"{method} {target} -> {status}"
    if 200 <= status < 300:
        return DeliveryResult(summary=summary, details={"status_code": status})
    snippet = _snippet(response, secrets)
    message = f"{summary}: {snippet}" if snippet else summary
    if status in RETRYABLE_STATUSES or status >= 500:
        raise RetryableSinkError(message, retry_after=_retry_after(response))
    raise PermanentSinkError(message)


def _snippet(response: httpx.Response, secrets: list[str]) -> str:
    """A short, single-line start of the body, with our own credentials cut out first."""
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError):
        return ""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = " ".join(text.split())
    return text if len(text) <= SNIPPET_LENGTH else text[:SNIPPET_LENGTH] + "..."


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        seconds = float(value)
    except ValueError:
        return None  # An HTTP date would need a clock; the worker's backoff covers it.
    return seconds if seconds >= 0 else None


def _display_url(url: str) -> str:
    """Scheme and host only. Paths and queries of webhook URLs often are the credential (a
    SECRET-bound `url`), and a shown prefix of a secret is not something a scrubber can mask."""
    parsed = httpx.URL(url)
    return str(parsed.copy_with(path="/", query=None, fragment=None)).rstrip("/")


SINK = Sink(
    name="http",
    description="Send the event as JSON to an HTTP endpoint (webhook).",
    parameters=HttpParameters,
    deliver=HttpSink().deliver,
)
