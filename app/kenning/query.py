"""The text side of a query: its words, the FTS5 query built from them, and the snippet that
shows a passage around them. No index access here.

Query syntax, in the search box and the CLI alike: `"exact phrase"` (every result holds it),
`-word` and `-"a phrase"` (no result holds it); everything else is plain words.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from dataclasses import dataclass, field

import snowballstemmer

_WORD = re.compile(r"\w+", re.UNICODE)
SNIPPET_CHARS = 320
MAX_RESULTS = 1000  # files per search; larger limits are capped
# Words that only add noise to a BM25 query ("what are the problems of ..."); vectors keep them.
STOPWORDS = frozenset(
    "a about above after again against all also am an and any are as at be because been before "
    "being below between both but by can could did do does doing down during each few for from "
    "further had has have having he her here hers him his how i if in into is it its itself just "
    "may me might more most must my no nor not now of off on once only or other our ours out over "
    "own same shall she should so some such than that the their theirs them then there these they "
    "this those through to too under until up very was we were what when where which while who "
    "whom why will with would you your yours".split()
)


QUESTION_WORDS = frozenset("how what why when where which who whom whose is are do does can could should would".split())
_OPERATOR = re.compile(r'(?<![\w"])(-?)"([^"]*)"|(?<![\w-])-(\w+)')


_stemmers = threading.local()  # snowball stemmers keep state between calls: one per thread


@functools.lru_cache(maxsize=1 << 16)  # snippets and relevance stem every word of each result shown
def stem(word: str) -> str:
    """The word as the keyword index keys it: lower case, accents removed, Porter stem."""
    stemmer = getattr(_stemmers, "porter", None)
    if stemmer is None:
        stemmer = _stemmers.porter = snowballstemmer.stemmer("porter")
    folded = "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))
    return stemmer.stemWord(folded)


def query_terms(query: str) -> list[str]:
    return _WORD.findall(query.lower())


@dataclass(frozen=True)
class ParsedQuery:
    text: str  # what the model embeds: the words and phrases, without the operators
    terms: list[str]  # its words, lower case, phrases' words included
    phrases: list[list[str]] = field(default_factory=list)  # "exact phrases" every result holds
    excluded: list[list[str]] = field(default_factory=list)  # -words and -"phrases" no result holds

    @property
    def content_terms(self) -> list[str]:
        return [t for t in self.terms if t not in STOPWORDS] or self.terms

    def reads_as_keywords(self) -> bool:
        """A few bare words ("invoice 4471", "Smith tax"), not a question or a sentence: the
        words themselves matter more than what they mean."""
        question = (bool(self.terms) and self.terms[0] in QUESTION_WORDS) or self.text.rstrip().endswith("?")
        return not question and len(self.content_terms) <= 3


def parse_query(query: str) -> ParsedQuery:
    """Split `query` into its words, its "exact phrases" and its -exclusions."""
    phrases: list[list[str]] = []
    excluded: list[list[str]] = []

    def take(match: re.Match) -> str:
        minus, quoted, word = match.group(1), match.group(2), match.group(3)
        if word is not None:
            excluded.append([word.lower()])
            return " "
        words = query_terms(quoted or "")
        if words:
            (excluded if minus else phrases).append(words)
        return " " if minus else f" {quoted} "

    text = " ".join(_OPERATOR.sub(take, query).split())
    return ParsedQuery(text, query_terms(text), phrases, excluded)


def phrase_query(phrases: list[list[str]]) -> str:
    """FTS5: any of these phrases."""
    return " OR ".join('"' + " ".join(words) + '"' for words in phrases)


def fts_query(terms: list[str]) -> str:
    """Any of the terms, each quoted so FTS5 operators in user text are taken literally.

    Stopwords are dropped (unless nothing else is left), and repeated words are kept: FTS5 then
    counts them once per mention, which weights a query's recurring words as BM25 intends.
    """
    content = [t for t in terms if t not in STOPWORDS] or terms
    return " OR ".join(f'"{term}"' for term in content)


def make_snippet(text: str, terms: list[str], width: int = SNIPPET_CHARS) -> str:
    """The window of `text` with the most query-term hits, cut at word boundaries."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    wanted = {stem(t) for t in terms}
    hits = [m.start() for m in _WORD.finditer(flat) if stem(m.group()) in wanted]
    start = 0
    if hits:
        best = max(hits, key=lambda h: sum(1 for o in hits if h <= o < h + width))
        start = max(0, best - width // 4)
    if start:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < start + 30 else start
    end = min(len(flat), start + width)
    if end < len(flat):
        space = flat.rfind(" ", start, end)
        end = space if space > start else end
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")

