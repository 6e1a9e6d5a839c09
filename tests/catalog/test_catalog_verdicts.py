"""Verdicts that know their limits in the catalog: unscorable tracks and windows, reasons, valence/arousal, mood
shares, the review queue (everything not accepted), playlists (never unscorable, a minimum probability), paging,
and the 0001 → 0002 migration keeping existing rows."""

from __future__ import annotations

import numpy as np
import pytest
from alembic import command
from catalog_helpers import THRESHOLD, proba_for, track_args
from sqlalchemy import func, select

from mer.catalog import (
    count_playlist,
    count_review,
    get_track,
    init_db,
    list_tracks,
    playlist,
    review_queue,
    save_track,
    session_scope,
)
from mer.catalog.engine import get_engine
from mer.catalog.migrate import alembic_config
from mer.catalog.models import Prediction, Window
from mer.decision import decide


def _unscorable(content_hash: str, reason: str, proba: np.ndarray) -> dict:
    args = track_args(content_hash, proba)
    n = len(args["windows"])
    verdicts = decide(np.atleast_2d(proba), threshold=THRESHOLD, unscorable=[reason] * n)
    for c in verdicts.columns:
        args["windows"][c] = verdicts[c].to_numpy()
    track = decide(np.atleast_2d(proba).mean(axis=0)[None, :], threshold=THRESHOLD, unscorable=[reason])
    args["aggregate"] |= track.iloc[0].to_dict() | {"share_happy": 0.0, "share_sad": 0.0, "share_angry": 0.0,
                                                     "share_relax": 0.0, "scorable_share": 0.0}
    return args


def _fill(url: str) -> dict[str, int]:
    with session_scope(url) as s:
        return {
            "calm": save_track(s, **track_args("calm", proba_for("relax", 0.9))),
            "unsure": save_track(s, **track_args("unsure", proba_for("relax", 0.6))),
            "tone": save_track(s, **_unscorable("tone", "steady tone: spectral entropy far below any training clip",
                                                 proba_for("relax", 0.95))),
            "broken": save_track(s, **_unscorable("broken", "the model gave no finite probabilities for this input",
                                                   np.full(4, np.nan))),
        }


def test_unscorable_tracks_are_stored_with_their_reason_and_null_probabilities(db_url: str) -> None:
    ids = _fill(db_url)
    with session_scope(db_url) as s:
        tone, broken, calm = get_track(s, ids["tone"]), get_track(s, ids["broken"]), get_track(s, ids["calm"])
    assert tone["decision"] == "unscorable" and tone["reason"].startswith("steady tone")
    assert tone["label"] == "relax" and tone["scorable_share"] == 0.0
    assert broken["p_happy"] is None and broken["label"] is None and broken["top2"] is None
    assert broken["windows"][0]["predictions"][0]["decision"] == "unscorable"
    assert calm["reason"] == "confidence 0.90 >= 0.75" and calm["model_alias"] == "champion"
    assert calm["valence"] == pytest.approx(0.9 + 0.1 / 3 - 2 * 0.1 / 3)
    assert calm["arousal"] == pytest.approx(-0.9 + 0.1 / 3)


def test_review_queue_holds_everything_not_accepted_and_pages(db_url: str) -> None:
    ids = _fill(db_url)
    with session_scope(db_url) as s:
        queue = review_queue(s, 10)
        assert [q["track_id"] for q in queue] == [ids["broken"], ids["unsure"], ids["tone"]]
        assert count_review(s) == 3 and count_review(s, "window") == 3
        assert [q["track_id"] for q in review_queue(s, 1, offset=1)] == [ids["unsure"]]
        assert {q["decision"] for q in review_queue(s, 10, level="window")} == {"review", "unscorable"}


def test_playlists_skip_unscorable_tracks_and_take_a_minimum_probability(db_url: str) -> None:
    ids = _fill(db_url)
    with session_scope(db_url) as s:
        assert [p["track_id"] for p in playlist(s, "relax")] == [ids["calm"], ids["unsure"]]
        assert [p["track_id"] for p in playlist(s, "relax", min_probability=0.7)] == [ids["calm"]]
        assert count_playlist(s, "relax") == 2 and count_playlist(s, "relax", 0.95) == 0
        assert [p["track_id"] for p in playlist(s, "relax", limit=1, offset=1)] == [ids["unsure"]]
        assert len(list_tracks(s)) == 4
        with pytest.raises(ValueError):
            playlist(s, "relax", min_probability=2.0)


def test_upgrading_a_0001_catalog_keeps_its_rows(empty_url: str) -> None:
    engine = get_engine(empty_url)
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001_initial")
        conn.exec_driver_sql(
            "INSERT INTO tracks (path, content_hash, duration_s, sample_rate, channels, aggregate_method, p_happy, "
            "p_sad, p_angry, p_relax, label, confidence, decision, top2, model_name, model_version, model_alias) "
            "VALUES ('/a.flac', 'h', 60, 22050, 2, 'mean', 0.7, 0.1, 0.1, 0.1, 'happy', 0.7, 'review', "
            "'happy|sad', 'music-emotion', '1', NULL)")
        track_id = conn.exec_driver_sql("SELECT id FROM tracks").scalar_one()
        conn.exec_driver_sql(f"INSERT INTO windows (track_id, \"index\", start_s, end_s, partial, ood) VALUES "
                             f"({track_id}, 0, 0, 30, false, false)")
        window_id = conn.exec_driver_sql("SELECT id FROM windows").scalar_one()
        conn.exec_driver_sql(
            "INSERT INTO predictions (window_id, p_happy, p_sad, p_angry, p_relax, label, confidence, decision, "
            f"top2, model_name, model_version) VALUES ({window_id}, 0.7, 0.1, 0.1, 0.1, 'happy', 0.7, 'review', "
            "'happy|sad', 'music-emotion', '1')")
    init_db(empty_url)
    with session_scope(empty_url) as s:
        assert s.execute(select(func.count()).select_from(Window)).scalar_one() == 1
        assert s.execute(select(func.count()).select_from(Prediction)).scalar_one() == 1
        track = get_track(s, track_id)
        assert track["decision"] == "review" and track["reason"] is None and track["share_happy"] is None
        save_track(s, **_unscorable("new", "near silence", proba_for("happy", 0.8)))  # the new check allows it
        assert count_review(s) == 2
