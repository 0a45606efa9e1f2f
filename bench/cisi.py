"""Shared helpers for the benchmarks: the CISI test collection, rendered as files of mixed formats,
and running the `kenning` CLI on a data dir under bench/out/.

Layout under bench/out/ (git-ignored):
    cisi/corpus/cisi-0001.txt ...   the rendered documents (reused until --fresh)
    models/                         a data dir that only holds prepared models; copied into each
                                    fresh data dir so the model is converted once. To benchmark
                                    another model: kenning --data-dir bench/out/models models import X
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
CORPUS = OUT / "cisi" / "corpus"
MODELS = OUT / "models"

# Document formats that docmaker writes and kenning.extract reads, used in turn.
FORMATS = ("txt", "md", "html", "pdf", "docx", "odt", "eml", "epub", "pptx", "fb2")

_RECORD = re.compile(r"^\.I\s+(\d+)\s*$", re.M)
_FIELD = re.compile(r"^\.([A-Z])\s*$", re.M)


@dataclass
class Collection:
    docs: dict[int, dict[str, str]]  # id -> {"T": title, "A": authors, "W": abstract, ...}
    queries: dict[int, str]  # judged queries only, by id
    relevant: dict[int, set[int]]  # query id -> relevant doc ids


def default_cisi() -> Path:
    for folder in (REPO.parent / "shared" / "eval" / "cisi", Path("/work/shared/eval/cisi")):
        if folder.is_dir():
            return folder
    raise SystemExit("CISI collection not found; pass --cisi DIR")


def parse_smart(path: Path) -> dict[int, dict[str, str]]:
    """SMART format: `.I id` starts a record; `.T`, `.A`, `.W`, ... fields run to the next marker."""
    text = path.read_text(encoding="utf-8", errors="replace")
    parts = _RECORD.split(text)  # ["", id, body, id, body, ...]
    records = {}
    for rid, body in zip(parts[1::2], parts[2::2]):
        fields = _FIELD.split(body)  # [before, name, value, name, value, ...]
        record: dict[str, str] = {}
        for name, value in zip(fields[1::2], fields[2::2]):
            record[name] = (record.get(name, "") + "\n" + value).strip()
        records[int(rid)] = record
    return records


def one_line(text: str) -> str:
    return " ".join(text.split())


def load(folder: Path) -> Collection:
    docs = parse_smart(folder / "CISI.ALL")
    relevant: dict[int, set[int]] = {}
    for line in (folder / "CISI.REL").read_text().splitlines():
        if line.strip():
            qid, did = line.split()[:2]
            relevant.setdefault(int(qid), set()).add(int(did))
    queries = {
        qid: one_line(rec.get("W") or rec.get("T", ""))
        for qid, rec in sorted(parse_smart(folder / "CISI.QRY").items())
        if qid in relevant
    }
    return Collection(docs, queries, relevant)


def doc_file(doc_id: int) -> str:
    return f"cisi-{doc_id:04d}.{FORMATS[(doc_id - 1) % len(FORMATS)]}"


def doc_id(path: str) -> int | None:
    match = re.fullmatch(r"cisi-(\d+)\.\w+", Path(path).name)
    return int(match.group(1)) if match else None


def render(collection: Collection, fresh: bool = False) -> Path:
    """Write each document as title + abstract (authors in the metadata); reuse a finished corpus."""
    sys.path.insert(0, str(REPO / "tests"))
    from docmaker import write_document

    def write(did: int, title: str, paragraphs: list[str], authors: str) -> None:
        write_document(CORPUS / doc_file(did), title, paragraphs, author=authors)

    return _render(CORPUS, list(collection.docs.items()), write, "files of mixed formats", fresh)


def render_pdfs(collection: Collection, scanned: bool, limit: int | None = None, fresh: bool = False) -> Path:
    """Every document (the first `limit`) as a PDF: with a text layer, or scanned (image-only
    pages at 200 dpi, as a scanner makes them), for the OCR comparison."""
    folder = OUT / "cisi" / (f"corpus-{'scanned' if scanned else 'text'}-pdf" + (f"-{limit}" if limit else ""))
    sys.path.insert(0, str(REPO / "tests"))
    from docmaker import write_document
    from scanmaker import write_scanned_pdf

    def write(did: int, title: str, paragraphs: list[str], authors: str) -> None:
        target = folder / f"cisi-{did:04d}.pdf"
        if scanned:
            write_scanned_pdf(target, [paragraphs], title=title)
        else:
            write_document(target, title, paragraphs, author=authors)

    kind = "scanned PDFs" if scanned else "text PDFs"
    return _render(folder, list(collection.docs.items())[:limit], write, kind, fresh)


def _render(folder: Path, docs: list[tuple[int, dict[str, str]]], write, kind: str, fresh: bool) -> Path:
    """Write every document with `write(id, title, paragraphs, authors)` into `folder`, unless a
    finished corpus is there."""
    done = folder / ".complete"
    if done.exists() and not fresh:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"rendering {len(docs)} CISI documents as {kind} into {folder} ...", file=sys.stderr)
    for did, rec in docs:
        title = one_line(rec.get("T", "")) or f"Document {did}"
        abstract = one_line(rec.get("W", ""))
        authors = "; ".join(a.strip() for a in rec.get("A", "").splitlines() if a.strip())
        write(did, title, [abstract] if abstract else [], authors or "Unknown")
    done.touch()
    return folder


def prepare_model(model: str | None) -> None:
    """Prepare (convert) the model once, in bench/out/models."""
    from kenning.models.catalogue import DEFAULT_MODEL
    from kenning.models.library import ModelLibrary

    ModelLibrary(MODELS).get(model or DEFAULT_MODEL, lambda message: print(f"model: {message}", file=sys.stderr))


def fresh_data_dir(path: Path, model: str | None) -> Path:
    """An empty data dir holding just the prepared models."""
    prepare_model(model)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    shutil.copytree(MODELS / "models", path / "models")
    return path


def kenning_command(data_dir: Path, model: str | None, *args: str) -> list[str]:
    command = [sys.executable, "-m", "kenning", "--data-dir", str(data_dir)]
    if model:
        command += ["--model", model]
    return command + list(args)


def kenning(data_dir: Path, model: str | None, *args: str, stdin: str | None = None, ok=(0,)) -> str:
    """Run the CLI; return its stdout (stderr passes through). Exits on an exit status not in `ok`."""
    result = subprocess.run(
        kenning_command(data_dir, model, *args), input=stdin, stdout=subprocess.PIPE, text=True
    )
    if result.returncode not in ok:
        raise SystemExit(f"kenning {' '.join(args[:1])} failed with exit status {result.returncode}")
    return result.stdout


def safe_name(model: str | None) -> str:
    return re.sub(r"[^\w.-]+", "_", model or "default")
