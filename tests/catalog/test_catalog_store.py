"""The store API on SQLite and PostgreSQL: round trips, idempotent saves, queues, playlists, feedback, concurrency."""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import numpy as np
import pytest
from catalog_helpers import proba_for, track_args
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from mer.catalog import (
    add_feedback,
    count_tracks,
    get_track,
    known_hashes,
    list_tracks,
    playlist,
    review_queue,
    save_track,
    session_scope,
)
from mer.catalog.models import Feedback, Prediction, Window, WindowFeatures
from mer.decision import DECISION_COLUMNS
from mer.schema import FEATURE_NAMES


def _save(url: str, content_hash: str, proba: np.ndarray, **kw: object) -> int:
    with session_scope(url) as s:
        return save_track(s, **track_args(content_hash, proba, **kw))


def _count(url: str, model: type) -> int:
    with session_scope(url) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def test_save_and_get_round_trip(db_url: str) -> None:
    proba = np.array([proba_for("relax", 0.8), proba_for("sad", 0.5), proba_for("relax", 0.9)])
    args = track_args("abc", proba)
    with session_scope(db_url) as s:
        track_id = save_track(s, **args)
    with session_scope(db_url) as s:
        track = get_track(s, track_id)
        assert get_track(s, track_id + 1000) is None
    assert track is not None
    assert (track["path"], track["content_hash"], track["sample_rate"], track["channels"]) == \
        ("/music/abc.flac", "abc", 22050, 2)
    assert track["label"] == "relax" and track["model_alias"] == "champion" and track["aggregate_method"] == "mean"
    assert track["p_relax"] == pytest.approx(args["aggregate"]["p_relax"])
    assert track["created_at"].tzinfo is not None and abs(track["created_at"] - datetime.now(UTC)).total_seconds() < 60
    frame = args["windows"]
    assert [w["index"] for w in track["windows"]] == [0, 1, 2]
    for w, (_, row) in zip(track["windows"], frame.iterrows(), strict=True):
        assert (w["start_s"], w["end_s"], w["partial"], w["ood"]) == (row.start_s, row.end_s, row.partial, row.ood)
        assert w["ood_features"] == (row.ood_features or None)
        for name in FEATURE_NAMES:
            stored, given = w["features"][name], row[name]
            assert (stored is None) if math.isnan(given) else stored == pytest.approx(given)
        [pred] = w["predictions"]
        assert {c: pred[c] for c in DECISION_COLUMNS} == pytest.approx({c: row[c] for c in DECISION_COLUMNS})
        assert pred["model_version"] == "1"
    assert track["windows"][0]["features"][FEATURE_NAMES[3]] is None  # NaN is stored as NULL
    assert track["windows"][1]["ood_features"] == "_Tempo_Mean;_Rolloff_Mean"


def test_resaving_the_same_content_is_idempotent(db_url: str) -> None:
    proba = np.array([proba_for("happy", 0.9), proba_for("happy", 0.7)])
    first = _save(db_url, "same", proba)
    with session_scope(db_url) as s:
        window_ids = [w["id"] for w in get_track(s, first)["windows"]]  # type: ignore[index]
    again = _save(db_url, "same", proba, path="/moved/same.flac", seed=1)
    assert again == first
    assert (_count(db_url, Window), _count(db_url, WindowFeatures), _count(db_url, Prediction)) == (2, 2, 2)
    with session_scope(db_url) as s:
        track = get_track(s, first)
        assert known_hashes(s) == {"same"}
    assert track is not None and track["path"] == "/moved/same.flac"
    assert [w["id"] for w in track["windows"]] == window_ids  # same layout: window rows (and their ids) kept
    assert track["windows"][1]["features"][FEATURE_NAMES[0]] == pytest.approx(
        track_args("same", proba, seed=1)["windows"].loc[1, FEATURE_NAMES[0]])  # features refreshed


def test_a_new_model_version_adds_predictions_and_takes_over_the_aggregate(db_url: str) -> None:
    track_id = _save(db_url, "h", np.array([proba_for("sad", 0.6)] * 2))
    _save(db_url, "h", np.array([proba_for("angry", 0.95)] * 2), model_version="2")
    with session_scope(db_url) as s:
        track = get_track(s, track_id)
    assert track is not None
    assert (track["label"], track["decision"], track["model_version"]) == ("angry", "accept", "2")
    assert [[p["model_version"] for p in w["predictions"]] for w in track["windows"]] == [["1", "2"], ["1", "2"]]


