"""Progress for the commands: a live rich bar on a terminal, plain periodic lines in logs (see :mod:`mer.progress`)."""

from __future__ import annotations

import time
from datetime import timedelta

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from mer.progress import PlainProgress


class _LiveProgress(Progress):
    """rich's Progress taking ``eta_s=`` (the caller's estimate of the seconds left) like :class:`PlainProgress`."""

    def update(self, task_id, **kwargs) -> None:  # type: ignore[override]
        if "eta_s" in kwargs:
            eta = kwargs.pop("eta_s")
            kwargs["eta_deadline"] = None if eta is None else time.monotonic() + eta
        super().update(task_id, **kwargs)


class _TimeLeftColumn(TimeRemainingColumn):
    """The caller's estimate of the time left when it gave one (counting down between updates), else rich's."""

    def render(self, task: Task) -> Text:
        if "eta_deadline" not in task.fields:
            return super().render(task)
        deadline = task.fields["eta_deadline"]
        if deadline is None:
            return Text("-:--:--", style="progress.remaining")
        return Text(str(timedelta(seconds=round(max(0.0, deadline - time.monotonic())))), style="progress.remaining")


def is_live(console: Console) -> bool:
    """True when ``console`` writes to a terminal that can redraw a bar in place."""
    return console.is_terminal and not console.is_dumb_terminal


def make_progress(console: Console, label: str, unit: str = "items", *, transient: bool = False,
                  every_s: float | None = None) -> Progress | PlainProgress:
    """A rich progress bar (description, bar, done/total, elapsed, time left) when ``console`` is a terminal, else a
    :class:`~mer.progress.PlainProgress` writing ``label: description done/total unit (pct %), rate, eta`` lines
    to the same console. Both take ``add_task(description, total=..., unit=...)``, ``advance``, ``update`` (with
    ``eta_s=`` when the caller estimates the time left itself), ``remove_task`` and ``console.print``."""
    if is_live(console):
        return _LiveProgress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                             MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("left"), _TimeLeftColumn(),
                             console=console, transient=transient)
    return PlainProgress(label, lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True),
                         unit=unit, every_s=every_s, console=console)
