"""Migrations create exactly what the models describe, on both back ends, and can be run again at will."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from mer.catalog import current_revision, get_engine, has_catalog, head_revision, init_db
from mer.catalog.migrate import alembic_config
from mer.catalog.models import Base

TABLES = {"tracks", "windows", "features", "predictions", "feedback"}


def test_upgrade_creates_the_catalog_and_is_idempotent(empty_url: str) -> None:
    assert current_revision(empty_url) is None
    assert not has_catalog(empty_url)
    assert init_db(empty_url) == head_revision()
    assert init_db(empty_url) == head_revision()  # a second run is a no-op, not an error
    assert current_revision(empty_url) == head_revision()
    assert has_catalog(empty_url)
    assert set(inspect(get_engine(empty_url)).get_table_names()) >= TABLES


def test_models_and_migrations_agree(db_url: str) -> None:
    with get_engine(db_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_features_table_has_the_fifty_schema_columns(db_url: str) -> None:
    from mer.schema import FEATURE_NAMES

    columns = [c["name"] for c in inspect(get_engine(db_url)).get_columns("features")]
    assert columns == ["window_id", *FEATURE_NAMES]


def test_downgrade_to_base_and_upgrade_again(db_url: str) -> None:
    with get_engine(db_url).begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    assert not TABLES & set(inspect(get_engine(db_url)).get_table_names())
    init_db(db_url)
    assert set(inspect(get_engine(db_url)).get_table_names()) >= TABLES


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    init_db(url)
    with get_engine(url).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 10_000
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL: a commit survives a power cut


def test_checking_for_a_catalog_does_not_create_a_sqlite_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    assert not has_catalog(f"sqlite:///{missing}")
    assert not missing.exists()


def test_concurrent_upgrades_do_not_race(empty_url: str) -> None:
    """Several API workers starting at once on an empty database all succeed; the tables are made once."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        revisions = list(pool.map(lambda _: init_db(empty_url), range(4)))
    assert revisions == [head_revision()] * 4
    assert current_revision(empty_url) == head_revision()
