"""PowerPoint presentations (.pptx) through python-pptx: one section per slide, page = slide number.

A slide's text is its shapes' text (groups and tables included) followed by its speaker notes.
"""

from __future__ import annotations

from pathlib import Path

import pptx
from pptx.shapes.group import GroupShape

from kenning.extract.base import Document, ExtractionError, Section, check_zip


def extract(path: Path) -> Document:
    if path.stat().st_size == 0:
        return Document()
    check_zip(path, "PowerPoint")
    try:
        presentation = pptx.Presentation(str(path))
        sections = []
        for number, slide in enumerate(presentation.slides, 1):
            texts = _shape_texts(slide.shapes)
            if slide.has_notes_slide:
                texts.append(_frame_text(slide.notes_slide.notes_text_frame))
            sections.append(Section("\n\n".join(t for t in texts if t.strip()), number))
        properties = presentation.core_properties
        title, author = properties.title, properties.author
    except MemoryError:
        raise
    except Exception as e:  # python-pptx raises KeyError, ValueError, lxml errors... on bad input
        raise ExtractionError("damaged or not a PowerPoint presentation") from e
    return Document(sections, (title or "").strip() or None, (author or "").strip() or None)


def _shape_texts(shapes) -> list[str]:
    texts = []
    for shape in shapes:
        if isinstance(shape, GroupShape):
            texts.extend(_shape_texts(shape.shapes))
        elif shape.has_text_frame:
            texts.append(_frame_text(shape.text_frame))
        elif shape.has_table:
            for row in shape.table.rows:
                texts.append("\t".join(c.text.replace("\v", " ") for c in row.cells if c.text))
    return texts


def _frame_text(frame) -> str:
    if frame is None:
        return ""
    return frame.text.replace("\v", "\n")  # python-pptx writes line breaks (<a:br>) as \v
