"""The writing side of the knowledge base: the only thing that embeds, one writer at a time.

Every write takes the cross-process lock, re-reads CURRENT (another writer may have published since),
catches up with store writes no generation reflects yet (an ingest killed mid-way), applies its change
to the store and publishes a new self-contained generation for the readers. A long ingest publishes
per batch, so its first documents are answerable while the rest are still being embedded.
"""

from __future__ import annotations

import fcntl
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .chunking import chunk_document
from .document import Document, Validity
from .duplicates import Duplicate, DuplicateFinder
from .embedding import Embedder, load_embedder
from .errors import IngestError
from .index import HybridIndex, current_generation, read_documents, read_manifest
from .parsers import SUPPORTED_SUFFIXES, parse_file
from .settings import Settings
from .store import SYSTEM_ACTOR, Change, DocumentStore, Version
from .text import tokenize

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
LOCK_FILE = ".lock"
PUBLISH_SHARE = 4.0  # embed at least this many times as long as the last publish took before the next one


@dataclass
class IngestReport:
    """What an ingest did, file by file: documents written, unchanged, and every problem with its reason."""

    changes: list[Change] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)  # written, but republished copies of another document
    generations: list[Path] = field(default_factory=list)  # published as the ingest went, oldest first

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


class KnowledgeWriter:
    """Writes documents to the store and publishes index generations that agree with it."""

    def __init__(self, settings: Settings, store: DocumentStore, embedder: Embedder) -> None:
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.index_dir = settings.index.dir
        self._index: HybridIndex | None = None
        self._docs: dict[str, Document] = {}
        self._generation: Path | None = None
        self._revision = -1  # store revision the held index and documents reflect
        self._finder = DuplicateFinder(settings.retrieval.duplicate_threshold)
        self._dirty = False  # documents written during an ingest that no generation carries yet
        self._published_at = -math.inf  # monotonic time the last publish ended (none yet: monotonic starts at boot)
        self._publish_seconds = 0.0

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> KnowledgeWriter:
        """Open the store; the index is read when the first write takes the lock."""
        return cls(settings, DocumentStore.open(settings.store.url), embedder or load_embedder(settings.index.model))

    def close(self) -> None:
        self.store.close()

    @property
    def generation(self) -> Path | None:
        """The generation this writer last read or published."""
        return self._generation

    # -- the lock and catching up ---------------------------------------------------------------

    @contextmanager
    def _writing(self, load_current: bool = True) -> Iterator[None]:
        """One writer at a time across processes; inside, the held index is CURRENT and agrees with the store."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with open(self.index_dir / LOCK_FILE, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if load_current:
                    self._read_current()
                    if self.store.revision() != self._revision or not self._agrees():
                        self._reconcile()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read_current(self) -> None:
        """Take up whatever CURRENT names now: another writer may have published since our last write."""
        generation = current_generation(self.index_dir)
        if generation is not None and generation == self._generation and self._index is not None:
            return
        if generation is None:
            self._index, self._docs, self._revision = HybridIndex(self.settings.index.model, self.embedder.dim), {}, -1
        else:
            # a generation written before generations carried documents is upgraded from the store below
            model = self.settings.index.model
            self._index = HybridIndex.load(self.index_dir, model, generation, require_documents=False)
            docs = read_documents(generation)
            self._docs = docs if docs is not None else {}
            self._revision = read_manifest(generation).revision if docs is not None else -1
        self._generation = generation

    def _agrees(self) -> bool:
        """Whether every held document is embedded as it is (a crash between publishes can leave gaps)."""
        hashes = self._require_index().doc_hashes
        return len(hashes) == len(self._docs) and all(hashes.get(i) == d.content_hash for i, d in self._docs.items())

    def _reconcile(self, progress: Progress | None = None) -> None:
        """Index what the store has and the index lacks (or has stale), drop what it no longer has, publish."""
        index = self._require_index()
        revision = self.store.revision()
        docs = {doc.id: doc for doc in self.store.all()}
        stale = [d for d in docs.values() if index.doc_hashes.get(d.id) != d.content_hash]
        gone = [i for i in index.doc_hashes if i not in docs]
        log.info("catching up with the store: %d documents to (re)index, %d to drop", len(stale), len(gone))
        for doc_id in gone:
            index.remove_document(doc_id)
        self._docs = docs
        self._embed(stale, progress, publish=False)
        self._publish(revision)

    def sync(self) -> Path | None:
        """Bring the published index up to date with the store (after a crash, or edits made elsewhere)."""
        with self._writing():
            pass
        return self._generation

    # -- embedding and publishing ------------------------------------------------------------

    def _require_index(self) -> HybridIndex:
        if self._index is None:
            raise RuntimeError("the index is only touched under the writer lock")
        return self._index

    def _embed(self, docs: list[Document], progress: Progress | None, publish: bool, last: bool = True) -> list[Path]:
        """Embed documents in batches of about ``publish_chars`` characters, publishing after each when asked
        (and when publishing has not taken more than a fifth of the time since the last one); ``last``:
        these are an ingest's last documents, published whatever the time."""
        published: list[Path] = []
        batch: list[Document] = []
        for number, doc in enumerate(docs, 1):
            batch.append(doc)
            if sum(len(d.body) for d in batch) >= self.settings.index.publish_chars or number == len(docs):
                self._embed_batch(batch)
                batch = []
                if publish and ((last and number == len(docs)) or self._publishing_is_cheap()):
                    published.append(self._publish(self.store.revision()))
                if progress:
                    progress(number, len(docs), "indexed")
        return published

    def _publishing_is_cheap(self) -> bool:
        """Publish at most a fifth of the time (a large index takes a while to write) and at most once per
        ``publish_interval_s``: every generation is loaded again by every reader process, on the CPU that answers
        citizens (bench/load.py: publishing each ~10,000 characters doubled p95 during a 300-FAQ ingest)."""
        since = time.monotonic() - self._published_at
        return since >= PUBLISH_SHARE * self._publish_seconds and since >= self.settings.index.publish_interval_s

    def _embed_batch(self, docs: list[Document]) -> None:
        started = time.monotonic()
        self._embed_now(docs)
        duty = self.settings.index.embed_duty
        if duty < 1.0:
            # leave the cores to the processes answering citizens for the rest of the time (bench/README.md:
            # neither nice nor fewer publishes kept p95 down during an ingest on a 2-core machine)
            time.sleep((time.monotonic() - started) * (1.0 / duty - 1.0))

    def _embed_now(self, docs: list[Document]) -> None:
        index = self._require_index()
        chunked = [(doc, chunk_document(doc, self.settings.index.chunk_chars)) for doc in docs]
        texts = [c.indexed_text for _, chunks in chunked for c in chunks]
        batch_size = self.settings.index.batch_size
        vectors = self.embedder.embed_passages(texts, batch_size) if texts else np.zeros((0, index.dim))
        start = 0
        for doc, chunks in chunked:
            tokens = [tokenize(c.indexed_text) for c in chunks]
            index.put_document(doc.id, doc.content_hash, chunks, tokens, vectors[start : start + len(chunks)])
            start += len(chunks)

    def _publish(self, revision: int) -> Path:
        """Write a generation of the held index and documents; readers pick it up from CURRENT."""
        started = time.monotonic()
        self._generation = self._require_index().save(self.index_dir, self._docs, revision)
        self._revision, self._dirty = revision, False
        self._published_at = time.monotonic()
        self._publish_seconds = self._published_at - started
        return self._generation

    # -- writes -------------------------------------------------------------------------------

    def ingest(
        self, paths: Iterable[Path], progress: Progress | None = None, actor: str = SYSTEM_ACTOR
    ) -> IngestReport:
        """Parse files into documents, store them (each version recorded as ``actor``'s), and publish a generation
        per batch of about ``publish_chars`` characters of new text, so early documents are answerable before
        the end."""
        report = IngestReport()
        files = expand_paths(paths)
        with self._writing():
            index = self._require_index()
            self._published_at = -math.inf  # an ingest's first batch is published at once, later ones at intervals
            pending: list[Document] = []
            for number, path in enumerate(files, 1):
                try:
                    parsed = parse_file(path)
                except IngestError as error:
                    report.errors.append(error)
                    continue
                report.problems.extend(f"{path}: {problem}" for problem in parsed.problems)
                for doc in parsed.documents:
                    change = self.store.upsert(doc, note=f"导入 {path.name}", actor=actor)
                    report.changes.append(change)
                    if change.action == "unchanged":
                        continue
                    self._docs[doc.id], self._dirty = doc, True
                    if index.doc_hashes.get(doc.id) != doc.content_hash:
                        pending.append(doc)
                    if sum(len(d.body) for d in pending) >= self.settings.index.publish_chars:
                        report.generations += self._embed(pending, None, publish=True, last=False)
                        pending = []
                if progress:
                    progress(number, len(files), "parsed")
            if pending:
                report.generations += self._embed(pending, progress, publish=True)
            elif self._dirty:
                report.generations.append(self._publish(self.store.revision()))
        report.duplicates = self._duplicate_notes(report.changes)
        return report

    def _duplicate_notes(self, changes: list[Change]) -> list[str]:
        written = {c.doc_id for c in changes if c.action != "unchanged"}
        notes = []
        for doc_id, duplicate in self.duplicates().items():
            if doc_id in written or duplicate.canonical_id in written:
                twin = f"与 {duplicate.canonical_id} 内容重复（相似度 {duplicate.similarity:.2f}）"
                notes.append(f"{doc_id}：{twin}，检索结果中只显示一份")
        return notes

    def upsert(self, doc: Document, note: str = "", actor: str = SYSTEM_ACTOR) -> Change:
        """Add or replace one document; a generation with it is published before this returns."""
        with self._writing():
            change = self.store.upsert(doc, note=note, actor=actor)
            if change.action != "unchanged":
                self._apply(doc)
        return change

    def retire(
        self, doc_id: str, validity: Validity, replaced_by: str = "", note: str = "", actor: str = SYSTEM_ACTOR
    ) -> Change:
        """Relabel a document 已废止 / 失效 / 已修改; retired ones leave default results."""
        with self._writing():
            change = self.store.retire(doc_id, validity, replaced_by, note, actor=actor)
            if change.action != "unchanged":
                self._apply(self.store.get(doc_id))
        return change

    def delete(self, doc_id: str, note: str = "", actor: str = SYSTEM_ACTOR) -> Change:
        """Remove a document from the store and the published index; its history stays."""
        with self._writing():
            change = self.store.delete(doc_id, note, actor=actor)
            self._require_index().remove_document(doc_id)
            self._docs.pop(doc_id, None)
            self._publish(self.store.revision())
        return change

    def _apply(self, doc: Document) -> None:
        self._docs[doc.id] = doc
        if self._require_index().doc_hashes.get(doc.id) != doc.content_hash:
            self._embed_batch([doc])
        self._publish(self.store.revision())

    def reindex(self, progress: Progress | None = None) -> int:
        """Rebuild the whole index from the store (after a model change); returns the chunk count.

        Published once, at the end: readers keep the complete old index until the new one is whole.
        """
        with self._writing(load_current=False):
            self._index = HybridIndex(self.settings.index.model, self.embedder.dim)
            revision = self.store.revision()
            self._docs = {doc.id: doc for doc in self.store.all()}
            self._embed(list(self._docs.values()), progress, publish=False)
            self._publish(revision)
            return len(self._index)

    # -- what a writer can tell ---------------------------------------------------------------

    def documents(self) -> Mapping[str, Document]:
        """The documents of the last generation read or published."""
        return self._docs

    def duplicates(self) -> Mapping[str, Duplicate]:
        """Each republished copy's id → the copy that names its group, over the writer's documents."""
        if self.settings.retrieval.duplicate_threshold >= 1.0:
            return {}
        return self._finder.find(self._docs)

    def get(self, doc_id: str) -> Document:
        """The document as the store holds it now, or DocumentNotFound."""
        return self.store.get(doc_id)

    def history(self, doc_id: str) -> list[Version]:
        return self.store.history(doc_id)
