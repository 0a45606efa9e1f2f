"""Long jobs (preparing, importing, converting or downloading a model) in a QThread behind a
progress dialog, so the window keeps painting and the tray keeps answering."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QProgressDialog,
    QVBoxLayout,
    QWidget,
)

from kenning.errors import KenningError

log = logging.getLogger(__name__)

Work = Callable[[Callable[[str], None]], object]  # work(say) -> result; say("step") reports progress


class BackgroundTask(QThread):
    """Runs `work` in its own thread. `succeeded` or `failed` arrive in the UI thread once the
    thread has finished, so a receiver may drop the task at once.

    `work(say)` reports steps through `say`; a task made with `controlled=True` runs
    `work(task)` instead, which may also call `task.report(done, total)` (a determinate amount,
    sent at most every `REPORT_S`) and poll `task.stopping()` (True once `request_stop`)."""

    REPORT_S = 0.05

    progress = Signal(str)
    amount = Signal(object, object)  # done, total: Python ints (a download passes 2**31 bytes)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, work: Callable, parent=None, controlled: bool = False):
        super().__init__(parent)
        self.work = work
        self.controlled = controlled
        self._stop = threading.Event()
        self._last_report = 0.0
        self._outcome: tuple[bool, object] = (False, "the task did not run")
        self.finished.connect(self._report)

    # -- for the work, in the task's thread ------------------------------------------------------

    def say(self, text: str) -> None:
        self.progress.emit(text)

    def report(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - self._last_report >= self.REPORT_S:
            self._last_report = now
            self.amount.emit(int(done), int(total))

    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- from the UI thread ----------------------------------------------------------------------

    def request_stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        try:
            self._outcome = (True, self.work(self if self.controlled else self.progress.emit))
        except KenningError as exc:
            self._outcome = (False, str(exc))
        except Exception as exc:  # shown as one line; the traceback goes to the log
            log.exception("background task failed")
            self._outcome = (False, f"{type(exc).__name__}: {exc}")

    def _report(self) -> None:
        ok, value = self._outcome
        if ok:
            self.succeeded.emit(value)
        else:
            self.failed.emit(str(value))


class _BusyDialog(QProgressDialog):
    """A progress dialog that Escape or the close button cannot dismiss while work runs."""

    work_done = False

    def reject(self) -> None:
        if self.work_done:
            super().reject()

    def closeEvent(self, event) -> None:
        if not self.work_done:
            event.ignore()


def run_with_progress(parent: QWidget | None, title: str, label: str, work: Work) -> tuple[bool, object]:
    """Run `work` off the UI thread behind a modal progress dialog; (True, result) or (False, message).

    The dialog has no Cancel: model conversion cannot be interrupted half-way (its output is
    written atomically, so closing the app meanwhile leaves nothing broken)."""
    dialog = _BusyDialog(label, "", 0, 0, parent)
    dialog.setWindowTitle(title)
    dialog.setCancelButton(None)
    dialog.setMinimumDuration(0)
    dialog.setMinimumWidth(420)
    dialog.setAutoClose(False)
    outcome: list = []
    task = BackgroundTask(work, dialog)
    task.progress.connect(lambda text: dialog.setLabelText(text[:1].upper() + text[1:] + "…"))

    def finish(ok: bool, value) -> None:
        outcome.append((ok, value))
        dialog.work_done = True
        dialog.accept()

    task.succeeded.connect(lambda result: finish(True, result))
    task.failed.connect(lambda message: finish(False, message))
    task.start()
    dialog.exec()
    task.wait()
    return outcome[0] if outcome else (False, "the task stopped unexpectedly")


def _application() -> QCoreApplication:
    app = QApplication.instance()
    if app is None:
        raise RuntimeError("no QApplication")
    return app


def _sentence(text: str) -> str:
    """"quantizing to Q8_0" → "Quantizing to Q8_0…"; a leading model name keeps its case."""
    first = text.split(" ", 1)[0]
    if first.isalpha() and first.islower():
        text = text[:1].upper() + text[1:]
    return text + ("" if text.endswith(("…", ".")) else "…")


class TaskDialog(QDialog):
    """A window-modal progress dialog for a cancellable job such as a download: a step label, a
    byte progress bar and Cancel. It does not block its caller: `completed(ok, value)` arrives once
    the work has finished (value: the result, or the error message), and `cancelled` says whether
    the user asked it to stop. Closing the dialog or Escape asks to stop too; the dialog only
    goes away when the work has really ended, so no thread outlives it."""

    completed = Signal(bool, object)

    def __init__(self, parent: QWidget | None, title: str, label: str, work: Callable,
                 unit: str = "MB", scale: float = 1e6):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(460)
        self.unit, self.scale = unit, scale
        self.cancelled = False
        self.outcome: tuple[bool, object] | None = None
        self.label = QLabel(_sentence(label))
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setAccessibleName(title)
        self.bar.setRange(0, 0)
        self.amount_label = QLabel(" ")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.amount_label)
        layout.addWidget(self.buttons)
        self.task = BackgroundTask(work, self, controlled=True)
        self.task.progress.connect(self._on_step)
        self.task.amount.connect(self._on_amount)
        self.task.succeeded.connect(lambda result: self._finish(True, result))
        self.task.failed.connect(lambda message: self._finish(False, message))

    def start(self) -> TaskDialog:
        modal = Qt.WindowModality.WindowModal if self.parent() else Qt.WindowModality.ApplicationModal
        self.setWindowModality(modal)
        self.show()
        self.task.start()
        _application().aboutToQuit.connect(self._stop_for_quit)
        return self

    def _stop_for_quit(self) -> None:
        """Quitting (the tray's Quit) while the work runs: stop it and let it end, so no thread
        outlives the app (a download stops within a block; preparing the model takes seconds)."""
        if self.outcome is None:
            self.task.request_stop()
            self.task.wait()

    def _on_step(self, text: str) -> None:
        if not self.cancelled:
            self.label.setText(_sentence(text))

    def _on_amount(self, done: int, total: int) -> None:
        if total <= 0:
            return
        # QProgressBar holds ints: count in kilobytes so files past 2 GB still fit.
        self.bar.setRange(0, max(1, total // 1024))
        self.bar.setValue(min(done, total) // 1024)
        self.amount_label.setText(f"{done / self.scale:,.1f} of {total / self.scale:,.1f} {self.unit}")
        if done >= total and not self.cancelled:  # checking and preparing: cannot stop half-way
            self.bar.setRange(0, 0)
            self.cancel_button.setEnabled(False)

    def reject(self) -> None:
        """Cancel, Escape or the close button: ask the work to stop; close once it has."""
        if self.outcome is not None:
            super().reject()
        elif self.cancel_button.isEnabled():
            self.cancelled = True
            self.task.request_stop()
            self.cancel_button.setEnabled(False)
            self.label.setText("Stopping…")

    def closeEvent(self, event) -> None:
        if self.outcome is None:
            event.ignore()
            self.reject()
        else:
            super().closeEvent(event)

    def _finish(self, ok: bool, value) -> None:
        self.task.wait()
        try:
            _application().aboutToQuit.disconnect(self._stop_for_quit)
        except (RuntimeError, TypeError):  # not connected
            pass
        self.outcome = (ok, value)
        self.accept()
        self.completed.emit(ok, value)

