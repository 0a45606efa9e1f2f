"""The `kenning` command's entry point, kept light so that SIGTERM is handled from the first
moment: a stop asked for while the engine's modules load (seconds on a busy machine) is a clean
exit, not a kill. The command itself is in `cli.py`."""

from __future__ import annotations

import signal
import sys


def _interrupt(*_signal_args) -> None:
    raise KeyboardInterrupt  # SIGTERM stops Kenning as cleanly as Ctrl+C


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        from kenning.cli import main as run
    except KeyboardInterrupt:
        print("kenning: interrupted", file=sys.stderr)
        return 130
    return run(argv)
