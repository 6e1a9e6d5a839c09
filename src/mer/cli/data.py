"""Commands on tabular data: ``mer clean`` and ``mer eda``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mer.cli.app import app, fail
from mer.data.csvio import InputError

console = Console(stderr=True)


@app.command()
def clean(
    input_csv: Annotated[Path, typer.Argument(help="Feature table to clean (any CSV dialect, columns in any order).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Cleaned CSV: Class, the 50 features, dup_group, "
                                                                "source_line.")],
    report: Annotated[Path | None, typer.Option(help="JSON report of every dropped row and changed cell "
                                                     "(default: OUT.report.json).")] = None,
) -> None:
    """Normalise labels, parse numbers, mark duplicates, drop only rows without a usable label — and report it."""
    from mer.pipeline import clean_file

    report = report or output.with_suffix(".report.json")
    try:
        rep = clean_file(input_csv, output, report)
    except InputError as exc:
        fail(str(exc))
    console.print(
        f"[green]{rep['rows_out']}[/] of {rep['rows_in']} rows kept, {len(rep['dropped'])} dropped, "
        f"{len(rep['changed'])} rows with changed cells, {rep['duplicate_rows']} exact duplicates marked; "
        f"junk columns dropped: {', '.join(rep['columns_dropped']) or 'none'}. Report: {report}"
    )


@app.command()
def eda(
    input_csv: Annotated[Path | None, typer.Option("--input", help="Cleaned table (default: the cleaned UCI file).")
                         ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the PNGs and index.html.")] = Path("reports/eda"),
) -> None:
    """Exploratory report: class balance, correlations, PCA variance, outliers before/after IQR capping."""
    from mer.eda import eda_report
    from mer.pipeline import cleaned

    if input_csv is None:
        input_csv = cleaned("uci")
    try:
        page = eda_report(input_csv, out_dir)
    except (InputError, ValueError) as exc:
        fail(str(exc))
    console.print(f"EDA report: {page}")
