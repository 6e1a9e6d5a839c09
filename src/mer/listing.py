"""Finding audio files in folders (``mer features``, ``mer batch``): what cannot be opened is reported, not skipped."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def scan_audio(folder: Path, extensions: Iterable[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files under ``folder`` (recursively) whose extension is one of ``extensions`` (case-insensitive), in a stable
    order, and (path, reason) for entries with such an extension that cannot be opened: broken or looping
    symbolic links."""
    exts = {e.lower() for e in extensions}
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    for p in sorted(folder.rglob("*")):
        if p.suffix.lower() not in exts:
            continue
        if p.is_file():
            files.append(p)
        elif p.is_symlink() and not p.exists():
            problems.append((str(p), f"broken symbolic link (to {link_target(p)})"))
    return files, problems


def link_target(link: Path) -> str:
    """Where a symbolic link points, for messages."""
    try:
        return str(link.readlink())
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
