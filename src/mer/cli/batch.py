"""``mer batch``: score a folder, a manifest or a features CSV into Parquet — resumable, local or on Dask."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from mer import settings
from mer.cli.app import app, fail, refuse_stdout
from mer.cli.progress import make_progress
from mer.progress import PlainProgress

console = Console(stderr=True)
# The library's defaults, repeated so ``mer --help`` needs no numpy import (as mer features does)
WINDOW_S, HOP_S, MIN_LAST_S = 30.0, 30.0, 10.0

INPUT_HELP = ("A folder of audio (searched recursively), a manifest CSV with a 'path' column (relative paths are "
              "resolved against the manifest's folder), a features CSV (the 50 feature columns), or one audio file.")
OUTPUT_HELP = ("Parquet of windows (one row per window: file, content_hash, start_s, end_s, flags, the 50 features, "
               "decisions, model). Beside it: OUT.tracks.parquet (one row per track), OUT.errors.csv (file, error) "
               "and OUT.parts/ (the resumable state).")


class _RichReporter:
    """Draws the batch's progress with rich: hashing, then files (or rows for a features CSV)."""

    def __init__(self, progress: Progress | PlainProgress):
        self.progress = progress
        self.task = None

    def hashing(self, total: int) -> None:
        self.task = self.progress.add_task("hashing", total=total)

    def hashed(self) -> None:
        self.progress.advance(self.task)

    def start(self, total: int, skipped: int) -> None:
        if self.task is not None:
            self.progress.remove_task(self.task)
        label = f"scoring ({skipped} done before)" if skipped else "scoring"
        self.task = self.progress.add_task(label, total=total)

    def advance(self, outcome) -> None:
        self.progress.advance(self.task)
        if not outcome.ok:
            self.progress.console.print(f"[red]error[/] {outcome.file}: {outcome.error}", highlight=False)

    def rows(self, n: int) -> None:
        if self.task is None:
            self.task = self.progress.add_task("rows", total=None, unit="rows")
        self.progress.advance(self.task, n)


