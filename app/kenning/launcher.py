"""The entry points, kept light: `kenning` handles SIGTERM from the first moment (a stop asked
for while the engine's modules load, seconds on a busy machine, is a clean exit, not a kill);
`kenning-app` finds out whether there is a desktop to show a window on before Qt is loaded (Qt
without one aborts with advice about reinstalling). The commands themselves are in `cli.py` and
`gui/app.py`."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping


def _stop_before_start(*_signal_args) -> None:
    # Nothing has started yet, so there is nothing to clean up. (A KeyboardInterrupt raised inside
    # an extension module's import can make Python end itself with SIGINT instead of exiting.)
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _stop_before_start)
    from kenning.cli import main as run  # `watch` then takes SIGTERM as Ctrl+C: a clean stop

    return run(argv)


def missing_desktop(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> str | None:
    """Why no window can be shown here (no X11 or Wayland display), or None if one can."""
    if platform in ("win32", "darwin") or environ.get("QT_QPA_PLATFORM"):
        return None
    if environ.get("WAYLAND_DISPLAY"):
        return None
    display = environ.get("DISPLAY", "")
    if not display:
        return "no desktop found (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    host, _, number = display.partition(":")
    local = host in ("", "unix") and number.split(".")[0].isdigit()
    if local and not os.path.exists(f"/tmp/.X11-unix/X{number.split('.')[0]}"):
        return f"no desktop found (nothing answers at DISPLAY={display})"
    return None


def app_main(argv: list[str] | None = None) -> int:
    problem = missing_desktop()
    if problem:
        print(f"kenning-app: {problem}. Search from a terminal instead: `kenning search` "
              "(or `make search` in the source tree).", file=sys.stderr)
        return 2
    from kenning.gui.app import main as run

    return run(argv)
