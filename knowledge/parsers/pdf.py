"""PDF files read with pypdf: the text of every page, in order."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from knowledge.errors import IngestError
from knowledge.parsers.plain import document_from_lines
from knowledge.parsers.result import ParsedFile

# pypdf raises these besides its own errors when a file's structure is broken
_BROKEN = (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError)


def _open(path: Path, data: bytes) -> PdfReader:
    """Open the PDF, decrypting files that only carry an empty user password."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError(str(path), "PDF 已加密，无法读取")
        return reader
    except _BROKEN as error:
        raise IngestError(str(path), f"无法读取 PDF：{error}") from None


def _page_texts(path: Path, reader: PdfReader, problems: list[str]) -> list[str]:
    """Text of each page; a page whose text cannot be extracted is reported and skipped."""
    texts = []
    try:
        pages = list(reader.pages)
    except _BROKEN as error:
        raise IngestError(str(path), f"无法读取 PDF：{error}") from None
    for number, page in enumerate(pages, 1):
        try:
            texts.append(page.extract_text() or "")
        except _BROKEN as error:
            problems.append(f"第{number}页: 文字无法提取（{error}）")
    return texts


def parse_pdf(path: Path, data: bytes) -> ParsedFile:
    """One document from a PDF; a scanned PDF without a text layer fails the file."""
    problems: list[str] = []
    texts = _page_texts(path, _open(path, data), problems)
    lines = [line.strip() for text in texts for line in text.split("\n") if line.strip()]
    if not lines:
        raise IngestError(str(path), "PDF 中没有可提取的文字（可能是扫描件，需要先做文字识别）")
    return ParsedFile(str(path), (document_from_lines(path, lines),), tuple(problems))
