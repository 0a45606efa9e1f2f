"""The text side of a query: words, the FTS5 query, snippets (no model needed)."""

from __future__ import annotations

from kenning.query import SNIPPET_CHARS, fts_query, make_snippet, query_terms


def test_terms_are_lower_case_words_in_any_script():
    assert query_terms("How do Telescopes work?") == ["how", "do", "telescopes", "work"]
    assert query_terms("Café — naïve 東京") == ["café", "naïve", "東京"]
    assert query_terms("?!… --") == []


def test_fts_query_quotes_every_term_so_operators_are_literal():
    query = fts_query(query_terms('NEAR(tax OR "refund") AND -not'))
    assert query == '"near" OR "tax" OR "refund"'  # "or", "and", "not" are stopwords here
    assert fts_query(["the", "of"]) == '"the" OR "of"'  # only stopwords: keep them


def test_fts_query_keeps_repeated_words():
    assert fts_query(["tax", "tax", "law"]) == '"tax" OR "tax" OR "law"'


def test_short_text_is_its_own_snippet():
    assert make_snippet("  one\n two   three ", ["two"]) == "one two three"


def test_snippet_centres_on_the_densest_hits_and_cuts_at_words():
    filler = "lorem ipsum dolor sit amet " * 40
    text = filler + "the volcano erupted and the volcano smoked " + filler
    snippet = make_snippet(text, ["volcano"])
    assert "volcano erupted" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert len(snippet) <= SNIPPET_CHARS + 2
    body = snippet.strip("…")
    assert body.split()[0] in text.split() and body.split()[-1] in text.split()


def test_snippet_without_hits_starts_at_the_beginning():
    text = "alpha beta " * 100
    assert make_snippet(text, ["zebra"]).startswith("alpha beta")
