"""Previews of a result: the page rendered (PDF and the other formats PyMuPDF pages) with where the
passage sits on it, or the extracted text with the passage's span. The file is read and rendered
in the sandbox's child process, with the indexer's time and memory limits, so a hostile file
cannot crash or hang the app showing it. No Qt here: the page comes back as raw RGB pixels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kenning.extract import FORMATS, Document, extract
from kenning.extract.base import ocr_texts
from kenning.extract.ocr import OcrPage
from kenning.members import MemberCopies
from kenning.ocr_phase import OcrCache
from kenning.relevance import best_sentence
from kenning.sandbox import ExtractionSandbox
from kenning.scan import content_hash
from kenning.settings import IndexSettings

PAGED_EXTENSIONS = frozenset(FORMATS["mupdf"])  # what PyMuPDF can render page by page
IMAGE_EXTENSIONS = frozenset(FORMATS["image"])  # rendered by Pillow, a frame a page
RENDER_WIDTH_PX = 1600
SEARCH_WORDS = 6  # words per search_for call: long enough to be unique on a page
MAX_TEXT_CHARS = 2_000_000

Rect = tuple[float, float, float, float]  # x, y, width, height in image pixels


@dataclass
class PagePreview:
    page: int  # 1-based
    page_count: int
    label: str  # the printed page number ("xii", "21"), or "" when the file has none
    width: int
    height: int
    samples: bytes  # RGB888, `width * 3` bytes a row
    highlights: list[Rect] = field(default_factory=list)  # the passage
    emphasis: list[Rect] = field(default_factory=list)  # its sentence that best matches the query


@dataclass
class TextPreview:
    text: str
    start: int  # the passage, as indices into `text`
    end: int


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


def merge_line_rects(rects: list[Rect]) -> list[Rect]:
    """Join hits that sit side by side on one line (separate searches leave a gap at each space)."""
    merged: list[Rect] = []
    for x, y, w, h in sorted(rects, key=lambda r: (round(r[1] + r[3] / 2), r[0])):
        if merged:
            mx, my, mw, mh = merged[-1]
            same_line = abs((my + mh / 2) - (y + h / 2)) < h / 2
            if same_line and x - (mx + mw) < h * 1.5:
                left, top = min(mx, x), min(my, y)
                merged[-1] = (left, top, max(mx + mw, x + w) - left, max(my + mh, y + h) - top)
                continue
        merged.append((x, y, w, h))
    return merged


def render_page(path: Path, page_number: int, passage: str, width_px: int = RENDER_WIDTH_PX,
                sentence: str = "", scanned: ScannedSpans | None = None) -> PagePreview:
    """The page rendered `width_px` wide, with where `passage` and its `sentence` lie on it (on a
    scanned page, from the boxes of the words OCR read: `scanned`)."""
    import pymupdf

    with pymupdf.open(path) as doc:
        index = max(0, min(doc.page_count - 1, page_number - 1))
        page = doc[index]
        zoom = width_px / max(1.0, page.rect.width)
        pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
        def located(text: str) -> list[Rect]:
            return [(r.x0 * zoom, r.y0 * zoom, r.width * zoom, r.height * zoom)
                    for r in (passage_rects(page, text) if text else [])]

        rects, emphasis = located(passage), located(sentence)
        if scanned is not None and not rects:
            rects, emphasis = scanned.rects(pixmap.width, pixmap.height)
        try:
            label = page.get_label() or ""
        except Exception:  # a damaged page-label tree: show the physical number only
            label = ""
        rows = b"".join(pixmap.samples[y * pixmap.stride : y * pixmap.stride + pixmap.width * 3]
                        for y in range(pixmap.height)) if pixmap.stride != pixmap.width * 3 else pixmap.samples
        return PagePreview(index + 1, doc.page_count, label, pixmap.width, pixmap.height, bytes(rows),
                           merge_line_rects(rects), merge_line_rects(emphasis))


def render_image(path: Path, frame: int, width_px: int = RENDER_WIDTH_PX,
                 scanned: ScannedSpans | None = None) -> PagePreview:
    """An image file's frame (a TIFF page), `width_px` wide at most, with the passage OCR read there."""
    from PIL import Image, ImageSequence

    with Image.open(path) as image:
        frames = getattr(image, "n_frames", 1) if path.suffix.lower() in (".tif", ".tiff") else 1
        number = max(1, min(frames, frame))
        picture = next(f for i, f in enumerate(ImageSequence.Iterator(image), start=1) if i == number).convert("RGB")
    if picture.width > width_px:
        picture = picture.resize((width_px, max(1, round(picture.height * width_px / picture.width))))
    rects, emphasis = scanned.rects(picture.width, picture.height) if scanned else ([], [])
    return PagePreview(number, frames, "", picture.width, picture.height, picture.tobytes(),
                       merge_line_rects(rects), merge_line_rects(emphasis))


