"""Schema migrations, driven from Python: ``init_db(url)`` brings any catalog to the newest revision.

Alembic is configured programmatically (no ``alembic.ini``); its scripts live in ``mer/catalog/migrations`` so an
installed package carries them. To write a new revision, change ``models.py`` and run
``alembic.command.revision(alembic_config(url), "what changed", autogenerate=True)`` against a database at head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, inspect, text

from mer.catalog.engine import get_engine, normalise_url

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Any constant works: it only has to be the same for every process that migrates the same PostgreSQL database.
_PG_MIGRATION_LOCK = 0x6D65725F6462  # "mer_db"


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic config pointing at the packaged scripts (and at ``url`` when Alembic opens its own engine)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        rendered = normalise_url(url).render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest revision the installed code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations shipped"
    return head


def current_revision(url: str | URL | None = None) -> str | None:
    """The revision the database at ``url`` is at, or None when it was never migrated."""
    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def has_catalog(url: str | URL | None = None) -> bool:
    """True when the database exists and holds the catalog's tables at the newest revision."""
    u = normalise_url(url) if url is not None else None
    if u is not None and u.get_backend_name() == "sqlite" and u.database and not Path(u.database).is_file():
        return False  # do not let a read create an empty SQLite file
    engine = get_engine(u)
    with engine.connect() as conn:
        if not inspect(conn).has_table("tracks"):
            return False
    return current_revision(u) == head_revision()


def init_db(url: str | URL | None = None) -> str:
    """Upgrade the database at ``url`` (default :func:`mer.settings.database_url`) to head; safe to repeat.

    Concurrent callers (several API workers starting at once) migrate one after another instead of racing to create
    the same tables: PostgreSQL takes a transaction-scoped advisory lock, SQLite its write lock (``BEGIN
    IMMEDIATE``; DDL is transactional there). Returns the revision reached.
    """
    engine = get_engine(url)
    cfg = alembic_config()
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        elif sqlite:
            # a revision that rebuilds a table (batch mode) drops the old one: with foreign keys on, that would
            # cascade-delete its children. The pragma only takes effect outside a transaction, hence before BEGIN.
            conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the database's write lock, held until the commit below
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            if sqlite:
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"catalog migration left {len(broken)} dangling references; rolled back")
            conn.commit()
        finally:
            if sqlite:
                conn.rollback()
                conn.exec_driver_sql("PRAGMA foreign_keys = ON")  # the pooled connection goes back as it came
    return head_revision()
