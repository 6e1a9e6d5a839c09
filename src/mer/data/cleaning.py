"""Cleaning a feature table: recognise columns, parse numbers, normalise labels, mark duplicates, report all of it.

Nothing is imputed or clipped here — those are fitted steps and live in the model pipeline. Every row that is
dropped, and every cell that is changed, is named in the report with its 1-based line in the input file.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mer.data.csvio import CsvDialect, InputError, iter_records, read_csv_records
from mer.schema import FEATURE_NAMES, FEATURE_RANGES, LABEL_COLUMN, normalise_label

DUP_GROUP = "dup_group"
SOURCE_LINE = "source_line"
MISSING_TOKENS = frozenset(
    {"", "?", "??", "-", "--", "na", "n/a", "nan", "null", "none", "nil", "error", "err", "invalid", "missing",
     "unknown", "bad", "#n/a", "#value!", "#div/0!", "#num!", "inf", "+inf", "-inf", "infinity", "-infinity"}
)
LABEL_ALIASES = ("class", "label", "emotion", "mood", "clase", "target")
MIN_FEATURE_COLUMNS = 25  # fewer recognised feature columns than this is not a feature table
BLANK = "blank line"
NO_FEATURE_VALUE = "no feature value"


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_FEATURE_KEYS = {_key(n): n for n in FEATURE_NAMES}
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def parse_number(cell: str) -> tuple[float, str | None]:
    """Parse one cell. Returns the value (NaN when missing) and a note when the cell needed more than a plain read."""
    text = cell.strip()
    if text.lower() in MISSING_TOKENS:
        return math.nan, (None if cell == "" else f"token {cell.strip()!r} -> missing")
    if not _NUMBER.match(text):
        return math.nan, f"not a number {cell!r} -> missing"
    value = float(text.replace(",", "."))
    if text != cell:
        return value, "stray spaces"
    if "," in text:
        return value, "decimal comma"
    return value, None


@dataclass
class CleaningReport:
    """What cleaning did. ``rows_in == rows_out + len(dropped)`` always holds."""

    source: str
    rows_in: int = 0
    rows_out: int = 0
    dropped: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    columns_dropped: list[str] = field(default_factory=list)
    columns_missing: list[str] = field(default_factory=list)
    label_counts: dict[str, int] = field(default_factory=dict)
    label_spellings: dict[str, str] = field(default_factory=dict)
    missing_cells: dict[str, int] = field(default_factory=dict)
    out_of_range_cells: dict[str, int] = field(default_factory=dict)
    duplicate_rows: int = 0
    duplicate_groups: int = 0
    delimiter: str = ","

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class CleanResult:
    table: pd.DataFrame
    report: CleaningReport


def _map_columns(header: list[str], require_label: bool, source: str) -> tuple[dict[int, str], int | None, list[str]]:
    features: dict[int, str] = {}
    label_idx: int | None = None
    extra: list[str] = []
    for i, name in enumerate(header):
        k = _key(name)
        if k in _FEATURE_KEYS and _FEATURE_KEYS[k] not in features.values():
            features[i] = _FEATURE_KEYS[k]
        elif k in LABEL_ALIASES and label_idx is None:
            label_idx = i
        else:
            extra.append(name or f"<unnamed column {i + 1}>")
    if require_label and label_idx is None:
        raise InputError(f"{source}: no label column (expected one of {', '.join(LABEL_ALIASES)})")
    if len(features) < MIN_FEATURE_COLUMNS:
        raise InputError(
            f"{source}: only {len(features)} of the 50 feature columns recognised (need {MIN_FEATURE_COLUMNS})"
        )
    return features, label_idx, extra


def record_problem(record: list[str], width: int) -> str | None:
    """Why a CSV record cannot be a row at all (blank, more fields than the header), or None. Shared by cleaning
    and scoring, so every door reads a malformed file the same way."""
    if not any(c.strip() for c in record):
        return BLANK
    if len(record) > width and any(c.strip() for c in record[width:]):
        return f"{len(record)} fields, header has {width}"
    return None


def parse_numbers(cells: Sequence[str]) -> np.ndarray:
    """:func:`parse_number` on a column of cells at once (the values, without the notes): the fast path.

    A C-level conversion reads the plain numbers; only the cells it could not read as a finite number (missing
    tokens, decimal commas, ``inf``) or might read differently (an ``_`` digit separator, which Python accepts and
    :func:`parse_number` does not) go through :func:`parse_number`, so the values are exactly its values."""
    try:
        values = np.array(cells, dtype=float)
    except ValueError:
        values = pd.to_numeric(pd.Series(cells, dtype=object), errors="coerce").to_numpy(dtype=float, copy=True)
    redo = ~np.isfinite(values)
    if "_" in "".join(cells):
        redo |= np.array(["_" in c for c in cells], dtype=bool)
    for i in np.flatnonzero(redo).tolist():
        values[i] = parse_number(cells[i])[0] if cells[i] else math.nan
    return values


@dataclass
class FeatureRows:
    """Feature rows read for scoring: every non-blank record of the file, in order.

    ``problems`` says, per row, why it cannot be scored before any model sees it (too many fields, no feature value;
    None otherwise); missing cells stay NaN and the scoring core says which.
    """

    lines: np.ndarray
    features: pd.DataFrame
    problems: list[str | None]

    def __len__(self) -> int:
        return len(self.lines)


def feature_header(header: list[str], source: str) -> dict[int, str]:
    """Column index → feature name for a header naming enough of the 50 features (InputError otherwise)."""
    return _map_columns(header, False, source)[0]


def iter_feature_rows(path: str | Path, dialect: CsvDialect | None = None,
                      chunk_rows: int = 50_000) -> Iterator[FeatureRows]:
    """Stream a features CSV (any dialect) as :class:`FeatureRows` chunks: what ``mer predict`` and ``mer batch``
    score. Records and numbers follow exactly the rules of :func:`clean_table` (one reader for every door); blank
    lines are not rows; a label column is ignored."""
    from mer.data.csvio import sniff

    dialect = dialect or sniff(path)
    columns = feature_header(dialect.header, str(path))
    width = len(dialect.header)
    for records, lines in iter_records(path, dialect, chunk_rows):
        problems = [record_problem(r, width) for r in records]
        keep = [i for i, p in enumerate(problems) if p != BLANK]
        rows = [r if len(r) == width else (r + [""] * width)[:width] for r in (records[i] for i in keep)]
        cells = list(zip(*rows, strict=True)) if rows else [()] * width  # column-wise, transposed in C
        values = np.full((len(rows), len(FEATURE_NAMES)), np.nan)
        for i, name in columns.items():
            values[:, FEATURE_NAMES.index(name)] = parse_numbers(cells[i])
        probs = [problems[i] for i in keep]
        bad = np.array([p is not None for p in probs], dtype=bool)
        values[bad] = np.nan
        empty = np.isnan(values).all(axis=1) & ~bad
        probs = [NO_FEATURE_VALUE if e else p for p, e in zip(probs, empty.tolist(), strict=True)]
        yield FeatureRows(np.asarray([lines[i] for i in keep], dtype=np.int64),
                          pd.DataFrame(values, columns=list(FEATURE_NAMES)), probs)


def read_feature_rows(path: str | Path) -> FeatureRows:
    """The whole features CSV as one :class:`FeatureRows` (``mer predict``)."""
    chunks = list(iter_feature_rows(path))
    if not chunks:
        return FeatureRows(np.zeros(0, dtype=np.int64), pd.DataFrame(columns=list(FEATURE_NAMES), dtype=float), [])
    return FeatureRows(np.concatenate([c.lines for c in chunks]),
                       pd.concat([c.features for c in chunks], ignore_index=True),
                       [p for c in chunks for p in c.problems])


def clean_table(path: str | Path, require_label: bool = True) -> CleanResult:
    """Clean the CSV at ``path``; with ``require_label`` rows without a usable label are dropped and reported."""
    source = str(path)
    raw = read_csv_records(path)
    features, label_idx, extra = _map_columns(raw.header, require_label, source)
    report = CleaningReport(source=source, rows_in=len(raw.records), delimiter=raw.delimiter)
    report.columns_dropped = extra
    report.columns_missing = [n for n in FEATURE_NAMES if n not in features.values()]
    width = len(raw.header)
    spellings: dict[str, str] = {}
    out_rows: list[list[float]] = []
    out_labels: list[str | None] = []
    out_lines: list[int] = []
    for record, line in zip(raw.records, raw.lines, strict=True):
        problem = record_problem(record, width)
        if problem:
            report.dropped.append({"line": line, "reason": problem})
            continue
        record = record + [""] * (width - len(record))
        label: str | None = None
        if label_idx is not None:
            raw_label = record[label_idx]
            label = normalise_label(raw_label)
            if label is None and require_label:
                reason = "missing label" if not raw_label.strip() else f"unknown label {raw_label.strip()!r}"
                report.dropped.append({"line": line, "reason": reason})
                continue
            if label is not None and raw_label != label:
                spellings[raw_label] = label
        values = [math.nan] * len(FEATURE_NAMES)
        notes = []
        for i, name in features.items():
            value, note = parse_number(record[i])
            values[FEATURE_NAMES.index(name)] = value
            if note:
                notes.append({"column": name, "raw": record[i], "action": note})
        if all(math.isnan(v) for v in values):
            report.dropped.append({"line": line, "reason": NO_FEATURE_VALUE})
            continue
        if notes:
            report.changed.append({"line": line, "changes": notes})
        out_rows.append(values)
        out_labels.append(label)
        out_lines.append(line)
    table = pd.DataFrame(out_rows, columns=list(FEATURE_NAMES), dtype=float)
    table.insert(0, LABEL_COLUMN, pd.Series(out_labels, dtype="object"))
    table[DUP_GROUP] = duplicate_groups(table[list(FEATURE_NAMES)])
    table[SOURCE_LINE] = out_lines
    report.rows_out = len(table)
    report.label_counts = dict(Counter(lbl for lbl in out_labels if lbl is not None))
    report.label_spellings = spellings
    feats = table[list(FEATURE_NAMES)]
    report.missing_cells = {k: int(v) for k, v in feats.isna().sum().items() if v}
    report.out_of_range_cells = out_of_range_counts(feats)
    sizes = table.groupby(DUP_GROUP).size()
    report.duplicate_groups = int((sizes > 1).sum())
    report.duplicate_rows = int((sizes[sizes > 1] - 1).sum())
    assert report.rows_in == report.rows_out + len(report.dropped)
    return CleanResult(table=table, report=report)


def duplicate_groups(features: pd.DataFrame | np.ndarray) -> np.ndarray:
    """One id per distinct feature vector: exact duplicates share an id, so a split can keep them together."""
    feats = pd.DataFrame(np.asarray(features, dtype=float)).round(9)
    return feats.groupby(list(feats.columns), dropna=False, sort=False).ngroup().to_numpy()


def out_of_range_counts(feats: pd.DataFrame) -> dict[str, int]:
    """Cells outside the range seen in the UCI data, per feature (reported, not changed)."""
    counts = {}
    for name, (low, high) in FEATURE_RANGES.items():
        col = feats[name]
        n = int(((col < low) | (col > high)).sum())
        if n:
            counts[name] = n
    return counts
