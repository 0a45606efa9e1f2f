"""How fast `kenning --help` and `kenning --version` answer, beside a bare Python start-up.

    python bench/startup.py [--runs N]

Runs alternate between the commands (the machine's load affects each alike); prints min and
median wall time of each, and each minus the bare interpreter. Target: under 0.3 s each.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python (reference)": [sys.executable, "-c", "pass"],
    "kenning --help": [sys.executable, "-m", "kenning", "--help"],
    "kenning --version": [sys.executable, "-m", "kenning", "--version"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    subprocess.run(COMMANDS["kenning --version"], capture_output=True, check=True)  # fills the backend cache
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):
        for name, command in COMMANDS.items():
            start = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True)
            times[name].append(time.perf_counter() - start)
    base = min(times["python (reference)"])
    print(f"{'command':22s} {'min s':>7s} {'median s':>9s} {'min - python':>13s}")
    for name, values in times.items():
        print(f"{name:22s} {min(values):7.3f} {statistics.median(values):9.3f} {min(values) - base:13.3f}")


if __name__ == "__main__":
    main()
