"""Legacy Office (.doc .xls .ppt), Outlook .msg, RTF, subtitles, flat OpenDocument, CSV/TSV tables and
e-mail attachments: real files of each, read by `kenning.extract`, then found through the index."""

from __future__ import annotations

import struct
from email.message import EmailMessage
from pathlib import Path

import pytest
from docmaker import write_document
from legacymaker import (
    write_doc,
    write_fods,
    write_fodt,
    write_msg,
    write_ppt,
    write_rtf,
    write_srt,
    write_vtt,
    write_xls,
)

from kenning.engine import Engine
from kenning.extract import ExtractionError, extract, file_type

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_word_97_document_gives_its_paragraphs(tmp_path):
    path = write_doc(tmp_path / "harbour.doc", ["The harbour master logs every trawler.", "Café au lait at noon."])
    assert extract(path).text == "The harbour master logs every trawler.\n\nCafé au lait at noon."


def test_a_document_saved_by_word_itself(tmp_path):
    document = extract(FIXTURES / "word97-saved-by-word.doc")
    assert document.text == "Test OLE file, saved as Word 97-2003 Document."
    assert document.author == "Laurence Ipsum"


def test_word_fields_show_their_results_not_their_codes(tmp_path):
    path = write_doc(tmp_path / "fields.doc", ["See page \x13 PAGEREF _Toc1 \\h \x1442\x15 for the map."])
    assert extract(path).text == "See page 42 for the map."


def test_an_encrypted_word_document_says_so(tmp_path):
    path = write_doc(tmp_path / "secret.doc", ["Hidden words."])
    data = bytearray(path.read_bytes())
    word_at = data.find(struct.pack("<HH", 0xA5EC, 0x00C1))
    struct.pack_into("<H", data, word_at + 0x0A, 0x0300)  # fEncrypted too
    path.write_bytes(bytes(data))
    with pytest.raises(ExtractionError, match="encrypted"):
        extract(path)


def test_a_powerpoint_97_presentation_gives_a_page_per_slide(tmp_path):
    path = write_ppt(tmp_path / "deck.ppt", [["Quarterly results", "Revenue grew in Norway"], ["Hire a lighthouse keeper"]])
    document = extract(path)
    assert [(s.page, s.text) for s in document.sections] == [
        (1, "Quarterly results\nRevenue grew in Norway"), (2, "Hire a lighthouse keeper")]


def test_an_excel_97_workbook_gives_a_page_per_sheet(tmp_path):
    path = write_xls(tmp_path / "birds.xls", {"Birds": [["Species", "Count"], ["Puffin", 44]],
                                               "Fish": [["Species"], ["Herring"]]})
    document = extract(path)
    assert [(s.page, s.text) for s in document.sections] == [(1, "Species\tCount\nPuffin\t44"), (2, "Species\nHerring")]


def test_an_outlook_message_gives_headers_body_and_the_text_of_its_attachments(tmp_path):
    attachment = write_document(tmp_path / "minutes.docx", "Minutes", ["The walrus colony has grown to 300."])
    path = write_msg(tmp_path / "survey.msg", "Walrus survey", "Please find the minutes attached.", "Ann Example",
                     [("minutes.docx", attachment.read_bytes())])
    document = extract(path)
    assert document.title == "Walrus survey" and document.author == "Ann Example"
    assert "Date: Fri, 10 Apr 2026 12:00:00 +0000" in document.text
    assert "Please find the minutes attached." in document.text
    assert "Attachment minutes.docx:" in document.text and "walrus colony has grown" in document.text


def test_an_eml_attachment_is_read_too(tmp_path):
    pdf = write_document(tmp_path / "report.pdf", "Report", ["Seventeen otters were counted on the estuary."])
    message = EmailMessage()
    message["From"], message["Subject"] = "ann@example.org", "Otter report"
    message.set_content("The report is attached.")
    message.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename="report.pdf")
    message.add_attachment(b"\x00\x01 binary", maintype="application", subtype="octet-stream", filename="data.bin")
    path = tmp_path / "otters.eml"
    path.write_bytes(bytes(message))
    text = extract(path).text
    assert "Attachments: report.pdf, data.bin" in text and "Seventeen otters were counted" in text


def test_rtf_gives_its_text_without_pictures_and_with_its_accents(tmp_path):
    path = write_rtf(tmp_path / "recipe.rtf", "Desserts", ["Crème brûlée from grand-mère.", "Ωmega section."])
    document = extract(path)
    assert document.text == "Crème brûlée from grand-mère.\nΩmega section."
    assert (document.title, document.author) == ("Desserts", "Ada Lovelace")


