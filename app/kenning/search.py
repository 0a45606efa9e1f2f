"""Search stage: vector KNN and FTS5 BM25 over chunks, fused, then ranked per file with the best
passage as the snippet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime

from kenning.embed import Embedder
from kenning.errors import QueryError
from kenning.query import fts_query, make_snippet, query_terms
from kenning.relevance import Match, judge
from kenning.store import Store

MODES = ("hybrid", "vector", "bm25")
MAX_RESULTS = 1000  # files per search; larger limits are capped
MAX_DEPTH = 4096  # candidates per list (sqlite-vec's k cannot exceed this)


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
        return self.modified_before is None or mtime <= self.modified_before


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
    similarity: float | None = None  # cosine of query and passage: absolute, unlike `score`
    match: Match = Match.GOOD  # a real match, or only the least bad one (relevance.py)

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "score": round(self.score, 4),
            "page": self.page,
            "snippet": self.snippet,
            "match": self.match.value,
        }


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
        limit = min(limit, MAX_RESULTS)
        depth = min(MAX_DEPTH, max(100, limit * 10) * (5 if filters.active() else 1))
        scored: list[dict[int, float]] = []
        complete: list[bool] = []  # did the list hold every chunk that matches at all?
        unscored: list[set[int]] = []  # chunks the list could not score (no vector yet)
        cosines: dict[int, float] = {}
        if mode in ("hybrid", "vector"):
            vector = self.embedder.embed_query(query)
            similarity = {pid: 1.0 - distance for pid, distance in self.store.vector_candidates(vector, depth)}
            cosines = {cid: similarity[pid] for pid, cid in self.store.chunks_of(list(similarity))}
            scored.append(cosines)
            complete.append(False)
            unscored.append(set())
        if mode in ("hybrid", "bm25"):
            hits = self.store.text_candidates(fts_query(terms), depth)
            scored.append({cid: -bm25 for cid, bm25 in hits})  # FTS5's bm25 is lower-is-better
            complete.append(len(hits) < depth)
            unscored.append(set())
            if mode == "hybrid" and self.store.has_waiting_passages():
                unscored[0] = self.store.without_vectors([cid for cid, _ in hits])
        fused = z_score_fusion(scored, complete, unscored)
        results = self._per_file(fused, cosines, terms, limit, filters)
        model = self.embedder.spec.name
        return [replace(r, match=judge(model, query, r.path, r.snippet, r.similarity)) for r in results]

    def _per_file(self, fused: dict[int, float], cosines: dict[int, float], terms, limit,
                  filters: Filters) -> list[SearchResult]:
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
            _, file_type, mtime, page, text, start, end, _embedded = rows[chunk_id]
            relevance = 1.0 / (1.0 + math.exp(-score))  # monotone, in (0, 1), for display
            results.append(SearchResult(path, relevance, page, make_snippet(text, terms), file_type, mtime,
                                        start, end, cosines.get(chunk_id)))
        return results


def z_score_fusion(score_lists: list[dict[int, float]], complete: list[bool] | None = None,
                   unscored: list[set[int]] | None = None) -> dict[int, float]:
    """Sum of each list's z-scores (CombSUM). A chunk missing from a list scores one standard
    deviation below that list's worst, two when the list is complete (it then has no match at
    all, e.g. lacks the query's keyword): in a small index a lone keyword match must still win
    over a slightly closer vector. A chunk the list could not score at all (`unscored`: its
    passage has no vector yet) counts as the list's mean, so it is ranked by the other lists.

    On CISI this ranked better than reciprocal rank fusion (nDCG@10 0.460 vs 0.456, see
    bench/quality.py) with no weight to tune: each list speaks in its own standard deviations.
    """
    complete = complete or [False] * len(score_lists)
    exempt = unscored or [set() for _ in score_lists]
    lists = [(scores, full, skip) for scores, full, skip in zip(score_lists, complete, exempt) if scores]
    everyone = set().union(*(scores for scores, _, _ in lists))
    fused = dict.fromkeys(everyone, 0.0)
    for scores, full, skip in lists:
        values = list(scores.values())
        mean = sum(values) / len(values)
        spread = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) or 1.0
        floor = (min(values) - mean) / spread - (2.0 if full else 1.0)
        for cid in everyone:
            if cid in scores:
                fused[cid] += (scores[cid] - mean) / spread
            elif cid not in skip:
                fused[cid] += floor
    return fused
