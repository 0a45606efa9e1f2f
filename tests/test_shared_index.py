"""A team's shared index on a real PostgreSQL server: several `kenning` processes (each standing
for a machine, with a data folder of its own) index different folders into one database while
another searches it; roles that may only search; addresses and passwords."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from docmaker import write_document

from kenning.engine import Engine
from kenning.errors import KenningError
from kenning.settings import Settings, without_password

TEAMS = {
    "garden": ["Tomatoes and beans grow well in a sunny vegetable bed.", "Compost feeds the soil of the garden."],
    "music": ["The violin and the cello are string instruments.", "An orchestra tunes to the oboe's A."],
}


def machine(data_dir: Path, tmp_path: Path, name: str) -> Path:
    """A data folder of its own (settings, models, service lock), as on another computer."""
    folder = tmp_path / f"machine-{name}"
    shutil.copytree(data_dir / "models", folder / "models")
    return folder


def kenning(data_dir: Path, address: str, *args: str, wait: bool = True):
    command = [sys.executable, "-m", "kenning", "--data-dir", str(data_dir), "--database", address, *args]
    if not wait:
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def write_folder(folder: Path, topic: str, copies: int) -> None:
    for i in range(copies):
        for j, text in enumerate(TEAMS[topic]):
            write_document(folder / f"{topic}-{i:02d}-{j}.txt", f"{topic} {i}", [f"{text} Note {i} of {copies}."])


@pytest.fixture
def server_address(backend) -> str:
    assert backend is not None, "a shared index is one on a server"
    return backend


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_indexers_write_one_index_while_a_third_machine_searches(data_dir, tmp_path, server_address):
    folders = {topic: tmp_path / "share" / topic for topic in TEAMS}
    for topic, folder in folders.items():
        write_folder(folder, topic, copies=15)
    first, second, searcher = (machine(data_dir, tmp_path, name) for name in ("a", "b", "c"))
    assert kenning(first, server_address, "index", str(folders["garden"] / "garden-00-0.txt")).returncode == 0
    writers = [kenning(first, server_address, "index", str(folders["garden"]), wait=False),
               kenning(second, server_address, "index", str(folders["music"]), wait=False)]
    searched = 0
    while any(writer.poll() is None for writer in writers):
        found = kenning(searcher, server_address, "search", "--json", "--all", "vegetable garden")
        assert found.returncode == 0, found.stderr  # searching never waits for, nor breaks, the writers
        searched += 1
    for writer in writers:
        assert writer.wait() == 0, writer.stderr.read() if writer.stderr else ""
    assert searched >= 1
    with Engine(searcher, database=server_address) as engine:
        status = engine.status()
        assert status.files_indexed == 60 and status.passages_waiting == 0 and status.files_failed == 0
        for query, topic in (("string instruments in an orchestra", "music"), ("growing vegetables", "garden")):
            results = engine.search(query, limit=5)
            assert results and Path(results[0].path).name.startswith(topic), [r.path for r in results]
        assert engine.integrity_ok()
    out = kenning(second, server_address, "search", "--json", "violin cello")
    hits = [json.loads(line) for line in out.stdout.splitlines()]
    assert hits and Path(hits[0]["results"][0]["path"]).parent == folders["music"]


README = Path(__file__).resolve().parents[1] / "README.md"


def readme_sql() -> list[str]:
    """The statements of the README's shared-index guide, as an administrator types them."""
    block = README.read_text(encoding="utf-8").split("<!-- shared-index-sql -->", 1)[1]
    body = block.split("```sql", 1)[1].split("```", 1)[0]
    return [line.strip() for line in body.splitlines() if line.strip()]


def as_role(address: str, role: str, database: str) -> str:
    parts = urlsplit(address)
    return parts._replace(netloc=f"{role}@{parts.hostname or ''}", path=f"/{database}").geturl()


