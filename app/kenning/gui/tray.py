"""The system tray icon: its picture follows the indexing state, its tooltip the progress, and
its menu reaches search, pause/resume, status, settings and quit."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from kenning.gui.icons import tray_icon
from kenning.gui.service_link import ServiceLink
from kenning.gui.status_text import current_file, index_summary, switch_summary


class Tray(QSystemTrayIcon):
    search_requested = Signal()
    status_requested = Signal()
    settings_requested = Signal()
    quit_requested = Signal()

    def __init__(self, link: ServiceLink, parent=None):
        super().__init__(tray_icon("idle"), parent)
        self.link = link
        self.state = ""
        menu = QMenu()
        menu.addAction("Search…", lambda: self.search_requested.emit())
        self.pause_action = QAction("Pause indexing", menu)
        self.pause_action.triggered.connect(self.toggle_pause)
        menu.addAction(self.pause_action)
        menu.addAction("Index status…", lambda: self.status_requested.emit())
        menu.addAction("Settings…", lambda: self.settings_requested.emit())
        menu.addSeparator()
        menu.addAction("Quit Kenning", lambda: self.quit_requested.emit())
        self.menu = menu  # the tray does not own its menu: keep it alive
        self.setContextMenu(menu)
        self.activated.connect(self._on_activated)
        link.changed.connect(self.update_status)
        self.update_status(link.status)

    def update_status(self, status) -> None:
        state = status.state if status else "stopped"
        icon_state = {"starting": "indexing", "switching": "indexing", "stopped": "paused"}.get(state, state)
        if icon_state != self.state:
            self.state = icon_state
            self.setIcon(tray_icon(icon_state))
        lines = [index_summary(status, self.link.error)]
        switch = self.link.model_switch
        if switch is not None and state != "error":  # also while it waits for files or a pause
            summary = switch_summary(switch, self.link.index_model)
            lines = [summary] if state == "switching" else lines + [summary]
        file = current_file(status) if state == "indexing" else ""
        self.setToolTip("Kenning — " + "\n".join(lines + ([file] if file else [])))
        self.pause_action.setText("Resume indexing" if state == "paused" else "Pause indexing")
        self.pause_action.setEnabled(status is not None)

    def toggle_pause(self) -> None:
        if self.link.state() == "paused":
            self.link.resume()
        else:
            self.link.pause()

    def _on_activated(self, reason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.search_requested.emit()
