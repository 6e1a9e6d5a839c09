"""The orchestration: windows, whole-file rows, one end-to-end check against MIRtoolbox, OOD guard, the CLI.

The per-feature fidelity tests live next to each feature; here a few oracle files go through :func:`extract`
once to show the wiring (spectrum sharing, column order, statistics mapping) loses nothing.
"""

from __future__ import annotations

import inspect
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from oracle_support import ORACLE_DIR, oracle_audio, oracle_table
from test_dynamics_spectral import assert_close
from typer.testing import CliRunner

from mer.cli import app
from mer.cli import features as cli_features
from mer.features import extract as ex
from mer.features import ood
from mer.features.audio import load_audio
from mer.schema import FEATURE_NAMES, FEATURE_RANGES

SR = 16_000  # the window tests need long signals; a low (still valid) rate keeps them fast


def _tone_track(seconds: float, sr: int = SR) -> np.ndarray:
    """A chord whose root changes every 5 s, plus soft noise: every window differs from its neighbours."""
    rng = np.random.default_rng(1)
    t = np.arange(int(round(seconds * sr))) / sr
    root = 220.0 * 2 ** ((np.floor(t / 5.0) % 7) / 12)
    phase = 2 * np.pi * np.cumsum(root) / sr
    chord = np.sin(phase) + 0.5 * np.sin(1.5 * phase) + 0.3 * np.sin(2 * phase)
    return 0.2 * chord + 0.01 * rng.standard_normal(len(t))


def _features(rows: pd.DataFrame, i: int) -> np.ndarray:
    return rows.loc[i, list(FEATURE_NAMES)].to_numpy(dtype=float)


# --- windows ---


@pytest.mark.parametrize(
    ("seconds", "min_last", "expected"),
    [
        (75, 15, [(0, 30, False), (30, 60, False), (60, 75, True)]),
        (75, 15.5, [(0, 30, False), (30, 60, False)]),
        (30, 10, [(0, 30, False)]),
        (26.8, 10, [(0, 26.8, False)]),
        (60, 10, [(0, 30, False), (30, 60, False)]),
        (5.5, 10, [(0, 5.5, False)]),
    ],
)
def test_windows(seconds: float, min_last: float, expected: list[tuple[float, float, bool]]) -> None:
    n = int(round(seconds * SR))
    got = [(w.start / SR, w.stop / SR, w.partial) for w in ex.windows(n, SR, 30.0, 30.0, min_last)]
    assert got == [(pytest.approx(a), pytest.approx(b), p) for a, b, p in expected]


def test_windows_with_overlap() -> None:
    got = [(w.start / SR, w.stop / SR, w.partial) for w in ex.windows(65 * SR, SR, 30.0, 10.0, 10.0)]
    assert got == [(0, 30, False), (10, 40, False), (20, 50, False), (30, 60, False), (40, 65, True)]
    # fully covered by full windows: no partial tail
    assert all(not w.partial for w in ex.windows(60 * SR, SR, 30.0, 10.0, 0.0))


@pytest.mark.parametrize("bad", [(0, 30, 10), (30, 0, 10), (30, 30, -1)])
def test_windows_reject_bad_settings(bad: tuple[float, float, float]) -> None:
    with pytest.raises(ValueError, match="window"):
        ex.windows(60 * SR, SR, *bad)


def _reference_windows(n: int, length: int, hop: int, min_tail: float) -> list[tuple[int, int, bool]]:
    """The window rules of the module docstring, written plainly for a signal whose length is known."""
    if n <= length:
        return [(0, n, False)]
    starts = list(range(0, n - length + 1, hop))
    out = [(s, s + length, False) for s in starts]
    if starts[-1] + length < n and n - (starts[-1] + hop) >= min_tail:
        out.append((starts[-1] + hop, n, True))
    return out


