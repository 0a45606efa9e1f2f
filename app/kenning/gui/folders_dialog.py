"""Folders: add and remove them, exclusion patterns per folder (gitignore syntax), counts, and
the files that could not be read, with the reason and a retry."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kenning.errors import KenningError
from kenning.gui.result_delegate import display_path
from kenning.gui.service_link import ServiceLink


class FoldersDialog(QDialog):
    def __init__(self, link: ServiceLink, parent=None):
        super().__init__(parent)
        self.link = link
        self.setWindowTitle("Folders — Kenning")
        self.setMinimumSize(QSize(720, 480))
        self.resize(880, 580)

        self.folder_list = QListWidget()
        self.folder_list.setAccessibleName("Indexed folders")
        self.folder_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.folder_list.setIconSize(QSize(24, 24))
        self.folder_list.setSpacing(2)
        self.folder_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon)
        self.folder_list.currentItemChanged.connect(lambda *_: self._show_folder())
        self.add_button = QPushButton("Add folder…")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Stop searching this folder and forget its files (the files stay on disk)")
        self.add_button.clicked.connect(self.add_folder)
        self.remove_button.clicked.connect(self.remove_folder)
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.add_button)
        list_buttons.addWidget(self.remove_button)
        list_buttons.addStretch()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("Folders Kenning searches and watches:"))
        left_layout.addWidget(self.folder_list, 1)
        left_layout.addLayout(list_buttons)

        self.counts = QLabel()
        self.counts.setWordWrap(True)
        self.patterns = QPlainTextEdit()
        self.patterns.setAccessibleName("Exclusion patterns")
        self.patterns.setPlaceholderText("drafts/\n*.log\nbuild/\n!build/keep.md")
        self.patterns.setTabChangesFocus(True)
        self.save_patterns_button = QPushButton("Apply patterns")
        self.patterns.textChanged.connect(lambda: self.save_patterns_button.setEnabled(True))
        self.save_patterns_button.clicked.connect(self.save_patterns)
        patterns_box = QGroupBox("Leave out (gitignore patterns, one per line)")
        patterns_layout = QVBoxLayout(patterns_box)
        patterns_layout.addWidget(self.patterns)
        patterns_row = QHBoxLayout()
        patterns_row.addStretch()
        patterns_row.addWidget(self.save_patterns_button)
        patterns_layout.addLayout(patterns_row)

        self.failures = QTreeWidget()
        self.failures.setAccessibleName("Files that could not be read")
        self.failures.setHeaderLabels(["File", "Why"])
        self.failures.setRootIsDecorated(False)
        self.failures.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.failures.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.failures.header().setStretchLastSection(True)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Read the selected files again (all of them if none is selected)")
        self.retry_button.clicked.connect(self.retry_selected)
        self.no_failures = QLabel("Every file in this folder could be read.")
        self.no_failures.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        failures_box = QGroupBox("Files that could not be read")
        failures_layout = QVBoxLayout(failures_box)
        failures_layout.addWidget(self.no_failures)
        failures_layout.addWidget(self.failures)
        retry_row = QHBoxLayout()
        retry_row.addStretch()
        retry_row.addWidget(self.retry_button)
        failures_layout.addLayout(retry_row)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.counts)
        right_layout.addWidget(patterns_box, 2)
        right_layout.addWidget(failures_box, 3)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)

        link.folders_changed.connect(self.refresh)
        link.index_updated.connect(self.refresh)
        self.refresh()

    def selected_folder(self) -> str | None:
        item = self.folder_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def refresh(self) -> None:
        selected = self.selected_folder()
        self._folders = {f.path: f for f in self.link.folders()}
        self._failures = self.link.failures()
        self.folder_list.blockSignals(True)
        self.folder_list.clear()
        for info in self._folders.values():
            problems = f" · {info.failed:,} not readable" if info.failed else ""
            item = QListWidgetItem(self.folder_icon, f"{display_path(info.path)}\n{info.files:,} files{problems}")
            item.setData(Qt.ItemDataRole.UserRole, info.path)
            item.setToolTip(info.path)
            self.folder_list.addItem(item)
            if info.path == selected:
                self.folder_list.setCurrentItem(item)
        if self.folder_list.currentItem() is None and self.folder_list.count():
            self.folder_list.setCurrentRow(0)
        self.folder_list.blockSignals(False)
        self._show_folder(keep_patterns=selected == self.selected_folder())

    def _show_folder(self, keep_patterns: bool = False) -> None:
        folder = self.selected_folder()
        info = self._folders.get(folder) if folder else None
        for widget in (self.remove_button, self.patterns, self.failures, self.retry_button):
            widget.setEnabled(info is not None)
        if info is None:
            self.counts.setText("No folders yet. Add one to start searching." if not self._folders else "")
            self.patterns.setPlainText("")
            self.failures.clear()
            self.save_patterns_button.setEnabled(False)
            return
        self.counts.setText(f"<b>{escape(display_path(info.path))}</b><br>{info.files:,} files indexed, "
                            f"{info.failed:,} could not be read")
        if not (keep_patterns and self.save_patterns_button.isEnabled()):  # keep unsaved edits
            self.patterns.setPlainText("\n".join(info.exclude))
            self.save_patterns_button.setEnabled(False)
        self.failures.clear()
        prefix = info.path.rstrip("/\\") + ("\\" if "\\" in info.path else "/")
        for path, status, reason in self._failures:
            if path.startswith(prefix):
                item = QTreeWidgetItem([path[len(prefix):], reason or status])
                item.setData(0, Qt.ItemDataRole.UserRole, path)
                item.setToolTip(0, path)
                item.setToolTip(1, reason or status)
                self.failures.addTopLevelItem(item)
        self.failures.resizeColumnToContents(0)
        any_failed = self.failures.topLevelItemCount() > 0
        self.retry_button.setEnabled(any_failed)
        self.failures.setVisible(any_failed)
        self.retry_button.setVisible(any_failed)
        self.no_failures.setVisible(not any_failed)

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to search", str(Path.home()))
        if folder:
            try:
                self.link.add_folder(folder)
            except KenningError as exc:
                QMessageBox.warning(self, "Cannot add folder", str(exc))

    def remove_folder(self) -> None:
        folder = self.selected_folder()
        if folder is None:
            return
        answer = QMessageBox.question(
            self, "Remove folder",
            f"Stop searching {folder}?\n\nKenning forgets what it read there. Your files are not touched.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.link.remove_folder(folder)

    def save_patterns(self) -> None:
        folder = self.selected_folder()
        if folder is None:
            return
        lines = tuple(line.rstrip() for line in self.patterns.toPlainText().splitlines() if line.strip())
        self.link.set_exclude(folder, lines)
        self.save_patterns_button.setEnabled(False)

    def retry_selected(self) -> None:
        every = [row for i in range(self.failures.topLevelItemCount()) if (row := self.failures.topLevelItem(i))]
        items = self.failures.selectedItems() or every
        self.link.retry([item.data(0, Qt.ItemDataRole.UserRole) for item in items])
