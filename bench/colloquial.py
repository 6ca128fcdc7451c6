"""Colloquial questions (bench/data/colloquial.jsonl) scored the way a citizen judges a reply.

    .venv/bin/python bench/colloquial.py [--split held|tune|all] [--skip-shared] [--setup TEXT] [--misses]

A row is *right* when the reply is an answer holding every expected string, a *wrongful refusal* when an
answerable question gets the honest no-answer, *wrong* otherwise; rows expecting nothing (out of domain,
not in the knowledge base, or answerable only from documents the row excludes) must be refused. The
"held" rows were kept out of all tuning (synonyms, weights, threshold); bench/tune.py uses "tune" only.
Setups: BM25 alone, today's default before this work (dense 0.1, no normalisation), and the new default
(normalised questions, dense weight rising when words do not match, the learned answer selector), next to
it with the hand-weighted extraction (the search-only setups use that too). Shared-corpus rows are colloquial
rewrites of dev questions (same gold answer and document; a rewrite is held exactly when its dev
question is in bench/tune.py's held-out half).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.answer import ExtractionSettings, extract_answer  # noqa: E402
from knowledge.answer_parts import answer_parts, answers_both, split_question  # noqa: E402
from knowledge.base import KnowledgeBase  # noqa: E402
from knowledge.chunking import chunk_document  # noqa: E402
from knowledge.evaluation import holds_answer  # noqa: E402
from knowledge.index import HybridIndex  # noqa: E402
from knowledge.normalize import load_synonyms  # noqa: E402
from knowledge.parsers import parse_file  # noqa: E402
from knowledge.reader import KnowledgeReader  # noqa: E402
from knowledge.retrieval import Filters, Retriever, rank_documents  # noqa: E402
from knowledge.settings import Settings  # noqa: E402
from knowledge.supersede import check_question  # noqa: E402
from knowledge.text import tokenize  # noqa: E402

SET = Path(__file__).with_name("data") / "colloquial.jsonl"
SAMPLE_CACHE = ROOT / "var" / "bench" / "colloquial-sample"
DOCUMENTS = ROOT.parent / "shared" / "data" / "ncp" / "documents.jsonl"


@dataclass(frozen=True)
class Row:
    id: str
    question: str
    type: str
    corpus: str
    expect: tuple[str, ...]
    split: str
    exclude: tuple[str, ...] = ()
    dev_id: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.expect)

    @property
    def group(self) -> str:
        """answerable, excluded (its documents filtered out), or none (out of domain / not in the base)."""
        return "answerable" if self.expect else ("excluded" if self.exclude else "none")


def load_rows(path: Path = SET) -> list[Row]:
    """The question set; a bad line names its number."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            rows.append(
                Row(
                    r["id"],
                    r["question"],
                    r["type"],
                    r["corpus"],
                    tuple(r["expect"]),
                    r["split"],
                    tuple(r.get("exclude", ())),
                    r.get("dev_id", ""),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise SystemExit(f"{path}:{number}: not a question row: {error}") from error
    return rows


@dataclass(frozen=True)
class Reply:
    answered: bool
    text: str
    confidence: float
    doc_ids: tuple[str, ...]
    ms: float


Setup = Callable[[KnowledgeReader, Row], Reply]


def retriever_for(kb: KnowledgeReader, dense_weight: float, mismatch: float | None, normalize: bool) -> Retriever:
    base = kb.retriever()
    r = kb.settings.retrieval
    retriever = Retriever(
        kb.index,
        kb.embedder,
        kb.documents,
        dense_weight,
        r.candidates,
        r.document_weight,
        duplicates=kb.duplicates,
        dense_query_chars=r.dense_query_chars,
        mismatch_dense_weight=mismatch,
        synonyms=base.vocabulary.synonyms,
    )
    retriever.normalize = normalize
    return retriever


def hand_weighted(kb: KnowledgeReader) -> ExtractionSettings:
    """The reader's extraction with the hand-weighted scores choosing, as before the learned selector."""
    return replace(kb.extraction, selector_path=None)


def plain_setup(dense_weight: float, mismatch: float | None, normalize: bool) -> Callable[[KnowledgeReader], Setup]:
    """A pipeline of search + extraction only (no validity step), as before this work."""

    def bind(kb: KnowledgeReader) -> Setup:
        retriever = retriever_for(kb, dense_weight, mismatch, normalize)

        def reply(_kb: KnowledgeReader, row: Row) -> Reply:
            start = time.perf_counter()
            passages = retriever.search(row.question, 5, Filters(exclude_doc_ids=row.exclude))
            answer = extract_answer(
                retriever.rewrite(row.question), passages, kb.index.idf, hand_weighted(kb), retriever.next_chunk
            )
            ms = (time.perf_counter() - start) * 1000
            return Reply(answer.answered, answer.text, answer.confidence, tuple(rank_documents(passages)), ms)

        return reply

    return bind


def product_setup(kb: KnowledgeReader, hand: bool = False) -> Setup:
    """What the product does: the reader's answer, then the validity step (a superseded rule said so); a
    message asking two kinds of thing gets both answers when both parts are answered. ``hand``: with the
    hand-weighted extraction instead of the learned selector."""

    def reply(_kb: KnowledgeReader, row: Row) -> Reply:
        if not hand:
            return answered(row)
        learned, kb.extraction = kb.extraction, hand_weighted(kb)
        try:
            return answered(row)
        finally:
            kb.extraction = learned

    def answered(row: Row) -> Reply:
        start = time.perf_counter()
        filters = Filters(exclude_doc_ids=row.exclude)
        answer = kb.answer(row.question, filters)
        text, answered, confidence = answer.text, answer.answered, answer.confidence
        found, current = check_question(kb, row.question, answer) if not row.exclude else (None, None)
        if found is not None and current is not None:
            # the reply states the old document's validity, then quotes the rules in force
            text = f"{found.old.title}{found.old.validity.value} " + (current.text if current.answered else "")
            answered, confidence = True, current.confidence if current.answered else 1.0
        else:
            parts = (
                answer_parts(row.question, lambda q: kb.answer(q, filters))
                if len(split_question(row.question)) == 2
                else []
            )
            if answers_both(parts):
                # two questions in one message: the reply answers both (actions/answering.py)
                text = "\n".join(a.text for _, a in parts)
                answered, confidence = True, min(a.confidence for _, a in parts)
        ms = (time.perf_counter() - start) * 1000
        return Reply(answered, text, confidence, tuple(rank_documents(list(answer.passages))), ms)

    return reply


def judge(row: Row, reply: Reply, kb: KnowledgeReader) -> str:
    """right / refused / wrong for answerable rows; refused / answered for the others."""
    if not row.answerable:
        return "refused" if not reply.answered else "answered"
    if not reply.answered:
        return "refused"
    if row.corpus == "shared":
        return "right" if holds_answer(reply.text, row.expect[0]) else "wrong"
    return "right" if all(e in reply.text for e in row.expect) else "wrong"


def score(kb: KnowledgeReader, rows: Iterable[Row], setup: Setup, misses: list[str] | None = None) -> dict[str, object]:
    """Shares of right answers, wrongful refusals and refusals of unanswerable rows, per type, with latency;
    ``misses`` collects one line per row judged otherwise than it should be (wrong, refused, answered)."""
    rows = list(rows)
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    by_type: dict[str, Counter[str]] = defaultdict(Counter)
    recall = Counter[str]()
    times = []
    for row in rows:
        reply = setup(kb, row)
        times.append(reply.ms)
        verdict = judge(row, reply, kb)
        if misses is not None and verdict != ("right" if row.answerable else "refused"):
            quote = reply.text.replace("\n", " / ")[:90]
            misses.append(
                f"  {verdict:8} {row.id} [{row.type}] {row.question} | expect {list(row.expect)} | "
                f"{reply.confidence:.2f} {reply.doc_ids[:1]} {quote}"
            )
        outcomes[row.group][verdict] += 1
        if row.answerable:
            by_type[row.type][verdict] += 1
        if row.dev_id:
            recall["n"] += 1
            recall["hit"] += bool(reply.doc_ids) and reply.doc_ids[0] == _dev_doc(row)
    answerable = outcomes["answerable"]
    n = sum(answerable.values())
    result: dict[str, object] = {"n": n}
    if n:
        result |= {"right": _share(answerable["right"], n), "wrongful_refusal": _share(answerable["refused"], n)}
    for group in ("none", "excluded"):
        total = sum(outcomes[group].values())
        if total:
            result[f"refused_{group}"] = _share(outcomes[group]["refused"], total)
    if recall["n"]:
        result["recall@1"] = _share(recall["hit"], recall["n"])
    result["by_type"] = {t: f"{c['right']}/{sum(c.values())}" for t, c in sorted(by_type.items())}
    result["p95_ms"] = round(float(np.percentile(times, 95)), 1) if times else float("nan")
    return result


_DEV: dict[str, str] = {}


def _dev_doc(row: Row) -> str:
    if not _DEV:
        path = ROOT.parent / "shared" / "data" / "ncp" / "questions_dev.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                _DEV[record["id"]] = record["doc_id"]
    return _DEV.get(row.dev_id, "")


def _share(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else float("nan")


def open_sample() -> KnowledgeBase:
    """The sample knowledge base, ingested once under var/bench (re-ingesting unchanged files is a no-op)."""
    settings = Settings()
    settings.store.url = f"sqlite:///{SAMPLE_CACHE}/kb.db"
    settings.index.dir = SAMPLE_CACHE / "index"
    kb = KnowledgeBase.open(settings)
    kb.ingest([ROOT / "knowledge" / "sample"])
    return kb


def open_ncp(dense: bool = True) -> KnowledgeReader | SimpleNamespace | None:
    """The shared corpus: with ``dense``, bench/retrieval.py's cached index when it exists (every setup, the
    dense model's too), else indexed here for BM25 only (embedding its 4,169 chunks takes 17 minutes on a quiet
    2-core machine), comparing BM25 as typed with BM25 on the normalised question."""
    if not DOCUMENTS.is_file():
        return None
    settings = Settings()
    cached = ROOT / "var" / "bench" / f"{settings.index.model}-ncp"
    if dense and (cached / "index" / "CURRENT").is_file():
        settings.store.url = f"sqlite:///{cached}/kb.db"
        settings.index.dir = cached / "index"
        print(f"colloquial shared: the cached index at {cached}", file=sys.stderr)
        return KnowledgeReader.open(settings)
    docs = {doc.id: doc for doc in parse_file(DOCUMENTS).documents}
    index = HybridIndex("none", 1)
    for doc in docs.values():
        chunks = chunk_document(doc, settings.index.chunk_chars)
        vectors = np.zeros((len(chunks), 1), np.float32)
        index.put_document(doc.id, doc.content_hash, chunks, [tokenize(c.indexed_text) for c in chunks], vectors)
    retriever = Retriever(index, None, lambda: docs, 0.0, synonyms=load_synonyms())  # type: ignore[arg-type]
    return SimpleNamespace(
        index=index,
        embedder=None,
        documents=lambda: docs,
        duplicates=lambda: {},
        extraction=ExtractionSettings(threshold=settings.retrieval.answer_threshold),
        settings=settings,
        retriever=lambda: retriever,
        search=lambda q, k=5: retriever.search(q, k),
        close=lambda: None,
        lexical=True,
    )


def setups(kb: KnowledgeReader) -> list[tuple[str, Setup]]:
    r = kb.settings.retrieval
    if getattr(kb, "lexical", False):
        return [
            ("BM25 alone, as typed", plain_setup(0.0, None, False)(kb)),
            ("BM25 alone, normalised", plain_setup(0.0, None, True)(kb)),
        ]
    fusion = f"{r.dense_weight}→{r.mismatch_dense_weight}"
    return [
        ("BM25 alone, as typed", plain_setup(0.0, None, False)(kb)),
        ("before: dense 0.1, as typed", plain_setup(0.1, None, False)(kb)),
        ("normalised, dense 0.1 fixed", plain_setup(r.dense_weight, None, True)(kb)),
        (f"normalised, dense {fusion}, validity, hand-weighted", product_setup(kb, True)),
        (f"default: normalised, dense {fusion}, validity", product_setup(kb)),
    ]


def line(corpus: str, split: str, label: str, result: dict[str, object]) -> str:
    cells = " | ".join(f"{k}={v}" for k, v in result.items())
    return f"colloquial {corpus} {split} | {label} | {cells}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("held", "tune", "all"), default="all")
    parser.add_argument("--skip-shared", action="store_true")
    parser.add_argument("--setup", default="", help="only the setups whose label contains this text")
    parser.add_argument(
        "--misses", action="store_true", help="list each tune row judged wrong (question, reply, confidence, document)"
    )
    args = parser.parse_args()
    rows = load_rows()
    splits = ("tune", "held") if args.split == "all" else (args.split,)
    corpora: list[tuple[str, Callable[[], object]]] = [("sample", open_sample)]
    if not args.skip_shared:
        corpora.append(("shared", open_ncp))
    for corpus, opener in corpora:
        kb = opener()
        if kb is None:
            print(f"colloquial {corpus}: skipped (shared data not found at {DOCUMENTS})")
            continue
        kb.search("预热")
        for label, setup in setups(kb):
            if args.setup not in label:
                continue
            for split in splits:
                chosen = [r for r in rows if r.corpus == corpus and r.split == split]
                # held rows are only counted: listing their misses would invite tuning on them
                misses: list[str] | None = [] if args.misses and split == "tune" else None
                print(line(corpus, split, label, score(kb, chosen, setup, misses)), flush=True)
                if misses:
                    print("\n".join(misses), flush=True)
        kb.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