def test_windows_fed_block_by_block_follow_the_rules() -> None:
    rng = np.random.default_rng(0)
    for _ in range(2000):
        n, length, hop = int(rng.integers(0, 300)), int(rng.integers(1, 60)), int(rng.integers(1, 90))
        min_last = float(rng.integers(0, 30))
        planner = ex.WindowPlanner(1, length, hop, min_last)  # sr = 1: seconds are samples
        cuts = np.sort(rng.integers(0, n + 1, size=int(rng.integers(0, 6))))
        got = [w for size in np.diff(np.r_[0, cuts, n]) for w in planner.feed(int(size))] + planner.finish()
        expected = _reference_windows(n, length, hop, max(min_last, ex.MIN_DURATION_S))
        assert [(w.start, w.stop, w.partial) for w in got] == expected, (n, length, hop, min_last, cuts)


@pytest.fixture(scope="module")
def track_75s() -> np.ndarray:
    return _tone_track(75.0)


def test_75s_track_rows_and_partial_flag(track_75s: np.ndarray) -> None:
    kept = ex.extract(track_75s, SR, min_last_s=15.0, sample_rate=None)  # native: rows comparable to extract_clip
    assert list(kept.columns) == list(ex.COLUMNS)
    assert kept[["start_s", "end_s"]].to_numpy().tolist() == [[0, 30], [30, 60], [60, 75]]
    assert kept["partial"].tolist() == [False, False, True]
    assert (kept["file"] == ex.ARRAY_LABEL).all()
    # each row is the clip of its window, computed on its own
    last = ex.extract_clip(track_75s[60 * SR :], SR)
    np.testing.assert_array_equal(_features(kept, 2), list(last.values()))
    # windows differ (the chord moves), so rows are not copies of each other
    assert kept.loc[0, "_Chromagram_Mean_1"] != kept.loc[1, "_Chromagram_Mean_1"]

    dropped = ex.extract(track_75s, SR, min_last_s=20.0, sample_rate=None)
    assert dropped["end_s"].tolist() == [30, 60] and not dropped["partial"].any()
    pd.testing.assert_frame_equal(dropped, kept.iloc[:2])


def test_hop_shorter_than_window(track_75s: np.ndarray) -> None:
    x = track_75s[: 40 * SR]
    rows = ex.extract(x, SR, window_s=20.0, hop_s=10.0, min_last_s=5.0, sample_rate=None)
    assert rows[["start_s", "end_s"]].to_numpy().tolist() == [[0, 20], [10, 30], [20, 40]]
    middle = ex.extract_clip(x[10 * SR : 30 * SR], SR)
    np.testing.assert_array_equal(_features(rows, 1), list(middle.values()))


@pytest.mark.parametrize(
    ("window_s", "hop_s", "min_last_s", "seconds"),
    [(20.0, 10.0, 5.0, 75.0), (20.0, 25.0, 1.0, 75.0), (30.0, 30.0, 10.0, 75.0), (30.0, 30.0, 10.0, 12.0)],
)
def test_a_file_is_read_block_by_block_with_the_rows_of_the_whole_signal(
    track_75s: np.ndarray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    window_s: float, hop_s: float, min_last_s: float, seconds: float,
) -> None:
    path = tmp_path / "track.flac"
    sf.write(path, np.column_stack([track_75s, 0.5 * track_75s[::-1]])[: int(seconds * SR)], SR, subtype="PCM_16")
    settings = {"window_s": window_s, "hop_s": hop_s, "min_last_s": min_last_s}
    whole = ex.extract(*load_audio(path), name=str(path), **settings)
    monkeypatch.setattr("mer.features.audio._BLOCK_FRAMES", 7919)  # many blocks, none aligned with a window
    streamed = ex.extract(path, **settings)
    assert len(streamed) >= 1
    pd.testing.assert_frame_equal(streamed, whole)


