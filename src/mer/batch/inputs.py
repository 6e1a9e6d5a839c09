"""What ``mer batch`` was given: a folder of audio, a manifest CSV of paths, a features CSV, or one audio file.

A CSV is told apart by its header, not its name: enough of the 50 feature columns (the threshold the cleaning step
uses) makes it a features table, a ``path`` column makes it a manifest. Manifest paths may be relative: they are
resolved against the manifest's own folder, so a manifest travels with the audio it lists.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from mer.data.csvio import CsvDialect, InputError, sniff
from mer.features.audio import AUDIO_EXTENSIONS
from mer.listing import scan_audio
from mer.schema import FEATURE_NAMES

MIN_FEATURE_COLUMNS = 25  # the same bar as mer.data.cleaning: fewer recognised columns is not a feature table
PATH_COLUMN = "path"
_SNIFF_BYTES = 1 << 16


class BatchInputError(ValueError):
    """An input ``mer batch`` cannot use at all; the message says why in one line."""


class InputKind(StrEnum):
    AUDIO = "audio"  # a folder, a manifest or one file: scored by extracting features from the audio
    FEATURES = "features"  # a CSV of feature rows: scored directly


@dataclass
class BatchInput:
    """The resolved input: audio paths (with per-path problems found while listing) or a features CSV."""

    source: Path
    kind: InputKind
    audio: list[Path] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) for listed paths that are unusable
    dialect: CsvDialect | None = None


def column_key(name: str) -> str:
    """Header spelling → comparison key (case, spaces and punctuation ignored), as the cleaning step matches."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


FEATURE_KEYS: dict[str, str] = {column_key(n): n for n in FEATURE_NAMES}


def sniff_csv(path: Path) -> CsvDialect:
    """Encoding, separator and header of a CSV (:func:`mer.data.csvio.sniff`, the one CSV reader)."""
    try:
        return sniff(path)
    except InputError as exc:
        raise BatchInputError(str(exc)) from exc


def feature_columns(header: list[str]) -> dict[str, str]:
    """Header cell → schema feature name, for the cells that name one of the 50 features (first spelling wins)."""
    found: dict[str, str] = {}
    for cell in header:
        name = FEATURE_KEYS.get(column_key(cell))
        if name is not None and name not in found.values():
            found[cell] = name
    return found


def list_audio(folder: Path) -> list[Path]:
    """Audio files under ``folder`` (recursively, extensions case-insensitive), in a stable order."""
    return scan_audio(folder, AUDIO_EXTENSIONS)[0]


def read_manifest(path: Path, dialect: CsvDialect) -> tuple[list[Path], list[tuple[str, str]]]:
    """The ``path`` column of a manifest, relative entries resolved against the manifest's folder."""
    text = path.read_text(encoding=dialect.encoding)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=dialect.delimiter)
    assert reader.fieldnames is not None
    column = next(c for c in reader.fieldnames if column_key(c) == PATH_COLUMN)
    files: list[Path] = []
    problems: list[tuple[str, str]] = []
    for row in reader:
        cell = (row.get(column) or "").strip()
        if not cell:
            continue
        p = Path(cell).expanduser()
        p = p if p.is_absolute() else path.parent / p
        if p.is_file():
            files.append(p)
        else:
            problems.append((str(p), "no such file" if not p.exists() else "not a file"))
    return list(dict.fromkeys(files)), problems


def resolve_input(source: str | Path) -> BatchInput:
    """Decide what ``source`` is and list its audio files (or keep its CSV dialect for feature rows).

    Paths are made absolute: they identify the files in the output whatever the working directory of a rerun, and
    a Dask worker elsewhere needs them so.
    """
    source = Path(source).expanduser().absolute()
    if source.is_dir():
        files, problems = scan_audio(source, AUDIO_EXTENSIONS)
        if not files and not problems:
            raise BatchInputError(f"{source}: no audio files ({' '.join(AUDIO_EXTENSIONS)}) in this folder")
        return BatchInput(source, InputKind.AUDIO, audio=files, problems=problems)
    if not source.is_file():
        raise BatchInputError(f"{source}: no such file or folder")
    if source.suffix.lower() in AUDIO_EXTENSIONS:
        return BatchInput(source, InputKind.AUDIO, audio=[source])
    dialect = sniff_csv(source)
    if len(feature_columns(dialect.header)) >= MIN_FEATURE_COLUMNS:
        return BatchInput(source, InputKind.FEATURES, dialect=dialect)
    if any(column_key(c) == PATH_COLUMN for c in dialect.header):
        files, problems = read_manifest(source, dialect)
        if not files and not problems:
            raise BatchInputError(f"{source}: the manifest lists no paths")
        return BatchInput(source, InputKind.AUDIO, audio=files, problems=problems, dialect=dialect)
    raise BatchInputError(
        f"{source}: neither a features CSV (only {len(feature_columns(dialect.header))} of the 50 feature columns "
        f"recognised, need {MIN_FEATURE_COLUMNS}) nor a manifest (no '{PATH_COLUMN}' column)"
    )
