"""Switching the index to another embedding model without a gap in search.

The new model's vectors are built in a second vector table beside the one searched, a batch at a
time (each batch one transaction, so a kill loses at most a batch and the work resumes). When every
passage has a new vector, one transaction makes the new table the searched one and drops the old.
Cancelling drops the new table; the old index is never touched before the switch.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kenning.embed import Embedder, EmbedderSettings, output_dimensions
from kenning.errors import KenningError
from kenning.models.catalogue import CATALOGUE
from kenning.models.library import ModelLibrary
from kenning.store import Meta, Store

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
        self.tables = SwitchTables(store)
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
        self.models.verified(installed)
        dimensions = output_dimensions(installed.spec, installed.spec.dimensions, dimensions)
        if (name, dimensions) == (self.store.model_name, self.store.dimensions):
            raise KenningError(f"the index already uses {name} ({dimensions} dimensions)")
        self.tables.begin(name, dimensions)  # the work may well be done by another process (the service)
        return self.state() or SwitchState(name, dimensions, 0, 0)

    def target(self) -> tuple[str, int] | None:
        """(model, dimensions) being built, or None."""
        return self.tables.target()

    def state(self) -> SwitchState | None:
        target = self.tables.target()
        if target is None:
            return None
        done, total = self.tables.progress()
        return SwitchState(target[0], target[1], done, total)

    def step(self, batch: int = BATCH_CHUNKS) -> bool:
        """Embed one batch for the switch; True once the switch is complete."""
        target = self.tables.table()
        if target is None:
            return False
        model, dimensions, table = target
        rows = self.tables.passages(table, batch)
        if not rows:
            done = self.tables.complete()
            if done:
                log.info("the index now uses %s (%d dimensions)", model, dimensions)
                self.close()
            return done
        embedder = self._load(model, dimensions)
        self.tables.add(table, rows, embedder.embed_passages([text for _, text in rows]))
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
        self.tables.cancel()
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
            current = self._embedder = Embedder(installed.path, installed.spec, settings, verified=True)
        return current


_SWITCH_KEYS = (Meta.NEXT_MODEL, Meta.NEXT_DIMENSIONS, Meta.NEXT_TABLE, Meta.NEXT_CURSOR, Meta.NEXT_DONE)


class SwitchTables:
    """A switch's storage in the index database: the second vector table, where the build has got
    to (meta `next_*`), and the swap. Each write is one transaction."""

    def __init__(self, store: Store):
        self.store = store

    def table(self) -> tuple[str, int, str] | None:
        """(model, dimensions, vector table) of the switch being built, read at once (another
        process may cancel or restart the switch at any moment), or None."""
        values = self.store.get_metas((Meta.NEXT_MODEL, Meta.NEXT_DIMENSIONS, Meta.NEXT_TABLE))
        if len(values) < 3:
            return None
        return values[Meta.NEXT_MODEL], int(values[Meta.NEXT_DIMENSIONS]), values[Meta.NEXT_TABLE]

    def target(self) -> tuple[str, int] | None:
        table = self.table()
        return table[:2] if table else None

    def begin(self, model: str, dimensions: int) -> None:
        """Start building vectors for `model` (a switch to the same target carries on)."""
        if self.target() == (model, dimensions):
            return
        with self.store.transaction():
            self._drop()
            generation = int(self.store.get_meta(Meta.VECTOR_GENERATION) or 0) + 1
            table = f"chunk_vectors_{generation}"
            self.store.create_vector_table(table, dimensions)
            for key, value in ((Meta.VECTOR_GENERATION, generation), (Meta.NEXT_MODEL, model),
                               (Meta.NEXT_DIMENSIONS, dimensions), (Meta.NEXT_TABLE, table),
                               (Meta.NEXT_CURSOR, 0), (Meta.NEXT_DONE, 0)):
                self.store.set_meta(key, str(value))

    def cancel(self) -> None:
        with self.store.transaction():
            self._drop()

    def _drop(self) -> None:
        table = self.store.get_meta(Meta.NEXT_TABLE)
        if table:
            self.store.drop_vector_table(table)
        self.store.delete_meta(_SWITCH_KEYS)

    def progress(self) -> tuple[int, int]:
        """(passages with vectors of the new model, all passages)."""
        return int(self.store.get_meta(Meta.NEXT_DONE) or 0), self.store.passage_count()

    def passages(self, table: str, limit: int) -> list[tuple[int, str]]:
        """The next passages (id, text) still lacking vectors in the switch's `table`: first in id
        order from where the last batch stopped, then any added behind that point meanwhile."""
        with self.store.snapshot():
            return self._passages(table, limit)

    def _passages(self, table: str, limit: int) -> list[tuple[int, str]]:
        if self.store.get_meta(Meta.NEXT_TABLE) != table:
            return []
        cursor = int(self.store.get_meta(Meta.NEXT_CURSOR) or 0)
        return self.store.passages_after(cursor, limit) or self.store.passages_without_vector(table, limit)

    def add(self, table: str, rows: Sequence[tuple[int, str]], vectors: np.ndarray) -> None:
        """Store new-model vectors for passages that still exist with the text they were made from
        (the indexer may have replaced a file meanwhile), unless the switch they were made for has
        been cancelled or replaced meanwhile."""
        with self.store.transaction():
            if self.store.get_meta(Meta.NEXT_TABLE) != table:
                return
            added = 0
            for (passage, text), vector in zip(rows, vectors):
                if self.store.passage_text(passage) != text:
                    continue
                self.store.put_vector(table, passage, vector)
                added += 1
            cursor = max(int(self.store.get_meta(Meta.NEXT_CURSOR) or 0), max((r[0] for r in rows), default=0))
            self.store.set_meta(Meta.NEXT_CURSOR, str(cursor))
            self.store.set_meta(Meta.NEXT_DONE, str(int(self.store.get_meta(Meta.NEXT_DONE) or 0) + added))

    def complete(self) -> bool:
        """Make the new vectors the ones searched, in one transaction, and drop the old ones;
        False (nothing changed) while some passage still lacks a new vector."""
        with self.store.transaction():
            target = self.table()
            if target is None or self._passages(target[2], 1):
                return False
            self.store.use_vector_table(*target)
            self.store.mark_all_embedded()
            self.store.delete_meta(_SWITCH_KEYS)
        self.store.release_free_pages()
        return True
