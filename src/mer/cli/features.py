"""``mer features``: audio files and folders → a CSV of the 50 MIRtoolbox features per 30-s window."""

from __future__ import annotations

import contextlib
import csv
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress

from mer.cli.app import app, fail, is_stdout
from mer.cli.progress import make_progress

console = Console(stderr=True)
ERROR_COLUMNS = ("file", "error")
# The library's defaults, repeated only so ``mer --help`` needs no numpy/pandas import; a test keeps them
# equal.
WINDOW_S, HOP_S, MIN_LAST_S, OOD_MARGIN = 30.0, 30.0, 10.0, 0.1

INPUTS_HELP = "Audio files and/or folders (searched recursively for .wav .flac .ogg .mp3 .aiff .opus .m4a .aac)."
OUTPUT_HELP = ("CSV to write: file, start_s, end_s, the 50 features in UCI order, partial, ood, ood_features "
               "('-': standard output).")
WINDOW_HELP = "Window length in s (UCI excerpts: 30 s); a file no longer than this gives one whole-file row."
HOP_HELP = "Seconds between window starts; less than --window makes windows overlap."
MIN_LAST_HELP = "Keep a long file's final, shorter window if it lasts this many seconds (flagged partial)."
OOD_HELP = (
    "Flag a feature out of distribution beyond its UCI range widened by this fraction of the range on each "
    "side; NaN features are always flagged."
)
ERRORS_HELP = ("CSV of the files that gave no rows (file, error); default: OUTPUT with suffix .errors.csv (none for "
               "-o -: the errors are on stderr).")


def audio_files(
    inputs: Iterable[Path], extensions: Iterable[str]
) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to process (folders searched recursively for ``extensions``, case-insensitively; files named
    explicitly are taken whatever their extension) and (path, reason) for inputs that do not exist and for broken
    symbolic links."""
    from mer.listing import scan_audio

    files: list[Path] = []
    missing: list[tuple[str, str]] = []
    for item in inputs:
        if item.is_dir():
            found, problems = scan_audio(item, extensions)
            files.extend(found)
            missing.extend(problems)
        elif item.is_file():
            files.append(item)
        elif item.is_symlink():
            missing.append((str(item), "broken symbolic link"))
        else:
            missing.append((str(item), "no such file or directory"))
    return list(dict.fromkeys(files)), missing


@app.command("features")
def features(
    inputs: Annotated[list[Path], typer.Argument(metavar="AUDIO_OR_DIR...", help=INPUTS_HELP)],
    output: Annotated[Path, typer.Option("-o", "--output", help=OUTPUT_HELP)],
    window: Annotated[float, typer.Option("--window", help=WINDOW_HELP)] = WINDOW_S,
    hop: Annotated[float, typer.Option("--hop", help=HOP_HELP)] = HOP_S,
    min_last: Annotated[float, typer.Option("--min-last", help=MIN_LAST_HELP)] = MIN_LAST_S,
    ood_margin: Annotated[float, typer.Option("--ood-margin", help=OOD_HELP)] = OOD_MARGIN,
    errors: Annotated[Path | None, typer.Option("--errors", help=ERRORS_HELP)] = None,
) -> None:
    """Extract MIRtoolbox 1.7.1's 50 features from audio, one row per window, analysed at 44.1 kHz.

    Channels are averaged to mono and other rates resampled to 44.1 kHz (a 44.1 kHz file is analysed as it is); the
    file's rate must be at least 16 kHz and a file at least 1 s long.
    A file that cannot be read is reported and skipped; the command fails (exit 1) only if no file succeeded.

    Example: mer features music/ extra.mp3 -o features.csv --window 30 --hop 15
    """
    from mer.features.audio import AUDIO_EXTENSIONS
    from mer.features.extract import COLUMNS, check_settings, extract_many

    try:
        check_settings(window, hop, min_last, ood_margin)
    except ValueError as exc:
        fail(str(exc))
    files, failed = audio_files(inputs, AUDIO_EXTENSIONS)
    for path, reason in failed:
        console.print(f"[red]error[/] {path}: {reason}", highlight=False)
    if not files:
        fail(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) found in: {', '.join(map(str, inputs))}")
    to_stdout = is_stdout(output)
    if errors is None and not to_stdout:
        errors = output.with_suffix(".errors.csv")
    if not to_stdout:
        output.parent.mkdir(parents=True, exist_ok=True)

    n_ok = n_rows = n_ood = 0
    progress = make_progress(console, "features", unit="files")
    live = isinstance(progress, Progress)
    # header first: a run in which every file fails leaves no stale rows behind
    with contextlib.ExitStack() as stack:
        fh = sys.stdout if to_stdout else stack.enter_context(output.open("w", newline=""))
        csv.writer(fh).writerow(COLUMNS)
        fh.flush()
        with progress:
            task = progress.add_task("extracting", total=len(files))
            results = extract_many(files, window_s=window, hop_s=hop, min_last_s=min_last, ood_margin=ood_margin)
            for result in results:
                # in a log, one line per file would drown the rest: the plain lines keep one description
                progress.update(task, advance=1, **({"description": Path(result.file).name} if live else {}))
                if result.ok:
                    assert result.rows is not None
                    result.rows.to_csv(fh, header=False, index=False, columns=list(COLUMNS))
                    fh.flush()
                    n_ok += 1
                    n_rows += len(result.rows)
                    n_ood += int(result.rows["ood"].sum())
                else:
                    failed.append((result.file, result.error or "unknown error"))
                    progress.console.print(f"[red]error[/] {result.file}: {result.error}", highlight=False)

    if errors is not None:
        with errors.open("w", newline="") as efh:
            writer = csv.writer(efh)
            writer.writerow(ERROR_COLUMNS)
            writer.writerows(failed)
    see = f" (see {errors})" if errors is not None else " (listed above)"
    if n_ok == 0:
        fail(f"no file succeeded ({len(failed)} errors{see})")
    console.print(
        f"[green]{n_rows}[/] rows from {n_ok} files -> {'standard output' if to_stdout else output}; {n_ood} rows "
        f"flagged out of distribution; {len(failed)} files failed" + (see if failed else "."),
        highlight=False, soft_wrap=True,
    )
