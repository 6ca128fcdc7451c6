"""A jieba user dictionary of the knowledge base's own terms, for the dialogue layer's tokenizer."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from .document import Document

_TERM = re.compile(r"^[\u4e00-\u9fff0-9A-Za-z]{2,16}$")
_TITLE_PARTS = re.compile(
    r"关于|印发|进一步|做好|的|通知|若干措施|实施细则|实施办法|暂行规定|办法|[《》〈〉、，,（）()\s]+"
)


def collect_terms(docs: Iterable[Document]) -> list[str]:
    """Tags, departments, issuers and the key phrases of titles, deduplicated and sorted."""
    terms: set[str] = set()
    for doc in docs:
        candidates = [*doc.tags, doc.department, doc.issuer]
        candidates += [part for part in _TITLE_PARTS.split(doc.title) if 2 <= len(part) <= 10]
        terms.update(c.strip() for c in candidates if c and _TERM.match(c.strip()))
    return sorted(terms)


def write_user_dictionary(docs: Iterable[Document], out: Path) -> int:
    """Write ``term frequency`` lines (jieba's user-dictionary format); returns the number of terms."""
    terms = collect_terms(docs)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(f"{term} 100 n\n" for term in terms), encoding="utf-8")
    return len(terms)
