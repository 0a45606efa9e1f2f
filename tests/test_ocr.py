"""Scanned pages and images: read by the real Tesseract, in the background after the keyword phase,
found by a phrase from their text with the right page, and reported clearly without Tesseract.

CI installs Tesseract (`.ci/run`): there, a missing Tesseract fails these tests instead of
skipping them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from docmaker import write_document
from scanmaker import write_scanned_pdf, write_text_image
from storeview import open_store

from kenning.engine import Engine
from kenning.extract import extract
from kenning.extract.base import ocr_texts
from kenning.extract.ocr import choose_languages, forget_lookups, read_page, recognise, tesseract_program
from kenning.ocr_phase import NEEDS_TESSERACT, OcrCache
from kenning.preview import PagePreview, Previewer
from kenning.scan import content_hash
from kenning.store import FileStatus

if os.environ.get("KENNING_CI") and tesseract_program() is None:
    raise RuntimeError("CI must have Tesseract (tesseract-ocr, tesseract-ocr-eng): the OCR tests would not run")
needs_tesseract = pytest.mark.skipif(tesseract_program() is None, reason="Tesseract is not installed")

PAGE_ONE = ["The hedgehog census counts the animals living in every garden of the village each spring.",
            "Volunteers record their sightings at dusk and send the forms to the parish council."]
PAGE_TWO = ["The lighthouse keeper polished the brass lenses before the winter storms arrived."]
NOTE = "Quarterly invoice number 44719 was paid to the bakery on the third of March."


def words(text: str) -> list[str]:
    return [w.strip(".,;:").lower() for w in text.split() if w.strip(".,;:")]


def word_accuracy(expected: str, read: str) -> float:
    """Share of the expected words that OCR read, in order (a longest common subsequence)."""
    a, b = words(expected), words(read)
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1] / len(a)


def hide_tesseract(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    forget_lookups()


@pytest.fixture(autouse=True)
def fresh_tool_lookup():
    forget_lookups()
    yield
    forget_lookups()


# -- extraction: which pages need OCR, and what it reads ------------------------------------------


def test_a_scanned_pdf_lists_its_image_pages_and_a_text_page_is_never_ocred(tmp_path):
    scan = write_scanned_pdf(tmp_path / "scan.pdf", [PAGE_ONE, PAGE_TWO])
    assert extract(scan).ocr_pages == [1, 2]
    typed = write_document(tmp_path / "typed.pdf", "Typed", PAGE_ONE)
    assert extract(typed).ocr_pages == []
    with ocr_texts({1: "what OCR read on page one", 2: ""}):
        document = extract(scan)
    assert document.ocr_pages == [] and document.sections[0].text == "what OCR read on page one"


@needs_tesseract
def test_ocr_reads_a_generated_scan_with_at_least_95_percent_of_its_words(tmp_path):
    scan = write_scanned_pdf(tmp_path / "scan.pdf", [PAGE_ONE, PAGE_TWO])
    for page, expected in ((1, " ".join(PAGE_ONE)), (2, " ".join(PAGE_TWO))):
        result = read_page(str(scan), page, choose_languages(), 60)
        assert not result.failed
        assert word_accuracy(expected, result.text) >= 0.95, result.text
        assert result.words and all(0 <= w.box[0] < w.box[2] <= 1 and 0 <= w.box[1] < w.box[3] <= 1
                                    for w in result.words)


@needs_tesseract
@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tiff", ".webp", ".bmp"])
def test_photos_of_text_are_read_in_every_image_format(tmp_path, suffix):
    image = write_text_image(tmp_path / f"note{suffix}", [NOTE])
    assert extract(image).ocr_pages == [1]
    result = read_page(str(image), 1, choose_languages(), 60)
    assert word_accuracy(NOTE, result.text) >= 0.95, result.text


@needs_tesseract
def test_a_multi_page_tiff_is_read_page_by_page(tmp_path):
    fax = write_text_image(tmp_path / "fax.tiff", [], pages=[[NOTE], PAGE_TWO])
    assert extract(fax).ocr_pages == [1, 2]
    assert "lighthouse" in read_page(str(fax), 2, choose_languages(), 60).text.lower()


@needs_tesseract
def test_a_picture_without_text_gives_no_noise():
    import io

    from PIL import Image, ImageDraw

    picture = Image.new("L", (900, 600), 200)
    draw = ImageDraw.Draw(picture)
    for i in range(0, 900, 37):  # a fence and some shading: shapes, not letters
        draw.rectangle((i, 100 + i % 50, i + 12, 560), fill=40 + i % 120)
        draw.ellipse((i, 20, i + 30, 60), fill=255 - i % 200)
    out = io.BytesIO()
    picture.save(out, "PNG")
    assert recognise(out.getvalue(), choose_languages(), 60).text == ""


def test_image_descriptions_are_text_at_once(tmp_path):
    photo = write_text_image(tmp_path / "receipt.jpg", [NOTE], exif_description="Receipt from the corner bakery")
    document = extract(photo)
    assert "Receipt from the corner bakery" in document.text and document.title == "Receipt from the corner bakery"


def test_a_damaged_image_is_one_clear_error(tmp_path):
    from kenning.extract import ExtractionError

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(ExtractionError, match="damaged or unreadable PNG"):
        extract(broken)


# -- indexing: keywords first, OCR in the background, the right page --------------------------------


@needs_tesseract
def test_scans_are_found_by_a_phrase_with_their_page_after_the_ocr_phase(data_dir, tmp_path):
    docs = tmp_path / "docs"
    write_scanned_pdf(docs / "census.pdf", [PAGE_ONE, PAGE_TWO])
    write_text_image(docs / "invoice.png", [NOTE])
    write_document(docs / "typed.txt", "Typed", ["Otters hold hands while they sleep on the river."])
    with Engine(data_dir=data_dir) as engine:
        first = engine.index([docs], embed=False)  # the keyword phase: text files searchable, scans wait
        assert (first.indexed, first.needs_ocr) == (1, 2)
        assert [Path(r.path).name for r in engine.search("otters", mode="bm25")] == ["typed.txt"]
        assert engine.status().files_needing_ocr == 2
        report = engine.index([docs])  # OCR, then the meaning phase
        assert report.ocr_pages == 3 and report.indexed == 2
        hits = engine.search("lighthouse keeper brass lenses")
        assert (Path(hits[0].path).name, hits[0].page) == ("census.pdf", 2)
        assert Path(engine.search("invoice 44719 bakery")[0].path).name == "invoice.png"
        assert engine.status().files_needing_ocr == 0
        store = open_store(data_dir)
        assert store.file(str(docs / "census.pdf")).status == FileStatus.INDEXED


@needs_tesseract
def test_a_copy_of_a_scan_is_not_read_again_and_a_pause_resumes_where_it_stopped(data_dir, tmp_path):
    docs = tmp_path / "docs"
    scan = write_scanned_pdf(docs / "minutes.pdf", [PAGE_ONE, PAGE_TWO, [NOTE]])
    with Engine(data_dir=data_dir) as engine:
        engine.index([docs], embed=False)
        engine._indexing().ocr.step(pages_per_step=1)  # one page, then "paused"
        assert len(OcrCache(data_dir).pages(content_hash(str(scan)))) == 1
        report = engine.index([docs])
        assert report.ocr_pages == 2  # the other two only
        shutil.copy(scan, docs / "minutes copy.pdf")
        again = engine.index([docs])
        assert again.ocr_pages == 0 and again.indexed == 1  # the copy took what OCR read before
        hits = engine.search("invoice 44719", mode="bm25")
        assert sorted(Path(h.path).name for h in hits) == ["minutes copy.pdf", "minutes.pdf"]
        assert {h.page for h in hits} == {3}


def test_without_tesseract_a_scan_is_reported_once_and_picked_up_once_it_is_installed(data_dir, tmp_path,
                                                                                       monkeypatch):
    docs = tmp_path / "docs"
    write_scanned_pdf(docs / "census.pdf", [PAGE_ONE])
    with Engine(data_dir=data_dir) as engine:
        real_path = os.environ["PATH"]
        hide_tesseract(monkeypatch, tmp_path)
        report = engine.index([docs])
        assert report.needs_ocr == 1 and report.failed == 0
        status = engine.status()
        assert status.files_needing_ocr == 1
        assert any(path.endswith("census.pdf") and reason == NEEDS_TESSERACT for path, _, reason in status.failures)
        assert engine.index([docs]).needs_ocr == 0  # reported once: an unchanged file is not read again
        if shutil.which("tesseract", path=real_path) is None:
            return  # nothing to install here; CI has Tesseract
        monkeypatch.setenv("PATH", real_path)  # "installing" it
        forget_lookups()
        assert engine.index([docs]).ocr_pages == 1
        assert Path(engine.search("hedgehog census", mode="bm25")[0].path).name == "census.pdf"


@needs_tesseract
def test_the_service_reads_scans_in_the_background(data_dir, tmp_path):
    from test_service import start_service, wait_until

    docs = tmp_path / "docs"
    docs.mkdir()
    service = start_service(data_dir, docs)
    try:
        write_scanned_pdf(docs / "census.pdf", [PAGE_ONE])
        with Engine(data_dir=data_dir) as reader:
            found = lambda: [Path(r.path).name for r in reader.search("hedgehog census", mode="bm25")]
            assert wait_until(lambda: found() == ["census.pdf"], 60)
            assert service.wait_idle(120)
            assert reader.status().files_needing_ocr == 0 and reader.passages_waiting() == 0
    finally:
        service.stop()


# -- preview: the passage marked on the scanned page ------------------------------------------


@needs_tesseract
def test_the_preview_marks_the_passage_on_a_scanned_page(data_dir, tmp_path):
    docs = tmp_path / "docs"
    write_scanned_pdf(docs / "census.pdf", [PAGE_ONE, PAGE_TWO])
    with Engine(data_dir=data_dir) as engine:
        engine.index([docs])
        hit = engine.search("lighthouse keeper brass lenses")[0]
    previewer = Previewer(data_dir=data_dir)
    try:
        page = previewer.preview(hit.path, hit.page, hit.char_start, hit.char_end, terms=["lighthouse"])
    finally:
        previewer.close()
    assert isinstance(page, PagePreview) and page.page == 2
    assert page.highlights, "the passage is marked from the OCR word boxes"
    x, y, w, _ = page.highlights[0]
    assert 0 <= x < page.width and 0 <= y < page.height / 2 and w > page.width / 3
