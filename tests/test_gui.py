"""The desktop app driven like a person would, offscreen, over a real index of generated files
with the real default model: typing, results, previews, keyboard, empty states, dialogs, the
background service, and the model catalogue (downloads from a real HTTP server on 127.0.0.1,
switching to another model while search keeps working)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import hashlib
import shutil
import sys
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from docmaker import write_document, write_truncated_pdf
from PySide6.QtCore import QPoint, QPointF, Qt, QThread, QUrl
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
from test_engine import make_corpus

from kenning.engine import Engine
from kenning.errors import ModelError
from kenning.gui import autostart, desktop
from kenning.gui.app import KenningApp
from kenning.gui.background_task import run_with_progress
from kenning.gui.first_run import FirstRunWizard
from kenning.gui.folders_dialog import FoldersDialog
from kenning.gui.page_view import READABLE_WIDTH_PX, PageView
from kenning.gui.preview_pane import page_caption
from kenning.gui.settings_dialog import SettingsDialog
from kenning.gui.single_instance import SingleInstance
from kenning.gui.status_view import StatusView
from kenning.gui.text_view import TextView, qt_offset
from kenning.models.catalogue import CATALOGUE, DEFAULT_MODEL, Download, ModelSpec
from kenning.models.convert import convert_to_gguf
from kenning.models.library import ModelLibrary
from kenning.models.quantize import quantize
from kenning.settings import Settings, without_password

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
def opened(monkeypatch, tmp_path_factory):
    """The URLs the app asked the desktop to open (nothing is really opened), on a desktop that
    has an application for every type, whatever this machine's associations are."""
    urls: list[QUrl] = []
    monkeypatch.setattr(desktop, "open_url", lambda url: urls.append(url) or True)
    tools = tmp_path_factory.mktemp("desktop-bin")
    (tools / "xdg-mime").write_text("#!/bin/sh\necho viewer.desktop\n")
    (tools / "xdg-mime").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
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
    assert window.left.currentWidget() is window.results_page
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

    assert window.back_button.isVisible()
    with qtbot.waitSignal(window.results_shown, timeout=WAIT_MS):
        qtbot.keyClick(window, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert window.field.text() == "sourdough bread" and window.exclude_path is None
    assert Path(window.current_result().path).name == "baking.docx"
    assert not window.back_button.isVisible()


def test_weak_matches_are_hidden_under_a_note_that_shows_them(qtbot, app):
    window = app.window
    names = wait_for_results(qtbot, window, "tomato plants stakes")
    assert names == ["gardening.odt"]
    assert window.weak_note.isVisible() and "hidden" in window.weak_note.text()
    with qtbot.waitSignal(window.results_shown):
        window.weak_note.linkActivated.emit("show")
    assert window.model.rowCount() > 1 and not window.weak_note.isVisible()


def test_no_good_match_is_answered_again_when_a_matching_file_arrives(qtbot, app, corpus_index):
    window = app.window
    query = "when is the hedgehog count"
    assert search(qtbot, window, query) == []
    assert window.empty.kind == "no-good-match"
    census = corpus_index[1] / "hedgehog-census.txt"
    census.write_text("The annual hedgehog count takes place in the second week of May. Volunteers "
                      "count hedgehogs in gardens and parks at dusk.")
    try:
        qtbot.waitUntil(lambda: [Path(r.path).name for r in window.model.results()][:1] == ["hedgehog-census.txt"],
                        timeout=120_000)
        assert window.field.text() == query  # nobody edited the query
    finally:
        census.unlink()
        # The service forgets it again before the next test counts the files.
        qtbot.waitUntil(lambda: app.link.files_indexed() == 15, timeout=60_000)


# -- previews -------------------------------------------------------------------------------------


def test_pdf_preview_renders_the_page_and_highlights_the_passage(qtbot, app):
    window = app.window
    names = wait_for_results(qtbot, window, "dinosaur fossils")
    assert names[0] == "report.pdf"
    view = wait_preview(qtbot, window, PageView)
    page = view.page
    assert not page.image.isNull() and page.image.width() > 1000
    assert window.preview.page_label.text() == "Page 2 of 3"
    assert page.highlights, "the passage was not found on the page"
    assert page.emphasis, "the best sentence was not marked"
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


def test_pdf_preview_turns_pages_and_zooms(qtbot, app):
    window = app.window
    assert wait_for_results(qtbot, window, "dinosaur fossils")[0] == "report.pdf"
    view = wait_preview(qtbot, window, PageView)
    pane = window.preview
    qtbot.waitUntil(lambda: pane.page_label.text() == "Page 2 of 3", timeout=WAIT_MS)
    assert pane.page_bar.isVisible() and pane.previous_button.isEnabled() and pane.next_button.isEnabled()
    qtbot.keyClick(window, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: pane.page_label.text() == "Page 3 of 3", timeout=WAIT_MS)
    assert not pane.next_button.isEnabled() and not view.page.highlights  # the passage is on page 2
    qtbot.mouseClick(pane.previous_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.page_label.text() == "Page 2 of 3" and bool(view.page.highlights), timeout=WAIT_MS)

    fitted = view.page.page_width
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom == pytest.approx(1.25) and view.page.page_width == pytest.approx(fitted * 1.25)
    assert pane.zoom_label.text() == "125%"
    wheel = QWheelEvent(QPointF(50, 50), view.mapToGlobal(QPointF(50, 50)), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom == pytest.approx(1.25 ** 2)
    qtbot.keyClick(view, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom == 1.0 and view.page.page_width == pytest.approx(fitted)


def test_pdf_preview_stays_readable_at_the_minimum_window_size(qtbot, app):
    window = app.window
    size = window.size()
    window.resize(window.minimumSize())
    try:
        assert wait_for_results(qtbot, window, "dinosaur fossils")[0] == "report.pdf"
        view = wait_preview(qtbot, window, PageView)
        qtbot.waitUntil(lambda: not view.page.image.isNull(), timeout=WAIT_MS)
        assert view.viewport().width() < READABLE_WIDTH_PX  # the pane is narrow...
        assert view.page.page_width >= READABLE_WIDTH_PX  # ...the page is not: it scrolls sideways
        box = view.highlight_rect()
        assert view.horizontalScrollBar().value() <= box.left() <= view.horizontalScrollBar().value() + view.viewport().width()
    finally:
        window.resize(size)


def test_page_caption_shows_printed_page_numbers():
    assert page_caption(24, 36, "21") == "Page 21 (24 of 36)"
    assert page_caption(3, 10, "iii") == "Page iii (3 of 10)"
    assert page_caption(2, 3, "2") == page_caption(2, 3, "") == "Page 2 of 3"


def test_opening_a_file_without_an_application_says_so_and_offers_its_folder(qtbot, app, opened, tmp_path, monkeypatch):
    tools = tmp_path / "bin"
    tools.mkdir()
    xdg_mime = tools / "xdg-mime"
    xdg_mime.write_text("#!/bin/sh\n# a desktop with no application for this type answers nothing\nexit 0\n")
    xdg_mime.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    window = app.window
    assert wait_for_results(qtbot, window, "making bread with wild yeast")[0] == "baking.docx"
    result = window.current_result()
    before = len(opened)
    window.open_result(result)
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "cannot-open") is not None, timeout=5000)
    box = window.findChild(QMessageBox, "cannot-open")
    assert "baking.docx" in box.text() and len(opened) == before  # nothing was handed to xdg-open
    folder = next(b for b in box.buttons() if b.text() == "Show in folder")
    qtbot.mouseClick(folder, Qt.MouseButton.LeftButton)
    assert opened[-1] == QUrl.fromLocalFile(str(Path(result.path).parent))


def test_text_preview_highlights_and_scrolls_to_the_passage(qtbot, app):
    window = app.window
    names = wait_for_results(qtbot, window, "espresso machine pressure")
    assert names[0] == "coffee.txt"
    view = wait_preview(qtbot, window, TextView)
    assert "Espresso forces hot water" in view.highlighted_text()
    assert "Espresso forces hot water" in view.emphasised_text()  # the sentence with the query's words
    assert view.textCursor().position() == view.passage[0]


def test_text_preview_offsets_survive_characters_outside_the_bmp():
    assert qt_offset("ab", 2) == 2
    assert qt_offset("😀ab", 2) == 3  # the emoji is two UTF-16 units


# -- keyboard -------------------------------------------------------------------------------------


def test_keyboard_navigation_and_opening(qtbot, app, opened):
    window = app.window
    wait_for_results(qtbot, window, "chess opening moves")
    if window.weak_note.isVisible():  # only chess.md is a good match: show the rest too
        with qtbot.waitSignal(window.results_shown):
            window.weak_note.linkActivated.emit("show")
    names = [Path(r.path).name for r in window.model.results()]
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


def test_a_member_of_an_archive_opens_from_a_private_copy_and_shows_the_archives_folder(qtbot, app, opened,
                                                                                        tmp_path):
    import zipfile

    from kenning.search import SearchResult

    archive = tmp_path / "papers.zip"
    with zipfile.ZipFile(archive, "w") as papers:
        papers.writestr("notes/otters.txt", "Otters hold paws while they sleep.")
    result = SearchResult(f"{archive} › notes/otters.txt", 1.0, None, "Otters hold paws", "txt", 0.0, 0, 10)
    before = len(opened)
    app.window.open_result(result)
    qtbot.waitUntil(lambda: len(opened) > before, timeout=WAIT_MS)
    copy = Path(opened[-1].toLocalFile())
    assert copy.name == "otters.txt" and copy.read_text(encoding="utf-8") == "Otters hold paws while they sleep."
    assert copy.is_relative_to(app.data_dir)
    app.window.open_folder(result)
    assert opened[-1] == QUrl.fromLocalFile(str(tmp_path))


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
        qtbot.waitUntil(lambda: [f.path for f in kenning.link.folders()] == [str(folder)], timeout=WAIT_MS)
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
    qtbot.waitUntil(lambda: app.link.folders()[0].exclude == ("drafts/", "*.log"), timeout=WAIT_MS)
    dialog.patterns.setPlainText("")
    qtbot.mouseClick(dialog.save_patterns_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.link.folders()[0].exclude == (), timeout=WAIT_MS)


def test_folders_dialog_adds_and_removes_a_folder(qtbot, app, monkeypatch, tmp_path):
    extra = tmp_path / "extra"
    write_document(extra / "kites.txt", "Kites", ["Flying a kite on a windy beach."])
    dialog = FoldersDialog(app.link, app.window)
    qtbot.addWidget(dialog)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(extra))
    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)

    def listed() -> list[str]:
        return [dialog.folder_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(dialog.folder_list.count())]

    qtbot.waitUntil(lambda: str(extra) in listed(), timeout=WAIT_MS)
    paths = listed()
    assert str(extra) in paths
    assert app.window.filter_bar.folder.findData(str(extra)) > 0  # the folder filter follows

    dialog.folder_list.setCurrentRow(paths.index(str(extra)))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: str(extra) not in listed(), timeout=WAIT_MS)


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
    qtbot.wait(200)  # as a person would: the view lays out its new state before the next click lands
    qtbot.mouseClick(view.stop_button, Qt.MouseButton.LeftButton)
    assert app.link.running_here
    qtbot.waitUntil(lambda: app.link.state() == "idle", timeout=WAIT_MS)


