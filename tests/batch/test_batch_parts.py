"""The part store on hand-made outcomes (no model, no audio): commit, resume, discard, merge, refuse."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mer.batch.parts import JobMismatch, OutputBusy, PartStore
from mer.batch.work import TRACK_COLUMNS, WINDOW_COLUMNS, Outcome
from mer.decision import DECISION_COLUMNS, SHARE_COLUMNS
from mer.schema import FEATURE_NAMES


def outcome(name: str, n_windows: int = 2, error: str | None = None, final: bool = True) -> Outcome:
    digest = name * 4
    if error:
        return Outcome(f"/music/{name}.wav", digest, error=error, final=final)
    rng = np.random.default_rng(len(name))
    windows = pd.DataFrame({
        "file": f"/music/{name}.wav", "content_hash": digest, "start_s": 30.0 * np.arange(n_windows),
        "end_s": 30.0 * np.arange(1, n_windows + 1), "partial": False, "ood": False, "ood_features": "",
        **{f: rng.random(n_windows) for f in FEATURE_NAMES},
        "p_happy": 0.7, "p_sad": 0.1, "p_angry": 0.1, "p_relax": 0.1, "label": "happy", "confidence": 0.7,
        "decision": "review", "reason": "confidence 0.70 < 0.75", "top2": "happy|sad", "valence": 0.6,
        "arousal": 0.6, "model_name": "m", "model_version": "1", "model_alias": "champion",
    })[list(WINDOW_COLUMNS)]
    track = {"file": f"/music/{name}.wav", "content_hash": digest, "duration_s": 30.0 * n_windows,
             "sample_rate": 22050, "channels": 1, "n_windows": n_windows, "n_ood_windows": 0,
             "aggregate_method": "mean", **windows.iloc[0][list(DECISION_COLUMNS)].to_dict(),
             **{s: 1.0 if s == "share_happy" else 0.0 for s in SHARE_COLUMNS}, "scorable_share": 1.0,
             "model_name": "m", "model_version": "1", "model_alias": "champion"}
    assert list(track) == list(TRACK_COLUMNS)
    return Outcome(f"/music/{name}.wav", digest, windows=windows, track=track)


@pytest.fixture
def store(tmp_path: Path) -> PartStore:
    s = PartStore(tmp_path / "out.parquet")
    with s.locked():
        s.check_job({"model_version": "1"})
    return s


def test_parts_are_committed_atomically_and_their_hashes_count_as_done(store: PartStore) -> None:
    part = store.write_part([outcome("a"), outcome("b", error="not audio")])
    assert part is not None and part.name.startswith("part-000001-")
    assert sorted(p.name for p in part.iterdir()) == ["errors.parquet", "part.json", "tracks.parquet",
                                                      "windows.parquet"]
    assert store.done_hashes() == {"aaaa", "bbbb"}
    assert store.done_hashes(retry_errors=True) == {"aaaa"}
    assert store.write_part([outcome("c", error="worker died", final=False)]) is None  # retried next run


def test_a_half_written_part_is_never_trusted(store: PartStore) -> None:
    store.write_part([outcome("a")])
    tmp = store.root / ".tmp-deadbeef"  # what kill -9 during write_part leaves
    tmp.mkdir()
    (tmp / "windows.parquet").write_bytes(b"PAR1 truncated")
    assert store.done_hashes() == {"aaaa"}
    assert store.discard_incomplete() == 1 and not tmp.exists()


def test_a_part_that_does_not_match_its_manifest_is_set_aside(store: PartStore) -> None:
    good = store.write_part([outcome("a")])
    bad = store.write_part([outcome("b")])
    assert good and bad
    meta = json.loads((bad / "part.json").read_text())
    (bad / "part.json").write_text(json.dumps(meta | {"windows": 99}))
    assert store.done_hashes() == {"aaaa"}
    assert [p.name for p in store.part_dirs()] == [good.name]
    assert (store.root / f".bad-{bad.name}").is_dir()


def test_merge_sorts_dedups_and_skips_work_when_up_to_date(store: PartStore) -> None:
    store.write_part([outcome("b", 3), outcome("x", error="too short")])
    store.write_part([outcome("a", 1)])
    store.write_part([outcome("a", 1)])  # the same content committed twice (a bug elsewhere): the safety net
    first = store.merge([("/music/gone.wav", "no such file")])
    assert first.written and first.duplicates_dropped == 1
    windows = pd.read_parquet(store.paths.windows)
    assert list(windows.columns) == list(WINDOW_COLUMNS) and len(windows) == 4
    assert list(windows["file"]) == ["/music/a.wav"] + ["/music/b.wav"] * 3
    assert not windows.duplicated(["content_hash", "start_s"]).any()
    assert list(pd.read_parquet(store.paths.tracks)["content_hash"]) == ["aaaa", "bbbb"]
    errors = pd.read_csv(store.paths.errors)
    assert list(errors.columns) == ["file", "error"]
    assert set(errors["file"]) == {"/music/x.wav", "/music/gone.wav"}
    before = store.paths.windows.stat().st_mtime_ns
    again = store.merge([("/music/gone.wav", "no such file")])
    assert not again.written and store.paths.windows.stat().st_mtime_ns == before
    assert store.merge([]).written  # the run errors changed: the errors file must follow


def test_a_later_success_replaces_an_earlier_error(store: PartStore) -> None:
    store.write_part([outcome("a", error="decoder crashed")])
    store.write_part([outcome("a")])  # a --retry-errors run
    store.merge()
    assert pd.read_csv(store.paths.errors).empty
    assert len(pd.read_parquet(store.paths.tracks)) == 1


def test_other_settings_are_refused_unless_restarted(store: PartStore) -> None:
    store.write_part([outcome("a")])
    with pytest.raises(JobMismatch, match="model_version"):
        store.check_job({"model_version": "2"})
    store.check_job({"model_version": "2"}, restart=True)
    assert store.part_dirs() == [] and store.done_hashes() == set()


def test_two_runs_cannot_write_one_output(store: PartStore) -> None:
    with store.locked(), pytest.raises(OutputBusy), PartStore(store.paths.windows).locked():
        pass
