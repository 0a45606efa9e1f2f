"""The engine's one entry object. The CLI, the watch service and the GUI all drive Kenning
through `Engine`; nothing here imports Qt.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from kenning.embed import Embedder, EmbedderSettings
from kenning.errors import KenningError
from kenning.exclude import Exclusions
from kenning.index import IndexProgress, IndexReport, Indexer, IndexSettings
from kenning.models.catalogue import CATALOGUE, DEFAULT_MODEL
from kenning.models.download import DownloadProgress
from kenning.models.library import InstalledModel, ModelLibrary
from kenning.paths import default_data_dir, private_dir
from kenning.search import Filters, SearchResult, Searcher
from kenning.store import Store
from kenning.switch import ModelSwitch, SwitchState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FolderInfo:
    path: str
    exclude: tuple[str, ...]
    files: int
    failed: int


@dataclass(frozen=True)
class Status:
    data_dir: str
    database: str
    database_bytes: int
    model: str | None
    folders: list[str]
    files_indexed: int
    files_failed: int
    files_empty: int
    files_unsupported: int
    chunks: int
    failures: list[tuple[str, str, str]]
    dimensions: int | None = None
    model_switch: SwitchState | None = None

    def to_json(self) -> dict:
        return {
            "data_dir": self.data_dir,
            "database": self.database,
            "database_bytes": self.database_bytes,
            "model": self.model,
            "dimensions": self.dimensions,
            "model_switch": self.model_switch.to_json() if self.model_switch else None,
            "folders": self.folders,
            "files": {
                "indexed": self.files_indexed,
                "failed": self.files_failed,
                "empty": self.files_empty,
                "unsupported": self.files_unsupported,
            },
            "chunks": self.chunks,
            "failures": [{"path": p, "status": s, "reason": r} for p, s, r in self.failures],
        }


class Engine:
    def __init__(
        self,
        data_dir: Path | None = None,
        model: str | None = None,
        embedder_settings: EmbedderSettings | None = None,
        index_settings: IndexSettings | None = None,
        on_model_progress: Callable[[str], None] | None = None,
    ):
        self.data_dir = private_dir(Path(data_dir) if data_dir else default_data_dir())
        self.models = ModelLibrary(self.data_dir)
        self.store = Store(self.data_dir)
        self.model_name = model or self.store.model_name or DEFAULT_MODEL
        self._explicit_model = model is not None
        self.embedder_settings = embedder_settings or EmbedderSettings()
        self.index_settings = index_settings or IndexSettings()
        self.on_model_progress = on_model_progress
        self._embedder: Embedder | None = None
        self.switch = ModelSwitch(self.store, self.models, self.embedder_settings)

    @property
    def embedder(self) -> Embedder:
        """The embedding model, prepared (the default is converted on first use) and loaded lazily."""
        if self._embedder is None:
            if not self._explicit_model:  # the index's model, which a switch may have changed
                self.model_name = self.store.model_name or self.model_name
            dimensions = self.store.dimensions if self.store.model_name == self.model_name else None
            self._embedder = self._load_embedder(self.model_name, dimensions)
        return self._embedder

    def _load_embedder(self, name: str, dimensions: int | None) -> Embedder:
        """Prepare and load model `name`, and bind the index to it (refused if it holds another)."""
        installed: InstalledModel = self.models.get(name, self.on_model_progress)
        settings = replace(self.embedder_settings, dimensions=dimensions)
        embedder = Embedder(installed.path, installed.spec, settings, verified=True)
        self.store.bind_model(installed.spec.name, embedder.dimensions)
        return embedder

    def _follow_model_switch(self) -> None:
        """Another process (the service) may have switched the index's model: load the new one."""
        current = self.store.model_name
        embedder = self._embedder
        if self._explicit_model:
            return
        if current and embedder and (current, self.store.dimensions) != (embedder.spec.name, embedder.dimensions):
            log.info("the index switched to %s; loading it", current)
            self._embedder = None
            embedder.close()
            self.model_name = current

    def index(self, paths: list[Path], progress: Callable[[IndexProgress], None] | None = None) -> IndexReport:
        indexer = Indexer(self.store, self.embedder, self.index_settings, progress)
        try:
            return indexer.index(paths)
        finally:
            indexer.close()

    def search(self, query: str, limit: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> list[SearchResult]:
        self._follow_model_switch()
        return Searcher(self.store, self.embedder).search(query, limit, filters, mode)

    # -- models ------------------------------------------------------------------------------

    def download_model(self, name: str, progress: Callable[[str], None] | None = None,
                       on_bytes: Callable[[DownloadProgress], None] | None = None,
                       proxy: str | None = None, should_stop: Callable[[], bool] | None = None) -> InstalledModel:
        """Download a catalogue model; only ever called on the user's request."""
        if name not in CATALOGUE:
            raise KenningError(f"{name!r} is not in the catalogue ({', '.join(CATALOGUE)})")
        return self.models.download(CATALOGUE[name], progress, on_bytes, proxy, should_stop)

    def switch_model(self, name: str, dimensions: int | None = None) -> SwitchState:
        """Start building the index for another model beside the current one; search keeps using
        the current one until `advance_model_switch` completes it."""
        if self.store.model_name is None:  # nothing indexed yet: nothing to rebuild
            self._use_directly(name, dimensions)
            return SwitchState(name, self.embedder.dimensions, 0, 0)
        return self.switch.start(name, dimensions)

    def _use_directly(self, name: str, dimensions: int | None) -> None:
        if self._embedder is not None:
            self._embedder.close()
            self._embedder = None
        self._embedder, self.model_name = self._load_embedder(name, dimensions), name

    def advance_model_switch(self, batch: int = 128) -> bool:
        """One batch of a pending switch; True when the switch has just completed."""
        done = self.switch.step(batch)
        if done:
            self._follow_model_switch()
        return done

    def cancel_model_switch(self) -> None:
        self.switch.cancel()

    # -- folders and exclusions ------------------------------------------------------------------

    def add_folder(self, path: Path, exclude: tuple[str, ...] = ()) -> str:
        folder = str(Path(path).expanduser().absolute())
        if not os.path.isdir(folder):
            raise KenningError(f"{folder}: not a folder")
        with self.store.transaction():
            self.store.add_folder(folder)
            if exclude:
                self.store.set_folder_exclude(folder, tuple(exclude))
        return folder

    def set_folder_exclude(self, path: Path, exclude: tuple[str, ...]) -> None:
        with self.store.transaction():
            self.store.set_folder_exclude(str(Path(path).expanduser().absolute()), tuple(exclude))

    def remove_folder(self, path: Path) -> int:
        """Stop indexing a folder and forget its files; returns how many were removed."""
        return self.store.remove_folder(str(Path(path).expanduser().absolute()))

    def folders(self) -> list[FolderInfo]:
        counts = self.store.folder_counts()
        excludes = self.store.folder_excludes()
        return [
            FolderInfo(path, excludes.get(path, ()), counts.get(path, {}).get("indexed", 0),
                       counts.get(path, {}).get("failed", 0) + counts.get(path, {}).get("empty", 0))
            for _, path in self.store.folders()
        ]

    def failures(self) -> list[tuple[str, str, str]]:
        return self.store.failures()

    def retry(self, path: Path) -> None:
        """Index a failed file again: forget the failure (an unchanged file would be skipped) and
        queue it for the service, which picks it up even while it runs."""
        target = str(Path(path).absolute())
        self.store.remove_files([target])
        self.store.enqueue([(target, os.stat(target).st_mtime if os.path.exists(target) else time.time())])

    def set_global_excludes(self, patterns: tuple[str, ...]) -> None:
        self.store.set_global_excludes(tuple(patterns))

    def why_excluded(self, path: Path) -> str | None:
        """Why `path` is not indexed, or None if it is (or would be)."""
        target = str(Path(path).expanduser().absolute())
        exclusions = Exclusions(self.store.global_excludes(), self.store.folder_excludes())
        for _, folder in self.store.folders():
            if target.startswith(folder.rstrip(os.sep) + os.sep):
                return exclusions.why(target, folder)
        return "not inside any indexed folder"

    def status(self) -> Status:
        counts = self.store.counts()
        return Status(
            data_dir=str(self.data_dir),
            database=str(self.store.path),
            database_bytes=self.store.size_bytes(),
            model=self.store.model_name,
            folders=[path for _, path in self.store.folders()],
            files_indexed=counts.get("indexed", 0),
            files_failed=counts.get("failed", 0),
            files_empty=counts.get("empty", 0),
            files_unsupported=counts.get("unsupported", 0),
            chunks=counts["chunks"],
            failures=self.store.failures(),
            dimensions=self.store.dimensions,
            model_switch=self.switch.state(),
        )

    def close(self) -> None:
        self.switch.close()
        if self._embedder is not None:
            self._embedder.close()
            self._embedder = None
        self.store.close()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
