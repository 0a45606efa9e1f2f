"""Text extraction: one module per format behind the interface in `base`.

`extract(path)` picks the module by file extension and returns a `Document`.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from kenning.extract import (
    excel,
    fictionbook,
    mail,
    mupdf,
    opendocument,
    plaintext,
    powerpoint,
    webpage,
    word,
)
from kenning.extract.base import Document, ExtractionError, Section, UnsupportedFile

_MODULES: tuple[ModuleType, ...] = (
    mupdf,
    fictionbook,
    word,
    powerpoint,
    excel,
    opendocument,
    webpage,
    mail,
    plaintext,
)
_BY_EXTENSION = {ext: module for module in _MODULES for ext in module.EXTENSIONS}

__all__ = ["Document", "ExtractionError", "Section", "UnsupportedFile", "extract", "supported"]


def supported(path: Path) -> bool:
    return _extension(path) in _BY_EXTENSION


def file_type(path: Path) -> str:
    """The type name used in filters: the extension without its dot ("pdf", "docx", "txt")."""
    return _extension(path).lstrip(".") or "none"


def extract(path: Path) -> Document:
    module = _BY_EXTENSION.get(_extension(path))
    if module is None:
        raise UnsupportedFile(f"unsupported file type {_extension(path) or '(none)'}")
    return module.extract(Path(path))


def _extension(path: Path) -> str:
    return Path(path).suffix.lower()
