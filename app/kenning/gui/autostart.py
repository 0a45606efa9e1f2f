"""Start at login. Linux: an XDG autostart entry in ~/.config/autostart/kenning.desktop.
Other systems are not handled yet (`supported()` says so, and the setting is disabled)."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

ENTRY_NAME = "kenning.desktop"


def supported() -> bool:
    return sys.platform.startswith("linux")


def entry_path() -> Path:
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "autostart" / ENTRY_NAME


def command(data_dir: Path | None) -> str:
    frozen = getattr(sys, "frozen", False)  # an installed bundle: the executable is the app
    parts = [sys.executable, "--hidden"] if frozen else [sys.executable, "-m", "kenning.gui.app", "--hidden"]
    if data_dir is not None:
        parts += ["--data-dir", str(data_dir)]
    return " ".join(shlex.quote(p) for p in parts)


def enabled() -> bool:
    return entry_path().is_file()


def set_enabled(on: bool, data_dir: Path | None = None) -> None:
    path = entry_path()
    if not on:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=Kenning\n"
        "Comment=Search your files by meaning\n"
        f"Exec={command(data_dir)}\n"
        "Icon=kenning\n"
        "Terminal=false\n"
        "X-GNOME-Autostart-enabled=true\n",
        encoding="utf-8",
    )
