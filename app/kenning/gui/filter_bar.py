"""Filters under the search field: folder (an indexed one, or any folder inside one), file kind
and date range; "Clear filters" while any is set, and how many files the search found."""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import QComboBox, QDateEdit, QFileDialog, QHBoxLayout, QLabel, QToolButton, QWidget

from kenning.gui.file_kinds import KINDS, by_key
from kenning.gui.icons import file_icon
from kenning.gui.result_delegate import display_path
from kenning.paths import is_inside
from kenning.search import Filters

DATE_RANGES = (  # key, label, days back
    ("any", "Any time", None),
    ("week", "Past week", 7),
    ("month", "Past month", 31),
    ("year", "Past year", 366),
    ("custom", "Between…", None),
)


_CHOOSE = "\0choose"  # the folder list's last item: pick a folder inside an indexed one


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
        self.indexed_folders: list[str] = []
        self._folder_index = 0  # the choice before "Folder inside…", restored if that is cancelled

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

        self.clear_button = QToolButton()
        self.clear_button.setText("Clear filters")
        self.clear_button.setAutoRaise(True)
        self.clear_button.clicked.connect(self.clear)
        self.count = QLabel()
        self.count.setAccessibleName("Result count")

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.folder, self.kind, self.when, self.after, self.and_label, self.before, self.clear_button):
            layout.addWidget(widget)
        layout.addStretch()
        layout.addWidget(self.count)
        self.folder.currentIndexChanged.connect(self._on_folder)
        self.kind.currentIndexChanged.connect(self.changed)
        self.changed.connect(self._show_clear)
        self.when.currentIndexChanged.connect(self._on_when)
        self._on_when(notify=False)
        self._show_clear()

    def clear(self) -> None:
        """Back to all folders, all types, any time (one search, not three)."""
        for combo in (self.folder, self.kind, self.when):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        self._folder_index = 0
        self._on_when(notify=False)
        self.changed.emit()

    def show_count(self, shown: int | None) -> None:
        """How many files answer the search ("" when there is no list)."""
        self.count.setText("" if shown is None else f"{shown} file{'' if shown == 1 else 's'}")

    def _show_clear(self) -> None:
        self.clear_button.setVisible(self.filters().active())

    def _on_folder(self, index: int) -> None:
        if self.folder.itemData(index) == _CHOOSE:
            self._choose_folder()
            return
        self._folder_index = index
        self.changed.emit()

    def _choose_folder(self) -> None:
        """A folder inside an indexed one, picked in the file dialog; anything else is refused."""
        start = self.folder.itemData(self._folder_index) or (self.indexed_folders[0] if self.indexed_folders else "")
        chosen = QFileDialog.getExistingDirectory(self, "Search only in this folder", start)
        path = os.path.normpath(chosen) if chosen else ""
        inside = bool(path) and any(path == f or is_inside(path, f) for f in self.indexed_folders)
        self.folder.blockSignals(True)
        if inside:
            if self.folder.findData(path) < 0:
                self.folder.insertItem(self.folder.count() - 1, display_path(path), path)
            self._folder_index = self.folder.findData(path)
        self.folder.setCurrentIndex(self._folder_index)
        self.folder.blockSignals(False)
        if inside:
            self.changed.emit()

    def set_folders(self, folders: list[str]) -> None:
        current = self.folder.currentData()
        self.folder.blockSignals(True)
        self.folder.clear()
        self.folder.addItem("All folders", None)
        self.indexed_folders = list(folders)
        for path in folders:
            self.folder.addItem(display_path(path), path)
            self.folder.setItemData(self.folder.count() - 1, path, Qt.ItemDataRole.ToolTipRole)
        inside = current is not None and current not in folders and any(is_inside(current, f) for f in folders)
        if inside:  # a folder chosen inside one that is still indexed stays chosen
            self.folder.addItem(display_path(current), current)
        if folders:
            self.folder.addItem("Folder inside…", _CHOOSE)
        index = self.folder.findData(current)
        self._folder_index = max(0, index)
        self.folder.setCurrentIndex(self._folder_index)
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
