"""Handing files to the desktop: open a file (at its page where a known viewer allows), show its
folder.

xdg-open, `open` and the Windows shell take no page number, so "open at page" works only through
viewers that take one on their command line (Linux: Evince, Okular, Zathura, qpdfview, when
installed); otherwise the file opens at its start, and the page is shown in Kenning's preview.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

from PySide6.QtCore import QUrl
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
    if page and path.lower().endswith(".pdf") and sys.platform.startswith("linux"):
        for program, arguments in PAGE_VIEWERS:
            executable = shutil.which(program)
            if executable:
                subprocess.Popen([executable, *arguments(page, path)], start_new_session=True,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                return True
    return open_url(file_url(path))


def open_containing_folder(path: str) -> bool:
    return open_url(file_url(str(Path(path).parent)))


def file_url(path: str) -> QUrl:
    """A file: URL for `path`, exact even when its name is not valid UTF-8 (percent-encoded bytes)."""
    if sys.platform == "win32":
        return QUrl.fromLocalFile(path)
    return QUrl.fromEncoded(b"file://" + urllib.parse.quote(os.fsencode(path)).encode("ascii"))
