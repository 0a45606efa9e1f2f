"""The engine's one entry object. The CLI, the watch service and the GUI all drive Kenning
through `Engine`; nothing here imports Qt.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kenning.embed import Embedder, EmbedderSettings
from kenning.errors import KenningError
from kenning.exclude import Exclusions
from kenning.index import IndexProgress, IndexReport, Indexer, IndexSettings
from kenning.models.catalogue import DEFAULT_MODEL
from kenning.models.library import InstalledModel, ModelLibrary
from kenning.paths import default_data_dir, private_dir
from kenning.search import Filters, SearchResult, Searcher
from kenning.store import Store

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

    def to_json(self) -> dict:
        return {
            "data_dir": self.data_dir,
            "database": self.database,
            "database_bytes": self.database_bytes,
            "model": self.model,
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
        self.embedder_settings = embedder_settings or EmbedderSettings()
        self.index_settings = index_settings or IndexSettings()
        self.on_model_progress = on_model_progress
        self._embedder: Embedder | None = None

    @property
    def embedder(self) -> Embedder:
        """The embedding model, prepared (the default is converted on first use) and loaded lazily."""
        if self._embedder is None:
            installed: InstalledModel = self.models.get(self.model_name, self.on_model_progress)
            embedder = Embedder(installed.path, installed.spec, self.embedder_settings, verified=True)
            self.store.bind_model(installed.spec.name, embedder.dimensions)
            self._embedder = embedder
        return self._embedder

    def index(self, paths: list[Path], progress: Callable[[IndexProgress], None] | None = None) -> IndexReport:
        indexer = Indexer(self.store, self.embedder, self.index_settings, progress)
        try:
            return indexer.index(paths)
        finally:
            indexer.close()

    def search(self, query: str, limit: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> list[SearchResult]:
        return Searcher(self.store, self.embedder).search(query, limit, filters, mode)

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
        )

    def close(self) -> None:
        if self._embedder is not None:
            self._embedder.close()
            self._embedder = None
        self.store.close()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
