#!/usr/bin/env python3
"""Live-index benchmarks for the watch service.

1. save → searchable latency (p50/p95) for small text files and one-page PDFs, with the service
   running: the time from the file being written to a search (through its own connection, as the
   GUI's) returning it first.
2. Reconcile time for a folder of 10,000 files with nothing changed (what every start does).

Targets (issue #4): p50 <= 1 s for a one-page document; reconcile of 10,000 files <= 5 s.

    python bench/watch.py [--saves 20] [--files 10000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from docmaker import write_document  # noqa: E402

from kenning.engine import Engine  # noqa: E402
from kenning.service import Service  # noqa: E402

WORDS = ["amber", "basalt", "cobalt", "dahlia", "ember", "fjord", "garnet", "harbor", "indigo", "juniper"]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def save_latency(data_dir: Path, folder: Path, suffix: str, saves: int) -> list[float]:
    reader = Engine(data_dir=data_dir)
    latencies = []
    for i in range(saves):
        word = f"{WORDS[i % len(WORDS)]}{i}{suffix.strip('.')}"
        target = folder / f"note-{i}{suffix}"
        started = time.perf_counter()
        write_document(target, f"Note {i}", [f"This note mentions {word} and nothing else of interest."])
        while True:
            results = reader.search(word, 1, mode="bm25")
            if results and results[0].path == str(target):
                break
            if time.perf_counter() - started > 30:
                raise SystemExit(f"{target} not searchable after 30 s")
            time.sleep(0.01)
        latencies.append(time.perf_counter() - started)
    reader.close()
    return latencies


def reconcile(data_dir: Path, root: Path, files: int) -> None:
    folder = root / "many"
    for i in range(files):
        sub = folder / f"d{i // 500:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i:05d}.txt").write_text(f"File {i} about topic {i % 97}.\n")
    with Engine(data_dir=data_dir) as engine:
        started = time.perf_counter()
        first = engine.index([folder])
        print(f"first index of {files} small files: {time.perf_counter() - started:.1f} s "
              f"({first.indexed} indexed)")
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            report = engine.index([folder])
            timings.append(time.perf_counter() - started)
            assert report.indexed == 0 and report.unchanged == files, report
    best = min(timings)
    print(f"reconcile {files} unchanged files: best {best:.2f} s of {len(timings)} "
          f"({files / best:,.0f} files/s); target <= 5 s: {'PASS' if best <= 5 else 'ABOVE TARGET'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--files", type=int, default=10_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kenning-watch-bench-") as scratch:
        root = Path(scratch)
        data_dir, folder = root / "data", root / "docs"
        folder.mkdir()
        with Engine(data_dir=data_dir) as engine:
            engine.add_folder(folder)
            engine.prepare_model()  # before timing anything
        service = Service(data_dir)
        service.start()
        service.wait_idle(120)
        try:
            for suffix, label in ((".txt", "small text file"), (".pdf", "one-page PDF")):
                values = save_latency(data_dir, folder, suffix, options.saves)
                p50 = statistics.median(values)
                print(f"save -> searchable, {label}: p50 {p50 * 1000:.0f} ms, p95 "
                      f"{percentile(values, 0.95) * 1000:.0f} ms over {len(values)} saves; "
                      f"target p50 <= 1 s: {'PASS' if p50 <= 1 else 'ABOVE TARGET'}")
        finally:
            service.stop()
        reconcile(root / "data2", root, options.files)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
