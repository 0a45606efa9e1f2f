"""Settings: the embedding model (the catalogue with downloads, an imported GGUF or a converted
Hugging Face folder, and a vector size for Matryoshka models), the download proxy, GPU use,
threads, passage size, start at login, and where the index lives (this computer, or a team's
PostgreSQL server). Saved to <data_dir>/settings.json by the caller.

Choosing another model does not touch the index here: the dialog only records what the user
asked for (`switch_to`, `cancel_switch`); the caller starts the switch, which the service builds
in the background while search keeps using the current model."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from kenning.embed import physical_cores
from kenning.engine import ocr_languages
from kenning.gui import autostart, model_tasks
from kenning.gui.background_task import TaskDialog, run_with_progress
from kenning.models.catalogue import CATALOGUE, DEFAULT_MODEL, ModelSpec
from kenning.models.library import InstalledModel, ModelLibrary
from kenning.settings import GPU_CHOICES, Settings, is_server_address

GPU_LABELS = {"auto": "Automatic (use it when available)", "on": "Always", "off": "Never"}
COLUMNS = ("Model", "Languages", "Dimensions", "Size", "State")
NAME, LANGUAGES, DIMENSIONS, SIZE, STATE = range(len(COLUMNS))


def megabytes(n: int) -> str:
    return f"{n / 1e6:,.0f} MB"


class SettingsDialog(QDialog):
    def __init__(self, data_dir: Path, settings: Settings, index_model: str | None, parent=None, *,
                 index_dimensions: int | None = None, switching=None, passages: int | None = None):
        """`index_model`/`index_dimensions`: what the index uses now (None: nothing indexed yet);
        `switching`: the engine's `SwitchState` while a switch is pending; `passages`: how many
        passages a switch embeds again (for the question asked before one starts)."""
        super().__init__(parent)
        self.data_dir = Path(data_dir)
        self.original = settings
        self.index_model = index_model
        self.index_dimensions = index_dimensions
        self.switching = switching
        self.passages = passages
        self.reembed = False  # set when the user agreed to re-embed everything
        self.switch_to: tuple[str, int] | None = None  # set when the user agreed to a model switch
        self.cancel_switch = False  # set when the user chose the current model again mid-switch
        self.installed: dict[str, InstalledModel] = {}
        self.download_dialog: TaskDialog | None = None
        self.setWindowTitle("Settings — Kenning")
        self.setMinimumSize(QSize(720, 540))

        self.models = QTreeWidget()
        self.models.setAccessibleName("Embedding models")
        self.models.setColumnCount(len(COLUMNS))
        self.models.setHeaderLabels(COLUMNS)
        self.models.setRootIsDecorated(False)
        self.models.setUniformRowHeights(True)
        self.models.setAllColumnsShowFocus(True)
        self.models.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.models.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(LANGUAGES, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(DIMENSIONS, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(SIZE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(STATE, QHeaderView.ResizeMode.Stretch)
        rows = max(6, len(CATALOGUE) + 2)
        row_height = self.fontMetrics().height() + 4
        self.models.setMinimumHeight(rows * row_height + self.models.header().sizeHint().height() + 6)
        self.model_details = QLabel()
        self.model_details.setWordWrap(True)
        self.model_details.setTextFormat(Qt.TextFormat.RichText)
        self.model_details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model_note = QLabel()
        self.model_note.setWordWrap(True)
        # Room for the usual number of lines, so the list does not jump as the choice changes.
        line = self.fontMetrics().lineSpacing()
        self.model_details.setMinimumHeight(3 * line)
        self.model_details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.model_note.setMinimumHeight(2 * line)
        self.model_note.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        self.download_button = QPushButton("Download…")
        self.download_button.setToolTip("Download the chosen model from the Hugging Face Hub, "
                                        "checked against a pinned checksum")
        self.download_button.clicked.connect(self.download_model)
        import_button = QPushButton("Import model file…")
        import_button.setToolTip("Add an embedding model file (.gguf, the format llama.cpp reads)")
        import_button.clicked.connect(self.import_gguf)
        convert_button = QPushButton("Convert folder…")
        convert_button.setToolTip("Convert a downloaded Hugging Face model folder (BERT, NomicBERT, XLM-R) "
                                  "into a model file Kenning can use")
        convert_button.clicked.connect(self.convert_folder)
        self.dimensions = QComboBox()
        self.dimensions.setAccessibleName("Vector size")
        self.dimensions.setToolTip("Smaller vectors make a smaller index and faster search, at some "
                                   "cost in ranking quality (only for models trained for it)")
        self.dimensions.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.dimensions.currentIndexChanged.connect(self._update_model_note)
        self.dimensions_label = QLabel("Index size:")
        self.dimensions_label.setBuddy(self.dimensions)
        model_buttons = QHBoxLayout()
        model_buttons.setContentsMargins(0, 0, 0, 0)
        model_buttons.addWidget(self.download_button)
        model_buttons.addWidget(import_button)
        model_buttons.addWidget(convert_button)
        model_buttons.addStretch()
        model_buttons.addWidget(self.dimensions_label)
        model_buttons.addWidget(self.dimensions)
        model_box = QGroupBox("Embedding model")
        model_layout = QVBoxLayout(model_box)
        model_layout.addWidget(self.models, 1)
        model_layout.addWidget(self.model_details)
        model_layout.addLayout(model_buttons)
        model_layout.addWidget(self.model_note)

        self.proxy = QLineEdit(settings.proxy)
        self.proxy.setAccessibleName("Download proxy")
        self.proxy.setPlaceholderText("The system's (HTTPS_PROXY), if any")
        self.proxy.setToolTip("An HTTP(S) proxy for model downloads, e.g. http://proxy.example.com:3128")
        self.proxy.setClearButtonEnabled(True)

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
        self.chunk.setSuffix(" word pieces")
        self.chunk.setValue(settings.chunk_tokens)
        self.chunk.setToolTip("How much text each search result's passage holds (a word piece is about "
                              "three quarters of a word). Changing it reads every file again.")

        languages = ocr_languages()
        self.ocr = QCheckBox("Read scanned pages and images (OCR)")
        self.ocr.setChecked(settings.ocr)
        self.ocr.setToolTip("With Tesseract installed, pages without text and photos of text are read "
                            "in the background" if languages else
                            "Install Tesseract to read scanned pages and images (see the README)")
        self.ocr_languages = QLineEdit(settings.ocr_languages)
        self.ocr_languages.setAccessibleName("OCR languages")
        self.ocr_languages.setPlaceholderText("Automatic: your system's language and English")
        self.ocr_languages.setToolTip("Tesseract's language names joined by +, e.g. deu+eng. Installed: "
                                      + (", ".join(languages) or "none (Tesseract is not installed)"))
        self.ocr_languages.setEnabled(settings.ocr)
        self.ocr.toggled.connect(self.ocr_languages.setEnabled)

        self.database = QLineEdit(settings.database)
        self.database.setAccessibleName("Shared index address")
        self.database.setPlaceholderText("This computer (leave empty), or postgresql://server/database")
        self.database.setToolTip("A team's index on a PostgreSQL server with pgvector, shared by several "
                                 "computers. The password is never saved: keep it in ~/.pgpass or PGPASSWORD.")
        self.database.setClearButtonEnabled(True)

        self.login = QCheckBox("Start Kenning when I log in")
        self.login.setChecked(autostart.enabled() if autostart.supported() else False)
        self.login.setEnabled(autostart.supported())
        if not autostart.supported():
            self.login.setToolTip("Not available on this system yet")

        form = QFormLayout()
        form.addRow("Download proxy:", self.proxy)
        form.addRow("GPU:", self.gpu)
        form.addRow("Threads:", self.threads)
        form.addRow("Passage size:", self.chunk)
        form.addRow("", self.ocr)
        form.addRow("OCR languages:", self.ocr_languages)
        form.addRow("Shared index:", self.database)
        form.addRow("", self.login)
        note = QLabel("Saved changes take effect at once: indexing restarts with them, and searching "
                      "reloads the model.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(model_box, 1)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.models.currentItemChanged.connect(lambda *_: self._on_model_chosen())
        if switching is not None:
            first = switching.model
        else:
            first = settings.model if not index_model and settings.model else index_model or DEFAULT_MODEL
        self.refresh_models(first)

    # -- the model list --------------------------------------------------------------------------

    @property
    def in_use(self) -> str:
        """The model the index uses, or (nothing indexed yet) the one it will use."""
        return self.index_model or self.original.model or DEFAULT_MODEL

    def spec(self, name: str) -> ModelSpec:
        if name in self.installed:
            return self.installed[name].spec
        if name in CATALOGUE:
            return CATALOGUE[name]
        # A model the index names but whose file is gone (deleted by hand).
        return ModelSpec(name=name, file="", dimensions=self.index_dimensions or 0, pooling="mean",
                         max_tokens=0, languages="unknown", description="its file is missing")

    def refresh_models(self, select: str | None = None) -> None:
        select = select or self.chosen_model()
        self.installed = {m.spec.name: m for m in ModelLibrary(self.data_dir).installed()}
        names = list(CATALOGUE) + sorted(n for n in self.installed if n not in CATALOGUE)
        for name in (self.in_use, self.switching.model if self.switching else None):
            if name and name not in names:
                names.append(name)
        self.models.blockSignals(True)
        self.models.clear()
        for name in names:
            spec = self.spec(name)
            dims = str(spec.dimensions)
            if spec.matryoshka_dimensions:
                dims = f"{min(spec.matryoshka_dimensions)}–{spec.dimensions}"
            item = QTreeWidgetItem([name, spec.languages, dims, self._size(name), self._state(name)])
            item.setData(NAME, Qt.ItemDataRole.UserRole, name)
            tip = "\n".join(part for part in (spec.description, spec.quality) if part)
            for column in range(len(COLUMNS)):
                item.setToolTip(column, tip)
            if name == self.in_use:
                font = item.font(NAME)
                font.setBold(True)
                item.setFont(NAME, font)
            self.models.addTopLevelItem(item)
        self.models.blockSignals(False)
        rows = [row for i in range(self.models.topLevelItemCount()) if (row := self.models.topLevelItem(i))]
        current = next((item for item in rows if item.data(NAME, Qt.ItemDataRole.UserRole) == select), rows[0])
        self.models.setCurrentItem(current)
        self._on_model_chosen()

    def _size(self, name: str) -> str:
        model = self.installed.get(name)
        try:
            return megabytes(model.path.stat().st_size) if model else ""
        except OSError:
            return ""

    def _state(self, name: str) -> str:
        spec = self.spec(name)
        switching = self.switching
        if name == self.in_use:
            return "In use" if self.index_model else "Chosen (nothing indexed yet)"
        if switching is not None and name == switching.model:
            return f"Index being built ({switching.fraction:.0%})"
        if name in self.installed:
            return "Installed"
        if spec.embedded:
            return "Built in (prepared on first use)"
        if spec.download:
            state = f"Download {megabytes(spec.download.size)}"
            partial = model_tasks.partial_download(self.data_dir, spec)
            return state + (f" ({megabytes(partial)} done; resumes)" if partial else "")
        return "Convert from its Hugging Face folder"

    def chosen_model(self) -> str | None:
        item = self.models.currentItem()
        return item.data(NAME, Qt.ItemDataRole.UserRole) if item else None

    def chosen_dimensions(self) -> int:
        name = self.chosen_model()
        return self.dimensions.currentData() or (self.spec(name).dimensions if name else 0)

    def usable(self, name: str) -> bool:
        """Installed, or the built-in default (prepared on first use)."""
        return name in self.installed or self.spec(name).embedded

    def _current_dimensions(self, name: str) -> int | None:
        """The vector size `name` has (or will have) in the index, if it is in use or being built."""
        if name == self.index_model:
            return self.index_dimensions or self.spec(name).dimensions
        if self.switching is not None and name == self.switching.model:
            return self.switching.dimensions
        return None

    def _on_model_chosen(self) -> None:
        name = self.chosen_model()
        if name is None:
            return
        spec = self.spec(name)
        self.download_button.setEnabled(
            name not in self.installed and not spec.embedded and spec.download is not None
            and self.download_dialog is None)
        self.dimensions.blockSignals(True)
        self.dimensions.clear()
        sizes = sorted(set(spec.matryoshka_dimensions) | {spec.dimensions}, reverse=True)
        for size in sizes:
            self.dimensions.addItem(f"{size} (full size)" if size == spec.dimensions else str(size), size)
        current = self._current_dimensions(name) or spec.dimensions
        self.dimensions.setCurrentIndex(max(0, self.dimensions.findData(current)))
        self.dimensions.blockSignals(False)
        for widget in (self.dimensions, self.dimensions_label):
            widget.setEnabled(len(sizes) > 1)
        def escape(text: str) -> str:
            return html.escape(text, quote=False)

        details = [f"<b>{escape(name)}</b>: {escape(spec.description or spec.languages)}",
                   f"Reads up to about {spec.max_tokens * 3 // 4:,} words at a time · {escape(spec.languages)}"]
        if spec.quality:
            details.append(f"Published quality (benchmark scores, higher is better): {escape(spec.quality)}")
        self.model_details.setText("<br>".join(details))
        self._update_model_note()

    def _update_model_note(self) -> None:
        self.model_note.setText(self.model_note_text())

    def model_note_text(self) -> str:
        name = self.chosen_model()
        if name is None:
            return ""
        spec, dims = self.spec(name), self.chosen_dimensions()
        switching = self.switching
        if not self.usable(name):
            if spec.download:
                return (f"{name} is not installed. Download… fetches {megabytes(spec.download.size)} from "
                        f"{spec.download.host} and checks it against a pinned checksum; nothing is "
                        "downloaded unless you click it.")
            return (f"{name} is not installed. Download its folder from the Hugging Face Hub and add "
                    "it with Convert folder….")
        if not self.index_model:
            return "Models run on this computer; nothing is sent anywhere."
        if (name, dims) == (self.index_model, self._current_dimensions(self.index_model)):
            if switching is not None:
                return (f"The index for {switching.model} is being built. Saving with {name} chosen "
                        "stops that and keeps the current index.")
            return "Models run on this computer; nothing is sent anywhere."
        if switching is not None and (name, dims) == (switching.model, switching.dimensions):
            return (f"The index for {name} is being built ({switching.done:,} of {switching.total:,} "
                    f"passages); search uses {self.index_model} until it is done.")
        return (f"Saving builds a new index for {name} in the background, beside the current one: "
                f"search keeps using {self.index_model} until it is done.")

    # -- adding models ---------------------------------------------------------------------------

    def download_model(self) -> None:
        """Download the chosen catalogue model: only ever started by this button."""
        name = self.chosen_model()
        spec = self.spec(name) if name else None
        if spec is None or spec.download is None or self.download_dialog is not None:
            return
        proxy = self.proxy.text().strip() or None
        dialog = TaskDialog(
            self, "Downloading model", f"Downloading {name} from {spec.download.host}",
            lambda task: model_tasks.download(self.data_dir, spec, task, proxy))
        dialog.completed.connect(lambda ok, value: self._after_download(spec.name, dialog, ok, value))
        self.download_dialog = dialog
        self.download_button.setEnabled(False)
        dialog.start()

    def _after_download(self, name: str, dialog: TaskDialog, ok: bool, result) -> None:
        self.download_dialog = None  # it stays a hidden child of this dialog (a deleteLater
        # on a child of a dialog that is closed before the event runs crashes PySide)
        self.refresh_models(name)
        if ok:
            switch = self.index_model and name != self.index_model
            what = "Save to build the index for it" if switch else "Save to use it"
            QMessageBox.information(self, "Model installed", f"{name} is downloaded and installed. {what}.")
        elif not dialog.cancelled:
            QMessageBox.warning(self, "Download failed", f"{name} could not be downloaded:\n\n{result}")

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
            QMessageBox.information(self, "Model installed",
                                    f"{spec.name} is installed ({spec.dimensions} dimensions).")
        else:
            QMessageBox.warning(self, "Model not installed", str(result))

    # -- result ----------------------------------------------------------------------------------

    def chosen(self) -> Settings:
        # The model is never a setting: it is the index's, reached by a switch (`switch_to`),
        # which binds an empty index at once.
        return replace(
            self.original,
            model=None,
            gpu=self.gpu.currentData(),
            threads=self.threads.value() or None,
            chunk_tokens=self.chunk.value(),
            ocr=self.ocr.isChecked(),
            ocr_languages="+".join(name for name in re.split(r"[+,\s]+", self.ocr_languages.text()) if name),
            proxy=self.proxy.text().strip(),
            start_at_login=self.login.isChecked(),
            database=self.database.text().strip(),
        )

    def accept(self) -> None:
        if self.download_dialog is not None:
            return
        name, dims = self.chosen_model(), self.chosen_dimensions()
        if name and not self.usable(name):
            QMessageBox.information(self, "Model not installed", self.model_note_text())
            return
        switch_to, cancel_switch = None, False
        if name and not self.index_model:  # nothing indexed yet: the model (and size) apply at once
            if (name, dims) != (DEFAULT_MODEL, self.spec(DEFAULT_MODEL).dimensions):
                switch_to = (name, dims)
        elif self.index_model and name:
            current = (self.index_model, self._current_dimensions(self.index_model))
            target = (self.switching.model, self.switching.dimensions) if self.switching else None
            if (name, dims) == current and target:
                answer = QMessageBox.question(
                    self, "Stop the model switch?",
                    f"Stop building the index for {target[0]} and keep using {self.index_model}? "
                    "The part built so far is discarded.")
                if answer != QMessageBox.StandardButton.Yes:
                    return
                cancel_switch = True
            elif (name, dims) not in (current, target):
                passages = f"its {self.passages:,} passages" if self.passages else "every passage"
                size = f" at {dims} dimensions" if dims != self.spec(name).dimensions else ""
                answer = QMessageBox.question(
                    self, "Switch the model?",
                    f"Switch the index to {name}{size}?\n\nKenning embeds {passages} again with "
                    f"{name} in the background, beside the current index. Search keeps using "
                    f"{self.index_model} until the new index is complete, then switches at once. "
                    "You can follow or cancel it in Index status.")
                if answer != QMessageBox.StandardButton.Yes:
                    return
                switch_to = (name, dims)
        chosen = self.chosen()
        if chosen.database and not is_server_address(chosen.database):
            QMessageBox.information(self, "Shared index", "A shared index's address begins with postgresql:// "
                                    "(e.g. postgresql://kenning@nas.local/team), or leave it empty for "
                                    "the index on this computer.")
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
        self.switch_to, self.cancel_switch = switch_to, cancel_switch
        super().accept()

    def reject(self) -> None:
        if self.download_dialog is None:  # a download finishes (or is cancelled) first
            super().reject()
