"""File kinds as people name them (PDF, Word, Slides...), for the type filter and the icons.

The engine filters by extension ("pdf", "docx"); each kind lists the extensions it covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kenning.extract import plaintext


@dataclass(frozen=True)
class FileKind:
    key: str
    label: str
    badge: str  # up to 4 letters on the icon
    colour: str  # the icon's band; a content colour like a file manager's, not a UI colour
    extensions: tuple[str, ...]


_CODE = tuple(
    ext.lstrip(".")
    for ext in plaintext.EXTENSIONS
    if ext not in (".txt", ".text", ".md", ".markdown", ".rst", ".adoc", ".org", ".log", ".csv", ".tsv")
)

KINDS: tuple[FileKind, ...] = (
    FileKind("pdf", "PDF", "PDF", "#d0433a", ("pdf", "xps", "oxps")),
    FileKind("word", "Documents", "DOC", "#2f6cc4", ("docx", "odt")),
    FileKind("slides", "Presentations", "PPT", "#d4772a", ("pptx", "odp")),
    FileKind("sheet", "Spreadsheets", "XLS", "#2e8b57", ("xlsx", "xlsm", "ods", "csv", "tsv")),
    FileKind("book", "E-books", "BOOK", "#8a5cc2", ("epub", "mobi", "fb2")),
    FileKind("web", "Web pages", "HTML", "#1f8fa3", ("html", "htm", "xhtml")),
    FileKind("mail", "E-mail", "MAIL", "#b8860b", ("eml",)),
    FileKind("text", "Text and notes", "TXT", "#6b7a8f", ("txt", "text", "md", "markdown", "rst", "adoc", "org", "log")),
    FileKind("code", "Source code", "CODE", "#4a5a70", _CODE),
)
_BY_EXTENSION = {ext: kind for kind in KINDS for ext in kind.extensions}
OTHER = FileKind("other", "Other", "FILE", "#6b7a8f", ())


def kind_of(file_type_or_path: str) -> FileKind:
    """The kind of an engine file type ("pdf") or of a path ("/a/b.pdf")."""
    key = file_type_or_path.lower()
    if "/" in key or "\\" in key or "." in key:
        key = Path(key).suffix.lstrip(".")
    return _BY_EXTENSION.get(key, OTHER)


def by_key(key: str) -> FileKind | None:
    return next((kind for kind in KINDS if kind.key == key), None)