def test_new_passage_size_re_embeds_every_file(qtbot, app, corpus_index, monkeypatch):
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
        qtbot.waitUntil(lambda: app.link.running_here, timeout=WAIT_MS)  # once the files are forgotten
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


# -- the model catalogue: listing, downloading, switching ---------------------------------------


@pytest.fixture(scope="module")
def minilm_variants(tmp_path_factory, source_folder):
    """The default model converted again: its F16 GGUF (what a catalogue download serves) and a
    Q4_K_M quant of it (a second model to switch to, with vectors of its own)."""
    folder = tmp_path_factory.mktemp("variants")
    f16 = convert_to_gguf(source_folder, folder / "minilm-f16.gguf")
    return {"f16": f16, "q4_k_m": quantize(f16, folder / "minilm-q4_k_m.gguf", "q4_k_m")}


class ModelServer(ThreadingHTTPServer):
    """Serves one file at /model.gguf, `delay` seconds per 64 KiB block (to cancel mid-way)."""

    daemon_threads = True

    def __init__(self, payload: bytes):
        super().__init__(("127.0.0.1", 0), _ModelHandler)
        self.payload = payload
        self.delay = 0.0

    def url(self, name: str = "model.gguf") -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{name}"


class _ModelHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path != "/model.gguf":
            self.send_error(404, "Not Found")
            return
        data = self.server.payload
        self.send_response(200)  # no Range support: a resumed download starts over, as it should
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            for start in range(0, len(data), 1 << 16):
                self.wfile.write(data[start:start + (1 << 16)])
                if self.server.delay:
                    time.sleep(self.server.delay)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def model_server(minilm_variants, monkeypatch):
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    server = ModelServer(minilm_variants["f16"].read_bytes())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def catalogue_rows(dialog: SettingsDialog) -> dict[str, list[str]]:
    rows = {}
    for i in range(dialog.models.topLevelItemCount()):
        item = dialog.models.topLevelItem(i)
        rows[item.text(0)] = [item.text(c) for c in range(dialog.models.columnCount())]
    return rows


