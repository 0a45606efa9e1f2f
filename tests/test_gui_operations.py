"""The GUI's operations: one worker owns the GUI's Engine; callbacks come back on the UI thread;
removing a folder of 100,000 passages never freezes the window. No model needed."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
import time

import pytest
from PySide6.QtCore import QTimer
from synthetic import fill

from kenning.engine import Engine
from kenning.gui.operations import EngineOp, TaskManager
from kenning.gui.service_link import ServiceLink
from kenning.store import Store

WAIT_MS = 30_000


@pytest.fixture
def tasks(qapp, tmp_path):
    manager = TaskManager(lambda: Engine(data_dir=tmp_path / "data"))
    yield manager
    manager.shutdown()


def test_operations_run_in_order_on_one_worker_and_answer_on_the_ui_thread(qtbot, tasks, tmp_path):
    ui = threading.get_ident()
    ran, answered = [], []

    def work(n):
        def run(engine):
            ran.append((n, threading.get_ident()))
            return n * 10
        return run

    for n in range(5):
        EngineOp(tasks, work(n)).success(lambda value: answered.append((value, threading.get_ident()))).run_in_background()
    qtbot.waitUntil(lambda: len(answered) == 5, timeout=WAIT_MS)
    assert [n for n, _ in ran] == list(range(5))
    assert len({thread for _, thread in ran}) == 1 and ran[0][1] != ui
    assert answered == [(n * 10, ui) for n in range(5)]


def test_a_failure_is_one_line_to_the_failure_callback_or_the_failed_signal(qtbot, tasks, tmp_path):
    messages = []
    EngineOp(tasks, lambda engine: engine.add_folder(tmp_path / "missing")).failure(messages.append).run_in_background()
    qtbot.waitUntil(lambda: bool(messages), timeout=WAIT_MS)
    assert "not a folder" in messages[0]
    with qtbot.waitSignal(tasks.failed, timeout=WAIT_MS) as failed:
        EngineOp(tasks, lambda engine: 1 / 0).run_in_background()
    assert failed.args[0].startswith("ZeroDivisionError")


def test_after_shutdown_nothing_more_is_answered(qtbot, qapp, tmp_path):
    manager = TaskManager(lambda: Engine(data_dir=tmp_path / "data"))
    answered = []
    EngineOp(manager, lambda engine: time.sleep(0.2)).success(answered.append).run_in_background()
    manager.shutdown()
    qtbot.wait(100)
    assert answered == []
    with pytest.raises(RuntimeError):
        EngineOp(manager, lambda engine: None).run_in_background()


def test_folder_changes_reach_the_widgets_through_the_link(qtbot, qapp, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    link = ServiceLink(tmp_path / "data")
    try:
        with qtbot.waitSignal(link.folders_changed, timeout=WAIT_MS):
            link.add_folder(str(docs), ("drafts/",))
        assert [(f.path, f.exclude) for f in link.folders()] == [(str(docs), ("drafts/",))]
        errors = []
        link.add_folder(str(tmp_path / "nope"), on_error=errors.append)
        qtbot.waitUntil(lambda: bool(errors), timeout=WAIT_MS)
        with qtbot.waitSignal(link.folders_changed, timeout=WAIT_MS):
            link.remove_folder(str(docs))
        assert link.folders() == []
    finally:
        link.shutdown()


@pytest.mark.slow
def test_removing_a_folder_of_100000_passages_never_freezes_the_window(qtbot, qapp, tmp_path):
    docs = tmp_path / "docs"
    store = Store(tmp_path / "data")
    fill(store, docs, files=1000, chunks_per_file=100)
    store.close()
    link = ServiceLink(tmp_path / "data")
    ticks: list[float] = []
    timer = QTimer(interval=20, timeout=lambda: ticks.append(time.monotonic()))
    try:
        assert link.files_indexed() == 1000
        timer.start()
        qtbot.wait(100)
        started = time.monotonic()
        link.remove_folder(str(docs))
        qtbot.waitUntil(lambda: link.files_indexed() == 0 and not link.folders(), timeout=120_000)
        took = time.monotonic() - started
        timer.stop()
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        # The removal takes seconds on the worker; the UI thread keeps ticking throughout.
        assert took > 1.0 and max(gaps) < 0.5, (took, max(gaps))
    finally:
        link.shutdown()
