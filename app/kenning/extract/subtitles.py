"""Subtitles (.srt, .vtt): what is said, a cue a line, without numbers, timings and styling."""

from __future__ import annotations

import html
import re
from pathlib import Path

from kenning.extract import plaintext
from kenning.extract.base import Document, Section, read_head

_TIMING = re.compile(r"^\s*(\d+:)?\d+:\d+[.,]\d+\s*-->")
_TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")  # <i>, <c.yellow>, <00:01.000>, {\an8}
_HEADER_BLOCKS = ("WEBVTT", "NOTE", "STYLE", "REGION")


def extract(path: Path) -> Document:
    data, truncated = read_head(path)
    if not data:
        return Document()
    text = plaintext.decode(data).replace("\r\n", "\n").replace("\r", "\n")
    lines = []
    for block in re.split(r"\n\s*\n", text):
        rows = [row for row in block.split("\n") if row.strip()]
        if not rows or rows[0].strip().startswith(_HEADER_BLOCKS):
            continue
        while rows and not _TIMING.match(rows[0]) and len(rows) > 1 and _TIMING.match(rows[1]):
            rows = rows[1:]  # a cue number or identifier
        if rows and _TIMING.match(rows[0]):
            rows = rows[1:]
        spoken = " ".join(html.unescape(_TAG.sub("", row)).strip() for row in rows)
        if spoken.strip():
            lines.append(" ".join(spoken.split()))
    return Document([Section("\n".join(lines))], truncated=truncated)