def choose_model(dialog: SettingsDialog, name: str) -> None:
    items = [dialog.models.topLevelItem(i) for i in range(dialog.models.topLevelItemCount())]
    dialog.models.setCurrentItem(next(item for item in items if item.text(0) == name))


def test_settings_dialog_lists_the_catalogue(qtbot, data_dir, monkeypatch, tmp_path):
    dialog = SettingsDialog(data_dir, Settings(), DEFAULT_MODEL, index_dimensions=384, passages=120)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    rows = catalogue_rows(dialog)
    assert list(rows)[: len(CATALOGUE)] == list(CATALOGUE)
    headers = [dialog.models.headerItem().text(c) for c in range(dialog.models.columnCount())]
    assert headers == ["Model", "Languages", "Dimensions", "Size", "State"]
    assert rows[DEFAULT_MODEL][1] == "English" and rows[DEFAULT_MODEL][4] == "In use"
    assert rows[DEFAULT_MODEL][3].endswith(" MB")  # installed: its size on disk
    assert rows["bge-small-en-v1.5"][4] == "Download 67 MB"
    assert rows["nomic-embed-text-v1.5"][4] == "Download 274 MB"
    assert rows["nomic-embed-text-v1.5"][2] == "64–768"
    assert rows["multilingual-e5-small"][1] == "about 100 languages"
    assert dialog.chosen_model() == DEFAULT_MODEL and not dialog.download_button.isEnabled()

    # The published quality note of the chosen model, and its download on a click only.
    choose_model(dialog, "bge-small-en-v1.5")
    assert CATALOGUE["bge-small-en-v1.5"].quality in dialog.model_details.text()
    assert dialog.download_button.isEnabled()
    assert "Download… fetches 67 MB from huggingface.co" in dialog.model_note.text()
    assert not any(p.name.endswith(".download") for p in (data_dir / "models").iterdir())
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text, *a: shown.append(text))
    dialog.accept()  # a model that is not installed cannot be chosen yet
    assert dialog.result() != SettingsDialog.DialogCode.Accepted and "not installed" in shown[-1]

    # Matryoshka models offer smaller vectors; the full size comes first and is the default.
    choose_model(dialog, "nomic-embed-text-v1.5")
    sizes = [dialog.dimensions.itemData(i) for i in range(dialog.dimensions.count())]
    assert sizes == [768, 512, 256, 128, 64] and dialog.dimensions.isEnabled()
    assert dialog.chosen_dimensions() == 768 and "(full size)" in dialog.dimensions.currentText()
    choose_model(dialog, DEFAULT_MODEL)
    assert not dialog.dimensions.isEnabled() and dialog.chosen_dimensions() == 384

    image = tmp_path / "settings.png"
    assert dialog.grab().save(str(image)) and image.stat().st_size > 0

    dialog.proxy.setText("  http://proxy.example:3128 ")
    assert dialog.chosen().proxy == "http://proxy.example:3128"
    dialog.chosen().save(data_dir)
    assert Settings.load(data_dir).proxy == "http://proxy.example:3128"


