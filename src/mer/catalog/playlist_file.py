"""Playlist files from :func:`mer.catalog.store.playlist` items: extended M3U, or CSV for spreadsheets."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CSV_COLUMNS: tuple[str, ...] = ("rank", "track_id", "path", "duration_s", "probability", "label", "confidence",
                                "decision")


def _one_line(text: str) -> str:
    """M3U is line-based: a path or title with a line break would corrupt every entry after it."""
    return " ".join(str(text).splitlines())


def write_m3u(items: Sequence[dict[str, Any]], out: Path, mood: str) -> None:
    """``#EXTM3U`` then, per track, ``#EXTINF:<whole seconds>,<title>`` and its path (UTF-8)."""
    lines = ["#EXTM3U", f"#PLAYLIST:{mood}"]
    for item in items:
        seconds = round(item["duration_s"]) if item.get("duration_s") is not None else -1
        title = f"{Path(item['path']).stem} ({mood} {item['probability']:.2f})"
        lines += [f"#EXTINF:{seconds},{_one_line(title)}", _one_line(item["path"])]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_csv(items: Sequence[dict[str, Any]], out: Path) -> None:
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(CSV_COLUMNS), extrasaction="ignore")
        writer.writeheader()
        for rank, item in enumerate(items, start=1):
            writer.writerow({"rank": rank, **item})


def write_playlist(items: Sequence[dict[str, Any]], out: Path, mood: str) -> str:
    """Write ``items`` to ``out`` as CSV when its name ends in ``.csv``, else as M3U; return the format used."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        write_csv(items, out)
        return "csv"
    write_m3u(items, out, mood)
    return "m3u"
