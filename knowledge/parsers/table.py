"""Question–answer tables (.csv, .xlsx): each row becomes one FAQ document."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from knowledge.document import Document, Kind
from knowledge.errors import IngestError
from knowledge.parsers.dates import parse_date
from knowledge.parsers.fields import record_id, split_tags, text_of
from knowledge.parsers.result import ParsedFile

# header names per column role, most specific first
_ROLES: dict[str, tuple[str, ...]] = {
    "question": ("问题", "问", "question", "常见问题", "咨询问题", "提问", "留言主题", "标题", "q"),
    "answer": ("答案", "答", "answer", "回答", "解答", "答复", "答复意见", "答复内容", "回复", "回复内容", "内容", "a"),
    "department": ("部门", "department", "责任部门", "答复部门", "发布部门", "dept"),
    "tags": ("关键词", "tags", "标签", "keyword", "keywords"),
    "published": ("发布日期", "发布时间", "published_date", "日期", "date", "答复时间"),
}
_HEADER_ROWS = 10  # a title row or two may sit above the header
_CSV_DELIMITERS = ",\t;|"
_BROKEN_XLSX = (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError)


@dataclass(frozen=True)
class Columns:
    """Where each role sits in a table's rows; optional roles may be missing."""

    question: int
    answer: int
    department: int | None = None
    tags: int | None = None
    published: int | None = None


@dataclass
class _Collected:
    """Documents and problems gathered across the sheets of one file, with the ids handed out."""

    documents: list[Document] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)


def find_columns(row: Sequence[object]) -> Columns | None:
    """The column roles of a header row, or None unless it has a question and an answer column."""
    keys = [text_of(cell).lower().replace(" ", "").rstrip(":：") for cell in row]
    found = {role: next((keys.index(a) for a in aliases if a in keys), None) for role, aliases in _ROLES.items()}
    question, answer = found["question"], found["answer"]
    if question is None or answer is None:
        return None
    return Columns(question, answer, found["department"], found["tags"], found["published"])


def _cell(row: Sequence[object], index: int | None) -> object:
    return row[index] if index is not None and index < len(row) else None


def _unique_id(path: Path, question: str, taken: set[str]) -> str:
    """The question's stable id; a repeated question gets -2, -3 … in row order."""
    base = record_id(path, question)
    candidate, counter = base, 1
    while candidate in taken:
        counter += 1
        candidate = f"{base}-{counter}"
    taken.add(candidate)
    return candidate


def _published(row: Sequence[object], columns: Columns, where: str, collected: _Collected) -> date | None:
    """The row's 发布日期; an unreadable date is reported and the row still lands."""
    value = _cell(row, columns.published)
    try:
        return parse_date(value)
    except ValueError:
        collected.problems.append(f"{where}: 发布日期无法识别：{text_of(value)}")
        return None


def _add_row(path: Path, row: Sequence[object], columns: Columns, where: str, collected: _Collected) -> None:
    """Turn one row into a FAQ document, or report why it cannot be one."""
    question = text_of(_cell(row, columns.question))
    answer = text_of(_cell(row, columns.answer))
    if not question and not answer:
        return  # blank or decorative row
    if not question or not answer:
        collected.problems.append(f"{where}: 缺少{'答案' if question else '问题'}，已跳过")
        return
    department = text_of(_cell(row, columns.department))
    collected.documents.append(
        Document(
            id=_unique_id(path, question, collected.ids),
            title=question,
            body=f"问：{question}\n答：{answer}",
            kind=Kind.FAQ,
            issuer=department,
            department=department,
            published_date=_published(row, columns, where, collected),
            tags=split_tags(_cell(row, columns.tags)),
            source_path=str(path),
        )
    )


def _add_table(path: Path, rows: Iterable[tuple[int, Sequence[object]]], label: str, collected: _Collected) -> bool:
    """Find the header in the first rows, then add every later row; False when there is no header."""
    columns: Columns | None = None
    for seen, (number, row) in enumerate(rows):
        if columns is not None:
            _add_row(path, row, columns, f"{label}第{number}行", collected)
        elif seen >= _HEADER_ROWS:
            return False
        else:
            columns = find_columns(row)
    return columns is not None


def _finish(path: Path, found_header: bool, collected: _Collected) -> ParsedFile:
    """The parsed table, or IngestError when it has no header or no usable row."""
    if not found_header:
        reason = "未找到问题/答案表头：需要「问题」「答案」列（或「留言主题」「答复意见」等同义列名）"
        raise IngestError(str(path), reason)
    if not collected.documents:
        raise IngestError(str(path), "；".join(["表格中没有可用的问答", *collected.problems[:3]]))
    return ParsedFile(str(path), tuple(collected.documents), tuple(collected.problems))


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """The delimiter sniffed from the first lines; plain commas when sniffing fails."""
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=_CSV_DELIMITERS)
    except csv.Error:
        return csv.excel


def parse_csv(path: Path, text: str) -> ParsedFile:
    """FAQ documents from a CSV question–answer table."""
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text))
    collected = _Collected()
    try:
        found = _add_table(path, ((reader.line_num, row) for row in reader), "", collected)
    except csv.Error as error:
        raise IngestError(str(path), f"CSV 无法解析：第{reader.line_num}行 {error}") from None
    return _finish(path, found, collected)


def parse_xlsx(path: Path, data: bytes) -> ParsedFile:
    """FAQ documents from every sheet of an .xlsx workbook that has a question–answer header."""
    collected = _Collected()
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _BROKEN_XLSX as error:
        raise IngestError(str(path), f"无法读取 Excel 文件（.xlsx 已损坏或不是 .xlsx）：{error}") from None
    skipped: list[str] = []
    try:
        for sheet in workbook.worksheets:
            rows = enumerate(sheet.iter_rows(min_row=1, values_only=True), 1)
            if not _add_table(path, rows, f"工作表「{sheet.title}」", collected):
                skipped.append(sheet.title)
    except _BROKEN_XLSX as error:
        raise IngestError(str(path), f"无法读取 Excel 文件：{error}") from None
    finally:
        workbook.close()
    found = len(skipped) < len(workbook.worksheets)
    if found:
        collected.problems.extend(f"工作表「{title}」没有问题/答案表头，已跳过" for title in skipped)
    return _finish(path, found, collected)
