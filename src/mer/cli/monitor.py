"""``mer monitor``: drift, class mix, verdict shares and feedback quality of the catalog over a period."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from mer.cli.app import app, fail

console = Console(stderr=True)


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r}: not a date or time (ISO 8601, e.g. 2026-12-01 or 2026-12-01T08:00:00+00:00)")


@app.command()
def monitor(
    db: Annotated[str | None, typer.Option("--db", help="Database URL (default: MER_DATABASE_URL, else "
                                                         "sqlite:///<project root>/catalog.db).")] = None,
    since: Annotated[str | None, typer.Option(help="Windows whose latest verdict was made at or after this time "
                                                   "(ISO 8601; naive times are UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="... and before this time.")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Self-contained HTML report.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="The report as JSON.")] = None,
) -> None:
    """Compare the catalog's windows of a period with the served model's training rows: per-feature drift (PSI, KS
    with a multiple-testing correction), class mix, OOD/unscorable/review shares, confidence, and accuracy, macro-F1,
    accepted precision and ECE on items with feedback; alerts on the thresholds of params.yaml (monitor)."""
    from sqlalchemy.exc import SQLAlchemyError

    from mer import settings
    from mer.catalog import has_catalog
    from mer.catalog.engine import redact_secrets, redact_url
    from mer.monitor.catalog import build_report
    from mer.monitor.html import render_html

    start, end = _when(since, "--since"), _when(until, "--until")
    params = settings.load_params()
    url = db or settings.database_url()
    try:
        if not has_catalog(url):
            fail(f"no catalog at {redact_url(url)} (create one with `mer db upgrade`, fill it with `mer batch "
                 f"--catalog` or uploads)", code=2)
        report, reference, windows = build_report(url, params, start, end)
    except FileNotFoundError as exc:
        fail(str(exc), code=2)
    except SQLAlchemyError as exc:
        fail(f"cannot read {redact_url(url)}: {redact_secrets(str(exc).splitlines()[0])}")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(render_html(report, reference, windows), encoding="utf-8")
    n = report["windows"]["n"]
    console.print(f"{n} windows, {len(report['drifted'])} drifted features, {len(report['alerts'])} alerts",
                  highlight=False)
    for alert in report["alerts"]:
        console.print(f"  [yellow]alert[/] {alert['kind']}: {alert['message']}", highlight=False, soft_wrap=True)
    if output is None and json_out is None:
        typer.echo(json.dumps({k: report[k] for k in ("windows", "drifted", "shares", "alerts")}, indent=2))
