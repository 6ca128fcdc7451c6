"""The knowledge base: one store and one index kept in agreement, with search and answers on top."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .answer import ExtractionSettings, extract_answer
from .chunking import chunk_document
from .document import Answer, Document, Passage, Validity
from .duplicates import Duplicate, DuplicateFinder
from .embedding import Embedder, load_embedder
from .errors import IngestError
from .index import HybridIndex, current_generation
from .parsers import SUPPORTED_SUFFIXES, parse_file
from .retrieval import Filters, Retriever
from .settings import Settings
from .store import Change, DocumentStore, Version
from .text import tokenize

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]


@dataclass
class IngestReport:
    """What an ingest did, file by file: documents written, unchanged, and every problem with its reason."""

    changes: list[Change] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # written, but republished copies of another document

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files named directly, plus supported files found under named folders (sorted, README excluded)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = (p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
            files.extend(p for p in found if p.name.lower() != "readme.md")
        else:
            files.append(path)
    return files


class KnowledgeBase:
    """Documents in a store, chunks in a hybrid index; every write updates both, then persists the index."""

    def __init__(self, settings: Settings, store: DocumentStore, embedder: Embedder) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.index_dir = settings.index.dir
        self._index: HybridIndex | None = None
        self._generation: Path | None = None
        self._docs: dict[str, Document] = {}
        self._revision = -1
        self._retriever: Retriever | None = None
        self._duplicates = DuplicateFinder(settings.retrieval.duplicate_threshold)
        self._duplicates_of: tuple[dict[str, Document], Mapping[str, Duplicate]] | None = None
        self.extraction = ExtractionSettings(threshold=settings.retrieval.answer_threshold)

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None, load_index: bool = True) -> KnowledgeBase:
        """Open the store and the last good index, bringing the index up to date with the store.

        ``load_index=False`` leaves the persisted index alone: what ``reindex`` needs after a model change,
        when the old index would be refused.
        """
        store = DocumentStore.open(settings.store.url)
        kb = cls(settings, store, embedder or load_embedder(settings.index.model))
        if load_index:
            kb.refresh()
        return kb

    def close(self) -> None:
        self.store.close()

    # -- index lifecycle ----------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer at a time across processes (API, action server, CLI)."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with open(self.index_dir / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @property
    def index(self) -> HybridIndex:
        if self._index is None:
            self.refresh()
        assert self._index is not None
        return self._index

    def refresh(self) -> None:
        """Reload when another process wrote a newer index, and reconcile the index with the store."""
        generation = current_generation(self.index_dir)
        if self._index is None or generation != self._generation:
            self._revision = -1
            if generation is None:
                self._index = HybridIndex(self.settings.index.model, self.embedder.dim)
            else:
                self._index = HybridIndex.load(self.index_dir, self.settings.index.model)
            self._generation = generation
        revision = self.store.revision()
        if revision == self._revision:
            return
        self._docs = {doc.id: doc for doc in self.store.all()}
        self._revision = revision
        if self._index.doc_hashes != self.store.hashes():
            with self._writing():
                self._reconcile()

    def _reconcile(self, progress: Progress | None = None) -> None:
        """Index what the store has and the index lacks (or has stale); drop what the store no longer has."""
        assert self._index is not None
        self._revision = self.store.revision()
        wanted = self.store.hashes()
        self._docs = {doc.id: doc for doc in self.store.all()}
        stale = [i for i, h in wanted.items() if self._index.doc_hashes.get(i) != h]
        gone = [i for i in self._index.doc_hashes if i not in wanted]
        if not stale and not gone:
            return
        log.info("index update: %d documents to (re)index, %d to drop", len(stale), len(gone))
        for doc_id in gone:
            self._index.remove_document(doc_id)
        self._embed_documents([self._docs[i] for i in stale], progress)
        self._generation = self._index.save(self.index_dir)

    def _embed_documents(self, docs: list[Document], progress: Progress | None) -> None:
        assert self._index is not None
        batch: list[Document] = []
        done = 0
        for doc in docs:
            batch.append(doc)
            if sum(len(d.body) for d in batch) > 30_000 or doc is docs[-1]:
                self._embed_batch(batch)
                done += len(batch)
                batch = []
                if progress:
                    progress(done, len(docs), "indexed")

    def _embed_batch(self, docs: list[Document]) -> None:
        assert self._index is not None
        chunked = [(doc, chunk_document(doc, self.settings.index.chunk_chars)) for doc in docs]
        texts = [c.indexed_text for _, chunks in chunked for c in chunks]
        vectors = self.embedder.embed_passages(texts, self.settings.index.batch_size) if texts else np.zeros((0, self._index.dim))
        start = 0
        for doc, chunks in chunked:
            tokens = [tokenize(c.indexed_text) for c in chunks]
            self._index.put_document(doc.id, doc.content_hash, chunks, tokens, vectors[start : start + len(chunks)])
            start += len(chunks)

    def reindex(self, progress: Progress | None = None) -> int:
        """Rebuild the whole index from the store (after a model change); returns the chunk count."""
        with self._writing():
            self._index = HybridIndex(self.settings.index.model, self.embedder.dim)
            self._reconcile(progress)
            if not self._docs:
                self._generation = self._index.save(self.index_dir)
        return len(self._index)

    # -- writes -------------------------------------------------------------------------------

    def ingest(self, paths: Iterable[Path], progress: Progress | None = None) -> IngestReport:
        """Parse files into documents, store them, and update the index once for the whole batch."""
        report = IngestReport()
        files = expand_paths(paths)
        with self._writing():
            for number, path in enumerate(files, 1):
                try:
                    parsed = parse_file(path)
                except IngestError as error:
                    report.errors.append(error)
                    continue
                report.problems.extend(f"{path}: {problem}" for problem in parsed.problems)
                report.changes.extend(self.store.upsert(doc, note=f"导入 {path.name}") for doc in parsed.documents)
                if progress:
                    progress(number, len(files), "parsed")
            self._reconcile(progress)
        written = {c.doc_id for c in report.changes if c.action != "unchanged"}
        for doc_id, duplicate in self.duplicates().items():
            if doc_id in written or duplicate.canonical_id in written:
                twin = f"与 {duplicate.canonical_id} 内容重复（相似度 {duplicate.similarity:.2f}）"
                report.duplicates.append(f"{doc_id}：{twin}，检索结果中只显示一份")
        return report

    def upsert(self, doc: Document, note: str = "") -> Change:
        """Add or replace one document; the index follows before this returns."""
        with self._writing():
            change = self.store.upsert(doc, note=note)
            self._reconcile()
        return change

    def retire(self, doc_id: str, validity: Validity, replaced_by: str = "", note: str = "") -> Change:
        """Relabel a document 已废止 / 失效 / 已修改; retired ones leave default results."""
        with self._writing():
            change = self.store.retire(doc_id, validity, replaced_by, note)
            self._reconcile()
        return change

    def delete(self, doc_id: str, note: str = "") -> Change:
        with self._writing():
            change = self.store.delete(doc_id, note)
            self._reconcile()
        return change

    # -- reads --------------------------------------------------------------------------------

    def documents(self) -> Mapping[str, Document]:
        return self._docs

    def duplicates(self) -> Mapping[str, Duplicate]:
        """Each republished copy's id → the copy that names its group (see knowledge.duplicates)."""
        if self.settings.retrieval.duplicate_threshold >= 1.0:
            return {}
        docs = self._docs
        if self._duplicates_of is None or self._duplicates_of[0] is not docs:
            self._duplicates_of = (docs, self._duplicates.find(docs))
        return self._duplicates_of[1]

    def get(self, doc_id: str) -> Document:
        return self.store.get(doc_id)

    def history(self, doc_id: str) -> list[Version]:
        return self.store.history(doc_id)

    def interpretation_of(self, doc_id: str) -> Document | None:
        """The current interpretation (解读) published with a policy, if any."""
        found = [d for d in self.store.interpretations_of(doc_id) if not d.validity.is_retired]
        return found[0] if found else None

    def retriever(self) -> Retriever:
        """The retriever over the current index (rebuilt only when the index object changes)."""
        index = self.index
        if self._retriever is None or self._retriever.index is not index:
            self._retriever = Retriever.from_settings(
                index, self.embedder, self.documents, self.settings.retrieval, self.duplicates
            )
        return self._retriever

    def search(self, question: str, top_k: int = 5, filters: Filters | None = None) -> list[Passage]:
        """The best passages for a question, with raw scores and citations."""
        return self.retriever().search(question, top_k, filters)

    def answer(self, question: str, filters: Filters | None = None, top_k: int = 5) -> Answer:
        """An extractive answer with its citation, or an honest no-answer."""
        retriever = self.retriever()
        passages = retriever.search(question, top_k, filters)
        return extract_answer(question, passages, self.index.idf, self.extraction, retriever.next_chunk)
