"""Measure retrieval and answers on annotated questions: recall@k, MRR@10, answer hits, latency."""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .answer import extract_answer
from .base import KnowledgeBase
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


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def evaluate(
    kb: KnowledgeBase,
    questions: Iterable[Question],
    top_k: int = 5,
    dense_weight: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, float]:
    """Document-level recall@1/@k and MRR@10, answer_hit@1, no-answer rate and per-query latency."""
    questions = list(questions)
    r = kb.settings.retrieval
    weight = r.dense_weight if dense_weight is None else dense_weight
    retriever = Retriever(kb.index, kb.embedder, kb.documents, weight, r.candidates)
    kb.embedder.embed_queries(["预热"])  # load the model before timing
    hits1 = hitsk = hits_answer = no_answer = 0
    reciprocal = 0.0
    latencies = []
    for number, q in enumerate(questions, 1):
        start = time.perf_counter()
        passages = retriever.search(q.question, max(top_k, 10) * 3, Filters(include_retired=True))
        answer = extract_answer(q.question, passages, kb.index.idf, kb.extraction)
        latencies.append((time.perf_counter() - start) * 1000)
        ranked = rank_documents(passages)
        if q.doc_id in ranked[:1]:
            hits1 += 1
        if q.doc_id in ranked[:top_k]:
            hitsk += 1
        if q.doc_id in ranked[:10]:
            reciprocal += 1.0 / (ranked.index(q.doc_id) + 1)
        no_answer += not answer.answered
        hits_answer += bool(answer.answered and q.answer.strip() and q.answer.strip() in answer.text)
        if progress:
            progress(number, len(questions))
    n = len(questions)
    return {
        "n": n,
        "recall@1": round(hits1 / n, 4),
        f"recall@{top_k}": round(hitsk / n, 4),
        "mrr@10": round(reciprocal / n, 4),
        "answer_hit@1": round(hits_answer / n, 4),
        "no_answer_rate": round(no_answer / n, 4),
        "latency_ms_p50": round(float(np.percentile(latencies, 50)), 2),
        "latency_ms_p95": round(float(np.percentile(latencies, 95)), 2),
    }
