"""First run: pick the folders to search and prepare the embedding model (with progress, off the
UI thread). The caller adds the folders and starts indexing when the wizard is accepted."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from kenning.gui import model_tasks
from kenning.gui.background_task import BackgroundTask
from kenning.gui.icons import app_icon
from kenning.gui.result_delegate import display_path


def _text(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class WelcomePage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Welcome to Kenning")
        layout = QVBoxLayout(self)
        layout.addWidget(_text(
            "Kenning finds your documents by what they mean, not only by the words in them: "
            "ask “the contract about the office lease” and it finds it, whatever it is called."
        ))
        layout.addWidget(_text(
            "Everything happens on this computer. Kenning reads your files here, keeps its index "
            "in a private folder, and sends nothing anywhere."
        ))
        layout.addStretch()


class FoldersPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("What should Kenning search?")
        self.setSubTitle("Pick one or more folders. You can change them later in Folders.")
        self.list = QListWidget()
        self.list.setAccessibleName("Folders to search")
        documents = Path.home() / "Documents"
        if documents.is_dir():
            self._add(str(documents))
        add = QPushButton("Add folder…")
        add.clicked.connect(self.choose)
        remove = QPushButton("Remove")
        remove.clicked.connect(self.remove)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch()
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(buttons)

    def folders(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]

    def _add(self, folder: str) -> None:
        if folder not in self.folders():
            self.list.addItem(display_path(folder))
            self.list.item(self.list.count() - 1).setData(Qt.ItemDataRole.UserRole, folder)
            self.completeChanged.emit()

    def choose(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to search", str(Path.home()))
        if folder:
            self._add(folder)

    def remove(self) -> None:
        self.list.takeItem(self.list.currentRow())
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.list.count() > 0


class ModelPage(QWizardPage):
    def __init__(self, data_dir: Path):
        super().__init__()
        self.data_dir = data_dir
        self.done = False
        self.task: BackgroundTask | None = None
        self.setTitle("Preparing the language model")
        self.setSubTitle("Kenning builds its small embedding model from the copy it ships with. "
                         "This takes a few seconds and needs no network.")
        self.message = QLabel("Starting…")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Model preparation progress")
        self.retry = QPushButton("Try again")
        self.retry.clicked.connect(self.start)
        self.retry.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.progress)
        layout.addWidget(self.retry, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch()

    def initializePage(self) -> None:
        if not self.done and self.task is None:
            self.start()

    def start(self) -> None:
        self.retry.hide()
        self.progress.setRange(0, 0)
        self.task = BackgroundTask(lambda say: model_tasks.prepare_default(self.data_dir, say), self)
        self.task.progress.connect(lambda text: self.message.setText(text[:1].upper() + text[1:] + "…"))
        self.task.succeeded.connect(self._succeeded)
        self.task.failed.connect(self._failed)
        self.task.start()

    def _succeeded(self, model) -> None:
        self.done = True
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.message.setText(f"Ready: {model.spec.name}.")
        self.completeChanged.emit()

    def _failed(self, message: str) -> None:
        self.task = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.message.setText(f"The model could not be prepared: {message}")
        self.retry.show()

    def isComplete(self) -> bool:
        return self.done

    def wait(self) -> None:
        if self.task is not None:
            self.task.wait()


class DonePage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("All set")
        layout = QVBoxLayout(self)
        layout.addWidget(_text(
            "Kenning now reads your folders in the background; you can search straight away and "
            "results fill in as it goes. Kenning stays in the system tray and keeps the index up "
            "to date as files change."
        ))
        layout.addStretch()


class FirstRunWizard(QWizard):
    def __init__(self, data_dir: Path, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Set up Kenning")
        self.setWindowIcon(app_icon())
        self.setPixmap(QWizard.WizardPixmap.LogoPixmap, app_icon().pixmap(48, 48))
        self.setMinimumSize(QSize(560, 420))
        self.folders_page = FoldersPage()
        self.model_page = ModelPage(Path(data_dir))
        for page in (WelcomePage(), self.folders_page, self.model_page, DonePage()):
            self.addPage(page)

    def folders(self) -> list[str]:
        return self.folders_page.folders()

    def done(self, result: int) -> None:
        self.model_page.wait()  # a half-prepared model is finished, not abandoned mid-write
        super().done(result)
