"""Hot issues: messages that report the same problem at the same place or for the same group of people.

Grouping. Each message's places and groups are extracted from its 主题 and the start of its 详情 (rules over
jieba tokens: a run of name-like tokens ending in 小区/花园/路/学校/公司/村/镇/街道…, after the anonymised
administrative units A市/A3区/K7县/经开区 are set apart; and groups such as 教师, 辅警, a company's 员工); a
place also counts under its shorter forms (暮云街道丽发新城小区 → 丽发新城小区, 丽发新城). Labels stay names:
a date, house number or quantity ends one (老虎塘路65号银杏嘉园 → 老虎塘路, 银杏嘉园), a suffix that opens the
next word is not doubled (太平路路灯 → 太平路, 莲湖村村民 → 莲湖村), and a stem in lower-case Latin is a kind of
business or a cut word (p2p公司, app), not a name, except a bus route (n108路 → N108路). Messages
sharing a place are blocked together; inside a block, two messages are linked when their stored vectors'
cosine reaches ``similarity`` (``group_similarity`` when all they share is a group word such as 教师) and they
were written within ``window_days`` of each other. Vectors are centred on the period's mean first: e5-style
models put any two short Chinese messages near cosine 0.87, centred the median unrelated pair is 0.0 and the
99th percentile 0.26, while messages about one problem at one place mostly score above 0.4. Vectors are
compared a slice of rows of one block at a time, never as an n×n matrix. Linked messages are merged with
union-find; a merged group is then split by the place most of its titles name, so every message of an issue names
the issue's place, and by problem (a member like no part of the group leaves it). An issue needs two messages, or
one that ``min_engagement`` (100) likes and dislikes made hot. Its label is the place and the problem's key words,
丽发新城（搅拌站）: the words most of its titles share once places are taken out, more of them while two issues
of one place would read the same.

Heat index, higher is hotter::

    heat = 10 · (2·ln(1+U) + ln(1+N) + 0.5·ln(1+L+D)) · (0.7 + 0.3·C) · (0.75 + 0.25·R)

U distinct users (a crowd weighs more than one persistent writer), N messages, L likes and D dislikes (both
are attention), C concentration: the largest share of the messages written within any 7 days (a surge is
more urgent than a trickle), R recency: 0.5 ** (days from the last message to the period's end / 30).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np

from .messages import Message

# A8县市 is how the export writes a county-level city: that 市 belongs to the unit (not in A7县市政道路)
ADMIN_UNIT = re.compile(
    r"[A-Z]\d{0,2}(?:县市(?!政|场|民|委|区|直|属|级)|[市区县州省])|西地省|经开区|高新区|经济技术开发区"
)
# a date, house number or quantity glued onto a name (2019年5月28日悦居星城, 老虎塘路65号银杏嘉园, 3家汽修厂): a
# boundary between names, never part of one; 地铁3号线 stays whole
QUANTITY = re.compile(
    r"\d+(?:\.\d+)?(?:年|月|日|号(?!线)|栋|期|楼|层|单元|届|米|公里|条|家|座|吨|亿|万|点|个|户|天|岁|元)(?:多|左右)?"
)
_PLACE_SUFFIX = (
    "小区|花园|花苑|家园|公寓|大厦|广场|新城|新村|社区|村委会|村|组|镇|乡|街道|大道|路|街|巷|大桥|桥|隧道|高速|"
    "立交|号线|站|学校|小学|中学|一中|二中|大学|学院|幼儿园|医院|卫生院|公司|集团|厂|银行|市场|超市|酒店|"
    "宾馆|公园|景区|项目|楼盘|苑|园|城|湾|府|庭|郡|国际|工业园|产业园|开发区|派出所"
)
_PLACE = re.compile(rf"^(.*(?:{_PLACE_SUFFIX}))")
_SUFFIXES = tuple(sorted(_PLACE_SUFFIX.split("|"), key=len, reverse=True))
_ONE_CHAR_SUFFIXES = frozenset(x for x in _SUFFIXES if len(x) == 1)
_ROUTE = re.compile(r"[a-z]\d+")  # n108路, w218路: a bus route written in lower case (N108路)
_LOWER_LATIN = re.compile(r"[a-z]")  # p2p公司, app借款公司, me城: a kind of business or a word cut apart, not a name
_GENERIC = frozenset(
    "我们 我家 我 该 本 此 这个 那个 一个 附近 周边 各 所有 新 老 原 整个 全 城区 县城 市区 物业 开发商 "
    "房地产 建筑 教育 培训 装修 快递 网络 科技 有限 投资 相关 有关 当地 农村 城市 城乡 公交 地铁 高铁 "
    "火车 汽车 小 大 中 高 初 公办 民办 私立 "
    "安置 商品 保障 居民 业主 学生 住宅 工业 旅游 酒 当 其他 所在 两 多 几 部分 某 其 其它 拆迁 物流 施工 停车 学 上 "
    "市政 区政 县政 省政 人民政 市委市政 党和政 人民 必经之 搅拌 垃圾 加油 公交线 城市道 高速公 水泥 过街天 快速 高架 "
    "国家中心 普惠性 小区 交通 中心 道 马 公 铁 这条 一条 该条 主干 城际 国际 一".split()
)
_GROUP = re.compile(
    "(退休教师|民办教师|代课教师|特岗教师|乡村教师|乡村医生|教师|老师|辅警|协警|环卫工人|环卫工|农民工|退伍军人|退役军人|"
    "残疾人|出租车司机|网约车司机|快递员|外卖员|失地农民|下岗职工|退休职工|退休人员|员工|职工|医护人员|护士|"
    "公交司机|保安|临聘人员|合同工|村医|规培生|研究生|大学生|毕业生|学生)"
)
_JUNK_WORD = re.compile("^(?:大部分|部分|很多|一些|所有|整个|一个|这个|那个|每个|各个)")
_JUNK_CHARS = frozenset("选成在到去从往把被让给对向与和及或个几该本此")
_EMPLOYER = re.compile("(?:公司|集团|厂|学校|小学|中学|大学|学院|幼儿园|医院|卫生院|银行|酒店)$")
_BROAD_GROUPS = frozenset({"员工", "职工", "学生"})  # only with the organisation they work for: 广铁集团职工
_NAME_FLAGS = ("n", "j", "eng", "m", "b", "zg", "l", "s", "an")
_SPLIT = re.compile(r"[\s，。！？、；：“”‘’（）()《》【】\[\],.!?;:\"'…—\-·/]+")


@lru_cache(maxsize=65536)
def _runs(segment: str) -> tuple[str, ...]:
    """Maximal runs of name-like jieba tokens in a segment (no punctuation, no administrative unit)."""
    import jieba.posseg

    runs, current = [], ""
    for token in jieba.posseg.lcut(segment):
        if token.flag.startswith(_NAME_FLAGS) or (token.flag.startswith("ng") or token.flag.startswith("nr")):
            current += token.word
        else:
            if current:
                runs.append(current)
            current = ""
    if current:
        runs.append(current)
    return tuple(runs)


@lru_cache(maxsize=1)
def _dictionary() -> dict[str, int]:
    import jieba

    jieba.initialize()
    return jieba.dt.FREQ


def _strip_junk(name: str) -> str:
    """Drop a glued verb or quantity (选麦芒国际), not a name's own first character (和平路, 向阳小区, 成龙大道)."""
    words = _dictionary()
    while True:
        if match := _JUNK_WORD.match(name):
            name = name[match.end() :]
        elif name[:1] in _JUNK_CHARS and not words.get(name[:2]):
            name = name[1:]
        else:
            return name


