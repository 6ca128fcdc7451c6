"""What changed between two versions of a document: its metadata fields and its body, sentence by sentence.

Chinese text often has no line breaks inside a paragraph, so a line diff would mark a whole article as changed
for one amended figure. The body is compared in sentences (split after 。！？；, line breaks kept), and a replaced
sentence also gets an inline diff over characters, with runs of digits and Latin letters kept whole
("每年[-380-]{+400+}元", not "[-38-]{+4+}0").
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date

from .document import Document, Kind, Validity
from .errors import KnowledgeError
from .store import Version

FIELD_LABELS = {
    "title": "标题",
    "kind": "类型",
    "doc_number": "文号",
    "issuer": "发文机关",
    "region": "地区",
    "written_date": "成文日期",
    "published_date": "发布日期",
    "effective_date": "生效日期",
    "expiry_date": "失效日期",
    "validity": "有效性",
    "source_url": "原文链接",
    "interprets": "解读对象",
    "replaced_by": "替代文件",
    "department": "部门",
    "tags": "标签",
    "source_path": "来源文件",
}
EMPTY = "（空）"
# a sentence ends after these marks, and after closing quotes or brackets that follow them
_SENTENCE = re.compile(r"[^\n。！？；!?;]*(?:[。！？；!?;]+[”’」』）)]*|\n|$)")
_TOKEN = re.compile(r"[0-9A-Za-z０-９.%％]+|\s+|.", re.DOTALL)


class VersionNotFound(KnowledgeError):
    code = "version_not_found"
    status = 404

    def __init__(self, doc_id: str, version: int, known: Sequence[int]) -> None:
        super().__init__(f"{doc_id} 没有版本 {version}（现有版本：{', '.join(map(str, known))}）")
        self.doc_id = doc_id
        self.version = version


@dataclass(frozen=True)
class FieldChange:
    """One metadata field whose value differs, both values as shown to people."""

    field: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class SentenceChange:
    """A sentence replaced by another, with an inline diff: [-removed-]{+added+}."""

    old: str
    new: str
    inline: str


@dataclass(frozen=True)
class VersionDiff:
    """The differences between two versions of one document."""

    doc_id: str
    old: Version
    new: Version
    fields: tuple[FieldChange, ...]
    body: tuple[str, ...]  # unified diff over sentences; empty when the body is the same
    sentences: tuple[SentenceChange, ...]

    @property
    def changed(self) -> bool:
        return bool(self.fields or self.body)


def show_value(value: object) -> str:
    """A field value as people read it: labels for kind and validity, ISO dates, tags joined by 、."""
    if isinstance(value, Kind):
        return value.label
    if isinstance(value, Validity):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "、".join(value) or EMPTY
    return str(value) if value not in (None, "") else EMPTY


def field_changes(old: Document, new: Document) -> tuple[FieldChange, ...]:
    """Every metadata field (the body aside) whose value differs, in the Document's field order."""
    changes = []
    for f in fields(Document):
        if f.name in ("id", "body"):
            continue
        before, after = getattr(old, f.name), getattr(new, f.name)
        if before != after:
            changes.append(FieldChange(f.name, FIELD_LABELS.get(f.name, f.name), show_value(before), show_value(after)))
    return tuple(changes)


def split_sentences(text: str) -> list[str]:
    """Sentences of a Chinese text, each with its closing mark; a line break ends a sentence too."""
    return [part.rstrip("\n") for part in _SENTENCE.findall(text) if part.strip()]


def inline_diff(old: str, new: str) -> str:
    """``old`` rewritten into ``new`` with [-removed-] and {+added+} marks, over characters and whole numbers."""
    before, after = _TOKEN.findall(old), _TOKEN.findall(new)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append("".join(before[i1:i2]))
            continue
        if i2 > i1:
            out.append(f"[-{''.join(before[i1:i2])}-]")
        if j2 > j1:
            out.append(f"{{+{''.join(after[j1:j2])}+}}")
    return "".join(out)


def _sentence_changes(old: list[str], new: list[str]) -> tuple[SentenceChange, ...]:
    """Pairs of replaced sentences (position by position within each replaced block)."""
    changes = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "replace":
            for before, after in zip(old[i1:i2], new[j1:j2], strict=False):
                changes.append(SentenceChange(before, after, inline_diff(before, after)))
    return tuple(changes)


def diff_versions(old: Version, new: Version, context: int = 1) -> VersionDiff:
    """Fields and body differences from ``old`` to ``new`` (either order is allowed)."""
    before, after = split_sentences(old.document.body), split_sentences(new.document.body)
    body = difflib.unified_diff(
        before, after, fromfile=f"版本 {old.version}", tofile=f"版本 {new.version}", lineterm="", n=context
    )
    return VersionDiff(
        doc_id=new.doc_id,
        old=old,
        new=new,
        fields=field_changes(old.document, new.document),
        body=tuple(body),
        sentences=_sentence_changes(before, after),
    )


def pick_versions(
    history: Sequence[Version], old: int | None = None, new: int | None = None
) -> tuple[Version, Version]:
    """Two versions of a history by number; ``new`` defaults to the latest, ``old`` to the one before ``new``."""
    if not history:
        raise ValueError("empty history")
    by_number = {v.version: v for v in history}
    numbers = sorted(by_number)
    doc_id = history[0].doc_id
    newer = numbers[-1] if new is None else new
    if newer not in by_number:
        raise VersionNotFound(doc_id, newer, numbers)
    if old is None:
        earlier = [n for n in numbers if n < newer]
        older = earlier[-1] if earlier else newer
    else:
        older = old
    if older not in by_number:
        raise VersionNotFound(doc_id, older, numbers)
    return by_number[older], by_number[newer]


def format_diff(diff: VersionDiff) -> str:
    """The diff as text for the command line."""
    old, new = diff.old, diff.new
    lines = [f"{diff.doc_id}：版本 {old.version}（{old.action}）→ 版本 {new.version}（{new.action}）"]
    if not diff.changed:
        lines.append("两个版本内容相同。")
        return "\n".join(lines)
    if diff.fields:
        lines.append("字段：")
        lines += [f"  {c.label}：{c.old} → {c.new}" for c in diff.fields]
    if diff.body:
        lines.append("正文：")
        lines += [f"  {line}" for line in diff.body]
    if diff.sentences:
        lines.append("改动的句子：")
        lines += [f"  {c.inline}" for c in diff.sentences]
    return "\n".join(lines)
