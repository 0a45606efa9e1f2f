"""Search at scale: a synthetic index of many passages, built through the store layer, then search
latency per mode with and without a filter, for short and long queries, recall of the fast
vector path against exact search, index size and a search process's peak memory.

    python bench/scale.py [--passages 100000] [--vectors clustered|random] [--queries 76] [--rebuild]
                          [--database postgresql://...]

The index (bench/out/scale/<passages>-<vectors>[-postgresql]/, reused until --rebuild) holds files of 50
passages each in 100 folders, with mixed types and modification dates spread over ten years.
Passage text is sampled from CISI's sentences: three from one abstract and two from anywhere.
Vectors, without embedding a million passages:
  clustered  the mean of the passage's sentence vectors (each CISI sentence embedded once by
             the real model) plus noise: structured like real embeddings, near a topic.
  random     random unit vectors: no structure at all, the worst case for any compact code.
Queries are CISI's 76 judged queries (long: a paragraph) and the two or three rarest words of
each (short), embedded by the real model as part of each search. Timings are taken in a child
process through Engine.search, warm, so that its peak RSS is the search process's alone.
With --database, the index is built on that PostgreSQL server (an empty database, or one this
bench built): the same searches, through the same Engine, against pgvector's HNSW index.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cisi
import numpy as np

from kenning.settings import without_password

PASSAGES_PER_FILE = 50
FOLDERS = 100  # so one folder holds 1% of the files
TYPES = ("pdf", "docx", "txt", "md", "html", "epub", "odt", "pptx")
YEARS = 10
FILES_PER_TRANSACTION = 200
MODES = ("hybrid", "vector", "bm25")
SCALE = cisi.OUT / "scale"


def sentences_of(collection: cisi.Collection) -> tuple[list[str], list[int]]:
    """Every sentence of every abstract (five words or more), and the document it is from."""
    sentences, home = [], []
    for doc_id, record in collection.docs.items():
        text = cisi.one_line(record.get("W", ""))
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            if len(sentence.split()) >= 5:
                sentences.append(sentence)
                home.append(doc_id)
    return sentences, home


def sentence_vectors(sentences: list[str]) -> np.ndarray:
    """Each sentence embedded once by the default model (cached)."""
    cache = SCALE / f"sentences-{len(sentences)}.npy"
    if cache.exists():
        return np.load(cache)
    from kenning.engine import Engine

    print(f"embedding {len(sentences)} CISI sentences once ...", file=sys.stderr)
    data_dir = cisi.fresh_data_dir(SCALE / "sentence-model", None)
    vectors = Engine(data_dir).embedder.embed_passages(sentences)
    np.save(cache, vectors)
    return vectors


def build(data_dir: Path, passages: int, kind: str, collection: cisi.Collection, database: str | None) -> dict:
    """Write the synthetic index through Store.record_file; returns its build seconds and the
    newest modification time given to a file."""
    from kenning.models.catalogue import CATALOGUE, DEFAULT_MODEL
    from kenning.store import FileStatus, NewChunk, open_store

    sentences, home = sentences_of(collection)
    by_doc: dict[int, list[int]] = {}
    for index, doc_id in enumerate(home):
        by_doc.setdefault(doc_id, []).append(index)
    docs = [ids for ids in by_doc.values() if len(ids) >= 2]
    vectors = sentence_vectors(sentences) if kind == "clustered" else None
    dimensions = vectors.shape[1] if vectors is not None else CATALOGUE[DEFAULT_MODEL].dimensions
    rng = np.random.default_rng(13)

    cisi.fresh_data_dir(data_dir, None)
    if database:
        empty_database(database)
    store = open_store(data_dir, database)
    store.bind_model(DEFAULT_MODEL, dimensions)
    root = data_dir / "files"
    folder_id = store.add_folder(str(root))
    files = math.ceil(passages / PASSAGES_PER_FILE)
    now = time.time()
    start = time.perf_counter()
    for first in range(0, files, FILES_PER_TRANSACTION):
        with store.transaction():
            for number in range(first, min(files, first + FILES_PER_TRANSACTION)):
                count = min(PASSAGES_PER_FILE, passages - number * PASSAGES_PER_FILE)
                texts, picks = [], []
                for _ in range(count):
                    own = docs[rng.integers(len(docs))]
                    chosen = list(rng.choice(own, size=min(3, len(own)), replace=False))
                    chosen += list(rng.integers(len(sentences), size=2))
                    picks.append(chosen)
                    texts.append(" ".join(sentences[i] for i in chosen))
                if vectors is None:
                    batch = rng.standard_normal((count, dimensions), dtype=np.float32)
                else:
                    batch = np.stack([vectors[p].mean(axis=0) for p in picks])
                    batch += rng.standard_normal(batch.shape, dtype=np.float32) * (0.3 / math.sqrt(dimensions))
                batch /= np.linalg.norm(batch, axis=1, keepdims=True)
                chunks, offset = [], 0
                for ordinal, text in enumerate(texts):
                    chunks.append(NewChunk(ordinal, ordinal // 3 + 1, offset, offset + len(text), text))
                    offset += len(text) + 1
                path = root / f"folder-{number % FOLDERS:02d}" / f"document-{number:06d}.{TYPES[number % len(TYPES)]}"
                mtime = now - (number * 7919 % files) / files * YEARS * 365 * 86400
                store.record_file(str(path), folder_id=folder_id, file_type=path.suffix[1:], size=offset,
                                  mtime=mtime, content_hash=f"synthetic-{number}", status=FileStatus.INDEXED,
                                  title=f"Document {number}", chunks=chunks, vectors=batch)
        written = min(files, first + FILES_PER_TRANSACTION) * PASSAGES_PER_FILE
        if first // FILES_PER_TRANSACTION % 20 == 0:
            rate = written / (time.perf_counter() - start)
            print(f"  {min(written, passages):,} passages, {rate:,.0f}/s", file=sys.stderr)
    if not database:
        store.db.execute("INSERT INTO chunk_fts(chunk_fts) VALUES ('optimize')")
    store.close()
    return {"seconds": time.perf_counter() - start, "newest": now, "database": database}


def empty_database(address: str) -> None:
    """Refuse a database holding anything but an index this bench built (never a team's index)."""
    import psycopg

    with psycopg.connect(address, autocommit=True) as db:
        tables = [r[0] for r in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
        if not tables:
            return
        files = db.execute("SELECT count(*) FROM files WHERE content_hash NOT LIKE 'synthetic-%'").fetchone()
        if "files" not in tables or files is None or files[0]:
            sys.exit(f"{address}: holds tables other than this bench's index; give it an empty database")
        for table in tables:
            db.execute(f'DROP TABLE "{table}" CASCADE')
        db.execute("DROP TEXT SEARCH CONFIGURATION IF EXISTS kenning")
        db.execute("DROP TEXT SEARCH DICTIONARY IF EXISTS kenning_stem")


def short_queries(collection: cisi.Collection) -> list[str]:
    """The two or three rarest words of each query: what people type into a search box."""
    from kenning.query import STOPWORDS

    frequency: dict[str, int] = {}
    for record in collection.docs.values():
        for word in set(re.findall(r"[a-z]+", record.get("W", "").lower())):
            frequency[word] = frequency.get(word, 0) + 1
    queries = []
    for number, query in enumerate(collection.queries.values()):
        words = [w for w in dict.fromkeys(re.findall(r"[a-z]+", query.lower()))
                 if w not in STOPWORDS and len(w) > 2 and frequency.get(w, 0) > 0]
        words.sort(key=lambda w: frequency[w])
        queries.append(" ".join(words[:2 + number % 2]) or query)
    return queries


def exact_neighbours(data_dir: Path, queries: np.ndarray, k: int, database: str | None) -> list[list[int]]:
    """The true k nearest passages of each query, by a full scan of the vector table."""
    if database:
        return exact_on_server(queries, k, database)
    import apsw
    import sqlite_vec

    db = apsw.Connection(str(data_dir / "kenning.sqlite3"), flags=apsw.SQLITE_OPEN_READONLY)
    db.enable_load_extension(True)
    db.load_extension(sqlite_vec.loadable_path())
    table = db.execute("SELECT value FROM meta WHERE key = 'vector_table'").fetchone()
    table = table[0] if table else "chunk_vectors"
    best = [np.zeros((0, 2)) for _ in queries]
    rows = db.execute(f"SELECT rowid, embedding FROM {table}")
    while True:
        block = [row for _, row in zip(range(50_000), rows)]
        if not block:
            break
        ids = np.array([r[0] for r in block], dtype=np.float64)
        vectors = np.frombuffer(b"".join(r[1] for r in block), dtype=np.float32).reshape(len(block), -1)
        scores = vectors @ queries.T
        for q in range(len(queries)):
            merged = np.concatenate([best[q], np.stack([ids, scores[:, q]], axis=1)])
            best[q] = merged[np.argsort(-merged[:, 1], kind="stable")[:k]]
    db.close()
    return [[int(i) for i in b[:, 0]] for b in best]


def exact_on_server(queries: np.ndarray, k: int, database: str) -> list[list[int]]:
    """By a sequential scan ("+ 0" keeps the planner off the HNSW index)."""
    import psycopg

    with psycopg.connect(database, autocommit=True) as db:
        table = db.execute("SELECT value FROM meta WHERE key = 'vector_table'").fetchone()
        table = table[0] if table else "chunk_vectors"
        db.execute("SET max_parallel_workers_per_gather = 0")
        return [[r[0] for r in db.execute(
            f"SELECT passage_id FROM {table} ORDER BY (embedding <=> %s::vector) + 0 LIMIT %s",
            ("[" + ",".join(f"{x:.7g}" for x in q) + "]", k))] for q in queries]


def space(data_dir: Path) -> dict[str, int]:
    """Bytes of the database by part: vectors, passage text, keyword index, the rest, free pages."""
    import apsw

    db = apsw.Connection(str(data_dir / "kenning.sqlite3"), flags=apsw.SQLITE_OPEN_READONLY)
    parts = {"vectors": 0, "passage text": 0, "keyword index": 0, "files, chunks, indexes": 0}
    for name, size in db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
        part = ("vectors" if name.startswith("chunk_vectors") else "keyword index" if name.startswith("chunk_fts")
                else "passage text" if name == "passages" else "files, chunks, indexes")
        parts[part] += size
    parts["free pages"] = db.execute("PRAGMA freelist_count").get * db.execute("PRAGMA page_size").get
    db.close()
    return parts


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(data_dir: Path, queries: int, database: str | None) -> dict:
    """In the child: time every search and report the process's peak RSS."""
    from kenning.engine import Engine
    from kenning.search import Filters
    from kenning.store import open_store

    collection = cisi.load(cisi.default_cisi())
    long = [q.replace('"', " ") for q in collection.queries.values()][:queries]
    short = short_queries(collection)[:queries]
    root = data_dir / "files"
    newest = json.loads((data_dir / "built.json").read_text())["newest"]
    filters = {
        "none": None,
        "folder 1%": Filters(folder=str(root / "folder-07")),
        "date 1%": Filters(modified_after=newest - YEARS * 365 * 86400 / 100),
    }
    engine = Engine(data_dir, database=database)
    engine.prepare_model()
    start = time.perf_counter()
    engine.search("warm up the caches", 10)  # the first search reads every vector's code
    figures: dict = {"times": {}, "results": {}, "first_search": (time.perf_counter() - start) * 1000}
    for mode in MODES:
        for name, chosen in filters.items():
            for length, texts in (("short", short), ("long", long)):
                times, counts = [], []
                for text in texts:
                    start = time.perf_counter()
                    results = engine.search(text, 10, chosen, mode)
                    times.append((time.perf_counter() - start) * 1000)
                    counts.append(len(results))
                figures["times"][f"{mode}|{name}|{length}"] = times
                figures["results"][f"{mode}|{name}|{length}"] = statistics.mean(counts)
    figures["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # before the check's own codes
    vectors = np.stack([engine.embedder.embed_query(q) for q in long])
    store = open_store(data_dir, database)
    figures["fast_top10"] = [[pid for pid, _ in store.vector_candidates(v, 10)] for v in vectors]
    figures["queries"] = vectors.tolist()
    figures["times"]["hybrid|after a change|long"] = changing(data_dir, engine, long, database)
    figures["results"]["hybrid|after a change|long"] = 10.0
    return figures


def changing(data_dir: Path, engine, texts: list[str], database: str | None) -> list[float]:
    """Search times when a file was re-indexed just before each search (the codes catch up)."""
    from kenning.store import FileStatus, NewChunk, open_store

    store = open_store(data_dir, database)
    rng = np.random.default_rng(5)
    dimensions = store.dimensions or 384
    times = []
    for number, text in enumerate(texts[:20]):
        vectors = rng.standard_normal((5, dimensions), dtype=np.float32)
        chunks = [NewChunk(i, None, 0, 10, f"changed passage {number} {i} {text[:60]}") for i in range(5)]
        store.record_file(str(data_dir / "files" / "changing.txt"), folder_id=None, file_type="txt", size=10,
                          mtime=time.time(), content_hash=f"changing-{number}", status=FileStatus.INDEXED,
                          chunks=chunks, vectors=vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
        start = time.perf_counter()
        engine.search(text, 10)
        times.append((time.perf_counter() - start) * 1000)
    store.remove_files([str(data_dir / "files" / "changing.txt")])
    store.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--vectors", choices=("clustered", "random"), default="clustered")
    parser.add_argument("--queries", type=int, default=76, help="how many of the queries to time")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--database", help="a PostgreSQL server's address (an empty database): the index goes there")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.queries, args.database)))
        return 0

    data_dir = SCALE / f"{args.passages}-{args.vectors}{'-postgresql' if args.database else ''}"
    done = data_dir / "built.json"
    if done.exists() and json.loads(done.read_text()).get("database") != args.database:
        args.rebuild = True  # built into another database
    if args.rebuild or not done.exists():
        collection = cisi.load(cisi.default_cisi())
        print(f"building {args.passages:,} passages ({args.vectors} vectors) in {data_dir} ...", file=sys.stderr)
        done.parent.mkdir(parents=True, exist_ok=True)
        done.write_text(json.dumps(build(data_dir, args.passages, args.vectors, collection, args.database)))
    child = subprocess.run([sys.executable, __file__, "--child", str(data_dir), "--queries", str(args.queries)]
                           + (["--database", args.database] if args.database else []),
                           stdout=subprocess.PIPE, text=True, check=True)
    figures = json.loads(child.stdout)

    from kenning.store import open_store

    store = open_store(data_dir, args.database)
    size = store.size_bytes()
    store.close()
    where = f"on {without_password(args.database)}" if args.database else "in SQLite"
    print(f"\n{args.passages:,} passages, {args.vectors} vectors, {where}; built in "
          f"{json.loads(done.read_text())['seconds']:.0f} s; index {size / 1e9:.2f} GB "
          f"({size / args.passages:,.0f} bytes/passage)")
    if not args.database:
        print("  " + ", ".join(f"{name} {size / args.passages:,.0f}" for name, size in space(data_dir).items())
              + " bytes/passage")
    print(f"{'mode':<8} {'filter':<10} {'query':<6} {'p50 ms':>8} {'p95 ms':>8} {'min ms':>8} {'results':>8}")
    for key, times in figures["times"].items():
        mode, name, length = key.split("|")
        print(f"{mode:<8} {name:<10} {length:<6} {statistics.median(times):8.1f} {percentile(times, 95):8.1f} "
              f"{min(times):8.1f} {figures['results'][key]:8.1f}")
    exact = exact_neighbours(data_dir, np.array(figures["queries"], dtype=np.float32), 10, args.database)
    recall = statistics.mean(len(set(f) & set(e)) / 10 for f, e in zip(figures["fast_top10"], exact))
    print(f"vector recall@10 of the fast path vs exact search: {recall:.3f} ({len(exact)} queries)")
    print(f"peak RSS of the search process: {figures['peak_rss'] / 2**20:.0f} MB; "
          f"first search (reads every vector's code): {figures['first_search']:.0f} ms")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
