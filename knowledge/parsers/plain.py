"""Plain-text files: the first line is the title, 文号 and 成文日期 are sniffed from the lines."""

from __future__ import annotations

from pathlib import Path

from knowledge.document import Document
from knowledge.errors import IngestError
from knowledge.parsers.dates import find_date_line
from knowledge.parsers.fields import stem_id
from knowledge.parsers.result import ParsedFile
from knowledge.parsers.sniffing import sniff_doc_number, sniff_title


def document_from_lines(path: Path, lines: list[str], title: str = "") -> Document:
    """A document whose metadata comes from its own text; used for txt, HTML, DOCX and PDF."""
    body = "\n".join(line.rstrip() for line in lines).strip("\n")
    if not body.strip():
        raise IngestError(str(path), "文件为空：没有可用的文字")
    return Document(
        id=stem_id(path),
        title=title or sniff_title(lines),
        body=body,
        doc_number=sniff_doc_number(lines),
        written_date=find_date_line(lines),
        source_path=str(path),
    )


def parse_text(path: Path, text: str) -> ParsedFile:
    """One document from a .txt file."""
    return ParsedFile(str(path), (document_from_lines(path, text.split("\n")),))
