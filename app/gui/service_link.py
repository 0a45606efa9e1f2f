"""The GUI's one handle on indexing: runs the background `Service` (or, when another Kenning
process already holds the service lock, follows that one's published status), polls its status
with a QTimer, and manages folders through an Engine of its own (the service picks up folder
changes from the database)."""

from __future__ import annotations

import logging
import time
from collections import deque
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from kenning.embed import EmbedderSettings
from kenning.engine import Engine, FolderInfo
from kenning.errors import KenningError
from kenning.gui.settings import Settings
from kenning.index import IndexSettings
from kenning.service import Service, ServiceStatus, read_status, set_paused

log = logging.getLogger(__name__)

POLL_MS = 500
RATE_WINDOW_S = 20.0  # files/s is measured over this much recent history
COUNTS_MAX_AGE_S = 5.0  # folder and file counts are re-read at most this often while nothing changes


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
        self._measure_rate()
        if self.status is not None and previous is not None and (
            self.status.done != previous.done or (previous.state == "indexing" and self.status.state == "idle")
        ):
            self._changed()
        self.changed.emit(self.status)

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
