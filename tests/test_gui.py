"""The desktop app driven like a person would, offscreen, over a real index of generated files
with the real default model: typing, results, previews, keyboard, empty states, dialogs and the
background service."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from docmaker import write_document, write_truncated_pdf  # noqa: E402
from PySide6.QtCore import Qt, QThread, QUrl  # noqa: E402
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox  # noqa: E402
from test_engine import make_corpus  # noqa: E402

from kenning.engine import Engine  # noqa: E402
from kenning.gui import autostart, desktop  # noqa: E402
from kenning.errors import ModelError  # noqa: E402
from kenning.gui.app import KenningApp  # noqa: E402
from kenning.gui.background_task import run_with_progress  # noqa: E402
from kenning.gui.first_run import FirstRunWizard  # noqa: E402
from kenning.gui.folders_dialog import FoldersDialog  # noqa: E402
from kenning.gui.page_view import PageView  # noqa: E402
from kenning.gui.settings import Settings  # noqa: E402
from kenning.gui.settings_dialog import SettingsDialog  # noqa: E402
from kenning.gui.single_instance import SingleInstance  # noqa: E402
from kenning.gui.status_view import StatusView  # noqa: E402
from kenning.gui.text_view import TextView, qt_offset  # noqa: E402

WAIT_MS = 30_000


def copy_models(source: Path, target: Path) -> Path:
    (target / "models").mkdir(parents=True)
    for item in (source / "models").iterdir():
        if item.is_file():
            shutil.copy2(item, target / "models" / item.name)
    return target


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory, model_data_dir):
    """One index for the module (indexing is the slow part): the test corpus plus a broken PDF."""
    root = tmp_path_factory.mktemp("gui")
    data_dir = copy_models(model_data_dir, root / "data")
    corpus = make_corpus(root / "docs")
    write_truncated_pdf(corpus / "broken.pdf")
    with Engine(data_dir=data_dir) as engine:
        report = engine.index([corpus])
    assert report.indexed == 15 and report.failed == 1, report.failures
    Settings(first_run_done=True, tray_notice_shown=True).save(data_dir)
    return data_dir, corpus


@pytest.fixture
def opened(monkeypatch):
    """The URLs the app asked the desktop to open (nothing is really opened)."""
    urls: list[QUrl] = []
    monkeypatch.setattr(desktop, "open_url", lambda url: urls.append(url) or True)
    return urls


def start_app(qtbot, data_dir: Path) -> KenningApp:
    kenning = KenningApp(data_dir, first_run=False)
    qtbot.addWidget(kenning.window)
    kenning.show_window()
    qtbot.waitExposed(kenning.window)
    return kenning


@pytest.fixture(scope="module")
def shared_app(qapp, corpus_index):
    """One running app (window, search thread, service) for the module's tests; starting one
    loads the model twice, which would dominate every test's time."""
    kenning = KenningApp(corpus_index[0], first_run=False)
    kenning.show_window()
    yield kenning
    kenning.shutdown()
    kenning.window.hide()


@pytest.fixture
def app(qtbot, shared_app, opened):
    window = shared_app.window
    window.field.clear()
    for combo in (window.filter_bar.folder, window.filter_bar.kind, window.filter_bar.when):
        combo.setCurrentIndex(0)
    window.exclude_path = None
    window.show_weak_matches = False
    window.bring_forward()
    qtbot.waitExposed(window)
    return shared_app


def search(qtbot, window, query: str) -> list[str]:
    """Type `query` as a person would and wait for the list (or an empty state) to answer it."""
    window.field.clear()
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS, check_params_cb=lambda: window.query == query):
        qtbot.keyClicks(window.field, query)
    qtbot.waitUntil(lambda: window.query == query and not window._debounce.isActive(), timeout=WAIT_MS)
    return [Path(r.path).name for r in window.model.results()]


def wait_for_results(qtbot, window, query: str) -> list[str]:
    names = search(qtbot, window, query)
    if not names:  # the answer to the last keystroke may still be on its way
        qtbot.waitUntil(lambda: window.model.rowCount() > 0, timeout=WAIT_MS)
        names = [Path(r.path).name for r in window.model.results()]
    return names


