"""The list of results: model, delegate, context menu, and Enter / Ctrl+Enter on a result."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QListView, QMenu

from kenning.gui.result_delegate import ResultDelegate
from kenning.gui.result_model import ResultListModel
from kenning.search import SearchResult

RETURN_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class ResultList(QListView):
    open_requested = Signal(object)  # SearchResult
    folder_requested = Signal(object)
    more_like_requested = Signal(object)
    current_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.results_model = ResultListModel(self)
        self.setModel(self.results_model)
        self.setItemDelegate(ResultDelegate(self))
        self.setAccessibleName("Results")
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.activated.connect(lambda index: self._emit(self.open_requested, self.results_model.result(index.row())))
        self.selectionModel().currentChanged.connect(lambda *_: self.current_changed.emit())

    def set_results(self, query: str, results: list[SearchResult], keep: str | None = None) -> None:
        """Show `results`; the one at path `keep` stays current, else the first."""
        self.results_model.set_results(query, results)
        if results:
            row = next((i for i, r in enumerate(results) if r.path == keep), 0)
            index = self.results_model.index(row)
            self.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.scrollTo(index)

    def current_result(self) -> SearchResult | None:
        return self.results_model.result(self.currentIndex().row())

    def keyPressEvent(self, event) -> None:
        if event.key() in RETURN_KEYS:
            ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            self._emit(self.folder_requested if ctrl else self.open_requested, self.current_result())
            return
        super().keyPressEvent(event)

    def _menu(self, position) -> None:
        result = self.results_model.result(self.indexAt(position).row())
        if result is None:
            return
        menu = QMenu(self)
        menu.addAction("Open", lambda: self.open_requested.emit(result))
        menu.addAction("Show in folder", lambda: self.folder_requested.emit(result))
        menu.addAction("More like this", lambda: self.more_like_requested.emit(result))
        menu.addSeparator()
        menu.addAction("Copy path", lambda: QGuiApplication.clipboard().setText(result.path))
        menu.exec(self.viewport().mapToGlobal(position))

    @staticmethod
    def _emit(signal, result: SearchResult | None) -> None:
        if result is not None:
            signal.emit(result)
