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
    progress = Signal(str)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, work: Work, parent=None):
        super().__init__(parent)
        self.work = work

    def run(self) -> None:
        try:
            result = self.work(self.progress.emit)
        except KenningError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # shown as one line; the traceback goes to the log
            log.exception("background task failed")
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.succeeded.emit(result)


class _BusyDialog(QProgressDialog):
    """A progress dialog that Escape or the close button cannot dismiss while work runs."""

    done = False

    def reject(self) -> None:
        if self.done:
            super().reject()

    def closeEvent(self, event) -> None:
        if not self.done:
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
    task.succeeded.connect(lambda result: outcome.append((True, result)))
    task.failed.connect(lambda message: outcome.append((False, message)))
    task.finished.connect(lambda: (setattr(dialog, "done", True), dialog.accept()))
    task.start()
    dialog.exec()
    task.wait()
    return outcome[0] if outcome else (False, "the task stopped unexpectedly")
