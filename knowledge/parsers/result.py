"""What parsing one file yields: its documents and the per-record problems found on the way."""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.document import Document


@dataclass(frozen=True)
class ParsedFile:
    """Documents parsed from one file, plus problems with single records that were skipped."""

    path: str
    documents: tuple[Document, ...]
    problems: tuple[str, ...] = ()
