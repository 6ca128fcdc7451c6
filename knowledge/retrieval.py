"""Hybrid retrieval: dense and BM25 candidates, fused, filtered by validity, kind, region and dates."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import chain

import bm25s
import numpy as np

from .document import Chunk, Citation, Document, Kind, Passage
from .duplicates import Duplicate, canonical
from .embedding import Embedder
from .errors import InvalidQuery
from .index import EMPTY_TOKEN, HybridIndex
from .normalize import QueryNormalizer, SynonymTable, dictionary_words
from .settings import RetrievalSettings
from .text import tokenize, words

MAX_QUERY_CHARS = 2000
REWRITTEN_QUESTIONS = 4096  # rewritten questions a retriever remembers


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


def _normalised(ranking: list[tuple[int, float]], min_max: bool) -> dict[int, float]:
    """Scores scaled into [0, 1] within one query: by the top score, or min–max over the candidates."""
    if not ranking:
        return {}
    top = ranking[0][1]
    floor = ranking[-1][1] if min_max else 0.0
    span = max(top - floor, 1e-6)
    return {fid: max(score - floor, 0.0) / span for fid, score in ranking}


def fuse_rankings(
    dense: list[tuple[int, float]], bm25: list[tuple[int, float]], dense_weight: float
) -> list[tuple[int, float]]:
    """Weighted sum of per-query normalised scores; a chunk missing from one list scores 0 there."""
    fused: dict[int, float] = {}
    for fid, score in _normalised(dense, min_max=True).items():
        fused[fid] = fused.get(fid, 0.0) + dense_weight * score
    for fid, score in _normalised(bm25, min_max=False).items():
        fused[fid] = fused.get(fid, 0.0) + (1.0 - dense_weight) * score
    return sorted(fused.items(), key=lambda item: -item[1])


class DocumentBM25:
    """BM25 over whole documents (all of a document's chunk tokens), rebuilt when the index changes.

    A chunk of 300 characters often holds only half of a question's words; the document as a
    whole holds them all. Built from the tokens the index already stores, so no re-tokenising.
    """

    def __init__(self, index: HybridIndex) -> None:
        self.index = index
        self._state: tuple[int, int] | None = None
        self._bm25: bm25s.BM25 | None = None
        self.doc_ids: list[str] = []
        self._mask: tuple[frozenset[str] | None, np.ndarray | None] = (None, None)

    def _ensure(self) -> bm25s.BM25:
        state = (self.index.next_id, len(self.index))
        if self._bm25 is None or state != self._state:
            self.doc_ids = list(self.index.doc_rows)
            self._mask = (None, None)
            rows = self.index.doc_rows
            # the chunks' token ids as the index's own BM25 converted them (once per chunk, not per build)
            token_ids, vocabulary = self.index.token_ids.convert(self.index.tokens)[:2]
            empty = vocabulary[EMPTY_TOKEN]
            corpus = [list(chain.from_iterable(token_ids[fid] for fid in rows[d])) or [empty] for d in self.doc_ids]
            bm25 = bm25s.BM25(k1=1.2, b=0.75)
            bm25.index((corpus, vocabulary) if corpus else [[EMPTY_TOKEN]], show_progress=False)
            self._bm25, self._state = bm25, state
        return self._bm25

    def _allowed_mask(self, allowed_docs: frozenset[str]) -> np.ndarray:
        if self._mask[0] is not allowed_docs:
            mask = np.fromiter((d in allowed_docs for d in self.doc_ids), dtype=bool, count=len(self.doc_ids))
            self._mask = (allowed_docs, mask)
        assert self._mask[1] is not None
        return self._mask[1]

    def scores(self, tokens: list[str], allowed_docs: frozenset[str] | None) -> dict[str, float]:
        """Positive document scores scaled by the best allowed document's score."""
        bm25 = self._ensure()
        if not tokens or not self.doc_ids:
            return {}
        raw = bm25.get_scores(tokens)[: len(self.doc_ids)]
        if allowed_docs is not None:
            raw = np.where(self._allowed_mask(allowed_docs), raw, 0.0)
        top = float(raw.max()) if len(raw) else 0.0
        if top <= 0:
            return {}
        hits = np.flatnonzero(raw > 0)
        return {self.doc_ids[i]: float(raw[i]) / top for i in hits}


class QueryVectors:
    """The embedder's vectors of the last ``size`` query texts, shared by the retrievers of every generation.

    Embedding a question is most of a turn's CPU (about 20 of its 25 ms on one thread), and a turn searches
    the same question two to four times: its answer, the validity check (retired documents included), a
    follow-up's second try. Citizens also ask the same questions again and again. A query's vector does not
    depend on the index, so the cache outlives a reload. The model is deterministic: a cached vector is the
    one embedding again would give.
    """

    def __init__(self, embedder: Embedder, size: int = 2048) -> None:
        if size < 1:
            raise ValueError("size must be positive")
        self.embedder = embedder
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # worker threads of one action server share it

    def vector(self, text: str) -> np.ndarray:
        """The query vector of ``text`` (read-only), embedded unless it is among the recent ones."""
        with self._lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
                return vector
        vector = self.embedder.embed_queries([text])[0]
        vector.setflags(write=False)
        with self._lock:
            self._vectors[text] = vector
            if len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return vector


class Vocabulary:
    """The index's words for correcting typos, rebuilt when the index changes (like DocumentBM25)."""

    def __init__(self, index: HybridIndex, synonyms: SynonymTable) -> None:
        self.index = index
        self.synonyms = synonyms
        self._state: tuple[int, int] | None = None
        self._normalizer: QueryNormalizer | None = None

    def normalizer(self) -> QueryNormalizer:
        state = (self.index.next_id, len(self.index))
        if self._normalizer is None or state != self._state:
            index = self.index
            unseen = index.idf("\x00")  # the idf of a term no chunk holds
            # a typo may become a word of the index (three or four characters, or a dictionary word of
            # two): its other two-character tokens are mostly bigrams straddling two words
            # each distinct token once: a reader rebuilds this on every generation it loads, off the request
            # path but holding the GIL, and the index repeats its tokens about six times over
            vocabulary = {t for t in index.terms() if 2 <= len(t) <= 4}
            targets = {t for t in vocabulary if len(t) > 2} | dictionary_words(t for t in vocabulary if len(t) == 2)
            self._normalizer = QueryNormalizer(
                self.synonyms, known=lambda s: index.idf(s) < unseen, targets=targets, rank=index.idf
            )
            self._state = state
        return self._normalizer


class Retriever:
    """Answers ``search(question)`` with passages carrying both raw scores and full citations.

    The question is first rewritten into the documents' written forms (``knowledge.normalize``). A
    chunk's score is ``w × dense + (1 − w) × lexical`` where lexical is ``document_weight × BM25 of its
    whole document + (1 − document_weight) × BM25 of the chunk``, each scaled into [0, 1] per query. The
    dense weight ``w`` moves from ``dense_weight``, when the best BM25 chunk holds all of the question's
    words, towards ``mismatch_dense_weight`` as fewer of them match: formal questions share words with
    the text, colloquial ones often do not, and then the dense model knows better. Passages come best
    first, so a document ranks by its best chunk. Of a group of republished copies (``duplicates``) only
    the best-ranked copy is returned.
    """

    def __init__(
        self,
        index: HybridIndex,
        embedder: Embedder,
        documents: Callable[[], Mapping[str, Document]],
        dense_weight: float = 0.1,
        candidates: int = 50,
        document_weight: float = 0.5,
        tokenizer: Callable[[str], list[str]] = tokenize,
        duplicates: Callable[[], Mapping[str, Duplicate]] | None = None,
        dense_query_chars: int = MAX_QUERY_CHARS,
        mismatch_dense_weight: float | None = None,
        synonyms: SynonymTable | None = None,
        normalize: bool = True,
        query_vectors: QueryVectors | None = None,
    ) -> None:
        if not 0.0 <= dense_weight <= 1.0:
            raise ValueError("dense_weight must be within [0, 1]")
        if mismatch_dense_weight is not None and not 0.0 <= mismatch_dense_weight <= 1.0:
            raise ValueError("mismatch_dense_weight must be within [0, 1]")
        if not 0.0 <= document_weight <= 1.0:
            raise ValueError("document_weight must be within [0, 1]")
        if candidates < 1:
            raise ValueError("candidates must be positive")
        self.index = index
        self.embedder = embedder
        self.documents = documents
        self.dense_weight = dense_weight
        self.mismatch_dense_weight = dense_weight if mismatch_dense_weight is None else mismatch_dense_weight
        self.document_weight = document_weight
        self.candidates = candidates
        self.tokenizer = tokenizer  # must match how the index's chunk tokens were made
        self.duplicates = duplicates or (lambda: {})
        # query embedding time grows with its length (~1 ms a token here); the dense score, a tenth of
        # the fused one, loses nothing from a long question's tail, which BM25 reads in full
        self.dense_query_chars = dense_query_chars
        self.document_bm25 = DocumentBM25(index)
        self.normalize = normalize  # off: the question is searched as typed (bench baselines)
        self.vocabulary = Vocabulary(index, synonyms if synonyms is not None else SynonymTable())
        # a reader passes one for all its generations; None (tests, benches): this retriever's own
        self.query_vectors = query_vectors if query_vectors is not None else QueryVectors(embedder)
        # the rewritten form of recent questions: a turn rewrites its question up to four times (answer, its
        # scoring, the validity check's search and its own reading), each ~1 ms; per generation, because the
        # typo correction reads this index's vocabulary
        self._rewritten: dict[str, str] = {}
        self._allowed_cache: dict[tuple[int, int, Filters], tuple[np.ndarray | None, frozenset[str] | None]] = {}

    @classmethod
    def from_settings(
        cls,
        index: HybridIndex,
        embedder: Embedder,
        documents: Callable[[], Mapping[str, Document]],
        settings: RetrievalSettings,
        duplicates: Callable[[], Mapping[str, Duplicate]] | None = None,
        synonyms: SynonymTable | None = None,
        query_vectors: QueryVectors | None = None,
    ) -> Retriever:
        """A retriever with the fusion parameters of the retrieval settings (and the synonym table they name)."""
        return cls(
            index,
            embedder,
            documents,
            settings.dense_weight,
            settings.candidates,
            settings.document_weight,
            duplicates=duplicates,
            dense_query_chars=settings.dense_query_chars,
            mismatch_dense_weight=settings.mismatch_dense_weight,
            synonyms=synonyms,
            query_vectors=query_vectors,
        )

    def rewrite(self, question: str) -> str:
        """The question in the documents' written forms, as search and answer scoring read it."""
        question = (question or "").strip()
        if not self.normalize or not question:
            return question
        rewritten = self._rewritten.get(question)
        if rewritten is None:
            rewritten = self.vocabulary.normalizer().normalize(question)
            if len(self._rewritten) >= REWRITTEN_QUESTIONS:
                self._rewritten.clear()  # a bound, not an LRU: refilling costs a millisecond a question
            self._rewritten[question] = rewritten
        return rewritten

    def _allowed(self, filters: Filters) -> tuple[np.ndarray | None, frozenset[str] | None]:
        """Index rows and document ids the filters admit, or None when they admit everything (the fast path)."""
        docs = self.documents()
        key = (id(docs), len(self.index), filters)
        if key not in self._allowed_cache:
            allowed = [doc_id for doc_id, doc in docs.items() if filters.allows(doc)]
            if len(allowed) == len(docs):
                entry: tuple[np.ndarray | None, frozenset[str] | None] = (None, None)
            else:
                entry = (self.index.rows_of(allowed), frozenset(allowed))
            self._allowed_cache = {key: entry}  # one entry: filters rarely change between queries
        return self._allowed_cache[key]

    def search(self, question: str, top_k: int = 5, filters: Filters | None = None) -> list[Passage]:
        """The top_k passages for a question, best first."""
        question = (question or "").strip()
        if not question:
            raise InvalidQuery("问题不能为空")
        if len(question) > MAX_QUERY_CHARS:
            raise InvalidQuery(f"问题过长（超过 {MAX_QUERY_CHARS} 字）")
        question = self.rewrite(question)
        rows, doc_ids = self._allowed(filters or Filters())
        dense: list[tuple[int, float]] = []
        if max(self.dense_weight, self.mismatch_dense_weight) > 0:
            query = self.query_vectors.vector(question[: self.dense_query_chars])
            dense = self.index.search_dense(query, self.candidates, rows)
        bm25: list[tuple[int, float]] = []
        fused = fuse_rankings(dense, [], 1.0) if self.dense_weight == 1 else []
        if self.dense_weight < 1:
            tokens = self.tokenizer(question)
            bm25 = self.index.search_bm25(tokens, self.candidates, rows)
            weight = self.dense_weight_for(question, bm25)
            fused = self._fuse_lexical(tokens, dense, bm25, doc_ids, weight)
        return self._passages(fused, dense, bm25, top_k)

    def word_match(self, question: str, bm25: list[tuple[int, float]]) -> float:
        """IDF-weighted share of the question's words that the best BM25 chunk holds (0 without one)."""
        content = set(words(question))
        if not bm25 or not content:
            return 0.0
        held = set(self.index.tokens.get(bm25[0][0], ()))
        total = sum(self.index.idf(w) for w in content)
        return sum(self.index.idf(w) for w in content if w in held) / total if total else 0.0

    def dense_weight_for(self, question: str, bm25: list[tuple[int, float]]) -> float:
        """The dense weight for this question: ``dense_weight`` when its words match, more when they do not."""
        if self.mismatch_dense_weight == self.dense_weight:
            return self.dense_weight
        match = self.word_match(question, bm25)
        return self.dense_weight + (self.mismatch_dense_weight - self.dense_weight) * (1.0 - match)

    def _fuse_lexical(
        self,
        tokens: list[str],
        dense: list[tuple[int, float]],
        bm25: list[tuple[int, float]],
        allowed_docs: frozenset[str] | None,
        dense_weight: float,
    ) -> list[tuple[int, float]]:
        """Chunk BM25 blended with whole-document BM25, then fused with the dense scores."""
        lexical = _normalised(bm25, min_max=False)
        if self.document_weight > 0:
            by_doc = self.document_bm25.scores(tokens, allowed_docs)
            w = self.document_weight
            chunks = self.index.chunks
            lexical = {
                fid: w * by_doc.get(chunks[fid].doc_id, 0.0) + (1 - w) * lexical.get(fid, 0.0)
                for fid in {fid for fid, _ in bm25} | {fid for fid, _ in dense}
            }
        fused = {fid: (1 - dense_weight) * score for fid, score in lexical.items()}
        for fid, score in _normalised(dense, min_max=True).items():
            fused[fid] = fused.get(fid, 0.0) + dense_weight * score
        return sorted(fused.items(), key=lambda item: -item[1])

    def next_chunk(self, chunk: Chunk) -> Chunk | None:
        """The chunk after this one in its document, for answers that run across a chunk boundary."""
        rows = self.index.doc_rows.get(chunk.doc_id, [])
        nxt = self.index.chunks.get(rows[chunk.position + 1]) if chunk.position + 1 < len(rows) else None
        return nxt if nxt is not None and nxt.position == chunk.position + 1 else None

    def _passages(
        self,
        fused: list[tuple[int, float]],
        dense: list[tuple[int, float]],
        bm25: list[tuple[int, float]],
        top_k: int,
    ) -> list[Passage]:
        dense_at = {fid: (rank, score) for rank, (fid, score) in enumerate(dense, 1)}
        bm25_at = {fid: (rank, score) for rank, (fid, score) in enumerate(bm25, 1)}
        docs = self.documents()
        duplicates = self.duplicates()
        shown: dict[str, str] = {}  # group → the copy shown for it
        passages: list[Passage] = []
        for fid, score in fused:
            if len(passages) >= top_k:
                break
            chunk = self.index.chunks[fid]
            doc = docs.get(chunk.doc_id)
            if doc is None:
                continue  # removed from the store since this index generation; reconciled on refresh
            if shown.setdefault(canonical(doc.id, duplicates), doc.id) != doc.id:
                continue  # another copy of the same republished text is already in the results
            d_rank, d_score = dense_at.get(fid, (None, None))
            b_rank, b_score = bm25_at.get(fid, (None, None))
            passages.append(Passage(chunk, Citation.of(doc), score, d_score, b_score, d_rank, b_rank))
        return passages


def rank_documents(passages: list[Passage]) -> list[str]:
    """Document ids in the order their best passage appears."""
    seen: dict[str, None] = {}
    for passage in passages:
        seen.setdefault(passage.doc_id, None)
    return list(seen)
