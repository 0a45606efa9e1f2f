"""Storage faults in plain words: a damaged database, a full disk, a data folder that cannot be
written. SQLite's errors become one clear line each, and a damaged index is moved aside (kept as a
backup) so that a new one can be built from the files, its folders restored from a small copy kept
beside the database."""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import apsw

from kenning.errors import DiskFull, IndexDamaged, IndexError_
from kenning.paths import atomic_output

log = logging.getLogger(__name__)

FOLDERS_BACKUP = "folders.json"
DAMAGED_PREFIX = "damaged-"
CHECK_FLAG = "check-index"  # left by whoever met damage, for the writer to check and rebuild

F = TypeVar("F", bound=Callable[..., Any])


def is_damage(exc: BaseException) -> bool:
    if isinstance(exc, (apsw.CorruptError, apsw.NotADBError)):
        return True
    # sqlite-vec reports an unreadable vector chunk as a plain SQL error.
    return isinstance(exc, apsw.SQLError) and "blob read error" in str(exc)


def translated(exc: apsw.Error, database: Path) -> Exception:
    """The KenningError that says what `exc` means for the index at `database`."""
    if is_damage(exc):
        flag_damage(database.parent)
        return IndexDamaged(
            f"the index {database} is damaged ({exc}); `kenning index` or the app's indexing moves it "
            "aside as a backup and rebuilds it from your files")
    if isinstance(exc, apsw.FullError):
        free = _free_bytes(database.parent)
        return DiskFull(f"the disk holding the index is full ({free / 1e6:.1f} MB free in {database.parent}); "
                        "free some space and indexing carries on where it stopped")
    if isinstance(exc, (apsw.ReadOnlyError, apsw.CantOpenError, apsw.PermissionsError)):
        return IndexError_(f"the index {database} cannot be written ({exc}): searching works, indexing needs "
                           "it writable; check the disk and the data folder's permissions, or choose another "
                           "one with --data-dir")
    return exc


@contextmanager
def storage_errors(database: Path):
    try:
        yield
    except apsw.Error as exc:
        error = translated(exc, database)
        if error is exc:
            raise
        raise error from exc


def translating(method: F) -> F:
    """Make a method of an object with a `database_path` raise plain-words errors."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with storage_errors(self.database_path):
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def flag_damage(data_dir: Path) -> None:
    try:
        (Path(data_dir) / CHECK_FLAG).touch()
    except OSError:
        pass


def damage_flagged(data_dir: Path) -> bool:
    return (Path(data_dir) / CHECK_FLAG).exists()


def clear_damage_flag(data_dir: Path) -> None:
    (Path(data_dir) / CHECK_FLAG).unlink(missing_ok=True)


def _free_bytes(folder: Path) -> int:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return 0


def move_aside(database: Path) -> Path:
    """Move a damaged database (and its journal files) into `damaged-<time>/` beside it."""
    backup = database.parent / f"{DAMAGED_PREFIX}{time.strftime('%Y%m%d-%H%M%S')}"
    backup.mkdir(mode=0o700, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        part = Path(str(database) + suffix)
        if part.exists():
            os.replace(part, backup / part.name)
    log.warning("moved the damaged index %s aside to %s", database, backup)
    return backup


def save_folders(data_dir: Path, folders: dict[str, list[str]], global_excludes: list[str],
                 model: tuple[str, int] | None) -> None:
    """A small copy of what the user chose (folders, exclusions, model), to rebuild from."""
    record = {"folders": folders, "exclude": global_excludes, "model": list(model) if model else None}
    with atomic_output(Path(data_dir) / FOLDERS_BACKUP) as tmp:
        tmp.write_text(json.dumps(record, ensure_ascii=True, indent=1), encoding="utf-8")


def load_folders(data_dir: Path) -> tuple[dict[str, list[str]], list[str], tuple[str, int] | None]:
    try:
        record = json.loads((Path(data_dir) / FOLDERS_BACKUP).read_text(encoding="utf-8"))
        model = tuple(record["model"]) if record.get("model") else None
        return dict(record.get("folders", {})), list(record.get("exclude", [])), model
    except (OSError, ValueError, TypeError, KeyError):
        return {}, [], None