def _place(run: str) -> str | None:
    match = _PLACE.match(run)
    if match is None:
        return None
    place = match[1]
    if len(place) > 2 and place[-1] == place[-2] and place[-1] in _ONE_CHAR_SUFFIXES:
        place = place[:-1]  # 太平路|路灯, 莲湖村|村民, 火星镇|镇政府: the second 路 / 村 / 镇 opens the next word
    suffix = next(s for s in _SUFFIXES if place.endswith(s))
    stem = _strip_junk(place[: -len(suffix)])
    place = _strip_junk(place)  # jieba glues a verb or quantity onto an unknown name: 选麦芒国际
    if len(stem) < 2 or stem in _GENERIC or stem[-1:] in ("的", "个") or place in _GENERIC:
        return None
    if _ROUTE.fullmatch(stem):
        return place.upper()
    return None if _LOWER_LATIN.search(stem) else place


@lru_cache(maxsize=65536)
def _word_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Where jieba's dictionary words of a text start and end (no HMM: an unknown name is not guessed into words,
    it stays single characters)."""
    import jieba

    spans, at = [], 0
    for word in jieba.lcut(text, HMM=False):
        spans.append((at, at + len(word)))
        at += len(word)
    return tuple(spans)


def _sub_places(place: str) -> list[str]:
    """暮云街道丽发新城小区 also names 暮云街道, 丽发新城小区 and 丽发新城: messages write every form."""
    valid = [_place(place[:i]) == place[:i] for i in range(len(place) + 1)]
    spans = _word_spans(place)
    ends = {end for _, end in spans}
    # a boundary ends a place and the next character does not lengthen it (暮云街|道 is no boundary), and it falls
    # between two words: 绿地城际空间站 is 绿地|城际|空间站, not 绿地城 + 际空间站
    cuts = [i for i in range(3, len(place)) if valid[i] and not valid[i + 1] and i in ends]
    subs = []
    for start in [0, *cuts]:
        for end in [*cuts, len(place)]:
            piece = place[start:end]
            if end - start >= 3 and piece != place and _place(piece) == piece:
                subs.append(piece)
    # a brand written before the name (绿地城际空间站, 地绿城际空间站): the name from a later dictionary word on,
    # when it is long enough to be one and does not open with a suffix (暮云街道丽发新城小区 gives no 街道丽发新城小区)
    for start, end in spans[1:]:
        tail, first_word = place[start:], place[start:end]
        if len(first_word) >= 2 and first_word not in _SUFFIXES and len(tail) >= 5 and _place(tail) == tail:
            subs.append(tail)
    return list(dict.fromkeys(subs))


@lru_cache(maxsize=65536)
def extract_places(text: str) -> tuple[str, ...]:
    """Places, organisations and groups of people a text names (most specific first, each once)."""
    found: list[str] = []
    for segment in _SPLIT.split(QUANTITY.sub(" ", ADMIN_UNIT.sub(" ", text))):
        if len(segment) < 2:
            continue
        for run in _runs(segment):
            employer = ""  # the organisation named just before a group word: 广铁集团|职工|定向商品房…
            for k, piece in enumerate(_GROUP.split(run)):
                if k % 2:
                    if employer or piece not in _BROAD_GROUPS:
                        found.append(f"{employer}{piece}")
                    employer = ""
                elif piece:
                    place = _place(piece)
                    found.extend([place] if place else [])
                    employer = place if place and _EMPLOYER.search(place) and piece.endswith(place) else ""
    for place in list(found):
        found.extend(_sub_places(place))
    ordered = sorted(dict.fromkeys(found), key=lambda p: (-len(p), found.index(p)))
    return tuple(ordered)


def message_places(message: Message, detail_chars: int = 40) -> tuple[str, ...]:
    """Places and groups a message names in its 主题 and the start of its 详情."""
    return extract_places(f"{message.title}。{message.detail[:detail_chars]}")


@dataclass(frozen=True)
class IssueMessage:
    """A row of the detail table: 问题ID → 留言编号, 留言时间, 留言主题."""

    issue_id: str
    message_id: str
    at: datetime
    title: str


@dataclass(frozen=True)
class HotIssue:
    """A row of the hot-issue table: 热度排名, 问题ID, 热度指数, 时间范围, 地点/人群, 问题描述."""

    rank: int
    issue_id: str
    heat: float
    start: datetime
    end: datetime
    place_or_group: str
    description: str
    messages: tuple[IssueMessage, ...]
    users: int
    likes: int
    dislikes: int
    key_words: tuple[str, ...] = ()  # the problem's words most of its titles share: tell apart two issues of a place

    @property
    def label(self) -> str:
        """The place and the problem's key words, 丽发新城（搅拌站）: unique among a report's hot issues."""
        return f"{self.place_or_group}（{'、'.join(self.key_words)}）" if self.key_words else self.place_or_group

    @property
    def time_range(self) -> str:
        return f"{self.start:%Y/%m/%d} 至 {self.end:%Y/%m/%d}"

    def to_json(self) -> dict[str, Any]:
        """The issue as the report's JSON ``hot_issues`` entry."""
        return {
            "rank": self.rank,
            "issue_id": self.issue_id,
            "heat": self.heat,
            "time_range": [self.start.isoformat(), self.end.isoformat()],
            "place_or_group": self.place_or_group,
            "label": self.label,
            "key_words": list(self.key_words),
            "description": self.description,
            "message_ids": [m.message_id for m in self.messages],
            "messages": len(self.messages),
            "users": self.users,
            "likes": self.likes,
            "dislikes": self.dislikes,
        }

    def table_row(self) -> dict[str, Any]:
        """The challenge's columns, in Chinese."""
        return {
            "热度排名": self.rank,
            "问题ID": self.issue_id,
            "热度指数": self.heat,
            "时间范围": self.time_range,
            "地点/人群": self.place_or_group,
            "问题描述": self.description,
        }


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> None:
        a, b = self.find(i), self.find(j)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def _link_block(
    members: list[int],
    vectors: np.ndarray,
    days: np.ndarray,
    uf: _UnionFind,
    similarity: float,
    window: float,
    slice_rows: int = 512,
) -> None:
    """Union the messages of one place block that are similar and close in time, a slice of rows at a time."""
    block = vectors[members]
    block_days = days[members]
    for start in range(0, len(members), slice_rows):
        sims = block[start : start + slice_rows] @ block.T
        gaps = np.abs(block_days[start : start + slice_rows, None] - block_days[None, :])
        rows, cols = np.nonzero((sims >= similarity) & (gaps <= window))
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            if start + r < c:
                uf.union(members[start + r], members[c])


