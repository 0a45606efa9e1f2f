"""Indexes built through the store without a model: random unit vectors, words for text."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from kenning.store import FileStatus, NewChunk, Store

WORDS = ("river mountain archive ledger invoice harbour lantern meadow orbit quartz signal "
         "tundra velvet willow yarrow zenith falcon glacier hamlet island").split()


def unit_vectors(rng: np.random.Generator, count: int, dimensions: int, centres: np.ndarray | None = None) -> np.ndarray:
    """Random unit vectors; near one of `centres` each when given (structured like embeddings)."""
    matrix = rng.standard_normal((count, dimensions)).astype(np.float32)
    if centres is not None:
        matrix = centres[rng.integers(len(centres), size=count)] + 0.5 / np.sqrt(dimensions) * matrix
    return (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)


def fill(store: Store, folder: Path, files: int, chunks_per_file: int, dimensions: int = 384,
         seed: int = 0, batch_files: int = 200, subfolders: int = 0, centres: np.ndarray | None = None) -> None:
    """`files` files of `chunks_per_file` passages each under `folder` (spread over `subfolders`
    of it when given), a batch per transaction; vectors near `centres` when given."""
    rng = random.Random(seed)
    vectors = np.random.default_rng(seed)
    store.bind_model("all-minilm-l6-v2", dimensions)
    folder_id = store.add_folder(str(folder))
    for start in range(0, files, batch_files):
        with store.transaction():
            for n in range(start, min(files, start + batch_files)):
                chunks = [NewChunk(i, None, i * 100, i * 100 + 90,
                                   " ".join(rng.choice(WORDS) for _ in range(12)) + f" doc{n}")
                          for i in range(chunks_per_file)]
                matrix = unit_vectors(vectors, chunks_per_file, dimensions, centres)
                place = folder / f"part{n % subfolders:02d}" if subfolders else folder
                store.record_file(str(place / f"file{n:06d}.txt"), folder_id=folder_id, file_type="txt",
                                  size=1000, mtime=1_700_000_000.0 + n, content_hash=f"h{n}",
                                  status=FileStatus.INDEXED, chunks=chunks, vectors=matrix)
