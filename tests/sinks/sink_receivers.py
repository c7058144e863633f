"""Real receivers for the sink tests, and the values the tests share.

An HTTP webhook (stdlib ThreadingHTTPServer) and an SMTP server (aiosmtpd) requiring AUTH,
each on a free loopback port, plus SQL tables on SQLite and PostgreSQL. The receivers check
credentials the way real ones do, so a test that passes has seen the credential arrive.
Imported by conftest.py (fixtures) and by the tests (constants and helpers).
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from sqlalchemy import create_engine, text

from sinks.base import Delivery

TOKEN = "tok-S3cr3t-4b1e-bearer-value"
USERNAME = "hub-user"
PASSWORD = "pw-S3cr3t-77c0-password-value"


def free_port() -> int:
    """A loopback port nobody listens on (the OS picked it and we let it go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_delivery(key: str = "exec-1.key", attempt: int = 1, timeout: float = 5.0,
                  payload: dict[str, Any] | None = None) -> Delivery:
    return Delivery(
        execution_id="exec-1",
        event_id="event-1",
        event_type="order.created",
        attempt=attempt,
        idempotency_key=key,
        payload={"order": {"id": 7, "items": [{"sku": "A-1"}]}, "customer": "ada"}
        if payload is None else payload,
        timeout=timeout,
    )


def assert_hidden(secrets: list[str], *things: object) -> None:
    """No secret in str, repr or rendered traceback; errors carry no chained driver error."""
    for thing in things:
        texts = [str(thing), repr(thing)]
        if isinstance(thing, BaseException):
            texts.append("".join(traceback.format_exception(thing)))
            assert thing.__cause__ is None and thing.__context__ is None
        for secret in secrets:
            assert all(secret not in part for part in texts), f"{secret!r} leaked"


# --- HTTP -------------------------------------------------------------------------------


@dataclass
class HttpReceiver:
    """What the webhook saw. Paths: /hook (checks auth), /status/<code> (answers it), /slow."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)

    @property
    def distinct_keys(self) -> set[str]:
        return {r["headers"].get("Idempotency-Key") for r in self.requests}


def _http_handler(receiver: HttpReceiver) -> type[BaseHTTPRequestHandler]:
    accepted = {f"Bearer {TOKEN}",
                "Basic " + base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()}

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            receiver.requests.append({"method": self.command, "path": self.path,
                                      "headers": dict(self.headers), "body": body})
            if self.path.startswith("/slow"):
                time.sleep(1.0)
                self._answer(200, b"late")
            elif self.path.startswith("/status/"):
                code = int(self.path.split("/")[2].split("?")[0])
                # A careless receiver that echoes the request's credentials in its error page.
                echo = f"error; you sent {self.headers.get('Authorization')} " + "x" * 400
                self._answer(code, echo.encode(), {"Retry-After": "7"})
            elif self.headers.get("Authorization") not in accepted:
                self._answer(401, b"who are you?")
            else:
                self._answer(201, b'{"ok": true}')

        def _answer(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _http_handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


# --- SMTP -------------------------------------------------------------------------------


@dataclass
class SmtpReceiver:
    """What the SMTP server accepted. RCPT temp@... gets 451, nobody@... gets 550."""

    host: str
    port: int
    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    fail_data_with: str | None = None


class _SmtpHandler:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_RCPT(self, server: Any, session: Any, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address.startswith("temp@"):
            return "451 4.3.0 mailbox busy, try later"
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        if self.receiver.fail_data_with:
            return self.receiver.fail_data_with
        self.receiver.envelopes.append(envelope)
        return "250 Message accepted"


def _authenticator(receiver: SmtpReceiver) -> Callable[..., AuthResult]:
    def check(server: Any, session: Any, envelope: Any, mechanism: str,
              auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == USERNAME.encode()
              and auth_data.password == PASSWORD.encode())
        if ok:
            receiver.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=True would leave no reply

    return check


@contextmanager
def running_smtp_receiver() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver(host="127.0.0.1", port=free_port())
    controller = Controller(
        _SmtpHandler(receiver), hostname=receiver.host, port=receiver.port,
        authenticator=_authenticator(receiver), auth_required=True, auth_require_tls=False,
    )
    controller.start()
    try:
        yield receiver
    finally:
        controller.stop()


# --- SQL --------------------------------------------------------------------------------

TABLE_DDL = (
    "CREATE TABLE {name} (order_id INTEGER NOT NULL, customer VARCHAR(100), "
    "source VARCHAR(50), sku VARCHAR(50), extra TEXT, doc JSON, "
    "delivery_key VARCHAR(200) UNIQUE)"
)


@dataclass(frozen=True)
class SqlTarget:
    """A table made for one test, in the database at ``url``."""

    url: str
    table: str

    def rows(self) -> list[dict[str, Any]]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                rows = [dict(row._mapping)
                        for row in conn.execute(text(f"SELECT * FROM {self.table}"))]
        finally:
            engine.dispose()
        for row in rows:
            if isinstance(row.get("doc"), str):  # SQLite hands JSON back as text
                row["doc"] = json.loads(row["doc"])
        return rows
