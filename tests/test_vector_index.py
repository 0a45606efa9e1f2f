"""The fast vector path (vector_index.py) on real sqlite-vec tables: exact when its candidates
cover everything, close to exact when they do not, current after every change, and searched
within a filter's passages."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import fill, unit_vectors

import kenning.store as store_module
import kenning.vector_index as vector_index
from kenning.store import FileStatus, NewChunk, Store

DIMENSIONS = 64


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "data")
    yield store
    store.close()


def exact(store: Store, query: np.ndarray, k: int) -> list[int]:
    rows = list(store.db.execute(f"SELECT rowid, embedding FROM {store.vector_table}"))
    ids = np.array([r[0] for r in rows])
    vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), -1)
    return ids[np.argsort(-(vectors @ query), kind="stable")[:k]].tolist()


def recall(store: Store, queries: np.ndarray, k: int = 10) -> float:
    found = [len({p for p, _ in store.vector_candidates(q, k)} & set(exact(store, q, k))) / k for q in queries]
    return float(np.mean(found))


def clustered(store: Store, tmp_path, files: int, per_file: int, seed: int = 1) -> np.ndarray:
    """Fill the store with vectors around 40 centres; returns queries near those centres."""
    rng = np.random.default_rng(seed)
    centres = unit_vectors(rng, 40, DIMENSIONS)
    fill(store, tmp_path / "docs", files, per_file, DIMENSIONS, seed=seed, centres=centres)
    return unit_vectors(rng, 20, DIMENSIONS, centres)


def test_when_the_candidates_cover_everything_the_fast_path_is_exact(store, tmp_path, monkeypatch):
    queries = clustered(store, tmp_path, 60, 25)  # 1,500 passages
    monkeypatch.setattr(vector_index, "RESCORE_MIN", 2000)
    for query in queries[:5]:
        fast = store.vector_candidates(query, 50)
        assert [p for p, _ in fast] == exact(store, query, 50)
        vectors = dict(store.db.execute(f"SELECT rowid, embedding FROM {store.vector_table}"))
        for passage, distance in fast[:5]:
            vector = np.frombuffer(vectors[passage], dtype=np.float32)
            assert distance == pytest.approx(1 - float(vector @ query) / float(np.linalg.norm(vector)), abs=1e-5)


def test_the_estimate_keeps_the_true_neighbours(store, tmp_path, monkeypatch):
    queries = clustered(store, tmp_path, 120, 25)  # 3,000 passages
    assert recall(store, queries) >= 0.98  # the estimate narrows 3,000 to 500 for rescoring
    monkeypatch.setattr(vector_index, "RESCORE_MIN", 30)
    monkeypatch.setattr(vector_index, "MAX_RESCORED_SHARE", 1)
    assert recall(store, queries) >= 0.9  # to 30, with no second chances


def test_random_vectors_are_found_too(store, tmp_path):
    fill(store, tmp_path / "docs", 80, 25, DIMENSIONS)
    queries = unit_vectors(np.random.default_rng(5), 10, DIMENSIONS)
    assert recall(store, queries) >= 0.9


def test_the_codes_follow_every_change(store, tmp_path):
    queries = clustered(store, tmp_path, 40, 25)
    query = queries[0]
    first = [p for p, _ in store.vector_candidates(query, 10)]
    path = store.db.execute("SELECT f.path FROM files f JOIN chunks c ON c.file_id = f.id "
                            "WHERE c.passage_id = ?", (first[0],)).fetchone()[0]
    gone = {p for p, in store.db.execute("SELECT passage_id FROM chunks c JOIN files f ON f.id = c.file_id "
                                         "WHERE f.path = ?", (path,))}
    store.remove_files([path])
    after = [p for p, _ in store.vector_candidates(query, 10)]
    assert not gone & set(after)
    assert after == exact(store, query, 10)

    store.record_file(str(tmp_path / "docs" / "new.txt"), folder_id=None, file_type="txt", size=1, mtime=1.0,
                      content_hash="new", status=FileStatus.INDEXED, chunks=[NewChunk(0, None, 0, 9, "brand new")],
                      vectors=query[None, :])
    newest = store.vector_candidates(query, 10)
    assert newest[0][1] == pytest.approx(0.0, abs=1e-5)
    assert store.chunk_rows(store.chunks_of([newest[0][0]])[0][1:])  # it is the new file's passage


def test_a_filter_on_few_files_is_searched_within_and_fills_the_list(store, tmp_path):
    fill(store, tmp_path / "docs", 400, 5, DIMENSIONS, subfolders=100)  # 4 files a subfolder
    folder = str(tmp_path / "docs" / "part07")
    selection = store.chunks_where(folder, (), None, None, limit=1000)
    paths = {store.chunk_rows([c])[c][0] for c, _ in selection}
    assert len(selection) == 20 and all(p.startswith(folder + "/") for p in paths) and len(paths) == 4
    query = unit_vectors(np.random.default_rng(3), 1, DIMENSIONS)[0]
    within = [p for _, p in selection]
    found = store.vector_candidates(query, 10, within)
    assert len(found) == 10 and {p for p, _ in found} <= set(within)
    assert store.chunks_where(str(tmp_path / "docs"), (), None, None, limit=1000) is None  # 2,000: too many
    assert len(store.chunks_where(None, ("txt",), 1_700_000_000.0 + 390, None, limit=1000)) == 50


def test_words_are_counted_exactly_in_a_small_index_and_estimated_in_a_large_one(store, tmp_path, monkeypatch):
    fill(store, tmp_path / "docs", 400, 5, DIMENSIONS)  # 2,000 chunks; each word in about 45%
    exact = {word: store.value("SELECT count(*) FROM chunk_fts WHERE chunk_fts MATCH ?", (f'"{word}"',))
             for word in ("river", "rivers", "doc7", "nowhere")}
    assert exact["rivers"] == exact["river"] > 500  # counted by stem, as FTS5 matches
    assert store.term_counts(exact) == exact
    monkeypatch.setattr(store_module, "TERM_SAMPLE_CHUNKS", 400)  # a fifth, in 4 slices
    estimate = store.term_counts(["river", "doc7", "nowhere"])
    assert estimate["nowhere"] == 0 and abs(estimate["river"] - exact["river"]) < 0.2 * exact["river"]


def test_a_filter_with_no_vectors_finds_nothing(store, tmp_path):
    fill(store, tmp_path / "docs", 10, 5, DIMENSIONS)
    query = unit_vectors(np.random.default_rng(3), 1, DIMENSIONS)[0]
    assert store.vector_candidates(query, 10, within=[]) == []
    assert store.vector_candidates(query, 10, within=[10**9]) == []


def test_a_table_made_anew_by_the_same_connection_is_read_anew(store, tmp_path):
    queries = clustered(store, tmp_path, 20, 25)
    assert store.vector_candidates(queries[0], 10)
    table = store.vector_table
    store.db.execute(f"DROP TABLE {table}")  # no row changes counted: only the schema changed
    store.db.execute(store_module.vector_table_sql(table, DIMENSIONS))
    assert store.vector_candidates(queries[0], 10) == []
    store.db.execute(f"INSERT INTO {table}(rowid, embedding) VALUES (7, ?)", (queries[0].tobytes(),))
    assert [p for p, _ in store.vector_candidates(queries[0], 10)] == [7]


def churn(store: Store, tmp_path, rng: np.random.Generator, name: str, removed: int, added: int, passages: int) -> None:
    """Remove `removed` files picked by `rng`, then record `added` new ones of random vectors."""
    paths = sorted(p for p, in store.db.execute("SELECT path FROM files"))
    store.remove_files([paths[i] for i in rng.choice(len(paths), size=removed, replace=False)])
    for n in range(added):
        chunks = [NewChunk(i, None, 0, 9, f"{name} file {n} passage {i}") for i in range(passages)]
        store.record_file(str(tmp_path / "docs" / f"{name}-{n}.txt"), folder_id=None, file_type="txt", size=1,
                          mtime=1.0, content_hash=f"{name}-{n}", status=FileStatus.INDEXED, chunks=chunks,
                          vectors=unit_vectors(rng, passages, DIMENSIONS))


def test_chunks_deleted_and_made_again_keep_every_vector_in_its_place(store, tmp_path, monkeypatch):
    """vec0 deletes a chunk whose vectors are all gone and numbers new ones afresh: the codes'
    blocks are freed and reused, and a search from another connection sees it all."""
    monkeypatch.setattr(vector_index, "RESCORE_MIN", 10_000)  # rescore everything: must equal exact
    monkeypatch.setattr(vector_index, "MIN_TRAINING", 64)  # and keep codes all along
    fill(store, tmp_path / "docs", 8, 32, DIMENSIONS)
    searcher = Store(store.data_dir)
    rng = np.random.default_rng(9)
    queries = unit_vectors(rng, 3, DIMENSIONS)
    try:
        for round_ in range(6):
            churn(store, tmp_path, rng, f"new-{round_}", removed=3, added=2, passages=40)
            for query in queries:
                assert [p for p, _ in searcher.vector_candidates(query, 30)] == exact(store, query, 30)
    finally:
        searcher.close()


def test_a_table_the_fast_path_cannot_read_is_searched_by_sqlite_vec_itself(store, tmp_path):
    fill(store, tmp_path / "docs", 30, 10, 10)  # 10 dimensions: FastScan packs codes of four
    query = unit_vectors(np.random.default_rng(4), 1, 10)[0]
    assert [p for p, _ in store.vector_candidates(query, 10)] == exact(store, query, 10)
    within = [p for p, in store.db.execute("SELECT id FROM passages ORDER BY id LIMIT 40")]
    inside = [p for p, _ in store.vector_candidates(query, 5, within)]
    assert len(inside) == 5 and set(inside) <= set(within)


def table_vectors(store: Store) -> dict[int, np.ndarray]:
    return {rowid: np.frombuffer(blob, dtype=np.float32)
            for rowid, blob in store.db.execute(f"SELECT rowid, embedding FROM {store.vector_table}")}


def assert_codes_match_the_table(store: Store) -> None:
    """Every live slot's packed code is the code of the vector the table holds for its rowid."""
    index = store._fast_vectors()
    index.refresh()
    vectors = table_vectors(store)
    slots = np.flatnonzero(index.valid)
    assert sorted(index.rowids[slots].tolist()) == sorted(vectors)
    expected = index.fast.pq.compute_codes(np.stack([vectors[int(r)] for r in index.rowids[slots]]))
    nibbles = np.stack([expected & 15, expected >> 4], axis=-1).reshape(len(slots), -1)
    assert np.array_equal(codes_of(index, slots), nibbles)


