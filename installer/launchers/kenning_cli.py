"""Entry point of the bundled `kenning` command (frozen with PyInstaller; see installer/kenning.spec)."""

import multiprocessing
import sys


def main() -> int:
    import kenning_bundle

    kenning_bundle.prepare(sys.argv[1:])
    from kenning.launcher import main as kenning_main

    return kenning_main()


if __name__ == "__main__":
    # First thing: a process started by multiprocessing's "spawn" (the extraction sandbox) re-runs
    # this executable; freeze_support turns it into the worker and never returns in that case.
    multiprocessing.freeze_support()
    raise SystemExit(main())