def test_download_from_the_settings_dialog(qtbot, data_dir, model_server, minilm_variants, monkeypatch):
    payload = model_server.payload
    spec = ModelSpec(name="minilm-download", file="minilm-download.Q8_0.gguf", dimensions=384,
                     pooling="mean", max_tokens=256, quality="test score 1.0 (this test)",
                     download=Download(url=model_server.url(), sha256=hashlib.sha256(payload).hexdigest(),
                                       size=len(payload)))
    monkeypatch.setitem(CATALOGUE, spec.name, spec)
    warnings: list[str] = []
    infos: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: warnings.append(text))
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text, *a: infos.append(text))
    dialog = SettingsDialog(data_dir, Settings(), DEFAULT_MODEL, index_dimensions=384)
    qtbot.addWidget(dialog)
    dialog.show()
    size = f"{len(payload) / 1e6:,.0f} MB"
    assert catalogue_rows(dialog)[spec.name][4] == f"Download {size}"

    def download(name: str = spec.name):
        choose_model(dialog, name)
        assert dialog.download_button.isEnabled()
        qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
        running = dialog.download_dialog
        assert running is not None and running.isVisible()
        assert not dialog.download_button.isEnabled()
        with qtbot.waitSignal(running.completed, timeout=120_000):
            pass
        return running

    # HTTP errors, and the proxy setting (nothing listens there: the download cannot start).
    missing = replace(spec.download, url=model_server.url("missing.gguf"))
    monkeypatch.setitem(CATALOGUE, spec.name, replace(spec, download=missing))
    download()
    assert "HTTP 404" in warnings[-1] and "missing.gguf" in warnings[-1]
    monkeypatch.setitem(CATALOGUE, spec.name, spec)
    dialog.proxy.setText("http://127.0.0.1:9")
    download()
    assert "cannot reach" in warnings[-1] and "proxy" in warnings[-1]
    dialog.proxy.setText("")
    assert len(warnings) == 2 and not infos

    # Cancel half-way: no error, the part downloaded stays for the next try.
    model_server.delay = 0.01
    choose_model(dialog, spec.name)
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    running = dialog.download_dialog
    qtbot.waitUntil(lambda: running.bar.maximum() > 0 and running.bar.value() > 0, timeout=WAIT_MS)
    assert running.bar.maximum() == len(payload) // 1024  # a real byte count, not a busy bar
    assert " of " in running.amount_label.text() and running.amount_label.text().endswith(" MB")
    with qtbot.waitSignal(running.completed, timeout=WAIT_MS):
        qtbot.mouseClick(running.cancel_button, Qt.MouseButton.LeftButton)
    assert running.cancelled and len(warnings) == 2
    assert "resumes" in catalogue_rows(dialog)[spec.name][4]
    assert ModelLibrary(data_dir).find(spec.name) is None

    # The whole file: checked, quantized, test-loaded and installed.
    model_server.delay = 0.0
    download()
    assert len(warnings) == 2, warnings
    assert "minilm-download is downloaded and installed" in infos[-1]
    assert catalogue_rows(dialog)[spec.name][4] == "Installed"
    assert ModelLibrary(data_dir).find(spec.name) is not None
    assert not dialog.download_button.isEnabled()
    assert sorted(p.name for p in (data_dir / "models").iterdir() if "minilm-download" in p.name) == [
        "minilm-download.Q8_0.gguf", "minilm-download.Q8_0.json"]

    # A wrong checksum is refused and the file discarded.
    monkeypatch.setitem(CATALOGUE, "minilm-bad", replace(spec, name="minilm-bad", file="minilm-bad.Q8_0.gguf",
                                                         download=replace(spec.download, sha256="0" * 64)))
    dialog.refresh_models()
    download("minilm-bad")
    assert "sha256" in warnings[-1] and "discarded" in warnings[-1]
    assert ModelLibrary(data_dir).find("minilm-bad") is None


