"""The reading side of the knowledge base: serves published index generations, never the store.

A reader never embeds a document, never takes the writer's lock and never waits for a writer. A
background thread polls CURRENT, loads a new generation completely (vectors, chunks, documents with
their metadata, BM25, duplicate groups) and then swaps one reference; a search in flight keeps the
snapshot it started with. The store is not read at all, so a database outage changes nothing here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .answer import ExtractionSettings, extract_answer
from .coverage import Coverage
from .document import Answer, Document, Passage
from .duplicates import Duplicate, DuplicateFinder
from .embedding import Embedder, load_embedder
from .errors import DocumentNotFound, IndexMismatch, KnowledgeError
from .index import HybridIndex, TokenIds, current_generation, read_documents, read_manifest
from .normalize import load_synonyms
from .retrieval import Filters, QueryVectors, Retriever
from .settings import Settings

log = logging.getLogger(__name__)

WARM_UP_QUERY = "创业担保贷款"


@dataclass(frozen=True)
class Snapshot:
    """One published generation, loaded and warmed up: everything a read needs, immutable once built."""

    generation: Path | None
    revision: int
    index: HybridIndex
    documents: Mapping[str, Document]
    duplicates: Mapping[str, Duplicate]
    interpretations: Mapping[str, tuple[Document, ...]]  # policy id → its interpretations, by id
    retriever: Retriever
    coverage: Coverage  # whether a question's key terms occur in this generation at all (its term statistics)


def build_snapshot(
    settings: Settings,
    embedder: Embedder,
    index: HybridIndex,
    documents: Mapping[str, Document],
    generation: Path | None = None,
    revision: int = 0,
    finder: DuplicateFinder | None = None,
    query_vectors: QueryVectors | None = None,
) -> Snapshot:
    """A snapshot over an index and its documents, with BM25 and the duplicate groups computed up front."""
    threshold = settings.retrieval.duplicate_threshold
    duplicates = (finder or DuplicateFinder(threshold)).find(documents) if threshold < 1.0 else {}
    interpretations: dict[str, list[Document]] = {}
    for doc in sorted(documents.values(), key=lambda d: d.id):
        if doc.interprets:
            interpretations.setdefault(doc.interprets, []).append(doc)
    synonyms = load_synonyms(settings.retrieval.synonyms)  # re-read per generation: a manager's edits apply
    retriever = Retriever.from_settings(
        index, embedder, lambda: documents, settings.retrieval, lambda: duplicates, synonyms, query_vectors
    )
    snapshot = Snapshot(
        generation,
        revision,
        index,
        documents,
        duplicates,
        {k: tuple(v) for k, v in interpretations.items()},
        retriever,
        Coverage(index),
    )
    retriever.search(WARM_UP_QUERY, 1)  # builds both BM25 structures now, not on a citizen's question
    return snapshot


def load_snapshot(
    settings: Settings,
    embedder: Embedder,
    generation: Path,
    finder: DuplicateFinder | None = None,
    query_vectors: QueryVectors | None = None,
    token_ids: TokenIds | None = None,
) -> Snapshot:
    """Load a published generation completely; IndexMismatch when it is not one this code can serve.

    ``finder``, ``query_vectors`` and ``token_ids`` are what the reader keeps from one generation to the next
    (duplicate signatures, question vectors, chunks' token ids), so a reload does again only what changed.
    """
    index = HybridIndex.load(settings.index.dir, settings.index.model, generation)
    if token_ids is not None:
        index.token_ids = token_ids
    if index.dim != embedder.dim:
        raise IndexMismatch(f"index at {generation} has dimension {index.dim}, the model {embedder.dim}")
    documents = read_documents(generation) or {}  # check_generation (in load) refused a generation without them
    revision = read_manifest(generation).revision
    return build_snapshot(settings, embedder, index, documents, generation, revision, finder, query_vectors)


class KnowledgeReader:
    """Search and answers over the last published generation; reloads in the background when told to."""

    def __init__(self, settings: Settings, embedder: Embedder, snapshot: Snapshot | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.index_dir = settings.index.dir
        # the learned selector (knowledge/selector.json) chooses the span, the hand-weighted scores among its
        # features; without the file, the hand-weighted extraction does (bench/README.md compares the two)
        self.extraction = ExtractionSettings(
            threshold=settings.retrieval.answer_threshold, selector_path=settings.retrieval.answer_selector
        )
        self._finder = DuplicateFinder(settings.retrieval.duplicate_threshold)
        # the vectors of recent questions, kept across generations (a question's vector depends on the model only)
        self._query_vectors = (
            snapshot.retriever.query_vectors if snapshot else QueryVectors(embedder, settings.index.query_cache)
        )
        self._token_ids = TokenIds()  # chunks' token ids, reused by every generation this reader loads
        self._snapshot = snapshot or build_snapshot(
            settings,
            embedder,
            HybridIndex(settings.index.model, embedder.dim),
            {},
            query_vectors=self._query_vectors,
        )
        self._reload_lock = threading.Lock()  # between reloaders only (poller, refresh); reads never take it
        self._refused: Path | None = None  # the last generation refused, logged once
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> KnowledgeReader:
        """A reader over CURRENT (empty when nothing is published yet); IndexMismatch for an index it cannot serve."""
        reader = cls(settings, embedder or load_embedder(settings.index.model, settings.index.query_threads))
        reader.refresh(strict=True)
        return reader

    # -- generations --------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def generation(self) -> Path | None:
        """The generation being served (None before anything was published)."""
        return self._snapshot.generation

    @property
    def revision(self) -> int:
        """The store revision the served generation reflects."""
        return self._snapshot.revision

    def refresh(self, strict: bool = False) -> bool:
        """Load CURRENT if it names another generation; True when it swapped.

        A generation that cannot be loaded leaves the last good one serving; ``strict`` raises instead.
        """
        with self._reload_lock:
            generation = current_generation(self.index_dir)
            if generation is None or generation == self._snapshot.generation:
                return False
            try:
                snapshot = load_snapshot(
                    self.settings, self.embedder, generation, self._finder, self._query_vectors, self._token_ids
                )
            except (KnowledgeError, OSError, ValueError, KeyError) as error:
                if strict:
                    raise
                if self._refused != generation:
                    log.error("keeping generation %s: %s cannot be served: %s", self.generation, generation, error)
                    self._refused = generation
                return False
            self._snapshot = snapshot  # one reference: a search in flight keeps the snapshot it started with
            log.info(
                "serving %s: %d documents, %d chunks", generation.name, len(snapshot.documents), len(snapshot.index)
            )
            return True

    def start(self, interval: float | None = None) -> None:
        """Poll CURRENT in a background thread (idempotent), so reloads stay off the request path."""
        if self._poller is not None:
            return
        seconds = interval if interval is not None else self.settings.index.reload_seconds
        self._poller = threading.Thread(target=self._poll, args=(seconds,), name="knowledge-reload", daemon=True)
        self._poller.start()

    def _poll(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            started = time.perf_counter()
            if self.refresh():
                log.info("reloaded in %.2f s", time.perf_counter() - started)

    def stop(self) -> None:
        """Stop the background poller."""
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=10)
            self._poller = None

    def close(self) -> None:
        self.stop()

    def pinned(self) -> KnowledgeReader:
        """A reader fixed to the generation served now: one unit of work sees one generation throughout."""
        return KnowledgeReader(self.settings, self.embedder, self._snapshot)

    # -- reads --------------------------------------------------------------------------------

    @property
    def index(self) -> HybridIndex:
        return self._snapshot.index

    def documents(self) -> Mapping[str, Document]:
        return self._snapshot.documents

    def duplicates(self) -> Mapping[str, Duplicate]:
        """Each republished copy's id → the copy that names its group (see knowledge.duplicates)."""
        return self._snapshot.duplicates

    def get(self, doc_id: str) -> Document:
        """The published document, or DocumentNotFound."""
        doc = self._snapshot.documents.get(doc_id)
        if doc is None:
            raise DocumentNotFound(doc_id)
        return doc

    def find(self, doc_id: str) -> Document | None:
        return self._snapshot.documents.get(doc_id)

    def interpretation_of(self, doc_id: str) -> Document | None:
        """The current interpretation (解读) published with a policy, if any."""
        found = [d for d in self._snapshot.interpretations.get(doc_id, ()) if not d.validity.is_retired]
        return found[0] if found else None

    def retriever(self) -> Retriever:
        """The retriever over the served generation."""
        return self._snapshot.retriever

    def search(self, question: str, top_k: int = 5, filters: Filters | None = None) -> list[Passage]:
        """The best passages for a question, with raw scores and citations."""
        return self._snapshot.retriever.search(question, top_k, filters)

    def answer(self, question: str, filters: Filters | None = None, top_k: int = 5) -> Answer:
        """An extractive answer with its citation, or an honest no-answer."""
        snapshot = self._snapshot
        retriever = snapshot.retriever
        passages = retriever.search(question, top_k, filters)
        # scored on the written form retrieval read ("失业金…阿" → "失业保险金…"), so confidence reflects it
        index = snapshot.index
        return extract_answer(
            retriever.rewrite(question),
            passages,
            index.idf,
            self.extraction,
            retriever.next_chunk,
            asked=question,  # its type in the citizen's words (knowledge.answer)
            chunks_of=lambda doc_id: [index.chunks[f] for f in index.doc_rows.get(doc_id, ())],
            covers=snapshot.coverage.covers,
        )
