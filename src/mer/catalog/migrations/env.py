"""Alembic environment: runs on the connection :func:`mer.catalog.migrate.upgrade` hands over (pragmas included),
or on an engine built from the config's URL when Alembic's own command line drives it."""

from __future__ import annotations

from alembic import context

from mer.catalog.engine import make_engine
from mer.catalog.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs: object) -> None:
    # render_as_batch: SQLite cannot ALTER most things; batch mode lets later revisions change columns there too.
    context.configure(target_metadata=target_metadata, render_as_batch=True, compare_type=True, **kwargs)


def run_offline() -> None:
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as conn:
            _configure(connection=conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
