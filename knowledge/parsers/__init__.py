"""Ingest parsers: turn one file (md, txt, html, docx, pdf, jsonl, csv, xlsx) into Documents."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from knowledge.errors import IngestError
from knowledge.parsers.decoding import decode_text
from knowledge.parsers.jsonl import parse_jsonl
from knowledge.parsers.markdown import parse_markdown
from knowledge.parsers.pdf import parse_pdf
from knowledge.parsers.plain import parse_text
from knowledge.parsers.result import ParsedFile
from knowledge.parsers.table import parse_csv, parse_xlsx
from knowledge.parsers.web import parse_html
from knowledge.parsers.word import parse_docx

__all__ = ["SUPPORTED_SUFFIXES", "ParsedFile", "parse_file"]

TEXT_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".html", ".htm", ".csv", ".jsonl"})
BINARY_SUFFIXES = frozenset({".docx", ".pdf", ".xlsx"})
SUPPORTED_SUFFIXES: frozenset[str] = TEXT_SUFFIXES | BINARY_SUFFIXES


def _read(path: Path) -> bytes:
    """The file's bytes; unreadable or empty files fail here, before any parser runs."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise IngestError(str(path), f"无法读取文件：{error.strerror or error}") from None
    if not data.strip():
        raise IngestError(str(path), "文件为空")
    return data


def _parse_text(path: Path, suffix: str, text: str, today: date) -> ParsedFile:
    """Dispatch a decoded text file to the parser for its suffix."""
    if suffix in (".md", ".markdown"):
        return parse_markdown(path, text, today)
    if suffix in (".html", ".htm"):
        return parse_html(path, text)
    if suffix == ".csv":
        return parse_csv(path, text)
    if suffix == ".jsonl":
        return parse_jsonl(path, text, today)
    return parse_text(path, text)


def _parse_binary(path: Path, suffix: str, data: bytes) -> ParsedFile:
    """Dispatch a binary file to the parser for its suffix."""
    if suffix == ".docx":
        return parse_docx(path, data)
    if suffix == ".xlsx":
        return parse_xlsx(path, data)
    return parse_pdf(path, data)


def parse_file(path: Path, *, today: date | None = None) -> ParsedFile:
    """Parse one file; IngestError with a Chinese reason when nothing usable is in it.

    ``today`` decides which dated records have expired (失效) or are pending (尚未生效).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        supported = "、".join(sorted(SUPPORTED_SUFFIXES))
        raise IngestError(str(path), f"不支持的文件类型「{suffix or '无扩展名'}」，支持：{supported}")
    data = _read(path)
    if suffix in BINARY_SUFFIXES:
        return _parse_binary(path, suffix, data)
    text = decode_text(path, data)
    if not text.strip():
        raise IngestError(str(path), "文件为空")
    return _parse_text(path, suffix, text, today or date.today())
