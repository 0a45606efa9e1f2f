"""Search quality on the CISI collection: nDCG@10 (also MAP@10, recall@10) for vector-only,
BM25-only and the shipped hybrid search, over the 76 judged queries, through the `kenning` CLI.

    python bench/quality.py [--cisi DIR] [--model NAME|all] [--models-from DIR] [--fresh]
    python bench/quality.py --ocr [--ocr-docs N]    # scanned PDFs (Tesseract) against text PDFs

The documents are rendered as files of mixed formats and indexed once per model under bench/out/;
later runs reuse both unless --fresh is given. `--model all` evaluates every catalogue model whose
file is present locally (in bench/out/models or in the model folder of --models-from, by default
the user's Kenning data dir, e.g. after `kenning models download NAME`) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import cisi

K = 10
MODES = ("vector", "bm25", "hybrid")
REFERENCE = {"vector": 0.420, "bm25": 0.367, "hybrid": 0.444}  # raw text, outside kenning
TARGET = 0.48  # hybrid nDCG@10 (issue 15)


def metrics(ranked: list[int | None], relevant: set[int]) -> tuple[float, float, float]:
    """nDCG@K (binary gains, log2 discount), AP@K (normalised by min(R, K)) and recall@K."""
    hits = [doc in relevant for doc in ranked[:K]]
    dcg = sum(1 / math.log2(rank + 2) for rank, hit in enumerate(hits) if hit)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(len(relevant), K)))
    precisions = [sum(hits[: rank + 1]) / (rank + 1) for rank, hit in enumerate(hits) if hit]
    return dcg / ideal, sum(precisions) / min(len(relevant), K), sum(hits) / len(relevant)


def build_index(corpus: Path, data_dir: Path, model: str | None, fresh: bool) -> float:
    """Index the corpus into `data_dir` (reused when complete); return the indexing seconds."""
    done = data_dir / "bench-indexed-seconds"
    if done.exists() and not fresh:
        return float(done.read_text())
    cisi.fresh_data_dir(data_dir, model)
    start = time.perf_counter()
    cisi.kenning(data_dir, model, "index", str(corpus))
    seconds = time.perf_counter() - start
    done.write_text(f"{seconds:.3f}\n")
    return seconds


def evaluate(collection, corpus: Path, model: str | None, fresh: bool, index_name: str = "") -> dict[str, list[float]]:
    """Index CISI with `model` (reused when done) and score every mode; prints the details."""
    data_dir = cisi.OUT / "cisi" / (index_name or f"index-{cisi.safe_name(model)}")
    seconds = build_index(corpus, data_dir, model, fresh)
    status = json.loads(cisi.kenning(data_dir, model, "status", "--json"))

    qids = list(collection.queries)
    # CISI's queries are prose, where quotation marks set off a term ("training" phase); in
    # Kenning's query syntax they would require an exact phrase, so they are taken out.
    batch = "\n".join(collection.queries[q].replace('"', " ") for q in qids) + "\n"
    scores = {}
    for mode in MODES:
        out = cisi.kenning(data_dir, model, "search", "--batch", "-", "--json", "--all", "--limit", str(K),
                           "--mode", mode, stdin=batch, ok=(0, 2))
        lines = [json.loads(line) for line in out.splitlines() if line.strip()]
        if len(lines) != len(qids):
            raise SystemExit(f"{mode}: expected {len(qids)} result lines, got {len(lines)}")
        per_query = [
            metrics([cisi.doc_id(r["path"]) for r in line["results"]], collection.relevant[qid])
            for qid, line in zip(qids, lines)
        ]
        scores[mode] = [sum(column) / len(per_query) for column in zip(*per_query)]

    files = status["files"]
    print(f"CISI: {len(collection.docs)} documents in {len(cisi.FORMATS)} formats, {len(qids)} judged queries; "
          f"model {status['model']}")
    print(f"index: {files['indexed']} files indexed, {files['failed']} failed, {files['empty']} without text, "
          f"{status['chunks']} chunks, {seconds:.1f} s (CLI wall time incl. start-up)")
    for failure in status["failures"][:5]:
        print(f"  problem: {failure['path']}: {failure['reason']}")
    print(f"\n{'mode':8s} {'nDCG@10':>8s} {'MAP@10':>8s} {'R@10':>8s} {'reference nDCG@10 (raw text)':>30s}")
    for mode in MODES:
        ndcg, ap, recall = scores[mode]
        print(f"{mode:8s} {ndcg:8.3f} {ap:8.3f} {recall:8.3f} {REFERENCE[mode]:30.3f}")
    return scores


def compare_scans(collection, limit: int | None, fresh: bool) -> int:
    """nDCG@10 of the same abstracts as scanned PDFs and as text PDFs (the default model)."""
    if limit:  # judge only against the documents that are there
        kept = set(list(collection.docs)[:limit])
        collection = cisi.Collection({d: collection.docs[d] for d in kept}, collection.queries,
                                     {q: r & kept for q, r in collection.relevant.items()})
        collection.queries = {q: t for q, t in collection.queries.items() if collection.relevant[q]}
    suffix = f"-{limit}" if limit else ""
    results = {}
    for scanned in (False, True):
        corpus = cisi.render_pdfs(collection, scanned, limit, fresh)
        kind = "scanned" if scanned else "text"
        print(f"\n=== {kind} PDFs ===")
        results[kind] = evaluate(collection, corpus, None, fresh, f"index-{kind}-pdf{suffix}")
    print(f"\n{'mode':8s} {'text PDF':>9s} {'scanned':>9s} {'ratio':>7s}   (nDCG@10, {len(collection.docs)} documents)")
    for mode in MODES:
        text, scan = results["text"][mode][0], results["scanned"][mode][0]
        print(f"{mode:8s} {text:9.3f} {scan:9.3f} {scan / text if text else 0:7.3f}")
    return 0


def local_catalogue_models(models_from: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """Catalogue models present locally (copied into the bench library), and those missing."""
    from kenning.models.catalogue import CATALOGUE
    from kenning.models.library import ModelLibrary

    bench_library, user_library = ModelLibrary(cisi.MODELS), ModelLibrary(models_from)
    present, missing = [], []
    for name, spec in CATALOGUE.items():
        if spec.embedded or bench_library.find(name):
            present.append(name)
        elif (found := user_library.find(name)) is not None:
            bench_library.import_gguf(found.path, name)
            present.append(name)
        else:
            how = (f"`kenning models download {name}`" if spec.download
                   else "convert its Hugging Face folder: `kenning models convert FOLDER`")
            missing.append((name, how))
    return present, missing


def main() -> int:
    from kenning.paths import default_data_dir

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cisi", type=Path, help="folder with CISI.ALL, CISI.QRY, CISI.REL")
    parser.add_argument("--model", help="embedding model (kenning --model NAME), or 'all' for every local catalogue model")
    parser.add_argument("--models-from", type=Path, default=default_data_dir(),
                        help="a Kenning data dir whose downloaded models --model all may use")
    parser.add_argument("--fresh", action="store_true", help="re-render the corpus and rebuild the index")
    parser.add_argument("--ocr", action="store_true",
                        help="the OCR row: CISI as scanned PDFs (read by Tesseract) against the same as text PDFs")
    parser.add_argument("--ocr-docs", type=int, help="only the first N documents (judged queries stay all 76)")
    args = parser.parse_args()

    collection = cisi.load(args.cisi or cisi.default_cisi())
    if args.ocr:
        return compare_scans(collection, args.ocr_docs, args.fresh)
    corpus = cisi.render(collection, args.fresh)
    if args.model != "all":
        hybrid = evaluate(collection, corpus, args.model, args.fresh)["hybrid"][0]
        verdict = "PASS" if hybrid >= TARGET else "BELOW TARGET"
        print(f"\nhybrid nDCG@10 {hybrid:.3f}, target >= {TARGET:.2f}: {verdict}")
        return 0
    present, missing = local_catalogue_models(args.models_from)
    table = {}
    for name in present:
        print(f"\n=== {name} ===")
        table[name] = evaluate(collection, corpus, name, args.fresh)
    print(f"\n{'model':24s} {'vector':>8s} {'bm25':>8s} {'hybrid':>8s}   (CISI nDCG@10)")
    for name, scores in table.items():
        print(f"{name:24s} " + " ".join(f"{scores[mode][0]:8.3f}" for mode in MODES))
    for name, how in missing:
        print(f"{name:24s} not present locally; {how}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