def _split_by_place(
    group: list[int], places: list[tuple[str, ...]], titles: Sequence[str]
) -> list[tuple[str, list[int]]]:
    """Greedy cover: the place most members' titles name takes every member naming it (then the place most members
    name, then the longer one, on ties). Titles first: 泉塘小塘路路灯太暗 is about 小塘路, though its details, like
    a message about another junction, also name 漓楚路."""
    parts: list[tuple[str, list[int]]] = []
    left = list(group)
    while left:
        counts = Counter(p for i in left for p in set(places[i]))
        in_titles = Counter(p for i in left for p in set(places[i]) if p in titles[i])
        place = max(counts, key=lambda p: (in_titles[p], counts[p], len(p), p))
        taken = [i for i in left if place in places[i]]
        parts.append((place, taken))
        left = [i for i in left if place not in places[i]]
    return parts


def _coherent_parts(members: list[int], vectors: np.ndarray, similarity: float) -> list[list[int]]:
    """Split a linked group whose chain joined different problems (A like B, B like C, A unlike C).

    Linking is single-linkage, so a compound's noise complaints and its parking-fee complaints can meet through
    one message that mentions both. Each member instead joins the part whose centroid it is most similar to,
    when that reaches ``similarity``, else starts its own; parts of two or more members are kept and every
    member moves to the nearest of them when it is that similar to it. A member like none of them (泉塘小塘路路灯太暗
    twice, chained through 漓楚路 to 漓楚路和东四路交汇处绿灯通行时间太短) is another problem and leaves the issue.
    """
    if len(members) < 3:
        return [members]
    block = vectors[members]
    sums: list[np.ndarray] = []
    sizes: list[int] = []
    for vector in block:
        if sums:
            centroids = np.vstack(sums)
            scores = (centroids @ vector) / np.maximum(np.linalg.norm(centroids, axis=1), 1e-12)
            best = int(np.argmax(scores))
            if scores[best] >= similarity:
                sums[best] = sums[best] + vector
                sizes[best] += 1
                continue
        sums.append(vector.copy())
        sizes.append(1)
    kept = [total for total, size in zip(sums, sizes, strict=True) if size >= 2]
    if not kept:
        return [members]
    centroids = np.vstack(kept)
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    scores = block @ centroids.T
    labels, best = np.argmax(scores, axis=1), scores.max(axis=1)
    parts: dict[int, list[int]] = defaultdict(list)
    for member, label, score in zip(members, labels.tolist(), best.tolist(), strict=True):
        if score >= similarity:  # a member like no problem of the group only joined it through a chain: left out
            parts[label].append(member)
    return [part for part in parts.values() if part]


