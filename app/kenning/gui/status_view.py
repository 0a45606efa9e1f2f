"""Index status: queued, done and failed files, speed, time left and the current file, with
pause/resume and stop/start, and a model switch's progress with its Cancel. Follows
`ServiceLink.changed` (the service polled by a QTimer)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from kenning.gui.result_delegate import display_path
from kenning.gui.service_link import ServiceLink
from kenning.gui.status_text import duration, index_summary, progress_of, scanned_summary, switch_summary

STATE_TITLES = {
    "starting": "Starting",
    "idle": "Up to date",
    "indexing": "Indexing",
    "switching": "Switching model",
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
        keys = ("queued", "done", "failed", "speed", "eta", "current", "indexed", "scanned", "model")
        self.values = {key: QLabel() for key in keys}
        for label in self.values.values():
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.values["current"].setWordWrap(True)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for key, title in (
            ("queued", "Files waiting"), ("done", "Files indexed this session"), ("failed", "Files that failed"),
            ("speed", "Speed"), ("eta", "Time left"), ("current", "Reading now"), ("indexed", "Files in the index"),
            ("scanned", "Scanned pages and images"), ("model", "Model"),
        ):
            form.addRow(title + ":", self.values[key])

        self.switch_label = QLabel()
        self.switch_label.setWordWrap(True)
        self.switch_progress = QProgressBar()
        self.switch_progress.setAccessibleName("Model switch progress")
        self.cancel_switch_button = QPushButton("Cancel switch")
        self.cancel_switch_button.setToolTip("Stop building the new index; the current one stays as it is")
        self.cancel_switch_button.clicked.connect(self.cancel_switch)
        self._cancelling = False
        switch_row = QHBoxLayout()
        switch_row.addWidget(self.switch_progress, 1)
        switch_row.addWidget(self.cancel_switch_button)
        self.switch_box = QGroupBox("Model switch")
        switch_layout = QVBoxLayout(self.switch_box)
        switch_layout.addWidget(self.switch_label)
        switch_layout.addLayout(switch_row)
        link.switch_failed.connect(self._on_switch_failed)

        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Pause keeps the service running, idle, until Resume; Stop ends it "
                                    "(this app starts it again on its next launch)")
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
        layout.addWidget(self.switch_box)
        layout.addStretch()
        layout.addLayout(row)
        link.changed.connect(self.update_status)
        self.update_status(link.status)

    def update_status(self, status) -> None:
        state = status.state if status else "stopped"
        self.state.setText(STATE_TITLES.get(state, state.capitalize()))
        note = "" if self.link.running_here or status is None else "Another Kenning process does the indexing. "
        message = status.message if status and status.message and state not in ("error", "switching") else ""
        summary = index_summary(status, self.link.error)
        summary = "" if summary == self.state.text() or state == "switching" else summary
        self.summary.setText((note + summary + (f" — {message}" if message else "")).strip())
        self.summary.setVisible(bool(self.summary.text()))
        done, total = progress_of(status)
        self.progress.setVisible(state in ("indexing", "paused"))
        self.progress.setRange(0, total if total else 0 if state == "indexing" else 1)
        self.progress.setValue(done if total else 1 if state != "indexing" else 0)
        self.values["queued"].setText(f"{status.queued:,}" if status else "—")
        self.values["done"].setText(f"{status.done:,}" if status else "—")
        self.values["failed"].setText(f"{status.failed:,}" if status else "—")
        self.values["speed"].setText(self._speed(status) if state == "indexing" else "—")
        self.values["eta"].setText(duration(status.eta_s) if status and state == "indexing" and status.eta_s else "—")
        reading = status.current if status and state == "indexing" else ""
        self.values["current"].setText(display_path(reading) if reading else "—")
        self.values["indexed"].setText(f"{self.link.files_indexed():,}")
        self.values["scanned"].setText(scanned_summary(self.link.failures()))
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.pause_button.setEnabled(status is not None and state in ("indexing", "idle", "paused", "starting"))
        self.stop_button.setText("Stop" if self.link.running_here else "Start")
        self.stop_button.setEnabled(self.link.running_here or status is None)
        model = self.link.index_model
        dimensions = self.link.index_dimensions if model else None
        self.values["model"].setText(f"{model} ({dimensions} dimensions)" if model and dimensions else model or "—")
        self._update_switch(status, state)
        for button in (self.pause_button, self.stop_button):
            button.setAccessibleName(button.text())

    def _update_switch(self, status, state: str) -> None:
        switch = self.link.model_switch
        self.switch_box.setVisible(switch is not None)
        if switch is None:
            self._cancelling = False
            return
        text = switch_summary(switch, self.link.index_model) + "."
        if state == "paused":
            text += " Paused along with indexing."
        elif state == "indexing":
            text += " Changed files are indexed first."
        elif status is None or state in ("stopped", "error"):
            text += " It carries on when indexing runs again."
        self.switch_label.setText(text)
        self.switch_progress.setRange(0, max(1, switch.total))
        self.switch_progress.setValue(min(switch.done, switch.total))
        self.cancel_switch_button.setEnabled(not self._cancelling)
        self.cancel_switch_button.setText("Cancelling…" if self._cancelling else "Cancel switch")

    def cancel_switch(self) -> None:
        switch = self.link.model_switch
        if switch is None:
            return
        answer = QMessageBox.question(
            self, "Cancel the model switch?",
            f"Stop building the index for {switch.model}? The part built so far is discarded; "
            f"search keeps using {self.link.index_model}.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._cancelling = True
        self.cancel_switch_button.setEnabled(False)
        self.cancel_switch_button.setText("Cancelling…")
        self.link.cancel_switch()

    def _on_switch_failed(self, message: str) -> None:
        self._cancelling = False
        self.update_status(self.link.status)

    def _speed(self, status) -> str:
        parts = []
        rate = (status.passages_per_s if status.phase == "meaning" else status.chunks_per_s) if status else 0.0
        if rate:
            parts.append(f"{rate:.1f} passages/s")
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
