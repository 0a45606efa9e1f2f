"""Check a GGUF file before llama.cpp sees it, and read what an embedder needs from its metadata."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gguf

from kenning.errors import ModelError

POOLING_NAMES = {0: "none", 1: "mean", 2: "cls", 3: "last", 4: "rank"}


@dataclass(frozen=True)
class GGUFInfo:
    path: Path
    architecture: str
    name: str
    dimensions: int
    context_length: int
    pooling: str
    file_type: str


def _field(reader: gguf.GGUFReader, key: str):
    field = reader.get_field(key)
    return None if field is None else field.contents()


def read_gguf(path: Path) -> GGUFInfo:
    """Validate the file's structure (header, metadata, tensor extents) and return its facts."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such model file")
    size = path.stat().st_size
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise ModelError(f"{path}: not a GGUF file (wrong magic bytes)")
    try:
        reader = gguf.GGUFReader(str(path))
    except Exception as exc:  # the reader raises assorted errors for damaged files
        raise ModelError(f"{path}: damaged or truncated GGUF ({exc})") from exc
    for tensor in reader.tensors:
        end = int(tensor.data_offset) + int(tensor.n_bytes)
        if end > size:
            raise ModelError(f"{path}: truncated GGUF (tensor {tensor.name} runs past the end)")
    arch = _field(reader, "general.architecture")
    if not arch:
        raise ModelError(f"{path}: GGUF has no general.architecture")
    dims = _field(reader, f"{arch}.embedding_length")
    ctx = _field(reader, f"{arch}.context_length")
    if not dims or not ctx:
        raise ModelError(f"{path}: GGUF lacks {arch}.embedding_length or context_length")
    pooling_id = _field(reader, f"{arch}.pooling_type")
    causal = _field(reader, f"{arch}.attention.causal")
    if pooling_id is None and causal is not False:
        raise ModelError(f"{path}: {arch} model has no pooling type; it is not an embedding model")
    file_type = _field(reader, "general.file_type")
    return GGUFInfo(
        path=path,
        architecture=arch,
        name=_field(reader, "general.name") or path.stem,
        dimensions=int(dims),
        context_length=int(ctx),
        pooling=POOLING_NAMES.get(int(pooling_id or 0), "none"),
        file_type=gguf.LlamaFileType(file_type).name if file_type is not None else "unknown",
    )
