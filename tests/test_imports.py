"""The engine, CLI and service never load Qt (no model needed)."""

from __future__ import annotations

import subprocess
import sys


def loaded_modules(*modules: str) -> set[str]:
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_engine_cli_and_service_load_no_qt():
    loaded = loaded_modules("kenning.engine", "kenning.cli", "kenning.service", "kenning.preview")
    assert not {m for m in loaded if m.split(".")[0] in ("PySide6", "shiboken6")}
    assert "kenning.gui" not in loaded


def test_the_gui_does_load_qt():  # the check above can fail
    assert "PySide6" in loaded_modules("kenning.gui.app")
