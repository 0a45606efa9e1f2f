"""The store on a real SQLite file in a temporary folder and on a fresh database of a real
PostgreSQL server (no model needed): schema, nesting transactions, files and passages, folder
removal in batches, vector tables, privacy."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
from synthetic import fill

from kenning.store import SCHEMA_VERSION, FileStatus, Meta, NewChunk, Store, open_store


@pytest.fixture
def store(tmp_path, backend):
    store = open_store(tmp_path / "data", backend)
    yield store
    store.close()


def count(store: Store, sql: str) -> int:
    return store.db.execute(sql).fetchone()[0]


def test_a_new_store_is_migrated_and_private(store, backend):
    assert int(store.get_meta(Meta.SCHEMA_VERSION)) == len(store.MIGRATIONS)
    assert stat.S_IMODE(os.stat(store.data_dir).st_mode) == 0o700
    if backend is None:
        assert len(store.MIGRATIONS) == SCHEMA_VERSION
        assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    reopened = open_store(store.data_dir, backend)  # migrations are not applied twice
    assert int(reopened.get_meta(Meta.SCHEMA_VERSION)) == len(store.MIGRATIONS)
    assert reopened.quick_check() == []
    reopened.close()


def test_a_database_from_a_newer_kenning_is_refused(store, backend):
    store.set_meta(Meta.SCHEMA_VERSION, str(len(store.MIGRATIONS) + 1))
    with pytest.raises(Exception, match="newer Kenning"):
        open_store(store.data_dir, backend)


def test_transactions_nest_and_an_inner_failure_rolls_back_alone(store):
    with store.transaction():
        store.set_meta(Meta.EXCLUDE, "outer")
        with pytest.raises(ValueError), store.transaction():
            store.set_meta(Meta.PAUSED, "1")
            raise ValueError("inner fails")
        with store.transaction():
            store.set_meta(Meta.MODEL, "kept")
    assert store.get_meta(Meta.EXCLUDE) == "outer"
    assert store.get_meta(Meta.PAUSED) is None
    assert store.get_meta(Meta.MODEL) == "kept"
    assert not store.db.in_transaction


def test_an_outer_failure_rolls_back_what_inner_ones_did(store):
    with pytest.raises(RuntimeError), store.transaction():
        with store.transaction():
            store.set_meta(Meta.EXCLUDE, "gone")
        raise RuntimeError
    assert store.get_meta(Meta.EXCLUDE) is None


def test_a_file_read_while_its_folder_is_removed_is_not_recorded(store, tmp_path):
    folder = store.add_folder(str(tmp_path / "docs"))
    store.db.execute("UPDATE folders SET removing = TRUE WHERE id = ?", (folder,))  # what remove_folder does first
    recorded = store.record_file(str(tmp_path / "docs" / "late.txt"), folder_id=folder, file_type="txt", size=1,
                                 mtime=1.0, content_hash="h", status=FileStatus.INDEXED,
                                 chunks=[NewChunk(0, None, 0, 4, "late")])
    assert recorded is None and store.file(str(tmp_path / "docs" / "late.txt")) is None
    assert count(store, "SELECT count(*) FROM chunks") == 0


def test_recording_a_file_replaces_its_passages_and_vectors(store, tmp_path):
    store.bind_model("test-model", 4)
    folder = store.add_folder(str(tmp_path / "docs"))
    path = str(tmp_path / "docs" / "a.txt")

    def record(texts):
        vectors = np.eye(4, dtype=np.float32)[: len(texts)]
        chunks = [NewChunk(i, None, 0, len(t), t) for i, t in enumerate(texts)]
        store.record_file(path, folder_id=folder, file_type="txt", size=1, mtime=1.0, content_hash="h",
                          status=FileStatus.INDEXED, chunks=chunks, vectors=vectors)

    record(["alpha beta", "gamma delta", "epsilon"])
    record(["zeta"])
    assert store.file(path).chunk_count == 1 and store.file(path).status == FileStatus.INDEXED
    assert count(store, "SELECT count(*) FROM chunks") == 1
    assert count(store, "SELECT count(*) FROM chunk_vectors") == 1
    assert store.text_candidates('"zeta"', 10) and not store.text_candidates('"alpha"', 10)
    assert store.counts() == {FileStatus.INDEXED: 1}


def test_a_different_model_is_refused(store):
    store.bind_model("one", 4)
    store.bind_model("one", 4)
    with pytest.raises(Exception, match="cannot mix"):
        store.bind_model("two", 4)


def test_removing_a_folder_goes_in_batches_and_an_interrupted_one_is_finished(store, tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    fill(store, docs, files=450, chunks_per_file=3, dimensions=8)
    store.enqueue([(str(docs / "queued.txt"), 1.0)])
    batches = []
    original = store._remove_stored

    def interrupted(paths):
        batches.append(len(paths))
        if len(batches) == 2:
            raise KeyboardInterrupt  # a kill half-way
        return original(paths)

    monkeypatch.setattr(store, "_remove_stored", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.remove_folder(str(docs))
    monkeypatch.undo()
    assert batches[0] < 450  # not one long transaction
    assert store.folders() == [] and not store.has_folder(str(docs))  # gone at once for the user
    assert store.queued_count() == 0
    left = count(store, "SELECT count(*) FROM files")
    assert 0 < left < 450
    assert store.finish_removals() == left
    for table in ("files", "chunks", "passages", "chunk_vectors", "folders"):
        assert count(store, f"SELECT count(*) FROM {table}") == 0
    assert store.integrity_ok()


def test_vector_tables_are_found_and_every_one_loses_a_removed_passage(store, tmp_path):
    fill(store, tmp_path / "docs", files=2, chunks_per_file=2, dimensions=8)
    store.create_vector_table("chunk_vectors_2", 8)
    ids = [r[0] for r in store.db.execute("SELECT id FROM passages")]
    with store.transaction():
        for passage in ids:
            store.put_vector("chunk_vectors_2", passage, np.ones(8, dtype=np.float32))
    assert sorted(store.vector_tables()) == ["chunk_vectors", "chunk_vectors_2"]
    store.remove_files([str(tmp_path / "docs" / "file000000.txt")])
    assert count(store, "SELECT count(*) FROM chunk_vectors") == 2
    assert count(store, "SELECT count(*) FROM chunk_vectors_2") == 2
    store.use_vector_table("other-model", 8, "chunk_vectors_2")
    assert store.vector_tables() == ["chunk_vectors_2"] and store.model_name == "other-model"


def test_the_queue_keeps_one_entry_per_path_highest_priority_first(store):
    store.enqueue([("/a", 1.0), ("/b", 5.0), ("/a", 9.0)])
    assert store.next_queued(10) == ["/a", "/b"]
    store.dequeue(["/a"])
    assert store.next_queued(10) == ["/b"] and store.queued_count() == 1


def test_an_index_from_schema_3_keeps_its_vectors_and_drops_duplicates(tmp_path):
    """Chunks held their text and one vector each; now a passage per distinct text holds it."""
    import apsw
    import sqlite_vec

    from kenning import store as store_module

    data = tmp_path / "old"
    data.mkdir()
    db = apsw.Connection(str(data / store_module.DATABASE_NAME))
    db.enable_load_extension(True)
    db.load_extension(sqlite_vec.loadable_path())
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    for _, sql in store_module._MIGRATIONS[:3]:
        db.execute(sql)
    db.execute("INSERT INTO meta VALUES ('schema_version', '3'), ('model', 'm'), ('dimensions', '4')")
    db.execute("CREATE VIRTUAL TABLE chunk_vectors USING vec0(embedding float[4] distance_metric=cosine)")
    db.execute("INSERT INTO folders(id, path, added_at) VALUES (1, '/docs', 0)")
    texts = ["alpha beta", "gamma  delta", "alpha beta", "gamma delta"]  # 3 and 4 repeat 1 and 2
    for file_id in (1, 2):
        db.execute("INSERT INTO files(id, path, folder_id, file_type, size, mtime, status, chunk_count, indexed_at) "
                   "VALUES (?, ?, 1, 'txt', 1, 5.0, 'indexed', 2, 0)", (file_id, f"/docs/{file_id}.txt"))
    for chunk_id, text in enumerate(texts, 1):
        db.execute("INSERT INTO chunks(id, file_id, ordinal, char_start, char_end, text) VALUES (?, ?, ?, 0, 9, ?)",
                   (chunk_id, 1 + (chunk_id - 1) // 2, (chunk_id - 1) % 2, text))
        db.execute("INSERT INTO chunk_fts(rowid, text, title) VALUES (?, ?, 't')", (chunk_id, text))
        db.execute("INSERT INTO chunk_vectors(rowid, embedding) VALUES (?, ?)",
                   (chunk_id, np.full(4, chunk_id, dtype=np.float32).tobytes()))
    db.close()

    store = Store(data)
    try:
        assert int(store.get_meta(Meta.SCHEMA_VERSION)) == SCHEMA_VERSION
        assert list(store.db.execute("SELECT id, text, embedded FROM passages ORDER BY id")) == [
            (1, "alpha beta", 1), (2, "gamma  delta", 1)]
        assert list(store.db.execute("SELECT id, passage_id FROM chunks ORDER BY id")) == [(1, 1), (2, 2), (3, 1), (4, 2)]
        table = store.vector_table  # copied into small chunks (schema 6)
        assert sorted(r[0] for r in store.db.execute(f"SELECT rowid FROM {table}")) == [1, 2]
        assert store.value("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).endswith(
            f"chunk_size={store_module.VECTOR_CHUNK_SIZE})")
        assert {p for p, _ in store.vector_candidates(np.full(4, 1.0, dtype=np.float32), 2)} == {1, 2}
        assert store.waiting_count() == 0
        assert store.chunk_rows([3])[3][4] == "alpha beta"
        assert store.integrity_ok()
    finally:
        store.close()


def text_file_recorder(store: Store, folder):
    """A function recording a text file of the given passages in `folder` (a fresh store's)."""
    store.bind_model("m", 4)
    folder_id = store.add_folder(str(folder))

    def record(name, texts, into=None):
        (into or store).record_file(str(folder / name), folder_id=folder_id, file_type="txt", size=1, mtime=1.0,
                                    content_hash=name, status=FileStatus.INDEXED,
                                    chunks=[NewChunk(i, None, 0, 1, t) for i, t in enumerate(texts)])
    return record


def test_passages_are_shared_between_files_and_forgotten_with_the_last(store, tmp_path):
    record = text_file_recorder(store, tmp_path)

    record("a.txt", ["one shared passage", "only in a"])
    record("b.txt", ["one  shared\npassage", "only in b"])  # the same words, other spacing
    assert store.passage_count() == 3 and store.waiting_count() == 3
    rows = store.waiting_passages(10)
    store.store_vectors("chunk_vectors", rows, np.eye(4, dtype=np.float32)[: len(rows)])
    assert store.waiting_count() == 0
    store.remove_files([str(tmp_path / "a.txt")])
    assert store.passage_count() == 2  # "only in a" went; the shared one stays for b
    assert count(store, "SELECT count(*) FROM chunk_vectors") == 2
    record("b.txt", ["something new"])
    assert store.passage_count() == 1 and store.waiting_count() == 1
    assert count(store, "SELECT count(*) FROM chunk_vectors") == 0


def test_vectors_for_a_passage_that_changed_meanwhile_are_dropped(store, tmp_path):
    store.bind_model("m", 4)
    folder = store.add_folder(str(tmp_path))
    store.record_file(str(tmp_path / "a.txt"), folder_id=folder, file_type="txt", size=1, mtime=1.0,
                      content_hash="a", status=FileStatus.INDEXED, chunks=[NewChunk(0, None, 0, 1, "first text")])
    rows = store.waiting_passages(10)
    store.record_file(str(tmp_path / "a.txt"), folder_id=folder, file_type="txt", size=2, mtime=2.0,
                      content_hash="b", status=FileStatus.INDEXED, chunks=[NewChunk(0, None, 0, 1, "second text")])
    assert store.store_vectors("chunk_vectors", rows, np.ones((1, 4), dtype=np.float32)) == 0
    assert store.waiting_count() == 1
    assert store.store_vectors("a_table_no_longer_searched", store.waiting_passages(10), np.ones((1, 4))) == 0


def test_a_passage_id_is_never_used_twice(store, tmp_path, backend):
    """vec0 can refill a deleted slot: a new passage under an old id would leave the fast vector
    path's codes of that slot stale (vector_index.py sees changes by the slots' rowids)."""
    record = text_file_recorder(store, tmp_path)
    record("a.txt", ["first", "second"])
    record("b.txt", ["third", "fourth"])  # the newest passages, with the highest ids
    used = {p for p, in store.db.execute("SELECT id FROM passages")}
    store.remove_files([str(tmp_path / "b.txt")])
    record("c.txt", ["fifth", "sixth", "first"])  # "first" is shared: it keeps its id
    store.close()
    reopened = open_store(tmp_path / "data", backend)  # the highest id deleted outlives the connection
    try:
        record("d.txt", ["seventh"], into=reopened)
        ids = dict(reopened.db.execute("SELECT text, id FROM passages"))
    finally:
        reopened.close()
    assert {ids["fifth"], ids["sixth"], ids["seventh"]}.isdisjoint(used)
    assert ids["first"] in used and ids["seventh"] > ids["sixth"] > ids["fifth"] > max(used)
