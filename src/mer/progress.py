"""Progress for logs: plain, periodic lines such as
``batch: scoring 120/500 files (24 %), 3.1 files/s, elapsed 39s, eta 2m03s``.

A terminal gets a live bar (rich, in the CLI); standard error redirected to a file or a pipe (``nohup``, systemd,
CI, a container log) gets these lines instead, at most one every ``MER_PROGRESS_SECONDS`` (default 10) seconds per
task, plus one whenever the task's description changes and one when it ends.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_EVERY_S = 10.0


def every_seconds() -> float:
    """Seconds between two plain progress lines of one task: ``MER_PROGRESS_SECONDS``, else 10."""
    try:
        return max(0.0, float(os.environ.get("MER_PROGRESS_SECONDS", DEFAULT_EVERY_S)))
    except ValueError:
        return DEFAULT_EVERY_S


def duration(seconds: float) -> str:
    """``45s``, ``2m04s``, ``1h02m``: short enough for a progress line."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def _rate(done: float, elapsed: float, unit: str) -> str:
    per_s = done / elapsed if elapsed > 0 else float("inf")
    if per_s >= 1:
        return f"{per_s:,.1f} {unit}/s"
    return f"{1 / per_s:.1f} s per {unit.removesuffix('s') or unit}"


def progress_line(label: str, description: str, done: float, total: float | None, unit: str, elapsed: float,
                  left: float | None = None) -> str:
    """One line: what, how far, how fast, how long until done — ``left`` when the caller knows better (training
    estimates it from fit times), else from the mean rate since the task started."""
    head = f"{label}: {description} " if description else f"{label}: "
    count = f"{done:,.0f}/{total:,.0f} {unit} ({100.0 * done / total:.0f} %)" if total else f"{done:,.0f} {unit}"
    if left is not None:
        return f"{head}{count}, elapsed {duration(elapsed)}, eta {duration(left)}"
    if done <= 0:
        return f"{head}{count}, elapsed {duration(elapsed)}"
    eta = f", eta {duration(elapsed / done * (total - done))}" if total else ""
    return f"{head}{count}, {_rate(done, elapsed, unit)}, elapsed {duration(elapsed)}{eta}"


@dataclass
class LineTask:
    """One task's state for :class:`PlainProgress`."""

    description: str
    total: float | None
    unit: str
    started: float = field(default_factory=time.monotonic)
    completed: float = 0.0
    last_line: float = float("-inf")
    shown: tuple | None = None  # (description, completed) of the last line written
    deadline: float | None = None  # monotonic time the caller expects the task to end (``eta_s`` given)

    def line(self, label: str) -> str:
        now = time.monotonic()
        left = None if self.deadline is None else max(0.0, self.deadline - now)
        return progress_line(label, self.description, self.completed, self.total, self.unit, now - self.started,
                             left)


class PlainProgress:
    """The small part of ``rich.progress.Progress``'s API mer uses, writing plain periodic lines through ``write``.

    ``add_task(description, total=None, unit=...)``, ``advance``, ``update`` (``eta_s=``: the caller's own estimate
    of the seconds left, used instead of the rate), ``remove_task``, and use as a context manager; a task's last state
    is always written when it is removed or the context ends.
    """

    def __init__(self, label: str, write: Callable[[str], None], unit: str = "items", every_s: float | None = None,
                 console: Any = None):
        self.label, self.write, self.unit = label, write, unit
        self.console = console  # what callers print other messages through (rich's Progress has one too)
        self.every_s = every_seconds() if every_s is None else every_s
        self.tasks: dict[int, LineTask] = {}
        self._next_id = 0

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        if exc_type is not None:  # the error says what happened; a last progress line would only bury it
            self.tasks.clear()
        for task_id in list(self.tasks):
            self.remove_task(task_id)

    def add_task(self, description: str, total: float | None = None, completed: float = 0, unit: str | None = None,
                 **_fields) -> int:
        task_id = self._next_id
        self._next_id += 1
        self.tasks[task_id] = LineTask(description, total, unit or self.unit, completed=completed)
        return task_id

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def update(self, task_id: int, *, advance: float | None = None, completed: float | None = None,
               total: float | None = None, description: str | None = None, **fields) -> None:
        task = self.tasks[task_id]
        if "eta_s" in fields:
            task.deadline = None if fields["eta_s"] is None else time.monotonic() + fields["eta_s"]
        changed = description is not None and description != task.description
        if description is not None:
            task.description = description
        if total is not None:
            task.total = total
        if completed is not None:
            task.completed = completed
        if advance:
            task.completed += advance
        now = time.monotonic()
        if changed or now - task.last_line >= self.every_s:
            self._show(task, now)

    def remove_task(self, task_id: int) -> None:
        task = self.tasks.pop(task_id)
        if task.shown != (task.description, task.completed):
            self._show(task, time.monotonic())

    def _show(self, task: LineTask, now: float) -> None:
        self.write(task.line(self.label))
        task.last_line, task.shown = now, (task.description, task.completed)
