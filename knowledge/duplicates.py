"""Near-duplicate documents: the same notice republished by several outlets, found by shingle overlap.

Counties and news portals republish one notice many times; a knowledge base that holds every copy
shows a citizen the same text five times and splits its retrieval score across copies. Two documents
are duplicates when the Jaccard overlap of their 8-character shingles (lower-cased, spaces removed)
reaches ``THRESHOLD``, they have the same kind and validity, and neither replaces the other
(an amendment is close to the text it amends and must stay apart). Candidates come from a bottom-k
sketch (the ``SKETCH`` smallest shingle hashes of each document), so finding them is linear in the
number of documents; every candidate pair is then checked on the exact shingle sets.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from .document import Document

SHINGLE = 8
THRESHOLD = 0.9
SKETCH = 32
MIN_SHARED = 8  # sketch values two documents must share to be compared at all


def shingles(text: str, size: int = SHINGLE) -> frozenset[int]:
    """Hashes of the text's ``size``-character shingles, lower-cased with whitespace removed.

    Python's string hash: fast, and stable within a process, which is all a signature needs (they
    are never stored).
    """
    flat = "".join(text.lower().split())
    if len(flat) <= size:
        return frozenset({hash(flat)}) if flat else frozenset()
    return frozenset(hash(flat[i : i + size]) for i in range(len(flat) - size + 1))


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class Duplicate:
    """A document found to repeat another one, with how similar the two are."""

    doc_id: str
    canonical_id: str
    similarity: float


def canonical(doc_id: str, duplicates: Mapping[str, Duplicate]) -> str:
    """The id that names a document's group: its own, unless it is a republished copy."""
    twin = duplicates.get(doc_id)
    return twin.canonical_id if twin else doc_id


def _may_merge(a: Document, b: Document) -> bool:
    return (
        a.kind is b.kind
        and a.validity is b.validity
        and a.replaced_by != b.id
        and b.replaced_by != a.id
        and a.interprets != b.id
        and b.interprets != a.id
    )


def _order(doc: Document) -> tuple[str, str]:
    """Which copy names the group: the earliest dated, then the smallest id (deterministic)."""
    when = doc.published_date or doc.written_date
    return (when.isoformat() if when else "9999", doc.id)


class DuplicateFinder:
    """Groups of near-identical documents, kept up to date as documents change.

    Shingle sets are cached per (id, content hash), so after an edit only the changed documents
    are read again; callers keep the result for as long as their documents do not change.
    """

    def __init__(self, threshold: float = THRESHOLD) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be within (0, 1]")
        self.threshold = threshold
        self._shingles: dict[tuple[str, str], frozenset[int]] = {}

    def _signature(self, doc: Document) -> frozenset[int]:
        key = (doc.id, doc.content_hash)
        if key not in self._shingles:
            self._shingles[key] = shingles(doc.body)
        return self._shingles[key]

    def find(self, documents: Mapping[str, Document]) -> Mapping[str, Duplicate]:
        """Each duplicate document's id → its group's canonical copy; documents without a twin are absent."""
        live = {(d.id, d.content_hash) for d in documents.values()}
        self._shingles = {k: v for k, v in self._shingles.items() if k in live}
        signatures = {doc_id: self._signature(doc) for doc_id, doc in documents.items()}
        buckets: dict[int, list[str]] = defaultdict(list)
        for doc_id, sig in signatures.items():
            for value in sorted(sig)[:SKETCH]:
                buckets[value].append(doc_id)
        shared: dict[tuple[str, str], int] = defaultdict(int)
        for members in buckets.values():
            if len(members) > 1:
                members.sort()
                for i, a in enumerate(members):
                    for b in members[i + 1 :]:
                        shared[(a, b)] += 1
        parent = {doc_id: doc_id for doc_id in documents}
        similarity: dict[str, float] = {}

        def root(doc_id: str) -> str:
            while parent[doc_id] != doc_id:
                parent[doc_id] = parent[parent[doc_id]]
                doc_id = parent[doc_id]
            return doc_id

        for (a, b), count in shared.items():
            small = min(len(signatures[a]), len(signatures[b]), SKETCH)
            if count < min(MIN_SHARED, small) or not _may_merge(documents[a], documents[b]):
                continue
            score = jaccard(signatures[a], signatures[b])
            if score >= self.threshold:
                ra, rb = root(a), root(b)
                if ra != rb:
                    first, second = sorted((ra, rb), key=lambda i: _order(documents[i]))
                    parent[second] = first
                similarity[a] = max(similarity.get(a, 0.0), score)
                similarity[b] = max(similarity.get(b, 0.0), score)
        return {
            doc_id: Duplicate(doc_id, root(doc_id), round(similarity[doc_id], 4))
            for doc_id in documents
            if root(doc_id) != doc_id
        }
