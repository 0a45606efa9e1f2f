"""The background indexing service: keeps the index in step with the watched folders.

It owns all writes to the index (one per data directory, enforced by a lock file), reconciles
the folders with the disk on start, then follows file-system events. Pending work lives in the
SQLite `queue` table, so a restart (or a crash) picks it up again, most recently modified first.
The GUI's tray and `kenning watch` run it; `kenning pause|resume` reach it through the database.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from kenning.engine import Engine
from kenning.errors import DiskFull, IndexDamaged, KenningError
from kenning.index import IndexProgress, IndexReport
from kenning.paths import private_dir
from kenning.priority import lower_this_thread
from kenning.service_status import ServiceLock, ServiceState, ServiceStatus
from kenning.settings import Settings
from kenning.watch import FolderWatcher, Settler

log = logging.getLogger(__name__)

BATCH_FILES = 16
RETRY_S = 5.0
CLAIMED_WAIT_S = 1.0  # between looks at passages other indexers are embedding
DISK_FULL_RETRY_S = 30.0  # a full disk is not fixed in seconds: look again now and then, not spin
FOLDER_CHECK_S = 2.0
RATE_WINDOW_S = 60.0  # the embedding rate is an average over about this long


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
                 pause_on_battery: bool = False, poll_s: float = 5.0, settings: Settings | None = None):
        """`engine`: the one to index with, used from the service's thread alone from `start` on
        (default: one made in that thread from `settings`, else the user's saved settings, and
        closed when the service stops)."""
        self.data_dir = private_dir(Path(data_dir))
        self.lock = ServiceLock(self.data_dir)
        self.lock.acquire()
        self._engine = engine
        self._owns_engine = engine is None
        self._settings = settings
        self.settler = Settler(quiet_s)
        self.pause_on_battery = pause_on_battery
        self.poll_s = poll_s  # for folders that cannot be watched natively
        self.status = ServiceStatus(pid=os.getpid())
        self._moves: list[tuple[str, str]] = []
        self._moves_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watcher_or_none: FolderWatcher | None = None
        self._last_folder_check = time.monotonic()
        self._exclusions: tuple | None = None  # the patterns last applied
        self._reconciled = False  # the start-up catch-up has run to its end
        self._ocr_turn = True  # OCR goes next when both scanned pages and passages wait

    # -- control (any thread) ----------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="kenning-service", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        set_paused(self.data_dir, True)
        self.wake()

    def resume(self) -> None:
        set_paused(self.data_dir, False)
        self.wake()

    def wake(self) -> None:
        """Look at the queue and the pause flag now rather than after the current wait."""
        self.settler.wakeup.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self.settler.wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.lock.release()

    def snapshot(self) -> ServiceStatus:
        return self.status.copy()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until nothing is queued or settling (for tests and scripts)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status.state == ServiceState.IDLE and not len(self.settler) and not self._moves:
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
            if self._engine is None:  # we hold the lock, so a damaged index may be rebuilt
                self._engine = Engine.from_settings(self.data_dir, self._settings, repair_damaged=True)
            engine = self._engine
            if engine.index_settings.low_priority:
                lower_this_thread()
            if self.lock.unclean or engine.needs_check():  # the last writer died, or a reader met damage
                self._check(engine)
            if engine.repaired_to:
                self._repaired(engine)
            engine.prepare_model()
            self._watcher_or_none = FolderWatcher(self.settler.touch, self._on_move, self.poll_s)
            self._watcher_or_none.start()
            self._reconcile(engine)
            while not self._stop.is_set():
                try:
                    self._step(engine)
                except IndexDamaged as exc:
                    log.warning("%s", exc)
                    engine.repair()
                    self._repaired(engine)
                except DiskFull as exc:
                    self._fail(str(exc), exc)
        except Exception as exc:  # reported in status; the GUI shows it
            log.exception("the indexing service stopped")
            self.status.state, self.status.message = ServiceState.ERROR, str(exc)
            self._publish(force=True)
        finally:
            if self._watcher_or_none is not None:
                self._watcher_or_none.stop()
            if self.status.state != ServiceState.ERROR:
                self.status.state = ServiceState.STOPPED
                self._publish(force=True)
            if self._owns_engine and self._engine is not None:
                self._engine.close()

    def _check(self, engine: Engine) -> None:
        self.status.message = "checking the index after an unclean stop"
        self._publish(force=True)
        try:
            engine.check()
        except IndexDamaged as exc:
            log.warning("%s", exc)
            engine.repair()
            self._repaired(engine)
            return
        self.status.message = ""

    def _repaired(self, engine: Engine) -> None:
        """A damaged index was moved aside: say so, and read every folder again."""
        self.status.message = (f"the index was damaged; it was moved aside to {engine.repaired_to} and is "
                               "being rebuilt from your files")
        self._publish(force=True)
        self._reconciled = False

    def _reconcile(self, engine: Engine) -> None:
        """Catch up with what changed while we were not running, then watch every folder."""
        folders = engine.folder_paths()
        for folder in folders:
            self._watch(folder)
        self.status.state, self.status.phase = ServiceState.INDEXING, "keywords"
        self.status.files_done = self.status.files_total = 0
        self.status.message = "checking folders for changes"
        self._publish(force=True)
        paths = [Path(folder) for folder in folders if os.path.isdir(folder)]
        report = engine.index(paths, self._on_progress, self._should_yield, embed=False) if paths else None
        if report is not None:
            self._merge(report)
        self._reconciled = report is None or not report.interrupted
        self.status.message = ""

    def _paused(self, engine: Engine) -> bool:
        return engine.paused() or (self.pause_on_battery and on_battery())

    def _should_yield(self) -> bool:
        """Asked between files: stop now for a quit or a pause (the rest is done later)."""
        return self._stop.is_set() or self._paused(self.engine)

    @property
    def _watcher(self) -> FolderWatcher:
        if self._watcher_or_none is None:
            raise KenningError("the service has not started yet")
        return self._watcher_or_none

    def _watch(self, folder: str) -> None:
        if not os.path.isdir(folder):
            self.status.message = f"{folder}: folder is missing or unreadable"
            return
        if self.status.message.startswith(folder + ":"):
            self.status.message = ""
        self._watcher.watch(folder)
        self.status.polled_folders = dict(self._watcher.polled)

    def _step(self, engine: Engine) -> None:
        """One round of work: folder and pattern changes, moves, settled events, then a batch of
        the queue, else a batch of a model switch, else a short wait."""
        if engine.needs_check():  # a reader (search, status) met damage
            self._check(engine)
        if engine.reopen_if_gone():  # the database was deleted under us: rebuild from the files
            self.status.message = "the index was removed while in use; it is being rebuilt from your files"
            self._reconciled = False
            return
        self._sync_folders(engine)
        self._apply_new_exclusions(engine)
        self._apply_moves(engine)
        settled = self.settler.ready()
        if settled:
            engine.enqueue((path, _mtime(path)) for path in settled)
        paused = self._paused(engine)
        if not paused and not self._reconciled:  # the catch-up was paused: carry on with it
            self._reconcile(engine)
            return
        queued = engine.queued_count()
        self.status.queued = queued
        self.status.passages_waiting = engine.passages_waiting()
        waiting = 0 if paused or queued else self.status.passages_waiting  # to embed now
        # Scanned pages and embedding take turns, so neither starves the other.
        ocr = not paused and not queued and (not waiting or self._ocr_turn) and engine.ocr_pending()
        self._ocr_turn = not self._ocr_turn
        switching = engine.model_switch_pending()
        if paused:
            self.status.state, self.status.phase, self.status.eta_s = ServiceState.PAUSED, "", None
        elif queued:
            self.status.state = ServiceState.INDEXING
            batch = engine.next_queued(BATCH_FILES)
            try:
                report = engine.update(batch, self._on_progress, self._should_yield)
            except (IndexDamaged, DiskFull):
                raise
            except Exception as exc:  # keep the work queued, say why, retry later
                log.exception("indexing failed; retrying in %s s", RETRY_S)
                self._fail(f"indexing failed: {exc}")
                return
            self._merge(report)
            if report.interrupted:  # the batch stays queued; what was done is skipped next time
                return
            engine.dequeue(batch)  # after the files are committed: a crash redoes them, no loss
            self.status.queued = engine.queued_count()
            self.status.message = ""
        elif ocr:
            self._read_scans(engine)
        elif waiting:
            self._embed(engine, waiting)
            self.status.files_done = self.status.files_total = 0
        elif switching:
            self._switch_models(engine)
        else:
            self.status.state, self.status.current, self.status.eta_s = ServiceState.IDLE, "", None
            self.status.phase, self.status.files_done, self.status.files_total = "", 0, 0
        self._publish()
        if (paused or not queued) and not waiting and not ocr and not (switching and not paused):
            due = self.settler.next_due()
            wait = 0.5 if due is None else max(0.01, min(0.5, due - time.monotonic()))
            self.settler.wakeup.wait(wait)
            self.settler.wakeup.clear()

    def _embed(self, engine: Engine, waiting: int) -> None:
        """A batch of the meaning phase: the files are searchable by keyword already."""
        self.status.state, self.status.current, self.status.phase = ServiceState.INDEXING, "", "meaning"
        self.status.passages_waiting = waiting
        self.status.message = ""
        try:
            started = time.monotonic()
            count = engine.embed_waiting()
            self._embedded(count, time.monotonic() - started, engine.passages_waiting())
            if not count:  # those waiting are being embedded by another machine (a shared index)
                self._stop.wait(CLAIMED_WAIT_S)
        except (IndexDamaged, DiskFull):
            raise
        except Exception as exc:  # e.g. the model file went missing: say so, retry later
            log.exception("embedding failed; retrying in %s s", RETRY_S)
            self._fail(f"embedding failed: {exc}")
            return
        self.status.message = ""

    def _read_scans(self, engine: Engine) -> None:
        """A few pages of the OCR phase: scanned pages and images, read after every file's words."""
        self.status.state, self.status.phase, self.status.message = ServiceState.INDEXING, "ocr", ""
        try:
            step = engine.ocr_step()
        except (IndexDamaged, DiskFull):
            raise
        except Exception as exc:
            log.exception("OCR failed; retrying in %s s", RETRY_S)
            self._fail(f"OCR failed: {exc}")
            return
        if step is not None:
            self.status.current = step.path
            self.status.files_done, self.status.files_total = step.pages_done, step.pages_total

    def _fail(self, message: str, exc: Exception | None = None) -> None:
        """Say why work stopped, then wait before trying again (the work stays queued)."""
        self.status.state, self.status.message = ServiceState.ERROR, message
        self._publish(force=True)
        self._stop.wait(DISK_FULL_RETRY_S if isinstance(exc, DiskFull) else RETRY_S)

    def _switch_models(self, engine: Engine) -> None:
        """A batch of a model switch, between file changes (which always go first)."""
        state = engine.model_switch()
        if state is None:
            return
        self.status.state, self.status.phase = ServiceState.SWITCHING, "switching"
        self.status.message = f"building the index for {state.model}: {state.done} of {state.total} passages"
        try:
            switched = engine.advance_model_switch()
        except (IndexDamaged, DiskFull):
            raise
        except Exception as exc:  # e.g. the new model's file went missing: say so, retry later
            log.exception("model switch failed; retrying in %s s", RETRY_S)
            self._fail(f"model switch failed: {exc}")
            return
        if switched:
            self.status.message = f"the index now uses {engine.index_model}"

    def _sync_folders(self, engine: Engine) -> None:
        """Folders added or removed by the CLI or GUI while we run, or gone from the disk (an
        unplugged drive): those are reported, their index kept, and watched again on return."""
        now = time.monotonic()
        if now - self._last_folder_check >= FOLDER_CHECK_S:
            self._last_folder_check = now
            for folder in [f for f in self._watcher.watches if not os.path.isdir(f)]:
                self._watcher.unwatch(folder)
                self.status.message = f"{folder}: folder is missing or unreadable"
                log.warning(self.status.message)
        folders = set(engine.folder_paths())
        for folder in folders - set(self._watcher.watches):
            self._watch(folder)
            engine.enqueue((path, _mtime(path)) for path in _all_files(folder))
        for folder in set(self._watcher.watches) - folders:
            self._watcher.unwatch(folder)

    def _apply_new_exclusions(self, engine: Engine) -> None:
        """Patterns changed (CLI or GUI): re-walk the folders concerned, which drops the files now
        excluded and indexes the ones no longer excluded."""
        current = engine.exclusion_patterns()
        if self._exclusions is not None and current != self._exclusions:
            changed_global = current[0] != self._exclusions[0]
            folders = [f for f, patterns in current[1].items()
                       if changed_global or self._exclusions[1].get(f) != patterns]
            existing = [Path(f) for f in folders if os.path.isdir(f)]
            if existing:
                report = engine.index(existing, self._on_progress, self._should_yield, embed=False)
                self._merge(report)
                if report.interrupted:
                    return  # applied again on the next round
        self._exclusions = current

    def _on_move(self, source: str, destination: str) -> None:
        with self._moves_lock:
            self._moves.append((source, destination))
        self.settler.wakeup.set()

    def _apply_moves(self, engine: Engine) -> None:
        with self._moves_lock:
            moves, self._moves = self._moves, []
        for source, destination in moves:
            if os.path.isdir(destination):  # a folder moved: every file below it moved
                pairs = [(os.path.join(source, os.path.relpath(p, destination)), p) for p in _all_files(destination)]
            else:
                pairs = [(source, destination)]
            for old, new in pairs:
                if not engine.follow_move(old, new):
                    self.settler.touch(old)
                    self.settler.touch(new)

    # -- status ---------------------------------------------------------------------------------

    def _merge(self, report: IndexReport) -> None:
        self.status.done += report.indexed + report.renamed
        self.status.failed += report.failed

    def _on_progress(self, progress: IndexProgress) -> None:
        """Reading files (the keyword phase of a run): files done of the run's total, the rate,
        and the time left until every passage has its vector, from the rates measured."""
        status = self.status
        new_run = status.files_total != progress.files_total  # its total is news to publish at once
        status.current, status.phase = progress.current, "keywords"
        status.files_done, status.files_total = progress.files_done, progress.files_total
        if progress.elapsed > 0:
            status.chunks_per_s = progress.chunks_done / progress.elapsed
        if progress.files_done:
            files_left = max(0, progress.files_total - progress.files_done) + max(0, status.queued - progress.files_total)
            per_file = progress.elapsed / progress.files_done
            passages_to_come = progress.chunks_done / progress.files_done * files_left
            embedding = ((status.passages_waiting + passages_to_come) / status.passages_per_s
                         if status.passages_per_s else 0.0)
            status.eta_s = per_file * files_left + embedding or None
        self._publish(force=new_run)

    def _embedded(self, count: int, seconds: float, waiting: int) -> None:
        """A batch of the meaning phase done: the rate (over about the last minute) and the time left."""
        status = self.status
        status.passages_done += count
        status.passages_waiting = waiting
        if count and seconds > 0:
            weight = min(1.0, seconds / RATE_WINDOW_S)
            rate = count / seconds
            status.passages_per_s = rate if not status.passages_per_s else (1 - weight) * status.passages_per_s + weight * rate
        status.eta_s = waiting / status.passages_per_s if status.passages_per_s and waiting else None

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
                self._engine.publish_service_status(self.status)
            except Exception as exc:  # status is best effort; never stop indexing for it
                log.debug("could not publish status: %s", exc)


def set_paused(data_dir: Path, paused: bool) -> None:
    with Engine(data_dir=data_dir) as engine:
        engine.set_paused(paused)


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
