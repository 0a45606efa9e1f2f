"""Long jobs (preparing, importing or converting a model) in a QThread behind a progress dialog,
so the window keeps painting and the tray keeps answering."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QThread, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from kenning.errors import KenningError

log = logging.getLogger(__name__)

Work = Callable[[Callable[[str], None]], object]  # work(say) -> result; say("step") reports progress


class BackgroundTask(QThread):
    """Runs `work` in its own thread. `succeeded` or `failed` arrive in the UI thread once the
    thread has finished, so a receiver may drop the task at once."""

    progress = Signal(str)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, work: Work, parent=None):
        super().__init__(parent)
        self.work = work
        self._outcome: tuple[bool, object] = (False, "the task did not run")
        self.finished.connect(self._report)

    def run(self) -> None:
        try:
            self._outcome = (True, self.work(self.progress.emit))
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
