"""Entry point of the bundled `kenning-app` desktop app (frozen with PyInstaller; see installer/kenning.spec)."""

import multiprocessing
import sys


def main() -> int:
    import kenning_bundle

    argv = kenning_bundle.strip_interpreter_module(sys.argv[1:], "kenning.gui.app")
    kenning_bundle.prepare(argv)
    from kenning.launcher import app_main

    return app_main(argv)


if __name__ == "__main__":
    # First thing: a process started by multiprocessing's "spawn" (the extraction sandbox) re-runs
    # this executable; freeze_support turns it into the worker and never returns in that case.
    multiprocessing.freeze_support()
    raise SystemExit(main())
