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
    "opendocument": (".odt", ".ods", ".odp", ".fodt", ".fods", ".fodp"),
    "webpage": (".html", ".htm", ".xhtml"),
    "mail": (".eml",),
    "outlook": (".msg",),
    "word97": (".doc",),
    "excel97": (".xls", ".xlt"),
    "powerpoint97": (".ppt", ".pps"),
    "rtf": (".rtf",),
    "subtitles": (".srt", ".vtt"),
    "table": (".csv", ".tsv"),
    "image": (".png", ".jpg", ".jpeg", ".jfif", ".tif", ".tiff", ".webp", ".bmp", ".gif"),
    "plaintext": plaintext.EXTENSIONS,
}
_BY_EXTENSION = {ext: name for name, extensions in FORMATS.items() for ext in extensions}

__all__ = ["FORMATS", "Document", "ExtractionError", "Section", "UnsupportedFile", "extract", "known_types", "supported"]


def supported(path: Path) -> bool:
    """Whether Kenning reads this file: a document, an archive or mailbox (see `containers`)."""
    return _format(Path(path)) is not None or _container(Path(path))


def known_types() -> list[str]:
    """Every file type the indexer reads, as filters name them ("pdf", "docx", "txt")."""
    return sorted({ext.lstrip(".") for ext in _BY_EXTENSION} | {"eml", "zip", "tar", "gz", "bz2", "xz", "tgz",
                                                                 "7z", "rar", "mbox"})


def file_type(path: Path) -> str:
    """The type name used in filters: the extension without its dot ("pdf", "docx", "txt")."""
    path = Path(path)
    if _extension(path) not in _BY_EXTENSION and _is_maildir_message(path):
        return "eml"
    return _extension(path).lstrip(".") or "none"


def extract(path: Path) -> Document:
    name = _format(Path(path))
    if name is None:
        raise UnsupportedFile(f"unsupported file type {_extension(path) or '(none)'}")
    return _module(name).extract(Path(path))


def _format(path: Path) -> str | None:
    name = _BY_EXTENSION.get(_extension(path))
    if name is None and _is_maildir_message(path):
        return "mail"
    return name


def _is_maildir_message(path: Path) -> bool:
    """A message in a Maildir folder (`cur/` or `new/` beside `tmp/`): a file per message, unnamed by type."""
    parent = path.parent
    return parent.name in ("cur", "new") and (parent.parent / "tmp").is_dir() and not path.name.startswith(".")


def _container(path: Path) -> bool:
    from kenning.extract.containers import is_container

    return is_container(path)


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"kenning.extract.{name}")


def _extension(path: Path) -> str:
    return Path(path).suffix.lower()
