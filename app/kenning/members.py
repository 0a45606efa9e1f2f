"""Archives and mailboxes: each member is indexed as a file of its own, and opened or previewed
from a private copy.

Indexing: the extraction child unpacks the members worth reading into a private scratch folder
(within the archive limits: a bomb is refused as a whole), reads each one like any file, then the
archive and all its members are stored in one transaction. Nested archives are opened to a depth
limit, sharing the outer archive's limits. Opening: the one member is unpacked again, in the child,
into a private folder of copies that is emptied of old copies as new ones are made.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from kenning import extract
from kenning.extract import ExtractionError, UnsupportedFile
from kenning.extract.containers import (
    MEMBER_SEPARATOR,
    UnpackLimits,
    is_container,
    split_member,
    unpack,
    unpack_one,
)
from kenning.passages import ChunkPlan, FilePassages, read_passages
from kenning.paths import private_dir
from kenning.sandbox import ExtractionSandbox
from kenning.settings import IndexSettings
from kenning.store import FileStatus, NewChunk, NewMember

log = logging.getLogger(__name__)

UNPACK_BYTES_PER_S = 20e6  # the unpacking time limit grows with the archive's size, at this rate
COPIES_KEPT_S = 24 * 3600.0  # copies made to open a member are removed after a day


def limits_of(settings: IndexSettings) -> UnpackLimits:
    return UnpackLimits(int(settings.max_archive_mb * 2**20), settings.max_archive_files,
                        int(settings.max_file_mb * 2**20))


@dataclass
class ContainerContents:
    members: list[NewMember] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was left out, and why

    @property
    def note(self) -> str | None:
        return "; ".join(dict.fromkeys(self.notes)) or None


def read_container(sandbox: ExtractionSandbox, path: str, mtime: float, settings: IndexSettings, plan: ChunkPlan,
                   scratch_root: Path) -> ContainerContents:
    """Every readable member of the archive or mailbox at `path`, read in the sandbox's child;
    ExtractionError when the container itself cannot be read (damaged, a bomb, encrypted)."""
    contents = ContainerContents()
    limits = limits_of(settings)
    scratch = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=private_dir(scratch_root)))
    try:
        pending: list[tuple[str, list[str], int]] = [(path, [], 0)]  # a file on disk, its names, its depth
        folders = itertools.count()
        while pending:
            disk_path, names, depth = pending.pop(0)
            into = scratch / str(next(folders))
            try:
                timeout = settings.timeout_s + os.path.getsize(disk_path) / UNPACK_BYTES_PER_S
                unpacked = sandbox.call_within(timeout, unpack, disk_path, str(into), limits)
            except ExtractionError as exc:
                if not names:
                    raise
                contents.members.append(_failed(path, names, mtime, str(exc)))
                continue
            for item in unpacked:
                inner = [*names, item.name]
                if is_container(Path(item.name)):
                    if depth + 1 < settings.max_archive_depth:
                        pending.append((item.path, inner, depth + 1))
                    else:
                        contents.notes.append(f"archives nested deeper than {settings.max_archive_depth} levels "
                                              "are not opened")
                    continue
                contents.members.append(_read_member(sandbox, path, inner, item, mtime, plan))
                os.remove(item.path)  # the scratch folder never holds more than the member in hand
            limits = replace(limits, max_bytes=limits.max_bytes - sum(i.size for i in unpacked),
                             max_members=limits.max_members - len(unpacked))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return contents


def _read_member(sandbox: ExtractionSandbox, container: str, names: list[str], item, mtime: float,
                 plan: ChunkPlan) -> NewMember:
    file_type = extract.file_type(Path(item.path))
    member_mtime = item.mtime or mtime
    try:
        passages: FilePassages = sandbox.call(read_passages, item.path, plan)
    except (ExtractionError, UnsupportedFile) as exc:
        return NewMember(path_of(container, names), file_type, item.size, member_mtime, FileStatus.FAILED, str(exc))
    status, error = FileStatus.INDEXED, passages.note
    if passages.empty:
        status, error = FileStatus.EMPTY, "no text found (scanned pages inside archives are not read by OCR)"
    chunks = [NewChunk(k.ordinal, k.page, k.char_start, k.char_end, k.text) for k in passages.chunks]
    return NewMember(path_of(container, names), file_type, item.size, member_mtime, status, error,
                     passages.title, passages.author, chunks)


def _failed(container: str, names: list[str], mtime: float, reason: str) -> NewMember:
    return NewMember(path_of(container, names), extract.file_type(Path(names[-1])), 0, mtime, FileStatus.FAILED,
                     reason)


def path_of(container: str, names: list[str]) -> str:
    """`container › outer name › inner name`, as the index and results name a member."""
    return MEMBER_SEPARATOR.join([container, *(name.replace(MEMBER_SEPARATOR, " > ") for name in names)])


def clear_scratch(scratch_root: Path) -> None:
    """Remove what an indexer killed half-way through an archive left behind (a folder named after
    a process that is gone)."""
    if not scratch_root.is_dir():
        return
    for entry in scratch_root.iterdir():
        owner = entry.name.split("-", 1)[0]
        if not owner.isdigit() or not _alive(int(owner)):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process (PermissionError), or no way to ask
        return True
    return True


class MemberCopies:
    """Private copies of members, for opening them in their application or previewing them."""

    def __init__(self, data_dir: Path, sandbox: ExtractionSandbox, settings: IndexSettings | None = None):
        self.root = Path(data_dir) / "opened"
        self.sandbox = sandbox
        self.settings = settings or IndexSettings()

    def local_path(self, path: str) -> str:
        """`path` itself for a file on disk; for a member, a private copy of it (made once)."""
        found = split_member(path)
        if found is None or os.path.exists(path):
            return path
        container, names = found
        key = hashlib.blake2b(f"{path}\0{os.path.getmtime(container)}".encode("utf-8", "surrogateescape"),
                              digest_size=12).hexdigest()
        folder = self.root / key
        done = folder / ".complete"
        if done.exists():
            return done.read_text(encoding="utf-8", errors="surrogateescape")
        self._forget_old_copies()
        shutil.rmtree(folder, ignore_errors=True)
        private_dir(folder)
        current: str = container
        limits = limits_of(self.settings)
        for depth, name in enumerate(names):
            step = folder / str(depth)
            timeout = self.settings.timeout_s + os.path.getsize(current) / UNPACK_BYTES_PER_S
            current = self.sandbox.call_within(timeout, unpack_one, current, name, str(step), limits)
        done.write_text(current, encoding="utf-8", errors="surrogateescape")
        return current

    def _forget_old_copies(self) -> None:
        if not self.root.is_dir():
            private_dir(self.root)
            return
        cutoff = time.time() - COPIES_KEPT_S
        for entry in self.root.iterdir():
            try:
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry, ignore_errors=True)
            except OSError:
                continue
