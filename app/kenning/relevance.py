"""Is the best result a real match, or just the least bad one?

The engine's score is a sigmoid of fused z-scores: it ranks well but is relative to the other
candidates, so nonsense still scores high (on the CISI corpus "my grandmother's birthday party"
scored 1.000, "cute kittens" 0.996). Two absolute signals do separate them:

* the cosine similarity between the query and the best passage, with the real default model
  (all-MiniLM-L6-v2). Measured on the 15-document test corpus and on CISI (1,460 documents):
  multi-word queries with a right answer scored 0.50-0.88; off-topic ones 0.07-0.40 (the highest,
  0.395, was "asdfgh qwerty"). 0.45 sits in the gap.
* a query word (or its stem) in the passage or the file name: one-word queries such as "tax" or
  "recipe" have low cosines (0.31, 0.39) but are plainly matches when the word is there.

Other models spread cosines differently (E5 puts almost everything above 0.7), so the cosine
test applies only to models measured here; for the rest a result always counts as a match.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path

from kenning.query import STOPWORDS, query_terms

COSINE_THRESHOLDS = {"all-minilm-l6-v2": 0.45}

_WORD = re.compile(r"\w+", re.UNICODE)


def content_terms(query: str) -> list[str]:
    terms = query_terms(query)
    return [t for t in terms if t not in STOPWORDS]


def word_matches(word: str, term: str) -> bool:
    """Same word, or the same stem for longer words ("recipe" ~ "recipes", "taxes" ~ "tax")."""
    word = word.lower()
    if word == term:
        return True
    if len(term) < 4 or len(word) < 4:
        return False
    stem = max(3, min(len(term), len(word)) - 2)
    return word[:stem] == term[:stem] and abs(len(word) - len(term)) <= 3


def has_query_word(text: str, terms: list[str]) -> bool:
    words = _WORD.findall(text)
    return any(word_matches(w, t) for w in words for t in terms)


class Match(str, Enum):
    GOOD = "good"  # the passage answers the query
    WEAK = "weak"  # only the least bad of what there is

    def __str__(self) -> str:
        return self.value


def judge(model: str | None, query: str, path: str, snippet: str, similarity: float | None) -> Match:
    """Is this result (its passage `snippet`, its query-passage cosine) a real match?"""
    terms = content_terms(query)
    if terms and has_query_word(snippet + " " + Path(path).stem, terms):
        return Match.GOOD
    threshold = COSINE_THRESHOLDS.get(model or "")
    if threshold is None:
        return Match.GOOD
    return Match.GOOD if similarity is not None and similarity >= threshold else Match.WEAK
