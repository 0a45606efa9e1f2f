"""Previews are read and rendered in the sandbox's child process (no model needed)."""

from __future__ import annotations

import pytest
from docmaker import write_document, write_truncated_pdf

from kenning.extract import ExtractionError, extract
from kenning.preview import PagePreview, Previewer, TextPreview
from kenning.settings import IndexSettings


@pytest.fixture
def previewer():
    previewer = Previewer()
    yield previewer
    previewer.close()


def test_a_pdf_page_is_rendered_with_the_passage_marked(tmp_path, previewer):
    path = write_document(tmp_path / "report.pdf", "Report", [],
                          pages=[["An introduction."], ["Volcanoes erupt lava and ash over the valley."]])
    text = extract(path).text
    start = text.index("Volcanoes")
    page = previewer.preview(str(path), 2, start, start + len("Volcanoes erupt lava"))
    assert isinstance(page, PagePreview)
    assert (page.page, page.page_count) == (2, 2)
    assert page.width == 1600 and len(page.samples) == page.width * page.height * 3
    assert page.highlights and all(w > 0 and h > 0 for _, _, w, h in page.highlights)
    other = previewer.preview(str(path), 2, start, start + 10, show_page=1)  # paging through
    assert other.page == 1 and not other.highlights


def test_the_sentence_that_best_matches_the_query_is_marked_within_the_passage(tmp_path, previewer):
    passage = ("The valley floor is green in spring. Volcanoes erupt lava and ash over the northern ridge. "
               "Farmers return every year.")
    path = write_document(tmp_path / "report.pdf", "Report", [], pages=[["An introduction."], [passage]])
    text = extract(path).text
    start = text.index("The valley")
    page = previewer.preview(str(path), 2, start, start + len(passage), terms=["lava", "erupting"])
    assert page.highlights and page.emphasis

    def top_and_bottom(rects):
        return min(y for _, y, _, _ in rects), max(y + h for _, y, _, h in rects)

    inside_top, inside_bottom = top_and_bottom(page.highlights)
    top, bottom = top_and_bottom(page.emphasis)
    assert inside_top <= top and bottom <= inside_bottom + 1
    width = sum(w for _, _, w, _ in page.emphasis)
    assert width < 0.8 * sum(w for _, _, w, _ in page.highlights)  # one sentence, not the passage
    assert not previewer.preview(str(path), 2, start, start + len(passage)).emphasis  # no query, no emphasis


def test_printed_page_labels_come_with_the_page(tmp_path, previewer):
    import pymupdf

    path = write_document(tmp_path / "book.pdf", "Book", [], pages=[["Preface."], ["Contents."], ["Chapter one."]])
    with pymupdf.open(path) as doc:  # two front-matter pages numbered i, ii; the body starts at 1
        doc.set_page_labels([{"startpage": 0, "style": "r", "firstpagenum": 1},
                             {"startpage": 2, "style": "D", "firstpagenum": 1}])
        doc.save(tmp_path / "labelled.pdf")
    labelled = str(tmp_path / "labelled.pdf")
    assert previewer.preview(labelled, 2, 0, 5).label == "ii"
    assert previewer.preview(labelled, 2, 0, 5, show_page=3).label == "1"


def test_a_text_file_gives_its_text_and_the_passage_span(tmp_path, previewer):
    path = tmp_path / "notes.txt"
    path.write_text("first line\r\nsecond line with the passage\r\n")
    start = extract(path).text.index("second")  # offsets point into the extracted text
    preview = previewer.preview(str(path), None, start, start + len("second line"))
    assert isinstance(preview, TextPreview)
    assert preview.text[preview.start : preview.end] == "second line"
    assert "\r" not in preview.text


def test_damaged_and_vanished_files_are_one_clear_error(tmp_path, previewer):
    broken = write_truncated_pdf(tmp_path / "broken.pdf")
    with pytest.raises(ExtractionError):
        previewer.preview(str(broken), 1, 0, 10)
    with pytest.raises(ExtractionError, match="no longer there"):
        previewer.preview(str(tmp_path / "gone.txt"), None, 0, 10)
    path = tmp_path / "fine.txt"
    path.write_text("still works afterwards")
    assert previewer.preview(str(path), None, 0, 5).text.startswith("still")


def test_a_file_that_takes_too_long_is_stopped(tmp_path):
    path = write_document(tmp_path / "big.pdf", "Big", [], pages=[["page text"]] * 40)
    slow = Previewer(IndexSettings(timeout_s=0.001))
    try:
        with pytest.raises(ExtractionError, match="longer than"):
            slow.preview(str(path), 1, 0, 5)
    finally:
        slow.close()
