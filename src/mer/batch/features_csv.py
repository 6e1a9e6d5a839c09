"""A features CSV → decisions, fast: pandas' C reader in chunks, vectorised number parsing, one model call per chunk.

``mer predict`` goes through :func:`mer.data.cleaning.clean_table`, which parses cell by cell to report every change
— right for a 400-row training file, far too slow for millions of rows. Here a chunk of rows is read by pandas, text
cells in a numeric column (decimal commas, stray spaces, tokens such as ``?``) are parsed column-wise, and rows with
no feature value at all are skipped and counted, as the cleaning step drops them. Missing cells stay NaN for the
model's own imputer.

The output is written chunk by chunk to a temporary Parquet file renamed into place at the end: a killed run leaves
no partial output (rerunning repeats the whole file, which at this speed is the cheap way).
"""

from __future__ import annotations

import os
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mer.batch.executors import worker_context
from mer.batch.inputs import CsvDialect, feature_columns
from mer.batch.work import MODEL_COLUMNS, init_worker
from mer.decision import ACCEPT_THRESHOLD
from mer.schema import FEATURE_NAMES
from mer.scoring import score_rows

DEFAULT_CHUNK_ROWS = 50_000
ROW_COLUMN = "row"  # 1-based number of the data record in the input (blank records counted)


@dataclass
class FeatureChunk:
    rows: np.ndarray  # 1-based record numbers
    features: pd.DataFrame  # the 50 features, float64, schema order


@dataclass
class FeaturesResult:
    rows_in: int = 0
    rows_scored: int = 0
    rows_skipped: int = 0  # no feature value at all
    accepted: int = 0


def _to_float(column: pd.Series) -> pd.Series:
    """A column as float64: numbers as they are, text parsed after stripping and a decimal comma → point."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.astype("float64")
    text = column.astype("string").str.strip().str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def read_feature_chunks(
    path: Path, dialect: CsvDialect, chunk_rows: int = DEFAULT_CHUNK_ROWS
) -> Iterator[FeatureChunk]:
    """The CSV's feature columns, chunk by chunk, as float64 frames in schema order (missing columns NaN)."""
    mapping = {cell.strip(): name for cell, name in feature_columns(dialect.header).items()}
    reader = pd.read_csv(
        path, sep=dialect.delimiter, encoding=dialect.encoding, usecols=lambda c: c.strip() in mapping,
        chunksize=chunk_rows, skip_blank_lines=False, engine="c", low_memory=False,
    )
    first = 1
    with reader:
        for chunk in reader:
            chunk.columns = [mapping[c.strip()] for c in chunk.columns]
            feats = pd.DataFrame({c: _to_float(chunk[c]) for c in chunk.columns}, index=chunk.index)
            feats = feats.reindex(columns=list(FEATURE_NAMES)).replace([np.inf, -np.inf], np.nan)
            yield FeatureChunk(np.arange(first, first + len(chunk)), feats.reset_index(drop=True))
            first += len(chunk)


def decide_chunk(model, features: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """The decision columns for one chunk (what a pool worker runs)."""
    return score_rows(model, features, threshold).drop(columns=list(FEATURE_NAMES))


def _decide_in_worker(features: pd.DataFrame, threshold: float) -> pd.DataFrame:
    from mer.batch import work

    return decide_chunk(work._WORKER_MODEL, features, threshold)


def score_features_csv(
    path: Path, dialect: CsvDialect, output: Path, model, model_name: str, model_version: str,
    threshold: float = ACCEPT_THRESHOLD, workers: int = 1, chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
) -> FeaturesResult:
    """Score every row of a features CSV into ``output`` (Parquet: row, the 50 features, decisions, model)."""
    result = FeaturesResult()
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.{uuid.uuid4().hex[:8]}.tmp")
    writer: pq.ParquetWriter | None = None
    pool = ProcessPoolExecutor(workers, mp_context=worker_context(), initializer=init_worker,
                               initargs=(model, os.getpid())) \
        if workers > 1 else None
    pending: deque[tuple[FeatureChunk, Future | pd.DataFrame]] = deque()

    def write(chunk: FeatureChunk, decisions: pd.DataFrame) -> None:
        nonlocal writer
        out = chunk.features.copy()
        out.insert(0, ROW_COLUMN, chunk.rows)
        out = pd.concat([out, decisions.reset_index(drop=True)], axis=1)
        out[MODEL_COLUMNS[0]], out[MODEL_COLUMNS[1]] = model_name, model_version
        table = pa.Table.from_pandas(out, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table.cast(writer.schema))
        result.rows_scored += len(out)
        result.accepted += int((decisions["decision"] == "accept").sum())
        if progress:
            progress(len(out))

    try:
        for chunk in read_feature_chunks(path, dialect, chunk_rows):
            result.rows_in += len(chunk.rows)
            usable = chunk.features.notna().any(axis=1).to_numpy()
            result.rows_skipped += int((~usable).sum())
            chunk = FeatureChunk(chunk.rows[usable], chunk.features[usable].reset_index(drop=True))
            if pool is None:
                write(chunk, decide_chunk(model, chunk.features, threshold))
                continue
            pending.append((chunk, pool.submit(_decide_in_worker, chunk.features, threshold)))
            while len(pending) > 2 * workers:  # bounded look-ahead keeps memory flat; writes stay in input order
                done, future = pending.popleft()
                write(done, future.result())
        while pending:
            done, future = pending.popleft()
            write(done, future.result())
        if writer is None:  # no usable row at all: still a valid, empty output
            empty = decide_chunk(model, pd.DataFrame(columns=list(FEATURE_NAMES), dtype=float), threshold)
            write(FeatureChunk(np.zeros(0, dtype=np.int64), pd.DataFrame(columns=list(FEATURE_NAMES), dtype=float)),
                  empty)
        writer.close()
        writer = None
        os.replace(tmp, output)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return result
