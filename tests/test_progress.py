"""Progress lines for logs (``mer.progress``) and the choice between them and a live bar (``mer.cli.progress``)."""

from __future__ import annotations

import io

from rich.console import Console
from rich.progress import Progress

from mer.cli.progress import make_progress
from mer.progress import PlainProgress, duration, progress_line


def test_a_line_says_how_far_how_fast_and_how_long() -> None:
    line = progress_line("batch", "scoring", 120, 500, "files", 38.7)
    assert line == "batch: scoring 120/500 files (24 %), 3.1 files/s, elapsed 39s, eta 2m03s"
    assert progress_line("training", "cross-validation", 3, 32, "fits", 45.0) == (
        "training: cross-validation 3/32 fits (9 %), 15.0 s per fit, elapsed 45s, eta 7m15s")
    assert progress_line("batch", "rows", 50_000, None, "rows", 2.0) == (
        "batch: rows 50,000 rows, 25,000.0 rows/s, elapsed 2s")
    assert progress_line("batch", "hashing", 0, 10, "files", 0.0) == "batch: hashing 0/10 files (0 %), elapsed 0s"
    assert [duration(s) for s in (0.4, 59, 61, 3599, 3725)] == ["0s", "59s", "1m01s", "59m59s", "1h02m"]


def test_lines_are_periodic_and_the_last_state_is_always_written() -> None:
    lines: list[str] = []
    with PlainProgress("batch", lines.append, unit="files", every_s=3600) as bar:
        task = bar.add_task("hashing", total=4)
        for _ in range(4):
            bar.advance(task)
        bar.remove_task(task)
        task = bar.add_task("scoring", total=3)
        bar.advance(task)
        bar.update(task, advance=1, description="scoring again")  # a new description is always shown
        bar.advance(task)
    assert [line.split(",")[0] for line in lines] == [
        "batch: hashing 1/4 files (25 %)", "batch: hashing 4/4 files (100 %)",
        "batch: scoring 1/3 files (33 %)", "batch: scoring again 2/3 files (67 %)",
        "batch: scoring again 3/3 files (100 %)"]


def test_an_error_leaves_no_last_progress_line() -> None:
    lines: list[str] = []
    try:
        with PlainProgress("x", lines.append, every_s=3600) as bar:
            bar.advance(bar.add_task("work", total=9))
            bar.advance(99)  # no such task
    except KeyError:
        pass
    assert len(lines) == 1


def test_a_terminal_gets_a_live_bar_and_a_file_gets_plain_lines(monkeypatch) -> None:
    monkeypatch.setenv("MER_PROGRESS_SECONDS", "0")
    terminal = Console(file=io.StringIO(), force_terminal=True)
    assert isinstance(make_progress(terminal, "batch"), Progress)
    log = io.StringIO()
    plain = make_progress(Console(file=log, force_terminal=False, width=40), "batch", unit="files")
    assert isinstance(plain, PlainProgress) and plain.console is not None
    with plain:
        task = plain.add_task("scoring", total=2)
        plain.advance(task)
        plain.advance(task)
    text = log.getvalue()
    assert text.splitlines()[-1].startswith("batch: scoring 2/2 files (100 %), ")  # one line each, never wrapped
    assert "\x1b[" not in text


def test_a_callers_estimate_of_the_time_left_replaces_the_rate() -> None:
    lines: list[str] = []
    with PlainProgress("training", lines.append, unit="fits", every_s=0) as bar:
        task = bar.add_task("cross-validation", total=32)
        bar.update(task, completed=1, eta_s=None)
        bar.update(task, completed=2, eta_s=125.0)
    assert lines[0].startswith("training: cross-validation 1/32 fits (3 %), ") and "eta" in lines[0]
    assert lines[1].startswith("training: cross-validation 2/32 fits (6 %), elapsed 0s, eta 2m0")  # 2m05s or 2m04s
    terminal = Console(file=io.StringIO(), force_terminal=True, width=120)
    live = make_progress(terminal, "training")
    with live:
        task = live.add_task("cross-validation", total=32)
        live.update(task, completed=2, eta_s=3725.0)
        left = live.columns[-1].render(live.tasks[0]).plain
    assert left in ("1:02:05", "1:02:04")
