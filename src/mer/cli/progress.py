"""Progress for the commands: a live rich bar on a terminal, plain periodic lines in logs (see :mod:`mer.progress`)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from mer.progress import PlainProgress


def is_live(console: Console) -> bool:
    """True when ``console`` writes to a terminal that can redraw a bar in place."""
    return console.is_terminal and not console.is_dumb_terminal


def make_progress(console: Console, label: str, unit: str = "items", *, transient: bool = False,
                  every_s: float | None = None) -> Progress | PlainProgress:
    """A rich progress bar (description, bar, done/total, elapsed, time left) when ``console`` is a terminal, else a
    :class:`~mer.progress.PlainProgress` writing ``label: description done/total unit (pct %), rate, eta`` lines
    to the same console. Both take ``add_task(description, total=..., unit=...)``, ``advance``, ``update``,
    ``remove_task`` and ``console.print``."""
    if is_live(console):
        return Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(), console=console,
                        transient=transient)
    return PlainProgress(label, lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True),
                         unit=unit, every_s=every_s, console=console)
