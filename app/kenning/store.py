"""Storage stage: one SQLite database per data directory, through apsw (which can load extensions
on every Python, unlike many builds of the standard `sqlite3`).

Tables: folders, files, chunks (a file's passages: page and character span) and passages (each
distinct passage text once, whatever files hold it). `chunk_fts` (FTS5, contentless) indexes the
chunks for BM25; a sqlite-vec vec0 table (cosine) holds one vector per passage, so a passage that
is unchanged, moved or copied is never embedded again. The vector table searched is named in meta
`vector_table` (`chunk_vectors` at first): a model switch builds the next one beside it
(switch.py).

Indexing runs in two phases: a file's chunks, passages and keywords are written in one
transaction (searchable by keyword at once), and passages still without a vector wait for the
embedding phase, which takes them a batch at a time: first slices of every file before later ones
(`slice`), recently modified files first (`priority`). Readers and a crash see each file either
fully old or fully new. Transactions nest: an inner `transaction()` is a SAVEPOINT.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, cast

import apsw
import numpy as np
import sqlite_vec

from kenning.errors import IndexError_
from kenning.paths import SharedRoots, private_dir, readable_path, real_path, stored_path
from kenning.storage_faults import storage_errors
from kenning.vector_index import VectorIndex

log = logging.getLogger(__name__)

DATABASE_NAME = "kenning.sqlite3"
REMOVE_BATCH_FILES = 200  # files forgotten per transaction when a folder is removed
SLICE_PASSAGES = 32  # a long file's passages are embedded this many at a time, between other files
# vec0 keeps this many vectors per blob; small blobs make reading one vector by its slot cheap
# (vector_index.py), where sqlite-vec's default of 1024 means walking a 1.5 MB overflow chain.
VECTOR_CHUNK_SIZE = 32
TERM_SAMPLE_CHUNKS = 8000  # term_counts counts in this many chunks at most,
TERM_SAMPLE_SLICES = 4  # taken in slices spread over the index
VEC0_MAX_K = 4096  # the most neighbours sqlite-vec's own KNN returns


class FileStatus(str, Enum):
    INDEXED = "indexed"
    FAILED = "failed"
    UNSUPPORTED = "unsupported"
    EMPTY = "empty"  # readable, but no text in it
    NEEDS_OCR = "needs_ocr"  # scanned pages or images, for OCR (what text it has is indexed already)

    def __str__(self) -> str:
        return self.value


PROBLEM_STATUSES = (FileStatus.FAILED, FileStatus.EMPTY)
LISTED_STATUSES = (*PROBLEM_STATUSES, FileStatus.NEEDS_OCR)  # what `failures` lists, with the reason


class Meta(str, Enum):
    """Every key of the `meta` table, in one place."""

    SCHEMA_VERSION = "schema_version"
    MODEL = "model"  # the model whose vectors are searched
    DIMENSIONS = "dimensions"
    VECTOR_TABLE = "vector_table"  # the vec0 table searched
    VECTOR_GENERATION = "vector_generation"  # numbers each new vector table
    NEXT_MODEL = "next_model"  # a model switch under way (switch.py): its model,
    NEXT_DIMENSIONS = "next_dimensions"  # vector size,
    NEXT_TABLE = "next_table"  # table being built,
    NEXT_CURSOR = "next_cursor"  # the last chunk id done in order,
    NEXT_DONE = "next_done"  # and how many chunks have new vectors
    EXCLUDE = "exclude"  # global exclusion patterns, one per line
    SERVICE_STATUS = "service_status"  # the running service's last status (JSON)
    PAUSED = "paused"  # "1" while the user has paused indexing
    LAST_PASSAGE_ID = "last_passage_id"  # the highest passage id ever deleted: ids are never reused

    def __str__(self) -> str:
        return self.value


def passage_hash(text: str) -> bytes:
    """What makes two passages the same: their words, whatever the spacing between them."""
    return hashlib.blake2b(" ".join(text.split()).encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _passages_from_chunks(db: apsw.Connection) -> None:
    """Schema 4: each distinct chunk text becomes one passage, numbered as its first chunk, so the
    vectors already stored (by chunk id) stay valid for it; duplicates' vectors are dropped."""
    db.execute("""
    CREATE TABLE passages (
        id INTEGER PRIMARY KEY,
        hash BLOB NOT NULL UNIQUE,
        text TEXT NOT NULL,
        slice INTEGER NOT NULL DEFAULT 0,
        priority REAL NOT NULL DEFAULT 0,
        embedded INTEGER NOT NULL DEFAULT 0
    );
    ALTER TABLE chunks ADD COLUMN passage_id INTEGER;
    """)
    bound = db.execute("SELECT 1 FROM meta WHERE key = 'model'").fetchone() is not None
    tables = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%vec0(%'")]
    first: dict[bytes, int] = {}
    rows = list(db.execute("SELECT c.id, c.ordinal, c.text, f.mtime FROM chunks c JOIN files f ON f.id = c.file_id "
                           "ORDER BY c.id"))
    for chunk_id, ordinal, text, mtime in rows:
        digest = passage_hash(text)
        if digest in first:
            for table in tables:
                db.execute(f"DELETE FROM {table} WHERE rowid = ?", (chunk_id,))
        else:
            first[digest] = chunk_id
            db.execute("INSERT INTO passages(id, hash, text, slice, priority, embedded) VALUES (?,?,?,?,?,?)",
                       (chunk_id, digest, text, ordinal // SLICE_PASSAGES, mtime, int(bound)))
        db.execute("UPDATE chunks SET passage_id = ? WHERE id = ?", (first[digest], chunk_id))
    db.execute("""
    ALTER TABLE chunks DROP COLUMN text;
    CREATE INDEX chunks_passage ON chunks(passage_id);
    CREATE INDEX passages_waiting ON passages(slice, priority DESC) WHERE NOT embedded;
    """)


def vector_table_sql(table: str, dimensions: int) -> str:
    return (f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING vec0(embedding float[{int(dimensions)}] "
            f"distance_metric=cosine, chunk_size={VECTOR_CHUNK_SIZE})")


def _vectors_in_small_chunks(db: apsw.Connection) -> None:
    """Schema 6: each vec0 table is copied into one of VECTOR_CHUNK_SIZE vectors a blob (vec0
    tables cannot be renamed, so the copy takes the next generation's name)."""
    meta = dict(db.execute("SELECT key, value FROM meta"))
    generation = int(meta.get(Meta.VECTOR_GENERATION.value) or 0)
    for key, default in ((Meta.VECTOR_TABLE, "chunk_vectors"), (Meta.NEXT_TABLE, None)):
        table = meta.get(key.value, default)
        exists = table and db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        if not exists:
            continue
        sql = str(db.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).get)
        dimensions = int(sql.split("float[")[1].split("]")[0])
        generation += 1
        copy = f"chunk_vectors_{generation}"
        db.execute(vector_table_sql(copy, dimensions))
        db.execute(f"INSERT INTO {copy}(rowid, embedding) SELECT rowid, embedding FROM {table} ORDER BY rowid")
        db.execute(f"DROP TABLE {table}")
        db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key.value, copy))
    db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (Meta.VECTOR_GENERATION.value, str(generation)))


