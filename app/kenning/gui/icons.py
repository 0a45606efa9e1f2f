"""Icons: the app and tray icons (SVG files in resources/icons) and file-kind icons drawn here,
so they stay sharp at any scale and need no theme."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import QApplication, QStyle

from kenning.gui.file_kinds import FileKind

ICON_DIR = Path(__file__).resolve().parents[2] / "resources" / "icons"
TRAY_STATES = ("idle", "indexing", "paused", "error")


def _svg(name: str, fallback: QStyle.StandardPixmap) -> QIcon:
    path = ICON_DIR / f"{name}.svg"
    if path.is_file():
        icon = QIcon(str(path))
        if not icon.isNull():
            return icon
    return QApplication.style().standardIcon(fallback)


@cache
def app_icon() -> QIcon:
    return _svg("kenning", QStyle.StandardPixmap.SP_FileDialogContentsView)


@cache
def tray_icon(state: str) -> QIcon:
    name = state if state in TRAY_STATES else "idle"
    return _svg(f"tray-{name}", QStyle.StandardPixmap.SP_FileDialogContentsView)


def paint_file_icon(painter: QPainter, rect: QRectF, kind: FileKind) -> None:
    """A page with a folded corner and a coloured band naming the kind ("PDF", "DOC")."""
    w, h = rect.width(), rect.height()
    page_w = min(w, h * 0.8)
    left = rect.left() + (w - page_w) / 2
    page = QRectF(left, rect.top(), page_w, h)
    fold = page_w * 0.3
    outline = QPainterPath()
    outline.moveTo(page.left(), page.top())
    outline.lineTo(page.right() - fold, page.top())
    outline.lineTo(page.right(), page.top() + fold)
    outline.lineTo(page.right(), page.bottom())
    outline.lineTo(page.left(), page.bottom())
    outline.closeSubpath()
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QColor(0, 0, 0, 70))
    painter.setBrush(QColor("#fbfbfb"))
    painter.drawPath(outline)
    corner = QPainterPath()
    corner.moveTo(page.right() - fold, page.top())
    corner.lineTo(page.right() - fold, page.top() + fold)
    corner.lineTo(page.right(), page.top() + fold)
    corner.closeSubpath()
    painter.setBrush(QColor("#dcdcdc"))
    painter.drawPath(corner)
    band = QRectF(page.left() - page_w * 0.08, page.top() + h * 0.52, page_w * 0.92, h * 0.3)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(kind.colour))
    painter.drawRoundedRect(band, 2, 2)
    font = QFont(painter.font())
    font.setBold(True)
    font.setPixelSize(max(6, int(band.height() * (0.62 if len(kind.badge) <= 3 else 0.52))))
    painter.setFont(font)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(band, Qt.AlignmentFlag.AlignCenter, kind.badge)
    painter.restore()


@cache
def file_icon(kind: FileKind, size: int = 32) -> QIcon:
    """The kind's icon as a QIcon (for combo boxes and lists), drawn at 1x and 2x."""
    icon = QIcon()
    for scale in (1, 2):
        pixmap = QPixmap(size * scale, size * scale)
        pixmap.setDevicePixelRatio(scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        paint_file_icon(painter, QRectF(1, 1, size - 2, size - 2), kind)
        painter.end()
        icon.addPixmap(pixmap)
    return icon