# words every complaint uses, which name no problem: 反映…问题, 请求…尽快解决
_NOT_KEY = frozenset(
    "反映 问题 投诉 举报 请求 建议 希望 关于 咨询 严重 解决 要求 领导 政府 相关 部门 我们 业主 "
    "居民 存在 何时 什么 能否 是否 如何 为何 为什么 怎么 怎样 进行 没有 不能 还是 一下 市民 群众 "
    "情况 处理 尽快 加快 再次 强烈 恳请 请问 申请 呼吁 有关 现象 事情 给予 政府部门 相关部门 有没有 一直 "
    "多次 已经 至今 谁来 问问 可以 是不是 的话 这么 这样 那么 为啥 情形 一些 有些 目前 现在 今年 "
    "去年 及时 迟迟 以及 及其 但是 而且 还有 市里 县里 区里 附近 周边 门口 时候 什么时候 几点 疑惑 一系列 "
    "合理 出面 如期 能不能 为何迟迟 怎么办 不了 不到 不要 得到 一个".split()
)
_NOT_A_WORD = re.compile(r"^[\dA-Za-z]+$")


def _problem_words(message: Message) -> set[str]:
    """The words of a title once its places and administrative units are taken out: what the problem is."""
    import jieba

    title = ADMIN_UNIT.sub("，", message.title)
    for place in message_places(message):
        title = title.replace(place, "，")
    return {w for w in jieba.lcut(title) if len(w) >= 2 and w not in _NOT_KEY and not _NOT_A_WORD.match(w)}


