"""Alembic environment: runs migrations on the engine handed over by `hub.db.upgrade`."""

from __future__ import annotations

from alembic import context

from hub.db import Base, make_engine

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # invoked by the alembic CLI: take the URL from -x url=... or the ini
    url = (context.get_x_argument(as_dictionary=True).get("url")
           or config.get_main_option("sqlalchemy.url"))
    if not url:
        raise SystemExit("alembic: pass -x url=... (or use `hubctl db upgrade`)")
    engine = make_engine(url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
