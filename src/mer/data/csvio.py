"""Reading a user's CSV whatever its dialect: encoding, BOM, separator, line endings, with source line numbers.

The one CSV reader of the project: ``mer clean`` (:func:`read_csv_records`), and ``mer predict`` and ``mer batch``
(:func:`iter_records`, streaming) read through it, so a malformed file gives the same records at every door.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_SNIFF_BYTES = 1 << 16


class InputError(ValueError):
    """Input that cannot be used at all; the message is one line saying why."""


@dataclass
class RawTable:
    """A CSV as strings: header, records and the 1-based line in the file where each record starts."""

    header: list[str]
    records: list[list[str]]
    lines: list[int]
    delimiter: str


@dataclass
class CsvDialect:
    """What is needed to stream a CSV: its encoding, separator and header cells."""

    encoding: str
    delimiter: str
    header: list[str]


def _decode_as(raw: bytes, path: Path) -> tuple[str, str]:
    if b"\x00" in raw[:4096]:
        raise InputError(f"{path}: not a CSV (binary content)")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path}: not a CSV (undecodable text)")  # pragma: no cover - latin-1 decodes anything


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        first = text.splitlines()[0] if text else ""
        counts = {d: first.count(d) for d in ",;\t|"}
        return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def read_csv_records(path: str | Path) -> RawTable:
    """Read ``path`` into strings, sniffing encoding and separator; CRLF and BOM are handled. The same records and
    lines as the streaming :func:`iter_records` that ``mer predict`` and ``mer batch`` use (it is built on it)."""
    dialect = sniff(path)
    records: list[list[str]] = []
    lines: list[int] = []
    for chunk, starts in iter_records(path, dialect):
        records += chunk
        lines += starts
    return RawTable(header=dialect.header, records=records, lines=lines, delimiter=dialect.delimiter)


def sniff(path: str | Path) -> CsvDialect:
    """Encoding, separator and header of a CSV from its first 64 KiB (what :func:`iter_records` needs)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    text, encoding = _decode_as(raw, path)
    if len(raw) == _SNIFF_BYTES:  # a multi-byte character may be cut at the end of the sample
        text, encoding = _decode_as(raw[:-4], path)
    lines = text.splitlines()
    if len(raw) == _SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut mid-way
    sample = "\n".join(lines[:50])
    if not sample.strip():
        raise InputError(f"{path}: empty file")
    delimiter = _sniff_delimiter(sample)
    header = next((row for row in csv.reader(io.StringIO(sample), delimiter=delimiter)
                   if any(c.strip() for c in row)), None)
    if header is None:
        raise InputError(f"{path}: no header line")
    return CsvDialect(encoding=encoding, delimiter=delimiter, header=[h.strip() for h in header])


def iter_records(path: str | Path, dialect: CsvDialect | None = None,
                 chunk: int = 50_000) -> Iterator[tuple[list[list[str]], list[int]]]:
    """The data records after the header, ``chunk`` at a time, with the 1-based line where each starts; streamed,
    so a file of millions of rows is never held whole. Same records and lines as :func:`read_csv_records`."""
    path = Path(path)
    dialect = dialect or sniff(path)
    with open(path, encoding=dialect.encoding, newline="", errors="replace") as fh:
        reader = csv.reader(fh, delimiter=dialect.delimiter)
        seen_header = False
        records: list[list[str]] = []
        lines: list[int] = []
        start = 1
        for row in reader:
            if not seen_header:
                seen_header = any(cell.strip() for cell in row)
            else:
                records.append(row)
                lines.append(start)
                if len(records) >= chunk:
                    yield records, lines
                    records, lines = [], []
            start = reader.line_num + 1
        if records:
            yield records, lines