def test_switching_models_from_settings_while_search_keeps_working(qtbot, data_dir, minilm_variants, monkeypatch, tmp_path):
    ModelLibrary(data_dir).import_gguf(minilm_variants["q4_k_m"], "minilm-q4")
    folder = tmp_path / "notes"
    write_document(folder / "owls.txt", "Owls", ["Owls hunt mice at night with silent flight."])
    write_document(folder / "bread.txt", "Bread", ["Sourdough bread rises slowly with wild yeast."])
    write_document(folder / "tides.txt", "Tides", ["The moon's pull on the oceans makes the tides."])
    with Engine(data_dir=data_dir) as engine:
        engine.add_folder(folder)
        engine.index([folder])
        passages = engine.status().chunks
    Settings(first_run_done=True, tray_notice_shown=True).save(data_dir)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    choices: list[SettingsDialog] = []

    def settings_dialog_choosing(name):
        def exec_(dialog):  # what a person does in the dialog: pick the model, then Save
            choices.append(dialog)
            choose_model(dialog, name)
            dialog.accept()
            return dialog.result()
        monkeypatch.setattr(SettingsDialog, "exec", exec_)

    def show_settings() -> None:  # the dialog opens once the worker has read the index's model
        count = len(choices)
        kenning.show_settings()
        qtbot.waitUntil(lambda: len(choices) > count, timeout=WAIT_MS)

    kenning = start_app(qtbot, data_dir)
    link = kenning.link
    try:
        qtbot.waitUntil(lambda: link.state() == "idle", timeout=WAIT_MS)
        assert link.index_model == DEFAULT_MODEL and link.model_switch is None
        link.pause()  # hold the service so the pending switch can be looked at
        qtbot.waitUntil(lambda: link.state() == "paused", timeout=WAIT_MS)

        settings_dialog_choosing("minilm-q4")
        show_settings()
        dialog = choices[-1]
        assert catalogue_rows(dialog)["minilm-q4"][4] == "Installed"
        assert dialog.switch_to == ("minilm-q4", 384) and dialog.chosen().model is None
        qtbot.waitUntil(lambda: link.model_switch is not None, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: kenning.status_view is not None and kenning.status_view.isVisible(), timeout=WAIT_MS)
        view = kenning.status_view
        assert not view.switch_box.isHidden()
        assert view.switch_label.text().startswith(
            f"Switching to minilm-q4: 0 of {passages} passages (0%) — search uses all-minilm-l6-v2 until it is done")
        assert "Paused" in view.switch_label.text()
        assert view.cancel_switch_button.isEnabled()
        assert Settings.load(data_dir).model is None  # the index's model is followed, not pinned
        # Search answers meanwhile, with the current model.
        assert wait_for_results(qtbot, kenning.window, "birds that hunt at night")[0] == "owls.txt"

        # The settings dialog shows the switch; Cancel in the status view drops it.
        settings_dialog_choosing("minilm-q4")
        show_settings()
        assert catalogue_rows(choices[-1])["minilm-q4"][4] == "Index being built (0%)"
        assert choices[-1].switch_to is None  # already being built: nothing new to start
        qtbot.mouseClick(view.cancel_switch_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: link.model_switch is None, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: view.switch_box.isHidden(), timeout=WAIT_MS)
        assert link.index_model == DEFAULT_MODEL
        with Engine(data_dir=data_dir) as engine:
            assert engine.status().model_switch is None and engine.status().model == DEFAULT_MODEL

        # Again, and this time the service completes it.
        settings_dialog_choosing("minilm-q4")
        show_settings()
        qtbot.waitUntil(lambda: link.model_switch is not None, timeout=WAIT_MS)
        link.resume()
        qtbot.waitUntil(lambda: link.index_model == "minilm-q4", timeout=120_000)
        qtbot.waitUntil(lambda: link.state() == "idle", timeout=WAIT_MS)
        assert link.model_switch is None and view.switch_box.isHidden()
        assert "The index now uses minilm-q4" in kenning.window.statusBar().currentMessage()
        assert view.values["model"].text() == "minilm-q4 (384 dimensions)"
        assert view.state.text() == "Up to date" and "minilm-q4" in view.summary.text()
        assert wait_for_results(qtbot, kenning.window, "bread made with wild yeast")[0] == "bread.txt"
        with Engine(data_dir=data_dir) as engine:
            assert engine.status().model == "minilm-q4" and engine.status().model_switch is None

        # Choosing the default again in the dialog offers it as a switch back.
        settings_dialog_choosing(DEFAULT_MODEL)
        show_settings()
        assert catalogue_rows(choices[-1])["minilm-q4"][4] == "In use"
        assert choices[-1].switch_to == (DEFAULT_MODEL, 384)
        qtbot.waitUntil(lambda: link.index_model == DEFAULT_MODEL, timeout=120_000)
    finally:
        kenning.shutdown()


