"""Where Kenning keeps its data, and creating it privately (dir 0700, files 0600)."""

from __future__ import annotations

import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path

import platformdirs

APP_NAME = "Kenning"


def default_data_dir() -> Path:
    override = os.environ.get("KENNING_DATA_DIR")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) readable by the user alone."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(path, 0o700)
    except OSError:
        if os.access(path, os.W_OK):
            raise
        # a read-only disk: the folder keeps the mode it was given when it was made
    return path


@contextmanager
def atomic_output(final: Path):
    """Yield a temporary path beside `final`; move it into place only if the block succeeds.

    A crash or an exception leaves `final` untouched (absent or old) and no temporary behind,
    so a half-written file is never used.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o600)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


# -- file names that are not valid UTF-8 ----------------------------------------------------------
#
# On Linux a file name is bytes; Python hands undecodable bytes over as lone surrogates
# (U+DC80-U+DCFF, "surrogateescape"), which SQLite's UTF-8 text cannot hold. In the database such
# a surrogate is written as a character of the last private-use plane (U+10F000 + its offset from
# U+D800), and a real character of that small range is written with ESCAPE in front, so the
# mapping is lossless both ways and leaves every ordinary name as it is.

_SURROGATES = (0xD800, 0xDFFF)
_MAPPED = 0x10F000
_ESCAPE = chr(0x10F800)
_ODD = re.compile("[\ud800-\udfff\U0010f000-\U0010f800]")


class SharedRoots:
    """Folders of a shared drive, each mounted here at a local path and known to a shared index
    by one name that every machine uses: paths under a local root are stored under its name
    (with / between the parts), and read back under the local root."""

    def __init__(self, roots: dict[str, str] | None = None, sep: str = os.sep):
        self.sep = sep
        self.roots = [(local.rstrip("/\\") or local, shared.rstrip("/") or shared) for local, shared in (roots or {}).items()]

    def shared(self, path: str) -> str:
        for local, name in self.roots:
            rest = _below(path, local, self.sep)
            if rest is not None:
                return name + rest.replace(self.sep, "/")
        return path

    def separator(self, text: str) -> str:
        """The separator between the parts of the stored path `text`."""
        return "/" if any(_below(text, name, "/") is not None for _, name in self.roots) else self.sep

    def local(self, text: str) -> str:
        for local, name in self.roots:
            rest = _below(text, name, "/")
            if rest is not None:
                return local + rest.replace("/", self.sep)
        return text


def _below(path: str, root: str, sep: str) -> str | None:
    """What follows `root` in `path` ("" for the root itself, "<sep>..." below it), or None."""
    if path == root:
        return ""
    if path.startswith(root) and (path[len(root)] == sep or root.endswith(sep)):
        return path[len(root):]
    return None


def stored_path(path: str) -> str:
    """`path` as the database keeps it (valid UTF-8, however odd the name)."""
    if not _ODD.search(path):
        return path
    out = []
    for ch in path:
        code = ord(ch)
        if _SURROGATES[0] <= code <= _SURROGATES[1]:
            out.append(chr(_MAPPED + code - _SURROGATES[0]))
        elif _MAPPED <= code <= _MAPPED + 0x800:
            out.append(_ESCAPE + ch)
        else:
            out.append(ch)
    return "".join(out)


def real_path(text: str) -> str:
    """The path `stored_path` wrote as `text`, exactly as the operating system names it."""
    if not _ODD.search(text):
        return text
    out, literal = [], False
    for ch in text:
        code = ord(ch)
        if literal:
            out.append(ch)
            literal = False
        elif ch == _ESCAPE:
            literal = True
        elif _MAPPED <= code < _MAPPED + 0x800:
            out.append(chr(_SURROGATES[0] + code - _MAPPED))
        else:
            out.append(ch)
    return "".join(out)


def readable_path(path: str) -> str:
    """`path` for people: undecodable bytes shown as U+FFFD instead of failing to print."""
    if not _ODD.search(path):
        return path
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace") if os.name != "nt" else \
        path.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def is_inside(path: str, folder: str) -> bool:
    """Whether `path` lies below `folder` (both absolute; not the folder itself)."""
    return path.startswith(folder.rstrip(os.sep) + os.sep)
