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
    state: ServiceState = ServiceState.STARTING
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
        return asdict(self) | {"state": self.state.value}

    @classmethod
    def from_json(cls, text: str) -> ServiceStatus:
        data = json.loads(text)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known | {"state": ServiceState(known.get("state", "starting"))})

    def copy(self) -> ServiceStatus:
        return ServiceStatus(**asdict(self) | {"state": self.state, "polled_folders": dict(self.polled_folders)})


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
