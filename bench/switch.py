"""A model switch on the CISI index: how fast the new index is built, and how search answers
meanwhile (latency while the switch runs, against the same queries before it).

    python bench/switch.py [--cisi DIR] [--to NAME]

Copies the default model's CISI index (built by bench/quality.py or bench/index.py, or built
here), then switches it to `--to`: a catalogue model present in bench/out/models, or by default
the default model quantized to Q4_K_M (a different model file, so every vector is rebuilt).
The switch runs in one thread, as the service runs it; searches run in another Engine, as the app's.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import cisi

from kenning.engine import Engine
from kenning.models.library import ModelLibrary

SECOND = "minilm-q4_k_m"


def latencies(engine: Engine, queries: list[str], until: threading.Event | None = None) -> list[float]:
    """Milliseconds per search, over the queries (repeatedly while `until` is not set)."""
    result = []
    while True:
        for query in queries:
            start = time.perf_counter()
            engine.search(query, limit=10)
            result.append((time.perf_counter() - start) * 1000)
            if until is not None and until.is_set():
                return result
        if until is None:
            return result


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"p50 {statistics.median(ordered):6.1f} ms, p95 {p95:6.1f} ms ({len(ordered)} searches)"


def second_model(library: ModelLibrary, name: str | None) -> str:
    if name:
        found = ModelLibrary(cisi.MODELS).find(name)
        if found is None:
            raise SystemExit(f"{name} is not in {cisi.MODELS}; `kenning --data-dir bench/out models download {name}`")
        library.import_gguf(found.path, name)
        return name
    from kenning.models.convert import convert_to_gguf
    from kenning.models.library import default_source_folder
    from kenning.models.quantize import quantize

    with tempfile.TemporaryDirectory() as scratch:
        f16 = convert_to_gguf(default_source_folder(), Path(scratch) / "f16.gguf")
        library.import_gguf(quantize(f16, Path(scratch) / f"{SECOND}.gguf", "q4_k_m"), SECOND)
    return SECOND


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cisi", type=Path)
    parser.add_argument("--to", help="catalogue model to switch to (default: the default model as Q4_K_M)")
    args = parser.parse_args()

    collection = cisi.load(args.cisi or cisi.default_cisi())
    source = cisi.OUT / "cisi" / f"index-{cisi.safe_name('all-minilm-l6-v2')}"
    if not (source / "kenning.sqlite3").exists():
        corpus = cisi.render(collection)
        cisi.fresh_data_dir(source, None)
        cisi.kenning(source, None, "index", str(corpus))
    queries = list(collection.queries.values())
    with tempfile.TemporaryDirectory(dir=cisi.OUT) as scratch:
        data_dir = Path(scratch) / "data"
        shutil.copytree(source, data_dir)
        target = second_model(ModelLibrary(data_dir), args.to)
        with Engine(data_dir) as writer, Engine(data_dir) as reader:
            latencies(reader, queries[:10])  # warm up
            before = latencies(reader, queries)
            state = writer.switch_model(target)
            done = threading.Event()
            started = time.perf_counter()
            worker = threading.Thread(target=lambda: (writer.run_model_switch(), done.set()))
            worker.start()
            during = latencies(reader, queries, until=done)
            worker.join()
            seconds = time.perf_counter() - started
            after = latencies(reader, queries)
            print(f"CISI index: {state.total} passages; switch all-minilm-l6-v2 -> {target}")
            print(f"switch:  {seconds:.1f} s, {state.total / seconds:.1f} passages/s while searches ran")
            print(f"search before the switch: {summary(before)}")
            print(f"search during the switch: {summary(during)}")
            print(f"search after the switch:  {summary(after)} (model {reader.embedder.spec.name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
