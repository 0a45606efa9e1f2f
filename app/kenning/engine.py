"""The engine's one entry object. The CLI, the watch service and the GUI all drive Kenning
through `Engine`; nothing here imports Qt, and nothing outside the engine core reaches the store,
the indexer, the switch tables or model files behind it.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from kenning.embed import Embedder, EmbedderSettings
from kenning.errors import IndexDamaged, KenningError
from kenning.exclude import Exclusions
from kenning.extract.containers import split_member
from kenning.extract.ocr import installed_languages as ocr_languages
from kenning.extract.tools import Tool, optional_tools
from kenning.index import Indexer, IndexProgress, IndexReport
from kenning.members import MemberCopies
from kenning.models.catalogue import CATALOGUE, DEFAULT_MODEL
from kenning.models.download import DownloadProgress
from kenning.models.library import InstalledModel, ModelChoice, ModelLibrary
from kenning.ocr_phase import OcrStep
from kenning.paths import default_data_dir, is_inside, private_dir
from kenning.sandbox import ExtractionSandbox
from kenning.search import Filters, Searcher, SearchResult
from kenning.service_status import ServiceLock, ServiceStatus
from kenning.settings import IndexSettings, Settings
from kenning.storage_faults import (
    clear_damage_flag,
    damage_flagged,
    load_folders,
    move_aside,
    save_folders,
    translating,
)
from kenning.store import DATABASE_NAME, FileStatus, Meta, open_store
from kenning.switch import ModelSwitch, SwitchState

log = logging.getLogger(__name__)

Say = Callable[[str], None]


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
    failures: list[tuple[str, FileStatus, str]]
    dimensions: int | None = None
    model_switch: SwitchState | None = None
    passages: int = 0  # distinct passage texts (a copy's passages are stored once)
    passages_waiting: int = 0  # searchable by keyword only, until their vectors are made
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why) left out by the last scans
    paused: bool = False  # indexing paused (the service follows it, now or when it next starts)
    files_needing_ocr: int = 0  # scanned pages or images waiting for OCR (or for Tesseract)
    tools: list[Tool] = field(default_factory=list)  # optional programs some formats need

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
                "needs_ocr": self.files_needing_ocr,
            },
            "tools": {tool.name: tool.path for tool in self.tools},
            "chunks": self.chunks,
            "paused": self.paused,
            "passages": self.passages,
            "passages_waiting": self.passages_waiting,
            "failures": [{"path": p, "status": s.value, "reason": r} for p, s, r in self.failures],
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
        }


__all__ = ["Engine", "FolderInfo", "Status", "file_on_disk", "ocr_languages"]


def file_on_disk(path: str) -> str:
    """The file on disk a result comes from: the archive or mailbox for one of their members."""
    found = split_member(path)
    return found[0] if found is not None and not os.path.exists(path) else path


def _absolute(path: Path | str) -> str:
    return str(Path(path).expanduser().absolute())


class Engine:
    def __init__(
        self,
        data_dir: Path | None = None,
        model: str | None = None,
        embedder_settings: EmbedderSettings | None = None,
        index_settings: IndexSettings | None = None,
        on_model_progress: Say | None = None,
        repair_damaged: bool = False,
        database: str | None = None,
    ):
        """`repair_damaged`: a damaged index is moved aside and rebuilt (see `repair`) instead of
        refused; only for the holder of the service lock. `database`: a PostgreSQL server's
        address (postgresql://...) holding the index in place of the SQLite file in `data_dir`."""
        self.data_dir = private_dir(Path(data_dir) if data_dir else default_data_dir())
        self.models = ModelLibrary(self.data_dir)
        self.database_path = self.data_dir / DATABASE_NAME
        self.database = database or os.environ.get("KENNING_DATABASE") or None
        self.repaired_to: Path | None = None  # where a damaged index was moved, if it was
        restored: str | None = None
        try:
            self._store = open_store(self.data_dir, self.database)
        except IndexDamaged:
            if not repair_damaged:
                raise
            self.repaired_to = move_aside(self.database_path)
            clear_damage_flag(self.data_dir)
            self._store = open_store(self.data_dir, self.database)
            restored = self._restore_choices()
        if not self._store.read_only:
            self._store.finish_removals()
        self.model_name = model or self._store.model_name or restored or DEFAULT_MODEL
        self._explicit_model = model is not None
        self.embedder_settings = embedder_settings or EmbedderSettings()
        self.index_settings = index_settings or IndexSettings()
        self.on_model_progress = on_model_progress
        self._embedder: Embedder | None = None
        self._indexer: Indexer | None = None
        self._copies: MemberCopies | None = None  # of archive members, for opening them
        self._switch = ModelSwitch(self._store, self.models, self.embedder_settings)

    @classmethod
    def from_settings(cls, data_dir: Path | None = None, settings: Settings | None = None,
                      on_model_progress: Say | None = None, repair_damaged: bool = False) -> Engine:
        """An Engine configured from the user's settings (the app's and the CLI's alike); load
        them from the data folder when not given."""
        folder = Path(data_dir) if data_dir else default_data_dir()
        settings = settings or Settings.load(folder)
        return cls(
            data_dir=folder,
            model=settings.model,
            embedder_settings=EmbedderSettings(gpu=settings.gpu, threads=settings.threads),
            index_settings=settings.index_settings(),
            on_model_progress=on_model_progress,
            repair_damaged=repair_damaged,
            database=settings.database or None,
        )

    # -- the model -------------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The embedding model, prepared (the default is converted on first use) and loaded lazily."""
        if self._embedder is None:
            if not self._explicit_model:  # the index's model, which a switch may have changed
                self.model_name = self._store.model_name or self.model_name
            dimensions = self._store.dimensions if self._store.model_name == self.model_name else None
            self._embedder = self._load_embedder(self.model_name, dimensions)
        return self._embedder

    def prepare_model(self) -> Embedder:
        """Prepare and load the model now (e.g. before a progress bar starts)."""
        return self.embedder

    def prepare_search(self) -> None:
        """Load the model and read the vectors' codes now, so that the first search is as quick
        as the next (the codes take seconds to read at a million passages)."""
        self.prepare_model()
        self._store.prepare_vectors()

    @property
    def index_model(self) -> str | None:
        """The model whose vectors the index holds (None before anything is indexed)."""
        return self._store.model_name

    @property
    def index_location(self) -> str:
        """The index's file, or its server's address."""
        return self._store.location

    @property
    def index_dimensions(self) -> int | None:
        return self._store.dimensions

    def _load_embedder(self, name: str, dimensions: int | None) -> Embedder:
        """Prepare and load model `name`, and bind the index to it (refused if it holds another)."""
        installed: InstalledModel = self.models.get(name, self.on_model_progress)
        settings = replace(self.embedder_settings, dimensions=dimensions)
        embedder = Embedder(installed.path, installed.spec, settings, verified=True)
        first = self._store.model_name is None
        self._store.bind_model(installed.spec.name, embedder.dimensions)
        # The copy of the choices records the model too; an index without folders yet (one a
        # reader just made, where the writer is about to restore them) must not wipe that copy.
        if first and self._store.folders():
            self._save_choices()
        return embedder

    def unload_model(self) -> None:
        """Give the model's memory back (it is loaded again when next needed)."""
        self._drop_embedder()

    def _drop_embedder(self) -> None:
        if self._indexer is not None:
            self._indexer.close()
            self._indexer = None
        if self._embedder is not None:
            self._embedder.close()
            self._embedder = None

    def _follow_model_switch(self) -> None:
        """Another process (the service) may have switched the index's model: load the new one."""
        current = self._store.model_name
        embedder = self._embedder
        if self._explicit_model:
            return
        if current and embedder and (current, self._store.dimensions) != (embedder.spec.name, embedder.dimensions):
            log.info("the index switched to %s; loading it", current)
            self._drop_embedder()
            self.model_name = current

    # -- indexing --------------------------------------------------------------------------------

    def _indexing(self) -> Indexer:
        self._follow_model_switch()
        if self._indexer is not None and self._indexer.settings != self.index_settings:
            self._indexer.close()
            self._indexer = None
        if self._indexer is None:
            self._indexer = Indexer(self._store, self.embedder, self.index_settings)
        return self._indexer

    def index(self, paths: list[Path], progress: Callable[[IndexProgress], None] | None = None,
              should_stop: Callable[[], bool] | None = None, embed: bool = True) -> IndexReport:
        """Index folders and files: new and changed files are read, vanished ones dropped; then
        (`embed`) every passage still without a vector is embedded, scanned pages are read by OCR,
        and their passages embedded in turn (the text files are searchable by meaning before the
        slow OCR starts). `should_stop` is asked between files, pages and batches (a pause, a quit)."""
        indexer = self._indexing()
        report = indexer.index(paths, progress, should_stop)
        self._save_choices()  # folders given here are indexed folders from now on
        for phase in (indexer.embed_all, indexer.ocr_all, indexer.embed_all):
            if embed and not report.interrupted:
                phase(report, progress, should_stop)
        return report

    def ocr_step(self) -> OcrStep | None:
        """The OCR phase: a few scanned pages of the next file that waits for them; None when
        none waits (or Tesseract is not installed)."""
        return self._indexing().ocr.step()

    def ocr_pending(self) -> bool:
        return self._indexing().ocr.pending()

    def ocr_available(self) -> bool:
        """Whether scanned pages can be read here (Tesseract installed, OCR on in the settings)."""
        return self._indexing().ocr.available()

    def update(self, paths: list[str], progress: Callable[[IndexProgress], None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> IndexReport:
        """Bring the given paths (from file-system events or the queue) up to date."""
        return self._indexing().process(paths, progress, should_stop)

    def embed_waiting(self, limit: int = 64) -> int:
        """The embedding phase: vectors for one batch of passages still waiting for one; returns
        how many (0 when none wait)."""
        return self._indexing().embed_waiting(limit)

    def passages_waiting(self) -> int:
        """Passages found by keyword only so far: their vectors are still to come."""
        return self._store.waiting_count()

    def follow_move(self, old: str, new: str) -> bool:
        """Follow a rename without re-embedding; False when it must be indexed as a new file."""
        return self._indexing().move(old, new)

    # -- the work queue (what the service still has to do) ---------------------------------------

    def enqueue(self, items: Iterable[tuple[str, float]]) -> None:
        """(path, priority) pairs for the service; recently modified first."""
        self._store.enqueue(items)

    def next_queued(self, limit: int) -> list[str]:
        return self._store.next_queued(limit)

    def dequeue(self, paths: Iterable[str]) -> None:
        self._store.dequeue(paths)

    def queued_count(self) -> int:
        return self._store.queued_count()

    def hand_to_service(self, paths: list[Path]) -> None:
        """While a service runs it owns the writes: folders are added (it picks them up) and files
        queued for it, instead of competing with it."""
        files = []
        for path in paths:
            if Path(path).is_dir():
                self.add_folder(path)
            else:
                target = Path(path).absolute()
                files.append((str(target), target.stat().st_mtime if target.exists() else 0.0))
        self.enqueue(files)

    def service_running(self) -> bool:
        return ServiceLock(self.data_dir).held_elsewhere()

    # -- pausing and the service's published status --------------------------------------------

    def paused(self) -> bool:
        return self._store.get_meta(Meta.PAUSED) == "1"

    def set_paused(self, paused: bool) -> None:
        """Pause or resume indexing; the running service (any process) follows, and the choice
        survives a restart."""
        self._store.set_meta(Meta.PAUSED, "1" if paused else "0")

    def publish_service_status(self, status: ServiceStatus) -> None:
        import json

        self._store.set_meta(Meta.SERVICE_STATUS, json.dumps(status.to_json()))

    def service_status(self) -> ServiceStatus | None:
        """The running service's last published status, or None if no service runs."""
        raw = self._store.get_meta(Meta.SERVICE_STATUS)
        if not raw or not self.service_running():
            return None
        return ServiceStatus.from_json(raw)

    # -- folders and exclusions ------------------------------------------------------------------

    def add_folder(self, path: Path, exclude: tuple[str, ...] = ()) -> str:
        folder = _absolute(path)
        if not os.path.isdir(folder):
            raise KenningError(f"{folder}: not a folder")
        with self._store.transaction():
            self._store.add_folder(folder)
            if exclude:
                self._store.set_folder_exclude(folder, tuple(exclude))
        self._save_choices()
        return folder

    def has_folder(self, path: Path) -> bool:
        return self._store.has_folder(_absolute(path))

    def set_folder_exclude(self, path: Path, exclude: tuple[str, ...]) -> None:
        self._store.set_folder_exclude(_absolute(path), tuple(exclude))
        self._save_choices()

    def remove_folder(self, path: Path) -> int:
        """Stop indexing a folder and forget its files; returns how many were removed."""
        folder = _absolute(path)
        if not self._store.has_folder(folder):
            raise KenningError(f"{folder} is not an indexed folder (see `kenning folders list`)")
        removed = self._store.remove_folder(folder)
        self._save_choices()
        return removed

    def folder_paths(self) -> list[str]:
        return [path for _, path in self._store.folders()]

    def folders(self) -> list[FolderInfo]:
        counts = self._store.folder_counts()
        excludes = self._store.folder_excludes()
        infos = []
        for path in self.folder_paths():
            count = counts.get(path, {})
            problems = sum(count.get(status, 0) for status in (FileStatus.FAILED, FileStatus.EMPTY))
            infos.append(FolderInfo(path, excludes.get(path, ()), count.get(FileStatus.INDEXED, 0), problems))
        return infos

    def set_global_excludes(self, patterns: tuple[str, ...]) -> None:
        self._store.set_global_excludes(tuple(patterns))
        self._save_choices()

    def exclusion_patterns(self) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
        """(global patterns, patterns per folder), to notice when they change."""
        return self._store.global_excludes(), self._store.folder_excludes()

    def why_excluded(self, path: Path) -> str | None:
        """Why `path` is not indexed, or None if it is (or would be)."""
        target = _absolute(path)
        global_patterns, per_folder = self.exclusion_patterns()
        exclusions = Exclusions(global_patterns, per_folder)
        for folder in self.folder_paths():
            if is_inside(target, folder):
                return exclusions.why(target, folder)
        return "not inside any indexed folder"

    def explain(self, path: Path) -> str:
        """Whether `path` is indexed, and if not, why: one line for people."""
        target = _absolute(path)
        excluded = self.why_excluded(Path(target))
        if excluded:
            return f"not indexed: {'it is ' if excluded.startswith('not') else 'excluded: it '}{excluded}"
        skipped = dict(self._store.skipped()).get(target)
        if skipped:
            return f"not indexed: {skipped}"
        record = self._store.file(target)
        if record is None:
            queued = target in set(self._store.next_queued(1_000_000))
            return "waiting to be indexed" if queued else "not indexed yet (it is indexed on the next scan)"
        if record.status == FileStatus.INDEXED:
            note = f"; {record.error}" if record.error else ""
            return f"indexed: {record.chunk_count} passage{'' if record.chunk_count == 1 else 's'}{note}"
        if record.status == FileStatus.UNSUPPORTED:
            return f"not indexed: {record.error or 'unsupported file type'}"
        return (f"not indexed: {record.error} (not tried again until the file changes; "
                "Retry in the app or `kenning index` it)")

    # -- files -----------------------------------------------------------------------------------

    def failures(self) -> list[tuple[str, FileStatus, str]]:
        """Files that could not be read, or only in part, with why (not those deleted since)."""
        return [failure for failure in self._store.failures() if os.path.lexists(file_on_disk(failure[0]))]

    def retry(self, path: Path) -> None:
        """Index a failed file again: forget the failure (an unchanged file would be skipped) and
        queue it for the service, which picks it up even while it runs. For a member of an
        archive or mailbox, the whole archive is read again."""
        target = file_on_disk(str(Path(path).absolute()))
        self._store.remove_files([target])
        self.enqueue([(target, os.stat(target).st_mtime if os.path.exists(target) else time.time())])

    def local_copy(self, path: str) -> str:
        """A path an application can open: the file itself, or for a member of an archive or
        mailbox, a private copy of it (made in the extraction sandbox)."""
        if self._copies is None:
            self._copies = MemberCopies(self.data_dir, ExtractionSandbox(self.index_settings.timeout_s,
                                                                         self.index_settings.memory_mb),
                                        self.index_settings)
        return self._copies.local_path(path)

    def status(self) -> Status:
        counts = self._store.counts()
        return Status(
            data_dir=str(self.data_dir),
            database=self._store.location,
            database_bytes=self._store.size_bytes(),
            model=self._store.model_name,
            folders=self.folder_paths(),
            files_indexed=counts.get(FileStatus.INDEXED, 0),
            files_failed=counts.get(FileStatus.FAILED, 0),
            files_empty=counts.get(FileStatus.EMPTY, 0),
            files_unsupported=counts.get(FileStatus.UNSUPPORTED, 0),
            chunks=self._store.chunk_count(),
            passages=self._store.passage_count(),
            passages_waiting=self._store.waiting_count(),
            skipped=self._store.skipped(),
            failures=self.failures(),
            dimensions=self._store.dimensions,
            model_switch=self._switch.state(),
            paused=self.paused(),
            files_needing_ocr=counts.get(FileStatus.NEEDS_OCR, 0),
            tools=optional_tools(),
        )

    def files_indexed(self) -> int:
        return self._store.counts().get(FileStatus.INDEXED, 0)

    # -- search ----------------------------------------------------------------------------------

    def search(self, query: str, limit: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> list[SearchResult]:
        self._reopen_if_replaced()
        self._follow_model_switch()
        return Searcher(self._store, self.embedder).search(query, limit, filters, mode)

    # -- models ----------------------------------------------------------------------------------

    def model_choices(self) -> list[ModelChoice]:
        """Every model the index could use, with its state (in use, installed, downloadable...)."""
        target = self._switch.target()
        return self.models.choices(self._store.model_name, target[0] if target else None)

    def import_model(self, path: Path, name: str | None = None, progress: Say | None = None) -> InstalledModel:
        if progress:
            progress(f"checking and copying {Path(path).name}")
        return self.models.import_gguf(Path(path), name)

    def convert_model(self, folder: Path, quant: str = "q8_0", output: Path | None = None,
                      progress: Say | None = None) -> Path:
        """Convert a Hugging Face folder to GGUF and quantize it; installed unless `output` is given."""
        return self.models.convert_folder(Path(folder), quant, output, progress)

    def download_model(self, name: str, progress: Say | None = None,
                       on_bytes: Callable[[DownloadProgress], None] | None = None,
                       proxy: str | None = None, should_stop: Callable[[], bool] | None = None) -> InstalledModel:
        """Download a catalogue model; only ever called on the user's request."""
        if name not in CATALOGUE:
            raise KenningError(f"{name!r} is not in the catalogue ({', '.join(CATALOGUE)})")
        return self.models.download(CATALOGUE[name], progress, on_bytes, proxy, should_stop)

    def switch_model(self, name: str, dimensions: int | None = None) -> SwitchState:
        """Start building the index for another model beside the current one; search keeps using
        the current one until `advance_model_switch` completes it."""
        if self._store.model_name is None:  # nothing indexed yet: nothing to rebuild
            self._use_directly(name, dimensions)
            return SwitchState(name, self.embedder.dimensions, 0, 0)
        return self._switch.start(name, dimensions)

    def _use_directly(self, name: str, dimensions: int | None) -> None:
        self._drop_embedder()
        self._embedder, self.model_name = self._load_embedder(name, dimensions), name

    def model_switch(self) -> SwitchState | None:
        """The switch to another model under way, with its progress, or None."""
        return self._switch.state()

    def model_switch_pending(self) -> bool:
        """Cheaper than `model_switch()`: no count of the passages."""
        return self._switch.target() is not None

    def advance_model_switch(self, batch: int = 128) -> bool:
        """One batch of a pending switch; True when the switch has just completed."""
        done = self._switch.step(batch)
        if done:
            self._follow_model_switch()
        return done

    def run_model_switch(self, progress: Callable[[SwitchState], None] | None = None,
                         should_stop: Callable[[], bool] | None = None) -> bool:
        """Build the switch to its end (True) unless `should_stop` says so first (False)."""
        done = self._switch.run(progress, should_stop)
        if done:
            self._follow_model_switch()
        return done

    def cancel_model_switch(self) -> SwitchState | None:
        """Drop the index being built for another model; returns what was cancelled, if anything."""
        state = self._switch.state()
        self._switch.cancel()
        return state

    # -- lifetime --------------------------------------------------------------------------------

    def integrity_ok(self) -> bool:
        return self._store.integrity_ok()

    def check(self) -> None:
        """SQLite's quick check of the index; IndexDamaged if it finds damage."""
        problems = self._store.quick_check()
        if problems:
            raise IndexDamaged(f"the index {self.database_path} is damaged ({problems[0]})")
        clear_damage_flag(self.data_dir)

    def needs_check(self) -> bool:
        """Did some process meet damage in this index since it was last checked?"""
        return damage_flagged(self.data_dir)

    def repair(self) -> Path:
        """Move the damaged index aside (kept as a backup) and start a new one with the same
        folders, exclusions and model; the files are then read again. Only the process that holds
        the service lock (the service, `kenning index`) may do this. Returns the backup folder."""
        self._drop_embedder()
        self._switch.close()
        self._store.close()
        backup = move_aside(self.database_path)
        clear_damage_flag(self.data_dir)
        self._store = open_store(self.data_dir, self.database)
        self._switch = ModelSwitch(self._store, self.models, self.embedder_settings)
        restored = self._restore_choices()
        if restored and not self._explicit_model:
            self.model_name = restored
        self.repaired_to = backup
        return backup

    def _restore_choices(self) -> str | None:
        """Folders and exclusions from the copy kept beside the index; returns the model it used."""
        folders, global_excludes, model = load_folders(self.data_dir)
        for folder, patterns in folders.items():
            self._store.add_folder(folder)
            self._store.set_folder_exclude(folder, tuple(patterns))
        self._store.set_global_excludes(tuple(global_excludes))
        return model[0] if model else None

    def reopen_if_gone(self) -> bool:
        """The database file was deleted (or replaced) under us: open the one at its path now, a
        new empty one with the same folders if need be (the files are then read again). True if
        it was reopened. For the writer; readers follow through `search`."""
        if not self._store.replaced():
            return False
        log.warning("the index %s was removed while in use; starting a new one", self.database_path)
        self._reopen_if_replaced()
        if not self._store.folders():  # a new, empty index (perhaps made by a reader meanwhile)
            self._restore_choices()
        return True

    def _reopen_if_replaced(self) -> None:
        """Another process rebuilt a damaged index: read the new one."""
        if self._store.replaced():
            self._drop_embedder()
            self._switch.close()
            self._store.close()
            self._store = open_store(self.data_dir, self.database)
            self._switch = ModelSwitch(self._store, self.models, self.embedder_settings)

    def _save_choices(self) -> None:
        """Keep a copy of the folders, exclusions and model beside the index, to rebuild from."""
        try:
            model = (self._store.model_name, self._store.dimensions) if self._store.model_name else None
            save_folders(self.data_dir, {k: list(v) for k, v in self._store.folder_excludes().items()},
                         list(self._store.global_excludes()), model)  # type: ignore[arg-type]
        except OSError as exc:  # a full disk: the index itself says so when it is written
            log.info("could not save the folder list: %s", exc)

    def close(self) -> None:
        if self._copies is not None:
            self._copies.sandbox.close()
        self._switch.close()
        self._drop_embedder()
        self._store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _speak_plainly(cls: type) -> type:
    """Every public method and property of `cls` raises storage faults as one clear line."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_"):
            continue
        if isinstance(member, property) and member.fget is not None:
            setattr(cls, name, property(translating(member.fget), member.fset))
        elif callable(member) and not isinstance(member, (classmethod, staticmethod)):
            setattr(cls, name, translating(member))
    return cls


_speak_plainly(Engine)
