"""Measure retrieval and answers on annotated questions: recall@k, MRR@10, answer hits, latency."""

from __future__ import annotations

import json
import re
import resource
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .answer import extract_answer
from .base import KnowledgeBase
from .document import Document
from .duplicates import canonical
from .errors import IngestError
from .retrieval import Filters, Retriever, rank_documents


@dataclass(frozen=True)
class Question:
    """One annotated question: the document that answers it and the answer span in that document."""

    question: str
    doc_id: str
    answer: str


def load_questions(path: Path) -> list[Question]:
    """Questions from JSONL with ``question``, ``doc_id`` and ``answer``; a bad line names its number."""
    questions = []
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                questions.append(Question(record["question"], record["doc_id"], record.get("answer", "")))
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise IngestError(str(path), f"第{number}行不是有效的问题记录：{error}") from error
    if not questions:
        raise IngestError(str(path), "没有问题记录")
    return questions


_LAYOUT = re.compile(r"\s+")


def holds_answer(text: str, gold: str) -> bool:
    """Whether a quoted answer holds the gold span, layout aside.

    The annotators cut their spans from bodies whose paragraphs are set apart by spaces, no-break and
    ideographic spaces (``"…报告。\\xa0 \\u3000\\u30002.施工…"``); an answer sets them apart by line
    breaks. Chinese text has no spaces between words, so whitespace carries layout only.
    """
    gold = _LAYOUT.sub("", gold)
    return bool(gold) and gold in _LAYOUT.sub("", text)


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_retriever(
    kb: KnowledgeBase, dense_weight: float | None = None, document_weight: float | None = None
) -> Retriever:
    """A retriever over the knowledge base's index with the settings' fusion, optionally overridden."""
    r = kb.settings.retrieval
    return Retriever(
        kb.index,
        kb.embedder,
        kb.documents,
        r.dense_weight if dense_weight is None else dense_weight,
        r.candidates,
        r.document_weight if document_weight is None else document_weight,
        duplicates=kb.duplicates,
        dense_query_chars=r.dense_query_chars,
        mismatch_dense_weight=r.mismatch_dense_weight if dense_weight is None else dense_weight,
        synonyms=kb.retriever().vocabulary.synonyms,
    )


def evaluate(
    kb: KnowledgeBase,
    questions: Iterable[Question],
    top_k: int = 5,
    dense_weight: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    document_weight: float | None = None,
    retriever: Retriever | None = None,
    answer_hits: list[bool] | None = None,
) -> dict[str, float]:
    """Document-level recall@1/@k and MRR@10, answer_hit@1, no-answer rate and per-query latency.

    The corpus publishes much of the same news through several outlets. Document-level metrics count
    a republished copy of the annotated document (``kb.duplicates()``: same text, shingle overlap at
    least ``duplicate_threshold``) as the annotated document, since the search shows one copy per
    group; ``recall@1_exact_id`` is the same without that. ``answer_doc@1`` is looser still: the top
    document is the annotated one or merely contains the gold answer. Answers are compared with the
    gold span layout aside (``holds_answer``).
    """
    questions = list(questions)
    retriever = retriever or make_retriever(kb, dense_weight, document_weight)
    kb.embedder.embed_queries(["预热"])  # load the model before timing
    retriever.search("预热")  # and build the BM25 structures
    docs = kb.documents()
    duplicates = kb.duplicates()
    hits1 = hits1_exact = hitsk = hits_doc = hits_answer = no_answer = 0
    reciprocal = 0.0
    latencies = []
    for number, q in enumerate(questions, 1):
        start = time.perf_counter()
        passages = retriever.search(q.question, max(top_k, 10) * 3, Filters(include_retired=True))
        written = retriever.rewrite(q.question)  # answers are scored on what retrieval read
        answer = extract_answer(written, passages, kb.index.idf, kb.extraction, retriever.next_chunk)
        latencies.append((time.perf_counter() - start) * 1000)
        exact = rank_documents(passages)
        ranked = [canonical(doc_id, duplicates) for doc_id in exact]
        target = canonical(q.doc_id, duplicates)
        gold = q.answer.strip()
        hits1 += target in ranked[:1]
        hits1_exact += q.doc_id in exact[:1]
        if ranked and (ranked[0] == target or (exact[0] in docs and holds_answer(docs[exact[0]].body, gold))):
            hits_doc += 1
        if target in ranked[:top_k]:
            hitsk += 1
        if target in ranked[:10]:
            reciprocal += 1.0 / (ranked.index(target) + 1)
        no_answer += not answer.answered
        hit = answer.answered and holds_answer(answer.text, gold)
        hits_answer += hit
        if answer_hits is not None:
            answer_hits.append(hit)  # per question, for comparing with another pipeline
        if progress:
            progress(number, len(questions))
    n = len(questions)
    return {
        "n": n,
        "recall@1": round(hits1 / n, 4),
        "recall@1_exact_id": round(hits1_exact / n, 4),
        f"recall@{top_k}": round(hitsk / n, 4),
        "mrr@10": round(reciprocal / n, 4),
        "answer_doc@1": round(hits_doc / n, 4),
        "answer_hit@1": round(hits_answer / n, 4),
        "no_answer_rate": round(no_answer / n, 4),
        "latency_ms_p50": round(float(np.percentile(latencies, 50)), 2),
        "latency_ms_p95": round(float(np.percentile(latencies, 95)), 2),
    }


@dataclass(frozen=True)
class Outcome:
    """One question's answer confidence and whether the extracted answer holds the gold span."""

    confidence: float
    correct: bool


def answer_outcomes(
    kb: KnowledgeBase, retriever: Retriever, questions: Iterable[Question], exclude_gold: bool = False
) -> list[Outcome]:
    """Confidence and correctness per question; with ``exclude_gold`` the annotated document is filtered out."""
    outcomes = []
    settings = replace(kb.extraction, threshold=0.0)
    for q in questions:
        filters = Filters(include_retired=True, exclude_doc_ids=(q.doc_id,) if exclude_gold else ())
        passages = retriever.search(q.question, 5, filters)
        answer = extract_answer(retriever.rewrite(q.question), passages, kb.index.idf, settings, retriever.next_chunk)
        outcomes.append(Outcome(answer.confidence, holds_answer(answer.text, q.answer)))
    return outcomes


def unanswerable_without_gold(questions: Iterable[Question], documents: Mapping[str, Document]) -> list[Question]:
    """Questions that no other document answers: their gold span occurs verbatim only in their own document."""
    bodies = [(doc_id, doc.body) for doc_id, doc in documents.items()]
    return [
        q
        for q in questions
        if q.answer.strip() and not any(doc_id != q.doc_id and q.answer.strip() in body for doc_id, body in bodies)
    ]


def threshold_table(
    answerable: list[Outcome], unanswerable: Mapping[str, list[float]], thresholds: Iterable[float]
) -> list[dict[str, float]]:
    """At each threshold: share of answerable questions answered and answered right, precision, and the
    share of each unanswerable set (name → confidences) that gets the honest no-answer."""
    rows = []
    for t in thresholds:
        answered = [o for o in answerable if o.confidence >= t]
        row = {
            "threshold": t,
            "answered": round(len(answered) / len(answerable), 4),
            "answer_hit@1": round(sum(o.correct for o in answered) / len(answerable), 4),
            "precision": round(sum(o.correct for o in answered) / len(answered), 4) if answered else float("nan"),
        }
        for name, confidences in unanswerable.items():
            row[f"refused_{name}"] = round(sum(c < t for c in confidences) / len(confidences), 4)
        rows.append(row)
    return rows
