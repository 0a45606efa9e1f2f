"""The watch service with real files, real inotify events, the real model and a real SQLite file:
saves become searchable, deletes and renames follow, nothing is lost across restarts and kills."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from docmaker import write_document
from storeview import open_store
from test_engine import check_consistent

from kenning.engine import Engine
from kenning.errors import KenningError
from kenning.service import Service
from kenning.store import Store


def start_service(data_dir: Path, folder: Path, **kwargs) -> Service:
    with Engine(data_dir=data_dir) as engine:
        engine.add_folder(folder)
    service = Service(data_dir, quiet_s=0.2, **kwargs)
    service.start()
    assert service.wait_idle(120), service.snapshot()
    return service


_readers: dict[Path, Engine] = {}


def paths_for(service: Service, query: str, limit: int = 5) -> list[str]:
    """Search as the GUI or CLI would: through a connection of its own, beside the service's."""
    reader = _readers.get(service.data_dir)
    if reader is None:
        reader = _readers[service.data_dir] = Engine(data_dir=service.data_dir)
    return [Path(r.path).name for r in reader.search(query, limit)]


@pytest.fixture(autouse=True)
def close_readers():
    yield
    for reader in _readers.values():
        reader.close()
    _readers.clear()


def wait_until(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def folder(tmp_path) -> Path:
    docs = tmp_path / "docs"
    write_document(docs / "sailing.txt", "Sailing", ["Trim the mainsail and tack upwind in a dinghy."])
    write_document(docs / "report.pdf", "Report", [], pages=[["Intro."], ["Volcanoes erupt lava and ash."]])
    return docs


@pytest.fixture
def service(data_dir, folder):
    service = start_service(data_dir, folder)
    yield service
    service.stop()


def test_reconciles_then_follows_creates_edits_and_deletes(service, folder):
    assert paths_for(service, "volcano eruption")[0] == "report.pdf"
    new = folder / "penguins.txt"
    new.write_text("Penguins waddle across the Antarctic ice.")
    assert wait_until(lambda: paths_for(service, "antarctic birds")[:1] == ["penguins.txt"])
    new.write_text("Giraffes browse acacia leaves on the savanna.")
    assert wait_until(lambda: paths_for(service, "tall animals eating leaves")[:1] == ["penguins.txt"])
    new.unlink()
    assert wait_until(lambda: "penguins.txt" not in paths_for(service, "giraffes savanna", 10))
    check_consistent(open_store(service.data_dir))


def test_save_storm_is_indexed_once(service, folder):
    target = folder / "draft.txt"
    done_before = service.snapshot().done
    for i in range(30):  # an editor saving over and over
        target.write_text(f"Draft {i} about orchards of apple trees. " * 5)
        time.sleep(0.01)
    assert wait_until(lambda: service.snapshot().done > done_before)
    assert service.wait_idle(30)
    assert service.snapshot().done == done_before + 1
    assert "Draft 29" in Engine(data_dir=service.data_dir).search("apple orchard", 1)[0].snippet


def test_file_still_being_written_is_not_read_half_way(service, folder):
    target = folder / "copying.txt"
    with open(target, "w") as f:
        for i in range(12):  # a slow copy: a bit more every 0.1 s
            f.write(f"Part {i} of a long text about lighthouses and coastal navigation.\n")
            f.flush()
            time.sleep(0.1)
        f.write("THE END of the lighthouse text.\n")
    ok = wait_until(lambda: paths_for(service, "lighthouse")[:1] == ["copying.txt"])
    assert ok, (paths_for(service, "lighthouse"), service.snapshot())
    assert service.wait_idle(30)
    chunks = open_store(service.data_dir).db.execute(
        "SELECT p.text FROM chunks c JOIN passages p ON p.id = c.passage_id WHERE p.text LIKE '%THE END%'").fetchall()
    assert len(chunks) == 1


def test_rename_keeps_vectors(service, folder):
    store = open_store(service.data_dir)
    before = store.db.execute("SELECT c.id FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.path = ?",
                              (str(folder / "sailing.txt"),)).fetchall()
    (folder / "sub").mkdir()
    os.rename(folder / "sailing.txt", folder / "sub" / "boats.txt")
    assert wait_until(lambda: paths_for(service, "dinghy sailing")[:1] == ["boats.txt"])
    after = store.db.execute("SELECT c.id FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.path = ?",
                             (str(folder / "sub" / "boats.txt"),)).fetchall()
    assert after == before and before  # same chunk rows: nothing re-embedded
    check_consistent(store)


def test_exclusions_apply_to_events(service, folder):
    (folder / "node_modules").mkdir()
    (folder / "node_modules" / "lib.txt").write_text("Zebras gallop over the plains.")
    (folder / "notes.tmp").write_text("Zebras in a temp file.")
    (folder / "zebra.txt").write_text("A zebra has black and white stripes.")
    assert wait_until(lambda: "zebra.txt" in paths_for(service, "zebras", 10))
    assert service.wait_idle(30)
    assert set(paths_for(service, "zebras", 10)) & {"lib.txt", "notes.tmp"} == set()
    with Engine(data_dir=service.data_dir) as reader:
        assert "node_modules" in reader.why_excluded(folder / "node_modules" / "lib.txt")


def test_changed_exclusions_apply_to_indexed_files(service, folder):
    write_document(folder / "drafts" / "draft.txt", "Draft", ["A draft about walruses."])
    assert wait_until(lambda: "draft.txt" in paths_for(service, "walruses", 10))
    with Engine(data_dir=service.data_dir) as engine:
        engine.set_folder_exclude(folder, ("drafts/",))
    assert wait_until(lambda: "draft.txt" not in paths_for(service, "walruses", 10))
    with Engine(data_dir=service.data_dir) as engine:
        engine.set_folder_exclude(folder, ())
    assert wait_until(lambda: "draft.txt" in paths_for(service, "walruses", 10))


def test_vanishing_files_symlink_loops_and_removed_folder(service, folder):
    flash = folder / "flash.txt"
    flash.write_text("gone in a moment")
    flash.unlink()
    (folder / "loop").symlink_to(folder)
    sub = folder / "sub"
    write_document(sub / "owls.txt", "Owls", ["Owls hunt at night."])
    assert wait_until(lambda: "owls.txt" in paths_for(service, "nocturnal hunters", 10))
    shutil.rmtree(sub)
    assert wait_until(lambda: "owls.txt" not in paths_for(service, "nocturnal hunters", 10))
    shutil.rmtree(folder)  # the whole watched folder disappears: reported, not a crash
    assert wait_until(lambda: "missing" in service.snapshot().message, 10), service.snapshot()
    assert service.snapshot().state in ("idle", "indexing")
    write_document(folder / "back.txt", "Back", ["The drive is plugged in again: meerkats."])
    assert wait_until(lambda: "back.txt" in paths_for(service, "meerkats", 10), 20)
    check_consistent(open_store(service.data_dir))


def test_second_service_refuses(service, data_dir):
    with pytest.raises(KenningError, match="already indexing"):
        Service(data_dir)
    with Engine(data_dir=data_dir) as reader:
        assert reader.service_status().state in ("idle", "indexing")


def test_pause_resume_and_queue_survives_restart(data_dir, folder):
    service = start_service(data_dir, folder)
    service.pause()
    for i in range(3):
        (folder / f"queued{i}.txt").write_text(f"Queued note {i} about glaciers and ice ages.")
    assert wait_until(lambda: open_store(data_dir).queued_count() == 3)
    assert service.snapshot().state == "paused"
    service.stop()
    assert open_store(data_dir).queued_count() == 3  # pending work is on disk
    restarted = Service(data_dir, quiet_s=0.2)
    restarted.resume()
    restarted.start()
    try:
        assert restarted.wait_idle(60)
        assert open_store(data_dir).queued_count() == 0
        assert "queued0.txt" in paths_for(restarted, "glaciers", 10)
    finally:
        restarted.stop()


def test_changes_while_stopped_are_reconciled_without_reembedding(data_dir, folder):
    service = start_service(data_dir, folder)
    service.stop()
    (folder / "sailing.txt").write_text("Rowing a boat with two oars on a calm lake.")
    (folder / "report.pdf").rename(folder / "volcanoes.pdf")
    (folder / "new.txt").write_text("Bees make honey from nectar.")
    restarted = start_service(data_dir, folder)
    try:
        assert restarted.snapshot().done == 3  # changed + renamed (no re-embedding) + new
        assert paths_for(restarted, "rowing on a lake")[:1] == ["sailing.txt"]
        assert paths_for(restarted, "volcano eruption")[:1] == ["volcanoes.pdf"]
        assert paths_for(restarted, "honey bees")[:1] == ["new.txt"]
    finally:
        restarted.stop()


def test_watch_limit_falls_back_to_polling(data_dir, folder):
    limit_file = Path("/proc/sys/fs/inotify/max_user_watches")
    try:
        original = limit_file.read_text()
        limit_file.write_text("1\n")
    except OSError:
        pytest.skip("cannot change the inotify watch limit here (needs root on Linux)")
    try:
        for i in range(3):
            (folder / f"d{i}").mkdir()
        with Engine(data_dir=data_dir) as engine:
            engine.add_folder(folder)
        service = Service(data_dir, quiet_s=0.2, poll_s=0.5)
        service.start()
        assert service.wait_idle(60)
    finally:
        limit_file.write_text(original)
    try:
        assert folder.as_posix() in service.snapshot().polled_folders
        assert "limit" in service.snapshot().polled_folders[folder.as_posix()]
        (folder / "polled.txt").write_text("Kangaroos hop across the outback.")
        assert wait_until(lambda: "polled.txt" in paths_for(service, "kangaroo", 10), timeout=30)
    finally:
        service.stop()


def test_kill_nine_at_random_moments_then_restart(data_dir, tmp_path):
    corpus = tmp_path / "many"
    for i in range(40):
        write_document(corpus / f"note{i:02d}.txt", f"Note {i}", [f"Note {i} on subject {i % 7}. " + "filler words " * 150])
    command = [sys.executable, "-m", "kenning", "--data-dir", str(data_dir), "watch", str(corpus)]
    store = Store(data_dir)
    rng = random.Random(7)
    for _ in range(3):
        process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 4.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        check_consistent(store)
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: started(data_dir, process.pid), 120)  # the real start, not the old counts
        assert wait_until(lambda: store.counts().get("indexed", 0) == 40 and store.queued_count() == 0, 180)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    check_consistent(store)


