"""Text extraction: one module per format behind the interface in `base`.

`extract(path)` picks the module by file extension and returns a `Document`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from kenning.extract import plaintext
from kenning.extract.base import Document, ExtractionError, Section, UnsupportedFile

# Format module -> the extensions it reads. A module (and the library behind it: PyMuPDF,
# openpyxl, python-docx...) is imported the first time a file of its kind is read, so commands
# that read no files start fast.
FORMATS: dict[str, tuple[str, ...]] = {
    "mupdf": (".pdf", ".epub", ".xps", ".oxps", ".mobi"),
    "fictionbook": (".fb2",),
    "word": (".docx",),
    "powerpoint": (".pptx",),
    "excel": (".xlsx", ".xlsm"),
    "opendocument": (".odt", ".ods", ".odp"),
    "webpage": (".html", ".htm", ".xhtml"),
    "mail": (".eml",),
    "image": (".png", ".jpg", ".jpeg", ".jfif", ".tif", ".tiff", ".webp", ".bmp", ".gif"),
    "plaintext": plaintext.EXTENSIONS,
}
_BY_EXTENSION = {ext: name for name, extensions in FORMATS.items() for ext in extensions}

__all__ = ["FORMATS", "Document", "ExtractionError", "Section", "UnsupportedFile", "extract", "known_types", "supported"]


def supported(path: Path) -> bool:
    return _extension(path) in _BY_EXTENSION


def known_types() -> list[str]:
    """Every file type the indexer reads, as filters name them ("pdf", "docx", "txt")."""
    return sorted(ext.lstrip(".") for ext in _BY_EXTENSION)


def file_type(path: Path) -> str:
    """The type name used in filters: the extension without its dot ("pdf", "docx", "txt")."""
    return _extension(path).lstrip(".") or "none"


def extract(path: Path) -> Document:
    name = _BY_EXTENSION.get(_extension(path))
    if name is None:
        raise UnsupportedFile(f"unsupported file type {_extension(path) or '(none)'}")
    return _module(name).extract(Path(path))


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"kenning.extract.{name}")


def _extension(path: Path) -> str:
    return Path(path).suffix.lower()
