"""Liveness, readiness and metrics: `/healthz`, `/readyz`, `/metrics` (no token needed).

`/healthz` says the process answers. `/readyz` says it can do its work: the database answers
and the broker accepts a connection. `/metrics` is Prometheus text: counts and durations,
never values (see `hub.metrics`).
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from hub import metrics
from hub.api.auth import HubDep
from hub.api.problems import MEDIA_TYPE
from hub.runtime import Hub

router = APIRouter(tags=["health"])

#: Seconds a readiness probe waits for the broker before calling it unreachable.
BROKER_TIMEOUT = 3.0


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "A dependency is unreachable.",
                                        "content": {MEDIA_TYPE: {}}}})
def readyz(hub: HubDep) -> JSONResponse:
    """The database and the broker are reachable; 503 naming the failing check otherwise."""
    checks = {"database": _database_ok(hub), "broker": _broker_ok(hub)}
    if all(checks.values()):
        return JSONResponse({"status": "ok", "checks": _words(checks)})
    failing = ", ".join(name for name, ok in checks.items() if not ok)
    return JSONResponse(
        {"type": "https://hub.invalid/problems/unavailable", "title": "Unavailable",
         "status": 503, "code": "unavailable", "detail": f"unreachable: {failing}",
         "checks": _words(checks)},
        status_code=503, media_type=MEDIA_TYPE)


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {metrics.CONTENT_TYPE: {}}}})
def prometheus_metrics() -> Response:
    """Prometheus metrics of this process."""
    return Response(metrics.render(), media_type=metrics.CONTENT_TYPE)


def _words(checks: dict[str, bool]) -> dict[str, str]:
    return {name: "ok" if ok else "unreachable" for name, ok in checks.items()}


def _database_ok(hub: Hub) -> bool:
    try:
        with hub.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


def _broker_ok(hub: Hub) -> bool:
    try:
        from hub import broker
    except ImportError:  # no broker part in this installation: the database is enough
        return True
    try:
        with broker.connection(hub.settings) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)
            # Opening a channel is what makes kombu's Redis transport actually ping.
            conn.channel().close()
    except Exception:
        return False
    return True
