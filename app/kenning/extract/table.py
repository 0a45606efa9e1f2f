"""Comma- and tab-separated tables (.csv, .tsv): a row a line, each value named by its column when
the first row is a header ("City: Oslo · Population: 709,000"), so a passage about a row says
what its numbers are."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from kenning.extract import plaintext
from kenning.extract.base import Document, Section, read_head

csv.field_size_limit(16 * 2**20)


def extract(path: Path) -> Document:
    data, truncated = read_head(path)
    if not data:
        return Document()
    text = plaintext.decode(data)
    sample = text[:64_000]
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _delimiter(sample)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:  # not really a table: keep it as text
        return plaintext.extract(path)
    header = rows[0] if rows and _has_header(sample, delimiter, rows) else None
    lines = [" · ".join(_cell(header, i, v) for i, v in enumerate(row) if v.strip())
             for row in (rows[1:] if header else rows)]
    body = "\n".join(line for line in lines if line)
    if header:
        body = "Columns: " + ", ".join(h.strip() for h in header if h.strip()) + "\n" + body
    return Document([Section(body)], truncated=truncated)


def _delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _has_header(sample: str, delimiter: str, rows: list[list[str]]) -> bool:
    if len(rows) < 2 or len(set(rows[0])) < len(rows[0]) or not all(cell.strip() for cell in rows[0]):
        return False
    try:
        return csv.Sniffer().has_header(sample)
    except csv.Error:
        return False


def _cell(header: list[str] | None, index: int, value: str) -> str:
    value = " ".join(value.split())
    if header and index < len(header) and header[index].strip():
        return f"{header[index].strip()}: {value}"
    return value
