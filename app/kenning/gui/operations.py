"""Every GUI action that reads or writes the index is an operation: a function of the GUI's
Engine, run on one background worker that owns that Engine, with success and failure callbacks
called back on the UI thread. Nothing touches the database on the UI thread, so removing a folder
of 100,000 passages never freezes the window, and operations run one at a time, in order.

    EngineOp(link.tasks, lambda engine: engine.remove_folder(path)).success(done).run_in_background()
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, Signal

from kenning.engine import Engine
from kenning.errors import KenningError

log = logging.getLogger(__name__)

T = TypeVar("T")


class TaskManager(QObject):
    """The single worker: its Engine is made in the worker thread on first use and closed there."""

    failed = Signal(str)  # an operation without a failure callback failed: why, as one line
    _finished = Signal(object, bool, object)  # operation, ok, result or message

    def __init__(self, make_engine: Callable[[], Engine], parent=None):
        super().__init__(parent)
        self._make_engine = make_engine
        self._engine: Engine | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kenning-ops")
        self._closed = False
        self.in_flight = 0
        self._finished.connect(self._deliver)  # emitted in the worker, delivered in the UI thread

    def submit(self, op: EngineOp[Any]) -> Future:
        if self._closed:
            raise RuntimeError("the task manager has been shut down")
        self.in_flight += 1
        return self._executor.submit(self._run, op)

    def call(self, work: Callable[[Engine], T]) -> T:
        """Run `work` on the worker and wait for it: only for start-up, before any window shows."""
        return self._executor.submit(lambda: work(self._worker_engine())).result()

    def _worker_engine(self) -> Engine:
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    def reopen(self) -> None:
        """Close the Engine after what is queued; the next operation makes a new one (new settings,
        e.g. another database)."""

        def close() -> None:
            if self._engine is not None:
                self._engine.close()
                self._engine = None

        self._executor.submit(close)

    def _run(self, op: EngineOp[Any]) -> Any:
        try:
            value, ok = op.work(self._worker_engine()), True
        except KenningError as exc:
            value, ok = str(exc), False
        except Exception as exc:  # shown as one line; the traceback goes to the log
            log.exception("operation failed")
            value, ok = f"{type(exc).__name__}: {exc}", False
        self._finished.emit(op, ok, value)
        return value

    def _deliver(self, op: EngineOp[Any], ok: bool, value: object) -> None:
        self.in_flight -= 1
        if self._closed:
            return
        if ok:
            if op.on_success:
                op.on_success(value)
        elif op.on_failure:
            op.on_failure(str(value))
        else:
            self.failed.emit(str(value))

    def shutdown(self) -> None:
        """Finish what is queued, close the Engine in its thread; later outcomes are dropped."""
        if self._closed:
            return
        self.reopen()
        self._closed = True
        self._executor.shutdown(wait=True)


class EngineOp(Generic[T]):
    """One operation: `work(engine)` on the worker, then `success(result)` or `failure(message)`
    on the UI thread."""

    def __init__(self, tasks: TaskManager, work: Callable[[Engine], T]):
        self.tasks = tasks
        self.work = work
        self.on_success: Callable[[T], None] | None = None
        self.on_failure: Callable[[str], None] | None = None

    def success(self, callback: Callable[[T], None]) -> EngineOp[T]:
        self.on_success = callback
        return self

    def failure(self, callback: Callable[[str], None]) -> EngineOp[T]:
        self.on_failure = callback
        return self

    def run_in_background(self) -> Future:
        return self.tasks.submit(self)
