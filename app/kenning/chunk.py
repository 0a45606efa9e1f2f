"""Chunking stage: a Document's text → chunks that fit the model's window, measured in the model's
own tokens, cut at paragraph, then sentence, then word boundaries, with a token overlap.

Every chunk is a contiguous span of `Document.text` (char_start/char_end), on one page, so the
GUI can show and highlight exactly the passage that matched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from kenning.extract.base import Document

TokenCounter = Callable[[str], int]

_PARAGRAPH = re.compile(r"\n\s*\n")
_LINE = re.compile(r"\n")
_SENTENCE = re.compile(r"(?<=[.!?;:])\s+")
_WORD = re.compile(r"\s+")
_SPLITTERS = (_PARAGRAPH, _LINE, _SENTENCE, _WORD)


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    page: int | None
    char_start: int
    char_end: int
    text: str
    tokens: int


@dataclass(frozen=True)
class _Piece:
    start: int
    end: int
    tokens: int


def _spans(text: str, start: int, end: int, splitter: re.Pattern) -> list[tuple[int, int]]:
    """Non-blank sub-spans of text[start:end] separated by `splitter`, whitespace trimmed."""
    spans, cursor = [], start
    for match in splitter.finditer(text, start, end):
        spans.append((cursor, match.start()))
        cursor = match.end()
    spans.append((cursor, end))
    trimmed = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if a < b:
            trimmed.append((a, b))
    return trimmed


# A span longer than this many characters a token is split without being measured: it cannot be
# one piece in any real text, and tokenizing whole pages only to learn that is most of the work.
UNMEASURED_CHARS_PER_TOKEN = 12


def _pieces(text: str, start: int, end: int, budget: int, count: TokenCounter, level: int = 0) -> list[_Piece]:
    """Split text[start:end] into pieces of at most `budget` tokens, coarsest boundaries first."""
    if end - start <= budget * UNMEASURED_CHARS_PER_TOKEN:
        tokens = count(text[start:end])
        if tokens <= budget:
            return [_Piece(start, end, tokens)]
    if level < len(_SPLITTERS):
        parts = _spans(text, start, end, _SPLITTERS[level])
        if len(parts) > 1 or level + 1 < len(_SPLITTERS):
            return [p for a, b in parts for p in _pieces(text, a, b, budget, count, level + 1)]
    # One "word" longer than the budget (a URL, base64...): cut it by characters.
    middle = (start + end) // 2
    return _pieces(text, start, middle, budget, count, level) + _pieces(text, middle, end, budget, count, level)


def chunk_document(
    document: Document, count: TokenCounter, max_tokens: int = 256, overlap_tokens: int = 32,
    limit: int | None = None,
) -> list[Chunk]:
    """Chunks of at most `max_tokens` as measured by `count` (which includes special tokens); at
    most `limit` of them, from the start of the document.

    `count` of a concatenation is close to the sum of its parts for WordPiece and BPE; the packed
    chunk is re-measured, and re-split if it does not fit.
    """
    text = document.text
    special = count("")  # [CLS]/[SEP] and any prefix, paid once per chunk
    budget = max(8, max_tokens - special)
    measured: dict[str, int] = {}  # a short section is one piece, one chunk: measured once, not thrice

    def measure(span: str) -> int:
        if span not in measured:
            measured[span] = count(span) - special
        return measured[span]

    chunks: list[Chunk] = []
    for offset, section in document.spans():
        if not section.text.strip():
            continue
        pieces = _pieces(text, offset, offset + len(section.text), budget, measure)
        for start, end in _pack(pieces, budget, overlap_tokens):
            for a, b in _fit(text, start, end, budget, measure):
                if limit is not None and len(chunks) >= limit:
                    return chunks
                chunks.append(Chunk(len(chunks), section.page, a, b, text[a:b], measure(text[a:b]) + special))
    return chunks


def _pack(pieces: list[_Piece], budget: int, overlap: int) -> list[tuple[int, int]]:
    """Greedily join consecutive pieces up to the budget; start each chunk with the previous
    chunk's last pieces, up to `overlap` tokens, so a passage cut at a boundary still matches."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(pieces):
        used, j = 0, i
        while j < len(pieces) and (j == i or used + pieces[j].tokens <= budget):
            used += pieces[j].tokens
            j += 1
        spans.append((pieces[i].start, pieces[j - 1].end))
        if j >= len(pieces):
            break
        back, carried = j, 0
        while back - 1 > i and carried + pieces[back - 1].tokens <= overlap:
            back -= 1
            carried += pieces[back].tokens
        i = back
    return spans


def _fit(text: str, start: int, end: int, budget: int, measure: TokenCounter) -> list[tuple[int, int]]:
    if measure(text[start:end]) <= budget or end - start < 2:
        return [(start, end)]
    cut = text.rfind(" ", start + 1, (start + end) // 2 + 1)
    cut = cut if cut > start else (start + end) // 2
    return _fit(text, start, cut, budget, measure) + _fit(text, cut, end, budget, measure)
