"""``mer batch`` as a library call: resolve the input, skip what is done, score the rest, commit parts, merge.

The flow for audio (see :mod:`mer.batch.parts` for why it survives ``kill -9``):

1. lock ``OUT.parts``, check that its results were made with this job's settings, drop half-written parts;
2. hash every input file (sha256 of its bytes: the file's identity, whatever its path) and skip hashes that a complete
   part already holds, and repeated content (scored once, under its first path);
3. score the rest on the chosen executor; every ``part_size`` finished files (or ``part_seconds``) become a part;
4. merge the parts into ``OUT.parquet``, ``OUT.tracks.parquet`` and ``OUT.errors.csv``; optionally save to the catalog.

A features CSV is scored in one streaming pass instead (:mod:`mer.batch.features_csv`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from mer.batch.executors import make_executor
from mer.batch.inputs import BatchInput, InputKind
from mer.batch.parts import MergeResult, PartStore
from mer.batch.work import FileTask, Outcome, ScoreSettings
from mer.pipeline import NoChampion
from mer.scoring import Scorer
from mer.settings import DecisionSettings, ModelRef

DEFAULT_PART_SIZE = 8
DEFAULT_PART_SECONDS = 60.0


NoModel = NoChampion  # no registered model carries the alias asked for
LoadedModel = Scorer  # the model with its name, version and alias: what every worker scores with


def load_model(ref: ModelRef | None = None) -> Scorer:
    """The registry's model behind ``ref`` (default: the champion) with its version, read once so both refer to
    the same model."""
    from mer import settings
    from mer.pipeline import load_scorer

    return load_scorer(ref or settings.scoring_settings().model)


class Reporter:
    """Progress hooks (no-ops here; the CLI draws a rich progress bar)."""

    def hashing(self, total: int) -> None: ...

    def hashed(self) -> None: ...

    def start(self, total: int, skipped: int) -> None: ...

    def advance(self, outcome: Outcome) -> None: ...

    def rows(self, n: int) -> None: ...


@dataclass
class BatchOptions:
    workers: int | None = None  # local processes; None: one per core
    dask: str | None = None  # scheduler address, or local:N
    part_size: int = DEFAULT_PART_SIZE  # files per part
    part_seconds: float = DEFAULT_PART_SECONDS  # commit a part at least this often
    retry_errors: bool = False  # try again files whose error was recorded by an earlier run
    restart: bool = False  # discard parts made with other settings instead of refusing
    catalog: bool = False
    catalog_url: str | None = None  # None: settings.database_url()
    decision: DecisionSettings = field(default_factory=DecisionSettings)
    extract_options: dict[str, float] = field(default_factory=dict)
    chunk_rows: int = 50_000  # features CSV only


@dataclass
class BatchReport:
    kind: InputKind
    output: Path
    files: int = 0  # audio files listed
    skipped_done: int = 0  # already in a complete part
    duplicate_content: int = 0  # same bytes as another listed file
    scored: int = 0
    failed: int = 0
    parts_written: int = 0
    stale_parts_removed: int = 0
    audio_s: float = 0.0
    busy_s: float = 0.0  # seconds the workers spent on files (summed): busy_s / seconds is the parallelism reached
    cpu_s: float = 0.0  # CPU seconds the workers used on files: cpu_s / seconds is how many cores the job got
    seconds: float = 0.0
    rows_in: int = 0  # features CSV: non-blank records, each one output row
    rows_scored: int = 0
    rows_accepted: int = 0
    rows_review: int = 0
    rows_unscorable: int = 0
    merge: MergeResult | None = None
    catalog_saved: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def all_failed(self) -> bool:
        """Audio input of which no file gave a track (in this run or an earlier one), only errors."""
        return (self.kind is InputKind.AUDIO and self.merge is not None and self.merge.tracks == 0
                and self.merge.errors > 0)


def run_batch(source: BatchInput, output: Path, loaded: LoadedModel, options: BatchOptions,
              reporter: Reporter | None = None) -> BatchReport:
    """Score ``source`` into ``output`` (Parquet) with the given model; see the module docstring."""
    reporter = reporter or Reporter()
    t0 = time.perf_counter()
    if source.kind is InputKind.FEATURES:
        report = _run_features(source, output, loaded, options, reporter)
    else:
        report = _run_audio(source, output, loaded, options, reporter)
    report.seconds = time.perf_counter() - t0
    return report


def _run_features(source: BatchInput, output: Path, loaded: LoadedModel, options: BatchOptions,
                  reporter: Reporter) -> BatchReport:
    from mer.batch.executors import default_workers
    from mer.batch.features_csv import score_features_csv

    if options.dask:
        raise ValueError("--dask scores audio; a features CSV is scored locally (use --workers)")
    assert source.dialect is not None
    result = score_features_csv(
        source.source, source.dialect, output, loaded, options.decision,
        workers=options.workers or default_workers(), chunk_rows=options.chunk_rows, progress=reporter.rows,
    )
    return BatchReport(InputKind.FEATURES, output, rows_in=result.rows_in, rows_scored=result.rows_scored,
                       rows_accepted=result.accepted, rows_review=result.review, rows_unscorable=result.unscorable)


def hash_files(paths: list[Path], reporter: Reporter) -> tuple[list[FileTask], list[tuple[str, str]], int]:
    """One task per distinct content (first path wins), unreadable files as errors, and the repeats' count."""
    from mer.hashing import sha256_file

    reporter.hashing(len(paths))
    tasks: dict[str, FileTask] = {}
    errors: list[tuple[str, str]] = []
    repeats = 0
    for path in paths:
        try:
            digest = sha256_file(path)
        except OSError as exc:
            errors.append((str(path), f"cannot read: {exc.strerror or exc}"))
        else:
            if digest in tasks:
                repeats += 1
            else:
                tasks[digest] = FileTask(str(path), digest)
        reporter.hashed()
    return list(tasks.values()), errors, repeats


