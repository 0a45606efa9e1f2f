"""Keywords first, meaning next; every passage embedded once. Real files, the real model, a real
SQLite file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from docmaker import write_document
from storeview import open_store
from test_engine import check_consistent
from test_service import start_service

from kenning.engine import Engine

TOPICS = [
    "Lighthouse keepers trimmed the wicks and polished the great lenses every evening before dusk.",
    "Beekeepers smoke the hive gently so the colony stays calm while frames of honey are lifted out.",
    "Glaciers carve U-shaped valleys as they grind slowly downhill, leaving moraines where they melt.",
    "A sourdough starter is flour and water colonised by wild yeast and lactic acid bacteria.",
    "Tidal pools hold anemones, crabs and starfish that survive each low tide in the rock hollows.",
    "Cartographers once drew sea monsters in the blank margins of charts to mark unknown waters.",
]


def long_notes(path: Path, paragraphs: int = 24) -> list[str]:
    """A text file of many paragraphs (several passages); returns the paragraphs."""
    texts = [f"Section {i}. {TOPICS[i % len(TOPICS)]} " + "Further detail follows in plain words. " * 25
             for i in range(paragraphs)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join(texts), encoding="utf-8")
    return texts


def names(results) -> list[str]:
    return [Path(r.path).name for r in results]


def test_a_file_is_found_by_keyword_before_its_vectors_exist_and_by_meaning_after(data_dir, tmp_path):
    docs = tmp_path / "docs"
    write_document(docs / "keeper.txt", "Keeper", [TOPICS[0]])
    write_document(docs / "bees.txt", "Bees", [TOPICS[1]])
    with Engine(data_dir=data_dir) as engine:
        report = engine.index([docs], embed=False)  # the keyword phase only
        assert report.indexed == 2 and report.embedded == 0
        assert engine.passages_waiting() == 2
        assert names(engine.search("lenses", mode="bm25")) == ["keeper.txt"]
        assert names(engine.search("wicks lenses dusk"))[0] == "keeper.txt"  # hybrid, keyword-only for now
        assert engine.search("lighthouse", mode="vector") == []  # no vectors yet
        engine.index([docs])  # nothing changed: the meaning phase runs for what waits
        assert engine.passages_waiting() == 0
        assert names(engine.search("insects making a sweet food", mode="vector"))[0] == "bees.txt"
        check_consistent(open_store(data_dir))


def test_editing_one_paragraph_re_embeds_only_the_passages_that_changed(data_dir, tmp_path):
    docs = tmp_path / "docs"
    notes = docs / "notes.txt"
    paragraphs = long_notes(notes)
    with Engine(data_dir=data_dir) as engine:
        first = engine.index([docs])
        total = first.embedded
        assert first.chunks >= 10 and total == first.chunks
        paragraphs[12] = "Section 12. Harbour pilots board ships at the breakwater to guide them in. " * 6
        notes.write_text("\n\n".join(paragraphs), encoding="utf-8")
        edited = engine.index([docs])
        assert edited.indexed == 1
        assert 1 <= edited.embedded <= 3, edited  # the changed passage, and an overlap with a neighbour
        assert names(engine.search("pilots guiding ships into a harbour"))[0] == "notes.txt"
        check_consistent(open_store(data_dir))


def test_copies_and_moves_are_not_embedded_again(data_dir, tmp_path):
    docs = tmp_path / "docs"
    long_notes(docs / "a" / "notes.txt")
    with Engine(data_dir=data_dir) as engine:
        first = engine.index([docs])
        shutil.copy2(docs / "a" / "notes.txt", docs / "copy.txt")
        copied = engine.index([docs])
        assert copied.indexed == 1 and copied.embedded == 0
        (docs / "a" / "notes.txt").rename(docs / "moved.txt")
        moved = engine.index([docs])
        assert moved.embedded == 0
        store = open_store(data_dir)
        assert store.passage_count() == first.embedded  # each passage stored once
        assert sorted(names(engine.search("glaciers carving valleys", limit=5))) == ["copy.txt", "moved.txt"]
        check_consistent(store)


def test_the_long_files_passages_wait_behind_the_first_slices_of_the_others(data_dir, tmp_path):
    docs = tmp_path / "docs"
    long_notes(docs / "big.txt", paragraphs=200)  # well over one slice
    for i in range(3):
        write_document(docs / f"small{i}.txt", f"Small {i}", [TOPICS[i + 2]])
    with Engine(data_dir=data_dir) as engine:
        engine.index([docs], embed=False)
        store = open_store(data_dir)
        engine.embed_waiting(40)  # one batch: a slice of the big file, but every small file too
        small_waiting = store.db.execute(
            "SELECT count(*) FROM passages p JOIN chunks c ON c.passage_id = p.id JOIN files f ON f.id = c.file_id "
            "WHERE f.path LIKE '%small%' AND NOT p.embedded").fetchone()[0]
        assert small_waiting == 0
        assert engine.passages_waiting() > 0


def test_a_file_over_the_passage_limit_is_indexed_in_part_and_says_so(data_dir, tmp_path):
    docs = tmp_path / "docs"
    long_notes(docs / "huge.txt", paragraphs=80)
    with Engine(data_dir=data_dir) as engine:
        from dataclasses import replace
        engine.index_settings = replace(engine.index_settings, max_passages=5)
        report = engine.index([docs])
        assert report.indexed == 1 and report.chunks == 5
        assert any("only the first 5 passages" in w for w in report.warnings)
        failures = {path: reason for path, _, reason in engine.failures()}
        assert "only the first 5 passages" in failures[str(docs / "huge.txt")]


def test_status_json_counts_the_passages_still_waiting(data_dir, tmp_path):
    docs = tmp_path / "docs"
    long_notes(docs / "notes.txt", paragraphs=12)
    with Engine(data_dir=data_dir) as engine:
        engine.index([docs], embed=False)
        waiting = engine.passages_waiting()
    out = subprocess.run([sys.executable, "-m", "kenning", "--data-dir", str(data_dir), "status", "--json"],
                         capture_output=True, text=True, check=True).stdout
    status = json.loads(out)
    assert status["passages_waiting"] == waiting > 0 and status["passages"] >= waiting
    answer = subprocess.run([sys.executable, "-m", "kenning", "--data-dir", str(data_dir), "search", "--json",
                             "glaciers"], capture_output=True, text=True, check=True).stdout
    assert json.loads(answer)["passages_waiting"] == waiting  # results may be keyword-only for part


def test_the_service_makes_files_keyword_searchable_then_embeds_them(data_dir, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    service = start_service(data_dir, docs)
    try:
        long_notes(docs / "notes.txt", paragraphs=40)
        with Engine(data_dir=data_dir) as reader:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "notes.txt" not in names(reader.search("moraines", mode="bm25")):
                time.sleep(0.1)
            assert "notes.txt" in names(reader.search("moraines", mode="bm25"))
            assert service.wait_idle(120)
            assert reader.passages_waiting() == 0
            assert names(reader.search("ice grinding valleys", mode="vector"))[0] == "notes.txt"
        check_consistent(open_store(data_dir))
    finally:
        service.stop()
