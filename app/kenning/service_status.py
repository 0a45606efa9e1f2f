"""What the indexing service publishes about itself, and the lock that makes it the one writer of
a data directory. Kept apart from `service.py` so the engine can read them without the service."""

from __future__ import annotations

import errno
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import TextIO

from kenning.errors import KenningError


class ServiceState(str, Enum):
    STARTING = "starting"
    IDLE = "idle"
    INDEXING = "indexing"
    SWITCHING = "switching"  # building the index for another model
    PAUSED = "paused"
    ERROR = "error"
    STOPPED = "stopped"

    def __str__(self) -> str:
        return self.value


@dataclass
class ServiceStatus:
    """What the service is doing, as one model that the GUI's status bar, status view and tray,
    and `kenning status [--json]`, all show (see `describe`)."""

    state: ServiceState = ServiceState.STARTING
    queued: int = 0  # files waiting to be read
    done: int = 0  # files read since the service started
    failed: int = 0
    current: str = ""
    chunks_per_s: float = 0.0
    eta_s: float | None = None  # until everything is searchable by meaning, from the measured rates
    phase: str = ""  # keywords (reading files) | ocr (scanned pages) | meaning (embedding) | switching | ""
    files_done: int = 0  # of the files read in this run (the start-up catch-up, a batch of changes);
    files_total: int = 0  # in the OCR phase, the pages read of the current file
    passages_done: int = 0  # embedded since the service started
    passages_waiting: int = 0  # passages still without a vector (found by their words meanwhile)
    passages_per_s: float = 0.0  # the embedding rate, measured over the last minute
    message: str = ""
    polled_folders: dict[str, str] = field(default_factory=dict)
    heartbeat: float = 0.0
    pid: int = 0

    def to_json(self) -> dict:
        return asdict(self) | {"state": self.state.value}

    @classmethod
    def from_json(cls, text: str) -> ServiceStatus:
        data = json.loads(text)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known | {"state": ServiceState(known.get("state", "starting"))})

    def copy(self) -> ServiceStatus:
        return ServiceStatus(**asdict(self) | {"state": self.state, "polled_folders": dict(self.polled_folders)})


def describe(status: ServiceStatus | None) -> str:
    """The service's work in one line, the same wherever it is shown, e.g. "Indexing: reading
    files, 120 of 400 · 1,200 passages to embed · 31 passages/s · about 3 minutes left"."""
    if status is None:
        return "Indexing is off"
    state = status.state.value if isinstance(status.state, ServiceState) else str(status.state)
    if state == "indexing":
        if status.phase == "meaning":
            parts = [f"Indexing: embedding passages, {status.passages_waiting:,} to go"]
        elif status.phase == "ocr":
            name = os.path.basename(status.current) or "a scanned file"
            parts = [f"Indexing: reading scanned pages (OCR), {name}, page {status.files_done:,} of {status.files_total:,}"
                     if status.files_total else f"Indexing: reading scanned pages (OCR), {name}"]
            if status.passages_waiting:
                parts.append(f"{status.passages_waiting:,} passages to embed")
        elif status.files_total:
            parts = [f"Indexing: reading files, {status.files_done:,} of {status.files_total:,}"]
            if status.passages_waiting:
                parts.append(f"{status.passages_waiting:,} passages to embed")
        else:
            parts = [f"Indexing: {status.done:,} files done"]
        if status.queued and status.phase != "keywords":
            parts.append(f"{status.queued:,} files to go")
        rate = status.passages_per_s if status.phase == "meaning" else status.chunks_per_s
        if rate:
            parts.append(f"{rate:.0f} passages/s")
        if status.eta_s:
            parts.append(f"{duration(status.eta_s)} left")
        return " · ".join(parts)
    if state == "switching":  # "building the index for X: n of m passages"
        return status.message[:1].upper() + status.message[1:] if status.message else "Switching models"
    if state == "paused":
        waiting = [f"{status.queued:,} files" if status.queued else "",
                   f"{status.passages_waiting:,} passages" if status.passages_waiting else ""]
        waiting = [w for w in waiting if w]
        return f"Indexing paused ({' and '.join(waiting)} waiting)" if waiting else "Indexing paused"
    if state == "error":
        return f"Indexing stopped: {status.message}"
    if state == "starting":
        return "Starting…"
    if state == "stopped":
        return "Indexing stopped"
    failed = f" · {status.failed:,} could not be read" if status.failed else ""
    return f"Up to date{failed}"


def progress_of(status: ServiceStatus | None) -> tuple[int, int]:
    """(done, total) of the phase under way, for a progress bar; (0, 0) when it has no measure."""
    if status is None:
        return 0, 0
    if status.phase == "meaning":
        return status.passages_done, status.passages_done + status.passages_waiting
    if status.phase in ("keywords", "ocr") and status.files_total:
        return status.files_done, status.files_total
    return (status.done, status.done + status.queued) if status.queued else (0, 0)


def duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return "less than a minute"
    if seconds < 3600:
        minutes = round(seconds / 60)
        return f"about {minutes} minute{'s' if minutes != 1 else ''}"
    return f"about {seconds // 3600} h {seconds % 3600 // 60:02d} min"


class ReadOnlyDataDir(KenningError):
    pass


class ServiceLock:
    """An exclusive lock on `<data>/service.lock`, released by the OS if the process dies."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "service.lock"
        self._file: TextIO | None = None
        self.unclean = False  # the last holder ended without releasing it (a crash, a kill)

    def acquire(self) -> None:
        descriptor = self._open()
        os.chmod(self.path, 0o600)  # also when an older Kenning made it under a looser umask
        handle = os.fdopen(descriptor, "r+")
        try:
            _flock(handle)
        except OSError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise KenningError(
                f"another Kenning service (pid {owner}) is already indexing {self.path.parent}; "
                "stop it first, or use `kenning pause`"
            ) from None
        handle.seek(0)
        self.unclean = bool(handle.read().strip())  # a clean release empties the file
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            raise ReadOnlyDataDir(
                f"the data folder {self.path.parent} cannot be written ({exc.strerror}): searching works, "
                "indexing needs it writable; check the disk, or choose another folder with --data-dir") from None

    def release(self) -> None:
        if self._file is not None:
            try:
                self._file.seek(0)
                self._file.truncate()
            except OSError:
                pass
            self._file.close()
            self._file = None

    def held_elsewhere(self) -> bool:
        probe = ServiceLock(self.path.parent)
        try:
            probe._lock_only()
        except ReadOnlyDataDir:
            return False  # no service can be indexing there
        except KenningError:
            return True
        probe._unlock_only()
        return False

    def _lock_only(self) -> None:
        """Take the lock without touching what the file says (to look, not to hold)."""
        descriptor = self._open()
        handle = os.fdopen(descriptor, "r+")
        try:
            _flock(handle)
        except OSError:
            handle.close()
            raise KenningError("held") from None
        self._file = handle

    def _unlock_only(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _flock(handle: TextIO) -> None:
    """An exclusive lock on `handle`, or OSError if another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
