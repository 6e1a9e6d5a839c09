"""Commands on tabular data: ``mer clean`` and ``mer eda``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mer.cli.app import app, fail, is_stdout, write_frame_csv
from mer.data.csvio import InputError

console = Console(stderr=True)


@app.command()
def clean(
    input_csv: Annotated[Path, typer.Argument(help="Feature table to clean (any CSV dialect, columns in any order).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Cleaned CSV: Class, the 50 features, dup_group, "
                                                                "source_line ('-': standard output).")],
    report: Annotated[Path | None, typer.Option(help="JSON report of every dropped row and changed cell "
                                                     "(default: OUT.report.json; none for -o - unless given).")
                      ] = None,
) -> None:
    """Normalise labels, parse numbers, mark duplicates, drop only rows without a usable label — and report it."""
    from mer.pipeline import clean_file

    if is_stdout(output):
        from mer.data.cleaning import clean_table

        try:
            result = clean_table(input_csv)
        except InputError as exc:
            fail(str(exc))
        write_frame_csv(result.table, output)
        rep = result.report.to_dict()
        if report is not None:
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(json.dumps(rep, indent=2) + "\n", encoding="utf-8")
    else:
        report = report or output.with_suffix(".report.json")
        try:
            rep = clean_file(input_csv, output, report)
        except InputError as exc:
            fail(str(exc))
    console.print(
        f"[green]{rep['rows_out']}[/] of {rep['rows_in']} rows kept, {len(rep['dropped'])} dropped, "
        f"{len(rep['changed'])} rows with changed cells, {rep['duplicate_rows']} exact duplicates marked; "
        f"junk columns dropped: {', '.join(rep['columns_dropped']) or 'none'}. Report: {report or 'not written'}",
        soft_wrap=True,
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
        from mer import settings

        settings.require_project()  # the default input is the project's cleaned UCI table
        input_csv = cleaned("uci")
    try:
        page = eda_report(input_csv, out_dir)
    except (InputError, ValueError) as exc:
        fail(str(exc))
    console.print(f"EDA report: {page}")
