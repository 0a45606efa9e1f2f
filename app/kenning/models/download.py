"""Fetching a model file the user asked for: streamed, resumable, checked against a pinned sha256
before anything uses it, and moved into place atomically.

The partial file (`<name>.download`) stays beside the target after an interruption, so running
the same download again continues where it stopped. Nothing here runs unless the user asks.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kenning import __version__
from kenning.errors import ModelError

BLOCK = 1 << 16
SPARE_BYTES = 32 << 20  # keep this much free beside a download


class DownloadError(ModelError):
    """A download failed; the message says why and whether running it again resumes."""


class DownloadCancelled(DownloadError):
    pass


@dataclass(frozen=True)
class DownloadProgress:
    done: int
    total: int


def partial_path(target: Path) -> Path:
    return target.with_name(target.name + ".download")


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _opener(proxy: str | None) -> urllib.request.OpenerDirector:
    # Without an explicit proxy, urllib's default handler honours HTTP(S)_PROXY and NO_PROXY.
    handler = urllib.request.ProxyHandler({"http": proxy, "https": proxy} if proxy else None)
    return urllib.request.build_opener(handler)


def _hash_existing(path: Path) -> hashlib._Hash:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest


def download(
    url: str,
    target: Path,
    sha256: str,
    size: int,
    progress: Callable[[DownloadProgress], None] | None = None,
    proxy: str | None = None,
    timeout: float = 30.0,
    should_stop: Callable[[], bool] | None = None,
) -> Path:
    """Download `url` to `target`, resuming a partial file; returns `target` once its sha256 matches."""
    target = Path(target)
    part = partial_path(target)
    host = url.split("/")[2] if "//" in url else url
    have = part.stat().st_size if part.exists() else 0
    if have > size:
        part.unlink()
        have = 0
    free = shutil.disk_usage(target.parent).free
    if free < size - have + SPARE_BYTES:
        raise DownloadError(
            f"not enough disk space in {target.parent}: {_megabytes(size - have)} to download, "
            f"{_megabytes(free)} free"
        )
    headers = {"User-Agent": f"Kenning/{__version__}"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = _opener(proxy).open(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have == size:  # already complete: only the check is left
            return _finish(part, target, _hash_existing(part), sha256, url)
        raise DownloadError(f"{url}: the server answered HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(
            f"cannot reach {host} ({reason}); check the network connection or the proxy setting"
        ) from exc
    with response:
        if have and response.status != 206:
            have = 0  # the server ignored the range: start over
        digest = _hash_existing(part) if have else hashlib.sha256()
        done = have
        try:
            with open(part, "ab" if have else "wb") as out:
                os.chmod(part, 0o600)
                while block := response.read(BLOCK):
                    if should_stop and should_stop():
                        raise DownloadCancelled(
                            f"download of {target.name} stopped at {_megabytes(done)}; run it again to resume"
                        )
                    out.write(block)
                    digest.update(block)
                    done += len(block)
                    if progress:
                        progress(DownloadProgress(done, size))
        except (TimeoutError, http.client.HTTPException, ConnectionError) as exc:
            raise _cut_off(target, done, size, exc) from exc
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DownloadError(
                    f"the disk holding {target.parent} is full ({_megabytes(done)} of "
                    f"{_megabytes(size)} written); free some space and run it again to resume"
                ) from exc
            raise _cut_off(target, done, size, exc) from exc
    if done != size:
        raise _cut_off(target, done, size, "the connection closed early")
    return _finish(part, target, digest, sha256, url)


def _cut_off(target: Path, done: int, size: int, why) -> DownloadError:
    return DownloadError(
        f"the download of {target.name} was cut off at {_megabytes(done)} of {_megabytes(size)} "
        f"({why}); run it again to resume"
    )


def _finish(part: Path, target: Path, digest, sha256: str, url: str) -> Path:
    actual = digest.hexdigest()
    if actual != sha256:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"{url}: the file's sha256 is {actual}, not the pinned {sha256}; it was discarded"
        )
    with open(part, "rb") as f:
        os.fsync(f.fileno())
    os.replace(part, target)
    return target


def download_folder(
    base_url: str,
    files: tuple[tuple[str, str, int], ...],
    folder: Path,
    progress: Callable[[DownloadProgress], None] | None = None,
    proxy: str | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Path:
    """Download (name, sha256, bytes) files from `base_url` into `folder`; a file already there
    and verified is kept, so an interrupted folder download resumes file by file."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    total = sum(size for _, _, size in files)
    done_before = 0
    for name, sha256, size in files:
        target = folder / name
        if not (target.is_file() and _hash_existing(target).hexdigest() == sha256):
            def report(p: DownloadProgress, offset: int = done_before) -> None:
                if progress:
                    progress(DownloadProgress(offset + p.done, total))

            download(f"{base_url}/{name}", target, sha256, size, report, proxy, should_stop=should_stop)
        done_before += size
        if progress:
            progress(DownloadProgress(done_before, total))
    return folder
