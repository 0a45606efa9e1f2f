"""Storage on a PostgreSQL server with pgvector: the index of store.py, shared by a team (several
machines index folders into one database and search it at once).

The statements are store.py's (psycopg's marks are `%s` where SQLite's are `?`: `_Connection`
turns one into the other); what differs is here:
- Writers: each write transaction first takes one advisory lock, as SQLite's BEGIN IMMEDIATE takes
  the write lock, so machines record files one at a time (extracting and embedding, which take
  nearly all the time, run in parallel) and passage ids stay unique without a race. Vectors for
  claimed passages (see `waiting_passages`) take that lock shared: machines store them together.
  Readers see committed files only.
- Keywords: `chunk_keywords` (a tsvector per chunk, GIN index) in place of FTS5, ranked by
  ts_rank (negated: lower is better, as FTS5's bm25); FTS5 query strings are translated.
- Vectors: a table per model generation, `vector(n)` with an HNSW index (cosine).
- Credentials come from libpq's usual places (PGPASSWORD, ~/.pgpass, a service file); Kenning
  keeps the address only, never a password. TLS is used when the server offers it (libpq's
  default `sslmode=prefer`; put `sslmode=require` in the address to insist).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from psycopg.pq import TransactionStatus

from kenning.errors import DiskFull, IndexError_
from kenning.paths import SharedRoots, private_dir
from kenning.settings import Settings, without_password
from kenning.store import Meta, Store

CLAIMS = 0x4B656E63  # the first key of the advisory locks claiming passages to embed (the second: the id)
FILE_CLAIMS = 0x4B656E66  # the first key of the advisory locks claiming files to read (the second: a hash of the path)
CLAIM_SPREAD = 4  # a batch is claimed among this many times its size of the first waiting passages
WRITE_LOCK = 0x4B656E6E  # the advisory lock every write transaction holds ("Kenn")
TABLES_LOCK = 0x4B656E74  # held shared by each read snapshot, alone by whoever drops a vector table
TEXT_SEARCH = "kenning"  # the text search configuration: English stems, no stopwords
MAX_EF_SEARCH = 1000  # pgvector's limit for hnsw.ef_search
MIN_EF_SEARCH = 200  # recall@10 0.98 of exact at 100k passages, 6 ms (40 at pgvector's default: 0.87)

_MIGRATIONS: tuple[tuple[str, str], ...] = (
    ("folders, files, passages, chunks, keywords, queue", f"""
    CREATE EXTENSION IF NOT EXISTS vector;
    CREATE TABLE folders (
        id bigserial PRIMARY KEY,
        path text COLLATE "C" NOT NULL UNIQUE,
        added_at double precision NOT NULL,
        exclude text NOT NULL DEFAULT '',
        removing boolean NOT NULL DEFAULT FALSE
    );
    CREATE TABLE files (
        id bigserial PRIMARY KEY,
        path text COLLATE "C" NOT NULL UNIQUE,
        folder_id bigint REFERENCES folders(id) ON DELETE SET NULL,
        file_type text NOT NULL,
        size bigint NOT NULL,
        mtime double precision NOT NULL,
        content_hash text,
        status text NOT NULL,
        error text,
        title text,
        author text,
        chunk_count integer NOT NULL DEFAULT 0,
        indexed_at double precision NOT NULL,
        container_id bigint REFERENCES files(id)
    );
    CREATE INDEX files_folder ON files(folder_id);
    CREATE INDEX files_hash ON files(content_hash);
    CREATE INDEX files_status ON files(status, mtime);
    CREATE INDEX files_container ON files(container_id) WHERE container_id IS NOT NULL;
    CREATE TABLE passages (
        id bigint PRIMARY KEY,
        hash bytea NOT NULL UNIQUE,
        text text NOT NULL,
        slice integer NOT NULL DEFAULT 0,
        priority double precision NOT NULL DEFAULT 0,
        embedded boolean NOT NULL DEFAULT FALSE
    );
    CREATE INDEX passages_waiting ON passages(slice, priority DESC) WHERE NOT embedded;
    CREATE TABLE chunks (
        id bigserial PRIMARY KEY,
        file_id bigint NOT NULL REFERENCES files(id) ON DELETE CASCADE,
        ordinal integer NOT NULL,
        page integer,
        char_start integer NOT NULL,
        char_end integer NOT NULL,
        passage_id bigint NOT NULL
    );
    CREATE INDEX chunks_file ON chunks(file_id, ordinal);
    CREATE INDEX chunks_passage ON chunks(passage_id);
    CREATE TABLE chunk_keywords (
        chunk_id bigint PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
        keywords tsvector NOT NULL
    );
    CREATE INDEX chunk_keywords_gin ON chunk_keywords USING gin(keywords);
    CREATE TEXT SEARCH DICTIONARY {TEXT_SEARCH}_stem (TEMPLATE = snowball, Language = english);
    CREATE TEXT SEARCH CONFIGURATION {TEXT_SEARCH} (COPY = english);
    ALTER TEXT SEARCH CONFIGURATION {TEXT_SEARCH} ALTER MAPPING REPLACE english_stem WITH {TEXT_SEARCH}_stem;
    CREATE TABLE queue (
        path text COLLATE "C" PRIMARY KEY,
        priority double precision NOT NULL,
        enqueued_at double precision NOT NULL
    );
    CREATE INDEX queue_priority ON queue(priority DESC);
    CREATE TABLE skipped (path text COLLATE "C" PRIMARY KEY, reason text NOT NULL, at double precision NOT NULL);
    """),
)

_FTS5_TOKEN = re.compile(r'"((?:[^"]|"")*)"|\(|\)|\bAND\b|\bOR\b|\bNOT\b')
_OPERATORS = {"(": "(", ")": ")", "AND": "&&", "OR": "||", "NOT": "&& !!"}


@functools.lru_cache(maxsize=512)
def _marks(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


def tsquery(fts5_query: str) -> tuple[str, list[str]]:
    """An FTS5 query as store.py writes them (quoted phrases joined by AND, OR, NOT and brackets)
    as a tsquery expression with its bindings."""
    parts: list[str] = []
    bindings: list[str] = []
    for match in _FTS5_TOKEN.finditer(fts5_query):
        if match.group(1) is not None:
            parts.append(f"phraseto_tsquery('{TEXT_SEARCH}', ?)")
            bindings.append(match.group(1).replace('""', '"'))
        else:
            parts.append(_OPERATORS[match.group(0)])
    if not bindings:
        return "''::tsquery", []
    return "(" + " ".join(parts) + ")", bindings


def _vector_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(map(str, np.asarray(vector, dtype=np.float32).tolist())) + "]"


class _Connection:
    """A psycopg connection in autocommit mode (the store says where transactions begin and end)
    that takes store.py's statements, and says a lost server or a full disk in one line."""

    def __init__(self, address: str):
        self.address = address
        try:
            self.connection = psycopg.connect(address, autocommit=True, application_name="kenning")
        except psycopg.Error as exc:
            raise IndexError_(f"cannot reach the index's database server {without_password(address)}: "
                              f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc}") from exc

    def execute(self, sql: str, bindings: Sequence[Any] = ()) -> psycopg.Cursor:
        try:
            if not bindings:
                return self.connection.execute(sql)  # a script of several statements may have none
            return self.connection.execute(_marks(sql), tuple(bindings))
        except psycopg.errors.DiskFull as exc:
            raise DiskFull(f"the database server's disk is full ({exc}); free some space there and indexing "
                           "carries on where it stopped") from exc
        except psycopg.errors.InsufficientPrivilege as exc:
            raise IndexError_(f"the index's database server {without_password(self.address)} refused this "
                              f"({str(exc).splitlines()[0]}): the role in the address may only search; indexing "
                              "needs one that may write (see the README's shared index guide)") from exc
        except psycopg.OperationalError as exc:
            raise IndexError_(f"lost the index's database server {without_password(self.address)} ({exc})") from exc

    @property
    def in_transaction(self) -> bool:
        return self.connection.info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        self.connection.close()


