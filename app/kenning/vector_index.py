"""The fast vector path over a sqlite-vec table: a compact code of every vector held in memory,
scanned in one pass, then the best candidates rescored exactly from the vectors themselves.

sqlite-vec's own KNN is a brute-force scan through SQLite pages whose cost grows with k (about
0.6 s at a million passages). Here every vector is product-quantized: each pair of dimensions is
one of 16 points learnt from the table (4 bits), 96 bytes a 384-dimensional passage, 96 MB at
a million. faiss's FastScan kernel ranks all the codes against the float query in about 10 ms
there (SIMD table lookups, 32 codes at a time). That estimate is close even on vectors without
neighbour structure, where one bit a dimension is not: on a million random unit vectors, the
best 400 estimates hold 99% of the true ten nearest, against about 75% for one-bit codes
rescored 800 deep. The exact cosine of the best estimates is then computed from the vectors,
read from vec0's chunk blobs by slot. The vectors stay in sqlite-vec, the only store: the codes
are derived from them and refreshed, chunk by chunk, whenever the database changed.

The reading relies on the layout of vec0 tables made by sqlite-vec 0.1 (`<table>_chunks` with a
validity bitmap and the rowid of each slot, `<table>_vector_chunks00` with the vectors of a chunk
in one blob). `VectorIndex.supports` checks it; a table it does not read is searched by vec0's
own KNN instead.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import apsw
import faiss
import numpy as np

from kenning.errors import IndexError_

CHUNK_SLOTS_COLUMNS = ("chunk_id", "size", "validity", "rowids")
SUB_DIMENSIONS = 2  # dimensions per 4-bit code
BLOCK = 32  # FastScan packs codes 32 vectors to a block; vec0 chunks are laid out on such blocks
GROWTH = 2.0  # the codes are learnt again when the table has grown this much
MIN_TRAINING = 1024  # fewer vectors than this are searched exactly, without codes
TRAINING_SAMPLE = 32_768  # the code book is learnt from about this many vectors
RESCORE_MIN = 500
MAX_RESCORED_SHARE = 4  # at most this many times oversample(k) are rescored
SURE_TOP = 10  # rescoring goes on while the estimates leave others a chance to enter this top
SUBSET_SHARE = 0.02  # a filter passing fewer than this share: the code blocks holding it are scanned alone
LOAD_BATCH = 256  # chunks whose codes are made together

faiss.omp_set_num_threads(2)


def oversample(k: int, count: int) -> int:
    """How many candidates the estimate keeps for exact rescoring, for k results among `count`
    vectors: the more vectors, the more of them fall within the estimate's error of the k-th."""
    return max(RESCORE_MIN, 5 * k, count // 1250)


@functools.lru_cache(maxsize=4)
def block_layout(codes_per_vector: int) -> np.ndarray:
    """Where FastScan's block layout puts each 4-bit code: for every nibble of a packed block (two
    to a byte, low first), which (vector * codes_per_vector + code) of the block it holds. Found
    by packing blocks whose codes spell out their own positions, three bits a round."""
    index: Any = faiss.IndexPQFastScan(SUB_DIMENSIONS * codes_per_vector, codes_per_vector, 4,
                                       faiss.METRIC_INNER_PRODUCT, BLOCK)
    packer = index.get_CodePacker()
    positions = np.arange(BLOCK * codes_per_vector)
    source = np.zeros(packer.block_size * 2, dtype=np.int64)
    for round_ in range((int(positions[-1]).bit_length() + 2) // 3):
        digits = ((positions >> (3 * round_)) & 7) + 1  # never 0, so an unused nibble shows
        flat = _bytes_of_nibbles(digits.reshape(BLOCK, codes_per_vector))
        block = np.zeros(packer.block_size, dtype=np.uint8)
        packer.pack_all(faiss.swig_ptr(flat), faiss.swig_ptr(block))
        seen = _nibbles_of_bytes(block[None, :])[0].astype(np.int64)
        source |= np.where(seen > 0, seen - 1, 0) << (3 * round_)
    return source


def _nibbles_of_bytes(data: np.ndarray) -> np.ndarray:
    """[n, b] bytes -> [n, 2b] nibbles, the low one of each byte first."""
    return np.stack([data & 15, data >> 4], axis=-1).reshape(len(data), -1)


def _bytes_of_nibbles(nibbles: np.ndarray) -> np.ndarray:
    return (nibbles[:, 0::2] | (nibbles[:, 1::2] << 4)).astype(np.uint8)


class VectorIndex:
    def __init__(self, db: apsw.Connection, table: str, dimensions: int):
        self.db = db
        self.table = table
        self.dimensions = dimensions
        self.codes_per_vector = dimensions // SUB_DIMENSIONS
        self.block_bytes = BLOCK * self.codes_per_vector // 2  # one FastScan block of codes
        self.fast: Any = None  # the FastScan index holding the codes; None until there are enough vectors
        self.packed = np.zeros(0, dtype=np.uint8)  # its code blocks, seen as an array
        self.scratch: Any = None  # an index of the same code book, for the blocks a filter touches
        self.trained_on = 0  # how many vectors the table held when the code book was learnt
        self.norms = np.zeros(0, dtype=np.float32)  # each vector's length
        self.rowids = np.zeros(0, dtype=np.int64)
        self.valid = np.zeros(0, dtype=bool)
        self.blocks: dict[int, int] = {}  # vec0 chunk id -> its block of slots here
        self.chunk_of_block: list[int] = []  # and back
        self.free_blocks: list[int] = []  # blocks of chunks that vec0 deleted, to reuse
        self.seen: dict[int, bytes] = {}  # chunk id -> its rowids when read
        self.stride = 0  # slots per block here: the chunk size rounded up to whole FastScan blocks
        self.version: tuple[int, int, int] | None = None
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None  # rowids sorted, and their slots

    @staticmethod
    def supports(db: apsw.Connection, table: str, dimensions: int) -> bool:
        """Whether `table` has the vec0 layout this module reads (one float vector column, of a
        multiple of four dimensions: FastScan packs the codes of two pairs of dimensions together)."""
        if dimensions < 8 or dimensions % (2 * SUB_DIMENSIONS):
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
        if self.version is None:
            self._rebuild()
        else:  # vec0 zeroes a deleted vector's rowid in its chunk and may refill the slot, under
            # a new rowid (the store never reuses a passage id): a chunk changed iff its rowids did
            current = dict(self.db.execute(f'SELECT chunk_id, rowids FROM "{self.table}_chunks"'))
            for chunk_id in self.blocks.keys() - current.keys():
                self._free_block(self.blocks.pop(chunk_id))
                self.seen.pop(chunk_id, None)
            changed = []
            for chunk_id, rowids in current.items():
                if self.seen.get(chunk_id) != rowids:
                    size, validity = _row(self.db, f'SELECT size, validity FROM "{self.table}_chunks" '
                                          "WHERE chunk_id = ?", (chunk_id,))
                    changed.append((chunk_id, size, validity, rowids))
            self._load_chunks(changed)
            if int(self.valid.sum()) > GROWTH * max(self.trained_on, MIN_TRAINING // 2):
                self._rebuild()
        self.version = version

    def _rebuild(self) -> None:
        """A new code book (learnt from a sample of the chunks' vectors), then every code."""
        chunks = list(self.db.execute(f'SELECT chunk_id, size, validity, rowids FROM "{self.table}_chunks"'))
        valid_count = sum(int.from_bytes(validity, "little").bit_count() for _, _, validity, _ in chunks)
        self.fast = self.scratch = None
        self.packed = np.zeros(0, dtype=np.uint8)  # a view of the old index's memory, now freed
        if valid_count >= MIN_TRAINING:
            sample = []
            every = max(1, round(valid_count / TRAINING_SAMPLE))
            for chunk_id, size, validity, _ in chunks[::every]:
                vectors, valid = self._chunk_vectors(chunk_id, size, validity)
                sample.append(vectors[valid])
            self.fast = faiss.IndexPQFastScan(self.dimensions, self.codes_per_vector, 4,
                                              faiss.METRIC_INNER_PRODUCT, BLOCK)
            self.fast.train(np.ascontiguousarray(np.concatenate(sample)))
            self.scratch = faiss.clone_index(self.fast)
        self.trained_on = valid_count
        self.blocks.clear()
        self.chunk_of_block.clear()
        self.free_blocks.clear()
        self.seen.clear()
        self.rowids = self.rowids[:0]
        self._resize(0)
        if chunks:  # room for them all at once: growing by steps would hold old and new copies
            self.stride = self.stride or -(-chunks[0][1] // BLOCK) * BLOCK
            self._resize(len(chunks) * self.stride)
        for start in range(0, len(chunks), LOAD_BATCH):
            self._load_chunks(chunks[start:start + LOAD_BATCH])

    def _chunk_vectors(self, chunk_id: int, size: int, validity: bytes) -> tuple[np.ndarray, np.ndarray]:
        blob = _first(self.db, f'SELECT vectors FROM "{self.table}_vector_chunks00" WHERE rowid = ?', (chunk_id,))
        vectors = np.frombuffer(blob, dtype=np.float32).reshape(size, self.dimensions)
        valid = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")[:size].astype(bool)
        return vectors, valid

    def _load_chunks(self, chunks: Sequence[tuple[int, int, bytes, bytes]]) -> None:
        """Read these (chunk id, size, validity, rowids) chunks' vectors into their blocks, their
        codes made in one call."""
        if chunks and not self.stride:
            self.stride = -(-chunks[0][1] // BLOCK) * BLOCK  # vec0's chunk size is the table's
        padded = np.zeros((len(chunks) * self.stride, self.dimensions), dtype=np.float32)
        starts = []
        for n, (chunk_id, size, validity, rowids) in enumerate(chunks):
            vectors, valid = self._chunk_vectors(chunk_id, size, validity)
            if chunk_id not in self.blocks:
                self.blocks[chunk_id] = self._new_block(chunk_id)
            start = self.blocks[chunk_id] * self.stride
            self.norms[start:start + size] = np.linalg.norm(vectors, axis=1)
            self.rowids[start:start + size] = np.frombuffer(rowids, dtype=np.int64)[:size]
            self.valid[start:start + size] = valid
            self.seen[chunk_id] = rowids
            padded[n * self.stride:n * self.stride + size] = vectors
            starts.append(start)
        self._sorted = None
        if self.fast is None or not chunks:
            return
        width = self.stride // BLOCK * self.block_bytes  # bytes of one chunk's codes
        packed = self.pack(padded)
        for n, start in enumerate(starts):
            at = start // BLOCK * self.block_bytes
            self.packed[at:at + width] = packed[n * width:(n + 1) * width]

    def pack(self, vectors: np.ndarray) -> np.ndarray:
        """The FastScan blocks of `vectors` (a whole number of blocks of them), as bytes."""
        codes = _nibbles_of_bytes(self.fast.pq.compute_codes(np.ascontiguousarray(vectors)))
        blocks = codes.reshape(-1, BLOCK * self.codes_per_vector)[:, block_layout(self.codes_per_vector)]
        return _bytes_of_nibbles(blocks).reshape(-1)

    def _new_block(self, chunk_id: int) -> int:
        if self.free_blocks:
            block = self.free_blocks.pop()
            self.chunk_of_block[block] = chunk_id
            return block
        block = len(self.chunk_of_block)
        self.chunk_of_block.append(chunk_id)
        needed = (block + 1) * self.stride
        if needed > len(self.rowids):
            self._resize(max(needed, int(len(self.rowids) * 1.5) // self.stride * self.stride))
        if self.fast is not None:  # FastScan scans the blocks in use, not the room to grow
            self.fast.ntotal = self.fast.ntotal2 = needed
        return block

    def _resize(self, slots: int) -> None:
        self.norms = _resized(self.norms, slots)
        self.rowids = _resized(self.rowids, slots)
        self.valid = _resized(self.valid, slots)
        if self.fast is not None:
            self.packed = _resized_codes(self.fast, slots // BLOCK * self.block_bytes)
            self.fast.ntotal = self.fast.ntotal2 = min(self.fast.ntotal, slots)

    def _free_block(self, block: int) -> None:
        self.valid[block * self.stride:(block + 1) * self.stride] = False
        self.free_blocks.append(block)
        self._sorted = None

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

        Two passes: the dot product estimated from the codes, over all of them (or over the
        filter's own when it passes few); the exact cosine, from the vectors, of the best."""
        self.refresh()
        if k < 1:
            return []
        live = int(self.valid.sum())
        slots = np.flatnonzero(self.valid) if within is None else self.slots_of(within)
        query = np.asarray(query, dtype=np.float32)
        count = len(slots)
        rescored = oversample(k, count)
        if self.fast is None or count <= rescored:
            return self._best(slots, self._exact(query, slots), k)
        wanted = MAX_RESCORED_SHARE * rescored
        if within is not None and count < SUBSET_SHARE * live:
            slots, estimates = self._scan_blocks_of(query, slots, wanted)
        else:
            depth = wanted * live // count + (self.fast.ntotal - live)  # room for the vectors not wanted
            estimates, found = self.fast.search(query[None, :], min(depth, self.fast.ntotal))
            estimates, found = estimates[0], found[0]
            keep = found >= 0
            keep[keep] = self.valid[found[keep]]
            if within is not None:
                keep[keep] = np.isin(found[keep], slots, assume_unique=True)
            slots, estimates = found[keep][:wanted], estimates[keep][:wanted]
        guessed = estimates / ((float(np.linalg.norm(query)) or 1.0) * np.maximum(self.norms[slots], 1e-12))
        # Rescore the best estimates; then, while the estimate's error (measured on those
        # rescored) leaves others a chance to enter the top SURE_TOP, the next ones too.
        done = min(rescored, len(slots))
        cosines = 1.0 - self._exact(query, slots[:done])
        while done < len(slots):
            sure = min(k, SURE_TOP, len(cosines))
            kth = np.partition(cosines, len(cosines) - sure)[len(cosines) - sure]
            error = float(np.std(cosines - guessed[:done]))
            chances = int(np.count_nonzero(guessed[done:] + 3.0 * error >= kth))
            if chances == 0:
                break
            more = slots[done:done + min(chances, rescored)]
            cosines = np.concatenate([cosines, 1.0 - self._exact(query, more)])
            done += len(more)
        return self._best(slots[:done], 1.0 - cosines, k)

    def _scan_blocks_of(self, query: np.ndarray, slots: np.ndarray, wanted: int) -> tuple[np.ndarray, np.ndarray]:
        """The `wanted` best estimates among `slots` (sorted), and those slots: a copy of the code
        blocks that hold them (a folder's passages share a few) is scanned on its own."""
        blocks = np.unique(slots // BLOCK)
        copied = _resized_codes(self.scratch, len(blocks) * self.block_bytes)
        np.take(self.packed.reshape(-1, self.block_bytes), blocks, axis=0, out=copied.reshape(len(blocks), -1))
        self.scratch.ntotal = self.scratch.ntotal2 = len(blocks) * BLOCK
        at = np.searchsorted(blocks, slots // BLOCK) * BLOCK + slots % BLOCK  # the slots' places in the copy
        member = np.zeros(len(blocks) * BLOCK, dtype=bool)
        member[at] = True
        depth = min(len(member), wanted * len(member) // len(slots) + BLOCK)
        estimates, found = self.scratch.search(query[None, :], depth)
        estimates, found = estimates[0], found[0]
        keep = found >= 0
        keep[keep] = member[found[keep]]
        found = found[keep][:wanted]
        return blocks[found // BLOCK] * BLOCK + found % BLOCK, estimates[keep][:wanted]

    def _best(self, slots: np.ndarray, distances: np.ndarray, k: int) -> list[tuple[int, float]]:
        best = np.argsort(distances, kind="stable")[:k]
        return [(int(self.rowids[slots[i]]), float(distances[i])) for i in best]

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
        blocks, starts = np.unique(ordered // self.stride, return_index=True)
        ends = [*starts[1:], len(ordered)]
        for block, start, end in zip(blocks.tolist(), starts.tolist(), ends):
            with self.db.blob_open("main", f"{self.table}_vector_chunks00", "vectors", self.chunk_of_block[block], False) as blob:
                for row in range(start, end):
                    blob.seek(int(ordered[row] - block * self.stride) * width)
                    blob.read_into(buffer, int(order[row]) * width, width)
        norms = np.linalg.norm(vectors, axis=1) * float(np.linalg.norm(query))
        return 1.0 - (vectors @ query) / np.where(norms > 0, norms, 1.0)


def _row(db: apsw.Connection, sql: str, bindings: tuple = ()) -> tuple:
    row = db.execute(sql, bindings).fetchone()
    if row is None:
        raise IndexError_(f"the vector table is missing a row it needs ({sql})")
    return tuple(row)


def _first(db: apsw.Connection, sql: str, bindings: tuple = ()) -> Any:
    return _row(db, sql, bindings)[0]


def _resized_codes(index: Any, size: int) -> np.ndarray:
    """Resize a FastScan index's code blocks (faiss keeps what fits) and return them as an array:
    a view of faiss's memory, valid until the next resize."""
    index.codes.resize(size)
    return faiss.rev_swig_ptr(index.codes.get(), size) if size else np.zeros(0, dtype=np.uint8)


def _resized(array: np.ndarray, length: int) -> np.ndarray:
    grown = np.zeros((length, *array.shape[1:]), dtype=array.dtype)
    kept = min(length, len(array))
    grown[:kept] = array[:kept]
    return grown
