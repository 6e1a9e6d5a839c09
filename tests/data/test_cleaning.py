"""Cleaning on the real files with exact expected counts, and on the dialects and spellings users bring."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from support import COURSE_CSV, UCI_CSV
from typer.testing import CliRunner

from mer.cli import app
from mer.data.cleaning import DUP_GROUP, SOURCE_LINE, clean_table, parse_number
from mer.data.csvio import InputError
from mer.schema import CLASSES, FEATURE_NAMES, LABEL_COLUMN

runner = CliRunner()


def test_dirty_course_file_recovers_every_labelled_row() -> None:
    res = clean_table(COURSE_CSV)
    rep = res.report
    assert (rep.rows_in, rep.rows_out) == (408, 403)
    # the file's five blank labels, at these lines of the file (header = line 1)
    assert rep.dropped == [{"line": n, "reason": "missing label"} for n in (313, 316, 320, 368, 372)]
    assert rep.columns_dropped == ["mixed_type_col"]
    assert rep.columns_missing == []
    assert set(rep.label_spellings) == {" HAPPY ", " SAD ", " ANGRY ", " RELAX "}
    assert sum(rep.label_counts.values()) == 403 and set(rep.label_counts) == set(CLASSES)
    assert list(res.table.columns[:51]) == [LABEL_COLUMN, *FEATURE_NAMES]
    # tokens became missing values and are reported cell by cell, never imputed
    tokens = {c["raw"].strip().lower() for r in rep.changed for c in r["changes"] if c["action"].startswith("token")}
    assert {"error", "?", "null", "n/a", "invalid"} <= tokens
    assert res.table[list(FEATURE_NAMES)].isna().sum().sum() == sum(rep.missing_cells.values()) > 197


def test_uci_file_keeps_and_marks_its_twelve_duplicates() -> None:
    res = clean_table(UCI_CSV)
    assert (res.report.rows_in, res.report.rows_out, res.report.dropped) == (400, 400, [])
    assert res.report.duplicate_rows == 12
    assert res.table[DUP_GROUP].nunique() == 388
    assert res.table[LABEL_COLUMN].value_counts().to_dict() == dict.fromkeys(CLASSES, 100)


def _write(tmp_path: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _uci_rows(n: int) -> pd.DataFrame:
    return pd.read_csv(UCI_CSV).head(n)


def test_other_dialects_spanish_labels_and_shuffled_columns(tmp_path: Path) -> None:
    df = _uci_rows(6)
    df[LABEL_COLUMN] = ["Feliz", " TRISTE", "enojado ", "Relajado", "calm", "relaxed"]
    df = df[list(reversed(df.columns))]  # columns in another order
    text = df.to_csv(index=False, sep=";", decimal=",", lineterminator="\r\n")
    path = _write(tmp_path, "\ufeff" + text)
    res = clean_table(path)
    assert res.report.delimiter == ";"
    assert res.table[LABEL_COLUMN].tolist() == ["happy", "sad", "angry", "relax", "relax", "relax"]
    expected = _uci_rows(6)[list(FEATURE_NAMES)].to_numpy()
    np.testing.assert_allclose(res.table[list(FEATURE_NAMES)].to_numpy(), expected)
    assert list(res.table.columns[:51]) == [LABEL_COLUMN, *FEATURE_NAMES]


def test_unknown_labels_are_reported_not_guessed(tmp_path: Path) -> None:
    df = _uci_rows(3)
    df.loc[1, LABEL_COLUMN] = "melancholic"
    res = clean_table(_write(tmp_path, df.to_csv(index=False)))
    assert res.report.dropped == [{"line": 3, "reason": "unknown label 'melancholic'"}]
    assert res.table[SOURCE_LINE].tolist() == [2, 4]


@pytest.mark.parametrize(
    ("cell", "value", "changed"),
    [("1.5", 1.5, False), (" 1.5 ", 1.5, True), ("1,5", 1.5, True), ("NULL", np.nan, True), ("inf", np.nan, True),
     ("-INF", np.nan, True), ("", np.nan, False), ("abc", np.nan, True), ("1e-3", 0.001, False)],
)
def test_parse_number(cell: str, value: float, changed: bool) -> None:
    got, note = parse_number(cell)
    assert (np.isnan(got) and np.isnan(value)) or got == value
    assert (note is not None) == changed


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("\x00\x01binary", "not a CSV"),
        ("a,b,c\n1,2,3\n", "no label column"),
        ("Class,_RMSenergy_Mean\nhappy,0.1\n", "only 1 of the 50 feature columns"),
    ],
)
def test_unusable_input_exits_nonzero_with_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = _write(tmp_path, content)
    with pytest.raises(InputError, match=message):
        clean_table(path)
    result = runner.invoke(app, ["clean", str(path), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 1
    assert message in result.output and result.output.strip().count("\n") == 0


def test_clean_cli_writes_table_and_report(tmp_path: Path) -> None:
    out, report = tmp_path / "out.csv", tmp_path / "report.json"
    result = runner.invoke(app, ["clean", str(COURSE_CSV), "-o", str(out), "--report", str(report)])
    assert result.exit_code == 0, result.output
    rep = json.loads(report.read_text())
    assert rep["rows_in"] == rep["rows_out"] + len(rep["dropped"]) == 408
    table = pd.read_csv(out)
    assert len(table) == rep["rows_out"] and list(table.columns[:51]) == [LABEL_COLUMN, *FEATURE_NAMES]
