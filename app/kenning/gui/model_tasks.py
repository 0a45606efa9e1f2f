"""Model jobs for the settings dialog and the first-run wizard; plain functions taking a `say`
callback (or, for a download, the task itself), run off the UI thread by `background_task`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kenning.models.catalogue import ModelSpec
from kenning.models.library import InstalledModel, ModelLibrary

Say = Callable[[str], None]


def prepare_default(data_dir: Path, say: Say) -> InstalledModel:
    return ModelLibrary(data_dir).get(progress=say)


def import_gguf(data_dir: Path, path: Path, say: Say) -> InstalledModel:
    say(f"checking and copying {Path(path).name}")
    return ModelLibrary(data_dir).import_gguf(Path(path))


def convert_folder(data_dir: Path, folder: Path, say: Say, quant: str = "q8_0") -> InstalledModel:
    """A Hugging Face BERT folder → GGUF (quantized) → installed, like `kenning models convert`."""
    library = ModelLibrary(data_dir)
    path = library.convert_folder(Path(folder), quant, progress=say)
    return next(m for m in library.installed() if m.path == path)


def download(data_dir: Path, spec: ModelSpec, task, proxy: str | None = None) -> InstalledModel:
    """Fetch a catalogue model (only ever on the user's click), like `kenning models download`:
    `task` is the running `BackgroundTask` (its `say`, `report` and `stopping`)."""
    return ModelLibrary(data_dir).download(
        spec,
        progress=task.say,
        on_bytes=lambda p: task.report(p.done, p.total),
        proxy=proxy or None,
        should_stop=task.stopping,
    )


def partial_download(data_dir: Path, spec: ModelSpec) -> int:
    """Bytes of `spec`'s download left by an interrupted run (the next one resumes from there)."""
    return ModelLibrary(data_dir).downloaded_bytes(spec)