class PostgresStore(Store):
    MIGRATIONS = _MIGRATIONS
    LEAST, GREATEST = "LEAST", "GREATEST"
    FILES_FIRST_JOIN = "JOIN"

    def __init__(self, data_dir: Path, address: str, *, migrate: bool = True):  # not super().__init__: that opens SQLite
        self.data_dir = private_dir(Path(data_dir))
        self.address = address
        self.path = Path(without_password(address))  # what messages name
        self.shared_roots = SharedRoots(Settings.load(self.data_dir).shared_roots)
        self.read_only = False
        self.inode = None
        self._savepoints = 0
        self._vector_index = None
        self._reader: Store | None = None
        self._claimed: set[int] = set()  # passages this connection is embedding
        self._files_claimed: set[str] = set()  # files (stored paths) this connection is reading
        self.db = _Connection(address)  # type: ignore[assignment]
        try:
            if migrate:
                self._migrate()
        except BaseException:
            self.db.close()
            raise

    @property
    def location(self) -> str:
        return without_password(self.address)

    def _migrate(self) -> None:
        """Up to date already: nothing is written (a role that may only search opens it too)."""
        present = self.value("SELECT to_regclass('meta') IS NOT NULL")
        if not present or int(self.get_meta(Meta.SCHEMA_VERSION) or 0) != len(self.MIGRATIONS):
            super()._migrate()

    def _connect_again(self) -> Store:
        return PostgresStore(self.data_dir, self.address, migrate=False)

    def _begin_writing(self, claimed: bool) -> None:
        self.db.execute("BEGIN")
        self.db.execute(f"SELECT pg_advisory_xact_lock{'_shared' if claimed else ''}(?)", (WRITE_LOCK,))

    def _begin_reading(self) -> None:
        # A snapshot sees the meta row naming the vector table of its time, but a table dropped
        # since is gone for it too: a switch drops the old table only once no snapshot is open.
        # The lock is taken before BEGIN so a snapshot begun after a drop sees the new meta.
        self.db.execute("SELECT pg_advisory_lock_shared(?)", (TABLES_LOCK,))
        try:
            self.db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        except BaseException:
            self.db.execute("SELECT pg_advisory_unlock_shared(?)", (TABLES_LOCK,))
            raise

    def _end_reading(self) -> None:
        try:
            self.db.execute("COMMIT")
        finally:
            self.db.execute("SELECT pg_advisory_unlock_shared(?)", (TABLES_LOCK,))

    def waiting_passages(self, limit: int) -> list[tuple[int, str]]:
        """The next passages to embed that no other indexer is embedding: each is claimed by a
        session lock (released by `release_passages`, or by the server if this process dies)."""
        rows = [row for row in super().waiting_passages(limit * CLAIM_SPREAD + len(self._claimed))
                if row[0] not in self._claimed]
        if not rows:
            return []
        claimed = {r[0] for r in self.db.execute(
            "SELECT id FROM unnest(?::bigint[]) AS t(id) WHERE pg_try_advisory_lock(?, (id % 2147483647)::int)",
            ([passage for passage, _ in rows], CLAIMS))}
        mine = [row for row in rows if row[0] in claimed][:limit]
        self._claimed |= {passage for passage, _ in mine}
        self._unlock(claimed - self._claimed)
        return mine

    def release_passages(self, passage_ids: Iterable[int]) -> None:
        ids = self._claimed & set(passage_ids)
        self._claimed -= ids
        self._unlock(ids)

    def _unlock(self, passage_ids: set[int]) -> None:
        if passage_ids:
            self.db.execute("SELECT pg_advisory_unlock(?, (id % 2147483647)::int) FROM unnest(?::bigint[]) AS t(id)",
                            (CLAIMS, sorted(passage_ids)))

    def claim_file(self, path: str) -> bool:
        """A session lock on the file's stored path (the same on every machine, see shared_roots),
        released by `release_file`, or by the server if this process dies."""
        stored = self._stored(path)
        if stored in self._files_claimed:
            return True
        if not self.value("SELECT pg_try_advisory_lock(?, hashtext(?))", (FILE_CLAIMS, stored)):
            return False
        self._files_claimed.add(stored)
        return True

    def release_file(self, path: str) -> None:
        stored = self._stored(path)
        if stored in self._files_claimed:
            self._files_claimed.discard(stored)
            self.db.execute("SELECT pg_advisory_unlock(?, hashtext(?))", (FILE_CLAIMS, stored))

    @staticmethod
    def _stored_text(text: str) -> str:
        """PostgreSQL's text holds no NUL and no lone surrogate."""
        return text.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")

    # -- vectors -----------------------------------------------------------------------------

    def create_vector_table(self, table: str, dimensions: int) -> None:
        with self.transaction():
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {table} "
                            f"(passage_id bigint PRIMARY KEY, embedding vector({int(dimensions)}) NOT NULL)")
            self.db.execute(f"CREATE INDEX IF NOT EXISTS {table}_hnsw ON {table} USING hnsw (embedding vector_cosine_ops)")

    def drop_vector_table(self, table: str) -> None:
        with self.transaction():
            self.db.execute("SELECT pg_advisory_xact_lock(?)", (TABLES_LOCK,))  # waits out open snapshots
            self.db.execute(f"DROP TABLE IF EXISTS {table}")

    def vector_tables(self) -> list[str]:
        return [r[0] for r in self.db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename LIKE ? ESCAPE '\\' ORDER BY tablename", ("chunk\\_vectors%",))]

    def put_vector(self, table: str, passage: int, vector: np.ndarray) -> None:
        self.db.execute(f"INSERT INTO {table}(passage_id, embedding) VALUES (?, ?::vector) "
                        "ON CONFLICT (passage_id) DO UPDATE SET embedding = excluded.embedding",
                        (passage, _vector_literal(vector)))

    def _drop_vector(self, table: str, passage: int) -> None:
        self.db.execute(f"DELETE FROM {table} WHERE passage_id = ?", (passage,))

    def vector_ids(self, table: str) -> set[int]:
        return {r[0] for r in self.db.execute(f"SELECT passage_id FROM {table}")}

    def passages_without_vector(self, table: str, limit: int) -> list[tuple[int, str]]:
        return list(self.db.execute(
            f"SELECT p.id, p.text FROM passages p WHERE NOT EXISTS "
            f"(SELECT 1 FROM {table} v WHERE v.passage_id = p.id) ORDER BY p.id LIMIT ?", (limit,)))

    def vector_candidates(self, query: np.ndarray, k: int, within: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """HNSW's nearest passages; among `within`, an exact scan of those (HNSW would filter its
        own few candidates afterwards, and return fewer than k)."""
        if self.model_name is None or k < 1:
            return []
        literal = _vector_literal(query)
        with self.snapshot():  # the table named in meta is the one read, even while a switch ends
            table = self.vector_table
            if within is None:
                self.db.execute(f"SET hnsw.ef_search = {max(MIN_EF_SEARCH, min(2 * k, MAX_EF_SEARCH))}")
                rows: list[Any] = self.db.execute(f"SELECT passage_id, embedding <=> ?::vector AS d FROM {table} "
                                                  "ORDER BY d LIMIT ?", (literal, k)).fetchall()
            else:  # "+ 0" keeps the planner from ordering by the HNSW index
                rows = self.db.execute(f"SELECT passage_id, (embedding <=> ?::vector) + 0 AS d FROM {table} "
                                       "WHERE passage_id = ANY(?) ORDER BY d LIMIT ?", (literal, list(within), k)).fetchall()
        return [(int(passage), float(distance)) for passage, distance in rows]

    def prepare_vectors(self) -> None:
        """The server keeps its HNSW index itself."""

    # -- keywords ----------------------------------------------------------------------------

    def _add_keywords(self, chunk_id: int, text: str, title: str) -> None:
        self.db.execute(
            f"INSERT INTO chunk_keywords(chunk_id, keywords) VALUES (?, setweight(to_tsvector('{TEXT_SEARCH}', ?), 'A') "
            f"|| setweight(to_tsvector('{TEXT_SEARCH}', ?), 'B'))", (chunk_id, text, title))

    def _drop_keywords(self, chunk_ids: Sequence[int]) -> None:
        """Deleted with their chunks (ON DELETE CASCADE)."""

    def _ranked(self, fts_query: str, within: Sequence[int] | None) -> tuple[str, list[Any]]:
        """The matches of `fts_query` (among `within`) with their score, lower is better, as FTS5's bm25."""
        expression, bindings = tsquery(fts_query)
        inside = "AND k.chunk_id = ANY(?)" if within is not None else ""
        sql = ("SELECT k.chunk_id, -ts_rank('{0.1, 0.2, 0.5, 1.0}', k.keywords, q.query) AS score "
               f"FROM chunk_keywords k, (SELECT {expression} AS query) q WHERE k.keywords @@ q.query {inside}")
        return sql, [*bindings, *([list(within)] if within is not None else [])]

    def text_candidates(self, fts_query: str, k: int, within: Sequence[int] | None = None) -> list[tuple[int, float]]:
        sql, bindings = self._ranked(fts_query, within)
        return [(int(c), float(s)) for c, s in self.db.execute(f"{sql} ORDER BY score LIMIT ?", (*bindings, k))]

    def recent_text_candidates(self, fts_query: str, k: int, newest: int,
                               within: Sequence[int] | None = None) -> list[tuple[int, float]]:
        sql, bindings = self._ranked(fts_query, within)
        return [(int(c), float(s)) for c, s in self.db.execute(
            f"SELECT chunk_id, score FROM ({sql} ORDER BY k.chunk_id DESC LIMIT ?) m ORDER BY score LIMIT ?",
            (*bindings, newest, k))]

    def _matches_between(self, word: str, low: int, high: int) -> int:
        return self.value(f"SELECT count(*) FROM chunk_keywords WHERE chunk_id BETWEEN ? AND ? "
                          f"AND keywords @@ phraseto_tsquery('{TEXT_SEARCH}', ?)", (low, high, word))

    def files_holding(self, fts_query: str, limit: int) -> set[str]:
        expression, bindings = tsquery(fts_query)
        return {self._real(r[0]) for r in self.db.execute(
            f"SELECT DISTINCT f.path FROM (SELECT chunk_id FROM chunk_keywords WHERE keywords @@ {expression} "
            "LIMIT ?) m JOIN chunks c ON c.id = m.chunk_id JOIN files f ON f.id = c.file_id", (*bindings, limit))}

    # -- the database as a whole -------------------------------------------------------------

    def release_free_pages(self) -> None:
        """The server's autovacuum does this."""

    def size_bytes(self) -> int:
        return int(self.value(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relkind = 'r'"))

    def check(self, pragma: str) -> list[str]:
        """The server keeps its own files sound; what can be checked from here is that every table
        this Kenning uses is there."""
        wanted = {"meta", "folders", "files", "passages", "chunks", "chunk_keywords", "queue", "skipped"}
        present = {r[0] for r in self.db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
        return [f"table {name} is missing" for name in sorted(wanted - present)]

    def replaced(self) -> bool:
        return False