def codes_of(index: vector_index.VectorIndex, slots: np.ndarray) -> np.ndarray:
    """The [slot, code] 4-bit codes of these slots, read out of FastScan's packed blocks."""
    layout = vector_index.block_layout(index.codes_per_vector)
    nibble_of = np.empty_like(layout)
    nibble_of[layout] = np.arange(len(layout))
    nibble = nibble_of.reshape(vector_index.BLOCK, -1)[slots % vector_index.BLOCK]
    data = index.packed[(slots // vector_index.BLOCK)[:, None] * index.block_bytes + nibble // 2]
    return (data >> (4 * (nibble % 2))).astype(np.uint8) & 15


def test_the_packed_codes_follow_growth_deletion_and_reuse(store, tmp_path, monkeypatch):
    monkeypatch.setattr(vector_index, "MIN_TRAINING", 64)
    fill(store, tmp_path / "docs", 6, 20, DIMENSIONS)
    assert_codes_match_the_table(store)
    rng = np.random.default_rng(11)
    for round_ in range(5):  # the table grows past the code book's GROWTH (learnt again) and shrinks
        churn(store, tmp_path, rng, f"grow-{round_}", removed=2, added=3, passages=45)
        assert_codes_match_the_table(store)
    monkeypatch.setattr(vector_index, "RESCORE_MIN", 5)
    queries = unit_vectors(rng, 10, DIMENSIONS)
    assert recall(store, queries, k=5) >= 0.9  # the codes alone, from what they now hold


@pytest.mark.parametrize("subset_share", [1.0, 0.0], ids=["its blocks scanned", "whole scan, then filtered"])
def test_a_filter_is_searched_by_its_codes_either_way(store, tmp_path, monkeypatch, subset_share):
    queries = clustered(store, tmp_path, 200, 10)
    monkeypatch.setattr(vector_index, "RESCORE_MIN", 20)
    monkeypatch.setattr(vector_index, "SUBSET_SHARE", subset_share)
    within = [p for p, in store.db.execute("SELECT id FROM passages WHERE id % 10 = 3")]  # 200 of 2,000
    vectors = table_vectors(store)
    found = []
    for query in queries:
        fast = store.vector_candidates(query, 10, within)
        assert len(fast) == 10 and {p for p, _ in fast} <= set(within)
        best = sorted(within, key=lambda p: -float(vectors[p] @ query))[:10]
        found.append(len({p for p, _ in fast} & set(best)) / 10)
    assert np.mean(found) >= 0.95
