"""Turn loose metadata (front matter, JSON records, table rows) into a Document, with stable ids."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path

from knowledge.document import Document, Kind, Validity, parse_kind, parse_validity
from knowledge.parsers.dates import parse_date

TEXT_FIELDS = (
    "id",
    "title",
    "body",
    "doc_number",
    "issuer",
    "region",
    "source_url",
    "interprets",
    "replaced_by",
    "department",
)
DATE_LABELS = {
    "written_date": "成文日期",
    "published_date": "发布日期",
    "effective_date": "生效日期",
    "expiry_date": "失效日期",
}
DATE_FIELDS = tuple(DATE_LABELS)
FIELD_NAMES = frozenset((*TEXT_FIELDS, *DATE_FIELDS, "kind", "validity", "tags"))
_ALIASES = {
    "id": ("编号",),
    "title": ("标题", "名称", "文件名称", "name"),
    "body": ("text", "content", "正文", "内容", "全文"),
    "kind": ("type", "类型", "类别", "文件类型", "文档类型"),
    "doc_number": ("文号", "发文字号", "doc_no", "document_number"),
    "issuer": ("发文机关", "发布机构", "发文单位", "发布单位", "制发机关"),
    "region": ("地区", "区域", "行政区划"),
    "written_date": ("成文日期", "成文时间"),
    "published_date": ("发布日期", "发布时间", "发文日期", "公开日期", "date", "pubdate"),
    "effective_date": ("生效日期", "施行日期", "实施日期", "起始日期"),
    "expiry_date": ("失效日期", "废止日期", "截止日期", "end_date"),
    "validity": ("有效性", "效力", "效力状态", "时效性", "status"),
    "source_url": ("url", "link", "链接", "原文链接", "来源链接", "网址"),
    "interprets": ("解读对象", "解读文件", "被解读文件"),
    "replaced_by": ("替代文件", "被替代为", "新文件"),
    "department": ("部门", "责任部门", "承办部门", "dept"),
    "tags": ("标签", "关键词", "主题词", "keywords", "keyword"),
}
KEY_NAMES = {alias.lower(): name for name, aliases in _ALIASES.items() for alias in aliases}
KEY_NAMES.update({name: name for name in FIELD_NAMES})
_TAG_SEPARATORS = re.compile(r"[,，、;；|]")
_SLUG_GAPS = re.compile(r"[\s_.]+|-{2,}")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def canonical_fields(raw: Mapping[str, object]) -> tuple[dict[str, object], list[str]]:
    """Map English or Chinese keys onto Document field names; also return the keys not understood."""
    fields: dict[str, object] = {}
    unknown: list[str] = []
    for key, value in raw.items():
        name = KEY_NAMES.get(str(key).strip().lower())
        if name is None:
            unknown.append(str(key))
        elif name not in fields or fields[name] in (None, ""):
            fields[name] = value
    return fields, unknown


def text_of(value: object) -> str:
    """A metadata value as stripped text; lists are joined with 、."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "、".join(text_of(item) for item in value if text_of(item))
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def split_tags(value: object) -> tuple[str, ...]:
    """Tags from a list or a string separated by , ， 、 or ;."""
    items = value if isinstance(value, (list, tuple)) else _TAG_SEPARATORS.split(text_of(value))
    tags = (text_of(item) for item in items)
    return tuple(dict.fromkeys(tag for tag in tags if tag))


def validity_from_dates(effective: date | None, expiry: date | None, today: date) -> Validity:
    """失效 once the expiry date has passed, 尚未生效 before the effective date, 现行有效 within a stated
    validity period, else 未标注: without a label or an expiry date nothing says the document is in force."""
    if expiry is not None and expiry < today:
        return Validity.EXPIRED
    if effective is not None and effective > today:
        return Validity.PENDING
    if expiry is not None:
        return Validity.CURRENT
    return Validity.UNSET


def _kind_of(value: object, default: Kind) -> Kind:
    """Parse a kind, in Chinese when it cannot be understood."""
    if value is None or value == "":
        return default
    try:
        return parse_kind(text_of(value))
    except ValueError:
        raise ValueError(f"文档类型无法识别：{text_of(value)}") from None


def _validity_of(value: object, dates: Mapping[str, date | None], today: date) -> Validity:
    """Parse a stated 有效性, or derive it from the effective and expiry dates."""
    if value is None or value == "":
        return validity_from_dates(dates["effective_date"], dates["expiry_date"], today)
    try:
        return parse_validity(text_of(value))
    except ValueError:
        raise ValueError(f"有效性无法识别：{text_of(value)}") from None


def _dates_of(fields: Mapping[str, object]) -> dict[str, date | None]:
    """Parse every date field, naming the field that cannot be read."""
    dates: dict[str, date | None] = {}
    for name in DATE_FIELDS:
        try:
            dates[name] = parse_date(fields.get(name))
        except ValueError:
            raise ValueError(f"{DATE_LABELS[name]}无法识别：{text_of(fields.get(name))}") from None
    return dates


def build_document(
    fields: Mapping[str, object], *, source_path: str, today: date, default_kind: Kind = Kind.POLICY
) -> Document:
    """A Document from canonical fields; raises ValueError with a Chinese reason for bad values."""
    texts = {name: text_of(fields.get(name)) for name in TEXT_FIELDS}
    if not texts["id"]:
        raise ValueError("缺少 id")
    if not texts["body"]:
        raise ValueError("正文为空")
    dates = _dates_of(fields)
    return Document(
        id=texts["id"],
        title=texts["title"],
        body=texts["body"],
        kind=_kind_of(fields.get("kind"), default_kind),
        doc_number=texts["doc_number"],
        issuer=texts["issuer"],
        region=texts["region"],
        written_date=dates["written_date"],
        published_date=dates["published_date"],
        effective_date=dates["effective_date"],
        expiry_date=dates["expiry_date"],
        validity=_validity_of(fields.get("validity"), dates, today),
        source_url=texts["source_url"],
        interprets=texts["interprets"],
        replaced_by=texts["replaced_by"],
        department=texts["department"],
        tags=split_tags(fields.get("tags")),
        source_path=source_path,
    )


def _sha1(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def stem_id(path: Path) -> str:
    """A stable ASCII id from the file name: its slug, or a hash when the name is not ASCII."""
    slug = _SLUG_GAPS.sub("-", path.stem.strip().lower()).strip("-")
    return slug if _SLUG.fullmatch(slug) else f"doc-{_sha1(path.stem)[:12]}"


def record_id(path: Path, key: str) -> str:
    """A stable id for one record of a multi-record file: file slug plus a hash of its key text."""
    return f"{stem_id(path)}-{_sha1(key)[:10]}"
