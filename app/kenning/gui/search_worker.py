"""Searching off the UI thread: one worker QThread that owns its own Engine (apsw connections and
llama.cpp contexts belong to the thread that made them). Only the newest request matters: a
request already overtaken when the worker reaches it is skipped, and an answer to anything but
the newest request is dropped."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, Signal, Slot

from kenning.engine import Engine
from kenning.errors import KenningError, QueryError
from kenning.relevance import Match
from kenning.search import Filters, SearchResult
from kenning.settings import Settings

log = logging.getLogger(__name__)

RESULT_LIMIT = 30


@dataclass(frozen=True)
class SearchRequest:
    id: int
    query: str
    filters: Filters = field(default_factory=Filters)
    exclude_path: str | None = None  # "more like this" leaves out the file it started from


@dataclass
class SearchOutcome:
    request: SearchRequest
    results: list[SearchResult] = field(default_factory=list)
    good_match: bool = True
    error: str | None = None
    query_error: bool = False  # the query itself is unusable (empty, punctuation)


class _Worker(QObject):
    finished = Signal(object)

    def __init__(self, data_dir: Path, settings: Settings):
        super().__init__()
        self.data_dir = data_dir
        self.settings = settings
        self.newest = 0  # written by the UI thread; an int store is atomic under the GIL
        self._engine: Engine | None = None

    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = Engine.from_settings(self.data_dir, self.settings)
        return self._engine

    @Slot()
    def warm_up(self) -> None:
        """Load the model and the vectors' codes before the first query needs them (a second and
        a half, and a few more seconds at a million passages)."""
        try:
            self.engine().prepare_search()
        except Exception as exc:  # the first search reports it properly
            log.info("search engine not ready yet: %s", exc)

    @Slot(object)
    def search(self, request: SearchRequest) -> None:
        if request.id < self.newest:
            return
        outcome = SearchOutcome(request)
        try:
            engine = self.engine()
            limit = RESULT_LIMIT + (1 if request.exclude_path else 0)
            results = engine.search(request.query, limit=limit, filters=request.filters)
            outcome.results = [r for r in results if r.path != request.exclude_path][:RESULT_LIMIT]
            outcome.good_match = any(r.match is Match.GOOD for r in outcome.results)
        except QueryError as exc:
            outcome.error, outcome.query_error = str(exc), True
        except KenningError as exc:
            outcome.error = str(exc)
        except Exception as exc:  # shown as one line; the details go to the log
            log.exception("search failed")
            outcome.error = f"search failed: {exc}"
        self.finished.emit(outcome)

    @Slot()
    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None


class SearchClient(QObject):
    """Lives in the UI thread; `submit` returns at once and `answered` brings the newest outcome."""

    answered = Signal(object)  # SearchOutcome
    _request = Signal(object)

    def __init__(self, data_dir: Path, settings: Settings | None = None, parent=None):
        super().__init__(parent)
        self._ids = itertools.count(1)
        self.newest = 0
        self._thread = QThread()
        self._thread.setObjectName("kenning-search")
        self._worker = _Worker(Path(data_dir), settings or Settings.load(data_dir))
        self._worker.moveToThread(self._thread)
        self._request.connect(self._worker.search)
        self._worker.finished.connect(self._deliver)
        self._thread.start()
        QMetaObject.invokeMethod(self._worker, "warm_up", Qt.ConnectionType.QueuedConnection)

    def submit(self, query: str, filters: Filters | None = None, exclude_path: str | None = None) -> int:
        request = SearchRequest(next(self._ids), query, filters or Filters(), exclude_path)
        self.newest = self._worker.newest = request.id
        self._request.emit(request)
        return request.id

    def cancel(self) -> None:
        """Forget pending requests (an empty query needs no answer)."""
        self.newest = self._worker.newest = next(self._ids)

    @Slot(object)
    def _deliver(self, outcome: SearchOutcome) -> None:
        if outcome.request.id == self.newest:
            self.answered.emit(outcome)

    def shutdown(self) -> None:
        if not self._thread.isRunning():
            return
        self.cancel()
        QMetaObject.invokeMethod(self._worker, "close", Qt.ConnectionType.BlockingQueuedConnection)
        self._thread.quit()
        self._thread.wait()
