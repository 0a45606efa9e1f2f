"""A friendly message where results would be: a title, an explanation, optionally a progress bar
and a button (add a folder, show results anyway...)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont, QIcon, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class EmptyState(QWidget):
    action_clicked = Signal(str)  # the action's key

    def __init__(self, parent=None):
        super().__init__(parent)
        self.kind = ""
        self.action = ""
        self.icon = QLabel()
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel()
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        self.title.setFont(font)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setWordWrap(True)
        self.message = QLabel()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(360)
        self.progress.setTextVisible(False)
        self.progress.setAccessibleName("Indexing progress")
        self.button = QPushButton()
        self.button.clicked.connect(lambda: self.action_clicked.emit(self.action))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.addStretch(2)
        layout.addWidget(self.icon)
        layout.addSpacing(8)
        layout.addWidget(self.title)
        layout.addSpacing(6)
        layout.addWidget(self.message)
        layout.addSpacing(12)
        for widget in (self.progress, self.button):
            row = QHBoxLayout()
            row.addStretch()
            row.addWidget(widget)
            row.addStretch()
            layout.addLayout(row)
        layout.addStretch(3)

    def show_state(self, kind: str, title: str, message: str = "", action: str = "", action_label: str = "",
                   progress: tuple[int, int] | None = None, icon: QIcon | None = None) -> None:
        """`progress` is (done, total); total 0 shows a busy bar."""
        self.kind, self.action = kind, action
        self.icon.setVisible(icon is not None)
        if icon is not None:
            self.icon.setPixmap(icon.pixmap(QSize(64, 64), self.devicePixelRatioF()))
        self.title.setText(title)
        self.message.setText(message)
        self.message.setVisible(bool(message))
        self.button.setText(action_label)
        self.button.setAccessibleName(action_label)
        self.button.setVisible(bool(action))
        self.progress.setVisible(progress is not None)
        if progress is not None:
            done, total = progress
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        self.setAccessibleName(title)