def _size(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


def _run_audio(source: BatchInput, output: Path, loaded: LoadedModel, options: BatchOptions,
               reporter: Reporter) -> BatchReport:
    settings = ScoreSettings(loaded.name, loaded.version, options.decision, dict(options.extract_options))
    report = BatchReport(InputKind.AUDIO, output, files=len(source.audio))
    report.errors = list(source.problems)
    output.parent.mkdir(parents=True, exist_ok=True)
    store = PartStore(output)
    catalog = None
    if options.catalog:
        from mer.batch.catalog_sync import CatalogWriter

        catalog = CatalogWriter(options.catalog_url)
    with store.locked():
        store.check_job({"kind": "audio", **settings.fingerprint()}, restart=options.restart)
        report.stale_parts_removed = store.discard_incomplete()
        done = store.done_hashes(options.retry_errors)
        tasks, unreadable, report.duplicate_content = hash_files(source.audio, reporter)
        report.errors += unreadable
        # longest first (by bytes): the last files to finish are then short ones, so no worker idles on a long tail
        todo = sorted((t for t in tasks if t.content_hash not in done), key=lambda t: -_size(t.path))
        report.skipped_done = len(tasks) - len(todo)
        reporter.start(len(todo), report.skipped_done)

        buffer: list[Outcome] = []
        last_commit = time.monotonic()

        def commit() -> None:
            nonlocal last_commit
            if buffer and store.write_part(buffer) is not None:
                report.parts_written += 1
                if catalog is not None:
                    import pandas as pd

                    ok = [o for o in buffer if o.ok]
                    if ok:
                        report.catalog_saved += catalog.save(pd.concat([o.windows for o in ok], ignore_index=True),
                                                             pd.DataFrame([o.track for o in ok]))
            buffer.clear()
            last_commit = time.monotonic()

        if todo:
            with make_executor(loaded, settings, options.workers, options.dask) as executor:
                try:
                    for outcome in executor.run(todo):
                        reporter.advance(outcome)
                        report.busy_s += outcome.seconds
                        report.cpu_s += outcome.cpu_s
                        if outcome.ok:
                            report.scored += 1
                            report.audio_s += outcome.audio_s
                        else:
                            report.failed += 1
                            if not outcome.final:
                                report.errors.append((outcome.file, outcome.error or "unknown error"))
                                continue
                        buffer.append(outcome)
                        if len(buffer) >= options.part_size or time.monotonic() - last_commit >= options.part_seconds:
                            commit()
                except KeyboardInterrupt:
                    commit()  # what finished is kept; the rest is done by the next run
                    raise
            commit()
        report.merge = store.merge(sorted(report.errors))
        if catalog is not None:  # parts committed by an earlier, killed run may not have reached the catalog
            _, windows, tracks, _ = store.load()
            report.catalog_saved += catalog.save(windows, tracks)
    return report
