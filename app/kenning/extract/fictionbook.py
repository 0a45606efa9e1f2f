"""FictionBook 2 (.fb2) e-books, read as XML here rather than through MuPDF.

MuPDF 1.28 segfaults on FB2 files that are not well-formed XML (even a lone "<"), which would
take the whole indexer down. lxml (a dependency of python-docx and python-pptx) reads them in
recover mode instead: a truncated book still gives the text before the cut.
One section per <body> (the main text, then notes); FB2 has no pages.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from kenning.extract.base import Document, ExtractionError, Section

_TEXT_ELEMENTS = {"p", "v", "subtitle", "text-author", "td", "th"}


def extract(path: Path) -> Document:
    if path.stat().st_size == 0:
        return Document()
    parser = etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.parse(str(path), parser).getroot()
    except (etree.XMLSyntaxError, OSError, ValueError) as e:
        raise ExtractionError("not a valid FB2 file") from e
    if root is None or _name(root) != "FictionBook":
        raise ExtractionError("not a valid FB2 file")

    sections = []
    for body in _children(root, "body"):
        paragraphs = (
            " ".join("".join(element.itertext()).split())
            for element in body.iter()
            if _name(element) in _TEXT_ELEMENTS
        )
        text = "\n\n".join(p for p in paragraphs if p)
        if text:
            sections.append(Section(text))
    title_info = _first(_first(root, "description"), "title-info")
    return Document(sections, _title(title_info), _author(title_info))


def _children(element, name: str) -> list:
    if element is None:
        return []
    return [child for child in element if _name(child) == name]


def _name(element) -> str | None:
    """The tag without its namespace; None for comments and processing instructions."""
    return element.tag.rpartition("}")[2] if isinstance(element.tag, str) else None


def _first(element, name: str):
    found = _children(element, name)
    return found[0] if found else None


def _text(element) -> str:
    return " ".join("".join(element.itertext()).split()) if element is not None else ""


def _title(title_info) -> str | None:
    return _text(_first(title_info, "book-title")) or None


def _author(title_info) -> str | None:
    author = _first(title_info, "author")
    parts = [_text(_first(author, n)) for n in ("first-name", "middle-name", "last-name")]
    name = " ".join(p for p in parts if p) or _text(_first(author, "nickname"))
    return name or None
