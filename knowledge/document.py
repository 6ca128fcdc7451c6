"""Contracts between pipeline stages: documents, chunks, passages and answers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date
from enum import StrEnum


class Kind(StrEnum):
    """What sort of document this is."""

    POLICY = "policy"  # 政策文件
    INTERPRETATION = "interpretation"  # 政策解读
    FAQ = "faq"  # 问答
    SERVICE_GUIDE = "service_guide"  # 办事指南
    NOTICE = "notice"  # 通知公告

    @property
    def label(self) -> str:
        return KIND_LABELS[self]


KIND_LABELS = {
    Kind.POLICY: "政策文件",
    Kind.INTERPRETATION: "政策解读",
    Kind.FAQ: "问答",
    Kind.SERVICE_GUIDE: "办事指南",
    Kind.NOTICE: "通知公告",
}


class Validity(StrEnum):
    """有效性 of a normative document, as the disclosure rules label it."""

    CURRENT = "现行有效"
    AMENDED = "已修改"
    REPEALED = "已废止"
    EXPIRED = "失效"
    PENDING = "尚未生效"
    # no 有效性 given at ingest: kept unset rather than assumed 现行有效 (the disclosure checks report it)
    UNSET = "未标注"

    @property
    def is_retired(self) -> bool:
        """Retired documents are excluded from default search results."""
        return self in (Validity.REPEALED, Validity.EXPIRED)


def parse_kind(value: str | Kind | None) -> Kind:
    """Accept an English identifier or the Chinese label."""
    if value is None or value == "":
        return Kind.POLICY
    if isinstance(value, Kind):
        return value
    text = str(value).strip()
    for kind in Kind:
        if text in (kind.value, kind.label):
            return kind
    raise ValueError(f"unknown document kind {value!r}; use one of {[k.value for k in Kind]}")


def parse_validity(value: str | Validity | None) -> Validity:
    """Accept the Chinese label (现行有效 …) or the English enum name; nothing given is 未标注 (unset)."""
    if value is None or value == "":
        return Validity.UNSET
    if isinstance(value, Validity):
        return value
    text = str(value).strip()
    for validity in Validity:
        if text in (validity.value, validity.name, validity.name.lower()):
            return validity
    raise ValueError(f"unknown validity {value!r}; use one of {[v.value for v in Validity]}")


@dataclass(frozen=True)
class Document:
    """One policy, interpretation, FAQ, service guide or notice, with its disclosure metadata."""

    id: str
    title: str
    body: str
    kind: Kind = Kind.POLICY
    doc_number: str = ""  # 文号
    issuer: str = ""  # 发文机关
    region: str = ""
    written_date: date | None = None  # 成文日期
    published_date: date | None = None  # 发布日期
    effective_date: date | None = None
    expiry_date: date | None = None
    validity: Validity = Validity.UNSET
    source_url: str = ""
    interprets: str = ""  # id of the policy an interpretation explains
    replaced_by: str = ""  # id of the document that replaced this one
    department: str = ""
    tags: tuple[str, ...] = ()
    source_path: str = ""

    def __post_init__(self) -> None:
        if not self.id or not self.id.strip():
            raise ValueError("a document needs an id")
        if not self.body or not self.body.strip():
            raise ValueError(f"document {self.id!r} has an empty body")

    @property
    def content_hash(self) -> str:
        """Hash of what the chunks depend on: a relabel (validity, 文号) needs no re-embedding."""
        parts = [self.title, self.body]
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


QA_MARK = "问："  # how the chunker opens a Q&A pair's chunk, before its question


@dataclass(frozen=True)
class Chunk:
    """A retrievable piece of a document, carrying its title and heading path."""

    id: str
    doc_id: str
    position: int
    text: str
    title: str
    heading_path: tuple[str, ...] = ()

    @staticmethod
    def make_id(doc_id: str, position: int) -> str:
        """Stable id: the same document always yields the same chunk ids."""
        return f"{doc_id}#{position}"

    @property
    def is_qa_pair(self) -> bool:
        """Whether the chunk is (part of) a Q&A pair: the chunker writes it "问：…\n答：…" under its question
        (``QA_MARK``), whatever prefix the source used (問：, Q:, 提问：); a paragraph opening "问题…" is none."""
        return bool(self.heading_path) and self.text.startswith(QA_MARK)

    @property
    def indexed_text(self) -> str:
        """What gets embedded and tokenised: title and headings give the chunk its context."""
        head = " ".join((self.title, *self.heading_path)).strip()
        return f"{head}\n{self.text}" if head else self.text


@dataclass(frozen=True)
class Citation:
    """What a citizen needs to check an answer: title, 文号, issuer, date, validity, link."""

    doc_id: str
    title: str
    kind: str
    doc_number: str
    issuer: str
    date: str
    validity: str
    url: str
    replaced_by: str = ""
    interpretation_id: str = ""

    @classmethod
    def of(cls, doc: Document, interpretation_id: str = "") -> Citation:
        when = doc.published_date or doc.written_date
        return cls(
            doc_id=doc.id,
            title=doc.title,
            kind=doc.kind.value,
            doc_number=doc.doc_number,
            issuer=doc.issuer,
            date=when.isoformat() if when else "",
            validity=doc.validity.value,
            url=doc.source_url,
            replaced_by=doc.replaced_by,
            interpretation_id=interpretation_id,
        )

    def format(self) -> str:
        """One line in Chinese for chat channels."""
        title = self.title if self.title.startswith("《") else f"《{self.title}》"
        parts = [title]
        if self.doc_number:
            parts.append(self.doc_number)
        if self.issuer:
            parts.append(self.issuer)
        if self.date:
            parts.append(self.date)
        parts.append(f"【{self.validity}】")
        return " ".join(parts)


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with both raw scores, its fused score and its citation."""

    chunk: Chunk
    citation: Citation
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id


@dataclass(frozen=True)
class Answer:
    """An extractive answer, or an honest no-answer when confidence is below the threshold."""

    question: str
    answered: bool
    text: str
    confidence: float
    passage: Passage | None = None
    passages: tuple[Passage, ...] = field(default_factory=tuple)

    @property
    def citation(self) -> Citation | None:
        return self.passage.citation if self.passage else None


DATE_FIELDS = ("written_date", "published_date", "effective_date", "expiry_date")


def document_record(doc: Document) -> str:
    """One document with every metadata field, as a JSON line."""
    data = asdict(doc)
    data["kind"] = doc.kind.value
    data["validity"] = doc.validity.value
    for name in DATE_FIELDS:
        value = data[name]
        data[name] = value.isoformat() if isinstance(value, date) else None
    return json.dumps(data, ensure_ascii=False)


def document_from_record(line: str) -> Document:
    """The inverse of ``document_record``."""
    data = json.loads(line)
    for name in DATE_FIELDS:
        data[name] = date.fromisoformat(data[name]) if data[name] else None
    data["kind"] = parse_kind(data["kind"])
    data["validity"] = parse_validity(data["validity"])
    data["tags"] = tuple(data["tags"])
    return Document(**data)
