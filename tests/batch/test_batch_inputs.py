"""Telling the inputs apart: folder, manifest (relative paths), features CSV (any dialect), single file, nonsense."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from batch_support import write_tone
from support import UCI_CSV

from mer.batch import BatchInputError, InputKind, resolve_input
from mer.data.cleaning import clean_table, iter_feature_rows
from mer.schema import FEATURE_NAMES


def test_a_folder_is_walked_for_audio_only(tmp_path: Path) -> None:
    write_tone(tmp_path / "a.wav", 1.5, 440, 0)
    write_tone(tmp_path / "sub" / "B.FLAC", 1.5, 440, 1)
    (tmp_path / "notes.txt").write_text("not audio")
    got = resolve_input(tmp_path)
    assert got.kind is InputKind.AUDIO
    assert got.audio == [tmp_path / "a.wav", tmp_path / "sub" / "B.FLAC"]


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BatchInputError, match="no audio files"):
        resolve_input(tmp_path)


def test_a_manifest_resolves_relative_paths_against_its_own_folder(tmp_path: Path) -> None:
    write_tone(tmp_path / "music" / "a.wav", 1.5, 440, 0)
    absolute = write_tone(tmp_path / "elsewhere" / "b.wav", 1.5, 440, 1)
    manifest = tmp_path / "music" / "list.csv"
    manifest.write_text(f"id;Path\n1;a.wav\n2;{absolute}\n3;missing.wav\n4;\n")
    got = resolve_input(manifest)
    assert got.kind is InputKind.AUDIO
    assert got.audio == [tmp_path / "music" / "a.wav", absolute]
    assert got.problems == [(str(tmp_path / "music" / "missing.wav"), "no such file")]


def test_a_features_csv_is_recognised_by_its_columns(tmp_path: Path) -> None:
    assert resolve_input(UCI_CSV).kind is InputKind.FEATURES
    (tmp_path / "other.csv").write_text("name,size\na,1\n")
    with pytest.raises(BatchInputError, match="neither a features CSV"):
        resolve_input(tmp_path / "other.csv")


def test_the_fast_reader_parses_like_the_cleaning_step(tmp_path: Path) -> None:
    """Semicolons, decimal commas, stray spaces, missing tokens: the same numbers as clean_table reads (one reader,
    mer.data, for clean, predict and batch)."""
    uci = pd.read_csv(UCI_CSV).head(30)
    messy = uci.astype(str)
    messy.iloc[3, 5] = " ? "
    messy.iloc[4, 7] = "n/a"
    messy.iloc[5, 9] = f" {messy.iloc[5, 9]} "
    messy.iloc[6, 10] = "inf"
    for col in messy.columns[1:20]:
        messy[col] = messy[col].str.replace(".", ",", regex=False)
    path = tmp_path / "messy.csv"
    messy.to_csv(path, sep=";", index=False)
    source = resolve_input(path)
    assert source.kind is InputKind.FEATURES and source.dialect and source.dialect.delimiter == ";"
    chunks = list(iter_feature_rows(path, source.dialect, chunk_rows=7))
    assert [len(c) for c in chunks] == [7, 7, 7, 7, 2]
    fast = pd.concat([c.features for c in chunks], ignore_index=True)
    slow = clean_table(path, require_label=False).table[list(FEATURE_NAMES)]
    pd.testing.assert_frame_equal(fast, slow.reset_index(drop=True), check_dtype=False)
    assert fast.isna().sum().sum() == 3
