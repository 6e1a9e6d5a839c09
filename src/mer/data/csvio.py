"""Reading a user's CSV whatever its dialect: encoding, BOM, separator, line endings, with source line numbers."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path


class InputError(ValueError):
    """Input that cannot be used at all; the message is one line saying why."""


@dataclass
class RawTable:
    """A CSV as strings: header, records and the 1-based line in the file where each record starts."""

    header: list[str]
    records: list[list[str]]
    lines: list[int]
    delimiter: str


def _decode(raw: bytes, path: Path) -> str:
    if b"\x00" in raw[:4096]:
        raise InputError(f"{path}: not a CSV (binary content)")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding)
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
    """Read ``path`` into strings, sniffing encoding and separator; CRLF and BOM are handled."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    text = _decode(raw, path)
    if not text.strip():
        raise InputError(f"{path}: empty file")
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    records: list[list[str]] = []
    lines: list[int] = []
    start = 1
    for row in reader:
        if header is None:
            if any(cell.strip() for cell in row):
                header = [cell.strip() for cell in row]
        else:
            records.append(row)
            lines.append(start)
        start = reader.line_num + 1
    if header is None:
        raise InputError(f"{path}: no header line")
    return RawTable(header=header, records=records, lines=lines, delimiter=delimiter)
