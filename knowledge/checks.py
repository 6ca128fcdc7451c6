"""Disclosure checks: what a county's 政务公开 plan demands of its normative documents, found document by document.

The reference plan: a policy shows 标题, 正文, 文号, 成文日期, 发布日期 and 有效性; its 有效性 is updated when it is
修改 / 废止 / 失效; it is published within 3 working days of being written; and it is published with its 解读.
Working days follow the State Council's holiday arrangements (chinese-calendar: holidays and the weekend days
made up as workdays); a year the package does not cover yet is counted Monday to Friday, and the finding says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date

from .document import Document, Kind, Validity
from .workdays import working_days_after

PUBLICATION_WORKDAYS = 3  # a policy is published at most this many working days after its 成文日期
REQUIRED_FIELDS = {
    "title": "标题",
    "body": "正文",
    "doc_number": "文号",
    "written_date": "成文日期",
    "published_date": "发布日期",
}
CHECK_LABELS = {
    "missing_field": "缺少必备要素",
    "missing_validity": "未标注有效性",
    "missing_interpretation": "缺少政策解读",
    "expired_but_current": "已过有效期仍标注现行有效",
    "late_publication": "未在3个工作日内公开",
    "broken_link": "关联的文件不存在",
    "retired_without_replacement": "已废止或已修改但未注明替代文件",
}
CHECKS = tuple(CHECK_LABELS)
NEEDS_SUCCESSOR = (Validity.REPEALED, Validity.AMENDED)


@dataclass(frozen=True)
class Finding:
    """One thing a document lacks or gets wrong, named by a stable ``check`` code."""

    doc_id: str
    check: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _missing_fields(doc: Document) -> list[Finding]:
    missing = [label for name, label in REQUIRED_FIELDS.items() if not getattr(doc, name)]
    return [Finding(doc.id, "missing_field", f"缺少{label}") for label in missing]


def _late_publication(doc: Document) -> list[Finding]:
    if doc.written_date is None or doc.published_date is None or doc.published_date <= doc.written_date:
        return []
    days, known = working_days_after(doc.written_date, doc.published_date)
    if days <= PUBLICATION_WORKDAYS:
        return []
    dates = f"成文日期 {doc.written_date.isoformat()}，发布日期 {doc.published_date.isoformat()}"
    counted = "" if known else "（该年节假日安排未收录，按周一至周五计）"
    detail = f"{dates}：相隔 {days} 个工作日，超过 {PUBLICATION_WORKDAYS} 个{counted}"
    return [Finding(doc.id, "late_publication", detail)]


def _policy_findings(doc: Document, interpreted: set[str]) -> list[Finding]:
    found = _missing_fields(doc)
    if doc.validity is Validity.UNSET:
        found.append(Finding(doc.id, "missing_validity", f"有效性{Validity.UNSET.value}"))
    if doc.id not in interpreted and not doc.validity.is_retired:
        found.append(Finding(doc.id, "missing_interpretation", "没有政策解读关联到这份政策"))
    return found + _late_publication(doc)


def _any_findings(doc: Document, ids: set[str], today: date) -> list[Finding]:
    found = []
    if doc.validity is Validity.CURRENT and doc.expiry_date is not None and doc.expiry_date < today:
        detail = f"失效日期 {doc.expiry_date.isoformat()} 已过，仍标注为{Validity.CURRENT.value}"
        found.append(Finding(doc.id, "expired_but_current", detail))
    for link, label in ((doc.interprets, "解读对象"), (doc.replaced_by, "替代文件")):
        if link and link not in ids:
            found.append(Finding(doc.id, "broken_link", f"{label} {link} 不存在"))
    if doc.validity in NEEDS_SUCCESSOR and not doc.replaced_by:
        found.append(Finding(doc.id, "retired_without_replacement", f"标注为{doc.validity.value}，但未注明替代文件"))
    return found


def check_documents(documents: Iterable[Document], today: date) -> list[Finding]:
    """Every finding over a knowledge base's current documents, by document id then in CHECKS order."""
    docs = sorted(documents, key=lambda d: d.id)
    ids = {doc.id for doc in docs}
    interpreted = {doc.interprets for doc in docs if doc.interprets}
    findings: list[Finding] = []
    for doc in docs:
        found = _any_findings(doc, ids, today)
        if doc.kind is Kind.POLICY:
            found += _policy_findings(doc, interpreted)
        findings += sorted(found, key=lambda f: CHECKS.index(f.check))
    return findings


def count_by_check(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings of each check, every check listed (0 included), for a summary."""
    counts = Counter(f.check for f in findings)
    return {check: counts[check] for check in CHECKS}
