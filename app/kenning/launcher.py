"""The `kenning` command's entry point, kept light so that SIGTERM is handled from the first
moment: a stop asked for while the engine's modules load (seconds on a busy machine) is a clean
exit, not a kill. The command itself is in `cli.py`."""

from __future__ import annotations

import signal


def _stop_before_start(*_signal_args) -> None:
    # Nothing has started yet, so there is nothing to clean up. (A KeyboardInterrupt raised inside
    # an extension module's import can make Python end itself with SIGINT instead of exiting.)
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _stop_before_start)
    from kenning.cli import main as run  # `watch` then takes SIGTERM as Ctrl+C: a clean stop

    return run(argv)