def _ranked_words(items: Sequence[Message]) -> list[tuple[str, int]]:
    """An issue's problem words and how many of its titles use each, most used first (ties: the first title's
    order)."""
    counts: Counter[str] = Counter()
    order: dict[str, int] = {}
    for message in items:
        for word in sorted(_problem_words(message), key=message.title.find):
            counts[word] += 1
            order.setdefault(word, len(order))
    words = sorted(counts, key=lambda w: (-counts[w], order[w]))
    # a word inside a longer one as frequent (搅拌 in 搅拌站) says nothing more
    kept = [w for w in words if not any(w != o and w in o and counts[o] >= counts[w] for o in words)]
    return [(w, counts[w]) for w in kept]


def _key_words(
    ranked: list[list[tuple[str, int]]], places: Sequence[str], sizes: Sequence[int]
) -> list[tuple[str, ...]]:
    """Each issue's key words: its most used word when two of its titles share it (a message or two: its first
    word), and more while another issue of its place reads the same. Five different complaints about one compound
    share no word: the place alone says so better than one of them would."""
    chosen = [tuple(w for w, n in words[:1] if n >= 2 or size <= 2) for words, size in zip(ranked, sizes, strict=True)]
    for _ in range(3):
        seen = Counter((place, words) for place, words in zip(places, chosen, strict=True))
        clashes = [k for k, key in enumerate(zip(places, chosen, strict=True)) if seen[key] > 1]
        if not clashes:
            break
        for k in clashes:
            chosen[k] = tuple(w for w, _ in ranked[k][: len(chosen[k]) + 1])
    return chosen


def heat_index(items: Sequence[Message], end: datetime) -> float:
    """The heat of a group of messages at the period's end (formula in the module docstring)."""
    users = len({m.user or m.id for m in items})
    engagement = sum(m.likes + m.dislikes for m in items)
    times = sorted(m.at for m in items)
    densest, j = 1, 0
    for i, t in enumerate(times):
        while times[j] < t - timedelta(days=7):
            j += 1
        densest = max(densest, i - j + 1)
    concentration = densest / len(items)
    recency = 0.5 ** (max((end - times[-1]).total_seconds(), 0) / 86400 / 30)
    volume = 2 * math.log1p(users) + math.log1p(len(items)) + 0.5 * math.log1p(engagement)
    return round(10 * volume * (0.7 + 0.3 * concentration) * (0.75 + 0.25 * recency), 2)


