"""Legacy Excel workbooks (.xls, Excel 97-2003) through xlrd: one section per sheet (page = sheet
number), rows as tab-separated lines, like `excel` does for .xlsx."""

from __future__ import annotations

from pathlib import Path

import xlrd

from kenning.extract.base import Document, ExtractionError, Section
from kenning.extract.excel import MAX_CELLS, _cell_text
from kenning.extract.ole import MAX_OLE_BYTES


def extract(path: Path) -> Document:
    if path.stat().st_size == 0:
        return Document()
    if path.stat().st_size > MAX_OLE_BYTES:
        raise ExtractionError(f"Excel file larger than {MAX_OLE_BYTES // 2**20} MB; not read")
    try:
        book = xlrd.open_workbook(str(path), on_demand=True, logfile=_Quiet())
    except MemoryError:
        raise
    except xlrd.biffh.XLRDError as exc:
        reason = "encrypted or password-protected" if "encrypt" in str(exc).lower() else "damaged or not an Excel workbook"
        raise ExtractionError(reason) from exc
    except Exception as exc:  # struct.error, IndexError, AssertionError... on damage
        raise ExtractionError("damaged or not an Excel workbook") from exc
    try:
        sections, budget = [], MAX_CELLS
        for number in range(book.nsheets):
            sheet = book.sheet_by_index(number)
            lines = []
            for row in range(sheet.nrows):
                budget -= sheet.ncols or 1
                if budget < 0:
                    break
                cells = [_cell_text(_value(book, sheet.cell(row, col))) for col in range(sheet.ncols)]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    lines.append("\t".join(cells))
            sections.append(Section("\n".join(lines), number + 1))
            book.unload_sheet(number)
            if budget < 0:
                break
        author = (book.user_name or "").strip() or None
    except MemoryError:
        raise
    except Exception as exc:
        raise ExtractionError("damaged Excel workbook") from exc
    finally:
        book.release_resources()
    return Document(sections, None, author)


def _value(book, cell):
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return cell.value
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype in (xlrd.XL_CELL_ERROR, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_EMPTY):
        return None
    return cell.value


class _Quiet:
    """xlrd writes warnings about odd files to a log file; they are not the user's business."""

    def write(self, text: str) -> None:
        pass