# Named migrations, applied in order; meta schema_version counts those applied.
_MIGRATIONS: tuple[tuple[str, str | Callable[[apsw.Connection], None]], ...] = (
    ("folders, files, chunks, FTS5", """
    CREATE TABLE folders (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        added_at REAL NOT NULL
    );
    CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        folder_id INTEGER REFERENCES folders(id) ON DELETE SET NULL,
        file_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        mtime REAL NOT NULL,
        content_hash TEXT,
        status TEXT NOT NULL,          -- indexed | failed | unsupported | empty
        error TEXT,
        title TEXT,
        author TEXT,
        chunk_count INTEGER NOT NULL DEFAULT 0,
        indexed_at REAL NOT NULL
    );
    CREATE INDEX files_folder ON files(folder_id);
    CREATE INDEX files_hash ON files(content_hash);
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY,
        file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        page INTEGER,
        char_start INTEGER NOT NULL,
        char_end INTEGER NOT NULL,
        text TEXT NOT NULL
    );
    CREATE INDEX chunks_file ON chunks(file_id, ordinal);
    CREATE VIRTUAL TABLE chunk_fts USING fts5(
        text, title, content='', contentless_delete=1,
        tokenize='porter unicode61 remove_diacritics 2'
    );
    """),
    ("exclusions and the work queue", """
    ALTER TABLE folders ADD COLUMN exclude TEXT NOT NULL DEFAULT '';
    CREATE TABLE queue (
        path TEXT PRIMARY KEY,
        priority REAL NOT NULL,        -- the file's mtime: recently modified first
        enqueued_at REAL NOT NULL
    );
    CREATE INDEX queue_priority ON queue(priority DESC);
    """),
    ("folders being removed", """
    ALTER TABLE folders ADD COLUMN removing INTEGER NOT NULL DEFAULT 0;
    """),
    ("passages: one vector per distinct text, embedded after the keywords", _passages_from_chunks),
    ("what a scan left out, and why", """
    CREATE TABLE skipped (path TEXT PRIMARY KEY, reason TEXT NOT NULL, at REAL NOT NULL);
    """),
    ("vector tables in small chunks", _vectors_in_small_chunks),
    ("files by status (those waiting for OCR)", """
    CREATE INDEX files_status ON files(status, mtime);
    """),
    ("members of archives and mailboxes", """
    ALTER TABLE files ADD COLUMN container_id INTEGER REFERENCES files(id);
    CREATE INDEX files_container ON files(container_id) WHERE container_id IS NOT NULL;
    """),
)
SCHEMA_VERSION = len(_MIGRATIONS)


@dataclass(frozen=True)
class FileRecord:
    id: int
    path: str
    folder_id: int | None
    file_type: str
    size: int
    mtime: float
    content_hash: str | None
    status: FileStatus
    error: str | None
    chunk_count: int

    @classmethod
    def from_row(cls, row, real: Callable[[str], str] = real_path) -> FileRecord:
        file_id, path, folder_id, file_type, size, mtime, content_hash, status, error, chunk_count = row
        return cls(file_id, real(path), folder_id, file_type, size, mtime, content_hash, FileStatus(status), error,
                   chunk_count)


@dataclass(frozen=True)
class NewMember:
    """A member of an archive or mailbox, for `Store.record_container`."""

    path: str  # `container › name`
    file_type: str
    size: int
    mtime: float
    status: FileStatus
    error: str | None = None
    title: str | None = None
    author: str | None = None
    chunks: Sequence[NewChunk] = ()


@dataclass(frozen=True)
class NewChunk:
    ordinal: int
    page: int | None
    char_start: int
    char_end: int
    text: str


def _like_prefix(folder: str, sep: str) -> str:
    escaped = folder.rstrip("/\\").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + sep.replace("\\", "\\\\") + "%"


