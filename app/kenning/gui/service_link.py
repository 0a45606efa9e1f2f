"""The GUI's one handle on indexing. It runs the background `Service` (or, when another Kenning
process already holds the service lock, follows that one's published status), and reads and
changes the index through operations on the GUI's single worker (`operations.py`): a status poll
every half second, folder changes, pause, retries and model switches. What it last read is kept
here for the widgets, which never touch the database themselves."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from kenning.engine import Engine, FolderInfo
from kenning.errors import KenningError
from kenning.gui.operations import EngineOp, TaskManager
from kenning.service import Service
from kenning.service_status import ServiceState, ServiceStatus
from kenning.settings import Settings
from kenning.store import FileStatus
from kenning.switch import SwitchState

log = logging.getLogger(__name__)

POLL_MS = 500
RATE_WINDOW_S = 20.0  # files/s is measured over this much recent history
COUNTS_MAX_AGE_S = 5.0  # folder and file counts are re-read at most this often while nothing changes
SWITCH_MAX_AGE_S = 1.0  # a model switch's progress (a count of every passage) at most this often


@dataclass
class Overview:
    """What the widgets show, as read on the worker in one operation."""

    status: ServiceStatus | None = None  # another process's service; ours is read directly
    index_model: str | None = None
    index_dimensions: int | None = None
    model_switch: SwitchState | None = None
    counts: tuple[list[FolderInfo], int, list[tuple[str, FileStatus, str]]] | None = None  # when re-read
    generation: int = 0
    epoch: int = 0
    read_at: float = field(default_factory=time.monotonic)


class ServiceLink(QObject):
    changed = Signal(object)  # ServiceStatus, or None when nothing indexes
    folders_changed = Signal()
    index_updated = Signal()  # files were indexed or removed since the last poll
    switch_started = Signal(object)  # SwitchState: a model switch the user asked for is under way
    switch_failed = Signal(str)  # it could not start (or be cancelled): why
    model_changed = Signal(str)  # the index now uses this model (a switch completed)
    operation_failed = Signal(str)  # a folder change, retry... failed: why

    def __init__(self, data_dir: Path, settings: Settings | None = None, parent=None):
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self.settings = settings or Settings()
        self.tasks = TaskManager(lambda: Engine.from_settings(self.data_dir, self.settings), self)
        self.tasks.failed.connect(self.operation_failed)
        self.service: Service | None = None
        self.error = ""  # why this process does not run the service, if it does not
        self.status: ServiceStatus | None = None
        self.index_model: str | None = None  # the model the index uses (search uses it)
        self.index_dimensions: int | None = None
        self.model_switch: SwitchState | None = None  # a switch to another model, while pending
        self.files_per_s = 0.0
        self._folders: list[FolderInfo] = []
        self._files_indexed = 0
        self._failures: list[tuple[str, FileStatus, str]] = []
        self._counts_read = 0.0
        self._switch_read = 0.0
        self._polling = False
        self._generation = 0  # counts each change made here: a read begun before one is stale
        self._epoch = 0  # counts starts and stops of our service: a status read across one is stale
        self._done_samples: deque[tuple[float, int]] = deque()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._apply(self.tasks.call(lambda engine: self._read(engine, counts=True, switch=True)))

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self.service is None:
            try:
                self.service = Service(self.data_dir, settings=self.settings)
                self.service.start()
                self._epoch += 1
                self.error = ""
            except KenningError as exc:  # another Kenning service holds the lock: follow it
                self.service, self.error = None, str(exc)
                log.info("not running the indexing service: %s", exc)
        self._timer.start()
        self.poll()

    def stop(self) -> None:
        """Stop indexing in this process (the tray's Quit, or the status view's Stop)."""
        if self.service is not None:
            service, self.service = self.service, None
            service.stop()
            self._epoch += 1
            self.status = None  # until a poll finds another process indexing
            self.changed.emit(None)
        self.poll()

    def apply_settings(self, settings: Settings, reembed: bool = False) -> None:
        """Restart the service with new settings; `reembed` reads every file again (a new
        passage size only applies to files indexed after it is set). Another database (a shared
        index, or back to this computer's) is opened for everything from here on."""
        moved = settings.database != self.settings.database
        self.settings = settings
        running = self.service is not None
        self.stop()
        if moved:
            self.tasks.reopen()
            self._changed(folders=True)  # and what was read from the other index is stale
        if not reembed:
            if running:
                self.start()
            return

        def forget_and_add_again(engine: Engine) -> None:
            for folder in engine.folders():
                engine.remove_folder(Path(folder.path))
                engine.add_folder(Path(folder.path), folder.exclude)

        def done(_) -> None:
            self._changed(folders=True)
            if running:
                self.start()

        EngineOp(self.tasks, forget_and_add_again).success(done).failure(self._failed_then(done)).run_in_background()

    def shutdown(self) -> None:
        self._timer.stop()
        self.stop()
        self.tasks.shutdown()

    @property
    def running_here(self) -> bool:
        return self.service is not None

    # -- status -------------------------------------------------------------------------------

    def poll(self) -> None:
        """The service's state now (ours directly; another process's, and the index's counts,
        through an operation, at most one at a time)."""
        if self.service is not None:
            self._set_status(self.service.snapshot())
        if self._polling or self.tasks.in_flight > 2:
            return
        now = time.monotonic()
        counts = now - self._counts_read > COUNTS_MAX_AGE_S
        switch = now - self._switch_read > SWITCH_MAX_AGE_S
        self._polling = True
        generation, epoch, other_service = self._generation, self._epoch, self.service is None
        op = EngineOp(self.tasks, lambda engine: self._read(engine, counts, switch, generation, epoch, other_service))
        op.success(self._on_read).failure(self._on_read_failed).run_in_background()

    def _read(self, engine: Engine, counts: bool, switch: bool, generation: int = 0, epoch: int = 0,
              other_service: bool = True) -> Overview:
        """On the worker: what the widgets need."""
        overview = Overview(index_model=engine.index_model, index_dimensions=engine.index_dimensions,
                            generation=generation, epoch=epoch)
        if other_service:
            overview.status = engine.service_status()
        if switch or (self.model_switch is None) != (not engine.model_switch_pending()):
            overview.model_switch = engine.model_switch()
        else:
            overview.model_switch = self.model_switch
        if counts:
            overview.counts = (engine.folders(), engine.files_indexed(), engine.failures())
        return overview

    def _on_read(self, overview: Overview) -> None:
        self._polling = False
        self._apply(overview)
        if overview.generation != self._generation:  # changed meanwhile: read again at once
            self.poll()

    def _on_read_failed(self, message: str) -> None:  # a busy or damaged database: keep what we knew
        self._polling = False
        log.debug("cannot read the index status: %s", message)

    def _apply(self, overview: Overview) -> None:
        if self.service is None and overview.epoch == self._epoch:
            self._set_status(overview.status)
        if overview.model_switch is not self.model_switch:
            self._switch_read = overview.read_at
        self.model_switch = overview.model_switch
        if overview.index_model != self.index_model:
            previous, self.index_model = self.index_model, overview.index_model
            if previous is not None and overview.index_model:
                self.model_changed.emit(overview.index_model)
                self._changed()
        self.index_dimensions = overview.index_dimensions
        if overview.counts is not None:
            folders, files, failures = overview.counts
            folders_moved = [(f.path, f.exclude) for f in folders] != [(f.path, f.exclude) for f in self._folders]
            updated = folders != self._folders or files != self._files_indexed or failures != self._failures
            self._folders, self._files_indexed, self._failures = folders, files, failures
            if overview.generation == self._generation:
                self._counts_read = overview.read_at
            if folders_moved:
                self.folders_changed.emit()
            if updated:
                self.index_updated.emit()
        self.changed.emit(self.status)

    def _set_status(self, status: ServiceStatus | None) -> None:
        previous, self.status = self.status, status
        self._measure_rate()
        if status is not None and previous is not None and (
            status.done != previous.done
            or (previous.state == ServiceState.INDEXING and status.state == ServiceState.IDLE)
        ):
            self._changed()
        if self.service is not None:
            self.changed.emit(status)

    def _measure_rate(self) -> None:
        """Files per second from recent snapshots, and a time left from it when the service
        reports none (it knows the rate only within a batch)."""
        status, now = self.status, time.monotonic()
        if status is None or status.state != ServiceState.INDEXING:
            self._done_samples.clear()
            self.files_per_s = 0.0
            return
        samples = self._done_samples
        if samples and status.done < samples[-1][1]:  # the service restarted
            samples.clear()
        samples.append((now, status.done))
        while samples and now - samples[0][0] > RATE_WINDOW_S:
            samples.popleft()
        elapsed, done = now - samples[0][0], status.done - samples[0][1]
        self.files_per_s = done / elapsed if elapsed >= 1.0 and done > 0 else 0.0

    def _changed(self, folders: bool = False) -> None:
        """The index changed: counts are re-read on the next poll, which comes at once."""
        self._generation += 1
        self._counts_read = 0.0
        if folders:
            self._switch_read = 0.0
        QTimer.singleShot(0, self.poll)

    def state(self) -> ServiceState:
        return self.status.state if self.status else ServiceState.STOPPED

    # -- what was last read -------------------------------------------------------------------

    def folders(self) -> list[FolderInfo]:
        return list(self._folders)

    def files_indexed(self) -> int:
        return self._files_indexed

    def failures(self) -> list[tuple[str, FileStatus, str]]:
        """(path, status, reason) of every file that could not be indexed."""
        return list(self._failures)

    # -- changes, each an operation -------------------------------------------------------------

    def _change(self, work: Callable[[Engine], object], on_done: Callable[[object], None] | None = None,
                on_error: Callable[[str], None] | None = None, folders: bool = True) -> EngineOp:
        def succeeded(value) -> None:
            self._changed(folders=folders)
            if on_done:
                on_done(value)

        op = EngineOp(self.tasks, work).success(succeeded).failure(on_error or self.operation_failed.emit)
        op.run_in_background()
        return op

    def _failed_then(self, then: Callable[[object], None]) -> Callable[[str], None]:
        def failed(message: str) -> None:
            self.operation_failed.emit(message)
            then(None)

        return failed

    def add_folder(self, path: str, exclude: tuple[str, ...] = (), on_error: Callable[[str], None] | None = None) -> EngineOp:
        return self._change(lambda engine: engine.add_folder(Path(path), tuple(exclude)), on_error=on_error)

    def remove_folder(self, path: str) -> EngineOp:
        return self._change(lambda engine: engine.remove_folder(Path(path)))

    def set_exclude(self, path: str, patterns: tuple[str, ...]) -> EngineOp:
        return self._change(lambda engine: engine.set_folder_exclude(Path(path), tuple(patterns)))

    def retry(self, paths: list[str]) -> EngineOp:
        def retry_all(engine: Engine) -> None:
            for path in paths:
                engine.retry(Path(path))

        return self._change(retry_all)

    def pause(self) -> EngineOp:
        return self._set_paused(True)

    def resume(self) -> EngineOp:
        return self._set_paused(False)

    def _set_paused(self, paused: bool) -> EngineOp:
        def done(_) -> None:
            if self.service is not None:
                self.service.wake()
            self.poll()

        return self._change(lambda engine: engine.set_paused(paused), done, folders=False)

    # -- switching models ---------------------------------------------------------------------

    def switch_model(self, name: str, dimensions: int | None = None) -> EngineOp:
        """Start building the index for `name` beside the current one (checking the model file
        and the vector size takes a moment, on the worker); `switch_started` or `switch_failed`
        follow. The service does the rest between file changes; search keeps using the current
        model until the new index is complete."""
        def start(engine: Engine) -> SwitchState:
            try:
                return engine.switch_model(name, dimensions)
            finally:
                engine.unload_model()  # the worker never searches: give the memory back

        return self._change(start, self.switch_started.emit, self.switch_failed.emit)

    def cancel_switch(self) -> EngineOp:
        """Drop the index being built for another model; the current one is never touched."""
        return self._change(lambda engine: engine.cancel_model_switch(), on_error=self.switch_failed.emit)
