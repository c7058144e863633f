"""Fixtures of the operator command tests: the real API served over HTTP, `hubctl` against it.

The app runs in a thread of the test process, served by uvicorn on a free local port, on each
real database (the API tests' fixtures, imported here); the operator commands reach it over
HTTP exactly as they would a remote hub (`HUB_URL`, `HUB_TOKEN`). The other command tests in
this folder do not use these fixtures, and no fixture of theirs shares a name with them.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from hub.cli import app as hubctl
from tests.hub.api.conftest import (  # noqa: F401  (fixtures)
    SECRET_MARK,
    World,
    app,
    hub,
    settings,
    world,
)


@pytest.fixture
def hub_url(app: FastAPI) -> Iterator[str]:  # noqa: F811
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)
    sock.close()


class Hubctl:
    """Runs `hubctl` as one of the world's callers against the served hub."""

    def __init__(self, url: str, world: World) -> None:  # noqa: F811
        self.url = url
        self.world = world
        self.runner = CliRunner()

    def __call__(self, *args: str, who: str = "admin", input: str | None = None,
                 ok: bool = True) -> Result:
        env = {"HUB_URL": self.url, "HUB_TOKEN": self.world.bearer.get(who, "")}
        result = self.runner.invoke(hubctl, list(args), env=env, input=input)
        if ok:
            assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        # Whatever the command, no stored secret value is ever printed.
        assert SECRET_MARK not in result.output
        return result

    def json(self, *args: str, who: str = "admin") -> Any:
        return json.loads(self(*args, "--json", who=who).stdout)


@pytest.fixture
def hubctl_as(hub_url: str, world: World) -> Hubctl:  # noqa: F811
    return Hubctl(hub_url, world)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
