"""Property: however rows are damaged, every input line is either kept or named in the report's ``dropped``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import UCI_CSV

from mer.data.cleaning import SOURCE_LINE, clean_table
from mer.schema import FEATURE_NAMES, LABEL_COLUMN

BASE = pd.read_csv(UCI_CSV, dtype=str).head(12)
LABEL_DAMAGE = st.sampled_from(["", "  ", "???", "Feliz", " SAD ", "unknown-mood", "relaxed", None])
CELL_DAMAGE = st.sampled_from(["", "?", "NULL", "N/A", "error", "invalid", "inf", " 1.25 ", "1,5", "x", None])


@st.composite
def damaged_tables(draw) -> pd.DataFrame:
    df = BASE.copy()
    for i in range(len(df)):
        label = draw(LABEL_DAMAGE)
        if label is not None:
            df.loc[i, LABEL_COLUMN] = label
        for _ in range(draw(st.integers(0, 6))):
            cell = draw(CELL_DAMAGE)
            if cell is not None:
                df.loc[i, draw(st.sampled_from(FEATURE_NAMES))] = cell
        if draw(st.booleans()) and draw(st.booleans()):
            df.loc[i, list(FEATURE_NAMES)] = ""  # a row with no feature value at all
    return df


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_tables(), st.sampled_from([",", ";", "\t"]), st.booleans())
def test_no_row_is_lost_without_a_report_entry(df: pd.DataFrame, sep: str, crlf: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "damaged.csv"
        df.to_csv(path, index=False, sep=sep, lineterminator="\r\n" if crlf else "\n")
        res = clean_table(path)
    rep = res.report
    assert rep.rows_in == len(df) == rep.rows_out + len(rep.dropped)
    kept = set(res.table[SOURCE_LINE])
    dropped = {d["line"] for d in rep.dropped}
    assert kept.isdisjoint(dropped)
    assert kept | dropped == set(range(2, len(df) + 2))
    assert all(d["reason"] for d in rep.dropped)
    assert res.table[LABEL_COLUMN].notna().all()
