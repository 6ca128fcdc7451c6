"""One process that both writes and reads (scripts, benchmarks, tests): a writer and a reader that follows it.

Servers never use this: action servers and the API hold a ``KnowledgeReader``, the CLI and the admin
pages a ``KnowledgeWriter``. Here every write publishes a generation and the reader loads it at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .document import Document, Validity
from .embedding import Embedder, load_embedder
from .reader import KnowledgeReader
from .settings import Settings
from .store import Change, DocumentStore, Version
from .writer import IngestReport, KnowledgeWriter, Progress, expand_paths

__all__ = ["IngestReport", "KnowledgeBase", "Progress", "expand_paths"]


class KnowledgeBase(KnowledgeReader):
    """A reader whose own writes are answerable as soon as they return."""

    def __init__(self, settings: Settings, writer: KnowledgeWriter) -> None:
        super().__init__(settings, writer.embedder)
        self.writer = writer

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None, load_index: bool = True) -> KnowledgeBase:  # type: ignore[override]
        """Open the store, bring the published index up to date with it, and read it.

        ``load_index=False`` leaves the persisted index alone: what ``reindex`` needs after a model change,
        when the old index would be refused.
        """
        writer = KnowledgeWriter(
            settings, DocumentStore.open(settings.store.url), embedder or load_embedder(settings.index.model)
        )
        kb = cls(settings, writer)
        if load_index:
            writer.sync()
            kb.refresh(strict=True)
        return kb

    @property
    def store(self) -> DocumentStore:
        return self.writer.store

    def close(self) -> None:
        super().close()
        self.writer.close()

    def ingest(self, paths: Iterable[Path], progress: Progress | None = None) -> IngestReport:
        """Ingest files (see KnowledgeWriter.ingest) and serve the result."""
        report = self.writer.ingest(paths, progress)
        self.refresh(strict=True)
        return report

    def upsert(self, doc: Document, note: str = "") -> Change:
        change = self.writer.upsert(doc, note)
        self.refresh(strict=True)
        return change

    def retire(self, doc_id: str, validity: Validity, replaced_by: str = "", note: str = "") -> Change:
        change = self.writer.retire(doc_id, validity, replaced_by, note)
        self.refresh(strict=True)
        return change

    def delete(self, doc_id: str, note: str = "") -> Change:
        change = self.writer.delete(doc_id, note)
        self.refresh(strict=True)
        return change

    def reindex(self, progress: Progress | None = None) -> int:
        count = self.writer.reindex(progress)
        self.refresh(strict=True)
        return count

    def history(self, doc_id: str) -> list[Version]:
        return self.writer.history(doc_id)
