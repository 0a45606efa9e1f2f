"""The fast vector path over a sqlite-vec table: one bit per dimension of every vector held in
memory, then three passes, each over fewer vectors.

sqlite-vec's own KNN is a brute-force scan through SQLite pages whose cost grows with k (about
0.6 s at a million passages). Here the codes of a million 384-dimensional passages take 48 MB
(64 with each one's row id, scale and length). A search ranks them all by Hamming distance to the
query's signs (SimSIMD: a few milliseconds); estimates the dot product of the nearest from the
float query and their codes (RaBitQ's estimator: the residual's length over how well its signs
align with it); and computes the exact cosine of the best estimates from the vectors themselves,
read from vec0's chunk blobs by slot. The vectors stay in sqlite-vec, the only store: the codes
are derived from them and refreshed, chunk by chunk, whenever the database changed.

The reading relies on the layout of vec0 tables made by sqlite-vec 0.1 (`<table>_chunks` with a
validity bitmap and the rowid of each slot, `<table>_vector_chunks00` with the vectors of a chunk
in one blob). `VectorIndex.supports` checks it; a table it does not read is searched by vec0's
own KNN instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw
import numpy as np
import simsimd

from kenning.errors import IndexError_

CHUNK_SLOTS_COLUMNS = ("chunk_id", "size", "validity", "rowids")
GROWTH = 2.0  # the codes are rebuilt around a new mean when the table has grown this much
THREADS = 2  # for the Hamming pass: most of its time is memory traffic, which two threads fill
MEAN_SAMPLE_CHUNKS = 2000  # the mean is taken over about this many chunks' vectors
HAMMING_SHORTLIST = 5_000
RESCORE_MIN = 500
MAX_RESCORED_SHARE = 4  # at most this many times oversample(k) are rescored
SURE_TOP = 10  # rescoring goes on while the estimates leave others a chance to enter this top


BYTE_BITS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).astype(np.float32)  # MSB first


def shortlist(k: int, count: int) -> int:
    """How many of the `count` vectors, the nearest by Hamming distance, the estimate of the
    second pass looks at."""
    return max(HAMMING_SHORTLIST, 40 * k, count // 100)


def oversample(k: int, count: int) -> int:
    """How many candidates the estimate keeps for exact rescoring, for k results among `count`
    vectors: the more vectors, the more of them fall within the estimate's error of the k-th
    (recall@10 0.98-0.99 of exact search at 100k and 1M passages, bench/scale.py)."""
    return max(RESCORE_MIN, 5 * k, count // 1250)


class VectorIndex:
    def __init__(self, db: apsw.Connection, table: str, dimensions: int):
        self.db = db
        self.table = table
        self.dimensions = dimensions
        self.code_bytes = (dimensions + 7) // 8
        self.mean = np.zeros(dimensions, dtype=np.float32)
        self.mean_count = 0  # how many vectors the mean was taken over
        self.codes = np.zeros((0, self.code_bytes), dtype=np.uint8)
        self.scales = np.zeros(0, dtype=np.float32)  # turns a code's dot product into an estimate
        self.norms = np.zeros(0, dtype=np.float32)  # each vector's length
        self.rowids = np.zeros(0, dtype=np.int64)
        self.valid = np.zeros(0, dtype=bool)
        self.blocks: dict[int, int] = {}  # vec0 chunk id -> its block of slots here
        self.chunk_of_block: list[int] = []  # and back
        self.free_blocks: list[int] = []  # blocks of chunks that vec0 deleted, to reuse
        self.seen: dict[int, bytes] = {}  # chunk id -> the validity bitmap it had when read
        self.slots = 0  # slots per vec0 chunk
        self.version: tuple[int, int, int] | None = None
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None  # rowids sorted, and their slots

    @staticmethod
    def supports(db: apsw.Connection, table: str, dimensions: int) -> bool:
        """Whether `table` has the vec0 layout this module reads (one float vector column, of
        whole bytes of dimensions)."""
        if dimensions < 8 or dimensions % 8:
            return False
        def columns(name: str) -> list[str]:
            return [row[1] for row in db.execute(f"PRAGMA table_info({name})")]
        try:
            info = dict(db.execute(f'SELECT key, value FROM "{table}_info"'))
        except apsw.SQLError:
            return False
        return (info.get("CREATE_VERSION_MAJOR") == 0 and info.get("CREATE_VERSION_MINOR") == 1
                and columns(f"{table}_chunks") == list(CHUNK_SLOTS_COLUMNS)
                and columns(f"{table}_vector_chunks00") == ["rowid", "vectors"])

    # -- keeping up with the table ---------------------------------------------------------------

    def refresh(self) -> None:
        """Bring the codes up to date with the table (cheap when nothing changed). Call it inside
        the read transaction that the search then runs in."""
        version = (_first(self.db, "PRAGMA data_version"), _first(self.db, "PRAGMA schema_version"),
                   self.db.total_changes())  # another connection's commits, a table made anew, our writes
        if version == self.version:
            return
        if self.mean_count == 0:
            self._rebuild()
        else:  # a chunk's validity bitmap changes with every vector added to it or deleted from it
            current = dict(self.db.execute(f'SELECT chunk_id, validity FROM "{self.table}_chunks"'))
            for chunk_id in self.blocks.keys() - current.keys():
                self._free_block(self.blocks.pop(chunk_id))
                self.seen.pop(chunk_id, None)
            for chunk_id, validity in current.items():
                if self.seen.get(chunk_id) != validity:
                    size = _first(self.db, f'SELECT size FROM "{self.table}_chunks" WHERE chunk_id = ?', (chunk_id,))
                    rowids = _first(self.db, f'SELECT rowids FROM "{self.table}_chunks" WHERE chunk_id = ?', (chunk_id,))
                    self._load_chunk(chunk_id, size, validity, rowids)
            if int(self.valid.sum()) > GROWTH * max(self.mean_count, 512):
                self._rebuild()
        self.version = version

    def _rebuild(self) -> None:
        """A new mean to centre the codes on (from a sample of the chunks), then every code."""
        chunks = list(self.db.execute(f'SELECT chunk_id, size, validity, rowids FROM "{self.table}_chunks"'))
        valid_count = sum(int.from_bytes(validity, "little").bit_count() for _, _, validity, _ in chunks)
        total = np.zeros(self.dimensions, dtype=np.float64)
        taken = 0
        for chunk_id, size, validity, _ in chunks[::max(1, len(chunks) // MEAN_SAMPLE_CHUNKS)]:
            vectors, valid = self._chunk_vectors(chunk_id, size, validity)
            total += vectors[valid].sum(axis=0, dtype=np.float64)
            taken += int(valid.sum())
        self.mean = (total / max(taken, 1)).astype(np.float32)
        self.mean_count = max(valid_count, 1)
        self.blocks.clear()
        self.chunk_of_block.clear()
        self.free_blocks.clear()
        self.seen.clear()
        self.codes = self.codes[:0]
        self.scales = self.scales[:0]
        self.norms = self.norms[:0]
        self.rowids = self.rowids[:0]
        self.valid = self.valid[:0]
        for chunk_id, size, validity, rowids in chunks:
            self._load_chunk(chunk_id, size, validity, rowids)

    def _chunk_vectors(self, chunk_id: int, size: int, validity: bytes) -> tuple[np.ndarray, np.ndarray]:
        blob = _first(self.db, f'SELECT vectors FROM "{self.table}_vector_chunks00" WHERE rowid = ?', (chunk_id,))
        vectors = np.frombuffer(blob, dtype=np.float32).reshape(size, self.dimensions)
        valid = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")[:size].astype(bool)
        return vectors, valid

    def _load_chunk(self, chunk_id: int, size: int, validity: bytes, rowids: bytes) -> None:
        vectors, valid = self._chunk_vectors(chunk_id, size, validity)
        if chunk_id not in self.blocks:
            self.slots = self.slots or size
            self.blocks[chunk_id] = self._new_block(chunk_id)
        start = self.blocks[chunk_id] * self.slots
        end = start + size
        self.codes[start:end], self.scales[start:end] = self.encode(vectors)
        self.norms[start:end] = np.linalg.norm(vectors, axis=1)
        self.rowids[start:end] = np.frombuffer(rowids, dtype=np.int64)[:size]
        self.valid[start:end] = valid
        self.seen[chunk_id] = validity
        self._sorted = None

    def _new_block(self, chunk_id: int) -> int:
        if self.free_blocks:
            block = self.free_blocks.pop()
            self.chunk_of_block[block] = chunk_id
            return block
        block = len(self.chunk_of_block)
        self.chunk_of_block.append(chunk_id)
        needed = (block + 1) * self.slots
        if needed > len(self.rowids):
            grown = max(needed, int(len(self.rowids) * 1.5))
            self.codes = _resized(self.codes, grown)
            self.scales = _resized(self.scales, grown)
            self.norms = _resized(self.norms, grown)
            self.rowids = _resized(self.rowids, grown)
            self.valid = _resized(self.valid, grown)
        return block

    def _free_block(self, block: int) -> None:
        self.valid[block * self.slots:(block + 1) * self.slots] = False
        self.free_blocks.append(block)
        self._sorted = None

    def encode(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One bit per dimension (is the component above the table's mean?), and the scale that
        estimates a query's dot product with the vector from the code (RaBitQ's estimator: the
        residual's length over how well its signs align with it)."""
        residuals = np.asarray(vectors, dtype=np.float32) - self.mean
        lengths = np.linalg.norm(residuals, axis=-1)
        alignment = np.abs(residuals).sum(axis=-1) / np.maximum(lengths, 1e-12)  # <sign, residual/|residual|>
        scales = lengths / np.maximum(alignment, 1e-12)
        return np.packbits(residuals > 0, axis=-1), scales.astype(np.float32)

    # -- searching -------------------------------------------------------------------------------

    def slots_of(self, rowids: Sequence[int]) -> np.ndarray:
        """The slots holding these rowids (those that have a vector)."""
        if self._sorted is None:
            live = np.flatnonzero(self.valid)
            order = np.argsort(self.rowids[live], kind="stable")
            self._sorted = (self.rowids[live][order], live[order])
        sorted_rowids, slots = self._sorted
        wanted = np.unique(np.asarray(rowids, dtype=np.int64))
        at = np.searchsorted(sorted_rowids, wanted)
        inside = at < len(sorted_rowids)
        at = at[inside]
        return slots[at[sorted_rowids[at] == wanted[inside]]]

    def search(self, query: np.ndarray, k: int, within: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """(rowid, cosine distance) of the k nearest vectors, nearest first; only among the
        rowids `within` when it is given.

        Three passes, each on fewer vectors: Hamming distance between codes over all of them;
        an estimate of the dot product from the float query and the codes over the nearest of
        those; the exact cosine, from the vectors themselves, for the best estimates."""
        self.refresh()
        if k < 1:
            return []
        slots = np.flatnonzero(self.valid) if within is None else self.slots_of(within)
        query = np.asarray(query, dtype=np.float32)
        count = len(slots)
        keep = shortlist(k, count)
        if len(slots) > keep:
            codes = self.codes if within is None else self.codes[slots]
            distances = np.empty((1, len(codes)), dtype=np.float32)
            query_code = np.packbits(query > 0)[None, :]
            simsimd.cdist(query_code, codes, metric="hamming", dtype="bin8", out=distances,
                          out_dtype="float32", threads=THREADS)
            distances = distances[0]
            if within is None:
                distances[~self.valid] = np.inf
            nearest = np.argpartition(distances, keep)[:keep]
            slots = nearest if within is None else slots[nearest]
        rescored = oversample(k, count)
        if len(slots) <= rescored:
            return self._best(slots, self._exact(query, slots), k)
        # Rescore the best estimates; then, while the estimate's error (measured on those
        # rescored) leaves others a chance to enter the top SURE_TOP, the next ones too. Vectors with
        # structure stop at once; random ones, whose neighbours stand out little, take more.
        query_length = float(np.linalg.norm(query)) or 1.0
        guessed = (self._estimates(query, slots) + float(query @ self.mean)) / (
            query_length * np.maximum(self.norms[slots], 1e-12))
        order = np.argsort(-guessed)
        slots, guessed = slots[order], guessed[order]
        done = rescored
        cosines = 1.0 - self._exact(query, slots[:done])
        while done < min(len(slots), MAX_RESCORED_SHARE * rescored):
            sure = min(k, SURE_TOP)
            kth = np.partition(cosines, len(cosines) - sure)[len(cosines) - sure]
            error = float(np.std(cosines - guessed[:done]))
            chances = int(np.count_nonzero(guessed[done:] + 3.0 * error >= kth))
            if chances == 0:
                break
            more = slots[done:done + min(chances, rescored)]
            cosines = np.concatenate([cosines, 1.0 - self._exact(query, more)])
            done += len(more)
        return self._best(slots[:done], 1.0 - cosines, k)

    def _best(self, slots: np.ndarray, distances: np.ndarray, k: int) -> list[tuple[int, float]]:
        best = np.argsort(distances, kind="stable")[:k]
        return [(int(self.rowids[slots[i]]), float(distances[i])) for i in best]

    def _estimates(self, query: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """The query's dot product with each vector, less the part shared by all (<query, mean>),
        estimated from the codes: sum over bytes of a table of the query's partial sums."""
        table = query.reshape(-1, 8) @ BYTE_BITS.T  # [byte, value]: the query summed over its set bits
        ones = table[np.arange(self.code_bytes), self.codes[slots]].sum(axis=1)
        signed = 2.0 * ones - query.sum()  # the query's dot product with the code as +1/-1
        return self.scales[slots] * signed

    def _exact(self, query: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """Exact cosine distances of the vectors in `slots` (in that order), read from the
        table's chunk blobs, a chunk at a time."""
        if len(slots) == 0:
            return np.zeros(0, dtype=np.float32)
        width = self.dimensions * 4
        order = np.argsort(slots, kind="stable")
        ordered = slots[order]
        vectors = np.empty((len(slots), self.dimensions), dtype=np.float32)
        buffer = vectors.data.cast("B")
        blocks, starts = np.unique(ordered // self.slots, return_index=True)
        ends = [*starts[1:], len(ordered)]
        for block, start, end in zip(blocks.tolist(), starts.tolist(), ends):
            with self.db.blob_open("main", f"{self.table}_vector_chunks00", "vectors", self.chunk_of_block[block], False) as blob:
                for row in range(start, end):
                    blob.seek(int(ordered[row] - block * self.slots) * width)
                    blob.read_into(buffer, int(order[row]) * width, width)
        norms = np.linalg.norm(vectors, axis=1) * float(np.linalg.norm(query))
        return 1.0 - (vectors @ query) / np.where(norms > 0, norms, 1.0)


def _first(db: apsw.Connection, sql: str, bindings: tuple = ()) -> Any:
    row = db.execute(sql, bindings).fetchone()
    if row is None:
        raise IndexError_(f"the vector table is missing a row it needs ({sql})")
    return row[0]


def _resized(array: np.ndarray, length: int) -> np.ndarray:
    grown = np.zeros((length, *array.shape[1:]), dtype=array.dtype)
    grown[:len(array)] = array
    return grown