@app.command("batch")
def batch(
    source: Annotated[Path, typer.Argument(metavar="INPUT", help=INPUT_HELP)],
    output: Annotated[Path, typer.Option("-o", "--output", help=OUTPUT_HELP)],
    workers: Annotated[int | None, typer.Option(help="Local worker processes (default: one per core; 1 scores in "
                                                     "this process).", min=1)] = None,
    dask: Annotated[str | None, typer.Option(help="Score audio on Dask: a scheduler address (tcp://host:8786; the "
                                                  "workers must see the files) or local:N for a local cluster of N "
                                                  "processes.")] = None,
    catalog: Annotated[bool, typer.Option(help="Also save the scored tracks to the catalog (tracks already there "
                                               "are left as they are).")] = False,
    catalog_url: Annotated[str | None, typer.Option(help="Catalog database URL (implies --catalog; default "
                                                         "MER_DATABASE_URL or catalog.db in the project).")] = None,
    part_size: Annotated[int, typer.Option(help="Files per committed part: what a crash can cost at most.",
                                           min=1)] = 8,
    retry_errors: Annotated[bool, typer.Option(help="Try again the files an earlier run recorded as failing.")] = False,
    restart: Annotated[bool, typer.Option(help="Discard results made with other settings (e.g. an older model) "
                                               "instead of refusing to mix them.")] = False,
    threshold: Annotated[float | None, typer.Option(help="Accept threshold (default: params.yaml "
                                                         "decision.accept_threshold).")] = None,
    aggregate: Annotated[str | None, typer.Option(help="Windows → track: mean or vote (default: params.yaml "
                                                       "decision.aggregate).")] = None,
    alias: Annotated[str | None, typer.Option(help="Registry alias of the model to use (default: champion).")]
    = None,
    window: Annotated[float, typer.Option(help="Window length in s.")] = WINDOW_S,
    hop: Annotated[float, typer.Option(help="Seconds between window starts.")] = HOP_S,
    min_last: Annotated[float, typer.Option(help="Keep a final shorter window of at least this many s.")] = MIN_LAST_S,
    ood_margin: Annotated[float | None, typer.Option(help="Out-of-distribution margin (fraction of the UCI range; "
                                                          "default: params.yaml decision.ood_margin).")] = None,
) -> None:
    """Score many files with the champion: one Parquet row per window plus a track table; resumable.

    Killed half-way (even by kill -9)? Run the same command again: files already committed (by content hash) are
    skipped and the output ends with no missing and no duplicate rows.

    Examples: mer batch music/ -o out/scores.parquet --workers 2;
    mer batch music/ -o scores.parquet --dask local:2;  mer batch features.csv -o scored.parquet
    """
    from dataclasses import replace

    from mer.batch import (
        BatchInputError,
        BatchOptions,
        InputKind,
        JobMismatch,
        NoModel,
        OutputBusy,
        load_model,
        resolve_input,
    )
    from mer.batch.executors import LOCAL_PREFIX, parse_local_workers
    from mer.features.extract import check_settings

    try:
        scoring = settings.scoring_settings(alias=alias)
        scoring = replace(scoring, decision=scoring.decision.replace(
            accept_threshold=threshold, aggregate=aggregate, ood_margin=ood_margin))
    except settings.SettingsError as exc:
        fail(str(exc))
    refuse_stdout(output, "mer batch writes Parquet (with OUT.tracks.parquet, OUT.errors.csv and OUT.parts/ "
                          "beside it), which")
    if output.suffix.lower() != ".parquet":
        fail(f"{output}: the output must be a .parquet file")
    try:
        source_input = resolve_input(source)
        if dask and source_input.kind is InputKind.FEATURES:
            raise BatchInputError("--dask scores audio; a features CSV is scored locally (use --workers)")
        if dask and dask.startswith(LOCAL_PREFIX):
            parse_local_workers(dask)
        # bad settings would fail every file: stop here
        check_settings(window, hop, min_last, scoring.decision.ood_margin)
    except (BatchInputError, OSError, ValueError) as exc:
        fail(str(exc))
    options = BatchOptions(
        workers=workers, dask=dask, part_size=part_size, retry_errors=retry_errors, restart=restart,
        catalog=catalog or catalog_url is not None, catalog_url=catalog_url,
        decision=scoring.decision,
        extract_options={"window_s": window, "hop_s": hop, "min_last_s": min_last},
    )
    try:
        loaded = load_model(scoring.model)
    except NoModel as exc:
        fail(str(exc))
    console.print(f"model {loaded.name} version {loaded.version} (@{loaded.alias}); input: {source_input.kind.value} "
                  f"{source}" + (f" ({len(source_input.audio)} files)" if source_input.audio else ""), highlight=False,
                  soft_wrap=True)
    from mer.batch import run_batch

    bar = make_progress(console, "batch", unit="files")  # a live bar on a terminal, plain lines in a log
    try:
        with bar:
            report = run_batch(source_input, output, loaded, options, _RichReporter(bar))
    except (JobMismatch, OutputBusy) as exc:
        fail(str(exc))
    if report.kind is InputKind.FEATURES:
        console.print(f"{report.rows_scored} rows scored in {report.seconds:.1f} s "
                      f"({report.rows_scored / max(report.seconds, 1e-9):,.0f} rows/s): {report.rows_accepted} "
                      f"accepted, {report.rows_review} to review, {report.rows_unscorable} unscorable (see reason). "
                      f"Wrote {output}", highlight=False, soft_wrap=True)
        return
    merge = report.merge
    assert merge is not None
    console.print(
        f"{report.scored} files scored, {report.failed} failed, {report.skipped_done} already done"
        + (f", {report.duplicate_content} repeats of other files' content" if report.duplicate_content else "")
        + f" in {report.seconds:.1f} s"
        + (f" ({report.audio_s / report.seconds:.1f}x realtime)" if report.audio_s and report.seconds else "")
        + f". Output: {merge.windows} windows of {merge.tracks} tracks -> {output}"
        + (f"; {merge.errors} errors -> {output.with_suffix('.errors.csv')}" if merge.errors else "")
        + (f"; {report.catalog_saved} tracks saved to the catalog" if options.catalog else "")
        + ("" if merge.written else " (unchanged)"),
        highlight=False, soft_wrap=True,
    )
    if report.all_failed:
        fail(f"every file failed: no track scored ({merge.errors} errors in {output.with_suffix('.errors.csv')})")
