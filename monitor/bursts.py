"""Rising topics and bursts: what is new or growing, flagged within two days of the surge, not at month's end.

A topic is a term messages name: a place or group (see ``hotspots.extract_places``) or a content noun of the
主题 (jieba, two characters or more, boilerplate words such as 问题/反映/建议 left out). Each message counts once
per topic.

Bursts (daily). For every day d of the period, x = messages naming the topic on d-1 and d; the expectation
λ = 2 × the topic's mean daily count over the ``baseline_days`` (28) before that window, floored at
``floor`` (0.25) so a topic never seen before is not infinitely surprising. The Poisson z-score
z = (x − λ) / √λ flags the topic on day d when z ≥ ``z_threshold`` (3) and x ≥ ``min_count`` (3). Consecutive
flagged days make one burst, reported from the first day it was flagged — at most one day after a two-day
surge begins. Bursts whose messages mostly overlap (a place and its problem word) are merged, keeping the
stronger.

Rising topics (period against earlier periods). c = messages naming the topic in the period, m = the mean
over the ``previous`` (3) periods of the same length just before; growth z = (c − m) / √max(m, 1). A topic
is rising when z ≥ ``z_threshold`` and c ≥ max(``min_count``, 2m); it is new when m = 0.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TypeVar

import numpy as np

from .hotspots import ADMIN_UNIT, message_places
from .messages import Message

_STOPWORDS = frozenset(
    "问题 反映 建议 咨询 投诉 举报 请求 要求 希望 关于 情况 如何 什么 为什么 怎么 是否 能否 何时 有关 相关 部门 领导 "
    "政府 市民 群众 居民 百姓 我们 请问 解决 处理 严重 影响 存在 进行 工作 一个 没有 可以 申请 办理 管理 问下 "
    "市委 书记 市长 县长 区长 网友 帮助 一下 多年 长期 年度 今年 去年 小区 业主 街道 有限公司 公司 国际 地方 "
    "人员 情况 现象 行为 事情 时间 单位 "
    # nouns every kind of message uses: a burst of them says nothing about what people raise
    "方面 措施 政策 规定 标准 手续 材料 资料 文件 地方 地区 区域 工作人员 办法 原因 结果 事件 事项 事宜 信息 内容 "
    "消息 回复 答复 留言 意见 诉求 权益 利益 困难 质量 安全 环境 生活 发展 建设 服务 老百姓 人民 大家 本人 自己 "
    "个人 家庭 社会 国家 时候 现在 目前 全体 有关部门 相关部门 职能部门 主管部门 网络 平台 群体 事件".split()
)
_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")
_NOUN_FLAGS = ("n", "vn", "nz", "ns", "nt", "j")


@lru_cache(maxsize=65536)
def title_terms(title: str) -> tuple[str, ...]:
    """Content nouns of a 主题 (jieba POS), boilerplate left out."""
    import jieba.posseg

    words = (t.word for t in jieba.posseg.lcut(ADMIN_UNIT.sub(" ", title)) if t.flag.startswith(_NOUN_FLAGS))
    return tuple(dict.fromkeys(w for w in words if _WORD.fullmatch(w) and w not in _STOPWORDS))


def message_topics(message: Message) -> frozenset[str]:
    """The topics a message counts towards: its places and groups, and the nouns of its 主题."""
    return frozenset(message_places(message)) | frozenset(title_terms(message.title))


@dataclass(frozen=True)
class Burst:
    """A topic that surged: flagged on ``detected_on``, counting ``count`` messages over its flagged days."""

    topic: str
    detected_on: date
    last_day: date
    count: int
    expected: float
    z: float
    new: bool
    message_ids: tuple[str, ...]


@dataclass(frozen=True)
class RisingTopic:
    """A topic with more messages in the period than in the periods before."""

    topic: str
    count: int
    previous_mean: float
    z: float
    new: bool
    message_ids: tuple[str, ...]


_Item = TypeVar("_Item", Burst, RisingTopic)


@dataclass(frozen=True)
class BurstSettings:
    """Parameters of both statistics (see the module docstring)."""

    baseline_days: int = 28
    window_days: int = 2
    floor: float = 0.25
    z_threshold: float = 3.0
    min_count: int = 3
    previous: int = 3


def _daily(messages: Sequence[Message], topics: set[str]) -> dict[str, dict[date, list[Message]]]:
    by_topic: dict[str, dict[date, list[Message]]] = defaultdict(lambda: defaultdict(list))
    for m in messages:
        for topic in message_topics(m) & topics:
            by_topic[topic][m.at.date()].append(m)
    return by_topic


@dataclass
class _Open:
    """A burst still being flagged, day after day."""

    detected: date
    last: date
    expected: float
    z: float
    new: bool
    ids: dict[str, None]

    def close(self, topic: str) -> Burst:
        return Burst(topic, self.detected, self.last, len(self.ids), round(self.expected, 2), round(self.z, 2),
                     self.new, tuple(self.ids))


def _flagged_days(
    days: dict[date, list[Message]], start: date, end: date, s: BurstSettings
) -> list[tuple[int, float, float, int]]:
    """(day offset from start, expected, z, baseline count) of every flagged day, from cumulative daily counts."""
    first = start - timedelta(days=s.window_days + s.baseline_days)
    span = (end - first).days
    counts = np.zeros(span + 1, dtype=np.int64)
    for day, items in days.items():
        if first <= day < end:
            counts[(day - first).days + 1] = len(items)
    total = np.cumsum(counts)  # total[k] = messages on the first k days
    offset = (start - first).days
    ends = np.arange(offset + 1, span + 1)  # window of day d covers days (d - window, d]
    x = total[ends] - total[ends - s.window_days]
    base = total[ends - s.window_days] - total[ends - s.window_days - s.baseline_days]
    expected = np.maximum(s.window_days * base / s.baseline_days, s.floor)
    z = (x - expected) / np.sqrt(expected)
    flagged = np.nonzero((x >= s.min_count) & (z >= s.z_threshold))[0]
    return [(int(k), float(expected[k]), float(z[k]), int(base[k])) for k in flagged]


def _scan(topic: str, days: dict[date, list[Message]], start: date, end: date, s: BurstSettings) -> list[Burst]:
    bursts: list[Burst] = []
    current: _Open | None = None
    previous = -2
    for k, expected, z, base in _flagged_days(days, start, end, s):
        day = start + timedelta(days=k)
        window = [day - timedelta(days=w) for w in range(s.window_days - 1, -1, -1)]
        ids = dict.fromkeys(m.external_id for d in window for m in days.get(d, ()))
        if current is not None and k == previous + 1:
            current.ids.update(ids)
            current.z, current.last = max(current.z, z), day
        else:
            if current is not None:
                bursts.append(current.close(topic))
            current = _Open(day, day, expected, z, base == 0, ids)
        previous = k
    if current is not None:
        bursts.append(current.close(topic))
    return bursts


def _merge_overlapping(items: Sequence[_Item], places: set[str]) -> list[_Item]:
    """Of topics that share most of their messages, keep one: a place before a word, then the strongest."""
    kept: list[_Item] = []
    owners: dict[str, list[int]] = defaultdict(list)  # message id → the kept topics counting it
    for item in sorted(items, key=lambda b: (b.topic not in places, -b.z, -len(b.topic), b.topic)):
        ids = set(item.message_ids)
        shared = Counter(k for m in ids for k in owners.get(m, ()))
        if all(n < 0.5 * min(len(ids), len(kept[k].message_ids)) for k, n in shared.items()):
            for m in ids:
                owners[m].append(len(kept))
            kept.append(item)
    return kept


def detect_bursts(messages: Sequence[Message], start: datetime, end: datetime,
                  settings: BurstSettings = BurstSettings()) -> list[Burst]:
    """Bursts flagged on days in [start, end); ``messages`` should reach ``baseline_days`` before start."""
    if not messages:
        return []
    # a day is judged only once its whole baseline lies inside the data (which starts when 0.5 % of the messages
    # had arrived, so a few stray older rows do not count): the first weeks of an export are not news
    times = sorted(m.at for m in messages)
    covered = times[len(times) // 200] + timedelta(days=settings.window_days + settings.baseline_days)
    start = max(start, covered.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1))
    lead = start - timedelta(days=settings.window_days)
    recent = [m for m in messages if lead <= m.at < end]
    places = {p for m in recent for p in message_places(m)}
    active = {t for t, n in Counter(t for m in recent for t in message_topics(m)).items() if n >= settings.min_count}
    bursts = [b for topic, days in _daily(messages, active).items()
              for b in _scan(topic, days, start.date(), end.date(), settings)]
    return sorted(_merge_overlapping(bursts, places), key=lambda b: (b.detected_on, -b.z))


def rising_topics(messages: Sequence[Message], start: datetime, end: datetime,
                  settings: BurstSettings = BurstSettings()) -> list[RisingTopic]:
    """Topics new or growing in [start, end) against the ``previous`` periods of the same length before it."""
    length = end - start
    history_start = start - settings.previous * length
    current: dict[str, list[str]] = defaultdict(list)
    before: dict[str, int] = defaultdict(int)
    for m in messages:
        if start <= m.at < end:
            for topic in message_topics(m):
                current[topic].append(m.external_id)
        elif history_start <= m.at < start:
            for topic in message_topics(m):
                before[topic] += 1
    rising = []
    for topic, ids in current.items():
        mean = before.get(topic, 0) / settings.previous
        z = (len(ids) - mean) / math.sqrt(max(mean, 1.0))
        if z >= settings.z_threshold and len(ids) >= max(settings.min_count, 2 * mean):
            rising.append(RisingTopic(topic, len(ids), round(mean, 2), round(z, 2), mean == 0, tuple(ids)))
    places = {p for m in messages if start <= m.at < end for p in message_places(m)}
    return _merge_overlapping(rising, places)
