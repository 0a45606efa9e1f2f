"""A rendered page, scaled to the pane's width, with the passage drawn over it as translucent
highlight (the palette's highlight colour, so it suits light and dark themes)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPainterPath, QPalette
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

MARGIN = 12


class _Page(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.image = QImage()
        self.highlights: list[QRectF] = []
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)

    def scale(self) -> float:
        if self.image.isNull():
            return 1.0
        return max(0.05, (self.width() - 2 * MARGIN) / self.image.width())

    def page_rect(self) -> QRectF:
        s = self.scale()
        return QRectF(MARGIN, MARGIN, self.image.width() * s, self.image.height() * s)

    def highlight_path(self) -> QPainterPath:
        s, page = self.scale(), self.page_rect()
        path = QPainterPath()
        for r in self.highlights:
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
        painter.end()


class PageView(QScrollArea):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setBackgroundRole(QPalette.ColorRole.Dark)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAccessibleName("Page preview")
        self.page = _Page()
        self.setWidget(self.page)
        self.setWidgetResizable(False)

    def show_page(self, image: QImage, highlights: list[QRectF]) -> None:
        self.page.image, self.page.highlights = image, list(highlights)
        self._fit()
        self.scroll_to_passage()

    def clear(self) -> None:
        self.page.image, self.page.highlights = QImage(), []
        self._fit()

    def highlight_rect(self) -> QRectF:
        """The passage's bounding box in the page widget's coordinates (empty when not found)."""
        return self.page.highlight_path().boundingRect()

    def scroll_to_passage(self) -> None:
        box = self.highlight_rect()
        if box.isEmpty():
            self.verticalScrollBar().setValue(0)
            return
        # The passage's top a third of the way down, so the context above it shows too.
        target = int(box.top() - self.viewport().height() / 3)
        self.verticalScrollBar().setValue(max(0, target))

    def _fit(self) -> None:
        width = self.viewport().width()
        image = self.page.image
        height = int(2 * MARGIN + (image.height() * (width - 2 * MARGIN) / image.width() if not image.isNull() else 0))
        self.page.resize(QSize(width, max(height, self.viewport().height())))
        self.page.update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()
