"""Switching the index to another embedding model without a gap in search.

The new model's vectors are built in a second vector table beside the one searched, a batch at a
time (each batch one transaction, so a kill loses at most a batch and the work resumes). When every
chunk has a new vector, one transaction makes the new table the searched one and drops the old.
Cancelling drops the new table; the old index is never touched before the switch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kenning.embed import Embedder, EmbedderSettings, TextTooLong
from kenning.errors import KenningError
from kenning.models.catalogue import CATALOGUE
from kenning.models.library import ModelLibrary
from kenning.store import Store

log = logging.getLogger(__name__)

BATCH_CHUNKS = 128


@dataclass(frozen=True)
class SwitchState:
    model: str
    dimensions: int
    done: int
    total: int

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 1.0

    def to_json(self) -> dict:
        return {"model": self.model, "dimensions": self.dimensions, "done": self.done, "total": self.total}


class ModelSwitch:
    def __init__(self, store: Store, models: ModelLibrary, settings: EmbedderSettings | None = None):
        self.store = store
        self.models = models
        self.settings = settings or EmbedderSettings()
        self._embedder: Embedder | None = None

    def start(self, name: str, dimensions: int | None = None) -> SwitchState:
        """Begin (or carry on) building vectors for the installed model `name`."""
        installed = self.models.find(name)
        if installed is None:
            spec = CATALOGUE.get(name)
            if spec is not None and spec.download:
                hint = f"download it first: `kenning models download {name}`"
            elif spec is not None:
                hint = "convert it first from its Hugging Face folder: `kenning models convert FOLDER`"
            else:
                hint = "import it first: `kenning models import FILE.gguf`"
            raise KenningError(f"model {name!r} is not installed; {hint}")
        dimensions = dimensions or installed.spec.dimensions
        if (name, dimensions) == (self.store.model_name, self.store.dimensions):
            raise KenningError(f"the index already uses {name} ({dimensions} dimensions)")
        self._load(name, dimensions)  # refuses a size the model cannot give, before any change
        self.close()  # the work may well be done by another process (the service)
        self.store.begin_switch(name, dimensions)
        return self.state()

    def state(self) -> SwitchState | None:
        target = self.store.switch_target()
        if target is None:
            return None
        done, total = self.store.switch_progress()
        return SwitchState(target[0], target[1], done, total)

    def step(self, batch: int = BATCH_CHUNKS) -> bool:
        """Embed one batch for the switch; True once the switch is complete."""
        target = self.store.switch_table()
        if target is None:
            return False
        model, dimensions, table = target
        rows = self.store.chunks_for_switch(table, batch)
        if not rows:
            done = self.store.complete_switch()
            if done:
                log.info("the index now uses %s (%d dimensions)", model, dimensions)
                self.close()
            return done
        embedder = self._load(model, dimensions)
        self.store.add_switch_vectors(table, rows, _embed(embedder, [text for _, text in rows]))
        return False

    def run(self, progress: Callable[[SwitchState], None] | None = None,
            should_stop: Callable[[], bool] | None = None) -> bool:
        """Work until the switch completes (True) or `should_stop` says so (False)."""
        while not (should_stop and should_stop()):
            if self.step():
                return True
            state = self.state()
            if state is None:
                return False
            if progress:
                progress(state)
        return False

    def cancel(self) -> None:
        self.store.cancel_switch()
        self.close()

    def close(self) -> None:
        if self._embedder is not None:
            self._embedder.close()
            self._embedder = None

    def _load(self, name: str, dimensions: int) -> Embedder:
        current = self._embedder
        if current is None or current.spec.name != name or current.dimensions != dimensions:
            self.close()
            installed = self.models.get(name)
            settings = EmbedderSettings(self.settings.gpu, self.settings.threads,
                                        self.settings.batch_tokens, dimensions)
            self._embedder = Embedder(installed.path, installed.spec, settings, verified=True)
        return self._embedder


def _embed(embedder: Embedder, texts: list[str]) -> np.ndarray:
    try:
        return embedder.embed_documents(texts)
    except TextTooLong:  # chunks cut for the old model's tokenizer may not fit the new one
        fits = [embedder.count_tokens(t) <= embedder.window for t in texts]
        short = embedder.embed_documents([t for t, ok in zip(texts, fits) if ok]) if any(fits) else []
        result, short_iter = [], iter(short)
        for text, ok in zip(texts, fits):
            result.append(next(short_iter) if ok else embedder.embed_long_document(text))
        return np.asarray(result, dtype=np.float32)
