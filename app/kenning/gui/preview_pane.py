"""The preview beside the results: a header (name, folder, page, actions) over the page image
or the extracted text, passage highlighted. Paged files (PDF, EPUB, XPS) turn pages (the buttons,
Ctrl+PgDown, Ctrl+PgUp) and zoom (Ctrl+wheel, Ctrl++, Ctrl+-, Ctrl+0)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kenning.gui.file_kinds import kind_of
from kenning.gui.page_view import ZOOM_STEP, PageView
from kenning.gui.preview_loader import (
    PagePreview,
    PreviewFailure,
    PreviewLoader,
    TextPreview,
)
from kenning.gui.result_delegate import display_folder
from kenning.gui.text_view import TextView
from kenning.paths import readable_path
from kenning.relevance import best_sentence
from kenning.search import SearchResult


class PreviewPane(QWidget):
    open_requested = Signal(object)  # SearchResult
    folder_requested = Signal(object)
    more_like_requested = Signal(object)
    loaded = Signal()  # a preview (or its failure message) is on screen

    def __init__(self, data_dir: Path | None = None, parent=None):
        """`data_dir`: the index's (what OCR read on scanned pages is kept there)."""
        super().__init__(parent)
        self.result: SearchResult | None = None
        self.loader = PreviewLoader(self, data_dir)
        self.loader.loaded.connect(self._on_loaded)
        self._request = 0
        self.page = 0  # the page shown, when the file has pages
        self.page_count = 0
        self.terms: list[str] = []
        self.setMinimumWidth(280)

        self.title = QLabel()
        title_font = QFont(self.title.font())
        title_font.setBold(True)
        title_font.setPointSizeF(title_font.pointSizeF() * 1.15)
        self.title.setFont(title_font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.location = QLabel()
        self.location.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.location.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.location.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Open the file (Enter)")
        self.folder_button = QPushButton("Show in folder")
        self.folder_button.setToolTip("Open the folder that holds the file (Ctrl+Enter)")
        self.more_button = QPushButton("More like this")
        self.more_button.setToolTip("Search for passages like this one (Ctrl+M)")
        for button, signal in (
            (self.open_button, self.open_requested),
            (self.folder_button, self.folder_requested),
            (self.more_button, self.more_like_requested),
        ):
            button.setAccessibleName(button.text())
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.clicked.connect(lambda _=False, s=signal: self.result and s.emit(self.result))

        buttons = _row((0, 0, 0, 0), self.open_button, self.folder_button, self.more_button, None)

        self.header = QWidget()
        header_layout = QVBoxLayout(self.header)
        header_layout.setContentsMargins(12, 10, 12, 8)
        header_layout.setSpacing(2)
        header_layout.addWidget(self.title)
        header_layout.addWidget(self.location)
        header_layout.addSpacing(6)
        header_layout.addLayout(buttons)

        self.placeholder = QLabel("Select a result to see the passage that matched.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.page_view = PageView()
        self.previous_button = self._tool_button("‹", "Previous page (Ctrl+PgUp)", lambda: self.turn_page(-1))
        self.next_button = self._tool_button("›", "Next page (Ctrl+PgDown)", lambda: self.turn_page(1))
        self.page_label = QLabel()
        self.zoom_label = QLabel("100%")
        self.zoom_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.page_view.zoom_changed.connect(lambda zoom: self.zoom_label.setText(f"{zoom:.0%}"))
        pages = _row((12, 2, 12, 4), self.previous_button, self.page_label, self.next_button, None,
                     self._tool_button("−", "Zoom out (Ctrl+-)", lambda: self.page_view.zoom_by(1 / ZOOM_STEP)),
                     self.zoom_label,
                     self._tool_button("+", "Zoom in (Ctrl++)", lambda: self.page_view.zoom_by(ZOOM_STEP)))
        self.page_bar = QWidget()
        self.page_bar.setLayout(pages)
        self.page_bar.hide()
        for keys, step in (("Ctrl+PgUp", -1), ("Ctrl+PgDown", 1)):
            QShortcut(QKeySequence(keys), self).activated.connect(lambda step=step: self.turn_page(step))
        self.text_view = TextView()
        self.stack = QStackedWidget()
        for widget in (self.placeholder, self.page_view, self.text_view):
            self.stack.addWidget(widget)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.page_bar)
        layout.addWidget(self.stack, 1)
        self.show_result(None)

    def _tool_button(self, text: str, tip: str, slot) -> QToolButton:
        button = QToolButton()
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(tip.split(" (")[0])
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    def turn_page(self, step: int) -> None:
        """Show the page `step` pages on (the passage's page has its highlight)."""
        if self.result is None or not self.page_count or self.stack.currentWidget() is not self.page_view:
            return
        target = min(self.page_count, max(1, self.page + step))
        if target != self.page:
            self.page = target  # a second press before the first page arrives goes on from it
            self._request = self.loader.request(self.result, target)

    def show_result(self, result: SearchResult | None, terms: list[str] | None = None) -> None:
        """Preview `result`; `terms`, the query's words, pick the passage's sentence to emphasise."""
        if result is not None and result == self.result and self.stack.currentWidget() is not self.placeholder:
            return  # the same passage again (the query re-ran): keep the reader's scroll position
        self.result = result
        self.terms = list(terms or [])
        self.header.setVisible(result is not None)
        self.page_bar.hide()
        self.page, self.page_count = 0, 0
        if result is None:
            self.loader.newest = -1  # drop whatever is loading
            self._show_message("Select a result to see the passage that matched.")
            return
        path = Path(result.path)
        self.title.setText(readable_path(path.name))
        self.title.setToolTip(readable_path(str(path)))
        self.location.setText(display_folder(result.path))
        self.location.setToolTip(readable_path(str(path.parent)))
        self._request = self.loader.request(result, terms=self.terms)

    def _on_loaded(self, request_id: int, content) -> None:
        if request_id != self._request or self.result is None:
            return
        if isinstance(content, PagePreview):
            self.page, self.page_count = content.page, content.page_count
            self.page_label.setText(page_caption(content.page, content.page_count, content.label))
            self.previous_button.setEnabled(content.page > 1)
            self.next_button.setEnabled(content.page < content.page_count)
            self.page_bar.show()
            self.location.setText(display_folder(content.result.path))
            self.stack.setCurrentWidget(self.page_view)
            self.page_view.show_page(content.image, content.highlights, content.emphasis)
        elif isinstance(content, TextPreview):
            if content.result.page:
                where = "sheet" if kind_of(content.result.path).key == "sheet" else "page"
                self.location.setText(f"{display_folder(content.result.path)}  ·  {where} {content.result.page}")
            self.stack.setCurrentWidget(self.text_view)
            code = kind_of(content.result.path).key == "code"
            best = best_sentence(content.text[content.start:content.end], self.terms)
            emphasis = (content.start + best[0], content.start + best[1]) if best else None
            self.text_view.show_text(content.text, content.start, content.end, monospace=code, emphasis=emphasis)
        elif isinstance(content, PreviewFailure):
            self._show_message(f"No preview: {content.message}")
        self.loaded.emit()

    def _show_message(self, text: str) -> None:
        self.placeholder.setText(text)
        self.page_view.clear()
        self.stack.setCurrentWidget(self.placeholder)

    def shutdown(self) -> None:
        self.loader.shutdown()


def page_caption(page: int, page_count: int, label: str) -> str:
    """"Page 21 (24 of 36)" when the printed number differs from the physical one, else "Page 24 of 36"."""
    if label and label != str(page):
        return f"Page {label} ({page} of {page_count})"
    return f"Page {page} of {page_count}"


def _row(margins: tuple[int, int, int, int], *widgets: QWidget | None) -> QHBoxLayout:
    """A row of widgets; None stands for a stretch."""
    row = QHBoxLayout()
    row.setContentsMargins(*margins)
    for widget in widgets:
        if widget is None:
            row.addStretch()
        else:
            row.addWidget(widget)
    return row
