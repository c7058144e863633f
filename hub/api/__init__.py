"""The hub's HTTP API (FastAPI): `create_app(settings)` builds it; `hubctl serve` serves it."""

from __future__ import annotations

from hub.api.app import create_app

__all__ = ["create_app"]
