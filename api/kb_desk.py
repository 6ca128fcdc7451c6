"""The API's writing side of the knowledge base: the admin pages' reads and writes, one desk per process.

Reads (the document list, history, audit) come straight from the store, so a page never waits for the
writer. Writes go through one ``KnowledgeWriter`` opened on the first write, not at start: ``make run``
stays quick and a process whose staff never edit never loads a second model. The writer embeds on every
core (``load_embedder(model, 0)``); chat answers come from the readers, which never wait for it.

Writes are serialised twice: inside the process by the desk's lock (the writer's held index is not meant
for two threads), across processes by the writer's own file lock (``KnowledgeWriter._writing``), so
several API processes and the CLI can write the same knowledge base. Every write publishes a generation;
the readers of every process (the hotline desk here, the action servers) follow CURRENT within
``POLICY_INDEX__RELOAD_SECONDS``.

Every method blocks: routes call them through ``run_in_threadpool``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool

from knowledge.document import Document, Validity
from knowledge.embedding import load_embedder
from knowledge.settings import Settings
from knowledge.store import Change, DocumentStore, Version
from knowledge.writer import IngestReport, KnowledgeWriter, Progress

from .services import Services

__all__ = ["KnowledgeDesk", "KnowledgeDeskDep", "knowledge_desk", "lifespan"]

log = logging.getLogger(__name__)

CLOSE_WAIT_SECONDS = 60.0  # at shutdown, how long to let a write in flight finish before giving up on it


def open_writer(settings: Settings) -> KnowledgeWriter:
    """A writer with its own store connection and an embedder on every core (the model loads on first use)."""
    return KnowledgeWriter(settings, DocumentStore.open(settings.store.url), load_embedder(settings.index.model, 0))


class KnowledgeDesk:
    """What the admin pages do to the knowledge base: read the store, write through one lazily opened writer."""

    def __init__(
        self, settings: Settings, store: DocumentStore, writer_factory: Callable[[], KnowledgeWriter] | None = None
    ) -> None:
        self.settings = settings
        self.store = store  # the API's shared store (api/services.py): reads only
        self._open_writer = writer_factory or (lambda: open_writer(settings))
        self._writer: KnowledgeWriter | None = None
        self._lock = threading.Lock()  # one write at a time in this process; the writer's file lock does the rest
        self._closed = False

    @property
    def writer_open(self) -> bool:
        """Whether a write has opened the writer yet (the model loads with it)."""
        return self._writer is not None

    def _require_writer(self) -> KnowledgeWriter:
        """The writer, opened on first use; called with the lock held."""
        if self._closed:
            raise RuntimeError("the knowledge desk is closed")
        if self._writer is None:
            self._writer = self._open_writer()
            log.info("knowledge writer open for %s", self.settings.index.dir)
        return self._writer

    # -- reads: the store as it is now --------------------------------------------------------------

    def documents(self) -> Mapping[str, Document]:
        """Every current document by id (ordered by id), as the store holds it now."""
        return {doc.id: doc for doc in self.store.all()}

    def get(self, doc_id: str) -> Document:
        """The current document, or DocumentNotFound (404)."""
        return self.store.get(doc_id)

    def history(self, doc_id: str) -> list[Version]:
        """Every version of a document, oldest first (deleted and retired ones too); DocumentNotFound if none."""
        return self.store.history(doc_id)

    def audit(self, limit: int = 50) -> list[Version]:
        """The latest changes to any document, newest first."""
        return self.store.audit(limit=limit)

    # -- writes: one at a time, each published before it returns ------------------------------------

    def upsert(self, doc: Document, note: str, actor: str) -> Change:
        """Add or replace one document as ``actor``; answerable from the generation published before return."""
        with self._lock:
            return self._require_writer().upsert(doc, note=note, actor=actor)

    def retire(self, doc_id: str, validity: Validity, replaced_by: str, note: str, actor: str) -> Change:
        """Relabel a document 已废止 / 失效 / 已修改 (naming its successor, which must exist) as ``actor``."""
        with self._lock:
            return self._require_writer().retire(doc_id, validity, replaced_by, note, actor=actor)

    def ingest(self, paths: list[Path], actor: str, progress: Progress | None = None) -> IngestReport:
        """Parse and store files as ``actor``, publishing as the ingest goes; a bad file is reported, not fatal.

        ``progress(done, total, stage)`` is called from this thread: ``parsed`` per file, ``indexed`` per
        document embedded in the last batch.
        """
        with self._lock:
            return self._require_writer().ingest(paths, progress, actor=actor)

    def close(self, wait: float = CLOSE_WAIT_SECONDS) -> None:
        """Close the writer once a write in flight has finished (waiting at most ``wait`` seconds)."""
        if not self._lock.acquire(timeout=wait):
            log.warning("a knowledge write is still running after %.0f s; leaving it to finish", wait)
            return
        try:
            self._closed = True
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        finally:
            self._lock.release()


@asynccontextmanager
async def lifespan(app: FastAPI, services: Services) -> AsyncIterator[None]:
    """The desk for the app's lifetime (nothing opens until the first write); closed after the last one."""
    desk = KnowledgeDesk(services.settings, services.store)
    app.state.kb_desk = desk
    try:
        yield
    finally:
        await run_in_threadpool(desk.close)


def knowledge_desk(request: Request) -> KnowledgeDesk:
    """The process's desk (``app.state.kb_desk``, set by :func:`lifespan`)."""
    return request.app.state.kb_desk  # type: ignore[no-any-return]


KnowledgeDeskDep = Annotated[KnowledgeDesk, Depends(knowledge_desk)]
