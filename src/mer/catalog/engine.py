"""Engines and sessions for the catalog: SQLite (default, WAL) or PostgreSQL (by URL), one pool per URL.

SQLite is tuned on every new connection: ``journal_mode=WAL`` so readers never block the writer, ``foreign_keys=ON``
(off by default in SQLite, and the cascades depend on it), a busy timeout so concurrent writers queue instead of
failing with "database is locked", and ``synchronous=FULL`` so a committed write survives a power cut. The driver's
default transaction handling is kept on purpose: it opens the transaction at the first INSERT/UPDATE/DELETE, so a
read-then-write (``add_feedback``) takes the write lock through the busy timeout instead of upgrading a stale read
snapshot, which WAL refuses at once with SQLITE_BUSY whatever the timeout.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from mer import settings

SQLITE_BUSY_TIMEOUT_S = 60.0


def normalise_url(url: str | URL) -> URL:
    """Parse ``url``; bare ``postgresql://`` and ``postgres://`` go through psycopg 3 (the driver we depend on)."""
    u = make_url(url) if isinstance(url, str) else url
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u


# scheme://user:password@ — the password part of any URL inside a text (an error message, a log line)
# (greedy up to the last "@" before the host, so an unescaped "@" inside the password is hidden too)
_PASSWORD_IN_URL = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^\s/]*)(?=@)")


def redact_url(url: str | URL) -> str:
    """``url`` fit to print or log: the password replaced by ``***`` (SQLAlchemy's ``hide_password``)."""
    try:
        return redact_secrets(normalise_url(url).render_as_string(hide_password=True))
    except Exception:  # noqa: BLE001 — not even a URL: still never show what looks like a password
        return redact_secrets(str(url))


def redact_secrets(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` in it replaced by ``***``."""
    return _PASSWORD_IN_URL.sub(r"\g<head>***", text)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = FULL")
    finally:
        cursor.close()


def make_engine(url: str | URL) -> Engine:
    """A new engine for ``url`` (prefer :func:`get_engine`, which shares one per URL)."""
    u = normalise_url(url)
    if u.get_backend_name() == "sqlite":
        engine = create_engine(u, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(u, pool_pre_ping=True)


_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def get_engine(url: str | URL | None = None) -> Engine:
    """The shared engine (and connection pool) for ``url``, default :func:`mer.settings.database_url`."""
    key = normalise_url(url or settings.database_url()).render_as_string(hide_password=False)
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = make_engine(key)
        return _ENGINES[key]


def dispose_engines() -> None:
    """Close every pooled connection and forget the engines (tests, and before dropping a database)."""
    with _ENGINES_LOCK:
        for engine in _ENGINES.values():
            engine.dispose()
        _ENGINES.clear()


def session_factory(url: str | URL | None = None) -> sessionmaker[Session]:
    """Sessions on the shared engine; objects stay readable after commit (the store returns plain data anyway)."""
    return sessionmaker(get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str | URL | None = None) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back when it raises; always closed."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
