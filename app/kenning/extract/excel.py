"""Excel workbooks (.xlsx, .xlsm) through openpyxl: one section per sheet, page = sheet number.

Rows become tab-separated lines; empty rows are skipped. Formulas give their cached values.
Reading stops after `MAX_CELLS` cells so that a huge or sparse-but-wide sheet cannot exhaust memory.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import openpyxl

from kenning.extract.base import Document, ExtractionError, Section, check_zip

MAX_CELLS = 2_000_000


def extract(path: Path) -> Document:
    if path.stat().st_size == 0:
        return Document()
    check_zip(path, "Excel", xml_limit=2**30)  # sheets are streamed, so allow more XML
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as e:  # openpyxl raises KeyError, InvalidFileException, lxml errors...
        raise ExtractionError("damaged or not an Excel workbook") from e
    try:
        sections, budget = [], MAX_CELLS
        for number, sheet in enumerate(workbook.worksheets, 1):
            if budget <= 0:
                break
            sheet.reset_dimensions()  # the stored dimensions are often wrong; read what is there
            lines = []
            for row in sheet.iter_rows(values_only=True):
                budget -= len(row) or 1
                if budget < 0:
                    break
                cells = [_cell_text(v) for v in row]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    lines.append("\t".join(cells))
            sections.append(Section("\n".join(lines), number))
        properties = workbook.properties
        title, author = properties.title, properties.creator
    except MemoryError:
        raise
    except Exception as e:
        raise ExtractionError("damaged Excel workbook") from e
    finally:
        workbook.close()
    return Document(sections, (title or "").strip() or None, (author or "").strip() or None)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return " ".join(str(value).split("\t")).replace("\r\n", " ").replace("\n", " ").strip()
