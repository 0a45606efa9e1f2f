"""OpenDocument text, spreadsheets and presentations (.odt .ods .odp, and the flat XML .fodt .fods
.fodp) through odfpy.

Text documents give one section; spreadsheets one per sheet (page = sheet number), with rows as
tab-separated lines; presentations one per slide (page = slide number), speaker notes included.
Rows or cells marked as repeated are read once.
"""

from __future__ import annotations

import io
from pathlib import Path
from xml.dom import Node
from xml.sax import handler
from xml.sax.xmlreader import InputSource

from odf import dc, meta
from odf.opendocument import OpenDocument, load

from kenning.extract.base import Document, ExtractionError, Section, check_zip, read_bytes_limited

_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"

_PARAGRAPHS = {(_TEXT, "p"), (_TEXT, "h")}
_ROW, _SHEET, _SLIDE = (_TABLE, "table-row"), (_TABLE, "table"), (_DRAW, "page")
_CELLS = {(_TABLE, "table-cell"), (_TABLE, "covered-table-cell")}
# Deleted text kept for change tracking, comments, and the list of footnote/figure counters.
_SKIP = {(_TEXT, "tracked-changes"), (_OFFICE, "annotation"), (_TEXT, "sequence-decls")}


FLAT_SUFFIXES = (".fodt", ".fods", ".fodp", ".fodg")  # one XML file instead of a zip archive
MAX_FLAT_BYTES = 256 * 2**20


def _load_flat(path: Path) -> OpenDocument:
    """A flat OpenDocument file, parsed into the same structure odfpy's `load` gives for a zip."""
    from defusedxml.sax import make_parser
    from odf.load import LoadParser

    data = read_bytes_limited(path, MAX_FLAT_BYTES)
    doc = OpenDocument("application/vnd.oasis.opendocument.text", add_generator=False)
    doc._parsing = "content.xml"
    parser = make_parser()
    parser.setFeature(handler.feature_namespaces, 1)
    parser.setFeature(handler.feature_external_ges, 0)
    parser.setContentHandler(LoadParser(doc))
    parser.setErrorHandler(handler.ErrorHandler())
    source = InputSource()
    source.setByteStream(io.BytesIO(data))
    parser.parse(source)
    return doc


def extract(path: Path) -> Document:
    if path.stat().st_size == 0:
        return Document()
    flat = path.suffix.lower() in FLAT_SUFFIXES
    if not flat:
        check_zip(path, "OpenDocument")
    try:
        doc = _load_flat(path) if flat else load(str(path))
        # The content decides, not the extension: office:text, spreadsheet, presentation...
        content = next(c for c in doc.body.childNodes if c.nodeType == Node.ELEMENT_NODE)
        kind = content.qname[1]
        if kind == "spreadsheet":
            sections = _numbered(content, _SHEET)
        elif kind in ("presentation", "drawing"):
            sections = _numbered(content, _SLIDE)
        else:
            sections = [Section("\n\n".join(_blocks(content)))]
        title = _meta_text(doc, dc.Title)
        author = _meta_text(doc, dc.Creator) or _meta_text(doc, meta.InitialCreator)
    except MemoryError:
        raise
    except Exception as e:  # odfpy raises KeyError, SAX errors, AttributeError... on bad input
        raise ExtractionError("damaged or not an OpenDocument file") from e
    return Document(sections, title, author)


def _numbered(body, kind) -> list[Section]:
    parts = [child for child in body.childNodes if _qname(child) == kind]
    return [Section("\n".join(_blocks(part)), n) for n, part in enumerate(parts, 1)]


def _blocks(node) -> list[str]:
    """Paragraph texts and table rows under `node`, in document order."""
    result = []
    for child in node.childNodes:
        name = _qname(child)
        if name in _PARAGRAPHS:
            result.append(_text(child))
        elif name == _ROW:
            cells = (" ".join(_blocks(c)) for c in child.childNodes if _qname(c) in _CELLS)
            result.append("\t".join(cells).rstrip("\t"))
        elif name is not None and name not in _SKIP:
            result.extend(_blocks(child))
    return [text for text in result if text.strip()]


def _text(node) -> str:
    """A paragraph's text with <text:s/>, tabs and line breaks evaluated."""
    parts = []
    for child in node.childNodes:
        name = _qname(child)
        if child.nodeType == Node.TEXT_NODE:
            parts.append(child.data)
        elif name == (_TEXT, "s"):
            count = child.getAttribute("c") or "1"
            parts.append(" " * min(int(count) if count.isdigit() else 1, 100))
        elif name == (_TEXT, "tab"):
            parts.append("\t")
        elif name == (_TEXT, "line-break"):
            parts.append("\n")
        elif name in _PARAGRAPHS:  # a paragraph nested in a frame or a note
            parts.append("\n" + _text(child) + "\n")
        elif name is not None and name not in _SKIP:
            parts.append(_text(child))
    return "".join(parts)


def _qname(node):
    return node.qname if node.nodeType == Node.ELEMENT_NODE else None


def _meta_text(doc, element_type) -> str | None:
    for element in doc.meta.getElementsByType(element_type):
        text = _text(element).strip()
        if text:
            return text
    return None