def test_30s_file_is_one_row_on_the_whole_file() -> None:
    name = "wesnoth_sad.flac"
    rows = _extracted(name)
    assert len(rows) == 1 and not rows.loc[0, "partial"]
    assert rows.loc[0, "end_s"] == pytest.approx(30.0)
    whole = ex.extract_clip(*oracle_audio(name))
    np.testing.assert_array_equal(_features(rows, 0), list(whole.values()))


def test_extract_clip_order_and_shared_spectrum() -> None:
    x, sr = oracle_audio("wesnoth_elf-land.flac")
    timings: dict[str, float] = {}
    row = ex.extract_clip(x, sr, timings)
    assert tuple(row) == FEATURE_NAMES
    assert set(timings) == {"spectrum", "onset curve", *ex.EXTRACTORS}


# --- one end-to-end check against MIRtoolbox 1.7.1 ---

E2E_FILES = ["wesnoth_sad.flac", "wesnoth_elf-land.flac", "wesnoth_casualties_of_war.flac"]
# Documented gap of the feature itself (mer.features.attack, xfail in test_roughness_attack.py): attack time is
# approximate on music. Here only its achieved bar is checked: the Mean within a factor 4 below / 1.5 above.
KNOWN_GAPS = {"_AttackTime_Mean", "_AttackTime_Slope"}


def _tolerance(column: str) -> tuple[float, float]:
    """(relative, absolute) tolerance of the issue for a column."""
    low, high = FEATURE_RANGES[column]
    if column.startswith(("_Fluctuation", "_Roughness", "_HarmonicChange")):
        return 0.02, 0.02 * (high - low)  # slopes cross 0: absolute part is 2 % of the UCI range
    if column == "_Tempo_Mean":
        return 0.0, 2.0  # BPM
    if column.startswith(("_Eventdensity", "_Pulseclarity", "_AttackTime")):
        return 0.10, 0.10 * (high - low)
    return 0.005, 1e-3


@cache
def _extracted(name: str) -> pd.DataFrame:
    return ex.extract(ORACLE_DIR / name)


@pytest.mark.parametrize("name", E2E_FILES)
def test_extract_matches_oracle(name: str) -> None:
    rows = _extracted(name)
    assert len(rows) == 1 and rows.loc[0, "file"] == str(ORACLE_DIR / name)
    expected = oracle_table().loc[name]
    mismatches = []
    for column in FEATURE_NAMES:
        if column in KNOWN_GAPS:
            continue
        try:
            assert_close(rows.loc[0, column], expected[column], f"{name} {column}", *_tolerance(column))
        except AssertionError as exc:
            mismatches.append(str(exc).splitlines()[0])
    assert not mismatches, "\n".join(mismatches)
    ours, ref = rows.loc[0, "_AttackTime_Mean"], expected["_AttackTime_Mean"]
    assert ref / 4 <= ours <= ref * 1.5


# --- out-of-distribution guard ---

# oracle README, "Sanity facts": this excerpt is brighter than any Turkish recording in the UCI data
BRIGHT_FILE = "wesnoth_casualties_of_war.flac"
BRIGHT_EXCEEDS = {"_Rolloff_Mean", "_Spectralspread_Mean", "_Spectralflatness_Mean"}


def test_bright_excerpt_is_flagged_with_those_names() -> None:
    reference = oracle_table().loc[BRIGHT_FILE]
    for column in BRIGHT_EXCEEDS:  # the premise: MIRtoolbox itself puts these beyond the widened range
        low, high = FEATURE_RANGES[column]
        assert reference[column] > high + ood.DEFAULT_MARGIN * (high - low)
    row = _extracted(BRIGHT_FILE).iloc[0]
    assert row["ood"]
    assert set(row["ood_features"].split(";")) == BRIGHT_EXCEEDS


def test_typical_excerpt_is_not_flagged() -> None:
    row = _extracted("wesnoth_sad.flac").iloc[0]
    assert not row["ood"] and row["ood_features"] == ""


