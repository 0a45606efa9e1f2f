"""Indexing throughput and search latency on the CISI collection rendered as mixed-format files.

    python bench/index.py [--cisi DIR] [--model NAME] [--mode hybrid|vector|bm25] [--fresh]

Indexes into a fresh data dir with the `kenning` CLI in a subprocess (files/s, chunks/s, peak
RSS), then times `Engine.search` in-process over the CISI queries (p50/p95, after a warm-up).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import cisi


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants now (Linux /proc; 0 elsewhere)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next((int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    todo += [int(child) for child in children.read().split()]
        except (OSError, ValueError):
            continue  # it ended meanwhile
    return total


def sample_tree_peak(pid: int, peak: list[int], done: threading.Event, every_s: float = 0.05) -> None:
    """Keep the largest tree_rss(pid) in peak[0] until `done` is set."""
    while not done.is_set():
        peak[0] = max(peak[0], tree_rss(pid))
        done.wait(every_s)


def run_index(data_dir: Path, model: str | None, corpus: Path) -> tuple[float, int, int, str]:
    """Run `kenning index`; return its wall seconds, its own peak RSS and that of its whole
    process tree (the extraction child included) in bytes, and its stderr."""
    log = data_dir.parent / f"{data_dir.name}-stderr.log"
    with open(log, "w+") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(cisi.kenning_command(data_dir, model, "index", str(corpus)), stderr=stderr)
        tree_peak, ended = [0], threading.Event()
        sampler = threading.Thread(target=sample_tree_peak, args=(process.pid, tree_peak, ended), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage
        ended.set()
        sampler.join()
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        text = stderr.read()
    if process.returncode != 0:
        raise SystemExit(f"kenning index failed ({process.returncode}):\n{text[-2000:]}")
    rss = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)  # bytes on macOS, KiB on Linux
    return seconds, rss, tree_peak[0], text


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cisi", type=Path, help="folder with CISI.ALL, CISI.QRY, CISI.REL")
    parser.add_argument("--model", help="embedding model (kenning --model NAME)")
    parser.add_argument("--mode", choices=["hybrid", "vector", "bm25"], default="hybrid")
    parser.add_argument("--fresh", action="store_true", help="re-render the corpus")
    args = parser.parse_args()

    collection = cisi.load(args.cisi or cisi.default_cisi())
    corpus = cisi.render(collection, args.fresh)
    data_dir = cisi.fresh_data_dir(cisi.OUT / "index-bench" / cisi.safe_name(args.model), args.model)

    wall, rss, tree, log = run_index(data_dir, args.model, corpus)
    status = json.loads(cisi.kenning(data_dir, args.model, "status", "--json"))
    files, chunks = status["files"]["indexed"], status["chunks"]
    summary = re.search(r"Indexed .* in ([\d.]+) s", log)
    engine_s = float(summary.group(1)) if summary else wall
    corpus_mb = sum(p.stat().st_size for p in corpus.iterdir() if p.is_file()) / 1e6

    print(f"corpus:   {len(collection.docs)} CISI documents as {len(cisi.FORMATS)} formats, {corpus_mb:.1f} MB")
    print(f"model:    {status['model']}")
    print(f"indexed:  {files} files, {chunks} chunks; {status['files']['failed']} failed, "
          f"{status['files']['empty']} without text")
    print(f"time:     {engine_s:.1f} s indexing ({wall:.1f} s wall for the whole `kenning index`, incl. start-up)")
    print(f"rate:     {files / engine_s:.1f} files/s, {chunks / engine_s:.1f} chunks/s "
          f"({files / wall:.1f} files/s wall)")
    print(f"peak RSS: {rss / 2**20:.0f} MiB (kenning index process); "
          f"{tree / 2**20:.0f} MiB for the whole process tree with the extraction child (sampled every 50 ms)"
          if tree else f"peak RSS: {rss / 2**20:.0f} MiB (kenning index process)")

    from kenning.engine import Engine

    queries = list(collection.queries.values())
    with Engine(data_dir=data_dir, model=args.model) as engine:
        engine.search(queries[0], 10, mode=args.mode)  # warm-up: loads the model
        times = []
        for query in queries:
            start = time.perf_counter()
            engine.search(query, 10, mode=args.mode)
            times.append((time.perf_counter() - start) * 1000)
        print(f"search:   {len(times)} queries ({args.mode}, limit 10): p50 {percentile(times, 50):.1f} ms, "
              f"p95 {percentile(times, 95):.1f} ms, mean {statistics.mean(times):.1f} ms, max {max(times):.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
