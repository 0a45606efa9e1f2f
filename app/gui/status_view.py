"""Index status: queued, done and failed files, speed, time left and the current file, with
pause/resume and stop/start. Follows `ServiceLink.changed` (the service polled by a QTimer)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from kenning.gui.result_delegate import display_path
from kenning.gui.service_link import ServiceLink
from kenning.gui.status_text import duration, index_summary

STATE_TITLES = {
    "starting": "Starting",
    "idle": "Up to date",
    "indexing": "Indexing",
    "paused": "Paused",
    "error": "Stopped by an error",
    "stopped": "Not indexing",
}


class StatusView(QDialog):
    def __init__(self, link: ServiceLink, parent=None):
        super().__init__(parent)
        self.link = link
        self.setWindowTitle("Index status — Kenning")
        self.setMinimumSize(QSize(480, 340))

        self.state = QLabel()
        font = QFont(self.state.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        self.state.setFont(font)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Indexing progress")
        self.values = {key: QLabel() for key in ("queued", "done", "failed", "speed", "eta", "current", "indexed")}
        for label in self.values.values():
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.values["current"].setWordWrap(True)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for key, title in (
            ("queued", "Files waiting"), ("done", "Files indexed this session"), ("failed", "Files that failed"),
            ("speed", "Speed"), ("eta", "Time left"), ("current", "Reading now"), ("indexed", "Files in the index"),
        ):
            form.addRow(title + ":", self.values[key])

        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.toggle_running)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.pause_button)
        row.addWidget(self.stop_button)
        row.addStretch()
        row.addWidget(buttons)

        layout = QVBoxLayout(self)
        layout.addWidget(self.state)
        layout.addWidget(self.summary)
        layout.addWidget(self.progress)
        layout.addSpacing(6)
        layout.addLayout(form)
        layout.addStretch()
        layout.addLayout(row)
        link.changed.connect(self.update_status)
        self.update_status(link.status)

    def update_status(self, status) -> None:
        state = status.state if status else "stopped"
        self.state.setText(STATE_TITLES.get(state, state.capitalize()))
        note = "" if self.link.running_here or status is None else "Another Kenning process does the indexing. "
        message = status.message if status and status.message and state != "error" else ""
        summary = index_summary(status, self.link.error)
        summary = "" if summary == self.state.text() else summary
        self.summary.setText((note + summary + (f" — {message}" if message else "")).strip())
        self.summary.setVisible(bool(self.summary.text()))
        total = (status.done + status.queued) if status else 0
        self.progress.setVisible(state in ("indexing", "paused"))
        self.progress.setRange(0, total if status and status.queued else 0 if state == "indexing" else 1)
        self.progress.setValue(status.done if status and status.queued else 1 if state != "indexing" else 0)
        self.values["queued"].setText(f"{status.queued:,}" if status else "—")
        self.values["done"].setText(f"{status.done:,}" if status else "—")
        self.values["failed"].setText(f"{status.failed:,}" if status else "—")
        self.values["speed"].setText(self._speed(status) if state == "indexing" else "—")
        self.values["eta"].setText(duration(status.eta_s) if status and state == "indexing" and status.eta_s else "—")
        reading = status.current if status and state == "indexing" else ""
        self.values["current"].setText(display_path(reading) if reading else "—")
        self.values["indexed"].setText(f"{self.link.files_indexed():,}")
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.pause_button.setEnabled(status is not None and state in ("indexing", "idle", "paused", "starting"))
        self.stop_button.setText("Stop" if self.link.running_here else "Start")
        self.stop_button.setEnabled(self.link.running_here or status is None)
        for button in (self.pause_button, self.stop_button):
            button.setAccessibleName(button.text())

    def _speed(self, status) -> str:
        parts = []
        if status and status.chunks_per_s:
            parts.append(f"{status.chunks_per_s:.1f} passages/s")
        if self.link.files_per_s:
            parts.append(f"{self.link.files_per_s:.1f} files/s")
        return ", ".join(parts) or "—"

    def toggle_pause(self) -> None:
        if self.link.state() == "paused":
            self.link.resume()
        else:
            self.link.pause()

    def toggle_running(self) -> None:
        if self.link.running_here:
            self.link.stop()
        else:
            self.link.start()