class Store:
    """The index in SQLite (the default). `PostgresStore` (store_postgres.py) is the same index on
    a server: the statements here are written for both, and what differs between the two is kept
    in the few methods and names it overrides."""

    MIGRATIONS = _MIGRATIONS
    LEAST, GREATEST = "min", "max"  # the smaller and larger of two values
    shared_roots = SharedRoots()  # a shared index's names for this machine's folders (none here)
    FILES_FIRST_JOIN = "CROSS JOIN"  # a join SQLite's planner takes in the order written

    def __init__(self, data_dir: Path, *, migrate: bool = True):
        """`migrate`: bring the schema up to date (a second connection of the same process skips it)."""
        self.data_dir = private_dir(Path(data_dir))
        self.path = self.data_dir / DATABASE_NAME
        # On a read-only disk (a backup, a mount gone read-only) the index can still be searched:
        # opened immutable, as SQLite cannot otherwise read a WAL database it cannot write beside.
        self.read_only = self.path.exists() and not os.access(self.data_dir, os.W_OK)
        old_umask = os.umask(0o077)  # the database, WAL and shm files: owner only
        try:
            if self.read_only:
                self.db = apsw.Connection(f"{self.path.as_uri()}?immutable=1",
                                          flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
            else:
                self.db = apsw.Connection(str(self.path), flags=apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE)
        except apsw.Error as exc:
            raise IndexError_(f"{self.path}: cannot open the index ({exc})") from exc
        finally:
            os.umask(old_umask)
        self._savepoints = 0
        self._vector_index: VectorIndex | None = None
        self._reader: Store | None = None
        try:
            with storage_errors(self.path):
                self.db.setbusytimeout(10_000)
                self.db.enable_load_extension(True)
                self.db.load_extension(sqlite_vec.loadable_path())
                self.db.enable_load_extension(False)
                if self.read_only:
                    self._check_schema()
                else:
                    self.db.execute("PRAGMA journal_mode=WAL")
                    self.db.execute("PRAGMA synchronous=NORMAL")
                    if migrate:
                        self._migrate()
                self.db.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            self.db.close()
            raise
        self.inode = _inode(self.path)

    @property
    def location(self) -> str:
        """Where the index is, as messages name it."""
        return str(self.path)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self.db.close()

    def reader(self) -> Store:
        """A second connection to the same index, for reads that run beside this one's (the
        keyword side of a search, while this connection serves the vector side)."""
        if self._reader is None:
            self._reader = self._connect_again()
        return self._reader

    def _connect_again(self) -> Store:
        return Store(self.data_dir, migrate=False)

    def value(self, sql: str, bindings: tuple = ()) -> Any:
        """The first column of the first row (a count, an id)."""
        row = self.db.execute(sql, bindings).fetchone()
        if row is None:
            raise IndexError_(f"{self.path}: the index is missing a row it needs ({sql.split()[0]})")
        return row[0]

    # -- schema ----------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self.transaction():
            self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            version = int(self.get_meta(Meta.SCHEMA_VERSION) or 0)
            latest = len(self.MIGRATIONS)
            if version > latest:
                raise IndexError_(
                    f"{self.path}: made by a newer Kenning (schema {version}); please update Kenning"
                )
            for step in range(version, latest):
                name, change = self.MIGRATIONS[step]
                log.info("migrating %s: %s", self.path, name)
                if callable(change):
                    change(self.db)
                else:
                    self.db.execute(change)
                self.set_meta(Meta.SCHEMA_VERSION, str(step + 1))

    def _check_schema(self) -> None:
        """An index that cannot be written must already be of this Kenning's schema."""
        version = int(self.get_meta(Meta.SCHEMA_VERSION) or 0)
        if version != SCHEMA_VERSION:
            raise IndexError_(f"{self.path}: the index is on a read-only disk and needs an update "
                              f"(schema {version}, this Kenning uses {SCHEMA_VERSION}); make its folder writable")

    @contextmanager
    def transaction(self, claimed: bool = False) -> Iterator[None]:
        """A write transaction. The outermost one is immediate (it takes the write lock up front,
        so no upgrade deadlock); one opened inside another is a SAVEPOINT, which rolls back alone.
        `claimed`: it writes only rows this indexer holds claims on (the vectors of the passages
        it is embedding), so on a server such transactions of several machines run together."""
        if self.db.in_transaction:
            self._savepoints += 1
            name = f"kenning_{self._savepoints}"
            self.db.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                self.db.execute(f"ROLLBACK TO {name}")
                self.db.execute(f"RELEASE {name}")
                raise
            finally:
                self._savepoints -= 1
            self.db.execute(f"RELEASE {name}")
            return
        self._begin_writing(claimed)
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction: its statements see one state of the database (inside another
        transaction, that one's)."""
        if self.db.in_transaction:
            yield
            return
        self._begin_reading()
        try:
            yield
        finally:
            self._end_reading()

    def _begin_writing(self, claimed: bool) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def _begin_reading(self) -> None:
        self.db.execute("BEGIN")

    def _end_reading(self) -> None:
        self.db.execute("COMMIT")

    def _stored(self, path: str) -> str:
        """`path` as this index keeps it."""
        return stored_path(self.shared_roots.shared(path))

    def _real(self, text: str) -> str:
        """The path on this machine of what this index keeps as `text`."""
        return self.shared_roots.local(real_path(text))

    def _like_below(self, stored: str) -> str:
        """A LIKE pattern for the stored paths below the stored folder path `stored`."""
        return _like_prefix(stored, self.shared_roots.separator(stored))

    def get_meta(self, key: Meta) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key.value,)).fetchone()
        return row[0] if row else None

    def get_metas(self, keys: Iterable[Meta]) -> dict[Meta, str]:
        """Several keys read in one statement (so together, as one state of the database)."""
        wanted = [key.value for key in keys]
        marks = ",".join("?" * len(wanted))
        return {Meta(k): v for k, v in self.db.execute(f"SELECT key, value FROM meta WHERE key IN ({marks})", wanted)}

    def set_meta(self, key: Meta, value: str) -> None:
        with self.transaction():
            self.db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                            (key.value, value))

    def delete_meta(self, keys: Iterable[Meta]) -> None:
        with self.transaction():
            for key in keys:
                self.db.execute("DELETE FROM meta WHERE key = ?", (key.value,))

    # -- the model that built the vectors ------------------------------------------------------

    def bind_model(self, name: str, dimensions: int) -> None:
        """Record the index's model on first use; refuse a different model afterwards."""
        current = self.get_meta(Meta.MODEL)
        if current is None:
            with self.transaction():
                self.set_meta(Meta.MODEL, name)
                self.set_meta(Meta.DIMENSIONS, str(dimensions))
                self.create_vector_table(self.vector_table, dimensions)
            return
        if current != name or self.dimensions != dimensions:
            raise IndexError_(
                f"{self.path}: this index was built with model {current!r} ({self.dimensions} "
                f"dimensions); it cannot mix in vectors from {name!r} ({dimensions} dimensions). "
                f"Switch models with `kenning models use {name}`"
            )

    def create_vector_table(self, table: str, dimensions: int) -> None:
        self._vector_index = None
        with self.transaction():
            self.db.execute(vector_table_sql(table, dimensions))

    def drop_vector_table(self, table: str) -> None:
        self._vector_index = None
        with self.transaction():
            self.db.execute(f"DROP TABLE IF EXISTS {table}")

    def use_vector_table(self, model: str, dimensions: int, table: str) -> None:
        """Make `table` (holding `model`'s vectors) the one searched, and drop the one it replaces."""
        with self.transaction():
            old = self.vector_table if self.model_name else None
            self.set_meta(Meta.MODEL, model)
            self.set_meta(Meta.DIMENSIONS, str(dimensions))
            self.set_meta(Meta.VECTOR_TABLE, table)
            if old and old != table:
                self.drop_vector_table(old)

    def put_vector(self, table: str, passage: int, vector: np.ndarray) -> None:
        """Store (or replace) a passage's vector in `table`."""
        self._drop_vector(table, passage)
        self.db.execute(f"INSERT INTO {table}(rowid, embedding) VALUES (?, ?)",
                        (passage, np.asarray(vector, dtype=np.float32).tobytes()))

    def _drop_vector(self, table: str, passage: int) -> None:
        self.db.execute(f"DELETE FROM {table} WHERE rowid = ?", (passage,))

    def vector_ids(self, table: str) -> set[int]:
        """The passages that have a vector in `table`."""
        return {r[0] for r in self.db.execute(f"SELECT rowid FROM {table}")}

    def passages_after(self, passage: int, limit: int) -> list[tuple[int, str]]:
        """(id, text) of the passages numbered above `passage`, in order."""
        return list(self.db.execute("SELECT id, text FROM passages WHERE id > ? ORDER BY id LIMIT ?", (passage, limit)))

    def passages_without_vector(self, table: str, limit: int) -> list[tuple[int, str]]:
        """(id, text) of the passages that have no vector in `table`, in order."""
        return list(self.db.execute(
            f"SELECT p.id, p.text FROM passages p WHERE NOT EXISTS "
            f"(SELECT 1 FROM {table} v WHERE v.rowid = p.id) ORDER BY p.id LIMIT ?", (limit,)))

    def vector_tables(self) -> list[str]:
        """Every vec0 table (the one searched, and one a model switch is building)."""
        return [r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%vec0(%'")]

    @property
    def model_name(self) -> str | None:
        return self.get_meta(Meta.MODEL)

    @property
    def dimensions(self) -> int | None:
        value = self.get_meta(Meta.DIMENSIONS)
        return int(value) if value else None

    @property
    def vector_table(self) -> str:
        return self.get_meta(Meta.VECTOR_TABLE) or "chunk_vectors"

    def release_free_pages(self) -> None:
        """Give the dropped table's space back to the file system (best effort: a VACUUM needs
        the database to itself for a moment)."""
        try:
            if self.value("PRAGMA auto_vacuum") != 2:
                self.db.execute("PRAGMA auto_vacuum = INCREMENTAL")
                self.db.execute("VACUUM")
            else:
                self.db.execute("PRAGMA incremental_vacuum").fetchall()  # it frees a page per row
        except apsw.Error as exc:
            log.info("could not release free pages yet (%s)", exc)

    # -- folders ---------------------------------------------------------------------------

    def add_folder(self, path: str) -> int:
        path = self._stored(path)
        with self.transaction():
            self.db.execute(
                "INSERT INTO folders(path, added_at) VALUES (?, ?) ON CONFLICT(path) DO UPDATE SET removing = FALSE",
                (path, time.time()),
            )
            return self.value("SELECT id FROM folders WHERE path = ?", (path,))

    def folders(self) -> list[tuple[int, str]]:
        """(id, path) of the folders indexed (not those being removed)."""
        return [(folder_id, self._real(path)) for folder_id, path in
                self.db.execute("SELECT id, path FROM folders WHERE NOT removing ORDER BY path")]

    def has_folder(self, path: str) -> bool:
        return self.db.execute("SELECT 1 FROM folders WHERE path = ? AND NOT removing",
                               (self._stored(path),)).fetchone() is not None

    def global_excludes(self) -> tuple[str, ...]:
        return tuple(line for line in (self.get_meta(Meta.EXCLUDE) or "").splitlines() if line.strip())

    def set_global_excludes(self, patterns: tuple[str, ...]) -> None:
        self.set_meta(Meta.EXCLUDE, "\n".join(patterns))

    def folder_excludes(self) -> dict[str, tuple[str, ...]]:
        return {
            self._real(path): tuple(line for line in exclude.splitlines() if line.strip())
            for path, exclude in self.db.execute("SELECT path, exclude FROM folders WHERE NOT removing")
        }

    def set_folder_exclude(self, path: str, patterns: tuple[str, ...]) -> None:
        with self.transaction():
            self.db.execute("UPDATE folders SET exclude = ? WHERE path = ?", ("\n".join(patterns), self._stored(path)))

    def remove_folder(self, path: str) -> int:
        """Forget a folder and everything indexed from it; returns the files removed.

        The folder is marked first (it stops being indexed and watched at once), then its files go
        a batch per transaction, so a large folder never holds the write lock for long; a kill
        half-way is finished by `finish_removals`."""
        path = self._stored(path)
        with self.transaction():
            row = self.db.execute("SELECT id FROM folders WHERE path = ?", (path,)).fetchone()
            if row is None:
                return 0
            self.db.execute("UPDATE folders SET removing = TRUE WHERE id = ?", (row[0],))
            for table in ("queue", "skipped"):
                self.db.execute(f"DELETE FROM {table} WHERE path = ? OR path LIKE ? ESCAPE '\\'",
                                (path, self._like_below(path)))
        return self._forget_folder(row[0])

    def finish_removals(self) -> int:
        """Finish removing folders whose removal was interrupted; returns the files removed."""
        ids = [r[0] for r in self.db.execute("SELECT id FROM folders WHERE removing")]
        return sum(self._forget_folder(folder_id) for folder_id in ids)

    def _forget_folder(self, folder_id: int) -> int:
        removed = 0
        while True:
            batch = [r[0] for r in self.db.execute(
                "SELECT path FROM files WHERE folder_id = ? LIMIT ?", (folder_id, REMOVE_BATCH_FILES))]
            if not batch:
                break
            removed += self._remove_stored(batch)
        with self.transaction():
            self.db.execute("DELETE FROM folders WHERE id = ? AND removing", (folder_id,))
        return removed

    def folder_counts(self) -> dict[str, dict[FileStatus, int]]:
        counts: dict[str, dict[FileStatus, int]] = {path: {} for _, path in self.folders()}
        for path, status, n in self.db.execute(
            "SELECT d.path, f.status, count(*) FROM files f JOIN folders d ON d.id = f.folder_id "
            "WHERE NOT d.removing GROUP BY d.path, f.status"
        ):
            counts.setdefault(self._real(path), {})[FileStatus(status)] = n
        return counts

    # -- what scanning left out -------------------------------------------------------------

    def replace_skipped(self, folder: str, skipped: Iterable[tuple[str, str]]) -> None:
        """The paths a scan of `folder` left out (links outside, unlistable folders...), replacing
        what the last scan of it found."""
        stored = self._stored(folder)
        with self.transaction():
            self.db.execute("DELETE FROM skipped WHERE path = ? OR path LIKE ? ESCAPE '\\'",
                            (stored, self._like_below(stored)))
            for path, reason in skipped:
                self.db.execute("INSERT INTO skipped(path, reason, at) VALUES (?, ?, ?) ON CONFLICT(path) "
                                "DO UPDATE SET reason = excluded.reason, at = excluded.at",
                                (self._stored(path), reason, time.time()))

    def skipped(self) -> list[tuple[str, str]]:
        return [(self._real(p), r) for p, r in self.db.execute("SELECT path, reason FROM skipped ORDER BY path")]

    # -- the persistent work queue ---------------------------------------------------------

    def enqueue(self, items: Iterable[tuple[str, float]]) -> None:
        """Add (path, priority) pairs; a path already queued keeps one entry, highest priority."""
        with self.transaction():
            for path, priority in items:
                self.db.execute(
                    "INSERT INTO queue(path, priority, enqueued_at) VALUES (?, ?, ?) ON CONFLICT(path) "
                    f"DO UPDATE SET priority = {self.GREATEST}(queue.priority, excluded.priority)",
                    (self._stored(path), priority, time.time()),
                )

    def next_queued(self, limit: int) -> list[str]:
        return [self._real(r[0]) for r in self.db.execute(
            "SELECT path FROM queue ORDER BY priority DESC LIMIT ?", (limit,))]

    def dequeue(self, paths: Iterable[str]) -> None:
        with self.transaction():
            for path in paths:
                self.db.execute("DELETE FROM queue WHERE path = ?", (self._stored(path),))

    def queued_count(self) -> int:
        return self.value("SELECT count(*) FROM queue")

    # -- files -----------------------------------------------------------------------------

    def file(self, path: str) -> FileRecord | None:
        row = self.db.execute(
            "SELECT id, path, folder_id, file_type, size, mtime, content_hash, status, error, "
            "chunk_count FROM files WHERE path = ?",
            (self._stored(path),),
        ).fetchone()
        return FileRecord.from_row(row, self._real) if row else None

    def files_below(self, directory: str) -> list[str]:
        """Indexed paths inside `directory` (at any depth)."""
        return [self._real(r[0]) for r in self.db.execute(
            "SELECT path FROM files WHERE path LIKE ? ESCAPE '\\'", (self._like_below(self._stored(directory)),))]

    def files_under(self, folder_id: int) -> list[str]:
        """The files of a folder on disk (not the members of its archives and mailboxes)."""
        return [self._real(r[0]) for r in self.db.execute(
            "SELECT path FROM files WHERE folder_id = ? AND container_id IS NULL", (folder_id,))]

    def members(self, container_path: str) -> list[str]:
        """The paths of the members indexed from an archive or mailbox."""
        return [self._real(r[0]) for r in self.db.execute(
            "SELECT m.path FROM files m JOIN files c ON m.container_id = c.id WHERE c.path = ? ORDER BY m.id",
            (self._stored(container_path),))]

    def record_container(self, path: str, members: Sequence[NewMember], **details) -> int | None:
        """An archive or mailbox and its members, in one transaction: a member whose text is
        unchanged keeps its passages (and vectors); members no longer there are forgotten."""
        with self.transaction():
            container_id = self.record_file(path, keep_members=True, **details)
            if container_id is None:  # its folder is being removed
                return None
            kept = {member.path for member in members}
            self._remove_stored([self._stored(p) for p in self.members(path) if p not in kept])
            for member in members:
                self.record_file(member.path, folder_id=details["folder_id"], file_type=member.file_type,
                                 size=member.size, mtime=member.mtime, content_hash=None, status=member.status,
                                 error=member.error, title=member.title, author=member.author,
                                 chunks=member.chunks, container_id=container_id)
        return container_id

    def files_needing_ocr(self, limit: int = 100) -> list[FileRecord]:
        """Files with pages only OCR can read, recently modified first."""
        rows = self.db.execute(
            "SELECT id, path, folder_id, file_type, size, mtime, content_hash, status, error, "
            "chunk_count FROM files WHERE status = ? ORDER BY mtime DESC LIMIT ?", (FileStatus.NEEDS_OCR.value, limit))
        return [FileRecord.from_row(row, self._real) for row in rows]

    def content_hashes(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT DISTINCT content_hash FROM files WHERE content_hash IS NOT NULL")}

    def files_by_hash(self, content_hash: str) -> list[FileRecord]:
        rows = self.db.execute(
            "SELECT id, path, folder_id, file_type, size, mtime, content_hash, status, error, "
            "chunk_count FROM files WHERE content_hash = ?",
            (content_hash,),
        )
        return [FileRecord.from_row(row, self._real) for row in rows]

    def rename_file(
        self, old_path: str, new_path: str, *, folder_id: int | None, file_type: str, size: int, mtime: float
    ) -> None:
        """A move or rename: the chunks and vectors stay, only the path changes."""
        with self.transaction():
            replaced = self.file(new_path)
            if replaced is not None and new_path != old_path:
                self._remove_stored([self._stored(new_path)])
            moved = self.file(old_path)
            self.db.execute(
                "UPDATE files SET path = ?, folder_id = ?, size = ?, mtime = ?, file_type = ? WHERE path = ?",
                (self._stored(new_path), folder_id, size, mtime, file_type, self._stored(old_path)),
            )
            if moved is not None:  # an archive's members move with it
                self.db.execute("UPDATE files SET path = ? || substr(path, ?), folder_id = ? WHERE container_id = ?",
                                (self._stored(new_path), len(self._stored(old_path)) + 1, folder_id, moved.id))

    def touch_file(self, file_id: int, size: int, mtime: float) -> None:
        with self.transaction():
            self.db.execute("UPDATE files SET size = ?, mtime = ? WHERE id = ?", (size, mtime, file_id))

    def record_file(
        self,
        path: str,
        *,
        folder_id: int | None,
        file_type: str,
        size: int,
        mtime: float,
        content_hash: str | None,
        status: FileStatus,
        error: str | None = None,
        title: str | None = None,
        author: str | None = None,
        chunks: Sequence[NewChunk] = (),
        vectors: np.ndarray | None = None,
        container_id: int | None = None,
        keep_members: bool = False,
    ) -> int | None:
        """Replace everything known about `path` in one transaction. Its passages wait for their
        vectors unless `vectors` (one per chunk) are given, or the same text already has one. A
        former archive's members are forgotten (unless `keep_members`: `record_container`).
        Nothing is recorded (None) for a folder being removed: a file read while its folder was
        being forgotten must not outlive it."""
        with self.transaction():
            if folder_id is not None and not self.value(
                    "SELECT count(*) FROM folders WHERE id = ? AND NOT removing", (folder_id,)):
                return None
            old = self.file(path)
            released = self._delete_chunks(old.id) if old is not None else []
            if old is not None and not keep_members:
                self._remove_stored([self._stored(p) for p in self.members(path)])
            self.db.execute(
                "INSERT INTO files(path, folder_id, file_type, size, mtime, content_hash, status, "
                "error, title, author, chunk_count, indexed_at, container_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(path) DO UPDATE SET folder_id=excluded.folder_id, "
                "file_type=excluded.file_type, size=excluded.size, mtime=excluded.mtime, "
                "content_hash=excluded.content_hash, status=excluded.status, error=excluded.error, "
                "title=excluded.title, author=excluded.author, chunk_count=excluded.chunk_count, "
                "indexed_at=excluded.indexed_at, container_id=excluded.container_id",
                (self._stored(path), folder_id, file_type, size, mtime, content_hash, status.value, error, title,
                 author, len(chunks), time.time(), container_id),
            )
            file_id = self.value("SELECT id FROM files WHERE path = ?", (self._stored(path),))
            passages = self._insert_chunks(file_id, title or readable_path(Path(path).stem), chunks, mtime)
            self._release(released)
            if vectors is not None:
                self.store_vectors(self.vector_table, [(p, self._stored_text(c.text)) for p, c in zip(passages, chunks)],
                                   vectors)
        return file_id

    def _insert_chunks(self, file_id: int, title: str, chunks: Sequence[NewChunk], mtime: float) -> list[int]:
        """Insert the chunks, each with its passage (found by its text, else added to wait for a
        vector); returns the passage ids."""
        passages = []
        next_id = self._next_passage_id()
        for chunk in chunks:
            text = self._stored_text(chunk.text)
            passage = self.value(
                "INSERT INTO passages(id, hash, text, slice, priority) VALUES (?, ?, ?, ?, ?) ON CONFLICT(hash) "
                f"DO UPDATE SET slice = {self.LEAST}(passages.slice, excluded.slice), "
                f"priority = {self.GREATEST}(passages.priority, excluded.priority) RETURNING id",
                (next_id, passage_hash(text), text, chunk.ordinal // SLICE_PASSAGES, mtime),
            )
            next_id += passage == next_id
            chunk_id = self.value(
                "INSERT INTO chunks(file_id, ordinal, page, char_start, char_end, passage_id) VALUES (?,?,?,?,?,?) "
                "RETURNING id", (file_id, chunk.ordinal, chunk.page, chunk.char_start, chunk.char_end, passage))
            self._add_keywords(chunk_id, text, title)
            passages.append(passage)
        return passages

    @staticmethod
    def _stored_text(text: str) -> str:
        """A passage's text as the database holds it."""
        return text

    def passage_text(self, passage: int) -> str | None:
        row = self.db.execute("SELECT text FROM passages WHERE id = ?", (passage,)).fetchone()
        return row[0] if row else None

    def _add_keywords(self, chunk_id: int, text: str, title: str) -> None:
        self.db.execute("INSERT INTO chunk_fts(rowid, text, title) VALUES (?, ?, ?)", (chunk_id, text, title))

    def _drop_keywords(self, chunk_ids: Sequence[int]) -> None:
        for chunk_id in chunk_ids:
            self.db.execute("DELETE FROM chunk_fts WHERE rowid = ?", (chunk_id,))

    def _next_passage_id(self) -> int:
        """A passage id never used before. SQLite would reuse the ids of the newest passages once
        deleted, and vec0 can put the new vector in the old one's slot: the fast vector path,
        which sees changes by the rowids in vec0's chunks, would miss it."""
        deleted = self.get_meta(Meta.LAST_PASSAGE_ID)
        return max(self.value("SELECT coalesce(max(id), 0) FROM passages"), int(deleted or 0)) + 1

    def _delete_chunks(self, file_id: int) -> list[int]:
        """Delete a file's chunks and their keywords; returns the passages they used."""
        rows = list(self.db.execute("SELECT id, passage_id FROM chunks WHERE file_id = ?", (file_id,)))
        self._drop_keywords([chunk_id for chunk_id, _ in rows])
        self.db.execute("DELETE FROM chunks WHERE file_id = ?", (file_id,))
        return sorted({passage for _, passage in rows})

    def _release(self, passages: Iterable[int], vector_tables: list[str] | None = None) -> None:
        """Forget the given passages that no chunk uses any more, with their vectors."""
        tables = self.vector_tables() if vector_tables is None else vector_tables
        highest = 0
        for passage in passages:
            if self.db.execute("SELECT 1 FROM chunks WHERE passage_id = ? LIMIT 1", (passage,)).fetchone():
                continue
            self.db.execute("DELETE FROM passages WHERE id = ?", (passage,))
            for table in tables:
                self._drop_vector(table, passage)
            highest = max(highest, passage)
        if highest > int(self.get_meta(Meta.LAST_PASSAGE_ID) or 0):
            self.set_meta(Meta.LAST_PASSAGE_ID, str(highest))

    # -- the embedding phase -----------------------------------------------------------------

    def waiting_passages(self, limit: int) -> list[tuple[int, str]]:
        """(id, text) of the next passages without a vector: first slices first, newest files first."""
        return list(self.db.execute(
            "SELECT id, text FROM passages WHERE NOT embedded ORDER BY slice, priority DESC LIMIT ?", (limit,)))

    def release_passages(self, passage_ids: Iterable[int]) -> None:
        """Done with passages `waiting_passages` gave out (only one indexer writes here: no claims)."""

    def claim_file(self, path: str) -> bool:
        """May this indexer read `path` now (False: an indexer on another machine is reading it)?
        Only one indexer writes here, so always."""
        return True

    def release_file(self, path: str) -> None:
        """Done with a file `claim_file` gave out."""

    def has_waiting_passages(self) -> bool:
        return self.db.execute("SELECT 1 FROM passages WHERE NOT embedded LIMIT 1").fetchone() is not None

    def without_vectors(self, chunk_ids: Sequence[int]) -> set[int]:
        """Those of `chunk_ids` whose passage has no vector yet."""
        if not chunk_ids:
            return set()
        marks = ",".join("?" * len(chunk_ids))
        return {r[0] for r in self.db.execute(
            f"SELECT c.id FROM chunks c JOIN passages p ON p.id = c.passage_id WHERE c.id IN ({marks}) "
            "AND NOT p.embedded", tuple(chunk_ids))}

    def waiting_count(self) -> int:
        return self.value("SELECT count(*) FROM passages WHERE NOT embedded")

    def passage_count(self) -> int:
        return self.value("SELECT count(*) FROM passages")

    def store_vectors(self, table: str, rows: Sequence[tuple[int, str]], vectors: np.ndarray) -> int:
        """Vectors for passages (id, the text they were made from), into the searched `table`;
        a passage gone or changed meanwhile is skipped, and so is everything if the searched table
        is no longer `table` (a model switch completed). Returns how many were stored."""
        stored = 0
        with self.transaction(claimed=True):
            if self.model_name is None or self.vector_table != table:
                return 0
            for (passage, text), vector in zip(rows, vectors):
                row = self.db.execute("SELECT text, embedded FROM passages WHERE id = ?", (passage,)).fetchone()
                if row is None or row[0] != text:
                    continue
                if row[1]:  # already there (a copy of this text was embedded meanwhile)
                    continue
                self.put_vector(table, passage, vector)
                self.db.execute("UPDATE passages SET embedded = TRUE WHERE id = ?", (passage,))
                stored += 1
        return stored

    def mark_all_embedded(self) -> None:
        """Every passage has a vector in the searched table (a model switch just completed)."""
        with self.transaction():
            self.db.execute("UPDATE passages SET embedded = TRUE WHERE NOT embedded")

    def remove_files(self, paths: Iterable[str]) -> int:
        return self._remove_stored([self._stored(path) for path in paths])

    def _remove_stored(self, paths: Iterable[str]) -> int:
        removed = 0
        with self.transaction():
            vector_tables = self.vector_tables()
            for path in paths:
                record = self.file(self._real(path))
                if record is not None:
                    members = [cast(int, r[0]) for r in self.db.execute(
                        "SELECT id FROM files WHERE container_id = ?", (record.id,)).fetchall()]
                    for member in members:
                        self._release(self._delete_chunks(member), vector_tables)
                        self.db.execute("DELETE FROM files WHERE id = ?", (member,))
                    self._release(self._delete_chunks(record.id), vector_tables)
                    self.db.execute("DELETE FROM files WHERE id = ?", (record.id,))
                    removed += 1
        return removed

    # -- reads for search and status -------------------------------------------------------

    def vector_candidates(self, query: np.ndarray, k: int, within: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """(passage id, cosine distance) of the k nearest passages; only among the passages
        `within` when it is given."""
        if self.model_name is None or k < 1:
            return []
        with self.snapshot():
            index = self._fast_vectors()
            if index is not None:
                return index.search(np.asarray(query, dtype=np.float32), k, within)
        return self._vec0_candidates(self.vector_table, query, k, within)

    def prepare_vectors(self) -> None:
        """Read the vectors' codes now (seconds at a million passages), not at the first search."""
        if self.model_name is not None:
            with self.snapshot():
                index = self._fast_vectors()
                if index is not None:
                    index.refresh()

    def _fast_vectors(self) -> VectorIndex | None:
        """The in-memory codes of the searched table, when its layout is one VectorIndex reads."""
        table = self.vector_table
        if self._vector_index is None or self._vector_index.table != table:
            dimensions = self.dimensions or 0
            supported = VectorIndex.supports(self.db, table, dimensions)
            self._vector_index = VectorIndex(self.db, table, dimensions) if supported else None
        return self._vector_index

    def _vec0_candidates(self, table: str, query: np.ndarray, k: int, within: Sequence[int] | None) -> list[tuple[int, float]]:
        """sqlite-vec's own KNN (a table of a layout VectorIndex does not read)."""
        blob = np.asarray(query, dtype=np.float32).tobytes()
        if within is None:
            return list(self.db.execute(f"SELECT rowid, distance FROM {table} WHERE embedding MATCH ? AND k = ?",
                                        (blob, min(k, VEC0_MAX_K))))
        return list(self.db.execute(
            f"SELECT rowid, vec_distance_cosine(embedding, ?) AS d FROM {table} "
            "WHERE rowid IN (SELECT value FROM json_each(?)) ORDER BY d LIMIT ?",
            (blob, json.dumps(list(within)), k)))

    def chunks_where(self, folder: str | None, file_types: Sequence[str], after: float | None,
                     before: float | None, limit: int) -> list[tuple[int, int]] | None:
        """(chunk id, passage id) of every chunk of the files in `folder` (at any depth), of
        `file_types`, modified in [after, before] (each only when given); None when they hold more
        than `limit` chunks (searching everything and filtering afterwards is then cheaper)."""
        conditions: list[str] = ["1 = 1"]  # any file with chunks, as the filtering after a search sees them
        bindings: list[Any] = []
        if folder:
            stored = self._stored(folder.rstrip("/\\"))
            sep = self.shared_roots.separator(stored)
            conditions.append("(f.path = ? OR (f.path > ? AND f.path < ?))")  # ranges of the path index
            bindings += [stored, stored + sep, stored + chr(ord(sep) + 1)]
        if file_types:
            conditions.append(f"f.file_type IN ({','.join('?' * len(file_types))})")
            bindings += list(file_types)
        if after is not None:
            conditions.append("f.mtime >= ?")
            bindings.append(after)
        if before is not None:
            conditions.append("f.mtime <= ?")
            bindings.append(before)
        rows = list(self.db.execute(  # files first (CROSS JOIN keeps the order): a type or date
            # filter read from a million chunks' side looks up every chunk's file (100 ms)
            f"SELECT c.id, c.passage_id FROM files f {self.FILES_FIRST_JOIN} chunks c ON c.file_id = f.id "
            f"WHERE {' AND '.join(conditions)} LIMIT ?", (*bindings, limit + 1)))
        return rows if len(rows) <= limit else None

    def chunk_ids(self) -> tuple[int, int] | None:
        """The lowest and highest chunk id (None when there are none), found at once."""
        low = self.value("SELECT min(id) FROM chunks")  # apart: each is then one index lookup
        high = self.value("SELECT max(id) FROM chunks")
        return None if low is None or high is None else (low, high)

    def chunk_span(self) -> int:
        """The range of chunk ids: about the number of chunks (count(*) reads the whole table)."""
        ids = self.chunk_ids()
        return 0 if ids is None else ids[1] - ids[0] + 1

    def text_candidates(self, fts_query: str, k: int, within: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """(chunk id, bm25) of the k best lexical matches (among the chunks `within` when given);
        lower bm25 is better."""
        inside, bindings = _within_chunks(within)
        return list(self.db.execute(
            f"SELECT rowid, bm25(chunk_fts, 1.0, 0.5) AS score FROM chunk_fts WHERE chunk_fts MATCH ? {inside} "
            "ORDER BY score LIMIT ?", (fts_query, *bindings, k)))

    def recent_text_candidates(self, fts_query: str, k: int, newest: int,
                               within: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """Like text_candidates, among the `newest` chunks that match only (FTS5 scores every
        match it ranks, about a microsecond each)."""
        inside, bindings = _within_chunks(within)
        return list(self.db.execute(
            "SELECT rowid, score FROM (SELECT rowid, bm25(chunk_fts, 1.0, 0.5) AS score FROM chunk_fts "
            f"WHERE chunk_fts MATCH ? {inside} ORDER BY rowid DESC LIMIT ?) ORDER BY score LIMIT ?",
            (fts_query, *bindings, newest, k)))

    def term_counts(self, words: Iterable[str]) -> dict[str, int]:
        """About how many chunks hold each word. FTS5 keeps no such counts (counting reads the
        word's whole list of chunks, tens of milliseconds for a common word at a million), so
        they are counted in a few slices of the chunk ids, together about TERM_SAMPLE_CHUNKS."""
        ids = self.chunk_ids()
        if ids is None:
            return dict.fromkeys(words, 0)
        low, high = ids
        span = high - low + 1
        width = max(1, min(span, TERM_SAMPLE_CHUNKS) // TERM_SAMPLE_SLICES)
        step = span / TERM_SAMPLE_SLICES
        slices = [(low + int(i * step), low + int(i * step) + width - 1) for i in range(TERM_SAMPLE_SLICES)]
        if width * TERM_SAMPLE_SLICES >= span:
            slices = [(low, high)]
        scale = span / sum(b - a + 1 for a, b in slices)
        return {word: round(sum(self._matches_between(word, a, b) for a, b in slices) * scale) for word in set(words)}

    def _matches_between(self, word: str, low: int, high: int) -> int:
        """How many of the chunks numbered low..high hold `word`."""
        return self.value("SELECT count(*) FROM chunk_fts WHERE chunk_fts MATCH ? AND rowid BETWEEN ? AND ?",
                          (f'"{word}"', low, high))

    def files_holding(self, fts_query: str, limit: int) -> set[str]:
        """Paths of the files with a chunk matching `fts_query` (of the first `limit` chunks)."""
        return {self._real(r[0]) for r in self.db.execute(
            "SELECT DISTINCT f.path FROM (SELECT rowid FROM chunk_fts WHERE chunk_fts MATCH ? LIMIT ?) m "
            "JOIN chunks c ON c.id = m.rowid JOIN files f ON f.id = c.file_id", (fts_query, limit))}

    def chunks_of(self, passages: Sequence[int]) -> list[tuple[int, int]]:
        """(passage id, chunk id) of every chunk using one of `passages`."""
        if not passages:
            return []
        marks = ",".join("?" * len(passages))
        return list(self.db.execute(f"SELECT passage_id, id FROM chunks WHERE passage_id IN ({marks})", tuple(passages)))

    def chunk_rows(self, chunk_ids: Sequence[int]) -> dict[int, tuple]:
        """chunk id -> (file path, file type, mtime, page, text, char_start, char_end, embedded)."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self.db.execute(
            "SELECT c.id, f.path, f.file_type, f.mtime, c.page, p.text, c.char_start, c.char_end, p.embedded "
            f"FROM chunks c JOIN files f ON f.id = c.file_id JOIN passages p ON p.id = c.passage_id "
            f"WHERE c.id IN ({marks})",
            tuple(chunk_ids),
        )
        return {row[0]: (self._real(row[1]), *row[2:]) for row in rows}

    def counts(self) -> dict[FileStatus, int]:
        return {FileStatus(status): n for status, n in self.db.execute("SELECT status, count(*) FROM files GROUP BY status")}

    def chunk_count(self) -> int:
        return self.value("SELECT count(*) FROM chunks")

    def failures(self) -> list[tuple[str, FileStatus, str]]:
        """Files that could not be read, and files indexed only in part, with the reason."""
        marks = ",".join("?" * len(LISTED_STATUSES))
        return [(self._real(path), FileStatus(status), error) for path, status, error in self.db.execute(
            f"SELECT path, status, error FROM files WHERE status IN ({marks}) "
            "OR (status = 'indexed' AND error IS NOT NULL) ORDER BY path",
            [s.value for s in LISTED_STATUSES])]

    def size_bytes(self) -> int:
        return sum(
            p.stat().st_size for p in self.data_dir.glob(DATABASE_NAME + "*") if p.is_file()
        )

    def integrity_ok(self) -> bool:
        return not self.check("integrity_check")

    def quick_check(self) -> list[str]:
        """What SQLite's quick check finds wrong (empty when the file is sound)."""
        return self.check("quick_check")

    def check(self, pragma: str) -> list[str]:
        """Problems SQLite's `pragma` (integrity_check, quick_check) finds, on a connection of its
        own: FTS5's check on a connection that has not read the table since another process wrote it
        uses a stale copy of the index structure and reports damage that is not there."""
        db = apsw.Connection(str(self.path), flags=apsw.SQLITE_OPEN_READWRITE)
        try:
            with storage_errors(self.path):
                db.setbusytimeout(10_000)
                db.enable_load_extension(True)
                db.load_extension(sqlite_vec.loadable_path())
                problems = [row[0] for row in db.execute(f"PRAGMA {pragma}")]
        finally:
            db.close()
        return [] if problems == ["ok"] else problems

    def replaced(self) -> bool:
        """Has the database file been moved aside and rebuilt since this connection opened it?"""
        return _inode(self.path) != self.inode


def open_store(data_dir: Path, database: str | None = None) -> Store:
    """The index of `data_dir`: its SQLite file, or the one on the PostgreSQL server at `database`
    (a `postgresql://` address) when given."""
    if not database:
        return Store(data_dir)
    from kenning.settings import is_server_address

    if not is_server_address(database):
        raise IndexError_(f"--database takes a server's address, postgresql://[user@]host[:port]/name "
                          f"(got {database!r})")
    from kenning.store_postgres import PostgresStore  # psycopg only when it is used

    return PostgresStore(data_dir, database)


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _within_chunks(within: Sequence[int] | None) -> tuple[str, tuple]:
    """The condition keeping FTS5's matches to the chunks `within` (when given), and its binding.
    The unary + keeps FTS5 from taking it as rowid lookups, one search each: it filters the
    matches, so only those kept are scored."""
    if within is None:
        return "", ()
    return "AND +rowid IN (SELECT value FROM json_each(?))", (json.dumps(list(within)),)