def started(data_dir: Path, pid: int) -> bool:
    """Has the service of process `pid` published a state past starting?"""
    with Engine(data_dir=data_dir) as reader:
        status = reader.service_status()
    return status is not None and status.pid == pid and status.state != "starting"


def test_sigterm_while_the_service_starts_is_a_clean_stop(data_dir, tmp_path):
    folder = tmp_path / "notes"
    write_document(folder / "a.txt", "A", ["A note about lighthouses."])
    command = [sys.executable, "-m", "kenning", "--data-dir", str(data_dir), "watch", str(folder)]
    for delay in (0.3, 1.0):  # while Python starts, and while the model loads
        process = subprocess.Popen(command, stderr=subprocess.PIPE)
        time.sleep(delay)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        assert process.returncode in (0, 130), stderr.decode()[-2000:]
        assert b"Traceback" not in stderr


def test_pause_during_the_start_up_catch_up_stops_within_two_seconds_and_survives_a_restart(data_dir, tmp_path):
    FILES = 800  # enough that the catch-up takes seconds even on a fast machine
    docs = tmp_path / "many"
    rng = random.Random(3)
    words = "harbour lantern meadow orbit quartz signal tundra velvet willow falcon glacier island".split()
    for n in range(FILES):
        write_document(docs / f"note-{n:03d}.md", f"Note {n}", [" ".join(rng.choice(words) for _ in range(60))] * 2)
    with Engine(data_dir=data_dir) as engine:
        engine.add_folder(docs)
    service = Service(data_dir, quiet_s=0.2)
    service.start()
    try:
        assert wait_until(lambda: service.snapshot().state == "indexing" and open_store(data_dir).counts(), 60)
        with Engine(data_dir=data_dir) as other:  # as `kenning pause` or the GUI of another process does
            other.set_paused(True)
        asked = time.monotonic()
        assert wait_until(lambda: service.snapshot().state == "paused", 10), service.snapshot()
        assert time.monotonic() - asked < 2.0
        done = sum(open_store(data_dir).counts().values())
        assert 0 < done < FILES, done  # stopped part way through the catch-up
        time.sleep(1.5)
        assert sum(open_store(data_dir).counts().values()) == done  # and nothing more since
    finally:
        service.stop()
    restarted = Service(data_dir, quiet_s=0.2)  # the choice survives a restart
    restarted.start()
    try:
        assert wait_until(lambda: restarted.snapshot().state == "paused", 20), restarted.snapshot()
        time.sleep(1.0)
        assert sum(open_store(data_dir).counts().values()) == done
        restarted.resume()
        assert wait_until(lambda: sum(open_store(data_dir).counts().values()) == FILES, 120)
    finally:
        restarted.stop()
    check_consistent(open_store(data_dir))