def _midpoint_row() -> dict[str, float]:
    return {n: (lo + hi) / 2 for n, (lo, hi) in FEATURE_RANGES.items()}


def test_ood_rule_margin_and_nan() -> None:
    row = _midpoint_row()
    assert ood.check_row(row) == ood.OODResult(False, ())
    name = "_Tempo_Mean"
    low, high = FEATURE_RANGES[name]
    row[name] = high + 0.09 * (high - low)
    assert not ood.check_row(row, margin=0.1).flagged
    assert ood.check_row(row, margin=0.05).features == (name,)
    row[name] = low - 0.11 * (high - low)
    assert ood.check_row(row, margin=0.1).features == (name,)
    row["_MFCC_Mean_3"] = float("nan")
    result = ood.check_row(row, margin=0.1)
    assert result.features == ("_Tempo_Mean", "_MFCC_Mean_3") and result.joined == "_Tempo_Mean;_MFCC_Mean_3"
    frame = ood.flag_frame(pd.DataFrame([row, _midpoint_row()]), margin=0.1)
    assert frame["ood"].tolist() == [True, False]
    assert frame["ood_features"].tolist() == [result.joined, ""]
    with pytest.raises(ValueError, match="margin"):
        ood.bounds(-0.1)


# --- the command line ---


def _good_and_corrupt(tmp_path: Path) -> tuple[Path, Path, Path]:
    folder = tmp_path / "music"
    (folder / "sub").mkdir(parents=True)
    good = folder / "sub" / "good.WAV"
    sf.write(str(good), np.c_[_tone_track(3.0), _tone_track(3.0)], SR)
    corrupt = folder / "broken.flac"
    corrupt.write_bytes(b"fLaC" + bytes(range(256)) * 4)
    (folder / "cover.jpg").write_bytes(b"\xff\xd8 not audio, not an audio extension")
    return folder, good, corrupt


def test_cli_good_and_corrupt_file(tmp_path: Path) -> None:
    folder, good, corrupt = _good_and_corrupt(tmp_path)
    out = tmp_path / "out" / "features.csv"
    result = CliRunner().invoke(app, ["features", str(folder), "-o", str(out), "--ood-margin", "0.2"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table.columns) == list(ex.COLUMNS)
    assert table["file"].tolist() == [str(good)]
    errors = pd.read_csv(out.with_suffix(".errors.csv"))
    assert errors["file"].tolist() == [str(corrupt)]
    assert "cannot decode" in errors.loc[0, "error"] or "not a recognised" in errors.loc[0, "error"]
    assert "broken.flac" in result.output


def test_cli_fails_only_when_no_file_succeeds(tmp_path: Path) -> None:
    _, _, corrupt = _good_and_corrupt(tmp_path)
    out, errs = tmp_path / "f.csv", tmp_path / "e.csv"
    result = CliRunner().invoke(app, ["features", str(corrupt), str(tmp_path / "missing.wav"), "-o", str(out),
                                      "--errors", str(errs)])
    assert result.exit_code == 1
    assert len(pd.read_csv(errs)) == 2
    assert pd.read_csv(out).empty  # header only: no stale rows from an earlier run
    assert CliRunner().invoke(app, ["features", str(corrupt), "-o", str(out), "--hop", "0"]).exit_code == 1


def test_cli_help_and_defaults() -> None:
    result = CliRunner().invoke(app, ["features", "--help"])
    assert result.exit_code == 0
    for option in ("--window", "--hop", "--min-last", "--ood-margin", "--errors", "--output"):
        assert option in result.output
    defaults = {k: p.default for k, p in inspect.signature(cli_features.features).parameters.items()}
    library = inspect.signature(ex.extract).parameters
    assert defaults["window"] == library["window_s"].default
    assert defaults["hop"] == library["hop_s"].default
    assert defaults["min_last"] == library["min_last_s"].default
    assert defaults["ood_margin"] == library["ood_margin"].default
