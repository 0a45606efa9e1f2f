"""Loading a result's preview off the UI thread, from the sandboxed previewer: the page image
plus where the passage sits on it, or the extracted text plus the passage's span. No widgets
here (QImage is safe to build in any thread)."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QRectF, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

from kenning.preview import PagePreview as RenderedPage
from kenning.preview import Previewer
from kenning.preview import TextPreview as ExtractedText
from kenning.search import SearchResult

log = logging.getLogger(__name__)


@dataclass
class PagePreview:
    result: SearchResult
    image: QImage
    page_count: int
    highlights: list[QRectF] = field(default_factory=list)  # in image pixels
    page: int = 1  # shown (1-based)
    label: str = ""  # the printed page number, if the file has labels
    emphasis: list[QRectF] = field(default_factory=list)  # the passage's best sentence


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


def to_qt(result: SearchResult, content: RenderedPage | ExtractedText) -> PagePreview | TextPreview:
    if isinstance(content, ExtractedText):
        return TextPreview(result, content.text, content.start, content.end)
    image = QImage(content.samples, content.width, content.height, content.width * 3, QImage.Format.Format_RGB888).copy()
    return PagePreview(result, image, content.page_count, [QRectF(*r) for r in content.highlights],
                       content.page, content.label, [QRectF(*r) for r in content.emphasis])


class _Job(QRunnable):
    def __init__(self, loader: PreviewLoader, request_id: int, result: SearchResult, page: int | None,
                 terms: tuple[str, ...]):
        super().__init__()
        self.loader, self.request_id, self.result, self.page, self.terms = loader, request_id, result, page, terms

    def run(self) -> None:
        if self.request_id != self.loader.newest:
            return
        result = self.result
        try:
            rendered = self.loader.previewer().preview(result.path, result.page, result.char_start,
                                                        result.char_end, self.page, terms=self.terms)
            content: PagePreview | TextPreview | PreviewFailure = to_qt(result, rendered)
        except Exception as exc:  # damaged, moved or deleted since indexing
            log.info("no preview for %s: %s", result.path, exc)
            content = PreviewFailure(result, str(exc))
        self.loader.loaded.emit(self.request_id, content)


class PreviewLoader(QObject):
    """One preview at a time, newest wins; `loaded` arrives in the UI thread. Files are read and
    rendered by a sandboxed child process (`kenning.preview.Previewer`), never in the app."""

    loaded = Signal(int, object)

    def __init__(self, parent=None, data_dir: Path | None = None):
        super().__init__(parent)
        self.data_dir = data_dir
        self._ids = itertools.count(1)
        self.newest = 0
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._previewer: Previewer | None = None

    def previewer(self) -> Previewer:
        """In the pool's one thread."""
        if self._previewer is None:
            self._previewer = Previewer(data_dir=self.data_dir)
        return self._previewer

    def request(self, result: SearchResult, page: int | None = None, terms: Sequence[str] = ()) -> int:
        """The preview of `result` (its passage's page, or `page` of the same file); `terms`, the
        query's words, pick the passage's sentence to emphasise on the page."""
        self.newest = next(self._ids)
        self._pool.start(_Job(self, self.newest, result, page, tuple(terms)))
        return self.newest

    def shutdown(self) -> None:
        self.newest = next(self._ids)
        self._pool.clear()
        self._pool.waitForDone()
        if self._previewer is not None:
            self._previewer.close()
            self._previewer = None
