"""The one interface every format module implements: a file in, a `Document` out.

A format module defines `EXTENSIONS` (lower-case, with the dot) and `extract(path) -> Document`.
It raises `ExtractionError` with a short reason for damaged, encrypted or unreadable files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kenning.errors import KenningError


class ExtractionError(KenningError):
    """The file has a supported type but its text cannot be read (the reason says why)."""


class UnsupportedFile(KenningError):
    """No extractor handles this file type."""


@dataclass
class Section:
    """A run of text from one page (page is None for formats without pages)."""

    text: str
    page: int | None = None


@dataclass
class Document:
    sections: list[Section] = field(default_factory=list)
    title: str | None = None
    author: str | None = None

    SEPARATOR = "\n\n"

    @property
    def text(self) -> str:
        """All sections joined; chunk character offsets point into this string."""
        return self.SEPARATOR.join(s.text for s in self.sections)

    def spans(self) -> list[tuple[int, Section]]:
        """Each section with its start offset in `text`."""
        result, offset = [], 0
        for section in self.sections:
            result.append((offset, section))
            offset += len(section.text) + len(self.SEPARATOR)
        return result

    def is_empty(self) -> bool:
        return not any(s.text.strip() for s in self.sections)


def read_bytes_limited(path: Path, limit: int | None = None) -> bytes:
    with open(path, "rb") as f:
        data = f.read() if limit is None else f.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise ExtractionError(f"larger than the {limit // (1024 * 1024)} MB limit")
    return data
