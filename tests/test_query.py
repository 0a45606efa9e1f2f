"""The text side of a query: words, the FTS5 query, snippets (no model needed)."""

from __future__ import annotations

from kenning.query import SNIPPET_CHARS, fts_query, make_snippet, parse_query, query_terms, stem
from kenning.relevance import best_sentence, matching_spans


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


def test_quoted_phrases_and_exclusions_are_parsed_out():
    parsed = parse_query('tax "annual return" -draft -"old version" 2024')
    assert parsed.phrases == [["annual", "return"]]
    assert parsed.excluded == [["draft"], ["old", "version"]]
    assert parsed.text == "tax annual return 2024"
    assert parsed.terms == ["tax", "annual", "return", "2024"]


def test_hyphens_inside_words_and_lone_quotes_are_plain_text():
    parsed = parse_query('e-mail from co-op "unclosed')
    assert parsed.excluded == [] and parsed.phrases == []
    assert parsed.terms == ["e", "mail", "from", "co", "op", "unclosed"]


def test_short_bare_words_read_as_keywords_questions_do_not():
    assert parse_query("invoice 4471").reads_as_keywords()
    assert parse_query("Smith tax return").reads_as_keywords()
    assert not parse_query("how do telescopes work").reads_as_keywords()
    assert not parse_query("telescopes?").reads_as_keywords()
    assert not parse_query("ways to keep slugs off lettuce in a wet spring").reads_as_keywords()


def test_stems_match_word_forms_but_not_prefixes():
    assert stem("recipes") == stem("recipe")
    assert stem("taxes") == stem("tax")
    assert stem("Café") == stem("cafe")
    assert stem("carrots") != stem("care")
    assert stem("const") != stem("contents")


def test_highlighting_marks_only_the_query_words():
    text = "Take care of the carrots; the file's contents are const."
    marked = [text[a:b] for a, b in matching_spans(text, ["care", "contents", "file"])]
    assert marked == ["care", "file", "contents"]


def test_snippet_centres_on_word_forms_of_the_query():
    text = "filler " * 100 + "the recipes for bread" + " filler" * 100
    assert "recipes" in make_snippet(text, ["recipe"])


def test_the_best_sentence_holds_the_most_query_words():
    text = "Birds visit gardens. Robins and blue tits come to the feeder in winter!  Seeds help."
    start, end = best_sentence(text, ["robins", "feeder", "winter"])
    assert text[start:end] == "Robins and blue tits come to the feeder in winter!"
    assert best_sentence(text, ["volcano"]) is None
