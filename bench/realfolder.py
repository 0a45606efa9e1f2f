"""Indexing a real-looking home folder: how soon it is searchable by keyword, then by meaning.

    python bench/realfolder.py [--files 2000] [--folder DIR] [--fresh]

Builds (or takes with --folder) a heterogeneous folder: long multi-page PDFs, DOCX, PPTX, XLSX,
ODT, HTML, Markdown, e-mail, EPUB and code, whose text is CISI abstracts concatenated (1 to 12 a
file). Runs `kenning index` on it in a fresh data dir and, from a second process's view of the
same index (as the app would), times the first keyword hit, keyword-complete (every file read)
and fully semantic (every passage embedded). Prints files/s and passages/s, the embedder's raw
passages/s on the same passages, the peak RSS of the indexing process tree, and a re-index after
one paragraph of the longest PDF was edited. With `recollindex` installed, Recoll's index time
for the same folder is printed beside.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cisi
from index import sample_tree_peak

OUT = cisi.OUT / "realfolder"
EMBEDDED = r"(\d+) passages? embedded"  # in `kenning index`'s summary
KEYWORD = "library"  # searched for as soon as the index exists: the first keyword hit
KINDS = ("pdf", "pdf", "pdf", "docx", "pptx", "xlsx", "odt", "html", "md", "eml", "epub", "py", "txt")


def build_folder(folder: Path, files: int, collection: cisi.Collection) -> Path:
    """`files` documents of mixed formats; PDFs a page per abstract (long ones: a dozen pages)."""
    done = folder / ".complete"
    if done.exists() and len(list(folder.rglob("*.*"))) - 1 >= files:
        return folder
    sys.path.insert(0, str(cisi.REPO / "tests"))
    from docmaker import write_document

    shutil.rmtree(folder, ignore_errors=True)
    rng = random.Random(17)
    abstracts = [(cisi.one_line(r.get("T", "")), cisi.one_line(r.get("W", ""))) for r in collection.docs.values()]
    abstracts = [(t, w) for t, w in abstracts if w]
    print(f"writing {files} documents into {folder} ...", file=sys.stderr)
    for number in range(files):
        kind = KINDS[number % len(KINDS)]
        picked = rng.sample(abstracts, rng.randint(1, 12))
        path = folder / f"area-{number % 40:02d}" / f"{picked[0][0][:40].strip() or 'note'}-{number}.{kind}"
        path = path.with_name(re.sub(r"[^\w.-]+", "-", path.name))
        title = picked[0][0] or f"Document {number}"
        if kind == "pdf":
            write_document(path, title, [], pages=[[f"{t}. {w}"] for t, w in picked])
        else:
            write_document(path, title, [f"{t}. {w}" for t, w in picked])
    done.touch()
    return folder


def longest_pdf(folder: Path) -> Path:
    return max(folder.rglob("*.pdf"), key=lambda p: p.stat().st_size)


def edit_one_paragraph(pdf: Path) -> None:
    """Rewrite the PDF with one sentence of its third page changed (the rest as it was)."""
    import pymupdf

    sys.path.insert(0, str(cisi.REPO / "tests"))
    from docmaker import write_document

    with pymupdf.open(pdf) as doc:
        title = doc.metadata.get("title") or pdf.stem
        pages = [[" ".join(page.get_text().split())] for page in doc]
    pages[min(2, len(pages) - 1)][0] += " This sentence was added in an edit of one paragraph."
    write_document(pdf, title, [], pages=pages)


def watch_index(data_dir: Path, files: int, process: subprocess.Popen, start: float) -> dict[str, float]:
    """From a second connection, while `kenning index` runs: when the first keyword hit came, when
    every file had been read (keyword-complete), when every passage had its vector."""
    from kenning.engine import Engine

    marks: dict[str, float] = {}
    engine = None
    while process.poll() is None:
        time.sleep(0.2)
        try:
            if engine is None:
                if not (data_dir / "kenning.sqlite3").exists():
                    continue
                engine = Engine(data_dir=data_dir)
            now = time.perf_counter() - start
            if "first keyword hit" not in marks and engine.search(KEYWORD, 1, mode="bm25"):
                marks["first keyword hit"] = now
            status = engine.status()
            read = status.files_indexed + status.files_failed + status.files_empty + status.files_unsupported
            if "keyword-complete" not in marks and read >= files:
                marks["keyword-complete"] = now
        except Exception:  # the index is still being created
            continue
    marks["fully semantic"] = time.perf_counter() - start
    if engine is not None:
        engine.close()
    return marks


def run_index(data_dir: Path, folder: Path, files: int) -> tuple[dict[str, float], str, int]:
    """`kenning index` watched from beside: the marks, its stderr, its process tree's peak RSS."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(cisi.kenning_command(data_dir, None, "index", str(folder)), stderr=stderr)
        peak, ended = [0], threading.Event()
        sampler = threading.Thread(target=sample_tree_peak, args=(process.pid, peak, ended), daemon=True)
        sampler.start()
        marks = watch_index(data_dir, files, process, start)
        ended.set()
        sampler.join()
        stderr.seek(0)
        log = stderr.read()
    if process.returncode != 0:
        raise SystemExit(f"kenning index failed:\n{log[-2000:]}")
    return marks, log, peak[0]


