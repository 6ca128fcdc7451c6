"""Word .docx files read with python-docx: paragraphs and table rows in document order."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
from docx.document import Document as WordDocument
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph

from knowledge.errors import IngestError
from knowledge.parsers.plain import document_from_lines
from knowledge.parsers.result import ParsedFile
from knowledge.parsers.sniffing import TITLE_LIMIT, clean_title


def _open(path: Path, data: bytes) -> WordDocument:
    """Open the package; a file that is not a valid .docx fails the whole file."""
    try:
        return docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise IngestError(str(path), f"无法读取 Word 文件（.docx 已损坏或不是 .docx）：{error}") from None


def _row_text(cells: list[str]) -> str:
    """A table row as one line; merged cells repeat their text, so repeats are dropped."""
    kept: list[str] = []
    for cell in cells:
        text = " ".join(cell.split())
        if text and (not kept or kept[-1] != text):
            kept.append(text)
    return " ".join(kept)


def _lines(document: WordDocument) -> Iterator[str]:
    """Paragraph texts and table rows, in the order they appear in the document."""
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            yield item.text.strip()
        elif isinstance(item, Table):
            for row in item.rows:
                yield _row_text([cell.text for cell in row.cells])


def _styled_title(document: WordDocument) -> str:
    """A paragraph in Word's Title style, or the title set in the file's properties."""
    for paragraph in document.paragraphs:
        if paragraph.style is not None and paragraph.style.name == "Title" and paragraph.text.strip():
            return clean_title(paragraph.text)[:TITLE_LIMIT]
    return clean_title(document.core_properties.title or "")[:TITLE_LIMIT]


def parse_docx(path: Path, data: bytes) -> ParsedFile:
    """One document from a .docx file; the title falls back to the first paragraph."""
    document = _open(path, data)
    lines = [line for line in _lines(document) if line]
    return ParsedFile(str(path), (document_from_lines(path, lines, _styled_title(document)),))
