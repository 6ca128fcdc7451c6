"""Documents and their full change history in SQLite (WAL) or PostgreSQL, via SQLAlchemy Core."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
    update,
)

from .db import open_engine
from .document import Document, Validity, document_from_record, document_record, parse_kind, parse_validity
from .errors import DocumentNotFound, KnowledgeError
from .migrations import KNOWLEDGE

metadata = MetaData()

documents = Table(
    "documents",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("title", Text, nullable=False),
    Column("doc_number", String(200), nullable=False, default=""),
    Column("issuer", String(200), nullable=False, default=""),
    Column("region", String(200), nullable=False, default=""),
    Column("written_date", Date),
    Column("published_date", Date),
    Column("effective_date", Date),
    Column("expiry_date", Date),
    Column("validity", String(16), nullable=False),
    Column("source_url", Text, nullable=False, default=""),
    Column("interprets", String(200), nullable=False, default=""),
    Column("replaced_by", String(200), nullable=False, default=""),
    Column("department", String(200), nullable=False, default=""),
    Column("tags", Text, nullable=False, default="[]"),
    Column("body", Text, nullable=False),
    Column("source_path", Text, nullable=False, default=""),
    Column("content_hash", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

document_versions = Table(
    "document_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("doc_id", String(200), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("action", String(16), nullable=False),
    Column("note", Text, nullable=False, default=""),
    Column("snapshot", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    # who made the change ("cli:<user>", an account name, "system"); rows from before the audit have ""
    Column("actor", String(200), nullable=False, default="", server_default=""),
    UniqueConstraint("doc_id", "version", name="uq_document_version"),
)

SYSTEM_ACTOR = "system"  # changes no person asked for directly (the sample knowledge base at first start)


class StoreNotEmpty(KnowledgeError):
    """A restore was aimed at a store that already holds documents or history."""

    code = "store_not_empty"
    status = 409


@dataclass(frozen=True)
class Change:
    """What a write did: created, updated, relabelled, retired or unchanged."""

    doc_id: str
    action: str
    version: int


@dataclass(frozen=True)
class Version:
    """One entry in a document's history."""

    doc_id: str
    version: int
    action: str
    note: str
    changed_at: datetime  # UTC, on SQLite and PostgreSQL alike
    document: Document
    actor: str = ""


