"""What the bootstrap commands share: the local database they act on, and how they fail.

A bootstrap command (`db`, `keys`, `tenants`) works on the configured database directly, not
through the API. A hub error is the operator's to fix (a setting, a key, a name), so it is
said in one line on stderr with exit status 2, without a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import typer
from sqlalchemy import Engine

from hub import db
from hub.config import Settings
from hub.errors import HubError

if TYPE_CHECKING:
    from hub.runtime import Hub
    from hub.tenants import TenantInfo


def fail(exc: HubError) -> NoReturn:
    """Say `exc` in one line on stderr and exit with status 2."""
    typer.echo(f"error: {exc.message}", err=True)
    raise typer.Exit(2)


@contextmanager
def local_engine(settings: Settings, *, current_schema: bool = False) -> Iterator[Engine]:
    """An engine on the configured database, disposed on the way out.

    With `current_schema`, a schema behind the code's is refused first (`SchemaOutOfDate`).
    """
    engine = db.make_engine(settings.effective_database_url)
    try:
        if current_schema:
            db.require_current_schema(engine)
        yield engine
    finally:
        engine.dispose()


def create_tenant_with_admin(hub: Hub, name: str, *, umbrella: str | None = None,
                             actor: str) -> tuple[TenantInfo, str]:
    """A new tenant and its first admin token, in one transaction: never one without the
    other. Returns the tenant and the token (shown once)."""
    with db.transaction(hub.sessions) as session:
        tenant = hub.tenants.create_in(session, name, umbrella=umbrella, actor=actor)
        issued = hub.tokens.create_in(session, tenant.id, "admin", actor=actor,
                                      description=f"admin token made with tenant {name}")
    return tenant, issued.token
