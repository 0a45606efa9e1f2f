"""Settings: the embedding model (pick, import a GGUF, convert a Hugging Face folder), GPU use,
threads, passage size and start at login. Saved to <data_dir>/settings.json by the caller."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from kenning.embed import physical_cores
from kenning.gui import autostart, model_tasks
from kenning.gui.background_task import run_with_progress
from kenning.gui.settings import GPU_CHOICES, Settings
from kenning.models.catalogue import CATALOGUE, DEFAULT_MODEL
from kenning.models.library import ModelLibrary

GPU_LABELS = {"auto": "Automatic (use it when available)", "on": "Always", "off": "Never"}


class SettingsDialog(QDialog):
    def __init__(self, data_dir: Path, settings: Settings, index_model: str | None, parent=None):
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self.original = settings
        self.index_model = index_model
        self.reembed = False  # set when the user agreed to re-embed everything
        self.setWindowTitle("Settings — Kenning")
        self.setMinimumSize(QSize(520, 360))

        self.model = QComboBox()
        self.model.setAccessibleName("Embedding model")
        self.model_note = QLabel()
        self.model_note.setWordWrap(True)
        import_button = QPushButton("Import GGUF…")
        import_button.setToolTip("Add an embedding model file in GGUF format")
        import_button.clicked.connect(self.import_gguf)
        convert_button = QPushButton("Convert folder…")
        convert_button.setToolTip("Convert a Hugging Face BERT model folder to GGUF")
        convert_button.clicked.connect(self.convert_folder)
        model_buttons = QHBoxLayout()
        model_buttons.setContentsMargins(0, 0, 0, 0)
        model_buttons.addWidget(import_button)
        model_buttons.addWidget(convert_button)
        model_buttons.addStretch()
        model_box = QWidget()
        model_layout = QVBoxLayout(model_box)
        model_layout.setContentsMargins(0, 0, 0, 0)
        model_layout.addWidget(self.model)
        model_layout.addLayout(model_buttons)
        model_layout.addWidget(self.model_note)

        self.gpu = QComboBox()
        self.gpu.setAccessibleName("Use the GPU")
        for choice in GPU_CHOICES:
            self.gpu.addItem(GPU_LABELS[choice], choice)
        self.gpu.setCurrentIndex(max(0, self.gpu.findData(settings.gpu)))

        self.threads = QSpinBox()
        self.threads.setAccessibleName("CPU threads")
        self.threads.setRange(0, 256)
        self.threads.setSpecialValueText(f"Automatic ({physical_cores()})")
        self.threads.setValue(settings.threads or 0)

        self.chunk = QSpinBox()
        self.chunk.setAccessibleName("Passage size in tokens")
        self.chunk.setRange(64, 2048)
        self.chunk.setSingleStep(32)
        self.chunk.setSuffix(" tokens")
        self.chunk.setValue(settings.chunk_tokens)
        self.chunk.setToolTip("How much text each passage holds. Changing it re-embeds every file.")

        self.login = QCheckBox("Start Kenning when I log in")
        self.login.setChecked(autostart.enabled() if autostart.supported() else False)
        self.login.setEnabled(autostart.supported())
        if not autostart.supported():
            self.login.setToolTip("Not available on this system yet")

        form = QFormLayout()
        form.addRow("Model:", model_box)
        form.addRow("GPU:", self.gpu)
        form.addRow("Threads:", self.threads)
        form.addRow("Passage size:", self.chunk)
        form.addRow("", self.login)
        note = QLabel("Changes apply at once: indexing restarts with them, and searching reloads the model.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addStretch()
        layout.addWidget(buttons)
        self.model.currentIndexChanged.connect(self._update_model_note)
        self.refresh_models(settings.model or index_model or DEFAULT_MODEL)

    # -- models ----------------------------------------------------------------------------------

    def refresh_models(self, select: str) -> None:
        self.model.blockSignals(True)
        self.model.clear()
        installed = {m.spec.name: m.spec for m in ModelLibrary(self.data_dir).installed()}
        if DEFAULT_MODEL not in installed:
            installed[DEFAULT_MODEL] = CATALOGUE[DEFAULT_MODEL]
        for name, spec in sorted(installed.items()):
            default = " · default" if name == DEFAULT_MODEL else ""
            self.model.addItem(f"{name} ({spec.dimensions} dimensions, {spec.languages}{default})", name)
        self.model.setCurrentIndex(max(0, self.model.findData(select)))
        self.model.blockSignals(False)
        self._update_model_note()

    def _update_model_note(self) -> None:
        chosen = self.model.currentData()
        if self.index_model and chosen != self.index_model:
            self.model_note.setText(
                f"Your index was built with {self.index_model}. Searching with another model needs "
                "a new index: start Kenning with --data-dir pointing to a new folder."
            )
        else:
            self.model_note.setText("Models run on this computer; nothing is sent anywhere.")

    def import_gguf(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import an embedding model", str(Path.home()),
                                              "GGUF models (*.gguf)")
        if path:
            ok, result = run_with_progress(self, "Importing model", "Checking the model…",
                                           lambda say: model_tasks.import_gguf(self.data_dir, Path(path), say))
            self._after_model_task(ok, result)

    def convert_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Hugging Face model folder", str(Path.home()))
        if folder:
            ok, result = run_with_progress(self, "Converting model", "Reading the model folder…",
                                           lambda say: model_tasks.convert_folder(self.data_dir, Path(folder), say))
            self._after_model_task(ok, result)

    def _after_model_task(self, ok: bool, result) -> None:
        if ok:
            self.refresh_models(result.spec.name)
            spec = result.spec
            QMessageBox.information(self, "Model installed", f"{spec.name} is installed ({spec.dimensions} dimensions).")
        else:
            QMessageBox.warning(self, "Model not installed", str(result))

    # -- result ----------------------------------------------------------------------------------

    def chosen(self) -> Settings:
        model = self.model.currentData()
        # None means "the index's model, else the default": only another choice is stored.
        if model == (self.index_model or DEFAULT_MODEL):
            model = None
        return replace(
            self.original,
            model=model,
            gpu=self.gpu.currentData(),
            threads=self.threads.value() or None,
            chunk_tokens=self.chunk.value(),
            start_at_login=self.login.isChecked(),
        )

    def accept(self) -> None:
        chosen = self.chosen()
        if self.index_model and chosen.model and chosen.model != self.index_model:
            QMessageBox.information(self, "Model", self.model_note.text())
            return
        if chosen.chunk_tokens != self.original.chunk_tokens:
            answer = QMessageBox.question(
                self, "Re-embed every file?",
                f"A passage size of {chosen.chunk_tokens} tokens means reading and embedding every "
                "file again. That can take a long time, and files drop out of search results until "
                "they are done.\n\nChange the passage size?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
            self.reembed = True
        super().accept()