def test_the_readmes_roles_index_and_only_search(data_dir, tmp_path, postgres_server):
    """The guide's SQL, run as written on a fresh server: the indexing role builds the index, the
    searching role searches it (tables made after the grants included) and may not index."""
    admin_address = postgres_server.get_uri("postgres")
    connection = psycopg.connect(admin_address, autocommit=True)
    database = "postgres"
    try:
        for statement in readme_sql():
            if statement.startswith("\\c "):
                database = statement.split()[1].rstrip(";")
                connection.close()
                connection = psycopg.connect(as_role(admin_address, "postgres", database), autocommit=True)
            else:
                connection.execute(statement)
    finally:
        connection.close()
    corpus = tmp_path / "docs"
    write_folder(corpus, "garden", copies=2)
    indexer, reader = as_role(admin_address, "kenning_indexer", database), as_role(admin_address, "kenning_reader", database)
    indexed = kenning(machine(data_dir, tmp_path, "indexer"), indexer, "index", str(corpus))
    assert indexed.returncode == 0, indexed.stderr
    searcher = machine(data_dir, tmp_path, "reader")
    found = kenning(searcher, reader, "search", "--json", "compost soil")
    assert found.returncode == 0, found.stderr
    assert "garden-" in found.stdout
    refused = kenning(searcher, reader, "index", str(corpus))
    assert refused.returncode != 0
    assert "may only search" in refused.stderr and "Traceback" not in refused.stderr


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_folder_another_machine_indexed_is_kept_where_it_is_missing(data_dir, tmp_path, server_address):
    """Machine B's service meets a folder of the shared index that B does not have: it says so and
    deletes nothing from the index."""
    from kenning.service import Service

    folder = tmp_path / "only-on-a"
    write_folder(folder, "music", copies=3)
    with Engine(machine(data_dir, tmp_path, "a"), database=server_address) as engine:
        engine.add_folder(folder)
        engine.index([folder])
    folder.rename(tmp_path / "elsewhere")  # as machine B sees the disk
    service = Service(machine(data_dir, tmp_path, "b"), quiet_s=0.2)
    service.start()
    try:
        deadline = time.monotonic() + 60
        while "missing" not in service.snapshot().message and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "missing" in service.snapshot().message, service.snapshot()
        assert service.wait_idle(60), service.snapshot()
    finally:
        service.stop()
    with Engine(machine(data_dir, tmp_path, "c"), database=server_address) as engine:
        assert engine.status().files_indexed == 6
        assert Path(engine.search("string instruments", limit=1)[0].path).parent == folder