def wait_preview(qtbot, window, widget_type):
    qtbot.waitUntil(lambda: isinstance(window.preview.stack.currentWidget(), widget_type), timeout=WAIT_MS)
    return window.preview.stack.currentWidget()


# -- searching ------------------------------------------------------------------------------------


@pytest.mark.parametrize("query, expected", [
    ("how do telescopes work", "astronomy.pdf"),
    ("making bread with wild yeast", "baking.docx"),
    ("espresso machine pressure", "coffee.txt"),
])
def test_typing_a_query_shows_the_right_file_first(qtbot, app, query, expected):
    window = app.window
    names = wait_for_results(qtbot, window, query)
    assert names[0] == expected
    assert window.left.currentWidget() is window.results
    assert window.results.currentIndex().row() == 0
    window.grab()  # paints every visible row through the delegate


def test_results_are_bolded_and_carry_page(qtbot, app):
    window = app.window
    wait_for_results(qtbot, window, "dinosaur fossils")
    first = window.model.result(0)
    assert Path(first.path).name == "report.pdf" and first.page == 2
    assert "dinosaur" in window.model.terms and "fossils" in window.model.terms
    from kenning.gui.result_delegate import bold_ranges

    bolded = {first.snippet[a:b].lower() for a, b in bold_ranges(first.snippet, window.model.terms)}
    assert {"dinosaur", "fossil"} <= bolded


def test_only_the_newest_query_is_answered(qtbot, app):
    window = app.window
    window.field.setText("dinosaur fossils")
    window.run_query()
    window.field.setText("insects that make honey")
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        window.run_query()
    qtbot.wait(300)  # give a stale answer the chance to arrive (it must be dropped)
    assert Path(window.model.result(0).path).name == "bees.fb2"


def test_filters_narrow_the_results(qtbot, app):
    window = app.window
    window.filter_bar.kind.setCurrentIndex(window.filter_bar.kind.findData("word"))
    names = wait_for_results(qtbot, window, "tomato plants")
    assert names[0] == "gardening.odt"
    assert all(Path(name).suffix in (".docx", ".odt") for name in names)
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        window.filter_bar.kind.setCurrentIndex(window.filter_bar.kind.findData("pdf"))
    # Either PDFs only, or "no good match" (no PDF is about tomatoes): never another type.
    assert all(Path(r.path).suffix == ".pdf" for r in window.model.results())
    assert window.model.rowCount() or window.empty.kind == "no-good-match"


def test_more_like_this_searches_with_the_passage(qtbot, app):
    window = app.window
    wait_for_results(qtbot, window, "sourdough bread")
    source = window.current_result()
    assert Path(source.path).name == "baking.docx"
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    assert "Sourdough" in window.field.text()
    assert window.model.rowCount() > 0
    assert source.path not in [r.path for r in window.model.results()]


# -- previews -------------------------------------------------------------------------------------


def test_pdf_preview_renders_the_page_and_highlights_the_passage(qtbot, app):
    window = app.window
    names = wait_for_results(qtbot, window, "dinosaur fossils")
    assert names[0] == "report.pdf"
    view = wait_preview(qtbot, window, PageView)
    page = view.page
    assert not page.image.isNull() and page.image.width() > 1000
    assert "Page 2 of 3" in window.preview.location.text()
    assert page.highlights, "the passage was not found on the page"
    box = view.highlight_rect()
    page_rect = page.page_rect()
    assert page_rect.contains(box)
    # The highlight covers the passage's line of text: dark glyph pixels inside it.
    scale = page.scale()
    first = page.highlights[0]
    image = page.image
    dark = sum(
        1
        for x in range(int(first.left()), int(first.right()), 3)
        for y in range(int(first.top()), int(first.bottom()), 3)
        if image.pixelColor(x, y).lightness() < 120
    )
    assert dark > 20
    # ...and it was scrolled into view.
    visible_top = view.verticalScrollBar().value()
    assert visible_top <= box.top() <= visible_top + view.viewport().height()
    assert scale > 0


def test_text_preview_highlights_and_scrolls_to_the_passage(qtbot, app):
    window = app.window
    names = wait_for_results(qtbot, window, "espresso machine pressure")
    assert names[0] == "coffee.txt"
    view = wait_preview(qtbot, window, TextView)
    assert "Espresso forces hot water" in view.highlighted_text()
    assert view.textCursor().position() == view.passage[0]


