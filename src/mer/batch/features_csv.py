"""A features CSV → scored rows, fast: the one CSV reader of :mod:`mer.data` streamed in chunks, vectorised number
parsing, one call of the scoring core (:func:`mer.scoring.score_matrix`) per chunk.

Rows are what ``mer predict`` gives for the same file (:func:`mer.data.cleaning.iter_feature_rows`): every
non-blank record is one output row with its ``line`` in the input; a record that cannot be a row (too many fields,
no feature value) and a row with a missing or out-of-range feature are ``unscorable`` with the reason.

The output is written chunk by chunk to a temporary Parquet file renamed into place at the end: a killed run leaves
no partial output (rerunning repeats the whole file, which at this speed is the cheap way).
"""

from __future__ import annotations

import os
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mer.batch.executors import worker_context
from mer.batch.work import init_worker
from mer.data.cleaning import FeatureRows, iter_feature_rows
from mer.data.csvio import CsvDialect
from mer.schema import FEATURE_NAMES
from mer.scoring import score_matrix
from mer.settings import DecisionSettings

DEFAULT_CHUNK_ROWS = 50_000
LINE_COLUMN = "line"  # 1-based line of the record in the input file, as mer predict reports it


@dataclass
class FeaturesResult:
    rows_in: int = 0
    rows_scored: int = 0
    accepted: int = 0
    review: int = 0
    unscorable: int = 0


def decide_chunk(model, chunk: FeatureRows, rule: DecisionSettings) -> pd.DataFrame:
    """The scored columns for one chunk (what a pool worker runs)."""
    return score_matrix(model, chunk.features.to_numpy(dtype=float), rule, chunk.problems)


def _decide_in_worker(chunk: FeatureRows, rule: DecisionSettings) -> pd.DataFrame:
    from mer.batch import work

    return decide_chunk(work._WORKER_MODEL, chunk, rule)


def score_features_csv(
    path: Path, dialect: CsvDialect, output: Path, model, rule: DecisionSettings, workers: int = 1,
    chunk_rows: int = DEFAULT_CHUNK_ROWS, progress: Callable[[int], None] | None = None,
) -> FeaturesResult:
    """Score every record of a features CSV into ``output`` (Parquet: line, the 50 features, the scored columns of
    :data:`mer.scoring.SCORED_COLUMNS`); ``model`` is a :class:`mer.scoring.Scorer`."""
    result = FeaturesResult()
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.{uuid.uuid4().hex[:8]}.tmp")
    writer: pq.ParquetWriter | None = None
    pool = ProcessPoolExecutor(workers, mp_context=worker_context(), initializer=init_worker,
                               initargs=(model, os.getpid())) \
        if workers > 1 else None
    pending: deque[tuple[FeatureRows, Future]] = deque()

    def write(chunk: FeatureRows, decisions: pd.DataFrame) -> None:
        nonlocal writer
        out = chunk.features.reset_index(drop=True)
        out.insert(0, LINE_COLUMN, chunk.lines)
        out = pd.concat([out, decisions.reset_index(drop=True)], axis=1)
        for text in ("ood_features", "label", "decision", "reason", "top2"):  # typed even when all empty
            out[text] = out[text].astype("string")
        table = pa.Table.from_pandas(out, preserve_index=False)
        if writer is None:
            writer = pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table.cast(writer.schema))
        result.rows_scored += len(out)
        counts = decisions["decision"].value_counts()
        result.accepted += int(counts.get("accept", 0))
        result.review += int(counts.get("review", 0))
        result.unscorable += int(counts.get("unscorable", 0))
        if progress:
            progress(len(out))

    try:
        for chunk in iter_feature_rows(path, dialect, chunk_rows):
            result.rows_in += len(chunk)
            if pool is None:
                write(chunk, decide_chunk(model, chunk, rule))
                continue
            pending.append((chunk, pool.submit(_decide_in_worker, chunk, rule)))
            while len(pending) > 2 * workers:  # bounded look-ahead keeps memory flat; writes stay in input order
                done, future = pending.popleft()
                write(done, future.result())
        while pending:
            done, future = pending.popleft()
            write(done, future.result())
        if writer is None:  # no row at all: still a valid, empty output
            empty = FeatureRows(np.zeros(0, dtype=np.int64), pd.DataFrame(columns=list(FEATURE_NAMES), dtype=float),
                                [])
            write(empty, decide_chunk(model, empty, rule))
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
