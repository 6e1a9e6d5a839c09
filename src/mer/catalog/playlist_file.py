"""Playlist files from :func:`mer.catalog.store.playlist` items: extended M3U, or CSV for spreadsheets."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

CSV_COLUMNS: tuple[str, ...] = ("rank", "track_id", "path", "duration_s", "probability", "label", "confidence",
                                "decision")


def _one_line(text: str) -> str:
    """M3U is line-based: a path or title with a line break would corrupt every entry after it."""
    return " ".join(str(text).splitlines())


def write_m3u(items: Sequence[dict[str, Any]], out: Path | TextIO, mood: str) -> None:
    """``#EXTM3U`` then, per track, ``#EXTINF:<whole seconds>,<title>`` and its path (UTF-8)."""
    lines = ["#EXTM3U", f"#PLAYLIST:{mood}"]
    for item in items:
        seconds = round(item["duration_s"]) if item.get("duration_s") is not None else -1
        title = f"{Path(item['path']).stem} ({mood} {item['probability']:.2f})"
        lines += [f"#EXTINF:{seconds},{_one_line(title)}", _one_line(item["path"])]
    with _opened(out) as fh:
        fh.write("\n".join(lines) + "\n")


def write_csv(items: Sequence[dict[str, Any]], out: Path | TextIO) -> None:
    with _opened(out) as fh:
        writer = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        for rank, item in enumerate(items, start=1):
            writer.writerow({"rank": rank, **item})


@contextmanager
def _opened(out: Path | TextIO) -> Iterator[TextIO]:
    """A file opened for writing (UTF-8, no newline translation), or a given stream left open."""
    if isinstance(out, Path):
        with open(out, "w", newline="", encoding="utf-8") as fh:
            yield fh
    else:
        yield out
        out.flush()


def write_playlist(items: Sequence[dict[str, Any]], out: Path, mood: str, as_csv: bool = False) -> str:
    """Write ``items`` to ``out`` as CSV when its name ends in ``.csv`` (or ``as_csv``), else as M3U; ``-`` is
    standard output. Return the format used."""
    target: Path | TextIO = sys.stdout if str(out) == "-" else out
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
    if as_csv or out.suffix.lower() == ".csv":
        write_csv(items, target)
        return "csv"
    write_m3u(items, target, mood)
    return "m3u"
