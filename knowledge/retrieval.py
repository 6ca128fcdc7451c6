"""Hybrid retrieval: dense and BM25 candidates, fused, filtered by validity, kind, region and dates."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from .document import Citation, Document, Kind, Passage
from .embedding import Embedder
from .errors import InvalidQuery
from .index import HybridIndex
from .text import tokenize

MAX_QUERY_CHARS = 2000


@dataclass(frozen=True)
class Filters:
    """Which documents a search may return; retired ones only when asked for."""

    include_retired: bool = False
    kinds: tuple[Kind, ...] = ()
    regions: tuple[str, ...] = ()
    published_from: date | None = None
    published_to: date | None = None
    doc_ids: tuple[str, ...] = ()
    exclude_doc_ids: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return self == Filters()

    def allows(self, doc: Document) -> bool:
        """Whether a document passes every filter."""
        published = doc.published_date or doc.written_date
        return not (
            (doc.validity.is_retired and not self.include_retired)
            or (self.kinds and doc.kind not in self.kinds)
            or (self.regions and doc.region not in self.regions)
            or (self.published_from and (published is None or published < self.published_from))
            or (self.published_to and (published is None or published > self.published_to))
            or (self.doc_ids and doc.id not in self.doc_ids)
            or doc.id in self.exclude_doc_ids
        )


def fuse_rankings(
    dense: list[tuple[int, float]], bm25: list[tuple[int, float]], dense_weight: float
) -> list[tuple[int, float]]:
    """Weighted sum of per-query max-normalised scores; a chunk missing from one list scores 0 there."""
    fused: dict[int, float] = {}
    if dense:
        top, floor = dense[0][1], dense[-1][1]
        span = max(top - floor, 1e-6)
        for fid, score in dense:
            fused[fid] = fused.get(fid, 0.0) + dense_weight * (score - floor) / span
    if bm25:
        top = max(bm25[0][1], 1e-6)
        for fid, score in bm25:
            fused[fid] = fused.get(fid, 0.0) + (1.0 - dense_weight) * score / top
    return sorted(fused.items(), key=lambda item: -item[1])


class Retriever:
    """Answers ``search(question)`` with passages carrying both raw scores and full citations."""

    def __init__(
        self,
        index: HybridIndex,
        embedder: Embedder,
        documents: Callable[[], Mapping[str, Document]],
        dense_weight: float = 0.35,
        candidates: int = 50,
    ) -> None:
        if not 0.0 <= dense_weight <= 1.0:
            raise ValueError("dense_weight must be within [0, 1]")
        self.index = index
        self.embedder = embedder
        self.documents = documents
        self.dense_weight = dense_weight
        self.candidates = candidates
        self._allowed_cache: dict[tuple[int, int, Filters], np.ndarray | None] = {}

    def _allowed(self, filters: Filters) -> np.ndarray | None:
        """Index rows the filters admit, or None when they admit everything (the fast path)."""
        docs = self.documents()
        key = (id(docs), len(self.index), filters)
        if key not in self._allowed_cache:
            allowed = [doc_id for doc_id, doc in docs.items() if filters.allows(doc)]
            rows = None if len(allowed) == len(docs) else self.index.rows_of(allowed)
            self._allowed_cache = {key: rows}  # one entry: filters rarely change between queries
        return self._allowed_cache[key]

    def search(self, question: str, top_k: int = 5, filters: Filters | None = None) -> list[Passage]:
        """The top_k passages for a question, best first."""
        question = (question or "").strip()
        if not question:
            raise InvalidQuery("问题不能为空")
        if len(question) > MAX_QUERY_CHARS:
            raise InvalidQuery(f"问题过长（超过 {MAX_QUERY_CHARS} 字）")
        allowed = self._allowed(filters or Filters())
        dense: list[tuple[int, float]] = []
        if self.dense_weight > 0:
            query = self.embedder.embed_queries([question])[0]
            dense = self.index.search_dense(query, self.candidates, allowed)
        bm25 = self.index.search_bm25(tokenize(question), self.candidates, allowed) if self.dense_weight < 1 else []
        fused = fuse_rankings(dense, bm25, self.dense_weight)[:top_k]
        return self._passages(fused, dense, bm25)

    def _passages(
        self, fused: list[tuple[int, float]], dense: list[tuple[int, float]], bm25: list[tuple[int, float]]
    ) -> list[Passage]:
        dense_at = {fid: (rank, score) for rank, (fid, score) in enumerate(dense, 1)}
        bm25_at = {fid: (rank, score) for rank, (fid, score) in enumerate(bm25, 1)}
        docs = self.documents()
        passages = []
        for fid, score in fused:
            chunk = self.index.chunks[fid]
            doc = docs.get(chunk.doc_id)
            if doc is None:
                continue  # removed from the store since this index generation; reconciled on refresh
            d_rank, d_score = dense_at.get(fid, (None, None))
            b_rank, b_score = bm25_at.get(fid, (None, None))
            passages.append(
                Passage(chunk, Citation.of(doc), score, d_score, b_score, d_rank, b_rank)
            )
        return passages


def rank_documents(passages: list[Passage]) -> list[str]:
    """Document ids in the order their best passage appears."""
    seen: dict[str, None] = {}
    for passage in passages:
        seen.setdefault(passage.doc_id, None)
    return list(seen)
