"""Embedding stage: text → L2-normalised float32 vectors, on the device, through llama.cpp.

Uses llama.cpp's C API directly. llama-cpp-python's `Llama.embed` packs every text of a call into
one batch, and an encoder's attention in llama.cpp spans the whole batch (other sequences are
masked, but still computed), so cost grows with the square of the batch: 32 CISI abstracts per
call ran at 247 tokens/s here, one per call at 2,990. We sort texts by length, pack them into
small batches (one model window, 256 tokens for MiniLM), and run one single-threaded context per
physical core in parallel: 5,190 tokens/s on 2 cores (bench/embed.py has the sweep behind this).
"""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kenning.errors import ModelError
from kenning.models.catalogue import ModelSpec
from kenning.models.gguf_file import read_gguf
from kenning.models.llama_log import quiet_llama
from kenning.tokens import Tokenizer

log = logging.getLogger(__name__)

DEFAULT_BATCH_TOKENS = 256  # rounded up to the model's window
MAX_CPU_CONTEXTS = 4
_POOLING = {"none": 0, "mean": 1, "cls": 2, "last": 3}


class TextTooLong(ModelError):
    """A document text has more tokens than the model's window; the chunker must split it."""


def physical_cores() -> int:
    """Physical cores (hyper-threads share units, so more threads than cores only adds contention)."""
    try:
        if sys.platform.startswith("linux"):
            cores = set()
            physical = "0"
            with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
                for line in f:
                    if line.startswith("physical id"):
                        physical = line.split(":")[1].strip()
                    elif line.startswith("core id"):
                        cores.add((physical, line.split(":")[1].strip()))
            if cores:
                return len(cores)
        elif sys.platform == "darwin":
            out = subprocess.run(["sysctl", "-n", "hw.physicalcpu"], capture_output=True, text=True)
            return max(1, int(out.stdout.strip()))
    except (OSError, ValueError):
        pass
    return max(1, (os.cpu_count() or 2) // 2)


def output_dimensions(spec: ModelSpec, full: int, wanted: int | None) -> int:
    """The vector size to store: the model's `full` size, or a smaller one it was trained for."""
    if wanted is None or wanted == full:
        return full
    if wanted not in spec.matryoshka_dimensions:
        sizes = ", ".join(map(str, spec.matryoshka_dimensions)) or "none"
        raise ModelError(
            f"{spec.name} cannot give {wanted}-dimension vectors "
            f"(full size {full}; smaller sizes it was trained for: {sizes})"
        )
    return wanted


@dataclass(frozen=True)
class EmbedderSettings:
    gpu: str = "auto"  # auto | on | off
    threads: int | None = None
    batch_tokens: int = DEFAULT_BATCH_TOKENS
    dimensions: int | None = None  # a smaller Matryoshka size, for models trained for it


class Embedder:
    """Embeds documents and queries with one GGUF model.

    Safe to share between threads: each llama.cpp context has a lock, and queries have a context
    of their own, so a search never waits behind a batch of documents being indexed.
    """

    def __init__(self, model_path: Path, spec: ModelSpec, settings: EmbedderSettings | None = None,
                 verified: bool = False):
        """`verified`: the file was checked when installed and its sha256 still matches, so the
        structural check (0.6 s of GGUF parsing in Python, most of a cold start) is skipped."""
        import llama_cpp

        self._llama = llama_cpp
        self.spec = spec
        self.settings = settings or EmbedderSettings()
        if self.settings.gpu not in ("auto", "on", "off"):
            raise ModelError(f"GPU setting must be auto, on or off, not {self.settings.gpu!r}")
        if not verified:
            read_gguf(model_path)  # refuse a damaged file before llama.cpp reads it
        self.path = Path(model_path)
        with quiet_llama():
            llama_cpp.llama_backend_init()
            self._model, self.backend = self._load_model()
        self.model_dimensions = llama_cpp.llama_model_n_embd(self._model)
        self.dimensions = output_dimensions(spec, self.model_dimensions, self.settings.dimensions)
        self.window = min(spec.max_tokens, llama_cpp.llama_model_n_ctx_train(self._model))
        self.batch_tokens = max(self.settings.batch_tokens, self.window)
        self.max_sequences = max(1, min(256, self.batch_tokens // 8))
        self.threads = self.settings.threads or physical_cores()
        self._query: _Context | None = None
        self._setup_lock = threading.Lock()
        self.tokenizer = Tokenizer(self.path, spec.document_prefix, llama_cpp.llama_model_get_vocab(self._model))
        # A small model on the CPU runs faster as independent contexts working on different
        # batches than as one context whose threads meet at a barrier after every op (and it
        # degrades gracefully when other programs want the cores). Contexts are capped because
        # each holds its own compute buffers; on a GPU, one context.
        count = 1 if self.backend == "gpu" else min(self.threads, MAX_CPU_CONTEXTS)
        self._contexts = [self._new_context(max(1, self.threads // count)) for _ in range(count)]

    # -- loading ---------------------------------------------------------------------------

    def _load_model(self):
        llama = self._llama
        gpu_capable = llama.llama_supports_gpu_offload()
        want_gpu = self.settings.gpu == "on" or (self.settings.gpu == "auto" and gpu_capable)
        if self.settings.gpu == "on" and not gpu_capable:
            log.warning("GPU requested, but this llama.cpp build has no GPU support; using the CPU")
            want_gpu = False
        if want_gpu:
            model = self._load_with_layers(999)
            if model:
                return model, "gpu"
            log.warning("loading %s on the GPU failed; falling back to the CPU", self.path.name)
        model = self._load_with_layers(0)
        if not model:
            raise ModelError(f"{self.path}: llama.cpp could not load this model")
        return model, "cpu"

    def _load_with_layers(self, n_gpu_layers: int):
        params = self._llama.llama_model_default_params()
        params.n_gpu_layers = n_gpu_layers
        return self._llama.llama_model_load_from_file(str(self.path).encode(), params)

    def _new_context(self, threads: int) -> _Context:
        llama = self._llama
        params = llama.llama_context_default_params()
        params.embeddings = True
        params.n_ctx = self.batch_tokens
        params.n_batch = self.batch_tokens
        params.n_ubatch = self.batch_tokens
        params.n_seq_max = self.max_sequences
        params.kv_unified = True  # else llama.cpp sizes the context per sequence, 256 tokens each
        params.n_threads = threads
        params.n_threads_batch = threads
        params.pooling_type = _POOLING.get(self.spec.pooling, 1)
        with quiet_llama():
            ctx = llama.llama_init_from_model(self._model, params)
        if not ctx:
            raise ModelError(f"{self.path}: llama.cpp could not create an embedding context")
        return _Context(llama, ctx, llama.llama_batch_init(self.batch_tokens, 0, self.max_sequences), self)

    def _query_context(self) -> _Context:
        with self._setup_lock:
            if self._query is None:
                self._query = self._new_context(self.threads if self.backend == "gpu" else 1)
            return self._query

    def close(self) -> None:
        for context in getattr(self, "_contexts", []) + [getattr(self, "_query", None)]:
            if context is not None:
                with context.lock:
                    context.free()
        self._contexts, self._query = [], None
        if getattr(self, "_model", None):
            self._llama.llama_model_free(self._model)
            self._model = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    # -- tokens ----------------------------------------------------------------------------

    def tokenize(self, text: str, special: bool = True) -> list[int]:
        """Token ids from the model's own tokenizer; `special` adds [CLS]/[SEP] or equivalents."""
        return self.tokenizer.tokenize(text, special)

    def count_tokens(self, text: str) -> int:
        """Tokens `text` takes as a document, prefix and special tokens included."""
        return self.tokenizer.count(text)

    # -- embedding -------------------------------------------------------------------------

    def embed_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """One vector per text. A text longer than the window raises TextTooLong (never truncated)."""
        token_lists = [self.tokenize(self.spec.document_prefix + t) for t in texts]
        for i, tokens in enumerate(token_lists):
            if len(tokens) > self.window:
                raise TextTooLong(
                    f"text {i} has {len(tokens)} tokens; {self.spec.name} takes at most {self.window}"
                )
        return self._embed_token_lists(token_lists, progress)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Like `embed_documents`, but a text longer than the window (cut for another model's
        tokenizer) is embedded as the mean of its windows instead of refused."""
        try:
            return self.embed_documents(texts)
        except TextTooLong:
            fits = [self.count_tokens(t) <= self.window for t in texts]
            short = iter(self.embed_documents([t for t, ok in zip(texts, fits) if ok]) if any(fits) else [])
            return np.asarray([next(short) if ok else self.embed_long_document(t) for t, ok in zip(texts, fits)],
                              dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """A query vector. A query longer than the window is embedded in windows and averaged."""
        tokens = self.tokenize(self.spec.query_prefix + text)
        if len(tokens) <= self.window:
            vector = np.zeros((1, self.model_dimensions), dtype=np.float32)
            self._query_context().run([0], [tokens], vector)
            return self._finish(vector)[0]
        log.info("query has %d tokens; embedding it in %d-token windows", len(tokens), self.window)
        return self._embed_in_windows(tokens)

    def embed_long_document(self, text: str) -> np.ndarray:
        """A document longer than the window (e.g. a chunk cut for another model's tokenizer):
        the mean of its windows, each embedded whole. Nothing is dropped."""
        return self._embed_in_windows(self.tokenize(self.spec.document_prefix + text))

    def _embed_in_windows(self, tokens: list[int]) -> np.ndarray:
        body = tokens[1:-1]
        step = self.window - 2
        windows = [[tokens[0], *body[i : i + step], tokens[-1]] for i in range(0, len(body), step)]
        return _normalise(self._embed_token_lists(windows).mean(axis=0, keepdims=True))[0]

    def _finish(self, vectors: np.ndarray) -> np.ndarray:
        """Pooled model output → the vectors Kenning stores: cut to the Matryoshka size (after the
        layer norm such models expect), then L2-normalised."""
        if self.dimensions < self.model_dimensions:
            if self.spec.matryoshka_layer_norm:
                centred = vectors - vectors.mean(axis=1, keepdims=True)
                vectors = centred / np.sqrt((centred**2).mean(axis=1, keepdims=True) + 1e-5)
            vectors = vectors[:, : self.dimensions]
        return _normalise(vectors) if self.spec.normalize else vectors.astype(np.float32)

    def _embed_token_lists(
        self, token_lists: list[list[int]], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        result = np.zeros((len(token_lists), self.model_dimensions), dtype=np.float32)
        batches = self._plan_batches(token_lists)
        if len(self._contexts) == 1 or len(batches) == 1:
            for batch in batches:
                self._contexts[0].run(batch, token_lists, result)
                if progress:
                    progress(len(batch))
        else:
            self._run_parallel(batches, token_lists, result, progress)
        return self._finish(result)

    def _plan_batches(self, token_lists: list[list[int]]) -> list[list[int]]:
        """Indices grouped into batches of at most `batch_tokens` tokens, similar lengths together."""
        order = sorted(range(len(token_lists)), key=lambda i: len(token_lists[i]))
        batches: list[list[int]] = []
        batch: list[int] = []
        used = 0
        for i in order:
            size = max(1, len(token_lists[i]))
            if batch and (used + size > self.batch_tokens or len(batch) == self.max_sequences):
                batches.append(batch)
                batch, used = [], 0
            batch.append(i)
            used += size
        if batch:
            batches.append(batch)
        return batches[::-1]  # longest first, so the parallel workers finish together

    def _run_parallel(self, batches, token_lists, result, progress) -> None:
        work: queue.SimpleQueue = queue.SimpleQueue()
        for batch in batches:
            work.put(batch)
        errors: list[BaseException] = []
        lock = threading.Lock()

        def worker(context: _Context) -> None:
            while not errors:
                try:
                    batch = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    context.run(batch, token_lists, result)  # llama.cpp runs without the GIL
                except BaseException as exc:
                    errors.append(exc)
                    return
                if progress:
                    with lock:
                        progress(len(batch))

        threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in self._contexts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]


class _Context:
    """One llama.cpp context with its batch buffer; used by one thread at a time.

    Tokens and positions are copied in through NumPy views of the batch arrays; the per-token
    sequence ids are rewritten only where they change, as Python loops here cost ~10% of the time.
    """

    def __init__(self, llama, ctx, batch, owner: Embedder):
        self.llama, self.ctx, self.batch, self.owner = llama, ctx, batch, owner
        self.lock = threading.Lock()
        capacity = owner.batch_tokens
        self.tokens = np.ctypeslib.as_array(batch.token, shape=(capacity,))
        self.positions = np.ctypeslib.as_array(batch.pos, shape=(capacity,))
        np.ctypeslib.as_array(batch.n_seq_id, shape=(capacity,))[:] = 1
        np.ctypeslib.as_array(batch.logits, shape=(capacity,))[:] = 1
        self.written_seq = np.full(capacity, -1, dtype=np.int32)

    def run(self, indices: list[int], token_lists: list[list[int]], out: np.ndarray) -> None:
        with self.lock:
            self._run(indices, token_lists, out)

    def _run(self, indices: list[int], token_lists: list[list[int]], out: np.ndarray) -> None:
        llama, batch, owner = self.llama, self.batch, self.owner
        lists = [token_lists[i] or owner.tokenize("") for i in indices]
        lengths = [len(tokens) for tokens in lists]
        n = sum(lengths)
        self.tokens[:n] = np.fromiter((t for tokens in lists for t in tokens), dtype=np.int32, count=n)
        self.positions[:n] = np.concatenate([np.arange(length, dtype=np.int32) for length in lengths])
        seqs = np.repeat(np.arange(len(lists), dtype=np.int32), lengths)
        for position in np.nonzero(self.written_seq[:n] != seqs)[0].tolist():
            batch.seq_id[position][0] = int(seqs[position])
        self.written_seq[:n] = seqs
        batch.n_tokens = n
        status = llama.llama_encode(self.ctx, batch)
        if status != 0:
            raise ModelError(f"{owner.path.name}: llama.cpp failed to embed a batch (code {status})")
        for seq, i in enumerate(indices):
            pointer = llama.llama_get_embeddings_seq(self.ctx, seq)
            if not pointer:
                raise ModelError(f"{owner.path.name}: llama.cpp returned no embedding")
            out[i] = np.ctypeslib.as_array(pointer, shape=(owner.model_dimensions,))

    def free(self) -> None:
        if self.batch is not None:
            self.llama.llama_batch_free(self.batch)
            self.batch = None
        if self.ctx:
            self.llama.llama_free(self.ctx)
            self.ctx = None


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