def test_other_window_settings_replace_windows_but_keep_feedback(db_url: str) -> None:
    track_id = _save(db_url, "w", np.array([proba_for("sad", 0.6)] * 3))
    with session_scope(db_url) as s:
        window_id = get_track(s, track_id)["windows"][2]["id"]  # type: ignore[index]
        add_feedback(s, label="sad", source="test", track_id=track_id, window_id=window_id)
    _save(db_url, "w", np.array([proba_for("sad", 0.6)] * 2), hop_s=30.0)
    with session_scope(db_url) as s:
        track = get_track(s, track_id)
    assert track is not None
    assert [(w["start_s"], w["end_s"]) for w in track["windows"]] == [(0.0, 30.0), (30.0, 60.0)]
    assert (_count(db_url, Window), _count(db_url, WindowFeatures), _count(db_url, Prediction)) == (2, 2, 2)
    assert [(f["label"], f["window_id"]) for f in track["feedback"]] == [("sad", None)]


def test_save_rejects_malformed_windows(db_url: str) -> None:
    args = track_args("bad", np.array([proba_for("sad", 0.6)]))
    with session_scope(db_url) as s:
        with pytest.raises(ValueError, match="lack columns: p_happy"):
            save_track(s, **{**args, "windows": args["windows"].drop(columns=["p_happy"])})
        broken = args["windows"].copy()
        broken.loc[0, "label"] = "melancholy"
        with pytest.raises(ValueError, match="window 0: label 'melancholy'"):
            save_track(s, **{**args, "windows": broken})
        with pytest.raises(ValueError, match="model_version"):
            save_track(s, **{**args, "aggregate": {**args["aggregate"], "model_version": None}})
        with pytest.raises(ValueError, match="at least one window"):
            save_track(s, **{**args, "windows": args["windows"].iloc[:0]})
        assert known_hashes(s) == set()


def test_track_review_queue_puts_the_least_confident_first(db_url: str) -> None:
    ids = {h: _save(db_url, h, proba_for(label, conf))
           for h, label, conf in [("mid", "sad", 0.6), ("sure", "happy", 0.9), ("low", "angry", 0.4),
                                  ("lower", "relax", 0.3)]}
    with session_scope(db_url) as s:
        assert [q["track_id"] for q in review_queue(s, 10)] == [ids["lower"], ids["low"], ids["mid"]]
        assert [q["track_id"] for q in review_queue(s, 2)] == [ids["lower"], ids["low"]]
        add_feedback(s, label="relax", source="curator", track_id=ids["lower"])
        assert [q["track_id"] for q in review_queue(s, 10)] == [ids["low"], ids["mid"]]


def test_window_review_queue_follows_each_windows_latest_prediction(db_url: str) -> None:
    track_id = _save(db_url, "t", np.array([proba_for("sad", 0.5), proba_for("sad", 0.4), proba_for("sad", 0.9)]))
    with session_scope(db_url) as s:
        queue = review_queue(s, 10, level="window")
    assert [(q["track_id"], q["index"]) for q in queue] == [(track_id, 1), (track_id, 0)]
    # version 2 is sure about window 1 and unsure about window 2: the latest verdict decides
    _save(db_url, "t", np.array([proba_for("sad", 0.5), proba_for("sad", 0.95), proba_for("sad", 0.3)]),
          model_version="2")
    with session_scope(db_url) as s:
        queue = review_queue(s, 10, level="window")
        assert [(q["index"], q["model_version"]) for q in queue] == [(2, "2"), (0, "2")]
        add_feedback(s, label="sad", source="curator", track_id=track_id, window_id=queue[0]["window_id"])
        assert [q["index"] for q in review_queue(s, 10, level="window")] == [0]
        with pytest.raises(ValueError, match="level"):
            review_queue(s, 10, level="album")  # type: ignore[arg-type]


def test_playlist_ranks_by_the_moods_probability(db_url: str) -> None:
    moods = {"a": ("relax", 0.7), "b": ("relax", 0.95), "c": ("sad", 0.8), "d": ("relax", 0.5)}
    ids = {h: _save(db_url, h, proba_for(*m)) for h, m in moods.items()}
    with session_scope(db_url) as s:
        ranked = playlist(s, "relax", limit=3)
        assert [r["track_id"] for r in ranked] == [ids["b"], ids["a"], ids["d"]]
        assert [r["probability"] for r in ranked] == sorted((r["probability"] for r in ranked), reverse=True)
        assert playlist(s, "sad", limit=1)[0]["track_id"] == ids["c"]
        with pytest.raises(ValueError, match="mood 'jazzy'"):
            playlist(s, "jazzy")