@dataclass(frozen=True)
class StoredDocument:
    """A current document as the store holds it: with its version number and when it last changed."""

    document: Document
    version: int
    updated_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime) -> datetime:
    """SQLite gives back the naive UTC time the store wrote; PostgreSQL an aware one: both become aware UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _version(row: Any) -> Version:
    snapshot = document_from_record(row.snapshot)
    return Version(row.doc_id, row.version, row.action, row.note, _utc(row.changed_at), snapshot, row.actor)


def _row(doc: Document) -> dict[str, Any]:
    values = {f.name: getattr(doc, f.name) for f in fields(Document)}
    values["kind"] = doc.kind.value
    values["validity"] = doc.validity.value
    values["tags"] = json.dumps(list(doc.tags), ensure_ascii=False)
    values["content_hash"] = doc.content_hash
    return values


def _document(row: Any) -> Document:
    mapping = dict(row._mapping)
    values = {f.name: mapping[f.name] for f in fields(Document)}
    values["kind"] = parse_kind(mapping["kind"])
    values["validity"] = parse_validity(mapping["validity"])
    values["tags"] = tuple(json.loads(mapping["tags"] or "[]"))
    return Document(**values)


class DocumentStore:
    """Current documents plus an append-only history of every change."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        KNOWLEDGE.ensure(engine)  # created when empty, refused when older than the code (SchemaOutdated)

    @classmethod
    def open(cls, url: str) -> DocumentStore:
        """Open (and create if needed) the store at a SQLAlchemy URL."""
        return cls(open_engine(url))

    def close(self) -> None:
        self.engine.dispose()

    def upsert(self, doc: Document, note: str = "", action: str = "", actor: str = SYSTEM_ACTOR) -> Change:
        """Insert or update a document; unchanged content writes nothing; ``action`` names the change and
        ``actor`` who made it."""
        with self.engine.begin() as conn:
            current = conn.execute(select(documents).where(documents.c.id == doc.id).with_for_update()).first()
            if current is None:
                # a document deleted earlier keeps its history: numbering continues from it
                action, version = "created", self._last_version(conn, doc.id) + 1
                conn.execute(insert(documents).values(**_row(doc), version=version, updated_at=_now()))
            else:
                if document_record(_document(current)) == document_record(doc):
                    return Change(doc.id, "unchanged", current.version)
                action = action or ("updated" if current.content_hash != doc.content_hash else "relabelled")
                version = current.version + 1
                conn.execute(
                    update(documents)
                    .where(documents.c.id == doc.id)
                    .values(**_row(doc), version=version, updated_at=_now())
                )
            self._record(conn, doc, version, action, note, actor)
        return Change(doc.id, action, version)

    def retire(
        self, doc_id: str, validity: Validity, replaced_by: str = "", note: str = "", actor: str = SYSTEM_ACTOR
    ) -> Change:
        """Relabel a document as 已废止 / 失效 / 已修改, optionally naming its replacement."""
        doc = self.get(doc_id)
        if replaced_by:
            self.get(replaced_by)  # the replacement must exist
        changed = replace(doc, validity=validity, replaced_by=replaced_by or doc.replaced_by)
        return self.upsert(changed, note=note or f"标注为{validity.value}", action="retired", actor=actor)

    def delete(self, doc_id: str, note: str = "", actor: str = SYSTEM_ACTOR) -> Change:
        """Remove a document; its history stays."""
        doc = self.get(doc_id)
        with self.engine.begin() as conn:
            version = conn.execute(select(documents.c.version).where(documents.c.id == doc_id)).scalar_one() + 1
            conn.execute(delete(documents).where(documents.c.id == doc_id))
            self._record(conn, doc, version, "deleted", note, actor)
        return Change(doc_id, "deleted", version)

    def _last_version(self, conn: Any, doc_id: str) -> int:
        query = select(func.max(document_versions.c.version)).where(document_versions.c.doc_id == doc_id)
        return int(conn.execute(query).scalar_one() or 0)

    def _record(self, conn: Any, doc: Document, version: int, action: str, note: str, actor: str) -> None:
        if not actor.strip():
            raise ValueError("every change needs an actor: who made it (cli:<user>, an account, system)")
        conn.execute(
            insert(document_versions).values(
                doc_id=doc.id,
                version=version,
                action=action,
                note=note,
                snapshot=document_record(doc),
                changed_at=_now(),
                actor=actor,
            )
        )

    def get(self, doc_id: str) -> Document:
        """The current document, or DocumentNotFound."""
        with self.engine.connect() as conn:
            row = conn.execute(select(documents).where(documents.c.id == doc_id)).first()
        if row is None:
            raise DocumentNotFound(doc_id)
        return _document(row)

    def find(self, doc_id: str) -> Document | None:
        try:
            return self.get(doc_id)
        except DocumentNotFound:
            return None

    def all(self) -> Iterator[Document]:
        """Every current document, ordered by id."""
        with self.engine.connect() as conn:
            for row in conn.execute(select(documents).order_by(documents.c.id)):
                yield _document(row)

    def hashes(self) -> dict[str, str]:
        """doc id → content hash: what the index must agree with."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(documents.c.id, documents.c.content_hash))
            return {row.id: row.content_hash for row in rows}

    def revision(self) -> int:
        """Grows with every write, so readers can tell cheaply whether anything changed."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(document_versions.c.id))).scalar_one() or 0)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(documents)).scalar_one())

    def history(self, doc_id: str) -> list[Version]:
        """Every recorded version of a document, oldest first."""
        query = (
            select(document_versions).where(document_versions.c.doc_id == doc_id).order_by(document_versions.c.version)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            raise DocumentNotFound(doc_id)
        return [_version(r) for r in rows]

    def audit(self, actor: str = "", since: datetime | None = None, limit: int | None = None) -> list[Version]:
        """Every change to any document (deleted and retired ones included), newest first; optionally only one
        actor's, only since a moment, at most ``limit``."""
        query = select(document_versions).order_by(document_versions.c.id.desc())
        if actor:
            query = query.where(document_versions.c.actor == actor)
        if since is not None:
            query = query.where(document_versions.c.changed_at >= _utc(since))
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [_version(r) for r in conn.execute(query)]

    def interpretations_of(self, doc_id: str) -> list[Document]:
        """Interpretations (解读) that explain the given policy."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(documents).where(documents.c.interprets == doc_id).order_by(documents.c.id))
            return [_document(r) for r in rows]

    # -- backup: everything as written, and back into an empty store -----------------------------------

    def stored(self) -> Iterator[StoredDocument]:
        """Every current document with its version number and last change, ordered by id."""
        with self.engine.connect() as conn:
            for row in conn.execute(select(documents).order_by(documents.c.id)):
                yield StoredDocument(_document(row), row.version, _utc(row.updated_at))

    def versions(self) -> Iterator[Version]:
        """Every recorded version of every document, in the order they were written."""
        with self.engine.connect() as conn:
            for row in conn.execute(select(document_versions).order_by(document_versions.c.id)):
                yield _version(row)

    def is_empty(self) -> bool:
        """No documents and no history: what a restore needs."""
        with self.engine.connect() as conn:
            any_version = conn.execute(select(document_versions.c.id).limit(1)).first()
            return any_version is None and self.count() == 0

    def restore(self, stored: Iterable[StoredDocument], versions: Iterable[Version]) -> None:
        """Write documents and history exactly as given, in one transaction, into an empty store (else
        StoreNotEmpty); versions are written in the order given, which keeps the order of the audit."""
        with self.engine.begin() as conn:
            taken = (
                conn.execute(select(document_versions.c.id).limit(1)).first()
                or conn.execute(select(documents.c.id).limit(1)).first()
            )
            if taken is not None:
                raise StoreNotEmpty("目标知识库不是空的：导入只写入空库，不会覆盖或合并已有的文件和历史")
            rows = ({**_row(s.document), "version": s.version, "updated_at": s.updated_at} for s in stored)
            for batch in _batches(rows):
                conn.execute(insert(documents), batch)
            records = (
                {
                    "doc_id": v.doc_id,
                    "version": v.version,
                    "action": v.action,
                    "note": v.note,
                    "snapshot": document_record(v.document),
                    "changed_at": v.changed_at,
                    "actor": v.actor,
                }
                for v in versions
            )
            for batch in _batches(records):
                conn.execute(insert(document_versions), batch)


def _batches(rows: Iterable[dict[str, Any]], size: int = 500) -> Iterator[list[dict[str, Any]]]:
    """Rows in lists of ``size``: one executemany each instead of a round trip per row."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
