"""The GUI's one handle on indexing: runs the background `Service` (or, when another Kenning
process already holds the service lock, follows that one's published status), polls its status
with a QTimer, and manages folders through an Engine of its own (the service picks up folder
changes from the database). A model switch is started and cancelled here too, by an Engine in a
worker thread: the service (this process's or another's) builds the new index in the background
while search keeps using the current model."""

from __future__ import annotations

import logging
import time
from collections import deque
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from kenning.embed import EmbedderSettings
from kenning.engine import Engine, FolderInfo
from kenning.errors import KenningError
from kenning.gui.background_task import BackgroundTask
from kenning.gui.settings import Settings
from kenning.index import IndexSettings
from kenning.service import Service, ServiceStatus, read_status, set_paused
from kenning.switch import SwitchState

log = logging.getLogger(__name__)

POLL_MS = 500
RATE_WINDOW_S = 20.0  # files/s is measured over this much recent history
COUNTS_MAX_AGE_S = 5.0  # folder and file counts are re-read at most this often while nothing changes
SWITCH_MAX_AGE_S = 1.0  # a model switch's progress (a count of every passage) at most this often


def engine_for(data_dir: Path, settings: Settings) -> Engine:
    """An Engine configured from the user's settings."""
    return Engine(
        data_dir=data_dir,
        model=settings.model,
        embedder_settings=embedder_settings(settings),
        index_settings=IndexSettings(chunk_tokens=settings.chunk_tokens),
    )


def embedder_settings(settings: Settings) -> EmbedderSettings:
    return EmbedderSettings(gpu=settings.gpu, threads=settings.threads)


