"""Batch results → the catalog store (``mer batch --catalog``): each committed part is saved, then a final pass over
every part saves whatever a killed run committed to a part but never reached the catalog.

Tracks whose content hash the catalog already holds are left as they are (``known_hashes``), so a rerun writes
nothing twice. The catalog's own ``save_track`` commits per track and is idempotent by content hash.
"""

from __future__ import annotations

import pandas as pd

from mer.batch.work import TRACK_COLUMNS

_AGGREGATE_KEYS = tuple(c for c in TRACK_COLUMNS if c not in
                        ("file", "content_hash", "duration_s", "sample_rate", "channels", "n_windows", "n_ood_windows"))


class CatalogWriter:
    """Saves scored tracks into the catalog at ``url`` (migrated to the newest schema on first use)."""

    def __init__(self, url: str | None):
        from mer import settings
        from mer.catalog import init_db

        self.url = url or settings.database_url()
        init_db(self.url)
        self.saved = 0
        self._known: set[str] | None = None

    def known(self) -> set[str]:
        if self._known is None:
            from mer.catalog import known_hashes, session_scope

            with session_scope(self.url) as session:
                self._known = known_hashes(session)
        return self._known

    def save(self, windows: pd.DataFrame, tracks: pd.DataFrame) -> int:
        """Save the tracks (with their windows) the catalog does not hold yet; how many were saved."""
        from mer.catalog import save_track, session_scope

        todo = tracks[~tracks["content_hash"].isin(self.known())]
        if todo.empty:
            return 0
        by_hash = {h: w for h, w in windows[windows["content_hash"].isin(todo["content_hash"])]
                   .groupby("content_hash", sort=False)}
        with session_scope(self.url) as session:
            for track in todo.to_dict("records"):
                save_track(
                    session, path=track["file"], content_hash=track["content_hash"],
                    duration_s=track["duration_s"], sample_rate=track["sample_rate"], channels=track["channels"],
                    windows=by_hash[track["content_hash"]].sort_values("start_s"),
                    aggregate={k: track[k] for k in _AGGREGATE_KEYS},
                )
                self.known().add(track["content_hash"])
                self.saved += 1
        return len(todo)