def _describe(place: str, members: list[int], messages: Sequence[Message], vectors: np.ndarray) -> str:
    """The title of the member closest to the group's centroid, led by the place when it does not name it."""
    centroid = vectors[members].mean(axis=0)
    best = members[int(np.argmax(vectors[members] @ centroid))]
    title = messages[best].title
    return title if place in title else f"{place}：{title}"


def centred(vectors: np.ndarray) -> np.ndarray:
    """Vectors minus their mean, renormalised: cosines spread from ~0.87 ± 0.02 to ~0 ± 0.1 for unrelated pairs."""
    shifted = vectors - vectors.mean(axis=0, keepdims=True)
    return shifted / np.maximum(np.linalg.norm(shifted, axis=1, keepdims=True), 1e-12)


def group_messages(
    messages: Sequence[Message],
    vectors: np.ndarray,
    similarity: float = 0.42,
    group_similarity: float = 0.5,
    window_days: float = 30.0,
) -> list[tuple[str, list[int]]]:
    """(place, member rows) groups: same place, similar vectors, close in time."""
    places = [message_places(m) for m in messages]
    vectors = centred(vectors)
    blocks: dict[str, list[int]] = defaultdict(list)
    for row, found in enumerate(places):
        for place in found:
            blocks[place].append(row)
    days = np.array([m.at.timestamp() / 86400 for m in messages], dtype=np.float64)
    uf = _UnionFind(len(messages))
    for place, members in blocks.items():
        if len(members) > 1:
            threshold = group_similarity if _GROUP.fullmatch(place) else similarity
            _link_block(members, vectors, days, uf, threshold, window_days)
    merged: dict[int, list[int]] = defaultdict(list)
    for row in range(len(messages)):
        if places[row]:
            merged[uf.find(row)].append(row)
    titles = [m.title for m in messages]
    return [
        (place, coherent)
        for group in merged.values()
        for place, part in _split_by_place(group, places, titles)
        for coherent in _coherent_parts(part, vectors, similarity)
    ]


def find_hot_issues(
    messages: Sequence[Message],
    vectors: np.ndarray,
    end: datetime | None = None,
    top: int = 20,
    similarity: float = 0.42,
    group_similarity: float = 0.5,
    window_days: float = 30.0,
    min_messages: int = 2,
    min_engagement: int = 100,
) -> list[HotIssue]:
    """The period's hottest issues, ranked by heat; ``vectors`` rows align with ``messages``.

    An issue needs ``min_messages`` messages, or one message that ``min_engagement`` likes and dislikes made hot.
    """
    if not messages:
        return []
    end = end or max(m.at for m in messages)
    scored = []
    for place, members in group_messages(messages, vectors, similarity, group_similarity, window_days):
        items = [messages[i] for i in members]
        if len(items) >= min_messages or sum(m.likes + m.dislikes for m in items) >= min_engagement:
            scored.append((heat_index(items, end), place, members, items))
    scored.sort(key=lambda s: (-s[0], s[1]))
    kept = scored[:top]
    for _, _, _, items in kept:
        items.sort(key=lambda m: (m.at, m.external_id))
    key_words = _key_words(
        [_ranked_words(items) for *_, items in kept], [place for _, place, _, _ in kept], [len(i) for *_, i in kept]
    )
    issues = []
    for rank, ((heat, place, members, items), words) in enumerate(zip(kept, key_words, strict=True), start=1):
        issue_id = hashlib.sha1("\x1f".join(sorted(m.id for m in items)).encode()).hexdigest()[:8]
        issues.append(
            HotIssue(
                rank=rank,
                issue_id=issue_id,
                heat=heat,
                start=items[0].at,
                end=items[-1].at,
                place_or_group=place,
                description=_describe(place, members, messages, vectors),
                users=len({m.user or m.id for m in items}),
                messages=tuple(IssueMessage(issue_id, m.external_id, m.at, m.title) for m in items),
                likes=sum(m.likes for m in items),
                dislikes=sum(m.dislikes for m in items),
                key_words=words,
            )
        )
    return issues
