"""The one interface every format module implements: a file in, a `Document` out.

A format module defines `extract(path) -> Document` (`FORMATS` in the package lists its extensions).
It raises `ExtractionError` with a short reason for damaged, encrypted or unreadable files.
"""

from __future__ import annotations

import zipfile
from contextlib import contextmanager
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
    truncated: bool = False  # only the start of the file was read (see `reading_budget`)
    ocr_pages: list[int] = field(default_factory=list)  # pages (1-based) that only OCR can read

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


_budget: list[int | None] = [None]
_ocr_texts: list[dict[int, str]] = [{}]


@contextmanager
def ocr_texts(texts: dict[int, str]):
    """While active, a page that has no text layer takes its text from `texts` (page -> what OCR
    read there) instead of being listed in `Document.ocr_pages`."""
    _ocr_texts.append(texts)
    try:
        yield
    finally:
        _ocr_texts.pop()


def ocr_text(page: int) -> str | None:
    """What OCR read on `page` (see `ocr_texts`), or None if it has not been read."""
    return _ocr_texts[-1].get(page)


@contextmanager
def reading_budget(limit_bytes: int | None):
    """While active, text formats read at most `limit_bytes` of a file: a file longer than what
    the passage limit could ever index is not read whole (a 100 MB HTML file, a 12 MB one-line
    JSON), which bounds memory and time."""
    _budget.append(limit_bytes)
    try:
        yield
    finally:
        _budget.pop()


def read_head(path: Path) -> tuple[bytes, bool]:
    """A text file's bytes, up to the reading budget; and whether it was cut there."""
    limit = _budget[-1]
    with open(path, "rb") as f:
        data = f.read() if limit is None else f.read(limit + 1)
    if limit is not None and len(data) > limit:
        return data[:limit], True
    return data, False


def read_bytes_limited(path: Path, limit: int | None = None) -> bytes:
    with open(path, "rb") as f:
        data = f.read() if limit is None else f.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise ExtractionError(f"larger than the {limit // (1024 * 1024)} MB limit")
    return data


def check_zip(path: Path, kind: str, xml_limit: int = 48 * 1024 * 1024) -> None:
    """Refuse a file that is not a zip archive, or whose XML unpacks to more than `xml_limit`.

    Office and OpenDocument readers load their XML parts whole; a few MB of compressed XML
    can unpack to gigabytes. The sizes an archive declares can lie (a bomb that claims 4 KB), so
    each XML part is inflated here a block at a time and counted, never held whole.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = [info for info in archive.infolist() if info.filename.endswith((".xml", ".rels"))]
            if sum(info.file_size for info in members) > xml_limit:
                raise ExtractionError(f"{kind} file unpacks to more than {xml_limit // 2**20} MB of XML")
            total = 0
            for info in members:
                with archive.open(info) as part:
                    while block := part.read(1 << 20):
                        total += len(block)
                        if total > xml_limit:
                            raise ExtractionError(
                                f"{kind} file unpacks to more than {xml_limit // 2**20} MB of XML")
    except (ExtractionError, MemoryError):
        raise  # MemoryError is not damage: the sandbox reports it as over its memory limit
    except Exception as e:  # BadZipFile, NotImplementedError, EOFError... for damaged archives
        raise ExtractionError(f"not a valid {kind} file") from e
