"""The work order (工单) an operator would write for a call, drafted from its transcript and its answers.

是否需要转办: yes when the call is a 投诉, 举报 or 求助 (a department must act), or when any of the
caller's questions has no answer in the knowledge base (a department must reply); a consultation
answered in full is closed on the call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from knowledge.privacy import find_phones, mask_personal_data, mask_phone
from monitor.classify import RequestType

from .questions import Question, find_places
from .roles import Role
from .transcript import Transcript

TRANSFER_TYPES = frozenset({RequestType.COMPLAINT, RequestType.REPORT, RequestType.HELP})
SUMMARY_SENTENCES = 3
_NAME = re.compile(r"我(?:叫|姓|的名字是)([\u4e00-\u9fff]{1,3}?)(?=[，,。！？\s]|$|先生|女士|是|的)")
_SPOT = re.compile(r"[\u4e00-\u9fff]{2,10}?(?:小区|花园|路|街|大道|巷|广场|市场|学校|医院|公园|工地|村委会)")
_SPOT_NOISE = re.compile(r"^(?:我们|我家|咱们|就在|住在|在|是|那个|这个|我)+")


@dataclass(frozen=True)
class WorkOrderDraft:
    """A draft 工单. ``phone`` is the full number, for the operator's screen only; everything else shows it masked."""

    called_at: datetime
    request_type: str
    category: str
    location: str
    summary: str
    answered_content: str
    department: str
    needs_transfer: bool
    caller_name: str = ""
    phone: str = field(default="", repr=False)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone) if self.phone else ""

    def as_dict(self, for_operator: bool = False) -> dict[str, str | bool]:
        """The draft under its Chinese field names; the full phone only when shown to the operator."""
        return {
            "来电时间": self.called_at.isoformat(timespec="seconds"),
            "来电人": self.caller_name,
            "联系电话": self.phone if for_operator else self.masked_phone,
            "诉求类型": self.request_type,
            "事项分类": self.category,
            "地点": self.location,
            "诉求摘要": self.summary,
            "已答复内容": self.answered_content,
            "建议承办单位": self.department,
            "是否需要转办": self.needs_transfer,
        }


def caller_text(transcript: Transcript) -> str:
    """Everything the caller said, as transcribed (numbers included)."""
    return "\n".join(turn.text for turn in transcript.said_by(Role.CALLER))


def caller_phone(transcript: Transcript) -> str:
    """The first phone number the caller gave, in digits or spoken numerals; empty when none."""
    phones = find_phones(caller_text(transcript))
    return phones[0] if phones else ""


def caller_name(transcript: Transcript) -> str:
    """The name the caller gave (我叫… / 我姓…), when they gave one."""
    for turn in transcript.said_by(Role.CALLER):
        for sentence in turn.sentences:
            match = _NAME.search(sentence)
            if match:
                return match[1]
    return ""


def location(transcript: Transcript) -> str:
    """Places and spots the caller named, in order, most specific last (青禾县柳溪镇、幸福小区)."""
    found: list[str] = []
    for turn in transcript.said_by(Role.CALLER):
        for sentence in turn.sentences:
            spots = [_SPOT_NOISE.sub("", m[0]) for m in _SPOT.finditer(sentence)]
            for name in find_places(sentence) + [s for s in spots if len(s) >= 3]:
                if not any(name in known for known in found):
                    found = [known for known in found if known not in name] + [name]
    return "、".join(found)


def summary(transcript: Transcript, questions: list[Question]) -> str:
    """1–3 sentences the caller said: their questions and requests (standalone wording) first, else their longest."""
    chosen = [q.text for q in questions[:SUMMARY_SENTENCES]]
    if not chosen:
        said = [s for turn in transcript.said_by(Role.CALLER) for s in turn.sentences]
        chosen = sorted(said, key=len, reverse=True)[:SUMMARY_SENTENCES]
    text = "".join(s if s.endswith(("。", "？", "！", "?", "!")) else s + "。" for s in chosen)
    return mask_personal_data(text)


def needs_transfer(kind: RequestType, all_answered: bool) -> bool:
    """The module's rule for 是否需要转办."""
    return kind in TRANSFER_TYPES or not all_answered