def test_a_switch_that_cannot_start_says_why(qtbot, data_dir, monkeypatch):
    from kenning.gui.service_link import ServiceLink

    link = ServiceLink(data_dir)
    try:
        with qtbot.waitSignal(link.switch_failed, timeout=WAIT_MS) as failed:
            link.switch_model("no-such-model")
        assert "not installed" in failed.args[0]
    finally:
        link.shutdown()


def test_a_model_chosen_before_anything_is_indexed_binds_the_empty_index(qtbot, data_dir, minilm_variants):
    ModelLibrary(data_dir).import_gguf(minilm_variants["q4_k_m"], "minilm-q4")
    dialog = SettingsDialog(data_dir, Settings(), None)
    qtbot.addWidget(dialog)
    choose_model(dialog, "minilm-q4")
    dialog.accept()
    assert dialog.switch_to == ("minilm-q4", 384) and dialog.chosen().model is None
    with Engine(data_dir=data_dir) as engine:  # what ServiceLink.switch_model does in its worker
        engine.switch_model(*dialog.switch_to)
    with Engine(data_dir=data_dir) as engine:
        assert engine.status().model == "minilm-q4" and engine.embedder.spec.name == "minilm-q4"


def test_a_storage_fault_is_a_banner_with_what_to_do_until_it_clears(qtbot, app):
    from kenning.service_status import ServiceState, ServiceStatus

    window = app.window
    full = ("the disk holding the index is full (0.1 MB free in /data); free some space and indexing "
            "carries on where it stopped")
    window._on_service_status(ServiceStatus(state=ServiceState.ERROR, message=full))
    assert window.fault_banner.isVisible() and "free some space" in window.fault_banner.text()
    window._on_service_status(ServiceStatus(state=ServiceState.IDLE))
    assert not window.fault_banner.isVisible()


