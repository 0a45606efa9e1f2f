"""The whole pipeline on real files of every format, with the real default model and a real
SQLite file: index, search, re-index, filters, bad input and crash safety."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from docmaker import write_document, write_encrypted_pdf, write_junk, write_truncated_pdf
from storeview import open_store

from kenning.engine import Engine
from kenning.errors import IndexError_, QueryError
from kenning.search import Filters
from kenning.settings import IndexSettings
from kenning.store import Store

TOPICS = {
    "astronomy.pdf": ("Observing the night sky", [
        "Telescopes gather starlight so astronomers can study distant galaxies and nebulae.",
        "A reflecting telescope uses a curved mirror; a refractor bends light with lenses.",
    ]),
    "baking.docx": ("Sourdough at home", [
        "Sourdough bread rises with a starter of wild yeast and lactic acid bacteria.",
        "Knead the dough, let it ferment overnight, then bake it in a hot Dutch oven.",
    ]),
    "finance.xlsx": ("Quarterly budget", [
        "Quarterly budget: revenue, operating expenses, payroll and tax liabilities.",
    ]),
    "gardening.odt": ("Growing tomatoes", [
        "Tomato plants need full sun, deep watering and support from stakes or cages.",
    ]),
    "sailing.html": ("Learning to sail", [
        "Sailing a dinghy: trim the mainsail, watch the wind direction and tack upwind.",
    ]),
    "chess.md": ("Chess openings", [
        "The Sicilian Defence and the Queen's Gambit are popular chess openings.",
    ]),
    "meeting.eml": ("Project kickoff meeting", [
        "Agenda for the kickoff: project scope, milestones, and who owns the database migration.",
    ]),
    "volcano.pptx": ("Volcanoes", [
        "Magma rises through the crust; when pressure builds, the volcano erupts lava and ash.",
    ]),
    "whales.epub": ("Ocean giants", [
        "Blue whales are the largest animals ever known, feeding on tiny krill in cold oceans.",
    ]),
    "coffee.txt": ("Brewing coffee", [
        "Espresso forces hot water through finely ground coffee beans at high pressure.",
    ]),
    "sorting.py": ("Sorting algorithms", [
        "Quicksort partitions an array around a pivot; merge sort splits and merges halves.",
    ]),
    "bees.fb2": ("Honey bees", [
        "Honey bees pollinate flowers and communicate the location of nectar with a waggle dance.",
    ]),
    "climate.odp": ("Climate", [
        "Greenhouse gases such as carbon dioxide trap heat and warm the planet's climate.",
    ]),
    "runners.ods": ("Marathon training", [
        "Marathon training plan: long runs on Sundays, tempo runs and rest days.",
    ]),
}

QUERIES = {
    "how do telescopes work": "astronomy.pdf",
    "making bread with wild yeast": "baking.docx",
    "company spending and taxes this quarter": "finance.xlsx",
    "caring for tomato plants": "gardening.odt",
    "how to steer a small sailboat": "sailing.html",
    "chess opening moves": "chess.md",
    "who is responsible for migrating the database": "meeting.eml",
    "eruption of lava": "volcano.pptx",
    "largest animal in the sea": "whales.epub",
    "espresso machine pressure": "coffee.txt",
    "divide and conquer sorting": "sorting.py",
    "insects that make honey": "bees.fb2",
    "global warming causes": "climate.odp",
    "preparing to run 42 kilometres": "runners.ods",
}


def make_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (title, paragraphs) in TOPICS.items():
        write_document(folder / name, title, paragraphs)
    write_document(
        folder / "report.pdf",
        "Annual report",
        [],
        pages=[
            ["Introduction to the annual report of the museum."],
            ["The dinosaur fossil exhibition attracted record numbers of visitors. Its hall is in the west wing."],
            ["Financial statements and acknowledgements."],
        ],
    )
    return folder


@pytest.fixture
def engine(data_dir, backend):
    with Engine(data_dir=data_dir) as engine:
        yield engine


@pytest.fixture
def indexed(engine, tmp_path):
    corpus = make_corpus(tmp_path / "docs")
    report = engine.index([corpus])
    assert report.failed == 0, report.failures
    return engine, corpus, report


def top(engine, query, **kwargs):
    results = engine.search(query, limit=5, **kwargs)
    return Path(results[0].path).name if results else None


def test_every_format_is_indexed_and_found_by_meaning(indexed):
    engine, _corpus, report = indexed
    assert report.indexed == len(TOPICS) + 1
    misses = {q: top(engine, q) for q, expected in QUERIES.items() if top(engine, q) != expected}
    assert not misses, misses


def test_results_carry_page_snippet_and_span(indexed):
    engine, corpus, _ = indexed
    result = engine.search("dinosaur fossils exhibition", limit=3)[0]
    assert Path(result.path).name == "report.pdf"
    assert result.page == 2
    assert "dinosaur" in result.snippet.lower()
    assert 0 < result.score <= 1
    nonsense = engine.search("asdfgh qwerty zxcvb", limit=1)[0]
    assert result.similarity > 0.4 > nonsense.similarity  # absolute, unlike the relative score
    text_result = engine.search("espresso", limit=1)[0]
    assert text_result.page is None
    raw = (corpus / "coffee.txt").read_text()
    assert "Espresso" in raw[text_result.char_start : text_result.char_end]


def test_unchanged_files_are_skipped_and_changes_picked_up(indexed):
    engine, corpus, _ = indexed
    again = engine.index([corpus])
    assert (again.indexed, again.unchanged) == (0, len(TOPICS) + 1)

    coffee = corpus / "coffee.txt"
    coffee.write_text("Green tea is steeped gently at a low temperature.\n")
    os.utime(coffee, (time.time() + 5, time.time() + 5))
    (corpus / "chess.md").unlink()
    touched = corpus / "bees.fb2"
    os.utime(touched, (time.time() + 5, time.time() + 5))  # same content, new mtime
    changed = engine.index([corpus])
    assert (changed.indexed, changed.removed) == (1, 1)
    assert top(engine, "steeping green tea") == "coffee.txt"
    assert all(Path(r.path).name != "chess.md" for r in engine.search("chess openings", limit=20))
    chunks = open_store(engine.data_dir).db.execute(
        "SELECT count(*) FROM chunks c JOIN passages p ON p.id = c.passage_id WHERE p.text LIKE '%Espresso%'").fetchone()[0]
    assert chunks == 0


def test_filters(indexed):
    engine, corpus, _ = indexed
    only_pdf = engine.search("animals", limit=10, filters=Filters(file_types=("pdf",)))
    assert only_pdf and {Path(r.path).suffix for r in only_pdf} == {".pdf"}
    sub = corpus / "sub"
    write_document(sub / "owls.txt", "Owls", ["Owls hunt mice at night with silent flight."])
    engine.index([corpus])
    inside = engine.search("birds hunting", limit=10, filters=Filters(folder=str(sub)))
    assert [Path(r.path).name for r in inside] == ["owls.txt"]
    future = engine.search("owls", limit=10, filters=Filters(modified_after=time.time() + 3600))
    assert future == []


def test_empty_and_punctuation_queries_are_refused_clearly(indexed):
    engine, _, _ = indexed
    for query in ("", "   ", "?!...", "—"):
        with pytest.raises(QueryError, match="no words"):
            engine.search(query)


def test_bad_files_are_recorded_and_indexing_continues(engine, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    write_document(folder / "good.txt", "Good", ["Penguins live in Antarctica and cannot fly."])
    write_junk(folder / "junk.pdf", 5000)
    write_junk(folder / "junk.docx", 3000)
    write_truncated_pdf(folder / "cut.pdf")
    write_encrypted_pdf(folder / "secret.pdf", "classified penguin plans", "hunter2")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me br\xfbl\xe9e recipe".encode("latin-1"))
    (folder / "invalid.txt").write_bytes(b"valid start \xff\xfe\xfa broken utf8 \xc3 end about zebras")
    (folder / "big.txt").write_text("large file " * 200_000)
    (folder / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    (folder / "song.mp3").write_bytes(b"ID3" + os.urandom(200))
    write_document(folder / "naïve – résumé 東京.md", "Unicode", ["Kyoto temples and gardens in autumn."])
    (folder / "loop").symlink_to(folder)  # a symlink loop
    engine.index_settings = IndexSettings(max_file_mb=1)
    report = engine.index([folder])
    failures = dict(report.failures)
    assert str(folder / "junk.pdf") in failures and str(folder / "junk.docx") in failures
    assert "encrypt" in failures[str(folder / "secret.pdf")] or "password" in failures[str(folder / "secret.pdf")]
    assert "MB limit" in failures[str(folder / "big.txt")]
    assert "damaged or unreadable PNG image" in failures[str(folder / "picture.png")]
    assert report.unsupported == 1  # the MP3
    status = engine.status()
    reasons = {Path(p).name: r for p, _, r in status.failures}
    assert "empty.txt" in reasons and "junk.pdf" in reasons
    assert top(engine, "birds of Antarctica") == "good.txt"
    assert top(engine, "crème brûlée") == "latin1.txt"
    assert top(engine, "temples in Kyoto") == "naïve – résumé 東京.md"
    assert top(engine, "zebras") == "invalid.txt"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of permissions")
def test_unreadable_file_is_reported(engine, tmp_path):
    folder = tmp_path / "locked"
    write_document(folder / "secret.txt", "Secret", ["hidden words"])
    (folder / "secret.txt").chmod(0)
    report = engine.index([folder])
    assert report.failed == 1 and "read" in report.failures[0][1]


def test_sandbox_time_limit(engine, tmp_path):
    folder = tmp_path / "slow"
    write_document(folder / "long.pdf", "Long", [], pages=[[f"page {i} text " * 50] for i in range(30)])
    engine.index_settings = IndexSettings(timeout_s=0.001)
    report = engine.index([folder])
    assert report.failed == 1 and "longer than" in report.failures[0][1]


def test_index_refuses_to_mix_models(data_dir, engine, tmp_path):
    engine.prepare_model()  # binds the index to the default model
    store = open_store(data_dir)
    with pytest.raises(IndexError_, match="all-minilm-l6-v2"):
        store.bind_model("another-model", 768)


def test_private_permissions(engine, backend):
    engine.prepare_model()
    assert stat.S_IMODE(engine.data_dir.stat().st_mode) == 0o700
    if backend is None:  # a server's files are the server's
        assert stat.S_IMODE(open_store(engine.data_dir).path.stat().st_mode) == 0o600


def test_kill_during_indexing_leaves_a_consistent_index(data_dir, tmp_path, backend):
    corpus = tmp_path / "many"
    for i in range(60):
        write_document(corpus / f"note{i:03d}.txt", f"Note {i}",
                       [f"Note {i} is about subject {i % 9} " + "and some words " * 120])
    command = [sys.executable, "-m", "kenning", "--data-dir", str(data_dir), "index", str(corpus)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE)
    store = open_store(data_dir)
    deadline = time.time() + 120
    while time.time() < deadline:  # wait until some files are committed, then kill mid-run
        if store.counts().get("indexed", 0) >= 5 or process.poll() is not None:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    check_consistent(store)
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    check_consistent(store)
    assert store.counts()["indexed"] == 60


def check_consistent(store: Store) -> None:
    db = store.db
    problems = store.check("integrity_check")  # on a fresh connection (see Store.check)
    assert problems == [], problems[:20]
    mismatched = db.execute(
        "SELECT count(*) FROM files f WHERE f.chunk_count != (SELECT count(*) FROM chunks c WHERE c.file_id = f.id)"
    ).fetchone()[0]
    assert mismatched == 0
    orphans = db.execute("SELECT count(*) FROM chunks WHERE file_id NOT IN (SELECT id FROM files)").fetchone()[0]
    assert orphans == 0
    unused = db.execute("SELECT count(*) FROM passages WHERE id NOT IN (SELECT passage_id FROM chunks)").fetchone()[0]
    assert unused == 0
    missing = db.execute("SELECT count(*) FROM chunks WHERE passage_id NOT IN (SELECT id FROM passages)").fetchone()[0]
    assert missing == 0
    if store.model_name:  # a vector for each embedded passage, and no other
        vectors = store.vector_ids(store.vector_table)
        embedded = {r[0] for r in db.execute("SELECT id FROM passages WHERE embedded")}
        assert vectors == embedded
    duplicates = db.execute(
        "SELECT count(*) FROM (SELECT file_id, ordinal FROM chunks GROUP BY 1, 2 HAVING count(*) > 1)"
    ).fetchone()[0]
    assert duplicates == 0
