"""Search stage: vector KNN and FTS5 BM25 over chunks, fused, then ranked per file with the best
passage as the snippet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from kenning.embed import Embedder
from kenning.errors import QueryError
from kenning.store import Store

_WORD = re.compile(r"\w+", re.UNICODE)
MODES = ("hybrid", "vector", "bm25")
RRF_K = 60
SNIPPET_CHARS = 320


@dataclass(frozen=True)
class Filters:
    folder: str | None = None
    file_types: tuple[str, ...] = ()
    modified_after: float | None = None
    modified_before: float | None = None

    def active(self) -> bool:
        return bool(self.folder or self.file_types or self.modified_after or self.modified_before)

    def accepts(self, path: str, file_type: str, mtime: float) -> bool:
        if self.folder and not (path == self.folder or path.startswith(self.folder.rstrip("/\\") + "/")
                                or path.startswith(self.folder.rstrip("/\\") + "\\")):
            return False
        if self.file_types and file_type not in self.file_types:
            return False
        if self.modified_after is not None and mtime < self.modified_after:
            return False
        if self.modified_before is not None and mtime > self.modified_before:
            return False
        return True


@dataclass(frozen=True)
class SearchResult:
    path: str
    score: float
    page: int | None
    snippet: str
    file_type: str
    modified: float
    char_start: int
    char_end: int

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "score": round(self.score, 4),
            "page": self.page,
            "snippet": self.snippet,
        }


def query_terms(query: str) -> list[str]:
    return _WORD.findall(query.lower())


def fts_query(terms: list[str]) -> str:
    """Any of the terms; each quoted so FTS5 operators in user text are taken literally."""
    return " OR ".join(f'"{term}"' for term in dict.fromkeys(terms))


def parse_date(value: str) -> float:
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError as exc:
        raise QueryError(f"{value!r} is not a date (use YYYY-MM-DD)") from exc


class Searcher:
    def __init__(self, store: Store, embedder: Embedder):
        self.store = store
        self.embedder = embedder

    def search(self, query: str, limit: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> list[SearchResult]:
        filters = filters or Filters()
        terms = query_terms(query)
        if not terms:
            raise QueryError("the query has no words to search for; type a word or a phrase")
        if mode not in MODES:
            raise QueryError(f"search mode must be one of {', '.join(MODES)}")
        if limit < 1:
            return []
        depth = max(100, limit * 20) * (5 if filters.active() else 1)
        ranked: list[list[int]] = []
        if mode in ("hybrid", "vector"):
            vector = self.embedder.embed_query(query)
            ranked.append([cid for cid, _ in self.store.vector_candidates(vector, depth)])
        if mode in ("hybrid", "bm25"):
            ranked.append([cid for cid, _ in self.store.text_candidates(fts_query(terms), depth)])
        fused = reciprocal_rank_fusion(ranked)
        return self._per_file(fused, terms, limit, filters, best=len(ranked) / (RRF_K + 1))

    def _per_file(self, fused: dict[int, float], terms, limit, filters: Filters, best: float) -> list[SearchResult]:
        rows = self.store.chunk_rows(list(fused))
        by_file: dict[str, tuple[float, int]] = {}
        for chunk_id, score in sorted(fused.items(), key=lambda item: -item[1]):
            row = rows.get(chunk_id)
            if row is None or not filters.accepts(row[0], row[1], row[2]):
                continue
            if row[0] not in by_file:
                by_file[row[0]] = (score, chunk_id)
        results = []
        for path, (score, chunk_id) in sorted(by_file.items(), key=lambda item: -item[1][0])[:limit]:
            _, file_type, mtime, page, text, start, end = rows[chunk_id]
            results.append(
                SearchResult(path, score / best, page, make_snippet(text, terms), file_type, mtime, start, end)
            )
        return results


def reciprocal_rank_fusion(rankings: list[list[int]], k: int = RRF_K) -> dict[int, float]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank + 1)
    return scores


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

