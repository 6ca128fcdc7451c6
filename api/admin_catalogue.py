"""The document list of the admin pages: its filters (kind, validity, issuer, region, dates, department, text) and
its pages, over the store's current documents.

The text search is a plain substring match (case-insensitive) over the id, title, 文号 and body: a knowledge base
of a county's disclosed documents is a few thousand at most, read in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from knowledge.document import Document, Kind, Validity

PAGE_SIZE = 20
MAX_QUERY = 100


class BadFilter(ValueError):
    """A filter value the list cannot use; its message is shown on the page."""


@dataclass(frozen=True)
class DocumentFilter:
    """Which documents the list shows; empty fields filter nothing."""

    kind: Kind | None = None
    validity: Validity | None = None
    issuer: str = ""
    region: str = ""
    department: str = ""
    published_from: date | None = None
    published_to: date | None = None
    text: str = ""

    def matches(self, doc: Document) -> bool:
        """Whether a document passes every filter (its date: 发布日期, else 成文日期)."""
        when = doc.published_date or doc.written_date
        text = self.text.casefold()
        return not (
            (self.kind is not None and doc.kind is not self.kind)
            or (self.validity is not None and doc.validity is not self.validity)
            or (self.issuer and self.issuer not in doc.issuer)
            or (self.region and doc.region != self.region)
            or (self.department and doc.department != self.department)
            or (self.published_from and (when is None or when < self.published_from))
            or (self.published_to and (when is None or when > self.published_to))
            or (text and not any(text in value.casefold() for value in (doc.id, doc.title, doc.doc_number, doc.body)))
        )


def _day(value: str, label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadFilter(f"{label}“{value[:20]}”不是有效的日期，请按 年-月-日 填写。") from None


def _choice(value: str, parse: Any, label: str) -> Any:
    if not value:
        return None
    try:
        return parse(value)
    except ValueError:
        raise BadFilter(f"没有这个{label}：“{value[:20]}”。") from None


def read_filter(query: Mapping[str, str]) -> DocumentFilter:
    """The filters of a list URL (BadFilter for a value that cannot be used)."""
    text = {name: query.get(name, "").strip() for name in FILTER_NAMES}
    if any(len(value) > MAX_QUERY for value in text.values()):
        raise BadFilter(f"筛选条件太长（最多 {MAX_QUERY} 个字符）。")
    first, last = _day(text["from"], "开始日期"), _day(text["to"], "结束日期")
    if first and last and last < first:
        raise BadFilter(f"开始日期 {first} 晚于结束日期 {last}。")
    return DocumentFilter(
        kind=_choice(text["kind"], Kind, "类型"),
        validity=_choice(text["validity"], Validity, "有效性"),
        issuer=text["issuer"],
        region=text["region"],
        department=text["department"],
        published_from=first,
        published_to=last,
        text=text["q"],
    )


FILTER_NAMES = ("kind", "validity", "issuer", "region", "department", "from", "to", "q")


@dataclass(frozen=True)
class Listing:
    """One page of the filtered list, with what the filter pickers offer."""

    documents: list[Document]
    total: int
    page: int
    pages: int
    query: dict[str, str]  # the filters as given, for the pager's links
    issuers: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    departments: list[str] = field(default_factory=list)

    def link(self, page: int) -> str:
        """The list URL of another page with the same filters."""
        return "/admin/documents?" + urlencode({**{k: v for k, v in self.query.items() if v}, "page": page})


def _issuers(docs: Iterable[Document]) -> list[str]:
    """Each issuing body once: a joint document's 发文机关 (A、B) counts for each of them."""
    return sorted({part.strip() for doc in docs for part in doc.issuer.split("、") if part.strip()})


def list_documents(docs: list[Document], chosen: DocumentFilter, query: Mapping[str, str], page: int) -> Listing:
    """The page ``page`` (from 1) of the documents ``chosen`` admits, newest first."""
    found = [doc for doc in docs if chosen.matches(doc)]
    found.sort(key=lambda d: ((d.published_date or d.written_date or date.min), d.id), reverse=True)
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    return Listing(
        documents=found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
        total=len(found),
        page=page,
        pages=pages,
        query={name: query.get(name, "").strip() for name in FILTER_NAMES},
        issuers=_issuers(docs),
        regions=sorted({d.region for d in docs if d.region}),
        departments=sorted({d.department for d in docs if d.department}),
    )