def test_an_unreachable_server_is_one_clear_line(data_dir):
    with pytest.raises(KenningError, match="cannot reach the index's database server postgresql://kenning@127.0.0.1:9/"):
        Engine(data_dir, database="postgresql://kenning:secret@127.0.0.1:9/team?connect_timeout=3")
    result = subprocess.run([sys.executable, "-m", "kenning", "--data-dir", str(data_dir), "--database",
                             "postgresql://kenning:secret@127.0.0.1:9/team?connect_timeout=3", "status"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "cannot reach" in result.stderr and "secret" not in result.stderr


def test_a_password_is_never_kept_in_the_settings(tmp_path):
    Settings(database="postgresql://kenning:secret@db.example/team").save(tmp_path)
    assert "secret" not in (tmp_path / "settings.json").read_text()
    assert Settings.load(tmp_path).database == "postgresql://kenning@db.example/team"
    assert without_password("postgresql://db.example/team") == "postgresql://db.example/team"
    with pytest.raises(KenningError, match="--database takes a server's address"):
        Engine(tmp_path, database="mysql://db.example/team")


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_indexing_waits_for_a_writer_on_another_machine(tmp_path, server_address):
    """Writers take turns (one advisory lock): a transaction held open elsewhere holds back the
    next file's, which then goes ahead."""
    from kenning.store import FileStatus, NewChunk, open_store

    one, two = open_store(tmp_path / "one", server_address), open_store(tmp_path / "two", server_address)
    try:
        folder = one.add_folder(str(tmp_path / "docs"))
        started = time.monotonic()
        with one.transaction():
            writer = subprocess.Popen([sys.executable, "-c", (
                "import sys; from pathlib import Path; from kenning.store import open_store, NewChunk, FileStatus;"
                f"s = open_store(Path({str(tmp_path / 'three')!r}), {server_address!r});"
                f"s.record_file({str(tmp_path / 'docs' / 'b.txt')!r}, folder_id={folder}, file_type='txt', size=1,"
                " mtime=1.0, content_hash='b', status=FileStatus.INDEXED, chunks=[NewChunk(0, None, 0, 1, 'bee')])")])
            time.sleep(1.5)
            assert writer.poll() is None  # waiting for the lock this transaction holds
            one.record_file(str(tmp_path / "docs" / "a.txt"), folder_id=folder, file_type="txt", size=1, mtime=1.0,
                            content_hash="a", status=FileStatus.INDEXED, chunks=[NewChunk(0, None, 0, 1, "ant")])
        assert writer.wait(timeout=60) == 0 and time.monotonic() - started >= 1.5
        assert two.counts() == {FileStatus.INDEXED: 2}
        assert {c for c, _ in two.text_candidates('"bee" OR "ant"', 10)} == set(range(1, 3))
    finally:
        one.close()
        two.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_switch_ending_elsewhere_waits_for_a_search_reading_the_old_vectors(tmp_path, server_address):
    """The search began before the switch ended, so it reads the table its snapshot names; the
    switch drops that table only once the search is done, and a search after it reads the new one."""
    import threading

    import numpy as np

    from kenning.store import open_store

    searcher, switcher = open_store(tmp_path / "one", server_address), open_store(tmp_path / "two", server_address)
    try:
        switcher.bind_model("old", 3)
        switcher.create_vector_table("chunk_vectors_1", 3)
        ended = threading.Event()

        def end_switch() -> None:
            switcher.use_vector_table("new", 3, "chunk_vectors_1")
            ended.set()

        with searcher.snapshot():
            old_table = searcher.vector_table
            thread = threading.Thread(target=end_switch)
            thread.start()
            time.sleep(1.0)
            assert not ended.is_set()  # held back by the open snapshot
            assert searcher.vector_candidates(np.ones(3, dtype=np.float32), 5) == []
            assert searcher.value(f"SELECT count(*) FROM {old_table}") == 0
        thread.join(timeout=30)
        assert ended.is_set() and searcher.vector_table == "chunk_vectors_1"
        assert searcher.vector_tables() == ["chunk_vectors_1"]
    finally:
        searcher.close()
        switcher.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_shared_drive_mounted_at_different_places_is_one_set_of_files(data_dir, tmp_path, server_address):
    """Machine A has the team's drive at mount-a, machine B at mount-b; both map it to //nas/team
    (the shared_roots setting), so B finds A's files already indexed, each machine's results
    open on that machine, and a change made through B is what A finds."""
    mount_a, mount_b = tmp_path / "mount-a", tmp_path / "mount-b"
    write_folder(mount_a, "garden", copies=3)
    shutil.copytree(mount_a, mount_b)  # the same files (sizes, times), as another machine sees them
    first, second = machine(data_dir, tmp_path, "a"), machine(data_dir, tmp_path, "b")
    Settings(shared_roots={str(mount_a): "//nas/team"}).save(first)
    Settings(shared_roots={str(mount_b): "//nas/team"}).save(second)

    assert kenning(first, server_address, "index", str(mount_a)).returncode == 0
    again = kenning(second, server_address, "index", str(mount_b))
    assert again.returncode == 0, again.stderr
    with psycopg.connect(server_address) as db:
        stored = sorted(r[0] for r in db.execute("SELECT path FROM files"))
        folders = [r[0] for r in db.execute("SELECT path FROM folders")]
    assert len(stored) == 6 and all(p.startswith("//nas/team/garden-") for p in stored) and folders == ["//nas/team"]

    def top(machine_dir: Path, query: str, *options: str) -> Path:
        out = kenning(machine_dir, server_address, "search", "--json", *options, query)
        return Path(json.loads(out.stdout.splitlines()[0])["results"][0]["path"])

    assert top(first, "compost feeds the soil").parent == mount_a
    assert top(second, "compost feeds the soil").parent == mount_b
    assert top(second, "compost feeds the soil", "--folder", str(mount_b)).parent == mount_b
    write_document(mount_b / "garden-00-0.txt", "garden 0", ["Hedgehogs sleep under the hawthorn hedge all winter."])
    assert kenning(second, server_address, "index", str(mount_b)).returncode == 0
    assert top(first, "hedgehogs hibernating in a hedge") == mount_a / "garden-00-0.txt"


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_machines_embedding_take_different_passages(tmp_path, server_address):
    """A passage waiting for its vector is embedded by one indexer: each batch is claimed, the
    claims end when the batch is stored, or with the process that held them."""
    from kenning.store import FileStatus, NewChunk, open_store

    one, two = open_store(tmp_path / "one", server_address), open_store(tmp_path / "two", server_address)
    try:
        one.bind_model("test", 3)
        one.record_file(str(tmp_path / "docs" / "a.txt"), folder_id=None, file_type="txt", size=1, mtime=1.0,
                        content_hash="a", status=FileStatus.INDEXED,
                        chunks=[NewChunk(i, None, 0, 1, f"passage number {i}") for i in range(10)])
        first = one.waiting_passages(4)
        second = two.waiting_passages(4)
        assert len(first) == len(second) == 4 and not {p for p, _ in first} & {p for p, _ in second}
        rest = two.waiting_passages(4)
        assert len(rest) == 2 and not {p for p, _ in rest} & {p for p, _ in first + second}
        assert one.waiting_passages(4) == []  # every waiting passage is being embedded
        one.release_passages(p for p, _ in first)  # as after a failed batch: they wait again
        assert two.waiting_passages(10) == first
        two.release_passages(p for p, _ in first)
        assert one.waiting_passages(10) == first
        one.close()  # as if that machine died: the server ends its claims
        assert two.waiting_passages(10) == first
    finally:
        two.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_file_is_read_by_one_machine_at_a_time(tmp_path, server_address):
    from kenning.store import open_store

    one, two = open_store(tmp_path / "one", server_address), open_store(tmp_path / "two", server_address)
    try:
        path = str(tmp_path / "share" / "report.txt")
        assert one.claim_file(path) and one.claim_file(path)  # a claim held is held
        assert not two.claim_file(path) and two.claim_file(path + ".bak")
        one.release_file(path)
        assert two.claim_file(path) and not one.claim_file(path)
        two.close()  # as if that machine died: the server ends its claims
        assert one.claim_file(path)
    finally:
        one.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_file_another_machine_is_reading_is_left_to_it(data_dir, tmp_path, server_address):
    from kenning.store import open_store

    folder = tmp_path / "share" / "garden"
    write_folder(folder, "garden", copies=3)
    busy = folder / "garden-01-0.txt"
    reading = open_store(tmp_path / "elsewhere", server_address)  # another machine, at that file
    try:
        assert reading.claim_file(str(busy))
        mine = machine(data_dir, tmp_path, "a")
        run = kenning(mine, server_address, "index", str(folder))
        assert run.returncode == 0, run.stderr
        assert "Indexed 5 files" in run.stderr and "1 file being read by another machine" in run.stderr
        with Engine(mine, database=server_address) as engine:
            assert engine.status().files_indexed == 5
        reading.release_file(str(busy))  # that machine gave up on it (or died): the next run reads it
        again = kenning(mine, server_address, "index", str(folder))
        assert "Indexed 1 file " in again.stderr and "5 unchanged" in again.stderr, again.stderr
    finally:
        reading.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_files_another_machine_recorded_after_this_scan_are_not_read_again(data_dir, tmp_path, server_address):
    """Two machines scanning one shared folder at once: what one recorded while the other was
    scanning is not read a second time."""
    folder = tmp_path / "share" / "music"
    write_folder(folder, "music", copies=4)
    first, second = machine(data_dir, tmp_path, "a"), machine(data_dir, tmp_path, "b")
    others: list[subprocess.CompletedProcess] = []

    def after_the_scan(progress) -> None:
        if progress.phase == "keywords" and progress.files_total and not others:
            others.append(kenning(second, server_address, "index", str(folder)))

    with Engine(first, database=server_address) as engine:
        report = engine.index([folder], progress=after_the_scan)
        assert others and others[0].returncode == 0 and "Indexed 8 files" in others[0].stderr, others
        assert report.scanned == 8 and report.indexed == 0 and report.unchanged == 8 and not report.failures
        assert engine.status().files_indexed == 8 and engine.integrity_ok()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_machines_store_vectors_together_and_record_files_one_at_a_time(tmp_path, server_address):
    """Vectors for claimed passages are stored while another machine stores its own; a file's
    record waits for both (it may delete passages they are writing)."""
    import threading

    import numpy as np

    from kenning.store import FileStatus, NewChunk, open_store

    one, two, three = (open_store(tmp_path / name, server_address) for name in ("one", "two", "three"))
    try:
        one.bind_model("test", 3)
        one.record_file(str(tmp_path / "docs" / "a.txt"), folder_id=None, file_type="txt", size=1, mtime=1.0,
                        content_hash="a", status=FileStatus.INDEXED,
                        chunks=[NewChunk(i, None, 0, 1, f"passage number {i}") for i in range(4)])
        mine, theirs = one.waiting_passages(2), two.waiting_passages(2)
        vectors = np.eye(3, dtype=np.float32)[:2]

        def record_another_file() -> None:
            three.record_file(str(tmp_path / "docs" / "b.txt"), folder_id=None, file_type="txt", size=1, mtime=1.0,
                              content_hash="b", status=FileStatus.INDEXED, chunks=[NewChunk(0, None, 0, 1, "bee")])

        with one.transaction(claimed=True):
            assert one.store_vectors(one.vector_table, mine, vectors) == 2
            storing = threading.Thread(target=two.store_vectors, args=(two.vector_table, theirs, vectors))
            recording = threading.Thread(target=record_another_file)
            storing.start()
            storing.join(timeout=30)
            assert not storing.is_alive()  # went ahead beside this transaction
            # Only now: PostgreSQL queues a shared request behind a waiting exclusive one.
            recording.start()
            time.sleep(1.0)
            assert recording.is_alive()  # waits for it
        recording.join(timeout=30)
        assert not recording.is_alive()
        assert one.waiting_count() == 1 and one.counts() == {FileStatus.INDEXED: 2}
    finally:
        for store in (one, two, three):
            store.close()
