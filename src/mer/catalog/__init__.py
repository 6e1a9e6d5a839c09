"""The catalog: scored tracks, their windows, features and predictions, and human feedback, in SQL.

SQLite (WAL) by default, PostgreSQL by URL (``MER_DATABASE_URL``); Alembic migrations ship inside the package.
Typical use::

    from mer.catalog import init_db, session_scope, save_track, playlist

    init_db(url)
    with session_scope(url) as session:
        track_id = save_track(session, path=..., content_hash=..., ..., windows=frame, aggregate=verdict)
"""

from mer.catalog.engine import dispose_engines, get_engine, session_scope
from mer.catalog.migrate import current_revision, has_catalog, head_revision, init_db
from mer.catalog.store import (
    add_feedback,
    count_playlist,
    count_review,
    count_tracks,
    get_track,
    known_hashes,
    list_tracks,
    playlist,
    review_queue,
    save_track,
)

__all__ = [
    "add_feedback", "count_playlist", "count_review", "count_tracks", "current_revision", "dispose_engines",
    "get_engine", "get_track",
    "has_catalog", "head_revision", "init_db", "known_hashes", "list_tracks", "playlist", "review_queue",
    "save_track", "session_scope",
]
