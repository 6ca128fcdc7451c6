"""Reply quality: how fast, how relevant and how complete each department reply is, and who signed it.

Metrics, each in [0, 1] (higher is better):

- **timeliness** — working days from the message to its reply, counted with China's official holidays and
  make-up workdays (``chinese-calendar``; outside its years, Monday–Friday): the workdays d with
  message date < d <= reply date, so a message on 2019-09-30 answered on 2019-10-08 took 1 working day, not 8
  calendar days. Score 1 within ``target_days`` (default 15, the usual 网络问政 handling limit), falling
  linearly to 0 at three times the target.
- **relevance** — the mean of (a) the cosine between the message's stored vector and the vector of the reply's
  substance (both embedded on import), rescaled from [``cosine_floor``, ``cosine_ceiling``] = [0.86, 0.93] to
  [0, 1]: on the real replies a message and someone else's reply have median cosine 0.86 (95th percentile
  0.89), a message and its own reply median 0.90 (75th percentile 0.92); and (b) word overlap: the share
  of the 主题's content words (jieba, two characters or more) that the reply repeats.
- **completeness** — the share of four parts present: greeting (您好…), substance (≥ 60 characters once greeting,
  receipt and thanks are set aside), basis (a cited document 《…》, 根据/依据/按照…规定), closing (感谢, 如有疑问,
  联系电话…).
- **score** — the mean of the three; the weakest replies are the lowest scores.

The department is read from the reply's signature ("…区教育局 2019年5月9日"), else from the first unit the
body names with its administrative prefix (A3区洋湖街道, 市城管局) or a town or street office; otherwise 未署名.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from knowledge.workdays import working_days_after

if TYPE_CHECKING:
    from .messages import Message

_PREAMBLE_END = re.compile(r"((?:如下|答复|回复)[:：])")
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")
_BOILERPLATE = re.compile(
    r"^(?:网友|尊敬的|亲爱的|“?[A-Z]{1,2}\d+”?|您好|你好|[^，,。]{0,12}[:：]?\s*您好)|收悉|已收到|现将.{0,30}(?:回复|答复)如下|"
    r"(?:回复|答复)如下|感谢|谢谢|欢迎|特此|此复|祝您"
)
_GREETING = re.compile(r"您好|你好|尊敬的")
_BASIS = re.compile(r"《[^》]{2,60}》|根据|依据|按照|依照|规定|条例|办法|政策|文件|第[一二三四五六七八九十百\d]+条")
_CLOSING = re.compile(r"感谢|谢谢|欢迎|如有疑问|如有.{0,10}(?:问题|意见|建议)|联系电话|咨询电话|特此|此复|祝您")
_SUFFIX = (
    r"(?:委员会|办公室|街道办事处|办事处|人民政府|街道|管理局|分局|支队|大队|中队|中心|有限公司|公司|集团"
    r"|局|委|办|厅|院|所|站|镇|乡|处)"
)
# A unit named with its administrative prefix (A7县交通运输局, 市城管局), or a town or street office by name.
_UNIT = (
    rf"(?:(?:中共)?(?:[A-Z]\d{{0,2}}[市区县]|[省市区县])[\u4e00-\u9fffA-Z0-9]{{0,14}}?{_SUFFIX}"
    r"|[^\W\d_的您你我谢对在是了和与及其该此这那所到至个各]{2,4}(?:街道办事处|镇人民政府|乡人民政府|街道|镇|乡))"
    r"(?!书记|领导|常委|主要|副)"  # 县委书记 names a person, not the replying unit
)
_SIGNATURE = re.compile(rf"(?P<unit>{_UNIT})[\s,，。:：]*\d{{4}}\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日?[\s。]*$")
_BODY_UNIT = re.compile(rf"(?P<unit>{_UNIT})")
_LEADING_JUNK = re.compile(r"^(?:针对|对于|关于|收到|感谢|经|由|请|现|已|您|网友|我|该|此|对|据|为|在|向|将|从)+")
_WORD = re.compile(r"[\u4e00-\u9fff]{2,}|[A-Za-z]+\d*")
UNSIGNED = "未署名"
PARTS = ("greeting", "substance", "basis", "closing")


def sentences(text: str) -> list[str]:
    """A reply split into sentences, whitespace trimmed."""
    text = _PREAMBLE_END.sub(r"\1\n", text or "")  # "现将有关情况回复如下：经调查…" is two sentences
    return [s.strip(" \u3000") for s in _SENTENCE.findall(text) if s.strip(" \u3000")]


def _is_boilerplate(sentence: str) -> bool:
    return len(sentence) < 8 or bool(_BOILERPLATE.search(sentence[:40]))


def reply_substance(reply: str) -> str:
    """A reply without its greeting, acknowledgement and thanks: what the department actually said."""
    kept = [s for s in sentences(reply) if not _is_boilerplate(s)]
    return "".join(kept) or (reply or "")


def reply_gist(reply: str, limit: int = 120) -> str:
    """The reply's first substantive sentence (greeting and 'your message is received' skipped)."""
    for sentence in sentences(reply):
        if not _is_boilerplate(sentence):
            return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"
    return (reply or "")[:limit]


def _clean_unit(unit: str) -> str:
    unit = _LEADING_JUNK.sub("", unit.strip(" ，,。:："))
    return unit if len(unit) >= 2 else ""


