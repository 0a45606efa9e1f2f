"""Switching the index to another model: built beside the current index, search answering
throughout, an atomic swap, cancel and kill leaving the old index working (real SQLite,
sqlite-vec and llama.cpp; the second model is the default converted to another quantization)."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from storeview import connect, open_store

from kenning.embed import Embedder, EmbedderSettings
from kenning.engine import Engine
from kenning.errors import KenningError, ModelError
from kenning.models.convert import convert_to_gguf
from kenning.models.library import ModelLibrary
from kenning.models.quantize import quantize
from kenning.store import Meta, Store
from kenning.switch import SwitchTables

SECOND = "minilm-q4"
TOPICS = {
    "tomatoes": "Tomatoes need full sun, steady watering and rich, well-drained garden soil.",
    "violin": "The violin's strings are tuned in fifths and played with a horsehair bow.",
    "volcano": "Lava from the erupting volcano flowed down the mountain toward the sea.",
    "taxes": "File your income tax return before the deadline to avoid penalties and interest.",
    "chess": "In chess, castling moves the king two squares toward a rook for safety.",
}


@pytest.fixture(scope="module")
def second_model_file(tmp_path_factory, source_folder) -> Path:
    folder = tmp_path_factory.mktemp("second")
    return quantize(convert_to_gguf(source_folder, folder / "f16.gguf"), folder / f"{SECOND}.gguf", "q4_k_m")


@pytest.fixture
def corpus(tmp_path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in TOPICS.items():
        (docs / f"{name}.txt").write_text(text)
    for i in range(40):
        (docs / f"note{i:02d}.txt").write_text(f"Meeting note {i}: the quarterly plan, item {i}, was reviewed.")
    return docs


@pytest.fixture
def indexed(data_dir, corpus, second_model_file, backend) -> Path:
    ModelLibrary(data_dir).import_gguf(second_model_file, SECOND)
    with Engine(data_dir) as engine:
        engine.index([corpus])
    return data_dir


def top_file(engine: Engine, query: str) -> str:
    return Path(engine.search(query, limit=1)[0].path).stem


def vector_tables(data_dir: Path) -> set[str]:
    return set(open_store(data_dir).vector_tables())


def vectors_cover_chunks(store: Store) -> bool:
    """Every passage the chunks use has a vector in the searched table, and nothing else does."""
    table = store.vector_table
    passages = {r[0] for r in store.db.execute("SELECT passage_id FROM chunks")}
    vectors = store.vector_ids(table)
    return passages == vectors


def test_switch_is_built_beside_the_index_then_swapped_in(indexed):
    with Engine(indexed) as writer, Engine(indexed) as reader:
        assert top_file(reader, "growing vegetables in the garden") == "tomatoes"
        state = writer.switch_model(SECOND)
        assert (state.model, state.done, state.total) == (SECOND, 0, 45)
        writer.advance_model_switch(batch=10)
        assert writer.status().model_switch.done == 10
        assert top_file(reader, "string instruments") == "violin"  # still answered, by the old model
        assert reader.embedder.spec.name == "all-minilm-l6-v2" and open_store(reader.data_dir).model_name == "all-minilm-l6-v2"
        while not writer.advance_model_switch(batch=10):
            pass
        assert writer.status().model == SECOND and writer.status().model_switch is None
        assert top_file(reader, "eruption of lava") == "volcano"
        assert reader.embedder.spec.name == SECOND  # the reader followed the switch
        assert vectors_cover_chunks(open_store(reader.data_dir)) and open_store(reader.data_dir).integrity_ok()
    assert vector_tables(indexed) == {"chunk_vectors_1"}  # the old vectors are gone
    if open_store(indexed).location.endswith(".sqlite3"):  # and their space is given back to the file system
        assert open_store(indexed).db.execute("PRAGMA freelist_count").fetchone()[0] == 0


def test_search_answers_throughout_a_switch(indexed):
    queries = {"growing vegetables in the garden": "tomatoes", "string instruments": "violin",
               "board game strategy": "chess"}
    answers, errors = [], []
    with Engine(indexed) as writer, Engine(indexed) as reader:
        writer.switch_model(SECOND)
        worker = threading.Thread(target=lambda: writer.run_model_switch())
        worker.start()
        while worker.is_alive() or len(answers) < 6:
            for query, expected in queries.items():
                try:
                    answers.append((top_file(reader, query), expected, reader.embedder.spec.name))
                except Exception as exc:  # any failure to answer fails the test
                    errors.append(exc)
        worker.join()
        assert errors == []
        assert all(found == expected for found, expected, _ in answers)
        assert {model for *_, model in answers} <= {"all-minilm-l6-v2", SECOND}
        assert open_store(writer.data_dir).model_name == SECOND and top_file(reader, "lava") == "volcano"


def test_cancel_leaves_the_old_index_untouched(indexed):
    with Engine(indexed) as engine:
        before = [(r.path, round(r.score, 6)) for r in engine.search("quarterly plan review", limit=5)]
        engine.switch_model(SECOND)
        engine.advance_model_switch(batch=20)
        engine.cancel_model_switch()
        assert engine.status().model_switch is None and open_store(engine.data_dir).model_name == "all-minilm-l6-v2"
        after = [(r.path, round(r.score, 6)) for r in engine.search("quarterly plan review", limit=5)]
        assert after == before
        assert open_store(engine.data_dir).get_meta(Meta.NEXT_TABLE) is None
    assert vector_tables(indexed) == {"chunk_vectors"}


def test_files_changed_during_a_switch_get_new_vectors(indexed, corpus):
    with Engine(indexed) as engine:
        engine.switch_model(SECOND)
        engine.advance_model_switch(batch=30)
        (corpus / "comet.txt").write_text("A comet's icy tail points away from the sun as it nears.")
        (corpus / "chess.txt").write_text("Chess openings: the Sicilian defence answers e4 with c5.")
        (corpus / "taxes.txt").unlink()
        engine.index([corpus])
        while not engine.advance_model_switch(batch=30):
            pass
        assert vectors_cover_chunks(open_store(engine.data_dir))
        assert top_file(engine, "astronomy: comets and their tails") == "comet"
        assert top_file(engine, "Sicilian defence") == "chess"


def test_a_kill_during_the_switch_leaves_the_old_index_working(indexed, corpus):
    for i in range(40, 260):
        (corpus / f"note{i:03d}.txt").write_text(f"Archive entry {i} about shipping schedule number {i}.")
    with Engine(indexed) as engine:
        engine.index([corpus])
        chunks = engine.status().chunks
    command = [sys.executable, "-m", "kenning", "--data-dir", str(indexed), "models", "use", SECOND]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    probe = connect(indexed)
    try:
        deadline = time.monotonic() + 120
        while int(probe.get_meta(Meta.NEXT_DONE) or 0) == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    finally:
        probe.close()
    with Engine(indexed) as engine:
        state = engine.status().model_switch
        assert state is not None and 0 < state.done < chunks  # killed part-way
        assert open_store(engine.data_dir).model_name == "all-minilm-l6-v2" and open_store(engine.data_dir).integrity_ok()
        assert top_file(engine, "string instruments") == "violin"
    rerun = subprocess.run(command, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"now uses {SECOND}" in rerun.stdout
    with Engine(indexed) as engine:
        assert open_store(engine.data_dir).model_name == SECOND and vectors_cover_chunks(open_store(engine.data_dir))
        assert top_file(engine, "string instruments") == "violin"


def test_switch_refuses_what_it_cannot_do(indexed):
    with Engine(indexed) as engine:
        with pytest.raises(KenningError, match="not installed; download it first: `kenning models download"):
            engine.switch_model("nomic-embed-text-v1.5")
        with pytest.raises(KenningError, match="already uses all-minilm-l6-v2"):
            engine.switch_model("all-minilm-l6-v2")
        with pytest.raises(ModelError, match="cannot give 128-dimension vectors"):
            engine.switch_model(SECOND, dimensions=128)
        assert engine.status().model_switch is None


def test_matryoshka_vectors_are_cut_after_a_layer_norm(default_model):
    spec = dataclasses.replace(default_model.spec, matryoshka_dimensions=(384, 128), matryoshka_layer_norm=True)
    full = Embedder(default_model.path, spec)
    small = Embedder(default_model.path, spec, EmbedderSettings(dimensions=128))
    text = "Matryoshka embeddings keep their meaning in the first dimensions."
    expected = full.embed_documents([text])[0]
    expected = (expected - expected.mean()) / expected.std()
    expected = expected[:128] / np.linalg.norm(expected[:128])
    got = small.embed_documents([text])[0]
    assert small.dimensions == 128 and got.shape == (128,)
    assert float(got @ expected) > 0.9999
    assert float(small.embed_query(text) @ small.embed_query(text)) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ModelError, match="smaller sizes it was trained for: 384, 128"):
        Embedder(default_model.path, spec, EmbedderSettings(dimensions=100))


def test_space_is_given_back_after_every_switch(indexed):
    sizes = []
    for target in (SECOND, "all-minilm-l6-v2", SECOND):
        with Engine(indexed) as engine:
            engine.switch_model(target)
            while not engine.advance_model_switch():
                pass
            store = open_store(engine.data_dir)
            if store.location.endswith(".sqlite3"):  # a server gives dropped tables' files back itself
                assert store.db.execute("PRAGMA freelist_count").fetchone()[0] == 0
                store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()  # the file, not its journal
            sizes.append(store.size_bytes())
    assert sizes[2] <= sizes[0] * 1.05  # no growth from one switch to the next


def test_switch_to_a_smaller_matryoshka_size(indexed, second_model_file):
    library = ModelLibrary(indexed)
    installed = library.find(SECOND)
    library.register(dataclasses.replace(installed.spec, matryoshka_dimensions=(384, 128)), installed.path)
    with Engine(indexed) as engine, Engine(indexed) as reader:
        engine.switch_model(SECOND, dimensions=128)
        while not engine.advance_model_switch():
            pass
        assert (open_store(engine.data_dir).model_name, open_store(engine.data_dir).dimensions) == (SECOND, 128)
        assert top_file(reader, "eruption of lava") == "volcano" and reader.embedder.dimensions == 128


def test_cli_use_and_status_show_the_switch(indexed):
    def kenning(*args):
        return subprocess.run([sys.executable, "-m", "kenning", "--data-dir", str(indexed), *args],
                              capture_output=True, text=True)

    with Engine(indexed) as engine:
        engine.switch_model(SECOND)
        engine.advance_model_switch(batch=15)
    status = kenning("status")
    assert f"Switching to {SECOND}: 15 of 45 passages (33%); search uses all-minilm-l6-v2" in status.stdout
    listing = kenning("models", "list")
    assert f"{SECOND}" in listing.stdout and "index being built" in listing.stdout
    assert "download 67 MB" in listing.stdout  # bge-small, not downloaded
    done = kenning("models", "use", SECOND)
    assert done.returncode == 0 and f"The index now uses {SECOND} (384 dimensions)." in done.stdout
    assert "in use" in kenning("models", "list").stdout.split(SECOND)[1].splitlines()[0]
    assert kenning("models", "use", "--cancel").stdout.strip() == "No model switch in progress."


def test_the_running_service_builds_the_switch_in_the_background(indexed, corpus):
    from kenning.service import Service

    with Engine(indexed) as engine:
        engine.add_folder(corpus)
    service = Service(indexed, quiet_s=0.2)
    service.start()
    try:
        assert service.wait_idle(120), service.snapshot()
        with Engine(indexed) as client:  # what `kenning models use` or the app does
            client.switch_model(SECOND)
        seen_states = set()
        deadline = time.monotonic() + 120
        probe = connect(indexed)
        while probe.model_name != SECOND and time.monotonic() < deadline:
            seen_states.add(service.snapshot().state)
            time.sleep(0.02)
        probe.close()
        assert "switching" in seen_states
        (corpus / "comet.txt").write_text("A comet's icy tail points away from the sun as it nears.")
        assert service.wait_idle(60)
        deadline = time.monotonic() + 30
        with Engine(indexed) as reader:
            while time.monotonic() < deadline and top_file(reader, "comets in astronomy") != "comet":
                time.sleep(0.1)
            assert top_file(reader, "comets in astronomy") == "comet"
            assert reader.embedder.spec.name == SECOND and vectors_cover_chunks(open_store(reader.data_dir))
    finally:
        service.stop()


def test_a_batch_finished_after_its_switch_was_cancelled_or_replaced_is_dropped(indexed):
    with Engine(indexed) as worker, Engine(indexed) as user:
        user.switch_model(SECOND)
        tables = SwitchTables(open_store(worker.data_dir))  # a batch built beside the engine's
        model, dimensions, table = tables.table()
        rows = tables.passages(table, 5)
        installed = ModelLibrary(indexed).get(model)
        embedder = Embedder(installed.path, installed.spec, EmbedderSettings(dimensions=dimensions))
        vectors = embedder.embed_documents([text for _, text in rows])
        embedder.close()
        user.cancel_model_switch()  # while the batch was being embedded
        tables.add(table, rows, vectors)  # no error, nothing written
        assert tables.table() is None
        user.switch_model(SECOND)  # a new switch to the same size: a new table
        tables.add(table, rows, vectors)
        assert worker.status().model_switch.done == 0
        while not worker.advance_model_switch():
            pass
        assert vectors_cover_chunks(open_store(worker.data_dir))
