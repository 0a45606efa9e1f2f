"""`kenning-app`: the desktop app. One instance per data folder, living in the system tray (where
there is one) while the background service keeps the index up to date.

    kenning-app [--data-dir DIR] [--hidden]
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon, QWizard

from kenning import __version__
from kenning.errors import KenningError
from kenning.gui import autostart
from kenning.gui.first_run import FirstRunWizard
from kenning.gui.folders_dialog import FoldersDialog
from kenning.gui.icons import app_icon
from kenning.gui.operations import EngineOp
from kenning.gui.search_window import SearchWindow
from kenning.gui.service_link import ServiceLink
from kenning.gui.settings_dialog import SettingsDialog
from kenning.gui.single_instance import SingleInstance
from kenning.gui.status_view import StatusView
from kenning.gui.tray import Tray
from kenning.paths import default_data_dir, private_dir
from kenning.settings import Settings

log = logging.getLogger(__name__)


class KenningApp(QObject):
    """Wires the window, tray, dialogs and service together and owns their lifetimes."""

    def __init__(self, data_dir: Path, first_run: bool = True, parent=None):
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self.settings = Settings.load(self.data_dir)
        self.link = ServiceLink(self.data_dir, self.settings, self)
        self.window = SearchWindow(self.link, self.settings)
        self.window.closed.connect(self.quit)
        self.window.hidden_to_tray.connect(self._on_hidden_to_tray)
        self.window.folders_requested.connect(self.show_folders)
        self.window.status_requested.connect(self.show_status)
        self.window.settings_requested.connect(self.show_settings)
        self.window.quit_requested.connect(self.quit)
        self.tray: Tray | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = Tray(self.link, self)
            self.tray.search_requested.connect(self.window.bring_forward)
            self.tray.status_requested.connect(self.show_status)
            self.tray.settings_requested.connect(self.show_settings)
            self.tray.quit_requested.connect(self.quit)
            self.tray.show()
            self.window.keep_running_on_close = True
        self.link.switch_started.connect(self._on_switch_started)
        self.link.switch_failed.connect(self._on_switch_failed)
        self.link.model_changed.connect(self._on_model_changed)
        self.folders_dialog: FoldersDialog | None = None
        self.status_view: StatusView | None = None
        self.settings_dialog: SettingsDialog | None = None
        self._settings_pending = False
        self.link.operation_failed.connect(lambda message: self.window.statusBar().showMessage(message, 15_000))
        self._quitting = False
        if first_run and not self.settings.first_run_done and not self.link.folders():
            self.run_first_run()
        self.link.start()

    # -- first run and dialogs -------------------------------------------------------------------

    def run_first_run(self) -> None:
        wizard = FirstRunWizard(self.data_dir)
        if wizard.exec() == QWizard.DialogCode.Accepted:
            for folder in wizard.folders():
                self.link.add_folder(folder, on_error=self._cannot_add_folder)
        self.settings.first_run_done = True
        self.settings.save(self.data_dir)

    @staticmethod
    def _cannot_add_folder(message: str) -> None:
        QMessageBox.warning(None, "Cannot add folder", message)

    def show_folders(self) -> None:
        if self.folders_dialog is None:
            self.folders_dialog = FoldersDialog(self.link, self.window)
        self._present(self.folders_dialog)

    def show_status(self) -> None:
        if self.status_view is None:
            self.status_view = StatusView(self.link, self.window)
        self._present(self.status_view)

    def show_settings(self) -> None:
        """Read the index's model and size on the worker, then open the dialog."""
        if self._settings_pending:
            return
        self._settings_pending = True

        def opened(status) -> None:
            self._settings_pending = False
            dialog = SettingsDialog(self.data_dir, self.settings, status.model, self.window,
                                    index_dimensions=status.dimensions, switching=status.model_switch,
                                    passages=status.chunks)
            self.settings_dialog = dialog
            accepted = dialog.exec() == SettingsDialog.DialogCode.Accepted
            self.settings_dialog = None
            if accepted:
                self.apply_settings(dialog)

        def failed(message: str) -> None:
            self._settings_pending = False
            QMessageBox.warning(self.window, "Settings", message)

        EngineOp(self.link.tasks, lambda engine: engine.status()).success(opened).failure(failed).run_in_background()

    def apply_settings(self, dialog: SettingsDialog) -> None:
        """Save what the accepted settings dialog chose and act on it: restart indexing with new
        settings, and start (or cancel) a model switch, which the service builds in the background."""
        chosen = dialog.chosen()
        if chosen.start_at_login != autostart.enabled() and autostart.supported():
            custom_dir = self.data_dir if self.data_dir != default_data_dir() else None
            autostart.set_enabled(chosen.start_at_login, custom_dir)
        indexing_changed = (chosen.model, chosen.gpu, chosen.threads, chosen.chunk_tokens, chosen.database) != (
            self.settings.model, self.settings.gpu, self.settings.threads, self.settings.chunk_tokens,
            self.settings.database)
        self.settings = chosen
        self.settings.save(self.data_dir)
        if indexing_changed:
            self.link.apply_settings(chosen, reembed=dialog.reembed)
            self.window.use_settings(chosen)
        if dialog.switch_to:
            self.link.switch_model(*dialog.switch_to)
        elif dialog.cancel_switch:
            self.link.cancel_switch()

    def _on_switch_started(self, state) -> None:
        if state.total or self.link.model_switch is not None:
            self.window.statusBar().showMessage(
                f"Building the index for {state.model} in the background; search keeps using "
                f"{self.link.index_model} until it is done.", 10_000)
            self.show_status()

    def _on_model_changed(self, model: str) -> None:
        self.window.statusBar().showMessage(f"The index now uses {model}, and so does search.", 15_000)

    def _on_switch_failed(self, message: str) -> None:
        QMessageBox.warning(self.window, "Model switch", message)

    @staticmethod
    def _present(dialog) -> None:
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    # -- window, tray and quitting ---------------------------------------------------------------

    def show_window(self) -> None:
        self.window.bring_forward()
        if self.tray is None and not self.settings.tray_notice_shown:
            self.window.statusBar().showMessage(
                "There is no system tray here, so closing this window quits Kenning.", 20_000)
            self._notice_shown()

    def _on_hidden_to_tray(self) -> None:
        if self.tray is not None and not self.settings.tray_notice_shown:
            self.tray.showMessage("Kenning is still running",
                                  "It keeps your index up to date. Quit it from this icon's menu.",
                                  app_icon(), 8000)
            self._notice_shown()

    def _notice_shown(self) -> None:
        self.settings.tray_notice_shown = True
        self.settings.save(self.data_dir)

    def quit(self) -> None:
        if self._quitting:
            return
        self._quitting = True
        for dialog in (self.folders_dialog, self.status_view):
            if dialog is not None:
                dialog.close()
        self.window.keep_running_on_close = False
        self.window.hide()
        if self.tray is not None:
            self.tray.hide()
        self.shutdown()
        QApplication.quit()

    def shutdown(self) -> None:
        """Stop the search thread, the preview loader and the service (waits for its batch)."""
        self.window.shutdown()
        self.link.shutdown()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kenning-app", description="Search the files on this computer by meaning.")
    parser.add_argument("--version", action="version", version=f"kenning {__version__}")
    parser.add_argument("--data-dir", type=Path, help="where the index and models live (default: the user data dir)")
    parser.add_argument("--hidden", action="store_true", help="start in the system tray, without the window")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="kenning: %(levelname)s: %(message)s")
    logging.getLogger("kenning.llama").setLevel(logging.DEBUG if args.verbose else logging.ERROR)
    QApplication.setApplicationName("Kenning")
    QApplication.setApplicationVersion(__version__)
    QApplication.setDesktopFileName("kenning")
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setWindowIcon(app_icon())
    app.setQuitOnLastWindowClosed(False)  # the tray keeps Kenning alive; quit() ends it

    data_dir = private_dir((args.data_dir or default_data_dir()).expanduser())
    instance = SingleInstance(data_dir)
    if instance.ask_running_instance():
        return 0
    instance.listen()
    try:
        kenning = KenningApp(data_dir)
    except KenningError as exc:
        QMessageBox.critical(None, "Kenning cannot start", str(exc))
        return 1
    instance.activation_requested.connect(kenning.show_window)
    if not args.hidden or kenning.tray is None:
        kenning.show_window()
    app.aboutToQuit.connect(kenning.quit)
    # Logging out sends SIGTERM: stop the service properly instead of dying mid-batch.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: QApplication.quit())
    wake = QTimer()  # lets Python run its signal handlers
    wake.setInterval(500)
    wake.timeout.connect(lambda: None)
    wake.start()
    code = app.exec()
    instance.close()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
