"""The metadata and retire forms of the admin pages: what a knowledge manager typed, checked before anything is saved.

A form is read field by field into a ``FormResult``: the changed document (or the retire request) and, per field,
what is wrong with it. Anything wrong and nothing is written: the page is shown again with the values as typed and
each message next to its field.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from knowledge.document import Document, Validity
from knowledge.history import FIELD_LABELS, field_changes

TEXT_FIELDS = ("doc_number", "issuer", "region", "department")
DATE_FIELDS = ("written_date", "published_date", "effective_date", "expiry_date")
LINK_FIELDS = ("interprets", "replaced_by")
EDITABLE = ("validity", *TEXT_FIELDS, *DATE_FIELDS, *LINK_FIELDS, "source_url")
RETIRE_VALIDITIES = (Validity.REPEALED, Validity.EXPIRED, Validity.AMENDED)
MAX_TEXT = 200  # the store's column width for 文号, 发文机关 and the links
MAX_NOTE = 500
MAX_URL = 2000
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# a date's first and last bound the dates disclosure rules care about; a typo (20255-01-01, 0202-…) is refused
FIRST_DAY, LAST_DAY = date(1949, 10, 1), date(2100, 12, 31)


@dataclass
class FormResult:
    """What a form asked for and, per field name, what is wrong with it (empty when it may be saved)."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    document: Document | None = None
    note: str = ""
    version: int | None = None  # the version the form was opened on

    @property
    def ok(self) -> bool:
        return not self.errors


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _check_text(result: FormResult, name: str, limit: int) -> None:
    value = result.values[name]
    if CONTROL.search(value):
        result.errors[name] = "不能包含控制字符。"
    elif len(value) > limit:
        result.errors[name] = f"最多 {limit} 个字符。"


def _parse_date(result: FormResult, name: str) -> date | None:
    value = result.values[name]
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        result.errors[name] = f"“{value[:20]}”不是有效的日期，请按 年-月-日 填写，例如 2026-03-01。"
        return None
    if not FIRST_DAY <= parsed <= LAST_DAY:
        result.errors[name] = f"日期应在 {FIRST_DAY.year} 年到 {LAST_DAY.year} 年之间。"
        return None
    return parsed


def _check_order(result: FormResult, dates: Mapping[str, date | None]) -> None:
    """Dates that contradict each other: an end before its start, publication before writing."""
    rules = (
        ("published_date", "written_date", "发布日期早于成文日期。"),
        ("expiry_date", "effective_date", "失效日期早于生效日期。"),
        ("expiry_date", "written_date", "失效日期早于成文日期。"),
    )
    for later, earlier, message in rules:
        first, last = dates.get(earlier), dates.get(later)
        if first is not None and last is not None and last < first and later not in result.errors:
            result.errors[later] = message


def _check_link(result: FormResult, name: str, doc_id: str, known: Collection[str]) -> None:
    target = result.values[name]
    if not target or name in result.errors:
        return
    if target == doc_id:
        result.errors[name] = "不能关联到文件自己。"
    elif target not in known:
        result.errors[name] = f"知识库里没有编号为“{target[:60]}”的文件，请从列表中选择现有文件的编号。"


def _version(form: Mapping[str, Any]) -> int | None:
    value = _text(form, "version")
    return int(value) if value.isdigit() else None


def _parse_validity(result: FormResult, allowed: Collection[Validity]) -> Validity | None:
    try:
        validity = Validity(result.values["validity"])
    except ValueError:
        validity = None
    if validity is None or validity not in allowed:
        result.errors["validity"] = "请选择一个有效性：" + "、".join(v.value for v in allowed) + "。"
        return None
    return validity


def _note(result: FormResult, form: Mapping[str, Any]) -> None:
    result.note = result.values["note"] = _text(form, "note")
    _check_text(result, "note", MAX_NOTE)


def read_metadata(form: Mapping[str, Any], doc: Document, known: Collection[str]) -> FormResult:
    """The edit form over ``doc``: the changed document when every field is valid (``known``: existing ids)."""
    result = FormResult({name: _text(form, name) for name in EDITABLE}, version=_version(form))
    _note(result, form)
    validity = _parse_validity(result, tuple(Validity))
    for name in (*TEXT_FIELDS, *LINK_FIELDS):
        _check_text(result, name, MAX_TEXT)
    url = result.values["source_url"]
    _check_text(result, "source_url", MAX_URL)
    if url and not url.startswith(("http://", "https://")) and "source_url" not in result.errors:
        result.errors["source_url"] = "原文链接应以 http:// 或 https:// 开头。"
    dates = {name: _parse_date(result, name) for name in DATE_FIELDS}
    _check_order(result, dates)
    for name in LINK_FIELDS:
        _check_link(result, name, doc.id, known)
    if result.ok and validity is not None:
        changes: dict[str, Any] = {name: result.values[name] for name in (*TEXT_FIELDS, *LINK_FIELDS, "source_url")}
        result.document = replace(doc, validity=validity, **changes | dates)
    return result


def read_retirement(form: Mapping[str, Any], doc: Document, known: Collection[str]) -> FormResult:
    """The retire form: a reason (已废止 / 失效 / 已修改), an optional replacement that exists, a note."""
    result = FormResult({"validity": _text(form, "validity"), "replaced_by": _text(form, "replaced_by")})
    result.version = _version(form)
    _note(result, form)
    validity = _parse_validity(result, RETIRE_VALIDITIES)
    _check_text(result, "replaced_by", MAX_TEXT)
    _check_link(result, "replaced_by", doc.id, known)
    if result.ok and validity is not None:
        result.document = replace(doc, validity=validity, replaced_by=result.values["replaced_by"] or doc.replaced_by)
    return result


def values_of(doc: Document) -> dict[str, str]:
    """A document's editable fields as the form shows them."""
    values = {name: str(getattr(doc, name) or "") for name in EDITABLE}
    values["validity"] = doc.validity.value
    for name in DATE_FIELDS:
        value = getattr(doc, name)
        values[name] = value.isoformat() if value else ""
    return values


def change_note(old: Document, new: Document, note: str) -> str:
    """The note a version is saved with: the manager's own, else the fields that changed."""
    if note:
        return note
    changed = [FIELD_LABELS.get(c.field, c.field) for c in field_changes(old, new)]
    return "在管理页面修改：" + "、".join(changed) if changed else "在管理页面保存"