def nice_of(task: str) -> int:
    """A thread's or process's nice value, from /proc (field 19 of stat)."""
    stat = Path(f"/proc/{task}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[16])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_service_indexes_at_low_cpu_and_io_priority_and_the_app_keeps_its_own(data_dir, folder):
    from kenning.priority import NICE, io_priority

    service = start_service(data_dir, folder)
    try:
        write_document(folder / "more.txt", "More", ["Puffins nest on cliffs by the sea."])  # the child is in use
        assert wait_until(lambda: "more.txt" in paths_for(service, "puffins nesting", 10))
        worker = service._thread.native_id
        assert nice_of(f"self/task/{worker}") == NICE
        assert nice_of(f"self/task/{threading.get_native_id()}") == 0  # the app's own threads keep theirs
        assert io_priority(worker) in (None, (2, 7))
        children = Path(f"/proc/self/task/{worker}/children").read_text().split()
        assert children and all(nice_of(child) == NICE for child in children)  # the extraction child
    finally:
        service.stop()


def test_progress_is_one_model_through_both_phases_and_the_cli_reports_the_same(data_dir, tmp_path):
    from kenning.service_status import ServiceStatus, describe, progress_of

    files = 600
    docs = tmp_path / "many"
    rng = random.Random(5)
    words = "harbour lantern meadow orbit quartz signal tundra velvet willow falcon glacier island".split()
    for n in range(files):
        write_document(docs / f"note-{n:03d}.md", f"Note {n}", [" ".join(rng.choice(words) for _ in range(60))])
    with Engine(data_dir=data_dir) as engine:
        engine.add_folder(docs)
    service = Service(data_dir, quiet_s=0.2)
    service.start()
    seen: list[ServiceStatus] = []
    published: ServiceStatus | None = None
    cli: ServiceStatus | None = None
    text = ""
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            now = service.snapshot()
            seen.append(now)
            if now.phase == "keywords" and now.files_done > 50 and published is None:
                # Read as `kenning status` reads it (another connection, the published row), at
                # once: starting a process can take longer than the phase on a loaded machine.
                with Engine(data_dir=data_dir) as reader:
                    answer = reader.service_status()
                if answer is not None and answer.files_total:  # published at most a second apart
                    published = answer
                    out = subprocess.run([sys.executable, "-m", "kenning", "--data-dir", str(data_dir), "status", "--json"],
                                         capture_output=True, text=True, check=True).stdout
                    cli = ServiceStatus.from_json(json.dumps(json.loads(out)["service"]))
                    text = subprocess.run([sys.executable, "-m", "kenning", "--data-dir", str(data_dir), "status"],
                                          capture_output=True, text=True, check=True).stdout
            if now.state == "idle" and now.passages_done:
                break
            time.sleep(0.05)
    finally:
        service.stop()
    reading = [s for s in seen if s.phase == "keywords" and s.files_total == files]
    embedding = [s for s in seen if s.phase == "meaning"]
    assert reading and embedding, {s.phase for s in seen}
    assert all(0 <= s.files_done <= s.files_total for s in reading)
    assert [s.files_done for s in reading] == sorted(s.files_done for s in reading)  # never backwards
    assert f"of {files:,}" in describe(reading[-1]) and progress_of(reading[-1])[1] == files
    assert any(s.eta_s for s in embedding) and any(s.passages_per_s > 0 for s in embedding)
    waiting = [s.passages_waiting for s in embedding]
    assert waiting[0] >= waiting[-1] and "to go" in describe(embedding[0])
    assert seen[-1].passages_waiting == 0 and seen[-1].passages_done >= files * 0.9
    # What another process (`kenning status`, the GUI of another session) reads is the same model.
    assert published is not None and published.phase == "keywords" and published.files_total == files
    assert cli is not None and cli.pid == published.pid and cli.phase in ("keywords", "meaning")  # the same, a moment later
    assert "Indexing: reading files, " in text or "embedding passages" in text  # the same words, a moment later
