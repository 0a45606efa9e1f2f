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

    @property
    def empty(self) -> bool:
        return not self.chunks


def read_passages(path: str, plan: ChunkPlan) -> FilePassages:
    """In the child: the file's passages (none if it has no text)."""
    document = extract(Path(path))
    if document.is_empty():
        return FilePassages(clean(document.title), clean(document.author))
    full_length = len(document.text)
    document = _cut(document, plan.max_passages * plan.window * CHARS_PER_TOKEN_BOUND)
    for section in document.sections:  # a character for each (the offsets stay), that SQLite can store
        section.text = _LONE_SURROGATE.sub("\ufffd", section.text)
    tokenizer = tokenizer_for(plan.model_path, plan.document_prefix)
    chunks = chunk_document(document, tokenizer.count, plan.window, plan.overlap, limit=plan.max_passages)
    note = None
    if len(chunks) >= plan.max_passages and (not chunks or chunks[-1].char_end < full_length - 1):
        share = chunks[-1].char_end / full_length if chunks else 0.0
        note = (f"only the first {plan.max_passages:,} passages are indexed (about {share:.0%} of its text); "
                "raise the passage limit in the settings to index all of it")
    return FilePassages(clean(document.title), clean(document.author), chunks, note)


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
    return Document(sections, document.title, document.author)
