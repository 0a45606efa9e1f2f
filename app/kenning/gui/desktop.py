"""Handing files to the desktop: open a file (at its page where a known viewer allows), show its
folder.

xdg-open, `open` and the Windows shell take no page number, so "open at page" works only through
viewers that take one on their command line (Linux: Evince, Okular, Zathura, qpdfview, when
installed); otherwise the file opens at its start, and the page is shown in Kenning's preview.

On Linux, xdg-open starts (so Qt reports success) even when no application handles the file's
type, then fails quietly; `xdg-mime` says beforehand whether one does, so the app can say so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

from PySide6.QtCore import QMimeDatabase, QUrl
from PySide6.QtGui import QDesktopServices

PAGE_VIEWERS = (  # program, arguments (page, path)
    ("evince", lambda page, path: ["-p", str(page), path]),
    ("okular", lambda page, path: ["-p", str(page), path]),
    ("zathura", lambda page, path: ["-P", str(page), path]),
    ("qpdfview", lambda page, path: [f"{path}#{page}"]),
)


def open_url(url: QUrl) -> bool:
    return QDesktopServices.openUrl(url)


def open_file(path: str, page: int | None = None) -> bool:
    """Open `path` in the desktop's application for it; False when there is none."""
    if page and path.lower().endswith(".pdf") and sys.platform.startswith("linux"):
        for program, arguments in PAGE_VIEWERS:
            executable = shutil.which(program)
            if executable:
                subprocess.Popen([executable, *arguments(page, path)], start_new_session=True,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                return True
    return has_application(path) and open_url(file_url(path))


def has_application(path: str) -> bool:
    """Whether the desktop has an application for this file's type (always True where it cannot tell)."""
    xdg_mime = shutil.which("xdg-mime") if sys.platform.startswith("linux") else None
    if xdg_mime is None:
        return True
    mime = QMimeDatabase().mimeTypeForFile(path).name()
    try:
        answer = subprocess.run([xdg_mime, "query", "default", mime], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return True
    return answer.returncode != 0 or bool(answer.stdout.strip())


def open_containing_folder(path: str) -> bool:
    return open_url(file_url(str(Path(path).parent)))


def file_url(path: str) -> QUrl:
    """A file: URL for `path`, exact even when its name is not valid UTF-8 (percent-encoded bytes)."""
    if sys.platform == "win32":
        return QUrl.fromLocalFile(path)
    return QUrl.fromEncoded(b"file://" + urllib.parse.quote(os.fsencode(path)).encode("ascii"))
