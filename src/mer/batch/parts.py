"""The resumable store behind ``mer batch``: results are committed in parts, and merged into the outputs at the end.

Why parts: a long batch must survive ``kill -9`` (or a power cut) without losing an acknowledged result and without
trusting a half-written file. Every group of finished files becomes one part — a folder holding ``windows.parquet``,
``tracks.parquet``, ``errors.parquet`` and ``part.json`` (counts and content hashes). A part is written under a
``.tmp-*`` name, every file fsynced, and only then renamed to ``part-NNNNNN-*``: the rename is atomic, so a part
either exists whole or not at all. Leftover ``.tmp-*`` folders are deleted by the next run, and a part that fails to
read back with the counts its ``part.json`` promises is set aside as ``.bad-*`` and its files done again.

On a rerun the content hashes in the complete parts are skipped. ``job.json`` records what decides the rows (model
name and version, threshold, aggregation, window settings): a rerun with other settings is refused rather than mixing
two models' rows in one output. A lock file stops two runs from writing the same output at once.

The final ``OUT.parquet`` (windows), ``OUT.tracks.parquet`` and ``OUT.errors.csv`` are derived from the parts (dedup
by content hash and window start as a safety net; a duplicate left after that is a bug and raises). The merged file
records the parts it was made from, so a rerun that adds nothing rewrites nothing.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from mer.batch.work import ERROR_COLUMNS, TRACK_COLUMNS, WINDOW_COLUMNS, Outcome

PART_PREFIX, TMP_PREFIX, BAD_PREFIX = "part-", ".tmp-", ".bad-"
JOB_FILE, LOCK_FILE, PART_META = "job.json", ".lock", "part.json"
MERGE_KEY = b"mer.batch.merge"  # Parquet key-value metadata of OUT.parquet: the parts (and run errors) it was made from


class JobMismatch(RuntimeError):
    """The output folder holds results made with other settings (another model version, threshold, windows)."""


class OutputBusy(RuntimeError):
    """Another ``mer batch`` is writing the same output."""


@dataclass(frozen=True)
class OutputPaths:
    """The files of one batch output ``OUT.parquet``: windows, tracks, errors and the parts folder."""

    windows: Path

    @property
    def tracks(self) -> Path:
        return self.windows.with_suffix(".tracks.parquet")

    @property
    def errors(self) -> Path:
        return self.windows.with_suffix(".errors.csv")

    @property
    def parts(self) -> Path:
        return self.windows.with_suffix(".parts")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_parquet(table: pa.Table, path: Path) -> None:
    """Write and fsync one Parquet file (the caller makes it visible by a rename)."""
    with open(path, "wb") as fh:
        pq.write_table(table, fh)
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write_parquet(table: pa.Table, path: Path) -> None:
    """Replace ``path`` with ``table`` so that a reader sees the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        _write_parquet(table, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def _frame(rows: Sequence[pd.DataFrame] | list[dict], columns: Sequence[str]) -> pd.DataFrame:
    if rows and isinstance(rows[0], pd.DataFrame):
        return pd.concat(rows, ignore_index=True)[list(columns)]
    return pd.DataFrame(list(rows), columns=list(columns))


def _table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


class PartStore:
    """The ``OUT.parts`` folder: lock it, check its job, commit parts, list what is done, merge."""

    def __init__(self, output: str | Path):
        self.paths = OutputPaths(Path(output))
        self.root = self.paths.parts

    # --- life cycle -------------------------------------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[PartStore]:
        """Hold an exclusive lock on the output for the duration of a run."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_FILE, "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise OutputBusy(f"{self.paths.windows}: another mer batch is writing this output") from None
            try:
                yield self
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def check_job(self, fingerprint: dict[str, Any], restart: bool = False) -> None:
        """Record the job's settings on first use; refuse (or with ``restart`` wipe) parts made with others."""
        job = self.root / JOB_FILE
        if job.exists():
            recorded = json.loads(job.read_text())
            if recorded == fingerprint:
                return
            if not restart:
                changed = sorted(k for k in fingerprint.keys() | recorded.keys()
                                 if fingerprint.get(k) != recorded.get(k))
                then = {k: recorded.get(k) for k in changed}
                now = {k: fingerprint.get(k) for k in changed}
                raise JobMismatch(
                    f"{self.root} holds results made with other settings ({then} then, {now} now); "
                    "write to another output or pass --restart to discard them"
                )
        if restart:
            for entry in self.root.iterdir():
                if entry.is_dir():
                    shutil.rmtree(entry)
        tmp = job.with_name(f".{JOB_FILE}.tmp")
        tmp.write_text(json.dumps(fingerprint, indent=1, sort_keys=True))
        os.replace(tmp, job)
        _fsync_dir(self.root)

    def discard_incomplete(self) -> int:
        """Delete the ``.tmp-*`` folders a killed run left behind; how many there were."""
        stale = [p for p in self.root.iterdir() if p.name.startswith(TMP_PREFIX)]
        for p in stale:
            shutil.rmtree(p, ignore_errors=True)
        return len(stale)

    # --- parts ------------------------------------------------------------------------------------------------------

    def part_dirs(self) -> list[Path]:
        """The committed parts, oldest first (their names sort by sequence number)."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if p.is_dir() and p.name.startswith(PART_PREFIX))

    def _next_sequence(self) -> int:
        numbers = [int(p.name.split("-")[1]) for p in self.part_dirs()]
        return max(numbers, default=0) + 1

    def write_part(self, outcomes: Sequence[Outcome]) -> Path | None:
        """Commit finished files as one part; returns its folder (None when only retryable errors were given)."""
        done = [o for o in outcomes if o.ok or o.final]
        if not done:
            return None
        windows = _frame([o.windows for o in done if o.ok], WINDOW_COLUMNS) if any(o.ok for o in done) \
            else pd.DataFrame(columns=list(WINDOW_COLUMNS))
        tracks = _frame([o.track for o in done if o.ok], TRACK_COLUMNS)
        errors = _frame([{"file": o.file, "content_hash": o.content_hash, "error": o.error}
                         for o in done if not o.ok], ERROR_COLUMNS)
        meta = {"windows": len(windows), "tracks": len(tracks), "errors": len(errors),
                "hashes": sorted({o.content_hash for o in done})}
        tag = uuid.uuid4().hex[:8]
        tmp = self.root / f"{TMP_PREFIX}{tag}"
        tmp.mkdir()
        try:
            if len(windows):
                _write_parquet(_table(windows), tmp / "windows.parquet")
            if len(tracks):
                _write_parquet(_table(tracks), tmp / "tracks.parquet")
            if len(errors):
                _write_parquet(_table(errors.astype({"error": str})), tmp / "errors.parquet")
            (tmp / PART_META).write_text(json.dumps(meta))
            with open(tmp / PART_META, "rb") as fh:
                os.fsync(fh.fileno())
            _fsync_dir(tmp)
            final = self.root / f"{PART_PREFIX}{self._next_sequence():06d}-{tag}"
            os.rename(tmp, final)  # the commit: from here on the part counts as done
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _fsync_dir(self.root)
        return final

    def read_part(self, part: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """A part's windows, tracks and errors; raises ValueError when they do not match its ``part.json``."""
        meta = json.loads((part / PART_META).read_text())
        frames = []
        for name, columns in (("windows", WINDOW_COLUMNS), ("tracks", TRACK_COLUMNS), ("errors", ERROR_COLUMNS)):
            f = part / f"{name}.parquet"
            frame = pq.read_table(f).to_pandas() if f.exists() else pd.DataFrame(columns=list(columns))
            if len(frame) != meta[name] or list(frame.columns) != list(columns):
                raise ValueError(f"{part.name}: {name} has {len(frame)} rows, part.json says {meta[name]}")
            frames.append(frame)
        hashes = set(frames[1]["content_hash"]) | set(frames[2]["content_hash"])
        if hashes != set(meta["hashes"]):
            raise ValueError(f"{part.name}: content hashes differ from part.json")
        return frames[0], frames[1], frames[2]

    def load(self) -> tuple[list[str], pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Every readable part (names, windows, tracks, errors); unreadable ones are set aside as ``.bad-*``."""
        names, windows, tracks, errors = [], [], [], []
        for part in self.part_dirs():
            try:
                w, t, e = self.read_part(part)
            except (OSError, ValueError, KeyError, pa.ArrowException):
                part.rename(part.with_name(BAD_PREFIX + part.name))
                continue
            names.append(part.name)
            for acc, frame in ((windows, w), (tracks, t), (errors, e)):
                if len(frame):
                    acc.append(frame)
        return (
            names,
            pd.concat(windows, ignore_index=True) if windows else pd.DataFrame(columns=list(WINDOW_COLUMNS)),
            pd.concat(tracks, ignore_index=True) if tracks else pd.DataFrame(columns=list(TRACK_COLUMNS)),
            pd.concat(errors, ignore_index=True) if errors else pd.DataFrame(columns=list(ERROR_COLUMNS)),
        )

    def done_hashes(self, retry_errors: bool = False) -> set[str]:
        """Content hashes already in a complete part (scored, or failing for a reason of their own)."""
        _, _, tracks, errors = self.load()
        done = set(tracks["content_hash"])
        return done if retry_errors else done | set(errors["content_hash"])

    # --- the outputs ------------------------------------------------------------------------------------------------

    def merged_from(self) -> dict[str, Any] | None:
        """What ``OUT.parquet`` was merged from (parts, run errors), or None when it or its companions are missing."""
        p = self.paths
        if not (p.windows.is_file() and p.tracks.is_file() and p.errors.is_file()):
            return None
        try:
            meta = pq.read_schema(p.windows).metadata or {}
        except (OSError, pa.ArrowException):
            return None
        return json.loads(meta[MERGE_KEY]) if MERGE_KEY in meta else None

    def merge(self, transient_errors: Sequence[tuple[str, str]] = ()) -> MergeResult:
        """Write OUT.parquet, OUT.tracks.parquet and OUT.errors.csv from the parts (skipped when up to date)."""
        names, windows, tracks, errors = self.load()
        transient = pd.DataFrame(list(transient_errors), columns=["file", "error"])
        origin = {"parts": names, "run_errors": [list(e) for e in transient_errors]}
        if self.merged_from() == origin:
            return MergeResult(len(windows), len(tracks), len(errors), 0, written=False)
        # safety nets: a content hash scored twice keeps its first part's rows; an error superseded by a later success
        # (a --retry-errors run) is dropped
        before = len(windows)
        windows = windows.drop_duplicates(["content_hash", "start_s"], keep="first")
        tracks = tracks.drop_duplicates("content_hash", keep="first")
        errors = errors[~errors["content_hash"].isin(tracks["content_hash"])]
        errors = errors.drop_duplicates("content_hash", keep="last")
        if windows.duplicated(["content_hash", "start_s"]).any() or tracks["content_hash"].duplicated().any():
            raise AssertionError("duplicate rows survived the merge")
        windows = windows.sort_values(["file", "start_s"], kind="stable").reset_index(drop=True)
        tracks = tracks.sort_values("file", kind="stable").reset_index(drop=True)
        table = _table(windows)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), MERGE_KEY: json.dumps(origin)})
        atomic_write_parquet(_table(tracks), self.paths.tracks)
        all_errors = pd.concat([errors[["file", "error"]], transient], ignore_index=True).sort_values("file")
        tmp = self.paths.errors.with_name(f".{self.paths.errors.name}.tmp")
        all_errors.to_csv(tmp, index=False)
        os.replace(tmp, self.paths.errors)
        atomic_write_parquet(table, self.paths.windows)  # last: its metadata says the merge is complete
        return MergeResult(len(windows), len(tracks), len(all_errors), before - len(windows), written=True)


@dataclass(frozen=True)
class MergeResult:
    windows: int
    tracks: int
    errors: int
    duplicates_dropped: int
    written: bool
