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
        return f"{self.name}: {self.path}" + (f" ({self.detail})" if self.detail else "")


def optional_tools() -> list[Tool]:
    tesseract = tesseract_program()
    languages = ", ".join(installed_languages()) or "no language installed"
    return [
        Tool("Tesseract", "scanned pages and images", tesseract, f"OCR languages: {languages}" if tesseract else ""),
        *(Tool(name, purpose, shutil.which(name)) for name, purpose in _PROGRAMS),
    ]


_PROGRAMS: tuple[tuple[str, str], ...] = ()
