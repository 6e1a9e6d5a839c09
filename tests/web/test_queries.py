"""The dashboard's own catalog queries on both back ends (a SQLite file and, when its binaries exist, a throw-away
PostgreSQL — the catalog tests' fixtures): search, filters, sorting with unscorable tracks, the mood mix, and the
window-level review queue equal to the store's."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest
from support import ROOT
from web_support import proba_for, seed_track

from mer.catalog import add_feedback, count_review, init_db, review_queue, session_scope
from mer.web.queries import CatalogQuery, catalog_page, mood_mix, window_review

_spec = importlib.util.spec_from_file_location("mer_catalog_fixtures", ROOT / "tests" / "catalog" / "conftest.py")
_fixtures = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _fixtures  # its dataclass looks its module up there
_spec.loader.exec_module(_fixtures)
postgres_server = _fixtures.postgres_server
empty_url = _fixtures.empty_url


@pytest.fixture
def url(empty_url: str) -> str:
    init_db(empty_url)
    seed_track(empty_url, "Rain_Song.flac", proba_for("sad", 0.6))
    seed_track(empty_url, "bright.flac", proba_for("happy", 0.9))
    seed_track(empty_url, "50%_off.flac", proba_for("happy", 0.5))
    seed_track(empty_url, "silence.flac", np.full(4, np.nan), unscorable="near silence")  # no probabilities
    seed_track(empty_url, "two.flac", np.array([proba_for("angry", 0.4), proba_for("angry", 0.45)]))
    seed_track(empty_url, "two.flac", np.array([proba_for("relax", 0.5), proba_for("sad", 0.9)]),
               model_version="seed-2")
    return empty_url


def _paths(rows: list[dict]) -> list[str]:
    return [r["path"] for r in rows]


def test_search_filters_and_sorting(url: str) -> None:
    with session_scope(url) as s:
        rows, total = catalog_page(s, CatalogQuery(q="rain"))
        assert _paths(rows) == ["Rain_Song.flac"] and total == 1  # case does not matter
        assert _paths(catalog_page(s, CatalogQuery(q="50%"))[0]) == ["50%_off.flac"]  # % is literal
        assert catalog_page(s, CatalogQuery(q="_s"))[1] == 1  # _ is literal: only Rain_Song
        rows, total = catalog_page(s, CatalogQuery(label="happy", decision="review"))
        assert _paths(rows) == ["50%_off.flac"] and total == 1
        for order in ("asc", "desc"):
            rows, _ = catalog_page(s, CatalogQuery(sort="confidence", order=order))
            assert rows[-1]["path"] == "silence.flac"  # no confidence: last either way
            conf = [r["confidence"] for r in rows[:-1]]
            assert conf == sorted(conf, reverse=order == "desc")
        first, total = catalog_page(s, CatalogQuery(sort="path", limit=25, page=1))
        assert total == 5 and _paths(first) == sorted(_paths(first))
        assert catalog_page(s, CatalogQuery(limit=25, page=2))[0] == []


def test_mood_mix_counts_unscorable_tracks_apart(url: str) -> None:
    with session_scope(url) as s:
        mix = mood_mix(s)
    assert mix["total"] == 5 and mix["unlabelled"] == 1
    assert mix["by_label"] == {"happy": 2, "sad": 2, "angry": 0, "relax": 0}  # two.flac's latest verdict: sad
    assert mix["by_decision"]["unscorable"] == 1 and sum(mix["by_decision"].values()) == 5


def test_window_queue_equals_the_store(url: str) -> None:
    with session_scope(url) as s:
        first = review_queue(s, 50, "window")[0]
        add_feedback(s, label="sad", source="test", track_id=first["track_id"], window_id=first["window_id"])
        for limit, offset in ((50, 0), (2, 1), (1, 3)):
            items, total = window_review(s, limit, offset)
            assert items == review_queue(s, limit, "window", offset) and total == count_review(s, "window")
