"""Watching stage: file-system events → settled paths, ready to index.

watchdog reports creates, changes, deletes and moves. An editor's save storm becomes one entry:
events are coalesced per path and a path is handed on only when no event came for `quiet_s` and
its size and mtime held still over that time (so a file still being copied is not read half-way).
When the OS refuses more inotify watches, the folder is watched by polling instead, and said so.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch
from watchdog.observers.polling import PollingObserver

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    due: float
    signature: tuple[int, float] | None


def _signature(path: str) -> tuple[int, float] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_size, info.st_mtime


class Settler:
    """Coalesces events per path; `ready()` returns the paths that have settled."""

    def __init__(self, quiet_s: float = 0.3):
        self.quiet_s = quiet_s
        self._pending: dict[str, _Pending] = {}
        self._lock = threading.Lock()
        self.wakeup = threading.Event()

    def touch(self, path: str) -> None:
        with self._lock:
            self._pending[path] = _Pending(time.monotonic() + self.quiet_s, _signature(path))
        self.wakeup.set()

    def ready(self) -> list[str]:
        now = time.monotonic()
        settled = []
        with self._lock:
            for path, pending in list(self._pending.items()):
                if pending.due > now:
                    continue
                current = _signature(path)
                if current != pending.signature:  # still being written: look again later
                    pending.due, pending.signature = now + self.quiet_s, current
                    continue
                settled.append(path)
                del self._pending[path]
        return settled

    def next_due(self) -> float | None:
        with self._lock:
            return min((p.due for p in self._pending.values()), default=None)

    def __len__(self) -> int:
        return len(self._pending)


class _Handler(FileSystemEventHandler):
    def __init__(self, on_path: Callable[[str], None], on_move: Callable[[str, str], None]):
        self.on_path, self.on_move = on_path, on_move

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        source = os.fsdecode(event.src_path)
        if event.event_type == "moved":
            self.on_move(source, os.fsdecode(event.dest_path))
        elif event.is_directory and event.event_type == "deleted":
            self.on_path(source)  # the folder went: its files are looked up by prefix
        elif not event.is_directory:
            self.on_path(source)


def _count_dirs(folder: str) -> int:
    return 1 + sum(len(dirs) for _root, dirs, _files in os.walk(folder))


def inotify_headroom() -> int | None:
    """inotify watches this user may still add (Linux), or None where that cannot be known.

    The limit is per user, so the watches of every process of ours count."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        limit = int(Path("/proc/sys/fs/inotify/max_user_watches").read_text())
    except (OSError, ValueError):
        return None
    used, uid = 0, os.getuid()
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        try:
            if process.stat().st_uid != uid:
                continue
            for fd in (process / "fd").iterdir():
                if os.readlink(fd) == "anon_inode:inotify":
                    used += (process / "fdinfo" / fd.name).read_text().count("inotify wd:")
        except OSError:
            continue  # the process ended, or is not ours to read
    return limit - used


class FolderWatcher:
    """Watches folders recursively; falls back to polling per folder when inotify runs out."""

    def __init__(self, on_path: Callable[[str], None], on_move: Callable[[str, str], None], poll_s: float = 5.0):
        self.handler = _Handler(on_path, on_move)
        self.native = Observer()
        self.polling = PollingObserver(timeout=poll_s)
        self.watches: dict[str, ObservedWatch] = {}
        self.polled: dict[str, str] = {}  # folder -> why it is polled

    def start(self) -> None:
        self.native.start()
        self.polling.start()

    def watch(self, folder: str) -> None:
        if folder in self.watches:
            return
        # watchdog adds the watches for subfolders in its own thread, where running out is only
        # logged: so check the headroom first instead of trusting the absence of an error.
        needed, available = _count_dirs(folder), inotify_headroom()
        reason = None
        if available is not None and needed > available:
            reason = (f"the OS limit on watched folders would be exceeded ({needed} needed, "
                      f"{max(0, available)} left; raise fs.inotify.max_user_watches)")
        else:
            try:
                self.watches[folder] = self.native.schedule(self.handler, folder, recursive=True)
            except OSError as exc:
                reason = (
                    "the OS limit on watched folders is reached (raise fs.inotify.max_user_watches)"
                    if exc.errno in (28, 24) else f"native watching failed ({exc.strerror or exc})"
                )
        if reason:
            log.warning("%s: %s; polling it instead", folder, reason)
            self.watches[folder] = self.polling.schedule(self.handler, folder, recursive=True)
            self.polled[folder] = reason

    def unwatch(self, folder: str) -> None:
        watch = self.watches.pop(folder, None)
        if watch is None:
            return
        observer = self.polling if self.polled.pop(folder, None) else self.native
        try:
            observer.unschedule(watch)
        except (KeyError, OSError):
            pass

    def stop(self) -> None:
        for observer in (self.native, self.polling):
            observer.stop()
        for observer in (self.native, self.polling):
            if observer.is_alive():
                observer.join(5)
