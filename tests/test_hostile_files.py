"""Bombs and huge files are bounded: no file holds the queue, memory stays under the cap, and each
is indexed in part or reported with a reason. Real files, the real model, a real service."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

from docmaker import write_document, write_one_stream_pdf, write_zip_bomb_docx
from storeview import open_store
from test_engine import check_consistent
from test_service import start_service

from kenning.engine import Engine
from kenning.settings import Settings

WORDS = "river mountain archive ledger invoice harbour lantern meadow orbit quartz signal tundra.".split()


def huge_json(path: Path, records: int = 110_000) -> Path:
    rng = random.Random(2)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([{"id": i, "note": " ".join(rng.choice(WORDS) for _ in range(12))}
                                for i in range(records)]))  # one line, 12 MB
    return path


def huge_html(path: Path, paragraphs: int = 200_000) -> Path:
    rng = random.Random(3)
    path.write_text("<html><body>" + "".join(f"<p>{' '.join(rng.choice(WORDS) for _ in range(40))}</p>"
                                             for _ in range(paragraphs)) + "</body></html>")  # ~57 MB
    return path


def small_files(folder: Path) -> None:
    topics = ["Hedgehogs hibernate under hedges through the winter months.",
              "Kingfishers dive into clear streams to catch small fish.",
              "Badgers dig setts with many tunnels and chambers.",
              "Swifts spend almost their whole lives on the wing.",
              "Dormice sleep for most of the year in woven nests."]
    for i, topic in enumerate(topics):
        write_document(folder / f"animal{i}.txt", f"Animal {i}", [topic])


def peak_child_rss_mb(command: list[str]) -> tuple[subprocess.CompletedProcess, float]:
    """Run `command`; its result and the largest resident size of any process it started."""
    probe = ("import resource, subprocess, sys, json;"
             "r = subprocess.run(json.loads(sys.argv[1]), capture_output=True, text=True);"
             "print(json.dumps([r.returncode, r.stderr, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))")
    out = subprocess.run([sys.executable, "-c", probe, json.dumps(command)], capture_output=True, text=True,
                         timeout=1200, check=True).stdout
    code, stderr, peak_kb = json.loads(out)
    return subprocess.CompletedProcess(command, code, "", stderr), peak_kb / 1024


def test_bombs_and_huge_files_are_read_within_the_limits(data_dir, tmp_path):
    docs = tmp_path / "docs"
    small_files(docs)
    write_zip_bomb_docx(docs / "bomb.docx", inflated_mb=600, claimed=4096)
    write_one_stream_pdf(docs / "one-stream.pdf", " ".join(random.Random(1).choice(WORDS) for _ in range(2_600_000)))
    huge_json(docs / "export.json")
    huge_html(docs / "dump.html")
    Settings(max_passages=200).save(data_dir)  # keeps the meaning phase short; the bounds are the same
    started = time.monotonic()
    result, peak_mb = peak_child_rss_mb([sys.executable, "-m", "kenning", "--data-dir", str(data_dir),
                                         "index", str(docs)])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert peak_mb < 1024, f"a process reached {peak_mb:.0f} MB"
    assert time.monotonic() - started < 900
    with Engine(data_dir=data_dir) as engine:
        assert engine.files_indexed() >= 7  # the five small files, and the JSON and HTML in part
        reasons = {Path(p).name: reason for p, _, reason in engine.failures()}
        assert "Word" in reasons["bomb.docx"]
        assert "memory" in reasons["one-stream.pdf"] or "passages" in reasons.get("one-stream.pdf", "passages")
        for name in ("export.json", "dump.html"):
            assert "only the first 200 passages" in reasons[name]
        assert Path(engine.search("hibernating hedgehogs")[0].path).name == "animal0.txt"
    check_consistent(open_store(data_dir))


def test_a_huge_file_does_not_hold_back_the_small_ones(data_dir, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    service = start_service(data_dir, docs)
    try:
        huge_json(docs / "export.json")  # 10,000 passages to embed
        time.sleep(0.5)
        small_files(docs)
        with Engine(data_dir=data_dir) as reader:
            deadline = time.monotonic() + 240
            found = []
            while time.monotonic() < deadline:
                found = [Path(r.path).name for r in reader.search("animals that dig tunnels", mode="vector", limit=3)]
                if "animal2.txt" in found:
                    break
                time.sleep(0.5)
            assert "animal2.txt" in found, found
            assert reader.passages_waiting() > 1000  # the big file is still being embedded, a slice at a time
    finally:
        service.stop()