def test_list_tracks_pages_and_filters(db_url: str) -> None:
    ids = [_save(db_url, f"h{i}", proba_for("happy" if i % 2 else "sad", 0.8)) for i in range(5)]
    with session_scope(db_url) as s:
        assert [t["id"] for t in list_tracks(s, limit=2, offset=1)] == ids[1:3]
        assert [t["id"] for t in list_tracks(s, label="happy")] == [ids[1], ids[3]]
        assert (count_tracks(s), count_tracks(s, "sad")) == (5, 3)
        with pytest.raises(ValueError):
            list_tracks(s, label="blue")
        with pytest.raises(ValueError):
            list_tracks(s, limit=-1)


def test_feedback_is_validated(db_url: str) -> None:
    one = _save(db_url, "one", np.array([proba_for("sad", 0.6)] * 2))
    two = _save(db_url, "two", proba_for("sad", 0.6))
    with session_scope(db_url) as s:
        other_window = get_track(s, two)["windows"][0]["id"]  # type: ignore[index]
        with pytest.raises(ValueError, match="label 'blue'"):
            add_feedback(s, label="blue", source="x", track_id=one)
        with pytest.raises(ValueError, match="source"):
            add_feedback(s, label="sad", source="  ", track_id=one)
        with pytest.raises(LookupError, match="no track with id 999"):
            add_feedback(s, label="sad", source="x", track_id=999)
        with pytest.raises(LookupError, match="no window with id 999"):
            add_feedback(s, label="sad", source="x", track_id=one, window_id=999)
        with pytest.raises(LookupError, match=f"belongs to track {two}"):
            add_feedback(s, label="sad", source="x", track_id=one, window_id=other_window)
        fid = add_feedback(s, label=" Calm ", source="web:alice", track_id=one)
    with session_scope(db_url) as s:
        row = s.get(Feedback, fid)
        assert row is not None and (row.label, row.source) == ("relax", "web:alice")
        assert row.created_at.tzinfo is not None
    assert _count(db_url, Feedback) == 1


def test_database_constraints_back_the_validation(db_url: str) -> None:
    track_id = _save(db_url, "c", proba_for("sad", 0.6))
    for sql in ("INSERT INTO feedback (track_id, label, source) VALUES (:t, 'blue', 'x')",
                "INSERT INTO feedback (track_id, label, source) VALUES (:t, 'sad', '')",
                "INSERT INTO feedback (track_id, label, source) VALUES (:t + 1, 'sad', 'x')",
                "UPDATE tracks SET decision = 'maybe' WHERE id = :t"):
        with pytest.raises(IntegrityError), session_scope(db_url) as s:
            s.execute(text(sql), {"t": track_id})


def test_deleting_a_track_cascades(db_url: str) -> None:
    track_id = _save(db_url, "gone", np.array([proba_for("sad", 0.6)] * 3))
    with session_scope(db_url) as s:
        add_feedback(s, label="sad", source="x", track_id=track_id)
    with session_scope(db_url) as s:
        s.execute(text("DELETE FROM tracks WHERE id = :t"), {"t": track_id})
    assert [_count(db_url, m) for m in (Window, WindowFeatures, Prediction, Feedback)] == [0, 0, 0, 0]


def test_500_concurrent_feedback_writes_are_all_stored(db_url: str) -> None:
    track_id = _save(db_url, "busy", np.array([proba_for("sad", 0.6)] * 2))
    start = threading.Barrier(50)

    def one(i: int) -> int:
        if i < 50:
            start.wait(timeout=60)  # the first 50 hit the database at the same instant
        with session_scope(db_url) as s:
            return add_feedback(s, label=("happy", "sad", "angry", "relax")[i % 4], source=f"thread-{i}",
                                track_id=track_id)

    with ThreadPoolExecutor(max_workers=50) as pool:
        ids = list(pool.map(one, range(500)))
    assert len(set(ids)) == 500
    assert _count(db_url, Feedback) == 500
    with session_scope(db_url) as s:
        sources = set(s.scalars(select(Feedback.source)))
    assert sources == {f"thread-{i}" for i in range(500)}


def test_concurrent_saves_of_the_same_content_make_one_track(db_url: str) -> None:
    args = track_args("race", np.array([proba_for("relax", 0.8)] * 2))

    def one(_: int) -> int:
        with session_scope(db_url) as s:
            return save_track(s, **args)

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(one, range(16)))
    assert len(ids) == 1
    assert (_count(db_url, Window), _count(db_url, Prediction)) == (2, 2)
