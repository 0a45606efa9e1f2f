"""The main window: search field, filters, results and preview, keyboard first.

Queries run in the SearchClient's worker thread, debounced while typing; answers to anything
but the newest query are dropped there, so the list never shows stale results.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QFont, QGuiApplication, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from kenning.engine import file_on_disk
from kenning.gui import desktop
from kenning.gui.empty_state import EmptyState
from kenning.gui.filter_bar import FilterBar
from kenning.gui.icons import app_icon
from kenning.gui.operations import EngineOp
from kenning.gui.preview_pane import PreviewPane
from kenning.gui.result_list import RETURN_KEYS, ResultList
from kenning.gui.search_worker import SearchClient, SearchOutcome
from kenning.gui.service_link import ServiceLink
from kenning.gui.status_text import index_summary, progress_of, switch_summary
from kenning.paths import readable_path
from kenning.relevance import Match, content_terms
from kenning.search import SearchResult
from kenning.settings import Settings

DEBOUNCE_MS = 200
PREVIEW_DELAY_MS = 60  # holding Down does not render every page it passes
REFRESH_MS = 2000  # while indexing, the shown query re-runs at most this often
NAVIGATION_KEYS = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)


class SearchWindow(QMainWindow):
    folders_requested = Signal()
    status_requested = Signal()
    settings_requested = Signal()
    quit_requested = Signal()
    hidden_to_tray = Signal()  # closed while `keep_running_on_close`: the app lives on in the tray
    closed = Signal()
    results_shown = Signal()  # the list (or an empty state) now answers the current query

    def __init__(self, link: ServiceLink, settings: Settings | None = None, parent=None):
        super().__init__(parent)
        self.link = link
        self.setWindowTitle("Kenning")
        self.setWindowIcon(app_icon())
        self.setMinimumSize(QSize(720, 460))
        self.resize(1180, 760)
        self.search = self._search_client(settings)
        self.keep_running_on_close = False
        self.query = ""
        self.exclude_path: str | None = None  # set by "More like this" until the user edits
        self.show_weak_matches = False
        self.history: list[tuple[str, str | None]] = []  # (query, exclude_path) before each "More like this"
        self._last_outcome: SearchOutcome | None = None
        self._open_when_answered = False  # Enter pressed before the typed query was answered

        self._debounce = self._single_shot(DEBOUNCE_MS, self.run_query)
        self._preview_delay = self._single_shot(PREVIEW_DELAY_MS, self._preview_current)
        self._refresh = self._single_shot(REFRESH_MS, self._refresh_results)

        self.field = QLineEdit()
        self.field.setPlaceholderText("Search your files by meaning…")
        self.field.setAccessibleName("Search")
        self.field.setClearButtonEnabled(True)
        field_font = QFont(self.field.font())
        field_font.setPointSizeF(field_font.pointSizeF() * 1.3)
        self.field.setFont(field_font)
        self.field.setMinimumHeight(self.field.sizeHint().height() + 8)
        self.field.textChanged.connect(self._on_text_changed)
        self.field.textEdited.connect(lambda _: setattr(self, "exclude_path", None))
        self.field.installEventFilter(self)

        self.back_button = QToolButton()
        self.back_button.setText("←")
        self.back_button.setToolTip("Back to the previous search (Alt+Left)")
        self.back_button.setAccessibleName("Back")
        self.back_button.setMinimumSize(self.field.minimumHeight(), self.field.minimumHeight())
        self.back_button.clicked.connect(self.go_back)
        self.back_button.hide()

        self.menu_button = QToolButton()
        self.menu_button.setText("☰")
        self.menu_button.setToolTip("Folders, index status, settings")
        self.menu_button.setAccessibleName("Menu")
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_button.setMinimumSize(self.field.minimumHeight(), self.field.minimumHeight())
        menu = QMenu(self)
        menu.addAction("Folders…", lambda: self.folders_requested.emit())
        menu.addAction("Index status…", lambda: self.status_requested.emit())
        menu.addAction("Settings…", lambda: self.settings_requested.emit())
        menu.addAction("About Kenning", self.show_about)
        menu.addSeparator()
        menu.addAction("Quit Kenning", lambda: self.quit_requested.emit())
        self.menu_button.setMenu(menu)

        self.filter_bar = FilterBar()
        self.filter_bar.changed.connect(self.run_query)

        self.results = ResultList()
        self.model = self.results.results_model
        self.results.open_requested.connect(self.open_result)
        self.results.folder_requested.connect(self.open_folder)
        self.results.more_like_requested.connect(self.more_like_this)
        self.results.current_changed.connect(self._preview_delay.start)

        self.empty = EmptyState()
        self.empty.action_clicked.connect(self._on_empty_action)
        self.weak_note = QLabel()
        self.weak_note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.weak_note.setContentsMargins(6, 4, 6, 2)
        self.weak_note.linkActivated.connect(lambda _link: self.show_weak())
        self.results_page = QWidget()
        results_layout = QVBoxLayout(self.results_page)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.setSpacing(0)
        results_layout.addWidget(self.results, 1)
        results_layout.addWidget(self.weak_note)
        self.left = QStackedWidget()
        self.left.addWidget(self.empty)
        self.left.addWidget(self.results_page)
        self.left.setMinimumWidth(340)

        self.preview = PreviewPane(link.data_dir)
        self.preview.open_requested.connect(self.open_result)
        self.preview.folder_requested.connect(self.open_folder)
        self.preview.more_like_requested.connect(self.more_like_this)
        self.preview.hide()

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.left)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 5)
        self.splitter.setStretchFactor(1, 6)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([520, 640])

        # A storage fault (disk full, index damaged, data folder read-only) stops indexing until
        # its cause is gone: said at the top of the window, with what to do, until it clears.
        self.fault_banner = QLabel()
        self.fault_banner.setWordWrap(True)
        self.fault_banner.setAccessibleName("Indexing problem")
        self.fault_banner.setContentsMargins(8, 6, 8, 6)
        self.fault_banner.setStyleSheet("background: #fdecc8; color: #4a3500; border-radius: 4px;")
        self.fault_banner.hide()

        top = QHBoxLayout()
        top.addWidget(self.back_button)
        top.addWidget(self.field, 1)
        top.addWidget(self.menu_button)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(10, 10, 10, 4)
        layout.addLayout(top)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.fault_banner)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.status_label = QLabel()
        self.index_progress = QProgressBar()
        self.index_progress.setMaximumWidth(140)
        self.index_progress.setTextVisible(False)
        self.index_progress.setAccessibleName("Indexing progress")
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.index_progress)
        self.statusBar().setSizeGripEnabled(True)

        for keys in ("Ctrl+K", "Ctrl+L"):
            QShortcut(QKeySequence(keys), self).activated.connect(self.focus_search)
        QShortcut(QKeySequence("Ctrl+M"), self).activated.connect(lambda: self.more_like_this(self.current_result()))
        for back in (QKeySequence("Alt+Left"), QKeySequence(Qt.Key.Key_Back)):  # the mouse's Back button too
            QShortcut(back, self).activated.connect(self.go_back)
        quit_action = QAction("Quit", self)
        quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        quit_action.triggered.connect(lambda: self.quit_requested.emit())
        self.addAction(quit_action)

        link.changed.connect(self._on_service_status)
        link.folders_changed.connect(self.refresh_folders)
        link.index_updated.connect(self._on_index_updated)
        self.refresh_folders()
        self._show_idle_state()

    def _single_shot(self, interval_ms: int, slot) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(interval_ms)
        timer.timeout.connect(slot)
        return timer

    # -- searching -------------------------------------------------------------------------------

    def _search_client(self, settings: Settings | None) -> SearchClient:
        client = SearchClient(self.link.data_dir, settings, self)
        client.answered.connect(self._show_outcome)
        return client

    def use_settings(self, settings: Settings) -> None:
        """New GPU or thread settings: a new search thread loads the model with them."""
        self.search.shutdown()
        self.search.deleteLater()
        self.search = self._search_client(settings)
        if self.query:
            self.run_query()

    def _on_text_changed(self, text: str) -> None:
        self.show_weak_matches = False
        if text.strip():
            self._debounce.start()
        else:
            self._debounce.stop()
            self.run_query()

    def run_query(self) -> None:
        self._debounce.stop()
        self.query = self.field.text().strip()
        if not self.query:
            self.search.cancel()
            self._last_outcome = None
            self._set_results([])
            self._show_idle_state()
            self.results_shown.emit()
            return
        self.search.submit(self.query, self.filter_bar.filters(), self.exclude_path)

    def _show_outcome(self, outcome: SearchOutcome) -> None:
        self._last_outcome = outcome
        query = outcome.request.query
        if outcome.error:
            self._set_results([])
            title = "Type a word or a phrase" if outcome.query_error else "Search failed"
            self.empty.show_state("query-error" if outcome.query_error else "error", title, outcome.error)
            self.left.setCurrentWidget(self.empty)
        elif not outcome.results:
            self._set_results([])
            self._show_nothing_found(query)
        elif not outcome.good_match and not self.show_weak_matches:
            self._set_results([])
            self.empty.show_state(
                "no-good-match", f"No good match for “{query}”",
                "Nothing in your files is close to this. Try other words, or describe what the "
                "document is about.", "show-anyway", "Show closest results anyway",
            )
            self.left.setCurrentWidget(self.empty)
        else:
            # The same query again (the index changed) keeps the reader's place; a new one starts at the top.
            previous = self.current_result() if query == self.model.query else None
            shown = outcome.results if self.show_weak_matches else [r for r in outcome.results if r.match is Match.GOOD]
            hidden = len(outcome.results) - len(shown)
            self.weak_note.setText(f"{hidden} weak match{'es' if hidden != 1 else ''} hidden · <a href='show'>Show</a>"
                                   if hidden else "")
            self.weak_note.setVisible(bool(hidden))
            self.left.setCurrentWidget(self.results_page)
            self._set_results(shown, query, keep=previous.path if previous else None)
            if self._open_when_answered:
                self.open_result(self.current_result())
        self._open_when_answered = False
        self.results_shown.emit()

    def _set_results(self, results: list[SearchResult], query: str = "", keep: str | None = None) -> None:
        self.results.set_results(query, results, keep)
        self.filter_bar.show_count(len(results) if results else None)
        self.preview.setVisible(bool(results))  # with nothing to preview, the message gets the room
        self._preview_delay.stop()
        self._preview_current()

    def _show_nothing_found(self, query: str) -> None:
        status = self.link.status
        if status and status.state == "indexing" and not self.link.files_indexed():
            self._show_indexing_state()
        elif self.filter_bar.filters().active():
            self.empty.show_state("nothing", f"Nothing found for “{query}”",
                                  "No indexed file passes the filters. Try removing some.")
        else:
            self.empty.show_state("nothing", f"Nothing found for “{query}”",
                                  "Add more folders, or try other words.", "add-folder", "Add folder…")
        self.left.setCurrentWidget(self.empty)

    # -- empty states ----------------------------------------------------------------------------

    def _show_idle_state(self) -> None:
        """What the list shows when there is no query: the next useful step."""
        if self.query:
            return
        if not self.link.folders():
            self.empty.show_state(
                "no-folders", "Choose what Kenning should search",
                "Add a folder of documents. Kenning reads them on this computer; nothing leaves it.",
                "add-folder", "Add folder…", icon=app_icon(),
            )
        elif self.link.state() in ("indexing", "starting") and not self.link.files_indexed():
            self._show_indexing_state()
        else:
            count = self.link.files_indexed()
            self.empty.show_state(
                "ready", f"Search {count:,} files by meaning",
                "Describe what you are looking for in your own words.\n\n"
                "↑ ↓ choose a result  ·  Enter opens it\n"
                "Ctrl+Enter shows its folder  ·  Ctrl+M finds more like it",
                icon=app_icon(),
            )
        self.left.setCurrentWidget(self.empty)

    def _show_indexing_state(self) -> None:
        status = self.link.status
        total = (status.done + status.queued) if status else 0
        self.empty.show_state(
            "indexing", "Reading your files…",
            index_summary(status) + "\nResults appear here as soon as the first files are indexed.",
            progress=(status.done if status else 0, total), icon=app_icon(),
        )
        self.left.setCurrentWidget(self.empty)

    def _on_empty_action(self, action: str) -> None:
        if action == "add-folder":
            self.add_folder()
        elif action == "show-anyway":
            self.show_weak()

    def show_weak(self) -> None:
        """Show the weak matches of the current query too."""
        if self._last_outcome is not None:
            self.show_weak_matches = True
            self._show_outcome(self._last_outcome)

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to search", str(Path.home()))
        if folder:
            self.link.add_folder(folder, on_error=lambda message: _warn(self, "Cannot add folder", message))

    # -- index status ----------------------------------------------------------------------------

    def refresh_folders(self) -> None:
        self.filter_bar.set_folders([f.path for f in self.link.folders()])
        self._show_idle_state()

    def _on_service_status(self, status) -> None:
        indexing = status is not None and status.state == "indexing"
        switch = self.link.model_switch if status is not None and status.state == "switching" else None
        self.index_progress.setVisible(indexing or switch is not None)
        if indexing:
            done, total = progress_of(status)
            self.index_progress.setRange(0, total)
            self.index_progress.setValue(done)
        elif switch is not None:
            self.index_progress.setRange(0, max(1, switch.total))
            self.index_progress.setValue(min(switch.done, switch.total))
        self.status_label.setText(switch_summary(switch, self.link.index_model) if switch is not None
                                  else index_summary(status, self.link.error))
        fault = status.message if status is not None and status.state == "error" else ""
        if not fault and "cannot be written" in self.link.error:
            fault = self.link.error
        self.fault_banner.setText(f"Indexing stopped: {fault}" if fault else "")
        self.fault_banner.setVisible(bool(fault))
        if not self.query and self.empty.kind in ("indexing", "ready", "no-folders"):
            self._show_idle_state()

    def _on_index_updated(self) -> None:
        if not self.query:
            self._show_idle_state()
        elif not self._refresh.isActive():
            self._refresh.start()

    def _refresh_results(self) -> None:
        """New files may answer the shown query better (a "no good match" too); an error stays."""
        shown = ("nothing", "indexing", "no-good-match")
        if self.query and (self.left.currentWidget() is self.results_page or self.empty.kind in shown):
            self.run_query()

    @staticmethod
    def about_text() -> str:
        from kenning import __version__
        from kenning.backend import backend_summary

        return (f"<b>Kenning {__version__}</b><p>Searches the files on this computer by meaning, "
                f"privately: nothing leaves this machine.</p><p>{backend_summary()}</p>")

    def show_about(self) -> None:
        QMessageBox.about(self, "About Kenning", self.about_text())

    # -- results: open, folder, more like this ---------------------------------------------------

    def current_result(self) -> SearchResult | None:
        return self.results.current_result() if self.left.currentWidget() is self.results_page else None

    def _preview_current(self) -> None:
        self.preview.show_result(self.current_result(), content_terms(self.query) if self.query else [])

    def open_result(self, result: SearchResult | None) -> None:
        if result is None:
            return
        if file_on_disk(result.path) == result.path:
            if not desktop.open_file(result.path, result.page):
                self._cannot_open(result)
            return
        # A member of an archive or mailbox: opened from a private copy, made off the UI thread.
        def opened(copy: object) -> None:
            if not desktop.open_file(str(copy), result.page):
                self._cannot_open(result)

        EngineOp(self.link.tasks, lambda engine: engine.local_copy(result.path)).success(opened).failure(
            self.link.operation_failed.emit).run_in_background()

    def _cannot_open(self, result: SearchResult) -> None:
        """No application opens this kind of file: say so, and offer its folder instead."""
        box = QMessageBox(QMessageBox.Icon.Information, "Cannot open the file",
                          f"No application on this computer is set to open “{readable_path(Path(result.path).name)}”.",
                          QMessageBox.StandardButton.Close, self)
        box.setInformativeText("Install one that reads this kind of file, or choose one from your file manager.")
        folder = box.addButton("Show in folder", QMessageBox.ButtonRole.AcceptRole)
        box.setObjectName("cannot-open")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: self.open_folder(result) if button is folder else None)
        box.open()

    def open_folder(self, result: SearchResult | None) -> None:
        if result is not None:
            desktop.open_containing_folder(file_on_disk(result.path))

    def more_like_this(self, result: SearchResult | None) -> None:
        if result is None:
            return
        self.history.append((self.field.text(), self.exclude_path))
        self._set_query(result.snippet.strip("…").strip(), result.path)
        self.show_weak_matches = True  # the user asked for neighbours, however near
        self.run_query()

    def go_back(self) -> None:
        """Back to the search before the last "More like this"."""
        if not self.history:
            return
        query, exclude_path = self.history.pop()
        self._set_query(query, exclude_path)
        self.show_weak_matches = False
        self.run_query()

    def _set_query(self, text: str, exclude_path: str | None) -> None:
        self.field.blockSignals(True)
        self.field.setText(text)
        self.field.setCursorPosition(0)
        self.field.blockSignals(False)
        self.exclude_path = exclude_path
        self.back_button.setVisible(bool(self.history))

    # -- keyboard --------------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()

    def eventFilter(self, watched, event) -> bool:
        """Keys typed in the search field that act on the results."""
        if watched is not self.field or event.type() != QEvent.Type.KeyPress:
            return super().eventFilter(watched, event)
        key = event.key()
        if key in RETURN_KEYS:
            if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.open_folder(self.current_result())
            elif self._debounce.isActive():  # typed and pressed Enter at once: open the answer
                self._open_when_answered = True
                self.run_query()
            else:
                self.open_result(self.current_result())
            return True
        if key in NAVIGATION_KEYS and self.model.rowCount():
            self.results.setFocus(Qt.FocusReason.OtherFocusReason)
            QGuiApplication.sendEvent(self.results, event)
            return True
        if key == Qt.Key.Key_Escape and self.field.text():
            self.field.clear()
            return True
        return super().eventFilter(watched, event)

    # -- window ----------------------------------------------------------------------------------

    def bring_forward(self) -> None:
        self.show()
        self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.raise_()
        self.activateWindow()
        self.focus_search()

    def closeEvent(self, event) -> None:
        if self.keep_running_on_close:
            event.ignore()
            self.hide()
            self.hidden_to_tray.emit()
        else:
            event.accept()
            self.closed.emit()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self.focus_search)

    def shutdown(self) -> None:
        self.search.shutdown()
        self.preview.shutdown()


def _warn(parent, title: str, message: str) -> None:
    QMessageBox.warning(parent, title, message)
