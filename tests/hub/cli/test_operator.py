"""The operator commands as a whole: how they reach the hub, and how they fail to.

Each command group has its own tests (test_secrets.py, test_definitions.py, ...); these
are the ones every operator command shares, through `hub.cli.client`.
"""

from __future__ import annotations

import socket

import httpx
from typer.testing import CliRunner

from hub.cli import app as hubctl
from tests.hub.api.conftest import World
from tests.hub.cli.conftest import Hubctl


def test_no_token_is_a_clear_error(hubctl_as: Hubctl) -> None:
    result = hubctl_as("sinks", "list", who="nobody", ok=False)
    assert result.exit_code == 1 and "HUB_TOKEN is not set" in result.stderr


def test_an_unreachable_hub_is_a_clear_error(world: World) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    result = Hubctl(f"http://127.0.0.1:{port}", world)("sinks", "list", ok=False)
    assert result.exit_code == 1
    assert "cannot reach the hub" in result.stderr and "ConnectError" in result.stderr


def test_an_injected_transport_serves_the_commands_in_process(world: World) -> None:
    """`obj=` hands the client a transport: here one that answers every call with a problem."""
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == f"Bearer {world.bearer['admin']}"
        return httpx.Response(503, json={"detail": "maintenance", "status": 503},
                              headers={"content-type": "application/problem+json"})

    result = CliRunner().invoke(hubctl, ["sinks", "list"], obj=httpx.MockTransport(answer),
                                env={"HUB_URL": "http://hub.invalid",
                                     "HUB_TOKEN": world.bearer["admin"]})
    assert (result.exit_code, result.stderr) == (1, "error: maintenance (503)\n")
