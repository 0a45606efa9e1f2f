"""Is a result a real match, or just the least bad one? And which of its words match the query?

The engine's score ranks well but is relative to the other candidates, so nonsense still ranks
something first. Two absolute signals separate real matches from the rest:

* the cosine similarity between the query and the passage, with the models measured here. With
  all-MiniLM-L6-v2, on the 15-document test corpus and on CISI (1,460 documents), multi-word
  queries with a right answer scored 0.50-0.88 and off-topic ones 0.07-0.40 (the highest, 0.395,
  was "asdfgh qwerty"); 0.45 sits in the gap. Other models spread cosines differently (E5 puts
  almost everything above 0.7), so for them only the words count.
* the query's words in the passage, its file's name or title, matched by stem as the keyword index
  matches them ("recipes" ~ "recipe", never "carrots" ~ "care"): a passage holding most of the
  query's words is a match even when its cosine is low (one-word queries such as "tax").

One shared word out of several is not enough.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

from kenning.query import parse_query, stem

COSINE_THRESHOLDS = {"all-minilm-l6-v2": 0.45}
WORD_SHARE = 0.6  # of the query's words that a passage must hold to be a match on words alone

_WORD = re.compile(r"\w+", re.UNICODE)


class Match(str, Enum):
    GOOD = "good"  # the passage answers the query
    WEAK = "weak"  # only the least bad of what there is

    def __str__(self) -> str:
        return self.value


def content_terms(query: str) -> list[str]:
    """The words of `query` that carry its meaning (not stopwords, not -exclusions)."""
    return parse_query(query).content_terms


def matching_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Where the words of `text` that match one of `terms` are (for bold in the results)."""
    wanted = {stem(t) for t in terms}
    return [(m.start(), m.end()) for m in _WORD.finditer(text) if stem(m.group()) in wanted]


_SENTENCE = re.compile(r"[^.!?;\n]+(?:[.!?;]+|\n|$)")


def best_sentence(text: str, terms: list[str]) -> tuple[int, int] | None:
    """The span of the sentence of `text` holding the most distinct query words (the first of
    equals), stripped of surrounding space; None when no sentence holds any."""
    wanted = {stem(t) for t in terms}
    best, best_hits = None, 0
    for sentence in _SENTENCE.finditer(text):
        hits = len({stem(w) for w in _WORD.findall(sentence.group())} & wanted)
        if hits > best_hits:
            body = sentence.group()
            start = sentence.start() + len(body) - len(body.lstrip())
            best, best_hits = (start, sentence.start() + len(body.rstrip())), hits
    return best


def word_share(text: str, terms: list[str]) -> float:
    """The share of the distinct `terms` (by stem) that occur in `text`."""
    wanted = {stem(t) for t in terms}
    if not wanted:
        return 0.0
    present = {stem(w) for w in _WORD.findall(text)} & wanted
    return len(present) / len(wanted)


def judge(model: str | None, query: str, path: str, passage: str, similarity: float | None) -> Match:
    """Is this result (its passage, its query-passage cosine) a real match for `query`?"""
    terms = content_terms(query)
    share = word_share(passage + " " + Path(path).stem.replace("_", " ").replace("-", " "), terms)
    if share >= WORD_SHARE:
        return Match.GOOD
    threshold = COSINE_THRESHOLDS.get(model or "")
    if threshold is None:  # a model not measured here: the words decide, one is enough
        return Match.GOOD if share > 0 else Match.WEAK
    return Match.GOOD if similarity is not None and similarity >= threshold else Match.WEAK
