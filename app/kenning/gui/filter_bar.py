"""Filters under the search field: folder, file kind and date range."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import QComboBox, QDateEdit, QHBoxLayout, QLabel, QWidget

from kenning.gui.file_kinds import KINDS, by_key
from kenning.gui.icons import file_icon
from kenning.gui.result_delegate import display_path
from kenning.search import Filters

DATE_RANGES = (  # key, label, days back
    ("any", "Any time", None),
    ("week", "Past week", 7),
    ("month", "Past month", 31),
    ("year", "Past year", 366),
    ("custom", "Between…", None),
)


class FilterBar(QWidget):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.folder = QComboBox()
        self.folder.setAccessibleName("Folder filter")
        self.folder.setToolTip("Search only in this folder")
        self.folder.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.folder.setMaximumWidth(320)
        self.folder.addItem("All folders", None)

        self.kind = QComboBox()
        self.kind.setAccessibleName("File type filter")
        self.kind.setToolTip("Search only files of this type")
        self.kind.addItem("All types", None)
        for kind in KINDS:
            self.kind.addItem(file_icon(kind, 16), kind.label, kind.key)

        self.when = QComboBox()
        self.when.setAccessibleName("Date filter")
        self.when.setToolTip("Search only files modified in this period")
        for key, label, _ in DATE_RANGES:
            self.when.addItem(label, key)
        self.after = QDateEdit(QDate.currentDate().addMonths(-1))
        self.before = QDateEdit(QDate.currentDate())
        self.after.setAccessibleName("Modified on or after")
        self.before.setAccessibleName("Modified on or before")
        self.and_label = QLabel("and")
        for edit in (self.after, self.before):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.dateChanged.connect(self.changed)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.folder, self.kind, self.when, self.after, self.and_label, self.before):
            layout.addWidget(widget)
        layout.addStretch()
        self.folder.currentIndexChanged.connect(self.changed)
        self.kind.currentIndexChanged.connect(self.changed)
        self.when.currentIndexChanged.connect(self._on_when)
        self._on_when(notify=False)

    def set_folders(self, folders: list[str]) -> None:
        current = self.folder.currentData()
        self.folder.blockSignals(True)
        self.folder.clear()
        self.folder.addItem("All folders", None)
        for path in folders:
            self.folder.addItem(display_path(path), path)
            self.folder.setItemData(self.folder.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        index = self.folder.findData(current)
        self.folder.setCurrentIndex(max(0, index))
        self.folder.blockSignals(False)
        if current is not None and index < 0:
            self.changed.emit()

    def _on_when(self, *_, notify: bool = True) -> None:
        custom = self.when.currentData() == "custom"
        for widget in (self.after, self.and_label, self.before):
            widget.setVisible(custom)
        if notify:
            self.changed.emit()

    def filters(self) -> Filters:
        kind = by_key(self.kind.currentData() or "")
        after = before = None
        key = self.when.currentData()
        days = next((d for k, _, d in DATE_RANGES if k == key), None)
        if days:
            after = (datetime.now() - timedelta(days=days)).timestamp()
        elif key == "custom":
            first, last = self.after.date(), self.before.date()
            after = datetime(first.year(), first.month(), first.day()).timestamp()
            before = datetime.combine(date(last.year(), last.month(), last.day()), time.max).timestamp()
        return Filters(
            folder=self.folder.currentData(),
            file_types=kind.extensions if kind else (),
            modified_after=after,
            modified_before=before,
        )
