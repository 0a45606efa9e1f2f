"""The OCR phase: scanned pages and images are read by Tesseract in the background, after the
keyword phase has made every other file searchable, a few pages at a time (so a pause or a new
file waits for a page, not a book), each page in the extraction child with its own time limit.

What OCR read is kept by the file's content (`OcrCache`, owner-only files in the data folder): a
file that is touched, moved, copied or re-cut into passages is never read twice, a pause half-way
through a book resumes where it stopped, and the preview marks passages on scanned pages from the
word boxes kept there.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from kenning.extract import ExtractionError, UnsupportedFile
from kenning.extract.ocr import OcrPage, OcrWord, choose_languages, read_page, tesseract_program
from kenning.passages import pages_needing_ocr
from kenning.paths import atomic_output, private_dir

log = logging.getLogger(__name__)

OCR_PAGES_PER_STEP = 4
PAGE_TIMEOUT_MARGIN_S = 15.0  # the child renders the page too; Tesseract has the setting's limit
PRUNE_EVERY_S = 600.0
WAITING = "waiting for OCR"
NEEDS_TESSERACT = "needs OCR (install Tesseract)"


class OcrCache:
    """What OCR read on each page, by the file's content hash: `<data>/ocr/<hash>/<page>.json`."""

    def __init__(self, data_dir: Path):
        self.root = Path(data_dir) / "ocr"  # made owner-only when the first result is kept

    def _folder(self, content_hash: str) -> Path:
        if not content_hash or not content_hash.isalnum():
            raise ValueError("a content hash is letters and digits")
        return self.root / content_hash

    def pages(self, content_hash: str | None, languages: str | None = None) -> dict[int, OcrPage]:
        """The pages read so far (in `languages`, when given: read in others, they are read again)."""
        if not content_hash or not (folder := self._folder(content_hash)).is_dir():
            return {}
        found = {}
        for entry in folder.glob("*.json"):
            try:
                data = json.loads(entry.read_text(encoding="utf-8"))
                if languages is not None and data.get("languages") != languages:
                    continue
                words = [OcrWord(w[0], tuple(w[1:5])) for w in data.get("words", [])]
                found[int(entry.stem)] = OcrPage(data.get("text", ""), words, data.get("failed", ""))
            except (OSError, ValueError, TypeError, IndexError):
                continue  # a damaged record: that page is read again
        return found

    def texts(self, content_hash: str | None, languages: str | None = None) -> dict[int, str]:
        return {page: result.text for page, result in self.pages(content_hash, languages).items()}

    def save(self, content_hash: str, page: int, result: OcrPage, languages: str) -> None:
        private_dir(self.root)
        folder = private_dir(self._folder(content_hash))
        record = asdict(result) | {"words": [[w.text, *w.box] for w in result.words], "languages": languages}
        with atomic_output(folder / f"{page}.json") as tmp:
            tmp.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")

    def prune(self, keep: set[str]) -> int:
        """Forget the results of files no longer indexed; returns how many files' results went."""
        if not self.root.is_dir():
            return 0
        gone = [entry for entry in os.scandir(self.root) if entry.is_dir() and entry.name not in keep]
        for entry in gone:
            shutil.rmtree(entry.path, ignore_errors=True)
        return len(gone)


@dataclass
class OcrStep:
    path: str
    pages_done: int  # of this file, so far
    pages_total: int
    pages_read: int  # in this step
    finished: bool  # the file's text, OCR included, is stored


class OcrPhase:
    """Drives OCR for the indexer: which file next, which pages, and storing the result."""

    def __init__(self, indexer, cache: OcrCache):
        self.indexer = indexer
        self.cache = cache
        self._pages: dict[str, list[int]] = {}  # path -> its scanned pages, found once per session
        self._passed_over: set[str] = set()  # files changed or gone since they were read: the scan's job
        self._last_prune = 0.0

    @property
    def settings(self):
        return self.indexer.settings

    def languages(self) -> str:
        return choose_languages(self.settings.ocr_languages)

    def available(self) -> bool:
        return bool(self.settings.ocr and tesseract_program() and self.languages())

    def waiting_reason(self, pages: int) -> str:
        if self.available():
            return f"{WAITING} ({pages} page{'s' if pages != 1 else ''})"
        return NEEDS_TESSERACT if self.settings.ocr else "needs OCR (turned off in the settings)"

    def pending(self) -> bool:
        return self.available() and self._next() is not None

    def _next(self):
        store = self.indexer.store
        for record in store.files_needing_ocr():
            if record.path not in self._passed_over:
                return record
        return None

    def step(self, should_stop: Callable[[], bool] = lambda: False,
             pages_per_step: int = OCR_PAGES_PER_STEP) -> OcrStep | None:
        """OCR up to `pages_per_step` pages of the next file that waits; None when none waits (or
        OCR cannot run)."""
        if not self.available():
            return None
        record = self._next()
        if record is None:
            self._prune()
            return None
        if not self._unchanged(record):
            self._passed_over.add(record.path)
            return OcrStep(record.path, 0, 0, 0, False)
        sandbox = self.indexer._sandbox()
        try:
            scanned = self._pages.get(record.path)
            if scanned is None:
                scanned = self._pages[record.path] = sandbox.call(pages_needing_ocr, record.path)
            languages = self.languages()
            done = self.cache.pages(record.content_hash, languages)
            read = 0
            for page in [p for p in scanned if p not in done][:pages_per_step]:
                if should_stop():
                    break
                done[page] = self._read(sandbox, record, page)
                self.cache.save(record.content_hash or "", page, done[page], languages)
                read += 1
            finished = all(page in done for page in scanned)
            if finished:
                self._store(sandbox, record, done)
        except (ExtractionError, UnsupportedFile) as exc:  # the file itself broke: say so, once
            self._pages.pop(record.path, None)
            self.indexer.fail_stored(record, str(exc))
            return OcrStep(record.path, 0, 0, 0, True)
        return OcrStep(record.path, sum(p in done for p in scanned), len(scanned), read, finished)

    def _read(self, sandbox, record, page: int) -> OcrPage:
        limit = self.settings.ocr_page_timeout_s
        try:
            return sandbox.call_within(limit + PAGE_TIMEOUT_MARGIN_S, read_page, record.path, page,
                                       self.languages(), limit, tesseract_program())
        except ExtractionError as exc:  # this page only (a crash, too slow): the others are read
            return OcrPage("", failed=str(exc))

    def _store(self, sandbox, record, done: dict[int, OcrPage]) -> None:
        from kenning.passages import read_passages

        passages = sandbox.call(read_passages, record.path, self.indexer.plan,
                                {page: result.text for page, result in done.items()})
        failed = sorted(page for page, result in done.items() if result.failed)
        note = passages.note
        if failed:
            shown = ", ".join(str(p) for p in failed[:10]) + ("…" if len(failed) > 10 else "")
            note = f"OCR could not read page{'s' if len(failed) > 1 else ''} {shown} ({done[failed[0]].failed})"
        self._pages.pop(record.path, None)
        self.indexer.store_ocr_result(record, passages, note)

    def _unchanged(self, record) -> bool:
        try:
            info = os.stat(record.path)
        except OSError:
            return False
        return info.st_size == record.size and info.st_mtime == record.mtime

    def _prune(self) -> None:
        if time.monotonic() - self._last_prune < PRUNE_EVERY_S:
            return
        self._last_prune = time.monotonic()
        removed = self.cache.prune(self.indexer.store.content_hashes())
        if removed:
            log.info("forgot the OCR results of %d files no longer indexed", removed)
