"""Search stage: vector KNN and FTS5 BM25 over chunks, fused, then ranked per file with the best
passage as the snippet.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from kenning.embed import Embedder
from kenning.errors import QueryError
from kenning.query import MAX_RESULTS, STOPWORDS, ParsedQuery, fts_query, make_snippet, parse_query, phrase_query, stem
from kenning.relevance import Match, judge
from kenning.store import Store

MODES = ("hybrid", "vector", "bm25")
MAX_DEPTH = 4096  # candidates per list
KEYWORD_BUDGET = 10_000  # chunks FTS5 may score for one query (see Searcher._keyword_hits)
FTS_SELECTION = 25_000  # a filter's chunks handed to FTS5 at most (200,000 took 40 ms to hand over)
SELECTIVE_SHARE = 0.2  # a filter letting through less than this share of the index is searched within
MIN_SELECTION = 2_000  # chunks: below this, a filter is always searched within
_KEYWORD_WORKERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="kenning-keywords")
MIN_CANDIDATES = 100  # per list: the z-scores are taken over this many at least
DISPLAY_SPREAD = 3.0  # fused scores of good matches run to 10 and more: keep them apart on screen
KEYWORD_QUERY_WEIGHT = 1.5  # how much more the words count when the query is a few bare words
FLAT_KEYWORDS = 0.1  # the keyword list's spread is at least this share of its mean


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
        parsed = parse_query(query)
        if not parsed.terms:
            raise QueryError("the query has no words to search for; type a word or a phrase")
        if mode not in MODES:
            raise QueryError(f"search mode must be one of {', '.join(MODES)}")
        if limit < 1:
            return []
        limit = min(limit, MAX_RESULTS)
        selection = self._selection(filters)
        post_filtered = filters.active() and selection is None
        depth = min(MAX_DEPTH, max(MIN_CANDIDATES, limit * 10) * (5 if post_filtered else 1))
        allowed = None if selection is None else {chunk for chunk, _ in selection}
        required = self._holding(parsed.phrases, all_of=True) if parsed.phrases else None
        scored: list[dict[int, float]] = []
        complete: list[bool] = []  # did the list hold every chunk that matches at all?
        unscored: list[set[int]] = []  # chunks the list could not score (no vector yet)
        weights: list[float] = []
        cosines: dict[int, float] = {}
        keywords = None
        if mode in ("hybrid", "bm25"):  # in another thread, on another connection, beside the vectors
            keywords = _KEYWORD_WORKERS.submit(self._keyword_hits, self.store.reader(), parsed, depth, 2 * limit, allowed)
        if mode in ("hybrid", "vector"):
            vector = self.embedder.embed_query(parsed.text)
            within = None if selection is None else [passage for _, passage in selection]
            nearest = self.store.vector_candidates(vector, depth, within)
            similarity = {pid: 1.0 - distance for pid, distance in nearest}
            cosines = {cid: similarity[pid] for pid, cid in self.store.chunks_of(list(similarity))
                       if (required is None or cid in required) and (allowed is None or cid in allowed)}
            scored.append(cosines)
            complete.append(False)
            unscored.append(set())
            weights.append(1.0)
        if keywords is not None:
            hits, full = keywords.result()
            scored.append({cid: -bm25 for cid, bm25 in hits})  # FTS5's bm25 is lower-is-better
            complete.append(full)
            unscored.append(set())
            weights.append(KEYWORD_QUERY_WEIGHT if mode == "hybrid" and parsed.reads_as_keywords() else 1.0)
            if mode == "hybrid" and self.store.has_waiting_passages():
                unscored[0] = self.store.without_vectors([cid for cid, _ in hits])
        fused = z_score_fusion(scored, complete, unscored, weights)
        banned = self.store.files_holding(phrase_query(parsed.excluded), MAX_DEPTH) if parsed.excluded else set()
        return self._per_file(fused, cosines, parsed, limit, filters, banned)

    def _selection(self, filters: Filters) -> list[tuple[int, int]] | None:
        """(chunk, passage) of everything the filters let through, when that is a small part of
        the index (then both lists are searched within it); None otherwise (then the lists are
        searched deeper and filtered afterwards)."""
        if not filters.active():
            return None
        limit = max(MIN_SELECTION, int(self.store.chunk_span() * SELECTIVE_SHARE))
        return self.store.chunks_where(filters.folder, filters.file_types, filters.modified_after,
                                       filters.modified_before, limit)

    @staticmethod
    def _keyword_hits(store: Store, parsed: ParsedQuery, depth: int, few: int,
                      allowed: set[int] | None) -> tuple[list[tuple[int, float]], bool]:
        """(chunk, bm25) of the best keyword matches (within `allowed` when given), and whether
        they are every match there is.

        FTS5 scores every chunk that holds any of the words, about a microsecond each: at a
        million passages, a few common words reach most of them. So the words are taken rarest
        first while the chunks holding them stay within KEYWORD_BUDGET (a rare word, a name, a
        code always counts); the common words left out weigh little in BM25, and the vectors
        still see the whole query. When even the rarest word is that common, its newest
        KEYWORD_BUDGET matches are ranked. When the words kept are in fewer than `few` chunks,
        the newest matches of all the words follow theirs."""
        words = [t for t in parsed.terms if t not in STOPWORDS] or parsed.terms
        one_per_stem = {stem(word): word for word in words}
        counts = store.term_counts(one_per_stem.values())
        kept: set[str] = set()
        total = 0
        for term in sorted(one_per_stem, key=lambda t: counts[one_per_stem[t]]):
            if kept and total + counts[one_per_stem[term]] > KEYWORD_BUDGET:
                break
            kept.add(term)
            total += counts[one_per_stem[term]]
        query = Searcher._keyword_query(parsed, [w for w in words if stem(w) in kept])
        wanted, within = depth, None
        if allowed is not None and len(allowed) <= FTS_SELECTION:
            within = sorted(allowed)  # FTS5 drops the other matches unscored
        elif allowed is not None:  # too many to hand over: the best matches of all, then those allowed
            wanted = KEYWORD_BUDGET
        if total <= KEYWORD_BUDGET or parsed.phrases:
            hits = store.text_candidates(query, wanted, within)
            full = len(hits) < wanted
        else:
            hits = store.recent_text_candidates(query, wanted, KEYWORD_BUDGET, within)
            full = False
        if allowed is not None and within is None:
            hits = [hit for hit in hits if hit[0] in allowed]
        if len(hits) < few and len(kept) < len(one_per_stem):  # the rare words are in few chunks:
            more = store.recent_text_candidates(  # the others' newest matches follow
                Searcher._keyword_query(parsed, words), wanted, KEYWORD_BUDGET, within)
            hits = _after(hits, [hit for hit in more if allowed is None or hit[0] in allowed])
            full = False
        return hits[:depth], full and len(hits) <= depth

    @staticmethod
    def _keyword_query(parsed: ParsedQuery, words: list[str]) -> str:
        """Any of the words; and each "exact phrase", when there are any."""
        any_word = fts_query(words)
        if not parsed.phrases:
            return any_word
        return f"({any_word}) AND " + " AND ".join(phrase_query([phrase]) for phrase in parsed.phrases)

    def _holding(self, phrases: list[list[str]], all_of: bool) -> set[int]:
        """Chunks holding every one of `phrases`."""
        query = " AND ".join(phrase_query([p]) for p in phrases) if all_of else phrase_query(phrases)
        return {cid for cid, _ in self.store.text_candidates(query, 50_000)}

    def _per_file(self, fused: dict[int, float], cosines: dict[int, float], parsed: ParsedQuery, limit: int,
                  filters: Filters, banned: set[str]) -> list[SearchResult]:
        rows = self.store.chunk_rows(list(fused))
        by_file: dict[str, tuple[float, int]] = {}
        for chunk_id, score in sorted(fused.items(), key=lambda item: -item[1]):
            row = rows.get(chunk_id)
            if row is None or row[0] in banned or not filters.accepts(row[0], row[1], row[2]):
                continue
            if row[0] not in by_file:
                by_file[row[0]] = (score, chunk_id)
        results = []
        for path, (score, chunk_id) in sorted(by_file.items(), key=lambda item: -item[1][0])[:limit]:
            _, file_type, mtime, page, text, start, end, _embedded = rows[chunk_id]
            relevance = 1.0 / (1.0 + math.exp(-score / DISPLAY_SPREAD))  # monotone, in (0, 1), for display
            similarity = cosines.get(chunk_id)
            match = judge(self.embedder.spec.name, parsed.text, path, text, similarity)
            results.append(SearchResult(path, relevance, page, make_snippet(text, parsed.terms), file_type, mtime,
                                        start, end, similarity, match))
        return results


def _after(hits: list[tuple[int, float]], more: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """`hits`, then those of `more` not among them, their bm25 scores shifted to rank after
    every one of `hits` (lower is better)."""
    seen = {chunk for chunk, _ in hits}
    extra = [(c, score) for c, score in more if c not in seen]
    if not hits or not extra:
        return hits + extra
    shift = max(score for _, score in hits) - min(score for _, score in extra)
    return hits + [(c, score + max(shift, 0.0)) for c, score in extra]


def z_score_fusion(score_lists: list[dict[int, float]], complete: list[bool] | None = None,
                   unscored: list[set[int]] | None = None, weights: list[float] | None = None) -> dict[int, float]:
    """Weighted sum of each list's z-scores (CombSUM), over every chunk any list holds.

    A chunk missing from a list that holds every match (the keyword list, when it was not cut at
    its depth) has no match there at all: it scores 0, and the list's mean and spread are taken
    over all the candidates. So a word that only a few passages hold, a code, a name, lifts them
    far above the rest, while a word most passages hold about equally hardly separates them (the
    spread of such a list is at least a tenth of its mean). A chunk missing
    from a list that was cut (the vector list always is) scores one standard deviation below the
    list's worst. A chunk the list could not score at all (`unscored`: its passage has no vector
    yet) counts as the list's mean, so it is ranked by the other lists.

    On CISI z-score fusion ranked better than reciprocal rank fusion (see bench/quality.py), with
    each list speaking in its own standard deviations.
    """
    complete = complete or [False] * len(score_lists)
    exempt = unscored or [set() for _ in score_lists]
    weights = weights or [1.0] * len(score_lists)
    lists = [entry for entry in zip(score_lists, complete, exempt, weights) if entry[0]]
    everyone = set().union(*(scores for scores, _, _, _ in lists))
    fused = dict.fromkeys(everyone, 0.0)
    for scores, full, skip, weight in lists:
        values = [scores.get(cid, 0.0) for cid in everyone] if full else list(scores.values())
        mean = sum(values) / len(values)
        spread = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        if full:  # near-equal keyword scores (a word every passage holds) must not look decisive
            spread = max(spread, FLAT_KEYWORDS * abs(mean))
        spread = spread or 1.0
        floor = (min(scores.values()) - mean) / spread - 1.0
        for cid in everyone:
            if cid in scores:
                fused[cid] += weight * (scores[cid] - mean) / spread
            elif cid in skip:
                continue
            elif full:
                fused[cid] += weight * (0.0 - mean) / spread
            else:
                fused[cid] += weight * floor
    return fused