class ServiceLink(QObject):
    changed = Signal(object)  # ServiceStatus, or None when nothing indexes
    folders_changed = Signal()
    index_updated = Signal()  # files were indexed or removed since the last poll
    switch_started = Signal(object)  # SwitchState: a model switch the user asked for is under way
    switch_failed = Signal(str)  # it could not start (or be cancelled): why
    model_changed = Signal(str)  # the index now uses this model (a switch completed)

    def __init__(self, data_dir: Path, settings: Settings | None = None, parent=None):
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self.settings = settings or Settings()
        self.engine = Engine(data_dir=self.data_dir)  # UI thread only; never loads the model
        self.service: Service | None = None
        self._counts: tuple[float, list[FolderInfo], int] | None = None
        self._done_samples: deque[tuple[float, int]] = deque()
        self.files_per_s = 0.0
        self.error = ""  # why this process does not run the service, if it does not
        self.status: ServiceStatus | None = None
        self.index_model: str | None = None  # the model the index uses (search uses it)
        self.model_switch: SwitchState | None = None  # a switch to another model, while pending
        self._switch_read = 0.0
        self._tasks: list[BackgroundTask] = []
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self.service is None:
            engine = engine_for(self.data_dir, self.settings)  # the service's; used in its thread
            try:
                self.service = Service(self.data_dir, engine=engine)
                self.service.start()
                self.error = ""
            except KenningError as exc:  # another Kenning service holds the lock: follow it
                engine.close()
                self.service, self.error = None, str(exc)
                log.info("not running the indexing service: %s", exc)
        self._timer.start()
        self.poll()

    def stop(self) -> None:
        """Stop indexing in this process (the tray's Quit, or the status view's Stop)."""
        if self.service is not None:
            service, self.service = self.service, None
            service.stop()
            try:
                service.engine.close()
            except KenningError:  # it never got as far as opening its engine
                pass
        self.poll()

    def apply_settings(self, settings: Settings, reembed: bool = False) -> None:
        """Restart the service with new settings; `reembed` reads every file again (a new
        passage size only applies to files indexed after it is set)."""
        self.settings = settings
        running = self.service is not None
        self.stop()
        if reembed:
            for folder in self.folders():
                self.engine.remove_folder(Path(folder.path))
                self.engine.add_folder(Path(folder.path), folder.exclude)
            self._changed(folders=True)
        if running:
            self.start()

    def shutdown(self) -> None:
        self._timer.stop()
        for task in list(self._tasks):
            task.wait()
        self.stop()
        self.engine.close()

    @property
    def running_here(self) -> bool:
        return self.service is not None

    # -- status -------------------------------------------------------------------------------

    def poll(self) -> None:
        previous = self.status
        if self.service is not None:
            self.status = self.service.snapshot()
        else:
            try:
                self.status = read_status(self.engine.store)
            except Exception as exc:  # a damaged status record must not stop the GUI
                log.debug("cannot read the service status: %s", exc)
                self.status = None
        self._read_switch()
        self._measure_rate()
        if self.status is not None and previous is not None and (
            self.status.done != previous.done or (previous.state == "indexing" and self.status.state == "idle")
        ):
            self._changed()
        self.changed.emit(self.status)

    def _read_switch(self) -> None:
        store = self.engine.store
        try:
            model, target = store.model_name, store.switch_target()
        except Exception as exc:  # the database is busy or damaged: keep what we knew
            log.debug("cannot read the model switch: %s", exc)
            return
        if model != self.index_model:
            previous, self.index_model = self.index_model, model
            if previous is not None and model:
                self.model_changed.emit(model)
                self._changed()
        if target is None:
            self.model_switch = None
            return
        now, known = time.monotonic(), self.model_switch
        if known is None or (known.model, known.dimensions) != target or now - self._switch_read >= SWITCH_MAX_AGE_S:
            self._switch_read = now
            self.model_switch = self.engine.switch.state()

    def _measure_rate(self) -> None:
        """Files per second from recent snapshots, and a time left from it when the service
        reports none (it knows the rate only within a batch)."""
        status, now = self.status, time.monotonic()
        if status is None or status.state != "indexing":
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
        if not status.eta_s and self.files_per_s and status.queued:
            status.eta_s = status.queued / self.files_per_s

    def _changed(self, folders: bool = False) -> None:
        self._counts = None
        if folders:
            self.folders_changed.emit()
        self.index_updated.emit()

    def state(self) -> str:
        return self.status.state if self.status else "stopped"

    def pause(self) -> None:
        if self.service is not None:
            self.service.pause()
        else:
            set_paused(self.data_dir, True)
        self.poll()

    def resume(self) -> None:
        if self.service is not None:
            self.service.resume()
        else:
            set_paused(self.data_dir, False)
        self.poll()

    # -- folders ------------------------------------------------------------------------------

    def _read_counts(self) -> tuple[list[FolderInfo], int]:
        # The window asks on every status poll; counting a large index each time would be waste.
        now = time.monotonic()
        if self._counts is None or now - self._counts[0] > COUNTS_MAX_AGE_S:
            self._counts = (now, self.engine.folders(), self.engine.status().files_indexed)
        return self._counts[1], self._counts[2]

    def folders(self) -> list[FolderInfo]:
        return list(self._read_counts()[0])

    def files_indexed(self) -> int:
        return self._read_counts()[1]

    def failures(self) -> list[tuple[str, str, str]]:
        """(path, status, reason) of every file that could not be indexed."""
        return self.engine.failures()

    def add_folder(self, path: str, exclude: tuple[str, ...] = ()) -> str:
        folder = self.engine.add_folder(Path(path), tuple(exclude))
        self._changed(folders=True)
        return folder

    def remove_folder(self, path: str) -> int:
        removed = self.engine.remove_folder(Path(path))
        self._changed(folders=True)
        return removed

    def set_exclude(self, path: str, patterns: tuple[str, ...]) -> None:
        self.engine.set_folder_exclude(Path(path), tuple(patterns))
        self._changed(folders=True)

    def retry(self, path: str) -> None:
        self.engine.retry(Path(path))
        self._changed(folders=True)

    # -- switching models ---------------------------------------------------------------------

    def switch_model(self, name: str, dimensions: int | None = None) -> BackgroundTask:
        """Start building the index for `name` beside the current one. Loading the new model
        (which checks it, and the vector size) takes a moment, so it happens in a worker thread;
        `switch_started` or `switch_failed` follow. The service does the rest between file
        changes; search keeps using the current model until the new index is complete."""
        data_dir, settings = self.data_dir, embedder_settings(self.settings)

        def work(say):
            with Engine(data_dir=data_dir, embedder_settings=settings) as engine:
                return engine.switch_model(name, dimensions)

        return self._run(work, self.switch_started.emit)

    def cancel_switch(self) -> BackgroundTask:
        """Drop the index being built for another model; the current one is never touched."""
        data_dir = self.data_dir

        def work(say):
            with Engine(data_dir=data_dir) as engine:
                state = engine.switch.state()
                engine.cancel_model_switch()
                return state

        return self._run(work, lambda state: None)

    def _run(self, work, on_success) -> BackgroundTask:
        """Run `work` in a worker thread, then refresh and report."""
        task = BackgroundTask(work)  # no parent: a deleteLater on a child of a dying link crashes PySide
        self._tasks.append(task)

        def finished(ok: bool, value) -> None:
            task.wait()  # `finished` comes just before the thread really ends
            self._tasks.remove(task)
            task.deleteLater()
            self._switch_read = 0.0  # show the new state at once
            self.poll()
            if ok:
                on_success(value)
            else:
                self.switch_failed.emit(str(value))

        task.succeeded.connect(lambda value: finished(True, value))
        task.failed.connect(lambda message: finished(False, message))
        task.start()
        return task
