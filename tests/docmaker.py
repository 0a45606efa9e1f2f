"""Write real documents of every supported format with known text, for tests and benchmarks.

`write_document(path, title, paragraphs, pages=None)` picks the format from the suffix of `path`:
.pdf .docx .pptx .xlsx .odt .ods .odp .html .htm .md .txt .eml .epub .fb2, and plain-text or
source-code suffixes (.py .js .c .rs .sql .tex .json .csv ...), where the text goes into comments.
`pages` groups the paragraphs by page, slide, sheet or chapter; when given it is used instead of
`paragraphs`. The title is written as a heading on the first page and into the metadata.

Not supported: XPS/OXPS and MOBI. MuPDF reads them, but neither it nor any library we depend on
writes them, so tests for those formats need fixture files made elsewhere.

Helpers for bad input: `write_encrypted_pdf`, `write_truncated_pdf`, `write_junk`.
"""

from __future__ import annotations

import csv
import email.utils
import io
import json
import random
import textwrap
import zipfile
import zlib
from datetime import datetime, timezone
from email.message import EmailMessage
from html import escape
from pathlib import Path

DEFAULT_AUTHOR = "Ada Lovelace"

_PDF_PAGE = (0, 0, 595, 842)  # A4 in points
_PDF_MARGIN = 56


def write_document(
    path: Path,
    title: str,
    paragraphs: list[str],
    *,
    pages: list[list[str]] | None = None,
    author: str = DEFAULT_AUTHOR,
) -> Path:
    path = Path(path)
    suffix = path.suffix.lower()
    groups = [list(g) for g in pages] if pages is not None else [list(paragraphs)]
    writer = _WRITERS.get(suffix)
    if writer is None:
        if suffix not in _COMMENT_PREFIX:
            raise ValueError(f"docmaker cannot write {suffix or 'files without a suffix'}")
        writer = _write_code
    path.parent.mkdir(parents=True, exist_ok=True)
    writer(path, title, groups, author)
    return path


# --- PDF -------------------------------------------------------------------------------------


def _pdf_bytes(
    title: str | None, groups: list[list[str]], author: str, compress: bool = True
) -> bytes:
    import pymupdf

    buffer = io.BytesIO()
    writer = pymupdf.DocumentWriter(buffer)
    page_rect = pymupdf.Rect(_PDF_PAGE)
    text_rect = page_rect + (_PDF_MARGIN, _PDF_MARGIN, -_PDF_MARGIN, -_PDF_MARGIN)
    for number, group in enumerate(groups):
        html = f"<h1>{escape(title)}</h1>" if title and number == 0 else ""
        html += "".join(f"<p>{escape(p)}</p>" for p in group)
        story = pymupdf.Story(html=html or "<p></p>")
        more = True
        while more:  # a long group flows onto as many pages as it needs
            device = writer.begin_page(page_rect)
            more, _ = story.place(text_rect)
            story.draw(device)
            writer.end_page()
    writer.close()
    doc = pymupdf.open("pdf", buffer.getvalue())
    doc.set_metadata({"title": title or "", "author": author, "creator": "docmaker"})
    return doc.tobytes(garbage=3, deflate=compress)


