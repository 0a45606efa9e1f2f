"""Handing files to the desktop: open a file, show its folder.

Opening "at a page" is not portable (xdg-open, `open` and the Windows shell take no page), so a
result opens its file; the page is shown in Kenning's preview and in the result row.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices


def open_url(url: QUrl) -> bool:
    return QDesktopServices.openUrl(url)


def open_file(path: str) -> bool:
    return open_url(QUrl.fromLocalFile(path))


def open_containing_folder(path: str) -> bool:
    return open_url(QUrl.fromLocalFile(str(Path(path).parent)))