def test_the_settings_move_the_app_to_a_shared_index_on_a_server_and_back(qtbot, data_dir, server_database,
                                                                           monkeypatch, tmp_path):
    home, team = tmp_path / "home", tmp_path / "team"
    write_document(home / "owls.txt", "Owls", ["Owls hunt mice at night with silent flight."])
    write_document(team / "tides.txt", "Tides", ["The moon's pull on the oceans makes the tides."])
    for folder, database in ((home, None), (team, server_database)):
        with Engine(data_dir=data_dir, database=database) as engine:
            engine.add_folder(folder)
            engine.index([folder])
    Settings(first_run_done=True, tray_notice_shown=True).save(data_dir)

    def settings_dialog_entering(address: str) -> None:
        def exec_(dialog):  # what a person does: type the address in Shared index, then Save
            dialog.database.setText(address)
            dialog.accept()
            return dialog.result()
        monkeypatch.setattr(SettingsDialog, "exec", exec_)

    kenning = start_app(qtbot, data_dir)
    link = kenning.link
    try:
        qtbot.waitUntil(lambda: link.state() == "idle", timeout=WAIT_MS)
        assert [f.path for f in link.folders()] == [str(home)]
        assert wait_for_results(qtbot, kenning.window, "birds that hunt at night")[0] == "owls.txt"

        settings_dialog_entering(server_database)
        kenning.show_settings()
        qtbot.waitUntil(lambda: [f.path for f in link.folders()] == [str(team)], timeout=WAIT_MS)
        qtbot.waitUntil(lambda: link.state() == "idle" and link.files_indexed() == 1, timeout=WAIT_MS)
        assert wait_for_results(qtbot, kenning.window, "what makes the tides")[0] == "tides.txt"
        assert Settings.load(data_dir).database == without_password(server_database)

        settings_dialog_entering("")
        kenning.show_settings()
        qtbot.waitUntil(lambda: [f.path for f in link.folders()] == [str(home)], timeout=WAIT_MS)
        assert wait_for_results(qtbot, kenning.window, "birds that hunt at night")[0] == "owls.txt"
        assert Settings.load(data_dir).database == ""
    finally:
        kenning.shutdown()


def test_a_shared_index_address_that_is_not_a_server_is_explained(qtbot, data_dir, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "information", lambda _parent, _title, text: shown.append(text))
    dialog = SettingsDialog(data_dir, Settings(), DEFAULT_MODEL, index_dimensions=384)
    qtbot.addWidget(dialog)
    dialog.database.setText("/mnt/nas/kenning.db")
    dialog.accept()
    assert dialog.result() != SettingsDialog.DialogCode.Accepted and "postgresql://" in shown[-1]