def _write_pdf(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    path.write_bytes(_pdf_bytes(title, groups, author))


def write_encrypted_pdf(path: Path, text: str, password: str) -> Path:
    """A PDF that needs `password` to open (AES-256)."""
    import pymupdf

    doc = pymupdf.open("pdf", _pdf_bytes("Secret", [[text]], DEFAULT_AUTHOR))
    doc.save(
        str(path),
        encryption=pymupdf.PDF_ENCRYPT_AES_256,
        user_pw=password,
        owner_pw=password + "-owner",
    )
    return Path(path)


def write_truncated_pdf(path: Path, keep: float = 0.5) -> Path:
    """A three-page PDF cut off after `keep` of its bytes (no cross-reference table left).

    Its streams are not compressed, so MuPDF's repair may still recover the first pages.
    """
    groups = [[f"Page {n} of a report about truncated files and lost endings."] for n in (1, 2, 3)]
    data = _pdf_bytes("Truncated", groups, DEFAULT_AUTHOR, compress=False)
    Path(path).write_bytes(data[: int(len(data) * keep)])
    return Path(path)


def write_junk(path: Path, size: int = 4096, seed: int = 0) -> Path:
    """Random bytes, whatever the suffix says."""
    Path(path).write_bytes(random.Random(seed).randbytes(size))
    return Path(path)


# --- Office Open XML -----------------------------------------------------------------------


def _write_docx(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.author = author
    document.add_heading(title, level=1)
    for number, group in enumerate(groups):
        if number:
            document.add_page_break()
        for paragraph in group:
            document.add_paragraph(paragraph)
    document.save(str(path))


def _write_pptx(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    import pptx

    presentation = pptx.Presentation()
    presentation.core_properties.title = title
    presentation.core_properties.author = author
    slides = groups if len(groups) > 1 else _chunks(groups[0], 1500)
    for number, group in enumerate(slides):
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])  # title and content
        if number == 0:
            slide.shapes.title.text = title
        else:
            title_shape = slide.shapes.title._element
            title_shape.getparent().remove(title_shape)
        body = slide.placeholders[1].text_frame
        body.text = group[0] if group else ""
        for paragraph in group[1:]:
            body.add_paragraph().text = paragraph
    presentation.save(str(path))


def _write_xlsx(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.properties.title = title
    workbook.properties.creator = author
    workbook.remove(workbook.active)
    for number, group in enumerate(groups, 1):
        sheet = workbook.create_sheet(f"Sheet{number}")
        if number == 1:
            sheet.append([title])
        for row, paragraph in enumerate(group, 1):
            sheet.append([row, *_pieces(paragraph, 32000)])  # a cell holds at most 32,767 chars
    workbook.save(str(path))


def _chunks(paragraphs: list[str], size: int) -> list[list[str]]:
    """Paragraphs grouped so that each group holds about `size` characters."""
    result: list[list[str]] = [[]]
    for paragraph in paragraphs:
        if result[-1] and sum(map(len, result[-1])) + len(paragraph) > size:
            result.append([])
        result[-1].append(paragraph)
    return result


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


# --- OpenDocument --------------------------------------------------------------------------


def _odf_meta(doc, title: str, author: str) -> None:
    from odf import dc, meta

    doc.meta.addElement(dc.Title(text=title))
    doc.meta.addElement(dc.Creator(text=author))
    doc.meta.addElement(meta.InitialCreator(text=author))


def _odf_paragraph(element_type, text: str, **attributes):
    from odf import teletype

    element = element_type(**attributes)
    teletype.addTextToElement(element, text)  # keeps runs of spaces, tabs and line breaks
    return element


def _write_odt(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    from odf import opendocument, style, text

    doc = opendocument.OpenDocumentText()
    _odf_meta(doc, title, author)
    page_break = style.Style(name="PageBreak", family="paragraph")
    page_break.addElement(style.ParagraphProperties(breakbefore="page"))
    doc.automaticstyles.addElement(page_break)
    doc.text.addElement(_odf_paragraph(text.H, title, outlinelevel=1))
    for number, group in enumerate(groups):
        for index, paragraph in enumerate(group):
            attributes = {"stylename": page_break} if number and index == 0 else {}
            doc.text.addElement(_odf_paragraph(text.P, paragraph, **attributes))
    doc.save(str(path))


def _write_ods(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    from odf import opendocument, table, text

    doc = opendocument.OpenDocumentSpreadsheet()
    _odf_meta(doc, title, author)
    for number, group in enumerate(groups, 1):
        sheet = table.Table(name=f"Sheet{number}")
        rows = ([title] if number == 1 else []) + group
        for value in rows:
            row = table.TableRow()
            cell = table.TableCell(valuetype="string")
            cell.addElement(_odf_paragraph(text.P, value))
            row.addElement(cell)
            sheet.addElement(row)
        doc.spreadsheet.addElement(sheet)
    doc.save(str(path))


def _write_odp(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    from odf import draw, opendocument, style, text

    doc = opendocument.OpenDocumentPresentation()
    _odf_meta(doc, title, author)
    layout = style.PageLayout(name="Screen")
    layout.addElement(style.PageLayoutProperties(pagewidth="28cm", pageheight="21cm"))
    doc.automaticstyles.addElement(layout)
    master = style.MasterPage(name="Default", pagelayoutname=layout)
    doc.masterstyles.addElement(master)
    slides = groups if len(groups) > 1 else _chunks(groups[0], 1500)
    for number, group in enumerate(slides, 1):
        page = draw.Page(name=f"Slide{number}", masterpagename=master)
        frame = draw.Frame(width="24cm", height="17cm", x="2cm", y="2cm")
        box = draw.TextBox()
        lines = ([title] if number == 1 else []) + group
        for line in lines:
            box.addElement(_odf_paragraph(text.P, line))
        frame.addElement(box)
        page.addElement(frame)
        doc.presentation.addElement(page)
    doc.save(str(path))


# --- Web, mail and e-books ------------------------------------------------------------------


def _html_page(title: str, groups: list[list[str]], author: str) -> str:
    sections = "\n".join(
        "<section>\n" + "\n".join(f"<p>{escape(p)}</p>" for p in group) + "\n</section>"
        for group in groups
    )
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{escape(title)}</title>\n<meta name=\"author\" content=\"{escape(author)}\">\n"
        "<style>body { font-family: serif; }</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n{sections}\n</body>\n</html>\n"
    )


def _write_html(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    path.write_text(_html_page(title, groups, author), encoding="utf-8")


def _write_eml(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    message = EmailMessage()
    message["Subject"] = title
    message["From"] = email.utils.formataddr((author, "author@example.com"))
    message["To"] = "Reader <reader@example.com>"
    message["Date"] = email.utils.format_datetime(datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc))
    message["Message-ID"] = "<docmaker@example.com>"
    message.set_content("\n\n".join(p for group in groups for p in group) + "\n")
    path.write_bytes(message.as_bytes())


def _write_epub(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    """A minimal EPUB 3: the mimetype entry first and stored, a container, a package, a nav."""
    chapters = []
    for number, group in enumerate(groups, 1):
        heading = f"<h1>{escape(title)}</h1>" if number == 1 else ""
        body = heading + "".join(f"<p>{escape(p)}</p>" for p in group)
        chapters.append(
            '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
            '<html xmlns="http://www.w3.org/1999/xhtml">\n'
            f"<head><title>{escape(title)} {number}</title></head>\n<body>{body}</body>\n</html>\n"
        )
    names = [f"chapter{n}.xhtml" for n in range(1, len(chapters) + 1)]
    manifest = "".join(
        f'<item id="c{n}" href="{name}" media-type="application/xhtml+xml"/>'
        for n, name in enumerate(names, 1)
    )
    spine = "".join(f'<itemref idref="c{n}"/>' for n in range(1, len(names) + 1))
    opf = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">\n'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:identifier id="id">urn:docmaker:{zlib.crc32(title.encode()):08x}</dc:identifier>'
        f"<dc:title>{escape(title)}</dc:title><dc:creator>{escape(author)}</dc:creator>"
        '<dc:language>en</dc:language>'
        '<meta property="dcterms:modified">2024-05-01T12:00:00Z</meta></metadata>\n'
        '<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" '
        f'properties="nav"/>{manifest}</manifest>\n<spine>{spine}</spine>\n</package>\n'
    )
    links = "".join(
        f'<li><a href="{name}">Chapter {n}</a></li>' for n, name in enumerate(names, 1)
    )
    nav = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">\n'
        f'<head><title>Contents</title></head><body><nav epub:type="toc"><ol>{links}</ol></nav>'
        "</body></html>\n"
    )
    container = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        '<rootfiles><rootfile full-path="OEBPS/content.opf" '
        'media-type="application/oebps-package+xml"/></rootfiles></container>\n'
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        archive.writestr("META-INF/container.xml", container, zipfile.ZIP_DEFLATED)
        archive.writestr("OEBPS/content.opf", opf, zipfile.ZIP_DEFLATED)
        archive.writestr("OEBPS/nav.xhtml", nav, zipfile.ZIP_DEFLATED)
        for name, chapter in zip(names, chapters):
            archive.writestr(f"OEBPS/{name}", chapter, zipfile.ZIP_DEFLATED)


def _write_fb2(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    first, _, last = author.rpartition(" ")
    sections = "".join(
        "<section>" + "".join(f"<p>{escape(p)}</p>" for p in group) + "</section>\n"
        for group in groups
    )
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<FictionBook xmlns="http://www.gribuser.ru/xml/fictionbook/2.0">\n'
        "<description><title-info><genre>prose</genre>"
        f"<author><first-name>{escape(first)}</first-name><last-name>{escape(last)}</last-name>"
        f"</author><book-title>{escape(title)}</book-title><lang>en</lang></title-info>"
        "</description>\n"
        f"<body><title><p>{escape(title)}</p></title>\n{sections}</body>\n</FictionBook>\n",
        encoding="utf-8",
    )


# --- Plain text and source code ------------------------------------------------------------


def _all(groups: list[list[str]]) -> list[str]:
    return [p for group in groups for p in group]


def _write_text(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    path.write_text("\n\n".join([title, *_all(groups)]) + "\n", encoding="utf-8")


def _write_markdown(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    path.write_text("\n\n".join([f"# {title}", *_all(groups)]) + "\n", encoding="utf-8")


def _write_rst(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    heading = f"{title}\n{'=' * len(title)}"
    path.write_text("\n\n".join([heading, *_all(groups)]) + "\n", encoding="utf-8")


def _write_tex(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    body = "\n\n".join(_all(groups))
    path.write_text(
        f"\\documentclass{{article}}\n\\title{{{title}}}\n\\author{{{author}}}\n"
        f"\\begin{{document}}\n\\maketitle\n\n{body}\n\n\\end{{document}}\n",
        encoding="utf-8",
    )


def _write_json(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    data = {"title": title, "author": author, "paragraphs": _all(groups)}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_csv(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, delimiter=delimiter)
        out.writerow(["n", "text"])
        out.writerow([0, title])
        out.writerows(enumerate(_all(groups), 1))


def _write_xml(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    paragraphs = "".join(f"  <p>{escape(p)}</p>\n" for p in _all(groups))
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?>\n<document>\n  <title>{escape(title)}</title>\n'
        f"{paragraphs}</document>\n",
        encoding="utf-8",
    )


_COMMENT_PREFIX = {
    **dict.fromkeys(
        ".py .sh .bash .rb .r .pl .yaml .yml .toml .cfg .ini".split(), "# "
    ),
    **dict.fromkeys(
        ".js .ts .tsx .jsx .java .c .h .cpp .hpp .cc .cs .go .rs .php .swift .kt .scala .css "
        ".scss".split(),
        "// ",
    ),
    **dict.fromkeys(".sql .lua".split(), "-- "),
    ".m": "% ",
}


def _write_code(path: Path, title: str, groups: list[list[str]], author: str) -> None:
    """The text as a comment block (a docstring for Python), followed by a little code."""
    suffix = path.suffix.lower()
    prefix = _COMMENT_PREFIX[suffix]
    if suffix in (".css", ".scss"):
        prefix = " * "
    if suffix == ".py":
        body = "\n\n".join([title, *_all(groups)]).replace('"""', "'''")
        path.write_text(f'"""{body}\n"""\n\nVERSION = 1\n', encoding="utf-8")
        return
    lines = []
    for paragraph in [title, *_all(groups)]:
        lines += [prefix + line for line in textwrap.wrap(paragraph, 96) or [""]]
        lines.append(prefix.rstrip())
    text = "\n".join(lines) + "\n"
    if suffix in (".css", ".scss"):
        text = "/*\n" + text + " */\nbody { margin: 0; }\n"
    path.write_text(text, encoding="utf-8")


_WRITERS = {
    ".pdf": _write_pdf,
    ".docx": _write_docx,
    ".pptx": _write_pptx,
    ".xlsx": _write_xlsx,
    ".odt": _write_odt,
    ".ods": _write_ods,
    ".odp": _write_odp,
    ".html": _write_html,
    ".htm": _write_html,
    ".xhtml": _write_html,
    ".eml": _write_eml,
    ".epub": _write_epub,
    ".fb2": _write_fb2,
    ".txt": _write_text,
    ".text": _write_text,
    ".log": _write_text,
    ".md": _write_markdown,
    ".markdown": _write_markdown,
    ".rst": _write_rst,
    ".tex": _write_tex,
    ".json": _write_json,
    ".csv": _write_csv,
    ".tsv": _write_csv,
    ".xml": _write_xml,
}

SUPPORTED_SUFFIXES = tuple(sorted({*_WRITERS, *_COMMENT_PREFIX}))


def write_one_stream_pdf(path: Path, text: str) -> Path:
    """A one-page PDF whose page is a single content stream showing `text` in one operator (as
    some generators write a whole report): tens of MB of text on one page."""
    lines = []
    for number, start in enumerate(range(0, len(text), 90)):  # lines drawn over one another, on the page
        line = text[start : start + 90].replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        lines.append(b"1 0 0 1 36 %d Tm (" % (800 - 12 * (number % 64)) + line.encode("latin-1", "replace") + b") Tj")
    stream = b"BT /F1 10 Tf\n" + b"\n".join(lines) + b"\nET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return path


def write_zip_bomb_docx(path: Path, inflated_mb: int = 600, claimed: int = 4096) -> Path:
    """A .docx whose word/document.xml inflates to `inflated_mb` MB while its headers claim
    `claimed` bytes (the sizes in a zip are only what its writer says)."""
    import struct
    import zlib

    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = b"<w:t>" + b"A" * 1_000_000 + b"</w:t>"
    bomb = b"".join(compressor.compress(block) for _ in range(inflated_mb)) + compressor.flush()
    members = [(b"[Content_Types].xml", 0, b"<Types/>", 8), (b"word/document.xml", 8, bomb, claimed)]
    out, central = bytearray(), bytearray()
    for name, method, data, size in members:
        crc = zlib.crc32(data) if method == 0 else 0
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(data), size, len(name), 0)
        out += name + data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0, crc, len(data), size,
                               len(name), 0, 0, 0, 0, 0, offset) + name
    out += central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central),
                                 len(out), 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    return path
