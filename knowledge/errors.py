"""One small exception hierarchy for the knowledge base; each error carries a stable code."""

from __future__ import annotations


class KnowledgeError(Exception):
    """Base class: ``code`` is machine-readable, the message is for people."""

    code = "knowledge_error"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class IngestError(KnowledgeError):
    """A file could not be turned into documents; the batch goes on without it."""

    code = "ingest_error"
    status = 422

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class DocumentNotFound(KnowledgeError):
    code = "document_not_found"
    status = 404

    def __init__(self, doc_id: str) -> None:
        super().__init__(f"no document with id {doc_id!r}")
        self.doc_id = doc_id


class IndexMismatch(KnowledgeError):
    """The persisted index was built for another model or disagrees with its manifest."""

    code = "index_mismatch"
    status = 500


class InvalidQuery(KnowledgeError):
    code = "invalid_query"
    status = 400
