"""The result list's model: one row per SearchResult, plus the query's words for highlighting."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from kenning.paths import readable_path
from kenning.relevance import content_terms
from kenning.search import SearchResult

RESULT_ROLE = Qt.ItemDataRole.UserRole + 1


class ResultListModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._results: list[SearchResult] = []
        self.query = ""
        self.terms: list[str] = []

    def set_results(self, query: str, results: list[SearchResult]) -> None:
        self.beginResetModel()
        self._results = list(results)
        self.query = query
        self.terms = content_terms(query)
        self.endResetModel()

    def clear(self) -> None:
        self.set_results("", [])

    def result(self, row: int) -> SearchResult | None:
        return self._results[row] if 0 <= row < len(self._results) else None

    def results(self) -> list[SearchResult]:
        return list(self._results)

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._results)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        result = self.result(index.row()) if index.isValid() else None
        if result is None:
            return None
        if role == RESULT_ROLE:
            return result
        if role == Qt.ItemDataRole.DisplayRole:
            return readable_path(Path(result.path).name)
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleDescriptionRole):
            page = f", page {result.page}" if result.page else ""
            return f"{result.path}{page}\n{result.snippet}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            page = f", page {result.page}" if result.page else ""
            return readable_path(f"{Path(result.path).name}{page}, in {Path(result.path).parent}")
        return None
