"""A file's passages, made in the extraction child: extract the text, then cut it into chunks
that fit the model's window (measured by the model's own tokenizer, loaded there without its
weights). Work and memory are bounded per file: text beyond what `max_passages` could hold is not
chunked, and the file is reported as partly indexed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from kenning.chunk import Chunk, chunk_document
from kenning.extract import Document, Section, extract
from kenning.extract.base import ocr_texts, reading_budget
from kenning.tokens import tokenizer_for

CHARS_PER_TOKEN_BOUND = 8  # no passage of `window` tokens holds more text than this many chars a token
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class ChunkPlan:
    """How to cut a file's text: the model's tokenizer and window, and the limits."""

    model_path: str
    document_prefix: str
    window: int
    overlap: int
    max_passages: int


@dataclass
class FilePassages:
    title: str | None
    author: str | None
    chunks: list[Chunk] = field(default_factory=list)
    note: str | None = None  # set when only part of the file is indexed, and why
    ocr_pages: list[int] = field(default_factory=list)  # pages only OCR can read, not read yet

    @property
    def empty(self) -> bool:
        return not self.chunks


def read_passages(path: str, plan: ChunkPlan, ocr: dict[int, str] | None = None) -> FilePassages:
    """In the child: the file's passages (none if it has no text); `ocr` is what OCR read on the
    pages that have no text layer (those not in it are listed in `ocr_pages`)."""
    max_chars = plan.max_passages * plan.window * CHARS_PER_TOKEN_BOUND
    with reading_budget(4 * max_chars), ocr_texts(ocr or {}):  # bytes: up to 4 a character in UTF-8
        document = extract(Path(path))
    if document.is_empty():
        return FilePassages(clean(document.title), clean(document.author), ocr_pages=document.ocr_pages)
    document = _cut(document, max_chars)
    for section in document.sections:  # a character for each (the offsets stay), that SQLite can store
        section.text = _LONE_SURROGATE.sub("\ufffd", section.text)
    tokenizer = tokenizer_for(plan.model_path, plan.document_prefix)
    chunks = chunk_document(document, tokenizer.count, plan.window, plan.overlap, limit=plan.max_passages)
    note = None
    limited = len(chunks) >= plan.max_passages and (not chunks or chunks[-1].char_end < len(document.text) - 1)
    if document.truncated or limited:
        note = (f"only the first {len(chunks):,} passages are indexed (the limit is {plan.max_passages:,} a file); "
                "raise the passage limit in the settings to index all of it")
    return FilePassages(clean(document.title), clean(document.author), chunks, note, document.ocr_pages)


def pages_needing_ocr(path: str) -> list[int]:
    """In the child: the pages of the file that have no text layer, to be read by OCR."""
    return extract(Path(path)).ocr_pages


def clean(text: str | None) -> str | None:
    return _LONE_SURROGATE.sub("\ufffd", text) if text else text


def _cut(document: Document, max_chars: int) -> Document:
    """The document's first `max_chars` characters, whole sections kept where they fit."""
    if len(document.text) <= max_chars:
        return document
    sections, used = [], 0
    for section in document.sections:
        room = max_chars - used
        if room <= 0:
            break
        sections.append(Section(section.text[:room], section.page))
        used += min(room, len(section.text)) + len(Document.SEPARATOR)
    return Document(sections, document.title, document.author, truncated=True, ocr_pages=document.ocr_pages)
