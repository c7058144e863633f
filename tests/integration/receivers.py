"""A webhook receiver for the integration tests that behaves like a careful real one.

It checks the bearer token, counts deliveries by `Idempotency-Key` (a repeated key is
acknowledged but not counted again, as a real idempotent receiver would), can hold a request
in its handler until told to let go (so a test can kill the worker mid-delivery), and can
answer with an error page that echoes the credential it was sent (the careless receiver).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Webhook:
    token: str = ""
    url: str = ""
    #: Idempotency-Key -> number of requests that carried it.
    seen: dict[str, int] = field(default_factory=dict)
    #: Keys of deliveries accepted (counted once per key).
    delivered: list[str] = field(default_factory=list)
    #: Paths that answer 500 with the Authorization header echoed in the body.
    echo_errors: bool = False
    #: Answer 503 to this many requests first.
    fail_first: int = 0
    #: When set, requests wait in the handler until `release` is set.
    hold: threading.Event | None = None
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    authorizations: list[str] = field(default_factory=list)

    def held(self) -> bool:
        return self.hold is not None and self.hold.is_set()


def _handler(hook: Webhook) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            authorization = self.headers.get("Authorization") or ""
            key = self.headers.get("Idempotency-Key") or ""
            with hook.lock:
                hook.authorizations.append(authorization)
                hook.seen[key] = hook.seen.get(key, 0) + 1
                failing = hook.fail_first > 0
                if failing:
                    hook.fail_first -= 1
            if hook.hold is not None and not hook.release.is_set():
                hook.hold.set()
                hook.release.wait(30)
            if authorization != f"Bearer {hook.token}":
                return self._answer(401, b"who are you?")
            if hook.echo_errors:
                return self._answer(500, f"boom; you sent {authorization}".encode())
            if failing:
                return self._answer(503, b"busy, try later")
            with hook.lock:
                if key not in hook.delivered:
                    hook.delivered.append(key)
            self._answer(201, b'{"ok": true}')

        def _answer(self, code: int, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_webhook(token: str) -> Iterator[Webhook]:
    hook = Webhook(token=token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hook))
    server.daemon_threads = True
    hook.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        hook.release.set()
        server.shutdown()
        server.server_close()