def embedder_rate(data_dir: Path, sample: int = 1500) -> float:
    """The embedder alone on passages of this index: passages/s."""
    from kenning.engine import Engine
    from kenning.store import Store

    store = Store(data_dir)
    texts = [t for t, in store.db.execute("SELECT text FROM passages ORDER BY id LIMIT ?", (sample,))]
    store.close()
    with Engine(data_dir=data_dir) as engine:
        embedder = engine.prepare_model()
        embedder.embed_passages(texts[:32])  # warm-up
        start = time.perf_counter()
        embedder.embed_passages(texts)
        return len(texts) / (time.perf_counter() - start)


def recoll_seconds(folder: Path) -> float | None:
    if shutil.which("recollindex") is None:
        return None
    with tempfile.TemporaryDirectory() as config:
        Path(config, "recoll.conf").write_text(f"topdirs = {folder}\n")
        start = time.perf_counter()
        subprocess.run(["recollindex", "-c", config], capture_output=True, check=False)
        return time.perf_counter() - start


def summary_number(log: str, pattern: str) -> int:
    match = re.search(pattern, log.replace(",", ""))
    return int(match.group(1)) if match else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--folder", type=Path, help="index this folder instead of the generated one")
    parser.add_argument("--cisi", type=Path)
    args = parser.parse_args()

    folder = args.folder or build_folder(OUT / "docs", args.files, cisi.load(args.cisi or cisi.default_cisi()))
    data_dir = cisi.fresh_data_dir(OUT / "data", None)
    count = sum(1 for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    size_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6

    marks, log, tree_rss = run_index(data_dir, folder, count)
    passages = summary_number(log, EMBEDDED)
    chunks = summary_number(log, r"\((\d+) chunks?")
    total = marks["fully semantic"]
    print(f"\nfolder: {count} files, {size_mb:.0f} MB ({folder})")
    for name in ("first keyword hit", "keyword-complete", "fully semantic"):
        if name in marks:
            print(f"  {name:<18} {marks[name]:7.1f} s  ({marks[name] / total:.1%} of fully semantic)")
    print(f"  rate               {count / total:.1f} files/s, {passages / total:.1f} passages/s embedded "
          f"({chunks} chunks, {passages} distinct passages)")
    print(f"  peak RSS           {tree_rss / 2**20:.0f} MiB, the whole process tree")
    rate = embedder_rate(data_dir)
    print(f"  embedder alone     {rate:.1f} passages/s on the same passages "
          f"(indexing reaches {passages / total / rate:.2f}x of it end to end)")

    pdf = longest_pdf(folder)
    edit_one_paragraph(pdf)
    start = time.perf_counter()
    again = subprocess.run(cisi.kenning_command(data_dir, None, "index", str(folder)), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    redone = summary_number(again.stderr, EMBEDDED)
    print(f"  one paragraph of {pdf.name} edited: {redone} passages re-embedded, {seconds:.1f} s for the whole re-index")
    recoll = recoll_seconds(folder)
    if recoll is not None:
        keywords = marks.get("keyword-complete")
        ratio = f" (Kenning's keyword phase {keywords / recoll:.1f}x of it)" if keywords else ""
        print(f"  Recoll             {recoll:.1f} s to index the same folder{ratio}")
    else:
        print("  Recoll             not installed (Debian: apt-get install recollcmd)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
