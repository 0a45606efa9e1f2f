"""One Kenning window per data folder: a second launch asks the first (over a QLocalSocket named
after the data folder) to bring its window forward, then exits."""

from __future__ import annotations

import getpass
import hashlib
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

TIMEOUT_MS = 1000


def server_name(data_dir: Path) -> str:
    key = f"{getpass.getuser()}:{Path(data_dir).expanduser().resolve()}"
    return "kenning-" + hashlib.sha256(key.encode()).hexdigest()[:20]


class SingleInstance(QObject):
    activation_requested = Signal()

    def __init__(self, data_dir: Path, parent=None):
        super().__init__(parent)
        self.name = server_name(data_dir)
        self.server: QLocalServer | None = None

    def ask_running_instance(self) -> bool:
        """True if another instance answered (and was asked to show its window)."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if not socket.waitForConnected(TIMEOUT_MS):
            return False
        socket.write(b"show\n")
        socket.waitForBytesWritten(TIMEOUT_MS)
        socket.disconnectFromServer()
        return True

    def listen(self) -> bool:
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not self.server.listen(self.name):
            QLocalServer.removeServer(self.name)  # left behind by a crashed instance
            if not self.server.listen(self.name):
                return False
        self.server.newConnection.connect(self._on_connection)
        return True

    def _on_connection(self) -> None:
        server = self.server
        while server is not None and server.hasPendingConnections():
            socket = server.nextPendingConnection()
            # The caller writes as soon as it connects, so this wait is brief; reading here
            # rather than in a readyRead handler leaves no socket behind with a pending signal.
            ready = socket.bytesAvailable() or socket.waitForReadyRead(TIMEOUT_MS)
            if ready and bytes(socket.readAll().data()).strip().startswith(b"show"):
                self.activation_requested.emit()
            socket.abort()
            socket.deleteLater()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
