"""Model jobs for the settings dialog and the first-run wizard; plain functions taking a `say`
callback, run off the UI thread by `background_task`."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from kenning.models.library import InstalledModel, ModelLibrary

Say = Callable[[str], None]


def prepare_default(data_dir: Path, say: Say) -> InstalledModel:
    return ModelLibrary(data_dir).get(progress=say)


def import_gguf(data_dir: Path, path: Path, say: Say) -> InstalledModel:
    say(f"checking and copying {Path(path).name}")
    return ModelLibrary(data_dir).import_gguf(Path(path))


def convert_folder(data_dir: Path, folder: Path, say: Say, quant: str = "q8_0") -> InstalledModel:
    """A Hugging Face BERT folder → GGUF (quantized) → installed, like `kenning models convert`."""
    from kenning.models.convert import convert_to_gguf, read_hf_folder
    from kenning.models.quantize import quantize

    library = ModelLibrary(data_dir)
    model = read_hf_folder(Path(folder))
    output = library.folder / f"{model.name}.{quant.upper()}.gguf"
    with tempfile.TemporaryDirectory(dir=library.folder, prefix=".convert-") as scratch:
        say(f"converting {model.name} to GGUF")
        f16 = convert_to_gguf(Path(folder), Path(scratch) / "model-f16.gguf")
        say(f"quantizing to {quant.upper()}")
        quantize(f16, output, quant)
    say("testing the converted model")
    return library.import_gguf(output, model.name.lower())