@dataclass
class ScannedSpans:
    """A passage (and its sentence) on a page OCR read: character spans into the page's OCR text."""

    page: OcrPage
    passage: tuple[int, int]
    sentence: tuple[int, int] | None

    def rects(self, width: int, height: int) -> tuple[list[Rect], list[Rect]]:
        offsets, position = [], 0
        for word in self.page.words:  # the OCR text is its words joined by spaces and line breaks
            start = self.page.text.find(word.text, position)
            if start < 0:
                break
            offsets.append((start, start + len(word.text), word.box))
            position = start + len(word.text)

        def within(span: tuple[int, int] | None) -> list[Rect]:
            lines: list[list[float]] = []  # x0, y0, x1, y1: the words in reading order, joined by line
            for start, end, (x0, y0, x1, y1) in offsets:
                if span is None or not (start < span[1] and end > span[0]):
                    continue
                last = lines[-1] if lines else None
                if last and x0 >= last[0] and y0 < last[3] and y1 > last[1]:  # further along the same line
                    last[1], last[2], last[3] = min(last[1], y0), max(last[2], x1), max(last[3], y1)
                else:
                    lines.append([x0, y0, x1, y1])
            return [(x0 * width, y0 * height, (x1 - x0) * width, (y1 - y0) * height) for x0, y0, x1, y1 in lines]

        return within(self.passage), within(self.sentence)


def text_preview(text: str, char_start: int, char_end: int) -> TextPreview:
    start, end = max(0, char_start), max(char_start, char_end)
    if len(text) > MAX_TEXT_CHARS:  # show the neighbourhood of the passage, not a whole huge file
        offset = max(0, start - MAX_TEXT_CHARS // 2)
        text, start, end = text[offset : offset + MAX_TEXT_CHARS], start - offset, end - offset
    # Qt would turn "\r\n" into one break and shift every offset after it; same-length swaps keep them.
    text = text.replace("\r", " ").replace("\x00", " ")
    return TextPreview(text, min(start, len(text)), min(end, len(text)))


def load_preview(path: str, page: int | None, char_start: int, char_end: int, show_page: int | None = None,
                 width_px: int = RENDER_WIDTH_PX, terms: Sequence[str] = (),
                 scans: dict[int, OcrPage] | None = None) -> PagePreview | TextPreview:
    """In the child: the preview of a passage (`show_page` another page of the same file); on a
    page, the sentence of the passage that best matches `terms` (the query's words) too. `scans`:
    what OCR read on the file's scanned pages, as the index has it."""
    suffix = Path(path).suffix.lower()
    image = suffix in IMAGE_EXTENSIONS
    paged = (suffix in PAGED_EXTENSIONS or image) and page
    scans = scans or {}
    if paged and show_page is not None and show_page != page:
        if image:
            return render_image(Path(path), show_page, width_px)
        return render_page(Path(path), show_page, "", width_px)
    with ocr_texts({number: scan.text for number, scan in scans.items()}):
        document = extract(Path(path))
    text = document.text
    passage = text[char_start:char_end]
    if not paged:
        return text_preview(text, char_start, char_end)
    best = best_sentence(passage, list(terms)) if terms else None
    sentence = passage[best[0]:best[1]] if best and best[1] - best[0] < len(passage.strip()) else ""
    scanned = _scanned_spans(document, scans, page or 1, char_start, char_end, best)
    if image:
        return render_image(Path(path), page or 1, width_px, scanned)
    return render_page(Path(path), page or 1, passage, width_px, sentence, scanned)


def _scanned_spans(document: Document, scans: dict[int, OcrPage], page: int, char_start: int, char_end: int,
                   best: tuple[int, int] | None) -> ScannedSpans | None:
    """Where the passage falls in the OCR text of its page, if OCR read that page."""
    if page not in scans:
        return None
    for offset, section in document.spans():
        if section.page == page and section.text == scans[page].text:
            sentence = (char_start + best[0] - offset, char_start + best[1] - offset) if best else None
            return ScannedSpans(scans[page], (char_start - offset, char_end - offset), sentence)
    return None


class Previewer:
    """Previews through a child process of their own (apart from the indexer's); one at a time."""

    def __init__(self, settings: IndexSettings | None = None, data_dir: Path | None = None):
        """`data_dir`: the index's, where what OCR read on scanned pages is kept."""
        limits = settings or IndexSettings()
        self._sandbox = ExtractionSandbox(limits.timeout_s, limits.memory_mb)
        self._scans = OcrCache(data_dir) if data_dir is not None else None
        self._copies = MemberCopies(data_dir, self._sandbox, limits) if data_dir is not None else None

    def preview(self, path: str, page: int | None, char_start: int, char_end: int,
                show_page: int | None = None, width_px: int = RENDER_WIDTH_PX,
                terms: Sequence[str] = ()) -> PagePreview | TextPreview:
        """Raises ExtractionError (damaged, too slow, crashed the parser) or OSError (gone). A
        member of an archive or mailbox is previewed from a private copy."""
        if self._copies is not None:
            path = self._copies.local_path(path)
        scans = self._scanned_pages(path)
        return self._sandbox.call(load_preview, path, page, char_start, char_end, show_page, width_px, tuple(terms),
                                  scans)

    def _scanned_pages(self, path: str) -> dict[int, OcrPage]:
        suffix = Path(path).suffix.lower()
        if self._scans is None or not self._scans.root.is_dir() or suffix not in PAGED_EXTENSIONS | IMAGE_EXTENSIONS:
            return {}
        try:
            return self._scans.pages(content_hash(path))
        except OSError:
            return {}

    def close(self) -> None:
        self._sandbox.close()
