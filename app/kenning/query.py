"""The text side of a query: its words, the FTS5 query built from them, and the snippet that
shows a passage around them. No index access here."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
SNIPPET_CHARS = 320
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


def query_terms(query: str) -> list[str]:
    return _WORD.findall(query.lower())


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
    wanted = set(terms)
    hits = [m.start() for m in _WORD.finditer(flat) if m.group().lower() in wanted]
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

