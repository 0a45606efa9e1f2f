"""The optional programs some formats need, and whether this machine has them (for `kenning
status` and the app's status view): a missing one means those files are reported, not read."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from kenning.extract.ocr import installed_languages, tesseract_program


@dataclass(frozen=True)
class Tool:
    name: str
    purpose: str
    path: str | None  # where it is; None when it is not installed
    detail: str = ""

    def describe(self) -> str:
        if self.path is None:
            return f"{self.name}: not installed ({self.purpose} are reported, not read)"
        return f"{self.name}: {self.path} (for {self.purpose}" + (f"; {self.detail})" if self.detail else ")")


def optional_tools() -> list[Tool]:
    from kenning.extract.archive import rar_decoder

    tesseract = tesseract_program()
    languages = ", ".join(installed_languages()) or "no language installed"
    old_word = shutil.which("antiword") or shutil.which("catdoc")
    return [
        Tool("Tesseract", "scanned pages and images", tesseract, f"OCR languages: {languages}" if tesseract else ""),
        Tool("RAR decoder (unrar, unar, 7z or bsdtar)", "RAR archives", rar_decoder()),
        Tool("antiword or catdoc", "Word 6/95 documents", old_word),
    ]
