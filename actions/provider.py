"""The knowledge base as the actions see it: opened lazily once per process, refreshed before each use."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from knowledge.base import KnowledgeBase
from knowledge.errors import KnowledgeError

log = logging.getLogger(__name__)

T = TypeVar("T")
WARM_UP_QUERY = "创业担保贷款"


class KnowledgeProvider:
    """Opens the knowledge base (model + index) on first use; later uses pick up knowledge-manager edits."""

    def __init__(self, open_knowledge_base: Callable[[], KnowledgeBase]) -> None:
        self._open = open_knowledge_base
        self._kb: KnowledgeBase | None = None
        # one user of the knowledge base at a time: refresh() may swap the index under a search
        self._lock = threading.Lock()

    def _ready(self) -> KnowledgeBase:
        if self._kb is None:
            started = time.perf_counter()
            self._kb = self._open()
            log.info(
                "knowledge base open in %.1f s: %d documents", time.perf_counter() - started, len(self._kb.documents())
            )
        else:
            self._kb.refresh()
        return self._kb

    def _locked(self, work: Callable[[KnowledgeBase], T]) -> T:
        with self._lock:
            return work(self._ready())

    async def run(self, work: Callable[[KnowledgeBase], T]) -> T:
        """Run ``work`` on the up-to-date knowledge base in a worker thread, keeping the event loop free."""
        return await asyncio.to_thread(self._locked, work)

    def peek(self) -> KnowledgeBase | None:
        """The knowledge base if it is already open, without opening it (for actions that must never wait)."""
        return self._kb

    def warm_up(self) -> None:
        """Open the knowledge base and run one search (called in a background thread at server start):
        the embedding model and the BM25 structures load on first use, which a citizen should not wait for."""
        started = time.perf_counter()
        try:
            self._locked(lambda kb: kb.search(WARM_UP_QUERY, 1))
            log.info("knowledge base warmed up in %.1f s", time.perf_counter() - started)
        except KnowledgeError as error:
            log.error("knowledge base could not be opened: %s", error)
