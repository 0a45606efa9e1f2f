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
