"""Which department answers for a document or an answer: the one a citizen is told to call."""

from __future__ import annotations

from collections.abc import Mapping

from .clarify import label, naming_words
from .document import Answer, Document

CLOSEST_PASSAGES = 3


def responsible_department(doc: Document) -> str:
    """The department in charge of a document: the one it names as responsible, else its 发文机关."""
    return doc.department or doc.issuer


def department_of(documents: Mapping[str, Document], doc_id: str) -> str:
    """The department in charge of the document ``doc_id``; empty for an unknown (or empty) id."""
    doc = documents.get(doc_id) if doc_id else None
    return responsible_department(doc) if doc is not None else ""


def closest_department(documents: Mapping[str, Document], answer: Answer | None) -> str:
    """The department of the best-ranked document whose title or tags share a word with the question;
    a document that is merely the least unrelated one names no department worth calling."""
    if answer is None:
        return ""
    for passage in answer.passages[:CLOSEST_PASSAGES]:
        doc = documents.get(passage.doc_id)
        if doc is not None and naming_words(answer.question, [label(doc)]):
            return responsible_department(doc)
    return ""
