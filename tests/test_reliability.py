"""Hostile and unlucky input (issue: no single file, name, fault or option can stop, stall or leak
the index). Real files, real faults, the real model and SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from docmaker import write_document
from storeview import open_store
from test_engine import check_consistent
from test_service import start_service, wait_until

from kenning.engine import Engine


def kenning(data_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "kenning", "--data-dir", str(data_dir), *args],
                            capture_output=True, timeout=600)
    if check:
        assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result


def odd_name(folder: Path, raw: bytes) -> str:
    """A file whose name is `raw` bytes (not valid UTF-8), as Python names it."""
    path = os.path.join(os.fsencode(folder), raw)
    with open(path, "wb") as f:
        f.write(b"Marmalade oranges are boiled with sugar and their peel for the breakfast table.\n")
    return os.fsdecode(path)


def good_files(folder: Path, count: int) -> None:
    for i in range(count):
        write_document(folder / f"good{i:02d}.txt", f"Good {i}", [f"Ordinary note {i} about walking in hills."])


def test_names_that_are_not_utf8_are_indexed_found_and_never_stop_a_run(data_dir, tmp_path):
    docs = tmp_path / "docs"
    good_files(docs, 50)
    odd = odd_name(docs, b"caf\xe9-\xff\xfe recipe.txt")
    done = kenning(data_dir, "index", str(docs))
    assert b"Indexed 51 files" in done.stderr
    answer = json.loads(kenning(data_dir, "search", "--json", "marmalade oranges").stdout)
    assert answer["results"][0]["path"] == odd  # exactly the name the file system has (JSON \udcXX escapes)
    assert os.path.exists(answer["results"][0]["path"])
    text = kenning(data_dir, "search", "marmalade oranges").stdout.decode("utf-8")  # printable, readable
    assert "caf?-?? recipe.txt" in text
    with Engine(data_dir=data_dir) as engine:
        assert engine.explain(Path(odd)).startswith("indexed")
    check_consistent(open_store(data_dir))


def test_an_odd_name_dropped_into_a_watched_folder_is_indexed_by_the_service(data_dir, tmp_path):
    docs = tmp_path / "docs"
    good_files(docs, 3)
    service = start_service(data_dir, docs)
    try:
        odd = odd_name(docs, b"\x80\x81 note.txt")
        with Engine(data_dir=data_dir) as reader:
            assert wait_until(lambda: any(r.path == odd for r in reader.search("marmalade", mode="bm25")), 30)
        assert service.snapshot().state != "error"
        os.unlink(odd)
        with Engine(data_dir=data_dir) as reader:
            assert wait_until(lambda: not reader.search("marmalade", mode="bm25"), 30)
    finally:
        service.stop()


def test_links_out_of_the_chosen_folder_are_not_followed(data_dir, tmp_path):
    private = tmp_path / "private"
    write_document(private / "id_secret.txt", "Secret", ["The vault combination is walrus seventeen."])
    docs = tmp_path / "docs"
    good_files(docs, 2)
    (docs / "keys").symlink_to(private)
    (docs / "secret.txt").symlink_to(private / "id_secret.txt")
    (docs / "inside").symlink_to(docs / "good00.txt")  # inside the folder: fine, read once
    (docs / "sub").mkdir()
    (docs / "sub" / "back").symlink_to(docs)  # a loop inside the folder ends
    done = kenning(data_dir, "index", str(docs))
    assert b"outside the indexed folders" in done.stderr
    assert json.loads(kenning(data_dir, "search", "--json", "vault combination walrus").stdout)["results"] == [] or \
        all("secret" not in r["path"] for r in json.loads(
            kenning(data_dir, "search", "--json", "vault combination walrus").stdout)["results"])
    with Engine(data_dir=data_dir) as engine:
        assert engine.search("walrus", mode="bm25") == []
        status = engine.status()
        assert {Path(p).name for p, _ in status.skipped} == {"keys", "secret.txt"}
        assert "outside the indexed folders" in engine.explain(docs / "secret.txt")
    status_text = kenning(data_dir, "status").stdout.decode()
    assert "Left out while scanning" in status_text and "keys" in status_text


def test_links_may_be_followed_when_the_user_allows_it(data_dir, tmp_path):
    from kenning.settings import Settings

    private = tmp_path / "elsewhere"
    write_document(private / "notes.txt", "Notes", ["Penguins nest on the ice shelf."])
    docs = tmp_path / "docs"
    good_files(docs, 1)
    (docs / "linked").symlink_to(private)
    Settings(follow_links=True).save(data_dir)
    kenning(data_dir, "index", str(docs))
    with Engine(data_dir=data_dir) as engine:
        assert [Path(r.path).name for r in engine.search("penguins", mode="bm25")] == ["notes.txt"]


@pytest.mark.parametrize("limit", ["1000000", "100000000000000000000"])
def test_huge_limits_are_capped_not_a_traceback(data_dir, tmp_path, limit):
    docs = tmp_path / "docs"
    good_files(docs, 3)
    kenning(data_dir, "index", str(docs))
    for extra in ([], ["--type", "txt"], ["--mode", "vector"], ["--mode", "bm25"]):
        result = kenning(data_dir, "search", "--json", "--limit", limit, *extra, "walking in hills", check=False)
        assert result.returncode == 0, result.stderr
        assert b"Traceback" not in result.stderr
        assert len(json.loads(result.stdout)["results"]) == 3
    bad = kenning(data_dir, "search", "--limit", "0", "hills", check=False)
    assert bad.returncode == 2 and b"--limit" in bad.stderr and b"Traceback" not in bad.stderr


def test_a_fifo_named_on_the_command_line_is_explained(data_dir, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = kenning(data_dir, "index", str(fifo))
    assert b"not a regular file" in result.stderr and b"named pipe" in result.stderr


def indexed_folder(data_dir: Path, tmp_path: Path, files: int = 20) -> Path:
    docs = tmp_path / "docs"
    good_files(docs, files)
    write_document(docs / "otters.txt", "Otters", ["Sea otters float on their backs and crack shells on stones."])
    kenning(data_dir, "index", str(docs))
    return docs


def database(data_dir: Path) -> Path:
    return data_dir / "kenning.sqlite3"


def checkpointed(data_dir: Path) -> None:
    """Everything in the database file itself, as after a clean stop."""
    with Engine(data_dir=data_dir) as engine:
        engine.status()
    assert not Path(str(database(data_dir)) + "-wal").exists() or Path(str(database(data_dir)) + "-wal").stat().st_size == 0


def damage(data_dir: Path, how: str) -> None:
    path = database(data_dir)
    data = bytearray(path.read_bytes())
    if how == "truncated":
        data = data[: len(data) // 3]
    elif how == "zeroed header":
        data[:100] = bytes(100)
    else:  # scrambled pages in the middle of the file
        import random
        rng = random.Random(4)
        page = 4096
        for index in rng.sample(range(2, len(data) // page - 1), min(40, len(data) // page - 3)):
            data[index * page : (index + 1) * page] = rng.randbytes(page)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncated", "zeroed header", "scrambled pages"])
def test_a_damaged_index_is_explained_then_moved_aside_and_rebuilt(data_dir, tmp_path, how):
    docs = indexed_folder(data_dir, tmp_path)
    checkpointed(data_dir)
    damage(data_dir, how)
    searched = kenning(data_dir, "search", "sea otters", check=False)
    checked = kenning(data_dir, "status", "--check", check=False)
    for result in (searched, checked):
        if result.returncode:
            assert result.returncode == 1 and b"Traceback" not in result.stderr
            assert b"damaged" in result.stderr and b"kenning index" in result.stderr
    assert checked.returncode == 1  # a full check always finds it
    rebuilt = kenning(data_dir, "index", str(docs))
    assert b"moved aside" in rebuilt.stderr and b"Indexed 21 files" in rebuilt.stderr
    backups = [p for p in data_dir.iterdir() if p.name.startswith("damaged-")]
    assert len(backups) == 1 and (backups[0] / "kenning.sqlite3").exists()
    found = json.loads(kenning(data_dir, "search", "--json", "sea otters").stdout)["results"]
    assert Path(found[0]["path"]).name == "otters.txt"
    assert kenning(data_dir, "status", "--check").returncode == 0
    check_consistent(open_store(data_dir))


def test_the_service_rebuilds_a_damaged_index_and_keeps_the_folders(data_dir, tmp_path):
    docs = indexed_folder(data_dir, tmp_path, files=5)
    checkpointed(data_dir)
    damage(data_dir, "zeroed header")
    from kenning.service import Service

    service = Service(data_dir, quiet_s=0.2)  # the folder list comes back from the copy beside the index
    service.start()
    try:
        assert service.wait_idle(180), service.snapshot()
        assert "moved aside" in service.snapshot().message or any(p.name.startswith("damaged-")
                                                                   for p in data_dir.iterdir())
        with Engine(data_dir=data_dir) as reader:
            assert reader.folder_paths() == [str(docs)]
            assert Path(reader.search("otters", mode="bm25")[0].path).name == "otters.txt"
    finally:
        service.stop()


def mount_tmpfs(folder: Path, megabytes: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0700", "tmpfs", str(folder)],
                            capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.decode().strip()}); needs root")


@pytest.fixture
def small_disk(tmp_path, model_data_dir):
    """A data folder on a 48 MB file system holding the model, nearly full."""
    folder = tmp_path / "disk"
    mount_tmpfs(folder, 48)
    try:
        data = folder / "data"
        (data / "models").mkdir(parents=True)
        import shutil
        for item in (model_data_dir / "models").iterdir():
            if item.is_file():
                shutil.copy2(item, data / "models" / item.name)
        yield data
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_an_index_on_a_read_only_disk_is_searched_and_indexing_is_one_clear_line(tmp_path, model_data_dir):
    import shutil

    disk = tmp_path / "disk"
    mount_tmpfs(disk, 64)
    try:
        data = disk / "data"
        shutil.copytree(model_data_dir / "models", data / "models")
        docs = tmp_path / "docs"
        write_document(docs / "otters.txt", "Otters", ["Otters swim in cold rivers and eat fish."])
        kenning(data, "index", str(docs))
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        write_document(docs / "beavers.txt", "Beavers", ["Beavers build dams across streams."])
        found = kenning(data, "search", "--mode", "bm25", "otters")
        assert b"otters.txt" in found.stdout
        assert b"1 indexed" in kenning(data, "status").stdout
        for command in (["index", str(docs)], ["pause"], ["folders", "add", str(docs)]):
            result = kenning(data, *command, check=False)
            assert result.returncode == 1 and b"Traceback" not in result.stderr, result.stderr[-2000:]
            assert b"cannot be written" in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
        subprocess.run(["mount", "-o", "remount,rw", str(disk)], check=True)
        kenning(data, "index", str(docs))  # writable again: indexing carries on
        assert b"beavers.txt" in kenning(data, "search", "--mode", "bm25", "beavers").stdout
        check_consistent(open_store(data))
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def fill_disk(folder: Path, leave_bytes: int) -> Path:
    import shutil
    free = shutil.disk_usage(folder).free
    filler = folder.parent / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - leave_bytes))
    return filler


def test_a_full_disk_is_one_clear_line_and_the_index_stays_consistent(small_disk, tmp_path):
    docs = tmp_path / "docs"
    for i in range(60):
        write_document(docs / f"long{i:02d}.txt", f"Long {i}", [f"Long note {i} about rivers and dams. " * 400])
    kenning(small_disk, "status")  # creates the empty index
    filler = fill_disk(small_disk, 256 * 1024)
    result = kenning(small_disk, "index", str(docs), check=False)
    assert result.returncode == 1 and b"Traceback" not in result.stderr, result.stderr[-2000:]
    assert b"disk holding the index is full" in result.stderr
    filler.unlink()
    check_consistent(open_store(small_disk))
    done = kenning(small_disk, "index", str(docs))
    assert b"Indexed" in done.stderr
    with Engine(data_dir=small_disk) as engine:
        assert engine.files_indexed() == 60
    check_consistent(open_store(small_disk))


def test_the_service_waits_out_a_full_disk_and_carries_on(small_disk, tmp_path):
    from kenning.service import Service

    docs = tmp_path / "docs"
    docs.mkdir()
    with Engine(data_dir=small_disk) as engine:
        engine.add_folder(docs)
    service = Service(small_disk, quiet_s=0.2)
    service.start()
    try:
        assert service.wait_idle(120)
        filler = fill_disk(small_disk, 128 * 1024)
        for i in range(30):
            write_document(docs / f"late{i:02d}.txt", f"Late {i}", [f"Late note {i} about lighthouses. " * 300])
        assert wait_until(lambda: "full" in service.snapshot().message, 60), service.snapshot()
        assert service.snapshot().state == "error"
        filler.unlink()
        service.wake()
        with Engine(data_dir=small_disk) as reader:
            assert wait_until(lambda: reader.files_indexed() == 30, 120)
    finally:
        service.stop()
    check_consistent(open_store(small_disk))


def test_soak_a_hostile_corpus_with_random_kills(data_dir, tmp_path):
    """Every case above, and bombs and broken files, among 200 good files; `kenning index` killed
    at random moments, then run to the end: the index is sound, every good file is found and every
    bad one is reported with a reason."""
    import random
    import signal
    import time

    from docmaker import write_encrypted_pdf, write_junk, write_truncated_pdf, write_zip_bomb_docx

    from kenning.settings import Settings

    docs = tmp_path / "docs"
    for i in range(200):
        write_document(docs / "good" / f"note{i:03d}.txt", f"Note {i}", [f"Field note {i}: the heron number {i} "
                                                                          "waded in the reeds."])
    bad = docs / "bad"
    write_zip_bomb_docx(bad / "bomb.docx", inflated_mb=300)
    write_truncated_pdf(bad / "truncated.pdf")
    write_encrypted_pdf(bad / "locked.pdf", "secret text", "pw")
    write_junk(bad / "junk.pdf")
    write_junk(bad / "junk.docx", seed=2)
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(bytes(range(256)) * 64)
    odd = odd_name(bad, b"\xff\xfeodd.txt")
    private = tmp_path / "private"
    write_document(private / "secret.txt", "Secret", ["walrus seventeen"])
    (bad / "outside").symlink_to(private)
    (bad / "loop").symlink_to(bad)
    deep = bad
    for level in range(60):
        deep = deep / f"d{level}"
    write_document(deep / "deep.txt", "Deep", ["A note at the bottom of sixty folders."])
    Settings(max_passages=50).save(data_dir)
    command = [sys.executable, "-m", "kenning", "--data-dir", str(data_dir), "index", str(docs)]
    rng = random.Random(11)
    for _ in range(3):
        process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(2.0, 12.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        check_consistent(open_store(data_dir))
    done = kenning(data_dir, "index", str(docs))
    assert b"Traceback" not in done.stderr
    check_consistent(open_store(data_dir))
    with Engine(data_dir=data_dir) as engine:
        indexed = {r.path for r in engine.search("heron waded in the reeds", mode="bm25", limit=1000)}
        assert all(str(docs / "good" / f"note{i:03d}.txt") in indexed for i in range(200))
        assert any(r.path == odd for r in engine.search("marmalade", mode="bm25"))
        assert Path(engine.search("bottom of sixty folders", mode="bm25")[0].path).name == "deep.txt"
        assert engine.search("walrus", mode="bm25") == []
        reasons = {Path(p).name: reason for p, _, reason in engine.failures()}
        for name in ("bomb.docx", "truncated.pdf", "locked.pdf", "junk.pdf", "junk.docx", "empty.txt", "binary.txt"):
            assert reasons.get(name), (name, reasons)
        skipped = {Path(p).name for p, _ in engine.status().skipped}
        assert "outside" in skipped
        assert engine.passages_waiting() == 0


def test_the_service_rebuilds_an_index_deleted_while_it_runs(data_dir, tmp_path):
    docs = tmp_path / "docs"
    good_files(docs, 3)
    service = start_service(data_dir, docs)
    try:
        for suffix in ("", "-wal", "-shm"):
            Path(str(database(data_dir)) + suffix).unlink(missing_ok=True)
        write_document(docs / "after.txt", "After", ["Written after the index was deleted: puffins."])
        with Engine(data_dir=data_dir) as reader:
            assert wait_until(lambda: any(Path(r.path).name == "after.txt"
                                          for r in reader.search("puffins", mode="bm25")), 60)
            assert wait_until(lambda: reader.files_indexed() == 4, 60)
            assert reader.folder_paths() == [str(docs)]
    finally:
        service.stop()


def test_the_lock_file_is_private_and_a_killed_run_leaves_no_traceback(data_dir, tmp_path):
    import signal
    import stat
    import time

    docs = tmp_path / "docs"
    good_files(docs, 30)
    old = os.umask(0)
    try:
        process = subprocess.Popen([sys.executable, "-m", "kenning", "--data-dir", str(data_dir), "index", str(docs)],
                                   stderr=subprocess.PIPE)
        lock = data_dir / "service.lock"
        assert wait_until(lambda: lock.exists() and lock.stat().st_size > 0, 60)
        assert stat.S_IMODE(lock.stat().st_mode) == 0o600
        time.sleep(2.0)
        process.send_signal(signal.SIGKILL)
        _, stderr = process.communicate(timeout=30)
        time.sleep(1.0)  # the extraction child notices its parent is gone
    finally:
        os.umask(old)
    assert b"Traceback" not in stderr and b"ConnectionResetError" not in stderr


def test_the_model_file_deleted_while_running_is_not_a_fault(data_dir, tmp_path):
    """The loaded model keeps working (its file stays mapped); the next start prepares the
    default model again from the copy Kenning ships."""
    docs = tmp_path / "docs"
    write_document(docs / "otters.txt", "Otters", ["Otters swim in cold rivers and eat fish."])
    with Engine(data_dir=data_dir) as engine:
        engine.index([docs])
        for model_file in (data_dir / "models").glob("*.gguf"):
            model_file.unlink()
        write_document(docs / "beavers.txt", "Beavers", ["Beavers build dams across streams."])
        engine.index([docs])
        assert Path(engine.search("dams across streams", mode="vector")[0].path).name == "beavers.txt"
    result = kenning(data_dir, "search", "animals that build dams")
    assert b"beavers.txt" in result.stdout and b"Traceback" not in result.stderr
    assert list((data_dir / "models").glob("*.gguf"))  # prepared again


def test_a_file_that_failed_is_not_retried_until_it_changes(data_dir, tmp_path):
    docs = tmp_path / "docs"
    write_document(docs / "good.txt", "Good", ["Kingfishers dive for small fish."])
    broken = docs / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + os.urandom(4000))
    with Engine(data_dir=data_dir) as engine:
        first = engine.index([docs])
        assert first.failed == 1 and first.indexed == 1
        again = engine.index([docs])  # a restart's catch-up: the broken file is not read again
        assert again.failed == 0 and again.unchanged == 2
        assert "broken.pdf" in " ".join(p for p, _, _ in engine.failures())
        assert "not tried again until the file changes" in engine.explain(broken)
        write_document(broken, "Mended", ["Herons wait in the reeds."])
        mended = engine.index([docs])
        assert mended.indexed == 1 and mended.failed == 0
        assert Path(engine.search("herons in the reeds", mode="bm25")[0].path).name == "broken.pdf"
