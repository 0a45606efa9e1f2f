"""Word documents (.docx) through python-docx: body paragraphs, tables, text boxes, headers.

The body is walked at the XML level so that content controls (w:sdt) and text boxes, which
python-docx's own iterators skip, are read too. Word files have no reliable page numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import docx
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from kenning.extract.base import Document, ExtractionError, Section, check_zip

_P, _TBL, _SDT, _SDT_CONTENT = qn("w:p"), qn("w:tbl"), qn("w:sdt"), qn("w:sdtContent")
_TR, _TC, _TXBX = qn("w:tr"), qn("w:tc"), qn("w:txbxContent")
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def extract(path: Path) -> Document:
    if path.stat().st_size == 0:
        return Document()
    check_zip(path, "Word")
    try:
        document = docx.Document(str(path))
        body = _blocks(document.element.body)
        headers = _headers_and_footers(document)
        properties = document.core_properties
        title, author = properties.title, properties.author
    except MemoryError:
        raise
    except Exception as e:  # python-docx raises KeyError, ValueError, lxml errors... on bad input
        raise ExtractionError("damaged or not a Word document") from e
    sections = [Section(text) for text in ("\n\n".join(body), "\n\n".join(headers)) if text]
    return Document(sections, (title or "").strip() or None, (author or "").strip() or None)


def _blocks(container) -> list[str]:
    """Paragraph and table texts of a body, cell, header or text box, in document order."""
    result = []
    for child in container:
        if child.tag == _P:
            result.append(Paragraph(child, cast(Any, None)).text)
            for box in child.iter(_TXBX):
                # Drawing text boxes carry a VML copy in mc:Fallback; read only one of the two.
                if not any(a.tag == _FALLBACK for a in box.iterancestors()):
                    result.extend(_blocks(box))
        elif child.tag == _TBL:
            result.extend(_table_rows(child))
        elif child.tag == _SDT:
            for content in child.iter(_SDT_CONTENT):
                result.extend(_blocks(content))
                break
    return [text for text in result if text.strip()]


def _table_rows(table) -> list[str]:
    rows = []
    for row in (r for r in table if r.tag == _TR):
        cells = (" ".join(_blocks(c)).replace("\n", " ") for c in row if c.tag == _TC)
        rows.append("\t".join(c for c in cells if c.strip()))
    return rows


def _headers_and_footers(document) -> list[str]:
    seen, result = set(), []
    for section in document.sections:
        for part in (section.header, section.footer):
            if part.is_linked_to_previous:
                continue
            for text in _blocks(part._element):
                if text not in seen:
                    seen.add(text)
                    result.append(text)
    return result
