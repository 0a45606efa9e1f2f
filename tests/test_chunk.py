"""The chunker with a stand-in token counter (one token per word, plus two specials), so it runs
without the model; the real tokenizer is used by the engine tests."""

from __future__ import annotations

from kenning.chunk import chunk_document
from kenning.extract.base import Document, Section


def words(text: str) -> int:
    return len(text.split()) + 2  # [CLS] and [SEP]


def test_chunks_fit_the_budget_and_point_into_the_text():
    paragraphs = [" ".join(f"w{p}_{i}" for i in range(37)) for p in range(12)]
    document = Document([Section("\n\n".join(paragraphs))])
    chunks = chunk_document(document, words, max_tokens=64, overlap_tokens=8)
    text = document.text
    assert len(chunks) > 5
    for i, chunk in enumerate(chunks):
        assert chunk.ordinal == i
        assert chunk.tokens <= 64
        assert text[chunk.char_start : chunk.char_end] == chunk.text
        assert chunk.text == chunk.text.strip()


def test_every_word_is_in_some_chunk_and_neighbours_overlap():
    body = " ".join(f"word{i}." for i in range(500))
    chunks = chunk_document(Document([Section(body)]), words, max_tokens=50, overlap_tokens=10)
    covered = set()
    for chunk in chunks:
        covered |= set(chunk.text.split())
    assert covered == set(body.split())
    for a, b in zip(chunks, chunks[1:]):
        assert b.char_start < a.char_end  # the overlap carries the end of one into the next


def test_chunks_keep_their_page_and_never_span_two():
    document = Document([Section("first page " * 30, page=1), Section("second page " * 30, page=2)])
    chunks = chunk_document(document, words, max_tokens=24, overlap_tokens=4)
    assert {c.page for c in chunks} == {1, 2}
    for chunk in chunks:
        assert ("first" in chunk.text) != ("second" in chunk.text)
        expected = "first" if chunk.page == 1 else "second"
        assert expected in chunk.text


def test_a_word_longer_than_the_window_is_cut_by_characters():
    blob = "x" * 5000  # one "word": the stand-in counter sees it as one token, so count chars instead
    chunks = chunk_document(Document([Section(blob)]), lambda s: len(s) // 10 + 2, max_tokens=64, overlap_tokens=0)
    assert "".join(c.text for c in chunks) == blob
    assert all(c.tokens <= 64 for c in chunks)


def test_empty_sections_give_no_chunks():
    assert chunk_document(Document([Section("   \n\n  ", page=1)]), words) == []
