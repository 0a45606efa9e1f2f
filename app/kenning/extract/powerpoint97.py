"""Legacy PowerPoint presentations (.ppt, PowerPoint 97-2003) through olefile: the text atoms of
the "PowerPoint Document" stream, one section per slide (page = slide number) where the file says
which slide a text belongs to."""

from __future__ import annotations

import struct
from pathlib import Path

from kenning.extract.base import Document, ExtractionError, Section
from kenning.extract.ole import metadata, open_ole

_SLIDE_LIST = 0x0FF0  # SlideListWithText: each slide's text, in order
_SLIDE_PERSIST = 0x03F3  # starts the next slide in a SlideListWithText
_TEXT_CHARS, _TEXT_BYTES = 0x0FA0, 0x0FA8  # UTF-16 and 8-bit text
_MAX_DEPTH = 32


def extract(path: Path) -> Document:
    if path.stat().st_size == 0:
        return Document()
    with open_ole(path, "PowerPoint") as ole:
        if not ole.exists("PowerPoint Document"):
            raise ExtractionError("not a PowerPoint presentation")
        if ole.exists("EncryptedSummary"):
            raise ExtractionError("encrypted or password-protected")
        stream = ole.openstream("PowerPoint Document").read()
        title, author = metadata(ole)
    slides: list[list[str]] = []
    loose: list[str] = []
    _walk(stream, 0, len(stream), slides, loose, False, 0)
    sections = [Section("\n".join(texts), number) for number, texts in enumerate(slides, start=1)]
    if not any(section.text for section in sections):  # newer writers keep the text in the drawings
        sections = [Section("\n".join(loose))] if loose else []
    return Document(sections, title, author)


def _walk(data: bytes, start: int, end: int, slides: list[list[str]], loose: list[str], in_list: bool,
          depth: int) -> None:
    at = start
    while at + 8 <= end and depth < _MAX_DEPTH:
        version_instance, kind, length = struct.unpack_from("<HHI", data, at)
        body, at = at + 8, at + 8 + length
        if at > end:
            break
        if version_instance & 0x000F == 0x000F:  # a container: read what it holds
            _walk(data, body, at, slides, loose, in_list or kind == _SLIDE_LIST, depth + 1)
        elif in_list and kind == _SLIDE_PERSIST:
            slides.append([])
        elif kind in (_TEXT_CHARS, _TEXT_BYTES):
            raw = data[body:at]
            text = raw.decode("utf-16-le", "replace") if kind == _TEXT_CHARS else raw.decode("cp1252", "replace")
            text = text.replace("\r", "\n").replace("\x0b", "\n").strip()
            if text:
                (slides[-1] if in_list and slides else loose).append(text)