def reply_department(reply: str) -> str:
    """The replying department, from the signature before the date, else from the body; 未署名 when neither."""
    text = re.sub(r"[\s\u3000\xa0]+", " ", reply or "").strip()
    match = _SIGNATURE.search(text[-80:])
    if match and (unit := _clean_unit(match["unit"])):
        return unit
    for match in _BODY_UNIT.finditer(text):
        if unit := _clean_unit(match["unit"]):
            return unit
    return UNSIGNED


@dataclass(frozen=True)
class ReplyQualitySettings:
    """The thresholds the metrics use (see the module docstring)."""

    target_days: int = 15
    cosine_floor: float = 0.86
    cosine_ceiling: float = 0.93
    min_substance_chars: int = 60


@dataclass(frozen=True)
class ReplyAssessment:
    """One reply's metrics."""

    message_id: str
    title: str
    department: str
    asked_at: datetime
    replied_at: datetime | None
    working_days: int | None
    calendar_exact: bool
    timeliness: float | None
    cosine: float | None
    overlap: float
    relevance: float
    completeness: float
    missing_parts: tuple[str, ...]
    score: float
    gist: str


def timeliness_score(days: int, target: int) -> float:
    """1 within the target, linearly down to 0 at three times the target."""
    return 1.0 if days <= target else max(0.0, 1.0 - (days - target) / (2 * target))


@lru_cache(maxsize=65536)
def _title_words(title: str) -> frozenset[str]:
    import jieba

    return frozenset(w for w in jieba.lcut(title) if _WORD.fullmatch(w))


def word_overlap(title: str, reply: str) -> float:
    """Share of the title's content words (jieba, ≥ 2 characters) that the reply repeats."""
    words = _title_words(title)
    return sum(1 for w in words if w in reply) / len(words) if words else 0.0


def missing_parts(reply: str, min_substance_chars: int) -> tuple[str, ...]:
    """Which of greeting, substance, basis and closing the reply lacks."""
    present = {
        "greeting": bool(_GREETING.search(reply[:80])),
        "substance": len(reply_substance(reply)) >= min_substance_chars,
        "basis": bool(_BASIS.search(reply)),
        "closing": bool(_CLOSING.search(reply[-200:])),
    }
    return tuple(part for part in PARTS if not present[part])


def assess_reply(
    message: Message, cosine: float | None, settings: ReplyQualitySettings = ReplyQualitySettings()
) -> ReplyAssessment:
    """The metrics of one message's reply; ``cosine`` is message vector · reply vector when both exist."""
    reply = message.reply or ""
    days, exact = working_days_after(message.at.date(), message.reply_at.date()) if message.reply_at else (None, False)
    timeliness = timeliness_score(days, settings.target_days) if days is not None else None
    overlap = word_overlap(message.title, reply)
    span = settings.cosine_ceiling - settings.cosine_floor
    dense = min(1.0, max(0.0, (cosine - settings.cosine_floor) / span)) if cosine is not None else overlap
    relevance = (dense + overlap) / 2
    missing = missing_parts(reply, settings.min_substance_chars)
    completeness = 1 - len(missing) / len(PARTS)
    scores = [relevance, completeness] + ([timeliness] if timeliness is not None else [])
    return ReplyAssessment(
        message_id=message.external_id, title=message.title, department=reply_department(reply),
        asked_at=message.at, replied_at=message.reply_at, working_days=days, calendar_exact=exact,
        timeliness=timeliness, cosine=cosine, overlap=round(overlap, 3), relevance=round(relevance, 3),
        completeness=completeness, missing_parts=missing, score=round(sum(scores) / len(scores), 3),
        gist=reply_gist(reply),
    )


def assess_replies(
    messages: Sequence[Message],
    vectors: np.ndarray,
    reply_vectors: dict[str, np.ndarray],
    settings: ReplyQualitySettings = ReplyQualitySettings(),
) -> list[ReplyAssessment]:
    """Assess every message that carries a reply; ``vectors`` rows align with ``messages``."""
    assessed = []
    for row, message in enumerate(messages):
        if not message.reply:
            continue
        reply_vector = reply_vectors.get(message.id)
        cosine = float(vectors[row] @ reply_vector) if reply_vector is not None and len(vectors) else None
        assessed.append(assess_reply(message, cosine, settings))
    return assessed


def weakest_replies(assessments: Sequence[ReplyAssessment], n: int = 10) -> list[ReplyAssessment]:
    """The n lowest-scoring replies, each with its department."""
    return sorted(assessments, key=lambda a: (a.score, a.asked_at))[:n]


def department_summary(assessments: Sequence[ReplyAssessment]) -> list[dict[str, float | int | str]]:
    """Per department: replies, mean working days, mean score; weakest departments first."""
    groups: dict[str, list[ReplyAssessment]] = {}
    for a in assessments:
        groups.setdefault(a.department, []).append(a)
    rows: list[dict[str, float | int | str]] = []
    for department, items in groups.items():
        days = [a.working_days for a in items if a.working_days is not None]
        rows.append({
            "department": department, "replies": len(items),
            "mean_working_days": round(sum(days) / len(days), 1) if days else float("nan"),
            "mean_score": round(sum(a.score for a in items) / len(items), 3),
        })
    return sorted(rows, key=lambda r: (float(r["mean_score"]), -int(r["replies"])))
