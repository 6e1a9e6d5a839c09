"""``mer batch`` end to end with a small registered model: folder, manifest, features CSV, errors, reruns, catalog."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from batch_support import make_audio_dir, read_rows, write_tone
from support import UCI_CSV
from typer.testing import CliRunner

from mer.batch.work import TRACK_COLUMNS, WINDOW_COLUMNS
from mer.cli import app
from mer.data.cleaning import clean_table
from mer.decision import PROBA_COLUMNS
from mer.schema import FEATURE_NAMES
from mer.settings import DecisionSettings

runner = CliRunner()


def batch(*args: str | Path) -> str:
    """Run ``mer batch`` and return its output with line wrapping undone."""
    result = runner.invoke(app, ["batch", *map(str, args)])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_a_folder_gives_one_row_per_window_and_one_per_track(in_project: Path, audio_dir: Path,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    output = batch(audio_dir, "-o", out, "--workers", "1", "--part-size", "3")
    assert "8 files scored, 0 failed" in output
    windows = pd.read_parquet(out)
    assert list(windows.columns) == list(WINDOW_COLUMNS)
    assert len(windows) == 8 and windows["content_hash"].is_unique  # 3-5 s clips: one window each
    assert set(windows["model_name"]) == {"music-emotion"} and set(windows["model_version"]) == {"1"}
    # test tones are not music the model can judge: unscorable with a reason, and without probabilities when a
    # feature is undefined (the model is never asked about a row with a missing value)
    assert windows["reason"].str.len().gt(5).all()
    scored = windows[list(PROBA_COLUMNS)].notna().all(axis=1)
    assert (windows.loc[~scored, "decision"] == "unscorable").all()
    np.testing.assert_allclose(windows.loc[scored, list(PROBA_COLUMNS)].sum(axis=1), 1.0, atol=1e-9)
    assert windows.loc[scored, "label"].isin(["happy", "sad", "angry", "relax"]).all()
    assert set(windows["model_alias"]) == {"champion"}
    tracks = pd.read_parquet(out.with_suffix(".tracks.parquet"))
    assert list(tracks.columns) == list(TRACK_COLUMNS) and len(tracks) == 8
    assert sorted(tracks["file"]) == sorted(str(p) for p in audio_dir.rglob("clip*"))
    # one window per track: the track's verdict is that window's
    merged = tracks.merge(windows, on="content_hash", suffixes=("", "_w"))
    np.testing.assert_allclose(merged["p_happy"], merged["p_happy_w"])
    assert pd.read_csv(out.with_suffix(".errors.csv")).empty
    assert len(list(out.with_suffix(".parts").glob("part-*"))) == 3  # 3 + 3 + 2 files


def test_a_corrupt_file_goes_to_the_errors_file_and_the_rest_is_scored(in_project: Path, tmp_path: Path) -> None:
    music = make_audio_dir(tmp_path / "music", n=3)
    (music / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEgarbage")
    write_tone(music / "short.wav", 0.4, 440, 9)  # under the 1-s minimum
    out = tmp_path / "out.parquet"
    output = batch(music, "-o", out, "--workers", "1")
    assert "3 files scored, 2 failed" in output
    errors = pd.read_csv(out.with_suffix(".errors.csv"))
    assert sorted(Path(f).name for f in errors["file"]) == ["broken.wav", "short.wav"]
    assert errors["error"].str.len().gt(5).all()
    assert sorted(Path(f).name for f in pd.read_parquet(out)["file"]) == ["clip00.wav", "clip01.flac", "clip02.wav"]
    # the errors were recorded with their content: a rerun does not try them again, --retry-errors does
    assert "0 files scored, 0 failed, 5 already done" in batch(music, "-o", out, "--workers", "1")
    assert "0 files scored, 2 failed, 3 already done" in batch(music, "-o", out, "--workers", "1", "--retry-errors")


def test_a_manifest_scores_the_files_it_lists(in_project: Path, audio_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "lists"
    folder.mkdir()
    shutil.copy(audio_dir / "clip00.wav", folder / "clip00.wav")
    manifest = folder / "manifest.csv"
    manifest.write_text(f"path,comment\nclip00.wav,relative\n{audio_dir / 'clip01.flac'},absolute\n"
                        f"nowhere.wav,missing\n")
    out = tmp_path / "m.parquet"
    assert "2 files scored, 0 failed" in batch(manifest, "-o", out, "--workers", "1")
    assert sorted(pd.read_parquet(out)["file"]) == [str(audio_dir / "clip01.flac"), str(folder / "clip00.wav")]
    errors = pd.read_csv(out.with_suffix(".errors.csv"))
    assert list(errors["file"]) == [str(folder / "nowhere.wav")] and list(errors["error"]) == ["no such file"]


def test_a_features_csv_is_scored_like_mer_predict(in_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "uci.parquet"
    output = batch(UCI_CSV, "-o", out, "--workers", "1")
    assert "400 rows scored" in output
    scored = pd.read_parquet(out)
    assert list(scored.columns[:2]) == ["line", FEATURE_NAMES[0]] and list(scored["line"]) == list(range(2, 402))
    runner.invoke(app, ["predict", str(UCI_CSV), "-o", str(tmp_path / "p.csv")])
    predicted = pd.read_csv(tmp_path / "p.csv")
    np.testing.assert_allclose(scored[list(PROBA_COLUMNS)], predicted[list(PROBA_COLUMNS)], atol=1e-12)
    for column in ("line", "decision", "reason", "model_version", "model_alias"):
        assert list(scored[column].astype(str)) == list(predicted[column].astype(str)), column
    features = clean_table(UCI_CSV, require_label=False).table[list(FEATURE_NAMES)]
    np.testing.assert_array_equal(scored[list(FEATURE_NAMES)].to_numpy(), features.to_numpy())


def test_features_csv_chunks_in_parallel_keep_the_input_order(in_project: Path, tmp_path: Path) -> None:
    from mer.batch import load_model, resolve_input
    from mer.batch.features_csv import score_features_csv

    loaded = load_model()
    source = resolve_input(UCI_CSV)
    assert source.dialect is not None
    one, two = tmp_path / "one.parquet", tmp_path / "two.parquet"
    score_features_csv(UCI_CSV, source.dialect, one, loaded, DecisionSettings(), chunk_rows=400)
    score_features_csv(UCI_CSV, source.dialect, two, loaded, DecisionSettings(), workers=2, chunk_rows=37)
    pd.testing.assert_frame_equal(pd.read_parquet(one), pd.read_parquet(two))


def test_rerunning_a_finished_job_changes_nothing(in_project: Path, audio_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.parquet"
    batch(audio_dir, "-o", out, "--workers", "1")
    files = [out, out.with_suffix(".tracks.parquet"), out.with_suffix(".errors.csv")]
    before = {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in files}
    parts = sorted(p.name for p in out.with_suffix(".parts").iterdir())
    output = batch(audio_dir, "-o", out, "--workers", "1")
    assert "0 files scored, 0 failed, 8 already done" in output and "(unchanged)" in output
    assert {f: (f.read_bytes(), f.stat().st_mtime_ns) for f in files} == before
    assert sorted(p.name for p in out.with_suffix(".parts").iterdir()) == parts


def test_a_new_file_in_the_folder_is_added_on_rerun(in_project: Path, tmp_path: Path) -> None:
    music = make_audio_dir(tmp_path / "music", n=2)
    out = tmp_path / "grow.parquet"
    batch(music, "-o", out, "--workers", "1")
    first = read_rows(out)
    write_tone(music / "new.wav", 3.0, 333.0, 42)
    shutil.copy(music / "clip00.wav", music / "copy-of-clip00.wav")  # same content: scored once
    output = batch(music, "-o", out, "--workers", "1")
    assert "1 files scored, 0 failed, 2 already done, 1 repeats" in output
    second = read_rows(out)
    assert len(second) == 3
    pd.testing.assert_frame_equal(second[second["file"] != str(music / "new.wav")].reset_index(drop=True), first)


def test_a_different_threshold_is_refused_on_the_same_output(in_project: Path, tmp_path: Path) -> None:
    music = make_audio_dir(tmp_path / "music", n=1)
    out = tmp_path / "t.parquet"
    batch(music, "-o", out, "--workers", "1")
    refused = runner.invoke(app, ["batch", str(music), "-o", str(out), "--threshold", "0.5", "--workers", "1"])
    said = " ".join(refused.output.split())
    assert refused.exit_code == 1 and "other settings" in said and "--restart" in said
    output = batch(music, "-o", out, "--threshold", "0.5", "--workers", "1", "--restart")
    assert "1 files scored" in output


def test_catalog_receives_the_tracks_once(in_project: Path, tmp_path: Path) -> None:
    from mer.catalog import count_tracks, dispose_engines, get_track, list_tracks, session_scope

    music = make_audio_dir(tmp_path / "music", n=3)
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    out = tmp_path / "c.parquet"
    assert "3 tracks saved to the catalog" in batch(music, "-o", out, "--workers", "1", "--catalog-url", url)
    with session_scope(url) as session:
        assert count_tracks(session) == 3
        track = get_track(session, list_tracks(session)[0]["id"])
    assert track is not None and track["content_hash"] in set(pd.read_parquet(out)["content_hash"])
    assert track["model_alias"] == "champion" and track["reason"]  # batch rows keep the alias and the reason
    assert {p["model_alias"] for w in track["windows"] for p in w["predictions"]} == {"champion"}
    assert "0 tracks saved to the catalog" in batch(music, "-o", out, "--workers", "1", "--catalog-url", url)
    # parts committed without the catalog (as after a kill between the two) reach it on the next --catalog run
    write_tone(music / "late.wav", 3.0, 500.0, 7)
    batch(music, "-o", out, "--workers", "1")
    assert "1 tracks saved to the catalog" in batch(music, "-o", out, "--workers", "1", "--catalog-url", url)
    with session_scope(url) as session:
        assert count_tracks(session) == 4
    dispose_engines()


def test_no_model_says_what_to_do(project: Path, tmp_path: Path) -> None:
    write_tone(tmp_path / "a.wav", 2.0, 440.0, 0)
    result = runner.invoke(app, ["batch", str(tmp_path / "a.wav"), "-o", str(tmp_path / "o.parquet")])
    assert result.exit_code == 1 and "mer run" in " ".join(result.output.split())


@pytest.mark.parametrize("args, message", [
    (["nowhere", "-o", "o.parquet"], "no such file or folder"),
    (["{audio}", "-o", "o.csv"], ".parquet"),
    (["{audio}", "-o", "o.parquet", "--dask", "local:x"], "local:N"),
    (["{uci}", "-o", "o.parquet", "--dask", "local:2"], "scored locally"),
    (["{audio}", "-o", "o.parquet", "--aggregate", "median"], "mean or vote"),
    (["{audio}", "-o", "o.parquet", "--hop", "0"], "hop > 0"),
])
def test_bad_arguments_fail_with_a_reason(in_project: Path, audio_dir: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["batch", *(a.format(audio=audio_dir, uci=UCI_CSV) for a in args)])
    assert result.exit_code == 1 and message in " ".join(result.output.split())


MALFORMED = ("_RMSenergy_Mean,_Lowenergy_Mean,{rest}\n"
             "{row}\n"  # line 2: a good row
             "\n"  # line 3: blank, not a row
             "{row},extra,cells\n"  # line 4: more fields than the header
             "0.05,?,{missing}\n"  # line 5: 47 of 50 features missing
             "{far}\n")  # line 6: a tempo far beyond any training clip


def _malformed(tmp_path: Path) -> Path:
    from support import uci_rows

    X, _ = uci_rows()
    row = X.iloc[0].to_numpy()
    rest = ",".join(FEATURE_NAMES[2:])
    far = row.copy()
    far[FEATURE_NAMES.index("_Tempo_Mean")] = 1e300
    text = MALFORMED.format(rest=rest, row=",".join(str(float(v)) for v in row), missing=",".join(["0.1"] + [""] * 47),
                            far=",".join(str(float(v)) for v in far))
    path = tmp_path / "malformed.csv"
    path.write_text(text)
    return path


def test_a_malformed_csv_gives_the_same_rows_and_reasons_through_predict_and_batch(in_project: Path,
                                                                                   tmp_path: Path) -> None:
    source = _malformed(tmp_path)
    out = tmp_path / "m.parquet"
    assert "4 rows scored" in batch(source, "-o", out, "--workers", "1")
    scored = pd.read_parquet(out)
    result = runner.invoke(app, ["predict", str(source), "-o", str(tmp_path / "p.csv")])
    assert result.exit_code == 0, result.output
    predicted = pd.read_csv(tmp_path / "p.csv")
    assert list(scored["line"]) == list(predicted["line"]) == [2, 4, 5, 6]
    assert list(scored["decision"]) == list(predicted["decision"])
    assert list(scored["reason"]) == list(predicted["reason"])
    assert scored["decision"].iloc[0] != "unscorable"
    assert list(scored["decision"].iloc[1:]) == ["unscorable"] * 3
    assert scored["reason"].iloc[1] == "52 fields, header has 50"
    assert "48 of 50 features missing" in scored["reason"].iloc[2]
    assert "tempo far above any training clip" in scored["reason"].iloc[3]
    assert set(scored["model_alias"]) == {"champion"} and set(predicted["model_version"].astype(str)) == {"1"}
