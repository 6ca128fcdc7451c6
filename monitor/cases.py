"""Past cases for the hotline: imported messages that carry a department's reply, searchable by meaning.

The case base reads the vectors stored on import (never re-embeds a message); only the operator's text is
embedded, as a query, and searched with FAISS inner product over the normalised vectors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from knowledge.embedding import Embedder

from .messages import Message, MessageStore
from .replies import reply_department, reply_gist


@dataclass(frozen=True)
class PastCase:
    """A similar past message and how it was answered."""

    message_id: str
    title: str
    asked_at: datetime
    gist: str
    department: str
    replied_at: datetime | None
    score: float


class CaseBase:
    """FAISS over the stored vectors of messages with replies; build once, search many times."""

    def __init__(self, messages: list[Message], vectors: np.ndarray, embedder: Embedder) -> None:
        import faiss

        self.messages = messages
        self.embedder = embedder
        self.index = faiss.IndexFlatIP(vectors.shape[1] if len(vectors) else embedder.dim)
        if len(vectors):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    @classmethod
    def from_store(cls, store: MessageStore, embedder: Embedder) -> CaseBase:
        """The case base over every stored message that carries a reply."""
        messages, vectors = store.load(replied_only=True)
        return cls(messages, vectors, embedder)

    def __len__(self) -> int:
        return len(self.messages)

    def similar_cases(self, text: str, k: int = 3) -> list[PastCase]:
        """The k past cases closest to the text, best first, each with its reply's gist, department and date."""
        if not self.messages or not text.strip():
            return []
        query = self.embedder.embed_queries([text])
        scores, rows = self.index.search(np.ascontiguousarray(query, dtype=np.float32), min(k, len(self.messages)))
        cases = []
        for score, row in zip(scores[0].tolist(), rows[0].tolist(), strict=True):
            if row < 0:
                continue
            m = self.messages[row]
            cases.append(PastCase(
                message_id=m.external_id, title=m.title, asked_at=m.at, gist=reply_gist(m.reply or ""),
                department=reply_department(m.reply or ""), replied_at=m.reply_at, score=round(float(score), 4),
            ))
        return cases
