"""`hubctl tokens` against the real API."""

from __future__ import annotations

import json

from tests.hub.api.conftest import World
from tests.hub.cli.conftest import Hubctl


def test_tokens_create_list_and_revoke(hubctl_as: Hubctl, world: World) -> None:
    created = hubctl_as("tokens", "create", "--role", "viewer", "--description", "ci")
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("sk_")
    listed = hubctl_as.json("tokens", "list")
    made = next(t for t in listed if t["description"] == "ci")
    assert token not in json.dumps(listed)
    hubctl_as("tokens", "revoke", made["id"])
    world.bearer["fresh"] = token
    refused = hubctl_as("sinks", "list", who="fresh", ok=False)
    assert refused.exit_code == 1 and "(401)" in refused.stderr


def test_a_viewer_is_told_clearly_it_may_not_create_tokens(hubctl_as: Hubctl) -> None:
    result = hubctl_as("tokens", "create", "--role", "admin", who="viewer", ok=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "(403)" in result.stderr
