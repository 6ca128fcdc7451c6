"""The knowledge base as a server sees it: a reader opened lazily once per process, reloading in the background."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from .errors import KnowledgeError
from .reader import WARM_UP_QUERY, KnowledgeReader

log = logging.getLogger(__name__)

T = TypeVar("T")


class KnowledgeProvider:
    """Opens the reader (model + index) on first use, then lets it follow published generations by itself."""

    def __init__(self, open_reader: Callable[[], KnowledgeReader]) -> None:
        self._open = open_reader
        self._reader: KnowledgeReader | None = None
        self._opening = threading.Lock()  # only the first use waits on it; reads never do

    def _ready(self) -> KnowledgeReader:
        reader = self._reader
        if reader is not None:
            return reader
        with self._opening:
            if self._reader is None:
                started = time.perf_counter()
                opened = self._open()
                opened.start()  # reloads happen on its own thread, never on a request
                log.info(
                    "knowledge base open in %.1f s: %d documents",
                    time.perf_counter() - started,
                    len(opened.documents()),
                )
                self._reader = opened
            return self._reader

    def current(self) -> KnowledgeReader:
        """The reader pinned to the generation served now (opening it on first use)."""
        return self._ready().pinned()

    async def run(self, work: Callable[[KnowledgeReader], T]) -> T:
        """Run ``work`` on one generation in a worker thread, keeping the event loop free."""
        return await asyncio.to_thread(lambda: work(self.current()))

    def peek(self) -> KnowledgeReader | None:
        """The reader if it is already open, without opening it (for actions that must never wait)."""
        reader = self._reader
        return reader.pinned() if reader is not None else None

    def warm_up(self) -> None:
        """Open the reader and run one search (called in a background thread at server start):
        the embedding model loads on first use, which a citizen should not wait for."""
        started = time.perf_counter()
        try:
            self.current().search(WARM_UP_QUERY, 1)
            log.info("knowledge base warmed up in %.1f s", time.perf_counter() - started)
        except KnowledgeError as error:
            log.error("knowledge base could not be opened: %s", error)

    def close(self) -> None:
        """Stop the reader's background reloads."""
        if self._reader is not None:
            self._reader.stop()