@pytest.mark.parametrize("writer, suffix", [(write_srt, ".srt"), (write_vtt, ".vtt")])
def test_subtitles_give_what_is_said(tmp_path, writer, suffix):
    path = writer(tmp_path / f"film{suffix}", ["Where is the hedgehog?", "Under the <b>hedge</b> &amp; the wall."])
    assert extract(path).text == "Where is the hedgehog?\nUnder the hedge & the wall."


def test_flat_opendocument_files(tmp_path):
    text = extract(write_fodt(tmp_path / "puffins.fodt", "Puffins", ["Puffins nest in burrows on cliffs."]))
    assert text.text == "Puffins nest in burrows on cliffs." and text.title == "Puffins"
    sheet = extract(write_fods(tmp_path / "birds.fods", [["Species", "Count"], ["Puffin", "44"]]))
    assert [(s.page, s.text) for s in sheet.sections] == [(1, "Species\tCount\nPuffin\t44")]


def test_a_csv_table_names_each_value_by_its_column(tmp_path):
    path = tmp_path / "cities.csv"
    path.write_text("City,Population,Country\nOslo,709000,Norway\nBergen,285000,Norway\n", encoding="utf-8")
    assert extract(path).text == ("Columns: City, Population, Country\n"
                                  "City: Oslo · Population: 709000 · Country: Norway\n"
                                  "City: Bergen · Population: 285000 · Country: Norway")
    tsv = tmp_path / "plain.tsv"
    tsv.write_text("1\t2\t3\n4\t5\t6\n", encoding="utf-8")  # no header: values only
    assert extract(tsv).text == "1 · 2 · 3\n4 · 5 · 6"


@pytest.mark.parametrize("suffix", [".doc", ".xls", ".ppt", ".msg", ".rtf", ".fodt"])
def test_damaged_files_are_one_clear_error(tmp_path, suffix):
    path = tmp_path / f"broken{suffix}"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x07" * 700 if suffix != ".rtf" else b"{\\rtf1 {{{{")
    if suffix == ".rtf":
        path.write_bytes(b"not rtf at all")
    with pytest.raises(ExtractionError):
        extract(path)


def test_maildir_messages_have_the_eml_type(tmp_path):
    message = tmp_path / "work" / "cur" / "1700000000.M1P2.host:2,S"
    message.parent.mkdir(parents=True)
    (tmp_path / "work" / "tmp").mkdir()
    message.write_text("From: ann@example.org\nSubject: Keys\n\nThe keys are in the lodge.\n", encoding="utf-8")
    assert file_type(message) == "eml" and "keys are in the lodge" in extract(message).text


def test_every_new_format_is_found_by_a_phrase_through_the_index(data_dir, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    write_doc(docs / "harbour.doc", ["The harbour master logs every trawler that enters after dark."])
    write_ppt(docs / "deck.ppt", [["Intro"], ["Hire a lighthouse keeper for the northern cape"]])
    write_xls(docs / "birds.xls", {"Birds": [["Species", "Count"], ["Puffin", 44]], "Seals": [["Grey seal", 7]]})
    write_msg(docs / "survey.msg", "Walrus survey", "The walrus colony on the ice shelf has grown.", "Ann Example")
    write_rtf(docs / "recipe.rtf", "Desserts", ["Caramelised sugar makes the crust of a crème brûlée."])
    write_srt(docs / "film.srt", ["The hedgehog hides under the garden shed."])
    (docs / "cities.csv").write_text("City,Population\nTromsø,77000\nOslo,709000\n", encoding="utf-8")
    with Engine(data_dir=data_dir) as engine:
        report = engine.index([docs])
        assert report.failed == 0 and report.indexed == 7, report.failures
        found = {query: (Path(hits[0].path).name, hits[0].page) for query in (
            "harbour master trawler", "lighthouse keeper northern cape", "grey seal", "walrus colony ice shelf",
            "crust of a crème brûlée", "hedgehog hides under the shed", "population of Tromsø")
            if (hits := engine.search(query))}
    assert found == {
        "harbour master trawler": ("harbour.doc", None), "lighthouse keeper northern cape": ("deck.ppt", 2),
        "grey seal": ("birds.xls", 2), "walrus colony ice shelf": ("survey.msg", None),
        "crust of a crème brûlée": ("recipe.rtf", None), "hedgehog hides under the shed": ("film.srt", None),
        "population of Tromsø": ("cities.csv", None)}