def test_text_preview_offsets_survive_characters_outside_the_bmp():
    assert qt_offset("ab", 2) == 2
    assert qt_offset("😀ab", 2) == 3  # the emoji is two UTF-16 units


# -- keyboard -------------------------------------------------------------------------------------


def test_keyboard_navigation_and_opening(qtbot, app, opened):
    window = app.window
    names = wait_for_results(qtbot, window, "chess opening moves")
    assert len(names) >= 3
    window.focus_search()
    qtbot.keyClick(window.field, Qt.Key.Key_Down)
    assert window.results.currentIndex().row() == 1
    qtbot.keyClick(window.results, Qt.Key.Key_Down)
    qtbot.keyClick(window.results, Qt.Key.Key_Up)
    assert window.results.currentIndex().row() == 1
    qtbot.waitUntil(lambda: window.preview.result is not None and Path(window.preview.result.path).name == names[1])

    qtbot.keyClick(window.results, Qt.Key.Key_Return)
    assert opened[-1] == QUrl.fromLocalFile(window.model.result(1).path)
    qtbot.keyClick(window.results, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert opened[-1] == QUrl.fromLocalFile(str(Path(window.model.result(1).path).parent))

    qtbot.keyClick(window.results, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.field.hasFocus()
    qtbot.keyClick(window.field, Qt.Key.Key_Up)  # back to the first result from the field
    assert window.results.currentIndex().row() == 0
    window.focus_search()
    qtbot.keyClick(window.field, Qt.Key.Key_Return)
    assert opened[-1] == QUrl.fromLocalFile(window.model.result(0).path)
    qtbot.keyClick(window.field, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.field.hasFocus() and window.field.selectedText() == window.field.text()


def test_search_field_has_focus_on_open(qtbot, app):
    qtbot.waitUntil(lambda: app.window.field.hasFocus(), timeout=5000)


# -- empty states ---------------------------------------------------------------------------------


def test_empty_query_shows_a_helpful_state(qtbot, app):
    window = app.window
    wait_for_results(qtbot, window, "volcano")
    window.field.clear()
    assert window.left.currentWidget() is window.empty
    assert window.empty.kind == "ready"
    assert "15 files" in window.empty.title.text()
    assert not window.preview.isVisible()


def test_punctuation_query_explains_instead_of_failing(qtbot, app):
    window = app.window
    search(qtbot, window, "?!...")
    assert window.empty.kind == "query-error"
    assert "no words" in window.empty.message.text()
    assert "Traceback" not in window.empty.message.text()


def test_nonsense_says_no_good_match_and_can_show_anyway(qtbot, app):
    window = app.window
    assert search(qtbot, window, "asdfgh qwerty zxcvb") == []
    assert window.empty.kind == "no-good-match"
    assert window.empty.button.isVisible()
    with qtbot.waitSignal(window.results_shown):
        qtbot.mouseClick(window.empty.button, Qt.MouseButton.LeftButton)
    assert window.model.rowCount() > 0


def test_no_folders_offers_to_add_one(qtbot, data_dir, opened, monkeypatch, tmp_path):
    Settings(first_run_done=True, tray_notice_shown=True).save(data_dir)
    kenning = start_app(qtbot, data_dir)
    try:
        window = kenning.window
        assert window.empty.kind == "no-folders"
        assert window.empty.button.isVisible() and "Add folder" in window.empty.button.text()
        folder = tmp_path / "notes"
        write_document(folder / "owls.txt", "Owls", ["Owls hunt mice at night with silent flight."])
        monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
        qtbot.mouseClick(window.empty.button, Qt.MouseButton.LeftButton)
        assert [f.path for f in kenning.link.folders()] == [str(folder)]
        assert window.empty.kind in ("indexing", "ready")
        # The service picks the new folder up; the file becomes searchable.
        qtbot.waitUntil(lambda: kenning.link.files_indexed() == 1, timeout=WAIT_MS)
        assert wait_for_results(qtbot, window, "birds that hunt at night")[0] == "owls.txt"
    finally:
        kenning.shutdown()


# -- dialogs and the service ----------------------------------------------------------------------


def test_folders_dialog_lists_folders_counts_and_failures(qtbot, app, corpus_index):
    _, corpus = corpus_index
    dialog = FoldersDialog(app.link, app.window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.folder_list.count() == 1
    item = dialog.folder_list.item(0)
    assert item.data(Qt.ItemDataRole.UserRole) == str(corpus)
    assert "15 files" in item.text() and "1 not readable" in item.text()
    assert dialog.failures.topLevelItemCount() == 1
    failure = dialog.failures.topLevelItem(0)
    assert failure.text(0) == "broken.pdf" and "damaged" in failure.text(1)
    assert dialog.retry_button.isEnabled()

    dialog.patterns.setPlainText("drafts/\n*.log")
    qtbot.mouseClick(dialog.save_patterns_button, Qt.MouseButton.LeftButton)
    assert app.link.folders()[0].exclude == ("drafts/", "*.log")
    dialog.patterns.setPlainText("")
    qtbot.mouseClick(dialog.save_patterns_button, Qt.MouseButton.LeftButton)
    assert app.link.folders()[0].exclude == ()


def test_folders_dialog_adds_and_removes_a_folder(qtbot, app, monkeypatch, tmp_path):
    extra = tmp_path / "extra"
    write_document(extra / "kites.txt", "Kites", ["Flying a kite on a windy beach."])
    dialog = FoldersDialog(app.link, app.window)
    qtbot.addWidget(dialog)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(extra))
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    paths = [dialog.folder_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(dialog.folder_list.count())]
    assert str(extra) in paths
    assert app.window.filter_bar.folder.findData(str(extra)) > 0  # the folder filter follows

    dialog.folder_list.setCurrentRow(paths.index(str(extra)))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    paths = [dialog.folder_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(dialog.folder_list.count())]
    assert str(extra) not in paths


def test_retry_queues_a_failed_file_for_the_service(qtbot, app):
    dialog = FoldersDialog(app.link, app.window)
    qtbot.addWidget(dialog)
    assert dialog.failures.topLevelItemCount() == 1
    qtbot.mouseClick(dialog.retry_button, Qt.MouseButton.LeftButton)
    # The service reads it again, and it fails again (it is still truncated), with its reason.
    qtbot.waitUntil(lambda: any(p.endswith("broken.pdf") for p, _, _ in app.link.failures()), timeout=WAIT_MS)


def test_status_view_pauses_and_resumes_the_service(qtbot, app):
    view = StatusView(app.link, app.window)
    qtbot.addWidget(view)
    view.show()
    assert app.link.running_here, app.link.error
    qtbot.waitUntil(lambda: app.link.state() == "idle", timeout=WAIT_MS)
    assert view.pause_button.text() == "Pause"
    qtbot.mouseClick(view.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.link.state() == "paused", timeout=WAIT_MS)
    assert view.pause_button.text() == "Resume"
    assert view.state.text() == "Paused"
    qtbot.mouseClick(view.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.link.state() == "idle", timeout=WAIT_MS)
    assert view.pause_button.text() == "Pause"
    assert view.values["indexed"].text() == "15"

    qtbot.mouseClick(view.stop_button, Qt.MouseButton.LeftButton)
    assert not app.link.running_here and view.stop_button.text() == "Start"
    qtbot.mouseClick(view.stop_button, Qt.MouseButton.LeftButton)
    assert app.link.running_here
    qtbot.waitUntil(lambda: app.link.state() == "idle", timeout=WAIT_MS)


def test_new_passage_size_re_embeds_every_file(qtbot, app, corpus_index, monkeypatch):
    from dataclasses import replace

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    dialog = SettingsDialog(corpus_index[0], app.settings, "all-minilm-l6-v2", app.window)
    qtbot.addWidget(dialog)
    dialog.chunk.setValue(128)
    dialog.accept()
    assert dialog.result() == SettingsDialog.DialogCode.Accepted and dialog.reembed
    chosen = dialog.chosen()
    assert chosen.chunk_tokens == 128 and chosen.model is None

    app.link.apply_settings(chosen, reembed=True)
    try:
        assert app.link.running_here
        qtbot.waitUntil(lambda: app.link.state() == "idle" and app.link.files_indexed() == 15, timeout=120_000)
        assert wait_for_results(qtbot, app.window, "how do telescopes work")[0] == "astronomy.pdf"
    finally:
        app.link.apply_settings(replace(chosen, chunk_tokens=256))


def test_closing_the_window_hides_it_when_a_tray_keeps_the_app(qtbot, app):
    window = app.window
    assert app.tray is None and not window.keep_running_on_close  # offscreen: no tray, close quits
    window.keep_running_on_close = True
    try:
        with qtbot.waitSignal(window.hidden_to_tray):
            window.close()
        assert not window.isVisible()
    finally:
        window.keep_running_on_close = False
        window.bring_forward()


# -- app plumbing ---------------------------------------------------------------------------------


def test_emitting_signals_keeps_reference_counts_intact():
    """PySide6 6.12.0 loses a reference to True per emit, so the app aborts after a few minutes
    of status polling ("bool_dealloc"); pyproject excludes that release. This guards the pin."""
    from PySide6.QtCore import QObject, Signal

    class Emitter(QObject):
        fired = Signal(object)

    emitter = Emitter()
    before = sys.getrefcount(True)
    for i in range(1000):
        emitter.fired.emit(i)
    assert sys.getrefcount(True) >= before - 10


def test_a_second_launch_brings_the_first_window_forward(qtbot, tmp_path):
    first = SingleInstance(tmp_path)
    assert first.listen()
    try:
        with qtbot.waitSignal(first.activation_requested, timeout=5000):
            assert SingleInstance(tmp_path).ask_running_instance()
        assert not SingleInstance(tmp_path / "other").ask_running_instance()
    finally:
        first.close()


def test_settings_persist_and_autostart_entry(tmp_path, monkeypatch):
    settings = Settings.load(tmp_path)
    assert settings == Settings()
    settings.gpu, settings.threads, settings.chunk_tokens = "off", 2, 128
    settings.save(tmp_path)
    assert Settings.load(tmp_path) == settings
    (tmp_path / "settings.json").write_text("{not json")
    assert Settings.load(tmp_path) == Settings()

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    autostart.set_enabled(True, tmp_path / "data")
    entry = tmp_path / "config" / "autostart" / "kenning.desktop"
    assert autostart.enabled() and "--data-dir" in entry.read_text() and "--hidden" in entry.read_text()
    autostart.set_enabled(False)
    assert not entry.exists()


def test_long_work_runs_behind_a_progress_dialog(qtbot):
    steps: list[str] = []

    def work(say):
        say("step one")
        steps.append(QThread.currentThread() is not QApplication.instance().thread())
        return 42

    assert run_with_progress(None, "Working", "Starting…", work) == (True, 42)
    assert steps == [True]  # it ran off the UI thread

    def broken(say):
        raise ModelError("model.gguf: not a GGUF file")

    assert run_with_progress(None, "Working", "Starting…", broken) == (False, "model.gguf: not a GGUF file")


def test_first_run_wizard_picks_folders_and_prepares_the_model(qtbot, data_dir, tmp_path, monkeypatch):
    folder = tmp_path / "papers"
    folder.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    wizard = FirstRunWizard(data_dir)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.next()
    assert not wizard.folders_page.isComplete() or wizard.folders()  # ~/Documents may be offered
    wizard.folders_page.choose()
    assert str(folder) in wizard.folders()
    wizard.next()
    qtbot.waitUntil(wizard.model_page.isComplete, timeout=120_000)
    assert "Ready" in wizard.model_page.message.text()
    wizard.next()
    assert wizard.currentPage() is not wizard.model_page


def test_open_at_page_uses_a_viewer_that_takes_a_page(tmp_path, monkeypatch):
    from kenning.gui import desktop

    record = tmp_path / "args.txt"
    viewer = tmp_path / "bin" / "evince"
    viewer.parent.mkdir()
    viewer.write_text(f"#!/bin/sh\necho \"$@\" > {record}\n")
    viewer.chmod(0o755)
    monkeypatch.setenv("PATH", str(viewer.parent))
    pdf = str(tmp_path / "report.pdf")
    assert desktop.open_file(pdf, 3)
    deadline = time.time() + 5
    while not record.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert record.read_text().split() == ["-p", "3", pdf]


def test_about_box_shows_version_and_backend():
    from kenning import __version__
    from kenning.gui.search_window import SearchWindow

    text = SearchWindow.about_text()
    assert __version__ in text and "llama.cpp" in text
