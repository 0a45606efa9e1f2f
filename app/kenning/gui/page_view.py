"""A rendered page, scaled to the pane's width (never narrower than is readable) and zoomable,
with the passage drawn over it as translucent highlight (the palette's highlight colour, so it
suits light and dark themes). Ctrl+wheel, Ctrl++ and Ctrl+- zoom; Ctrl+0 fits the width again."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QKeySequence, QPainter, QPainterPath, QPalette, QShortcut
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

MARGIN = 12
READABLE_WIDTH_PX = 620  # an A4 page narrower than this has text too small to read: scroll instead
ZOOM_STEP = 1.25
ZOOM_RANGE = (0.5, 4.0)


class _Page(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.image = QImage()
        self.highlights: list[QRectF] = []
        self.emphasis: list[QRectF] = []  # drawn over the highlights, stronger
        self.page_width = 0.0  # on screen, in pixels
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)

    def scale(self) -> float:
        if self.image.isNull():
            return 1.0
        return max(0.05, self.page_width / self.image.width())

    def page_rect(self) -> QRectF:
        s = self.scale()
        return QRectF(MARGIN, MARGIN, self.image.width() * s, self.image.height() * s)

    def highlight_path(self, rects: list[QRectF] | None = None) -> QPainterPath:
        s, page = self.scale(), self.page_rect()
        path = QPainterPath()
        for r in self.highlights if rects is None else rects:
            scaled = QRectF(page.left() + r.left() * s, page.top() + r.top() * s, r.width() * s, r.height() * s)
            path.addRect(scaled.adjusted(-1, -1, 1, 1))
        return path.simplified()  # one outline: overlapping rectangles must not darken twice

    def paintEvent(self, event) -> None:
        if self.image.isNull():
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        page = self.page_rect()
        painter.fillRect(page.adjusted(1, 1, 1, 1), self.palette().color(QPalette.ColorRole.Shadow))
        painter.drawImage(page, self.image)
        colour = self.palette().color(QPalette.ColorRole.Highlight)
        colour.setAlpha(80)
        painter.fillPath(self.highlight_path(), colour)
        if self.emphasis:
            painter.fillPath(self.highlight_path(self.emphasis), colour)  # twice as strong
        painter.end()


class PageView(QScrollArea):
    zoom_changed = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundRole(QPalette.ColorRole.Dark)
        self.setAccessibleName("Page preview")
        self.page = _Page()
        self.setWidget(self.page)
        self.setWidgetResizable(False)
        self.zoom = 1.0  # relative to the page fitted to the pane's width
        for keys, step in (("Ctrl++", ZOOM_STEP), ("Ctrl+=", ZOOM_STEP), ("Ctrl+-", 1 / ZOOM_STEP), ("Ctrl+0", 0.0)):
            shortcut = QShortcut(QKeySequence(keys), self, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda step=step: self.zoom_by(step))

    def show_page(self, image: QImage, highlights: list[QRectF], emphasis: Sequence[QRectF] = ()) -> None:
        self.page.image, self.page.highlights, self.page.emphasis = image, list(highlights), list(emphasis)
        self._fit()
        self.scroll_to_passage()

    def clear(self) -> None:
        self.page.image, self.page.highlights, self.page.emphasis = QImage(), [], []
        self._fit()

    def zoom_by(self, factor: float) -> None:
        """Multiply the zoom by `factor` (0: back to the fitted width), keeping the view's centre."""
        zoom = 1.0 if factor == 0 else min(ZOOM_RANGE[1], max(ZOOM_RANGE[0], self.zoom * factor))
        if zoom == self.zoom:
            return
        bars = (self.horizontalScrollBar(), self.verticalScrollBar())
        sizes = (self.viewport().width(), self.viewport().height())
        centres = [(bar.value() + size / 2) / max(1, extent)
                   for bar, size, extent in zip(bars, sizes, (self.page.width(), self.page.height()))]
        self.zoom = zoom
        self._fit()
        for bar, size, extent, centre in zip(bars, sizes, (self.page.width(), self.page.height()), centres):
            bar.setValue(int(centre * extent - size / 2))
        self.zoom_changed.emit(zoom)

    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            if steps:
                self.zoom_by(ZOOM_STEP ** steps)
            event.accept()
            return
        super().wheelEvent(event)

    def highlight_rect(self) -> QRectF:
        """The passage's bounding box in the page widget's coordinates (empty when not found)."""
        return self.page.highlight_path().boundingRect()

    def scroll_to_passage(self) -> None:
        box = self.highlight_rect()
        if box.isEmpty():
            self.verticalScrollBar().setValue(0)
            self.horizontalScrollBar().setValue(0)
            return
        # The passage's top a third of the way down, so the context above it shows too.
        self.verticalScrollBar().setValue(max(0, int(box.top() - self.viewport().height() / 3)))
        self.horizontalScrollBar().setValue(max(0, int(box.left() - MARGIN)))

    def _fit(self) -> None:
        width = self.viewport().width()
        image = self.page.image
        if image.isNull():
            self.page.page_width = 0.0
            self.page.resize(QSize(width, self.viewport().height()))
            self.page.update()
            return
        fitted = max(width - 2 * MARGIN, min(READABLE_WIDTH_PX, image.width()))
        self.page.page_width = fitted * self.zoom
        height = int(2 * MARGIN + image.height() * self.page.page_width / image.width())
        self.page.resize(QSize(max(width, int(self.page.page_width + 2 * MARGIN)), max(height, self.viewport().height())))
        self.page.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()
