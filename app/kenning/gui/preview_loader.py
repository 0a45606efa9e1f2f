"""Loading a result's preview off the UI thread: the page rendered with PyMuPDF plus where the
passage sits on it, or the extracted text plus the passage's span. No widgets here (QImage is
safe to build in any thread)."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QRectF, QRunnable, QThreadPool, Signal

from kenning.extract import extract, mupdf
from kenning.search import SearchResult

log = logging.getLogger(__name__)

PAGED_EXTENSIONS = frozenset(mupdf.EXTENSIONS)  # what PyMuPDF can render page by page
RENDER_WIDTH_PX = 1600
SEARCH_WORDS = 6  # words per search_for call: long enough to be unique on a page
MAX_TEXT_CHARS = 2_000_000


@dataclass
class PagePreview:
    result: SearchResult
    image: object  # QImage
    page_count: int
    highlights: list[QRectF] = field(default_factory=list)  # in image pixels


@dataclass
class TextPreview:
    result: SearchResult
    text: str
    start: int  # the passage, as indices into `text`
    end: int


@dataclass
class PreviewFailure:
    result: SearchResult
    message: str


def passage_rects(page, passage: str) -> list:
    """Where `passage` lies on a PyMuPDF page: search_for runs of a few words at a time (a whole
    chunk is too long for one search, and a run that fails, e.g. across a hyphen, costs little)."""
    import pymupdf

    # Ligatures expanded ("ﬁ" as "fi") like the extractor does, or words such as "first" miss.
    flags = pymupdf.TEXT_DEHYPHENATE | pymupdf.TEXT_MEDIABOX_CLIP

    def find(words: list[str]) -> list:
        return page.search_for(" ".join(words), flags=flags)

    words = passage.split()
    rects = []
    for i in range(0, len(words), SEARCH_WORDS):
        run = words[i : i + SEARCH_WORDS]
        hits = find(run)
        if not hits and len(run) > 2:
            half = len(run) // 2
            hits = find(run[:half]) + find(run[half:])
        rects.extend(hits)
    return rects


def merge_line_rects(rects: list[QRectF]) -> list[QRectF]:
    """Join hits that sit side by side on one line (separate searches leave a gap at each space)."""
    merged: list[QRectF] = []
    for rect in sorted(rects, key=lambda r: (round(r.center().y()), r.left())):
        last = merged[-1] if merged else None
        same_line = last is not None and abs(last.center().y() - rect.center().y()) < rect.height() / 2
        if same_line and rect.left() - last.right() < rect.height() * 1.5:
            merged[-1] = last.united(rect)
        else:
            merged.append(rect)
    return merged


def render_page(result: SearchResult, passage: str) -> PagePreview:
    import pymupdf
    from PySide6.QtGui import QImage

    with pymupdf.open(result.path) as doc:
        page = doc[max(0, min(doc.page_count - 1, (result.page or 1) - 1))]
        zoom = RENDER_WIDTH_PX / max(1.0, page.rect.width)
        pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
        image = QImage(pixmap.samples, pixmap.width, pixmap.height, pixmap.stride, QImage.Format.Format_RGB888).copy()
        rects = [QRectF(r.x0 * zoom, r.y0 * zoom, r.width * zoom, r.height * zoom) for r in passage_rects(page, passage)]
        return PagePreview(result, image, doc.page_count, merge_line_rects(rects))


def text_preview(result: SearchResult, text: str) -> TextPreview:
    start, end = max(0, result.char_start), max(result.char_start, result.char_end)
    if len(text) > MAX_TEXT_CHARS:  # show the neighbourhood of the passage, not a whole huge file
        offset = max(0, start - MAX_TEXT_CHARS // 2)
        text, start, end = text[offset : offset + MAX_TEXT_CHARS], start - offset, end - offset
    # Qt would turn "\r\n" into one break and shift every offset after it; same-length swaps keep them.
    text = text.replace("\r", " ").replace("\x00", " ")
    return TextPreview(result, text, min(start, len(text)), min(end, len(text)))


def load_preview(result: SearchResult) -> PagePreview | TextPreview:
    text = extract(Path(result.path)).text
    passage = text[result.char_start : result.char_end]
    if Path(result.path).suffix.lower() in PAGED_EXTENSIONS and result.page:
        return render_page(result, passage)
    return text_preview(result, text)


class _Job(QRunnable):
    def __init__(self, loader: "PreviewLoader", request_id: int, result: SearchResult):
        super().__init__()
        self.loader, self.request_id, self.result = loader, request_id, result

    def run(self) -> None:
        if self.request_id != self.loader.newest:
            return
        try:
            content = load_preview(self.result)
        except Exception as exc:  # damaged, moved or deleted since indexing
            log.info("no preview for %s: %s", self.result.path, exc)
            reason = str(exc) if not isinstance(exc, FileNotFoundError) else "the file is no longer there"
            content = PreviewFailure(self.result, reason)
        self.loader.loaded.emit(self.request_id, content)


class PreviewLoader(QObject):
    """One preview at a time, newest wins; `loaded` arrives in the UI thread."""

    loaded = Signal(int, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._ids = itertools.count(1)
        self.newest = 0
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)

    def request(self, result: SearchResult) -> int:
        self.newest = next(self._ids)
        self._pool.start(_Job(self, self.newest, result))
        return self.newest

    def shutdown(self) -> None:
        self.newest = next(self._ids)
        self._pool.clear()
        self._pool.waitForDone()
