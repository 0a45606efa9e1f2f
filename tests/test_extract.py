"""Text extraction end to end: real files of every format through `kenning.extract.extract`."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage
from pathlib import Path

import pytest
from docmaker import (
    DEFAULT_AUTHOR,
    write_document,
    write_encrypted_pdf,
    write_junk,
    write_truncated_pdf,
)

from kenning.extract import Document, ExtractionError, UnsupportedFile, extract, supported

PAGES = [
    ["Aardvarks forage at dusk near the riverbank.", "Their burrows shelter other animals."],
    ["Quokkas smile for tourists on Rottnest Island."],
    ["Narwhals carry a long spiral tusk through arctic waters."],
]
WORDS = ["Aardvarks", "burrows", "Quokkas", "Rottnest", "Narwhals", "tusk"]
TITLE = "Field Notes on Unusual Mammals"

MULTI_FORMAT = [".pdf", ".docx", ".pptx", ".xlsx", ".odt", ".ods", ".odp", ".html", ".htm",
                ".md", ".txt", ".eml", ".epub", ".fb2", ".py", ".js", ".rs", ".sql", ".json",
                ".csv", ".xml", ".tex", ".rst", ".css"]  # fmt: skip
PAGED = [".pdf", ".pptx", ".xlsx", ".ods", ".odp", ".epub"]
WITH_METADATA = [".pdf", ".docx", ".pptx", ".xlsx", ".odt", ".ods", ".odp", ".epub", ".fb2"]
BINARY_FORMATS = [".pdf", ".epub", ".xps", ".oxps", ".mobi", ".docx", ".pptx", ".xlsx", ".xlsm",
                  ".odt", ".ods", ".odp", ".fb2"]  # fmt: skip
EVERY_EXTENSION = BINARY_FORMATS + [".html", ".htm", ".xhtml", ".eml", ".txt", ".md", ".py"]


def section_with(doc: Document, word: str):
    found = [s for s in doc.sections if word in s.text]
    assert found, f"{word!r} not in any section of {doc.text[:300]!r}"
    return found[0]


# --- every format, end to end ----------------------------------------------------------------


@pytest.mark.parametrize("suffix", MULTI_FORMAT)
def test_each_format_gives_its_text(tmp_path: Path, suffix: str):
    path = write_document(tmp_path / f"notes{suffix}", TITLE, [], pages=PAGES)
    doc = extract(path)
    for word in WORDS:
        assert word in doc.text, f"{word!r} missing from {suffix}: {doc.text[:300]!r}"
    assert "Unusual Mammals" in doc.text or doc.title == TITLE
    offset_text = doc.text  # every span must point at its section inside `text`
    for start, section in doc.spans():
        assert offset_text[start : start + len(section.text)] == section.text


@pytest.mark.parametrize("suffix", PAGED)
def test_paged_formats_keep_page_numbers(tmp_path: Path, suffix: str):
    doc = extract(write_document(tmp_path / f"paged{suffix}", TITLE, [], pages=PAGES))
    assert section_with(doc, "Aardvarks").page == 1
    assert section_with(doc, "Quokkas").page == 2
    assert section_with(doc, "Narwhals").page == 3
    assert "Quokkas" not in section_with(doc, "Narwhals").text


@pytest.mark.parametrize("suffix", WITH_METADATA)
def test_title_and_author_from_metadata(tmp_path: Path, suffix: str):
    doc = extract(write_document(tmp_path / f"meta{suffix}", TITLE, [], pages=PAGES))
    assert doc.title == TITLE
    assert doc.author == DEFAULT_AUTHOR


def test_long_pdf_flows_onto_many_pages(tmp_path: Path):
    paragraphs = [f"Paragraph {n} mentions the keyword ocelot{n} and some filler text." * 4
                  for n in range(120)]  # fmt: skip
    doc = extract(write_document(tmp_path / "long.pdf", "Long", paragraphs))
    assert len(doc.sections) > 3
    assert [s.page for s in doc.sections] == list(range(1, len(doc.sections) + 1))
    assert section_with(doc, "ocelot0").page == 1
    assert section_with(doc, "ocelot119").page == len(doc.sections)


def test_pdf_ligatures_and_hyphenation_are_undone(tmp_path: Path):
    import pymupdf

    path = tmp_path / "typeset.pdf"
    pdf = pymupdf.open()
    page = pdf.new_page()
    # "\ufb03" and "\ufb01" are the single glyphs "ﬃ" and "ﬁ", as typesetting programs write
    # them; the soft hyphens break "extraordinarily" and "hyphenation" across narrow lines.
    page.insert_htmlbox(
        pymupdf.Rect(72, 72, 160, 400),
        "<p>An extra\u00adordinarily e\ufb03cient \ufb01sh with hyphen\u00adation inside "
        "narrow columns</p>",
    )
    pdf.save(path)
    text = extract(path).text
    assert "efficient fish" in text
    assert "extraordinarily" in text and "hyphenation" in text


# --- format details ----------------------------------------------------------------------------


def test_docx_tables_headers_and_content_controls(tmp_path: Path):
    import docx
    from docx.oxml import parse_xml

    document = docx.Document()
    document.add_paragraph("Body paragraph about lemurs.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Species", "Habitat"
    table.cell(1, 0).text, table.cell(1, 1).text = "Okapi", "Ituri rainforest"
    document.sections[0].header.paragraphs[0].text = "Confidential zoo report"
    document.add_paragraph("Closing paragraph about tapirs.")
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    document.element.body.insert(0, parse_xml(
        f'<w:sdt xmlns:w="{w}"><w:sdtContent><w:p><w:r><w:t>Inside a content control</w:t>'
        "</w:r></w:p></w:sdtContent></w:sdt>"
    ))  # fmt: skip
    path = tmp_path / "tables.docx"
    document.save(path)
    doc = extract(path)
    assert "Okapi\tIturi rainforest" in doc.text
    assert "Inside a content control" in doc.text
    assert "Confidential zoo report" in doc.text
    assert doc.text.index("lemurs") < doc.text.index("Okapi") < doc.text.index("tapirs")
    assert doc.sections[0].page is None


def test_pptx_tables_groups_and_notes(tmp_path: Path):
    import pptx
    from pptx.util import Inches

    presentation = pptx.Presentation()
    presentation.slides.add_slide(presentation.slide_layouts[6])  # slide 1: blank
    slide = presentation.slides.add_slide(presentation.slide_layouts[6])
    shape = slide.shapes.add_table(2, 2, Inches(1), Inches(1), Inches(4), Inches(2))
    shape.table.cell(1, 0).text = "Capybara"
    group = slide.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(4), Inches(3), Inches(1)).text = "Grouped wombat"
    slide.notes_slide.notes_text_frame.text = "Speaker notes mention the pangolin."
    path = tmp_path / "slides.pptx"
    presentation.save(path)
    doc = extract(path)
    assert [s.page for s in doc.sections] == [1, 2]
    for word in ("Capybara", "Grouped wombat", "pangolin"):
        assert section_with(doc, word).page == 2


def test_xlsx_values_formulas_and_empty_rows(tmp_path: Path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Animal", "Count", "Weight"])
    sheet.append([])
    sheet.append(["Ibex", 12, 3.5])
    sheet["A5"] = "Gnu"
    workbook.create_sheet("Second")["C3"] = "Dugong"
    path = tmp_path / "counts.xlsx"
    workbook.save(path)
    doc = extract(path)
    assert doc.sections[0].text == "Animal\tCount\tWeight\nIbex\t12\t3.5\nGnu"
    assert doc.sections[1].page == 2
    assert doc.sections[1].text.strip() == "Dugong"


def test_html_drops_invisible_text_and_keeps_title(tmp_path: Path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Marmot Almanac</title><style>p { color: red }</style>"
        "<script>var secretTracker = 1;</script></head><body>"
        "<h1>Marmots</h1><p>They   whistle\n when alarmed.</p>"
        "<script>console.log('hiddenScriptWord')</script><noscript>enableJsWord</noscript>"
        "<div hidden>hiddenDivWord</div><template>templateWord</template>"
        "<ul><li>alpine</li><li>burrowing</li></ul>"
        "<table><tr><td>Yellow-bellied</td><td>west</td></tr></table>"
        "<pre>line one\nline two</pre>"
        "</body></html>",
        encoding="utf-8",
    )
    doc = extract(path)
    assert doc.title == "Marmot Almanac"
    assert "They whistle when alarmed." in doc.text
    for hidden in ("secretTracker", "hiddenScriptWord", "enableJsWord", "hiddenDivWord",
                   "templateWord", "color: red"):  # fmt: skip
        assert hidden not in doc.text
    assert "Marmots\n\nThey whistle" in doc.text
    assert "alpine\nburrowing" in doc.text
    assert "Yellow-bellied\twest" in doc.text
    assert "line one\nline two" in doc.text


def test_html_declared_charset(tmp_path: Path):
    path = tmp_path / "old.htm"
    path.write_bytes(
        b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        b"<title>Caf\xe9</title></head>"
        b"<body><p>Cr\xe8me br\xfbl\xe9e \x93quoted\x94</p></body></html>"
    )
    doc = extract(path)
    assert doc.title == "Café"
    assert "Crème brûlée “quoted”" in doc.text


def test_eml_headers_body_and_attachments(tmp_path: Path):
    message = EmailMessage()
    message["Subject"] = "Budget für Zürich"
    message["From"] = email.utils.formataddr(("Jörg Müller", "jorg@example.com"))
    message["To"] = "team@example.com"
    message["Date"] = "Tue, 02 Apr 2024 09:30:00 +0200"
    message.set_content("Please review the spreadsheet before Friday.\n")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf",
                           filename="quarterly-figures.pdf")  # fmt: skip
    path = tmp_path / "budget.eml"
    path.write_bytes(message.as_bytes())
    doc = extract(path)
    assert doc.title == "Budget für Zürich"
    assert doc.author is not None and "Jörg Müller" in doc.author
    assert "Subject: Budget für Zürich" in doc.text
    assert "review the spreadsheet" in doc.text
    assert "quarterly-figures.pdf" in doc.text
    assert "%PDF" not in doc.text


def test_eml_html_only(tmp_path: Path):
    message = EmailMessage()
    message["Subject"] = "Newsletter"
    message["From"] = "news@example.com"
    message.set_content(
        "<html><head><style>.x{}</style></head><body><p>Salamander season</p>"
        "<script>trackingPixel()</script></body></html>",
        subtype="html",
    )
    path = tmp_path / "news.eml"
    path.write_bytes(message.as_bytes())
    doc = extract(path)
    assert "Salamander season" in doc.text
    assert "trackingPixel" not in doc.text and "<p>" not in doc.text


def test_markdown_title_and_offsets_kept(tmp_path: Path):
    path = tmp_path / "readme.md"
    path.write_bytes(b"Intro line\r\n\r\n# Heron   Handbook\r\n\r\n  indented  text\r\n")
    doc = extract(path)
    assert doc.title == "Heron   Handbook"
    assert doc.text == "Intro line\n\n# Heron   Handbook\n\n  indented  text\n"


# --- text encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoding",
    ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252", "latin-1"],
)
def test_text_encodings(tmp_path: Path, encoding: str):
    text = "Déjà vu in the café: naïve façade, Ærøskøbing, 50 € or so.\n" * 3
    if encoding == "latin-1":
        text = text.replace("€", "EUR")
    path = tmp_path / "accents.txt"
    path.write_bytes(text.encode(encoding))
    assert extract(path).text == text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("text", [
    "東京の桜は春に咲きます。\n私たちは公園で花見をしました。2024年4月\n",  # CJK with newlines and digits
    "서울의 봄은 따뜻하고 벚꽃이 아름답습니다. 우리는 공원에서 산책했습니다.\n",
    "北京的春天很美丽我们在公园里散步看花",  # no space, no newline: no zero byte in UTF-16
])
def test_wide_text_without_a_byte_order_mark(tmp_path: Path, encoding: str, text: str):
    path = tmp_path / "wide.txt"
    path.write_bytes((text * 20).encode(encoding))
    assert extract(path).text == text * 20


def test_cyrillic_legacy_encoding(tmp_path: Path):
    text = "Съешь же ещё этих мягких французских булок, да выпей чаю.\n" * 5
    path = tmp_path / "russian.txt"
    path.write_bytes(text.encode("cp1251"))
    assert "французских" in extract(path).text


def test_invalid_utf8_does_not_crash(tmp_path: Path):
    path = tmp_path / "broken.txt"
    path.write_bytes("Grüße aus München ".encode() * 20 + b"\xff\xfe\xc3" + b" tail words")
    doc = extract(path)
    assert "München" in doc.text and "tail words" in doc.text


# --- bad files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", EVERY_EXTENSION)
def test_junk_bytes_raise_extraction_error(tmp_path: Path, suffix: str, capfd):
    path = write_junk(tmp_path / f"junk{suffix}", 4096)
    if suffix in (".html", ".htm", ".xhtml"):
        with pytest.raises(ExtractionError, match="binary"):
            extract(path)
    else:
        with pytest.raises(ExtractionError):
            extract(path)
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("seed", range(8))
def test_small_junk_text_without_nul_bytes(tmp_path: Path, seed: int):
    path = tmp_path / "junk.txt"
    data = bytes(b for b in write_junk(tmp_path / "raw", 600, seed).read_bytes() if b)
    path.write_bytes(data)
    with pytest.raises(ExtractionError, match="binary"):
        extract(path)


@pytest.mark.parametrize("content", [b"<", b"<?xml version='1.0'?><FictionBook><body", b"<a></b>"])
@pytest.mark.parametrize("suffix", [".fb2", ".pdf", ".epub", ".mobi", ".xps"])
def test_malformed_xml_does_not_crash(tmp_path: Path, suffix: str, content: bytes):
    # MuPDF segfaults on these when it takes them for FictionBook; we must never hand them over.
    path = tmp_path / f"bad{suffix}"
    path.write_bytes(content)
    try:
        doc = extract(path)
    except ExtractionError:
        return
    assert isinstance(doc, Document)


def test_truncated_fb2_gives_the_text_before_the_cut(tmp_path: Path):
    path = write_document(tmp_path / "book.fb2", TITLE, [], pages=PAGES)
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"Narwhals")])
    doc = extract(path)
    assert "Quokkas" in doc.text


def test_encrypted_pdf(tmp_path: Path):
    path = write_encrypted_pdf(tmp_path / "locked.pdf", "The vault mentions jaguars.", "s3cret")
    with pytest.raises(ExtractionError, match="encrypted|password"):
        extract(path)


def test_pdf_with_owner_password_only_is_readable(tmp_path: Path):
    import pymupdf

    source = write_document(tmp_path / "plain.pdf", TITLE, [], pages=PAGES)
    pdf = pymupdf.open(source)
    path = tmp_path / "restricted.pdf"
    pdf.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", user_pw="")
    assert "Narwhals" in extract(path).text


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_pdf(tmp_path: Path, keep: float, capfd):
    path = write_truncated_pdf(tmp_path / "cut.pdf", keep)
    try:
        doc = extract(path)
    except ExtractionError:
        pass
    else:
        assert not doc.is_empty()
    assert capfd.readouterr() == ("", "")


def test_pdf_without_xref_table_is_repaired(tmp_path: Path):
    path = write_document(tmp_path / "full.pdf", TITLE, [], pages=PAGES)
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"xref")])
    doc = extract(path)
    assert section_with(doc, "Quokkas").page == 2


@pytest.mark.parametrize("suffix", EVERY_EXTENSION)
def test_zero_byte_files(tmp_path: Path, suffix: str):
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    try:
        doc = extract(path)
    except ExtractionError:
        return
    assert doc.is_empty()


def test_unsupported_extension(tmp_path: Path):
    for name in ("program.exe", "sound.mp3", "Makefile", "disk.iso"):
        path = tmp_path / name
        path.write_bytes(b"whatever")
        assert not supported(path)
        with pytest.raises(UnsupportedFile):
            extract(path)


def test_extension_case_does_not_matter(tmp_path: Path):
    path = write_document(tmp_path / "shout.pdf", TITLE, [], pages=PAGES)
    upper = path.rename(tmp_path / "SHOUT.PDF")
    assert "Quokkas" in extract(upper).text


@pytest.mark.parametrize("suffix", [".pdf", ".docx", ".xlsx", ".odt", ".epub", ".txt", ".eml"])
def test_non_ascii_file_names(tmp_path: Path, suffix: str):
    path = write_document(tmp_path / f"Zürich 報告 ñandú{suffix}", TITLE, [], pages=PAGES)
    assert "Narwhals" in extract(path).text
