"""The CLI contract that scripts depend on, run as a user would: `python -m kenning ...`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from docmaker import write_document, write_junk
from test_engine import make_corpus


def kenning(data_dir: Path, *args: str, stdin: str | None = None, check: bool = True):
    result = subprocess.run(
        [sys.executable, "-m", "kenning", "--data-dir", str(data_dir), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def indexed_dir(data_dir, tmp_path):
    corpus = make_corpus(tmp_path / "docs")
    write_junk(corpus / "broken.pdf", 2000)
    result = kenning(data_dir, "index", str(corpus))
    assert "Indexed 15 files" in result.stderr and "1 failed" in result.stderr
    return data_dir, corpus


def test_search_json_contract(indexed_dir):
    data_dir, corpus = indexed_dir
    out = kenning(data_dir, "search", "--json", "--all", "--limit", "3", "how do telescopes work").stdout
    lines = out.strip().splitlines()
    assert len(lines) == 1
    answer = json.loads(lines[0])
    assert answer["query"] == "how do telescopes work"
    assert len(answer["results"]) == 3
    first = answer["results"][0]
    assert set(first) == {"path", "score", "page", "snippet", "match"}
    assert first["match"] == "good"
    assert first["path"] == str(corpus / "astronomy.pdf") and first["page"] == 1
    scores = [r["score"] for r in answer["results"]]
    assert scores == sorted(scores, reverse=True)
    txt = json.loads(kenning(data_dir, "search", "--json", "--limit", "1", "espresso").stdout)
    assert txt["results"][0]["page"] is None


def test_batch_from_stdin_and_file(indexed_dir, tmp_path):
    data_dir, _corpus = indexed_dir
    queries = "largest animal in the sea\n\ninsects that make honey\n"
    out = kenning(data_dir, "search", "--json", "--batch", "-", stdin=queries).stdout.splitlines()
    assert [json.loads(line)["query"] for line in out] == ["largest animal in the sea", "insects that make honey"]
    assert Path(json.loads(out[1])["results"][0]["path"]).name == "bees.fb2"
    batch = tmp_path / "queries.txt"
    batch.write_text("eruption of lava\n")
    out = kenning(data_dir, "search", "--json", "--batch", str(batch)).stdout
    assert Path(json.loads(out)["results"][0]["path"]).name == "volcano.pptx"


def test_plain_search_output_and_filters(indexed_dir):
    data_dir, corpus = indexed_dir
    out = kenning(data_dir, "search", "--type", "pdf", "fossil exhibition visitors").stdout
    assert out.startswith(" 1. " + str(corpus / "report.pdf")) and "(page 2)" in out


def test_empty_query_is_a_clear_error(indexed_dir):
    data_dir, _ = indexed_dir
    result = kenning(data_dir, "search", "?!", check=False)
    assert result.returncode == 2
    assert "no words" in result.stderr and "Traceback" not in result.stderr


def test_status_lists_failures(indexed_dir):
    data_dir, corpus = indexed_dir
    status = json.loads(kenning(data_dir, "status", "--json").stdout)
    assert status["files"]["indexed"] == 15 and status["files"]["failed"] == 1
    assert status["model"] == "all-minilm-l6-v2"
    assert status["folders"] == [str(corpus)]
    assert status["chunks"] >= 15 and status["database_bytes"] > 0
    assert status["failures"][0]["path"] == str(corpus / "broken.pdf")
    text = kenning(data_dir, "status").stdout
    assert "broken.pdf" in text and "15 indexed" in text


@pytest.mark.model
def test_first_use_prepares_the_default_model(tmp_path):
    docs = tmp_path / "docs"
    write_document(docs / "a.txt", "A", ["Lighthouses guide ships along rocky coasts."])
    result = kenning(tmp_path / "fresh", "index", str(docs))
    assert "converting all-MiniLM-L6-v2" in result.stderr and "Indexed 1 file " in result.stderr
    out = kenning(tmp_path / "fresh", "search", "--json", "coastal navigation aid").stdout
    assert json.loads(out)["results"][0]["path"] == str(docs / "a.txt")


def test_models_commands(tmp_path, source_folder, model_data_dir):
    data_dir = tmp_path / "data"
    listing = kenning(data_dir, "models", "list").stdout
    assert "all-minilm-l6-v2" in listing and "bge-small-en-v1.5" in listing
    out = tmp_path / "minilm-q4.gguf"
    kenning(data_dir, "models", "convert", str(source_folder), "--quant", "q4_k_m", "-o", str(out))
    assert out.is_file()
    imported = kenning(data_dir, "models", "import", str(out), "--name", "minilm-q4")
    assert "384 dimensions" in imported.stdout
    assert "minilm-q4" in kenning(data_dir, "models", "list").stdout
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 20)
    failed = kenning(data_dir, "models", "import", str(bad), check=False)
    assert failed.returncode == 1 and "bad.gguf" in failed.stderr and "Traceback" not in failed.stderr


def test_folders_exclusions_and_service_commands(data_dir, tmp_path):
    docs = tmp_path / "docs"
    write_document(docs / "keep.txt", "Keep", ["Otters float on their backs."])
    write_document(docs / "drafts" / "skip.txt", "Skip", ["Otters in a draft."])
    out = kenning(data_dir, "folders", "add", str(docs), "--exclude", "drafts/").stdout
    assert f"Added {docs}" in out
    listing = json.loads(kenning(data_dir, "folders", "list", "--json").stdout)
    assert listing[0]["path"] == str(docs) and listing[0]["exclude"] == ["drafts/"]
    kenning(data_dir, "index", str(docs))
    found = json.loads(kenning(data_dir, "search", "--json", "otters").stdout)["results"]
    assert [Path(r["path"]).name for r in found] == ["keep.txt"]
    why = kenning(data_dir, "status", "--why", str(docs / "drafts" / "skip.txt")).stdout
    assert "excluded" in why and "drafts/" in why
    assert "indexed: 1 passage" in kenning(data_dir, "status", "--why", str(docs / "keep.txt")).stdout
    assert "Service:  not running" in kenning(data_dir, "status").stdout
    assert "paused" in kenning(data_dir, "pause").stdout
    assert "resumed" in kenning(data_dir, "resume").stdout
    removed = kenning(data_dir, "folders", "remove", str(docs)).stdout
    assert "1 file forgotten" in removed
    nothing = kenning(data_dir, "search", "--json", "otters", check=False)
    assert nothing.returncode == 1 and "nothing is indexed yet" in nothing.stderr


def test_watch_needs_a_folder(data_dir):
    result = kenning(data_dir, "watch", check=False)
    assert result.returncode == 1 and "no folders to watch" in result.stderr


def test_missing_batch_file_is_a_clear_error(data_dir, tmp_path):
    result = kenning(data_dir, "search", "--batch", str(tmp_path / "absent.txt"), check=False)
    assert result.returncode == 1
    assert "absent.txt: No such file" in result.stderr and "Traceback" not in result.stderr


def test_version_reports_the_backend(tmp_path):
    result = subprocess.run([sys.executable, "-m", "kenning", "--version"], capture_output=True, text=True)
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and lines[0].startswith("kenning 0.")
    assert "llama.cpp" in lines[1] and ("CPU only" in lines[1] or "GPU offload available" in lines[1])


def test_version_writes_nothing_in_the_home_folder(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")} | {"HOME": str(home)}
    result = subprocess.run([sys.executable, "-m", "kenning", "--version"], capture_output=True, text=True,
                            env=environment)
    assert result.returncode == 0 and "llama.cpp (llama-cpp-python" in result.stdout
    assert list(home.iterdir()) == []


def _prompt(data_dir: Path, keys: list[bytes]) -> str:
    """Run the interactive prompt on a terminal, typing each of `keys` once the prompt asks."""
    import pty
    import select

    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "kenning", "--data-dir", str(data_dir), "search"],
                               stdin=follower, stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    seen = b""
    try:
        for key in keys:
            asked = seen.count(b"search> ") + 1
            while seen.count(b"search> ") < asked:
                ready, _, _ = select.select([leader], [], [], 120)
                assert ready, f"the prompt stopped answering: {seen[-500:]!r}"
                seen += os.read(leader, 65536)
            os.write(leader, key)
        assert process.wait(timeout=60) == 0
    finally:
        process.kill()
        os.close(leader)
    return seen.decode(errors="replace")


def test_the_prompt_remembers_queries_between_sessions(indexed_dir):
    data_dir, corpus = indexed_dir
    first = _prompt(data_dir, [b"espresso\r", b"\x04"])
    assert str(corpus / "coffee.txt") in first
    history = data_dir / "search-history"
    assert "espresso" in history.read_text() and history.stat().st_mode & 0o777 == 0o600
    up_arrow = b"\x1b[A"
    again = _prompt(data_dir, [up_arrow + b"\r", b"\x04"])
    assert str(corpus / "coffee.txt") in again  # Up brought back the last session's query
