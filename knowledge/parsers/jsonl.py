"""JSON Lines: one record a line, in the Taipei FAQ format, the {id, text} format or Document fields."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from knowledge.document import Document, Kind
from knowledge.errors import IngestError
from knowledge.parsers.dates import find_date_line
from knowledge.parsers.fields import build_document, canonical_fields, record_id
from knowledge.parsers.result import ParsedFile
from knowledge.parsers.sniffing import leading_title, sniff_doc_number

_TAIPEI_KEYS = frozenset({"data_id", "news_title", "news_content"})


def _load_record(line: str) -> dict[str, object]:
    """One JSON object; ValueError with a Chinese reason otherwise."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        raise ValueError("JSON 无法解析") from None
    if not isinstance(record, dict):
        raise ValueError("不是 JSON 对象")
    return record


def _taipei_fields(record: dict[str, object]) -> dict[str, object]:
    """Taipei City FAQ open data: the question is news_title, the answer news_content."""
    question = str(record.get("news_title") or "").strip()
    answer = str(record.get("news_content") or "").strip()
    if not question or not answer:
        raise ValueError("缺少问题或答案（news_title / news_content）")
    department = record.get("deptName") or ""
    return {
        "id": record.get("data_id"),
        "kind": Kind.FAQ.value,
        "title": question,
        "body": f"问：{question}\n答：{answer}",
        "issuer": department,
        "department": department,
        "tags": record.get("keyword") or "",
        "published_date": record.get("post_date"),
        "effective_date": record.get("start_date"),
        "expiry_date": record.get("end_date"),
    }


def _document_fields(path: Path, record: dict[str, object], unknown: set[str]) -> dict[str, object]:
    """Document-shaped records ({id, text} included): the title and 文号 fall back to the text."""
    fields, extra = canonical_fields(record)
    unknown.update(extra)
    body = str(fields.get("body") or "").strip()
    if not body:
        raise ValueError("缺少正文（body 或 text）")
    segments = body.split()  # records flatten a document's lines into spaces
    fields["title"] = fields.get("title") or leading_title(body)
    fields["id"] = fields.get("id") or record_id(path, f"{fields['title']}\n{body}")
    fields["doc_number"] = fields.get("doc_number") or sniff_doc_number(segments)
    fields["written_date"] = fields.get("written_date") or find_date_line(segments)
    return fields


def _document(path: Path, record: dict[str, object], today: date, unknown: set[str]) -> Document:
    """The Document for one record, whichever of the known shapes it has."""
    if _TAIPEI_KEYS <= record.keys():
        fields = _taipei_fields(record)
    else:
        fields = _document_fields(path, record, unknown)
    return build_document(fields, source_path=str(path), today=today)


def parse_jsonl(path: Path, text: str, today: date) -> ParsedFile:
    """Documents from a .jsonl file; bad lines become problems while the rest still land."""
    documents: dict[str, Document] = {}
    problems: list[str] = []
    unknown: set[str] = set()
    # split on \n only: JSON strings may hold U+2028, which str.splitlines would break on
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            document = _document(path, _load_record(line), today, unknown)
        except ValueError as error:
            problems.append(f"第{number}行: {error}")
            continue
        if document.id in documents:
            problems.append(f"第{number}行: id「{document.id}」重复，已跳过")
            continue
        documents[document.id] = document
    if not documents:
        raise IngestError(str(path), "；".join(["没有可用的记录", *problems[:3]]))
    if unknown:
        problems.append("未识别的字段已忽略：" + "、".join(sorted(unknown)))
    return ParsedFile(str(path), tuple(documents.values()), tuple(problems))
