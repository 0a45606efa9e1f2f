"""The keyword phase alone (every file read, chunked and keyword-searchable; no embedding) on the
real-looking folder of `bench/realfolder.py`, against Recoll indexing the same folder, in
alternating rounds: one extraction child, then two, then Recoll. Prints each round and the min and
median of each, as ratios to Recoll's.

    python bench/keywords.py [--rounds 3] [--folder DIR] [--files 2000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cisi
from realfolder import OUT, build_folder, recoll_seconds


def keyword_phase(folder: Path, workers: int) -> tuple[float, int]:
    """Seconds to read the whole folder into a fresh index with `workers` extraction children."""
    from kenning.engine import Engine
    from kenning.settings import IndexSettings

    data_dir = cisi.fresh_data_dir(OUT / f"keywords-{workers}", None)
    with Engine(data_dir=data_dir, index_settings=IndexSettings(extraction_workers=workers)) as engine:
        engine.prepare_model()  # the model loads before the clock starts, as in the app
        start = time.perf_counter()
        report = engine.index([folder], embed=False)
        return time.perf_counter() - start, report.indexed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--cisi", type=Path)
    args = parser.parse_args()
    folder = args.folder or build_folder(OUT / "docs", args.files, cisi.load(args.cisi or cisi.default_cisi()))
    times: dict[str, list[float]] = {"1 child": [], "2 children": [], "Recoll": []}
    for round_number in range(1, args.rounds + 1):
        for workers in (1, 2):
            seconds, files = keyword_phase(folder, workers)
            times["1 child" if workers == 1 else "2 children"].append(seconds)
            print(f"round {round_number}: Kenning, {workers} extraction child{'ren' if workers > 1 else ''}: "
                  f"{seconds:.1f} s ({files} files)", file=sys.stderr)
        recoll = recoll_seconds(folder)
        if recoll is None:
            times.pop("Recoll", None)
        else:
            times["Recoll"].append(recoll)
            print(f"round {round_number}: Recoll {recoll:.1f} s", file=sys.stderr)
    print(f"\nkeyword phase of {folder} ({args.rounds} rounds, alternating)")
    recoll_median = statistics.median(times["Recoll"]) if "Recoll" in times else None
    for name, values in times.items():
        ratio = f"   {statistics.median(values) / recoll_median:.2f}x Recoll (medians)" if recoll_median else ""
        print(f"  {name:<11} min {min(values):6.1f} s   median {statistics.median(values):6.1f} s{ratio}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
