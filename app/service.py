"""The background indexing service: keeps the index in step with the watched folders.

It owns all writes to the index (one per data directory, enforced by a lock file), reconciles
the folders with the disk on start, then follows file-system events. Pending work lives in the
SQLite `queue` table, so a restart (or a crash) picks it up again, most recently modified first.
The GUI's tray and `kenning watch` run it; `kenning pause|resume` reach it through the database.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kenning.engine import Engine
from kenning.errors import KenningError
from kenning.index import IndexProgress, Indexer
from kenning.paths import private_dir
from kenning.store import Store
from kenning.watch import FolderWatcher, Settler

log = logging.getLogger(__name__)

BATCH_FILES = 16
RETRY_S = 5.0
FOLDER_CHECK_S = 2.0
STATUS_KEY = "service_status"
PAUSED_KEY = "paused"


@dataclass
class ServiceStatus:
    state: str = "starting"  # starting | idle | indexing | switching | paused | error | stopped
    queued: int = 0
    done: int = 0
    failed: int = 0
    current: str = ""
    chunks_per_s: float = 0.0
    eta_s: float | None = None
    message: str = ""
    polled_folders: dict[str, str] = field(default_factory=dict)
    heartbeat: float = 0.0
    pid: int = 0

    def to_json(self) -> dict:
        return asdict(self)


class ServiceLock:
    """An exclusive lock on `<data>/service.lock`, released by the OS if the process dies."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "service.lock"
        self._file = None

    def acquire(self) -> None:
        handle = open(self.path, "a+")
        try:
            if sys.platform == "win32":
                import msvcrt

                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise KenningError(
                f"another Kenning service (pid {owner}) is already indexing {self.path.parent}; "
                "stop it first, or use `kenning pause`"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def held_elsewhere(self) -> bool:
        try:
            self.acquire()
        except KenningError:
            return True
        self.release()
        return False


def on_battery() -> bool:
    """True when the OS says we run on battery (Linux sysfs; elsewhere unknown, so False)."""
    supplies = Path("/sys/class/power_supply")
    if not supplies.is_dir():
        return False
    mains = [p for p in supplies.iterdir() if (p / "type").is_file() and (p / "type").read_text().strip() == "Mains"]
    if not mains:
        return False
    return not any((p / "online").is_file() and (p / "online").read_text().strip() == "1" for p in mains)


class Service:
    def __init__(self, data_dir: Path, engine: Engine | None = None, quiet_s: float = 0.3,
                 pause_on_battery: bool = False, poll_s: float = 5.0):
        self.data_dir = private_dir(Path(data_dir))
        self.lock = ServiceLock(self.data_dir)
        self.lock.acquire()
        self._engine = engine
        self.settler = Settler(quiet_s)
        self.pause_on_battery = pause_on_battery
        self.poll_s = poll_s  # for folders that cannot be watched natively
        self.status = ServiceStatus(pid=os.getpid())
        self._moves: list[tuple[str, str]] = []
        self._moves_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watcher: FolderWatcher | None = None
        self._last_folder_check = time.monotonic()
        self._exclusions: tuple | None = None  # the patterns last applied

    # -- control (any thread) ----------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kenning-service", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        set_paused(self.data_dir, True)

    def resume(self) -> None:
        set_paused(self.data_dir, False)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self.settler.wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.lock.release()

    def snapshot(self) -> ServiceStatus:
        return ServiceStatus(**{**asdict(self.status), "polled_folders": dict(self.status.polled_folders)})

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until nothing is queued or settling (for tests and scripts)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status.state == "idle" and not len(self.settler) and not self._moves:
                return True
            time.sleep(0.05)
        return False

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise KenningError("the service has not started yet")
        return self._engine

    # -- the worker thread (owns the engine and all writes) --------------------------------------

    def _run(self) -> None:
        try:
            if self._engine is None:
                self._engine = Engine(data_dir=self.data_dir)
            engine = self._engine
            indexer = Indexer(engine.store, engine.embedder, engine.index_settings, self._on_progress)
            self._watcher = FolderWatcher(self.settler.touch, self._on_move, self.poll_s)
            self._watcher.start()
            self._reconcile(indexer)
            while not self._stop.is_set():
                indexer = self._step(indexer)
            indexer.close()
        except Exception as exc:  # reported in status; the GUI shows it
            log.exception("the indexing service stopped")
            self.status.state, self.status.message = "error", str(exc)
            self._publish(force=True)
        finally:
            if self._watcher is not None:
                self._watcher.stop()
            if self.status.state != "error":
                self.status.state = "stopped"
                self._publish(force=True)

    def _reconcile(self, indexer: Indexer) -> None:
        """Catch up with what changed while we were not running, then watch every folder."""
        store = indexer.store
        for _, folder in store.folders():
            self._watch(folder)
        self.status.state = "indexing"
        self.status.message = "checking folders for changes"
        self._publish(force=True)
        if store.folders():
            paths = [Path(folder) for _, folder in store.folders() if os.path.isdir(folder)]
            self._merge(indexer.index(paths))
        self.status.message = ""

    def _watch(self, folder: str) -> None:
        if not os.path.isdir(folder):
            self.status.message = f"{folder}: folder is missing or unreadable"
            return
        if self.status.message.startswith(folder + ":"):
            self.status.message = ""
        self._watcher.watch(folder)
        self.status.polled_folders = dict(self._watcher.polled)

    def _step(self, indexer: Indexer) -> Indexer:
        """One round of work; returns the indexer to use next (a new one after a model switch)."""
        store = indexer.store
        self._sync_folders(store)
        self._apply_new_exclusions(indexer)
        self._apply_moves(indexer)
        settled = self.settler.ready()
        if settled:
            store.enqueue((path, _mtime(path)) for path in settled)
        paused = store.get_meta(PAUSED_KEY) == "1" or (self.pause_on_battery and on_battery())
        queued = store.queued_count()
        self.status.queued = queued
        if paused:
            self.status.state = "paused"
        elif queued:
            self.status.state = "indexing"
            batch = store.next_queued(BATCH_FILES)
            try:
                self._merge(indexer.process(batch))
            except Exception as exc:  # e.g. a full disk: keep the work queued, say why, retry later
                log.exception("indexing failed; retrying in %s s", RETRY_S)
                self.status.state, self.status.message = "error", f"indexing failed: {exc}"
                self._publish(force=True)
                self._stop.wait(RETRY_S)
                return indexer
            store.dequeue(batch)  # after the files are committed: a crash redoes them, no loss
            self.status.queued = store.queued_count()
            self.status.message = ""
        elif store.switch_target() is not None:
            indexer = self._switch_models(indexer)
        else:
            self.status.state, self.status.current, self.status.eta_s = "idle", "", None
        self._publish()
        if (paused or not queued) and store.switch_target() is None:
            due = self.settler.next_due()
            wait = 0.5 if due is None else max(0.01, min(0.5, due - time.monotonic()))
            self.settler.wakeup.wait(wait)
            self.settler.wakeup.clear()
        return indexer

    def _switch_models(self, indexer: Indexer) -> Indexer:
        """A batch of a model switch, between file changes (which always go first)."""
        engine = self.engine
        state = engine.switch.state()
        self.status.state = "switching"
        self.status.message = f"building the index for {state.model}: {state.done} of {state.total} passages"
        try:
            switched = engine.advance_model_switch()
        except Exception as exc:  # e.g. the new model's file went missing: say so, retry later
            log.exception("model switch failed; retrying in %s s", RETRY_S)
            self.status.state, self.status.message = "error", f"model switch failed: {exc}"
            self._publish(force=True)
            self._stop.wait(RETRY_S)
            return indexer
        if not switched:
            return indexer
        self.status.message = f"the index now uses {engine.model_name}"
        indexer.close()
        return Indexer(engine.store, engine.embedder, engine.index_settings, self._on_progress)

    def _sync_folders(self, store: Store) -> None:
        """Folders added or removed by the CLI or GUI while we run, or gone from the disk (an
        unplugged drive): those are reported, their index kept, and watched again on return."""
        now = time.monotonic()
        if now - self._last_folder_check >= FOLDER_CHECK_S:
            self._last_folder_check = now
            for folder in [f for f in self._watcher.watches if not os.path.isdir(f)]:
                self._watcher.unwatch(folder)
                self.status.message = f"{folder}: folder is missing or unreadable"
                log.warning(self.status.message)
        folders = {folder for _, folder in store.folders()}
        for folder in folders - set(self._watcher.watches):
            self._watch(folder)
            store.enqueue((path, _mtime(path)) for path in _all_files(folder))
        for folder in set(self._watcher.watches) - folders:
            self._watcher.unwatch(folder)

    def _apply_new_exclusions(self, indexer: Indexer) -> None:
        """Patterns changed (CLI or GUI): re-walk the folders concerned, which drops the files now
        excluded and indexes the ones no longer excluded."""
        store = indexer.store
        current = (store.global_excludes(), store.folder_excludes())
        if self._exclusions is not None and current != self._exclusions:
            changed_global = current[0] != self._exclusions[0]
            folders = [f for f, patterns in current[1].items()
                       if changed_global or self._exclusions[1].get(f) != patterns]
            existing = [Path(f) for f in folders if os.path.isdir(f)]
            if existing:
                self._merge(indexer.index(existing))
        self._exclusions = current

    def _on_move(self, source: str, destination: str) -> None:
        with self._moves_lock:
            self._moves.append((source, destination))
        self.settler.wakeup.set()

    def _apply_moves(self, indexer: Indexer) -> None:
        with self._moves_lock:
            moves, self._moves = self._moves, []
        for source, destination in moves:
            if os.path.isdir(destination):  # a folder moved: every file below it moved
                pairs = [(os.path.join(source, os.path.relpath(p, destination)), p) for p in _all_files(destination)]
            else:
                pairs = [(source, destination)]
            for old, new in pairs:
                if not indexer.move(old, new):
                    self.settler.touch(old)
                    self.settler.touch(new)

    # -- status ---------------------------------------------------------------------------------

    def _merge(self, report) -> None:
        self.status.done += report.indexed + report.renamed
        self.status.failed += report.failed

    def _on_progress(self, progress: IndexProgress) -> None:
        self.status.current = progress.current
        if progress.elapsed > 0:
            self.status.chunks_per_s = progress.chunks_done / progress.elapsed
        remaining = progress.files_total - progress.files_done
        if progress.files_done and remaining:
            self.status.eta_s = progress.elapsed / progress.files_done * remaining
        self._publish()

    _last_publish = 0.0

    def _publish(self, force: bool = False) -> None:
        """Write the status where other processes (`kenning status`, the GUI) can read it."""
        now = time.monotonic()
        if not force and now - self._last_publish < 1.0:
            return
        self._last_publish = now
        self.status.heartbeat = time.time()
        if self._engine is not None:
            try:
                with self._engine.store.transaction():
                    self._engine.store.set_meta(STATUS_KEY, json.dumps(self.status.to_json()))
            except Exception as exc:  # status is best effort; never stop indexing for it
                log.debug("could not publish status: %s", exc)


def set_paused(data_dir: Path, paused: bool) -> None:
    store = Store(data_dir)
    try:
        with store.transaction():
            store.set_meta(PAUSED_KEY, "1" if paused else "0")
    finally:
        store.close()


def read_status(store: Store) -> ServiceStatus | None:
    """The running service's last published status, or None if no service runs."""
    raw = store.get_meta(STATUS_KEY)
    if not raw or not ServiceLock(store.data_dir).held_elsewhere():
        return None
    return ServiceStatus(**json.loads(raw))


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return time.time()  # vanished: its removal goes first


def _all_files(folder: str) -> list[str]:
    result = []
    for root, _dirs, files in os.walk(folder):
        result += [os.path.join(root, name) for name in files]
    return result
