"""Filters that select few files, with the real model: searched within those files, so the list is
full whenever that many matching files exist (not a few survivors of the whole index's top)."""

from __future__ import annotations

import os
import random

import pytest
from prose import document

import kenning.search as search
from kenning.engine import Engine
from kenning.query import query_terms, stem
from kenning.search import Filters

pytestmark = pytest.mark.slow
OLD = 946_684_800.0  # 2000-01-01


@pytest.fixture(scope="module")
def many_files(tmp_path_factory, model_data_dir):
    """300 ordinary files; 12 of them in `few/`, 12 others Markdown, 12 others from 2000."""
    rng = random.Random(11)
    root = tmp_path_factory.mktemp("filters")
    docs = root / "docs"
    for n in range(300):
        folder = docs / ("few" if n < 12 else f"part{n % 20:02d}")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"note-{n:03d}.{'md' if 12 <= n < 24 else 'txt'}"
        path.write_text(document(rng), encoding="utf-8")
        if 24 <= n < 36:
            os.utime(path, (OLD, OLD))
    data = root / "data"
    (data / "models").mkdir(parents=True)
    for item in (model_data_dir / "models").iterdir():
        (data / "models" / item.name).write_bytes(item.read_bytes())
    engine = Engine(data)
    engine.index([docs])
    yield engine, docs
    engine.close()


@pytest.mark.parametrize("mode", ["hybrid", "vector", "bm25"])
@pytest.mark.parametrize("selection_to_fts", [True, False], ids=["filtered by FTS5", "filtered after"])
def test_a_filter_on_few_files_fills_the_list(many_files, mode, selection_to_fts, monkeypatch):
    if not selection_to_fts:
        monkeypatch.setattr(search, "FTS_SELECTION", 0)
    engine, docs = many_files
    query = "the water in the morning and the budget for the office"
    cases = {
        "folder": (Filters(folder=str(docs / "few")), lambda r: r.path.startswith(str(docs / "few") + os.sep)),
        "type": (Filters(file_types=("md",)), lambda r: r.path.endswith(".md")),
        "date": (Filters(modified_before=OLD + 86400), lambda r: r.modified <= OLD + 86400),
    }
    words = {stem(w) for w in ("water", "morning", "budget", "office")}
    for name, (filters, accepted) in cases.items():
        results = engine.search(query, limit=10, filters=filters, mode=mode)
        assert all(accepted(r) for r in results), name
        assert len({r.path for r in results}) == len(results)
        if mode == "bm25":  # only files holding a word match; all of them, up to the limit
            holding = [p for p in docs.rglob("*.*") if filters.accepts(str(p), p.suffix[1:], p.stat().st_mtime)
                       and words & {stem(w) for w in query_terms(p.read_text(encoding="utf-8"))}]
            assert len(results) == min(10, len(holding)) and len(holding) >= 3, (name, len(results), len(holding))
        else:
            assert len(results) == 10, (name, len(results))
