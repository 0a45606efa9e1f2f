"""Archives: ZIP, TAR (plain, .gz, .bz2, .xz), 7z, and RAR where a decoder program is installed.

Run in the extraction child. `unpack` copies the members Kenning can read into a private folder,
each under a numbered folder of its own (a member's name never becomes a path outside it), counting
every byte written: an archive that unpacks to more than the limit, or holds more members than the
limit, is refused as a whole (a bomb), whatever sizes its headers claim.
"""

from __future__ import annotations

import functools
import shutil
import tarfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from kenning.extract.base import ExtractionError

COPY_BLOCK = 1 << 20
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz")
SUFFIXES = (".zip", *TAR_SUFFIXES, ".7z", ".rar")


@dataclass(frozen=True)
class UnpackLimits:
    max_bytes: int  # unpacked, all members together
    max_members: int
    max_member_bytes: int


@dataclass(frozen=True)
class Unpacked:
    name: str  # inside the archive, "/"-separated ("reports/2024/q1.pdf")
    path: str  # where it was copied
    size: int
    mtime: float | None


class UnpackBudget:
    def __init__(self, limits: UnpackLimits, kind: str):
        self.limits, self.kind, self.bytes, self.members = limits, kind, 0, 0

    def member(self, declared_size: int) -> bool:
        """Count one more member; False for one too large to read on its own (it is left out)."""
        self.members += 1
        if self.members > self.limits.max_members:
            raise ExtractionError(f"{self.kind} holds more than {self.limits.max_members:,} files; not read "
                                  "(raise the archive limits in the settings)")
        return declared_size <= self.limits.max_member_bytes

    def add(self, count: int) -> None:
        self.bytes += count
        if self.bytes > self.limits.max_bytes:
            raise ExtractionError(f"{self.kind} unpacks to more than {self.limits.max_bytes // 2**20:,} MB "
                                  "(an archive bomb?); not read")


def kind_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".zip"):
        return "ZIP archive"
    if name.endswith(".7z"):
        return "7z archive"
    if name.endswith(".rar"):
        return "RAR archive"
    return "TAR archive"


def unpack(path: Path, into: Path, wanted: Callable[[str], bool], limits: UnpackLimits) -> list[Unpacked]:
    """Copy the members whose names `wanted` accepts into `into`; ExtractionError for a damaged
    archive, one over the limits, or a RAR without a decoder."""
    kind = kind_of(path)
    budget = UnpackBudget(limits, kind)
    found: list[Unpacked] = []
    try:
        for name, size, mtime, open_member in _members(path, kind, limits):
            if not wanted(name) or not budget.member(size):
                continue
            target = into / str(len(found)) / safe_name(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            with open_member() as source, open(target, "wb") as out:
                _copy(source, out, budget)
            found.append(Unpacked(name, str(target), target.stat().st_size, mtime))
    except (ExtractionError, MemoryError, FileNotFoundError):
        raise
    except Exception as exc:  # BadZipFile, TarError, Bad7zFile, EOFError, zlib.error... for damage
        raise ExtractionError(f"damaged {kind} ({type(exc).__name__})") from exc
    return found


def unpack_one(path: Path, name: str, into: Path, limits: UnpackLimits) -> str:
    """Copy the one member called `name` into `into`; its path there."""
    found = unpack(path, into, lambda member: member == name, limits)
    if not found:
        raise ExtractionError(f"{name} is no longer in {path.name}")
    return found[0].path


def _copy(source: BinaryIO, out: BinaryIO, budget: UnpackBudget) -> None:
    while block := source.read(COPY_BLOCK):
        budget.add(len(block))
        out.write(block)


def safe_name(name: str) -> str:
    base = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    cleaned = "".join(ch if ch.isprintable() and ch not in '<>:"|?*' else "_" for ch in base).strip(" .")
    return cleaned[:150] or "member"


MemberEntry = tuple[str, int, float | None, Callable[[], Any]]  # name, size, mtime, open it


def _members(path: Path, kind: str, limits: UnpackLimits) -> Iterator[MemberEntry]:
    if kind == "ZIP archive":
        yield from _zip_members(path)
    elif kind == "7z archive":
        yield from _sevenzip_members(path, limits)
    elif kind == "RAR archive":
        yield from _rar_members(path)
    else:
        yield from _tar_members(path)


def _zip_members(path: Path) -> Iterator[MemberEntry]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir() or info.flag_bits & 0x1:  # encrypted members cannot be read
                continue
            mtime = time.mktime((*info.date_time, 0, 0, -1)) if info.date_time[0] >= 1980 else None
            yield info.filename, info.file_size, mtime, functools.partial(archive.open, info)


def _tar_members(path: Path) -> Iterator[MemberEntry]:
    with tarfile.open(path, "r:*") as archive:
        for member in archive:  # streamed: a compressed tar is read once, front to back
            if not member.isreg():
                continue
            source = archive.extractfile(member)
            if source is not None:
                yield member.name, member.size, float(member.mtime) or None, functools.partial(_same, source)


def _sevenzip_members(path: Path, limits: UnpackLimits) -> Iterator[MemberEntry]:
    import py7zr

    with py7zr.SevenZipFile(path) as archive:
        if archive.needs_password():
            raise ExtractionError("encrypted or password-protected 7z archive")
        infos = [info for info in archive.list() if not info.is_directory]
        # py7zr writes what it unpacks itself; 7z's headers hold the exact sizes its decoders produce.
        if sum(info.uncompressed for info in infos) > limits.max_bytes:
            raise ExtractionError(f"7z archive unpacks to more than {limits.max_bytes // 2**20:,} MB "
                                  "(an archive bomb?); not read")
        with _scratch() as scratch:
            archive.extract(path=scratch, targets=[info.filename for info in infos])
            for info in infos:
                copied = scratch / info.filename
                if copied.is_file():
                    mtime = info.creationtime.timestamp() if info.creationtime else None
                    yield info.filename, info.uncompressed, mtime, functools.partial(open, copied, "rb")


@contextmanager
def _scratch():
    """A private folder for py7zr (it writes members to disk itself)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="kenning-7z-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _rar_members(path: Path) -> Iterator[MemberEntry]:
    import rarfile

    if not rar_decoder():
        raise ExtractionError("RAR archive needs a decoder: install unrar, unar, 7z or bsdtar")
    with rarfile.RarFile(path) as archive:
        if archive.needs_password():
            raise ExtractionError("encrypted or password-protected RAR archive")
        for info in archive.infolist():
            if info.is_dir():
                continue
            mtime = time.mktime((*info.date_time, 0, 0, -1)) if info.date_time else None
            yield info.filename, info.file_size, mtime, functools.partial(archive.open, info)


def rar_decoder() -> str | None:
    """The program that can decode RAR here (rarfile uses the first it finds), or None."""
    return next((found for name in ("unrar", "unar", "7z", "bsdtar") if (found := shutil.which(name))), None)


def _same(source: IO[bytes]) -> IO[bytes]:
    return source


def is_archive(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)
