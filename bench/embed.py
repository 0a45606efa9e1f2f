#!/usr/bin/env python3
"""Embedding throughput on the CISI documents with the default model.

Prints tokens/s and documents/s for
  * llama-cpp-python's `Llama.embed` with 32 texts per call (the naive batching),
  * `Llama.embed` with one text per call,
  * Kenning's embedder (length-sorted packing under a token budget) at several budgets,
  * sentence-transformers `encode(batch_size=32)`, when PyTorch and sentence-transformers are
    importable (never installed by Kenning), as the reference for the ratio.
Every method embeds the same texts: each CISI document is chunked to the model's window, so
nothing is truncated. All runs use the same thread count.

    python bench/embed.py [--cisi DIR] [--limit N] [--threads N] [--budgets 256,512,...] [--naive]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import cisi  # noqa: E402

from kenning.chunk import chunk_document  # noqa: E402
from kenning.embed import Embedder, EmbedderSettings, physical_cores  # noqa: E402
from kenning.extract.base import Document, Section  # noqa: E402
from kenning.models.library import ModelLibrary, default_source_folder  # noqa: E402


def timed(label: str, run, texts: list[str], tokens: int, documents: int) -> float:
    started, cpu_started = time.perf_counter(), time.process_time()
    run()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"{label:44s} {tokens / seconds:9.0f} tokens/s {documents / seconds:8.1f} docs/s  "
          f"({seconds:.1f} s, {cpu:.1f} CPU-s)")
    return documents / seconds


def llama_embed(path: Path, texts: list[str], per_call: int, threads: int) -> None:
    import llama_cpp

    context = 8192 if per_call > 1 else 512  # room for a whole call's texts in one batch
    llm = llama_cpp.Llama(
        str(path), embedding=True, n_ctx=context, n_batch=context, n_ubatch=context,
        n_threads=threads, n_threads_batch=threads, verbose=False,
    )
    for i in range(0, len(texts), per_call):
        llm.embed(texts[i : i + per_call])


def sentence_transformers_docs_per_s(texts, tokens, documents, threads) -> float | None:
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError:
        print("sentence-transformers/PyTorch not importable: reference ratio skipped")
        return None
    torch.set_num_threads(threads)
    model = SentenceTransformer(str(default_source_folder()), device="cpu")
    return timed("sentence-transformers encode(batch_size=32)",
                 lambda: model.encode(texts, batch_size=32), texts, tokens, documents)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cisi", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=0, help="only the first N documents")
    parser.add_argument("--threads", type=int, default=physical_cores())
    parser.add_argument("--naive", action="store_true", help="also time Llama.embed on a sample")
    parser.add_argument("--budgets", default="256,512,1024,2048", help="token budgets per batch to time")
    options = parser.parse_args()

    collection = cisi.load(options.cisi or cisi.default_cisi())
    documents = [(doc.get("T", ""), doc.get("W", "")) for _, doc in sorted(collection.docs.items())]
    if options.limit:
        documents = documents[: options.limit]
    with tempfile.TemporaryDirectory() as scratch:
        model = ModelLibrary(Path(scratch)).get()
        embedder = Embedder(model.path, model.spec, EmbedderSettings(threads=options.threads))
        texts = []
        for doc in documents:
            document = Document([Section(f"{doc[0]}\n\n{doc[1]}")])
            texts += [c.text for c in chunk_document(document, embedder.count_tokens, embedder.window)]
        tokens = sum(embedder.count_tokens(t) for t in texts)
        n = len(documents)
        from kenning.backend import backend_summary

        print(f"{n} CISI documents -> {len(texts)} chunks, {tokens} tokens; {options.threads} threads; "
              f"model {model.spec.name} Q8_0, backend {embedder.backend}; {backend_summary()}")

        reference = sentence_transformers_docs_per_s(texts, tokens, n, options.threads)
        if options.naive:  # on a sample: 32 texts per call is too slow for the whole collection
            sample = texts[:256]
            share = len(sample) / len(texts)
            sample_tokens = sum(embedder.count_tokens(t) for t in sample)
            for per_call in (32, 1):
                timed(f"Llama.embed, {per_call} per call ({len(sample)} chunks)",
                      lambda per_call=per_call: llama_embed(model.path, sample, per_call, options.threads),
                      sample, sample_tokens, n * share)
        results = {}
        for budget in (int(b) for b in options.budgets.split(",")):
            candidate = Embedder(model.path, model.spec, EmbedderSettings(threads=options.threads, batch_tokens=budget))
            results[budget] = timed(f"Kenning embedder, {budget}-token batches",
                                    lambda candidate=candidate: candidate.embed_documents(texts), texts, tokens, n)
            candidate.close()
        shipped = embedder.batch_tokens
        if shipped in results:
            print(f"Kenning ships {shipped}-token batches: {results[shipped]:.1f} docs/s")
        if reference and shipped in results:
            print(f"wall-time ratio vs sentence-transformers: {results[shipped] / reference:.2f}x (target >= 1x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
