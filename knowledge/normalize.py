"""Questions as citizens type them → the written forms retrieval matches, before any search.

"失业金一个月能领多少钱阿" and "异地就医备按咋办" share few words with the documents that answer them. Four
steps, in this order, rewrite the text that retrieval and answer scoring read (the citizen's own text is
what transcripts and replies show): fillers and particles dropped (阿, 呀, 请问…); spoken and dialect
words to their written forms (啥 → 什么, 咋办 → 怎么办, 俩 → 两个, 娃 → 孩子, a closing 不 → 吗, 100块 →
100元); typos and homophones corrected against the knowledge base's own vocabulary by pinyin (备按 →
备案, 低宝 → 低保); everyday names to the documents' terms from a table knowledge managers extend
(``knowledge/synonyms.yml``: 失业金 → 失业保险金, 保租房 → 保障性租赁住房).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jieba
import opencc
import yaml
from pypinyin import Style, pinyin

from .errors import KnowledgeError

SHIPPED_SYNONYMS = Path(__file__).with_name("synonyms.yml")

_HAN = re.compile(r"[\u4e00-\u9fff]+")
_CN_DIGITS = dict(zip("一二两三四五六七八九", "1223456789", strict=True))

# greetings and lead-ins carry no topic; removed wherever they stand
_LEAD_INS = re.compile(
    r"请问一下|请问|麻烦问一下|麻烦问下|我想问一下|我想问下|想问一下|想问下|问一下|问下|请教一下|"
    r"你好|您好|谢谢|那个|这个|就是说"
)
# sentence-final particles: only before a break or at the end, so 吧 in 酒吧 or 啦 in 啦啦队 stays
_PARTICLES = re.compile(r"[阿啊呀呢哈嘛吧哦噢喔呗啦咧嗯哇捏嘞]+(?=[\s，,。.？?！!~～]|$)")
# spoken / dialect words → written Chinese, longest first (applied in this order)
SPOKEN: tuple[tuple[str, str], ...] = (
    # 管 of a card or a filing is how long it is valid ("临时身份证管多长时间"); of an office, what it takes on
    # ("12345都管些啥事", "打官司的事12345管不"); 监管, 主管, 托管 … are other words
    (r"(?<![监主掌保分托代看接统])管(?=多久|多长时间|几年|几个月|几天|多少年|多少天)", "有效期"),
    (r"都?(?<![监主掌保分托代看接统])管(?:些|哪些)?(?:啥|什么)(?:事情|事儿|事)?", "受理哪些事项"),
    (r"(?<![监主掌保分托代看接统])(?:管不管|管不(?=[\s，,。.？?！!]|$)|管吗)", "受理吗"),
    (r"咋个办|咋办|咋整|咋弄|咋搞|怎么整|怎么弄|怎么搞|怎么个办法", "怎么办"),
    (r"咋样|咋个样", "怎么样"),
    (r"咋个|咋", "怎么"),
    (r"啥时候|啥时|多会儿|几时", "什么时候"),
    (r"啥子|么子|啥", "什么"),
    (r"哪儿|哪旮旯|哪块儿|哪疙瘩", "哪里"),
    # "去哪办" as the documents' FAQs ask it ("到哪里申请"); "在哪" stays: "民政局在哪" wants the address line,
    # and 哪里 would pull FAQs asking "找哪里咨询"
    (r"(?<=[去到])哪(?=[办申交领报补查找])", "哪里"),
    (r"俺们|咱们", "我们"),
    (r"俺|咱", "我"),
    (r"俩", "两个"),
    (r"仨", "三个"),
    (r"新生娃娃|新生娃|新生宝宝|新生孩子|刚出生的娃|刚出生的孩子|刚生的娃", "新生儿"),  # before 娃: not 生孩子
    (r"娃娃|娃子|小娃|娃|小孩子|小孩", "孩子"),
    (r"闺女", "女儿"),
    (r"老人家|老头子|老太太|老头|老太", "老人"),
    (r"晓得", "知道"),
    (r"莫得|没得|木有|冇", "没有"),
    (r"管用|好使|作数|算数", "有效"),
    (r"是不是", "是否"),
    (r"可不可以", "可以"),
    (r"要不要", "是否需要"),
    (r"有没有", "是否有"),
    # "一个月能领多少" asks per month; "满一年" is a duration and stays
    (r"每个月|(?<![满近过前后足内])一个月(?=[能可交领给补发拿多最要有是\d])", "每月"),
    (r"每一年|(?<![满近过前后足内])一年(?=[能可交领给补发拿多最要有是\d])", "每年"),
    (r"一亩(?=[能可给补发拿多最要有是\d])|每一亩", "每亩"),
    (r"几号", "几日"),
    (r"(?<=\d)\s*块钱|(?<=\d)\s*块|(?<=\d)\s*元钱", "元"),
    (r"(?<=\d)万(?![元人户])", "万元"),
    (r"(?<=\d)岁", "周岁"),
)
_SPOKEN = tuple((re.compile(pattern), written) for pattern, written in SPOKEN)
# "九成" → "90%"; a closing 不 asks a yes/no question as 吗 does ("能报一年级不")
_TENTHS = re.compile(r"([一二三四五六七八九])成")
_CLOSING_NOT = re.compile(r"(?<=[\u4e00-\u9fff])不(?=[\s，,。.？?！!]|$)")
_SPACES = re.compile(r"\s+")

# a correction needs a word the knowledge base uses; a common word the citizen typed on purpose stays
COMMON_WORD_FREQ = 30


class SynonymTableError(KnowledgeError):
    """The synonym table cannot be read: startup stops and names the file."""

    code = "synonym_table"
    status = 500


@dataclass(frozen=True)
class SynonymTable:
    """Everyday name → the documents' terms, as read from YAML (``叫法: 用语`` or ``叫法: [用语, …]``)."""

    entries: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> SynonymTable:
        """The table in a YAML file; SynonymTableError names the file and what is wrong with it."""
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            raise SynonymTableError(f"同义词表 {path} 无法读取：{error}") from error
        if not isinstance(raw, dict):
            raise SynonymTableError(f"同义词表 {path} 应为“叫法: 文件用语”的映射")
        entries: dict[str, tuple[str, ...]] = {}
        for name, terms in raw.items():
            values = terms if isinstance(terms, list) else [terms]
            if (
                not isinstance(name, str)
                or not name.strip()
                or not all(isinstance(v, str) and v.strip() for v in values)
            ):
                raise SynonymTableError(f"同义词表 {path}：条目 {name!r} 应为非空文字")
            entries[fold(name.strip())] = tuple(fold(v.strip()) for v in values)
        return cls(entries)

    @classmethod
    def shipped(cls) -> SynonymTable:
        """The table shipped with the package (knowledge/synonyms.yml)."""
        return cls.load(SHIPPED_SYNONYMS)

    def words(self) -> set[str]:
        """Every name and term, split at spaces: words a typo may be corrected to."""
        out = set(self.entries)
        for terms in self.entries.values():
            out.update(word for term in terms for word in term.split())
        return out


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """Width (NFKC) and script (traditional → simplified) folded, as the index folds its text."""
    return _t2s().convert(unicodedata.normalize("NFKC", text))


@lru_cache(maxsize=8192)
def _readings(char: str) -> frozenset[str]:
    """A character's toneless pinyin readings, with the initials and finals southern speakers merge folded
    (zh/z, ch/c, sh/s, -ng/-n): the keyboard's pinyin input and speech recognition confuse exactly these."""
    readings = pinyin(char, style=Style.NORMAL, heteronym=True)[0]
    return frozenset(_fuzzy(r) for r in readings)


def _fuzzy(reading: str) -> str:
    reading = re.sub(r"^([zcs])h", r"\1", reading)
    return re.sub(r"ng$", "n", reading)


@lru_cache(maxsize=8192)
def _usual_reading(char: str) -> str:
    """A character's most common reading, folded as ``_readings`` folds them."""
    return _fuzzy(pinyin(char, style=Style.NORMAL, heteronym=False)[0][0])


def _sounds_alike(a: str, b: str) -> bool:
    """Whether one character's usual reading is a reading of the other. Two rare readings do not count:
    还 and 不 share only an archaic "fu", and "还能申请不" must not become "不能申请"."""
    return _usual_reading(a) in _readings(b) or _usual_reading(b) in _readings(a)


def _frequency(word: str) -> int:
    """jieba's dictionary frequency of a word (0 when it is none), loading the dictionary on first use."""
    jieba.dt.check_initialized()
    return int(jieba.dt.FREQ.get(word, 0))


def dictionary_words(candidates: Iterable[str]) -> set[str]:
    """The candidates jieba's dictionary knows as words: ``QueryNormalizer.is_word`` for a reader's whole
    vocabulary at once (tens of thousands of tokens on every reload), without a call per token."""
    jieba.dt.check_initialized()
    frequencies = jieba.dt.FREQ
    return {word for word in candidates if frequencies.get(word, 0)}


def _common(word: str) -> bool:
    return _frequency(word) >= COMMON_WORD_FREQ


def _common_positions(run: str) -> set[int]:
    """The positions of a run of Han characters that jieba reads as part of a word typed on purpose: a common
    word ("城里人", "家里"), or any dictionary word of three or more characters (jieba holds compounds such as
    医疗机构, 热线电话 and 资金来源 at its floor frequency, and three characters do not form one by a slip). A typo
    is corrected outside them, so "城里人" is never read as "城利人", "去市里" as "去世里", nor "医疗机构" as
    "医疗期构" (a word of the index that sounds alike)."""
    positions: set[int] = set()
    start = 0
    for word in jieba.lcut(run, HMM=False):
        if (len(word) >= 2 and _common(word)) or (len(word) >= 3 and _frequency(word) > 0):
            positions.update(range(start, start + len(word)))
        start += len(word)
    return positions


class QueryNormalizer:
    """Rewrites a question into the forms the documents use; pure and cheap (about a millisecond).

    ``known(s)`` says whether the knowledge base's text holds ``s`` (then it is never "corrected");
    ``targets`` are the words a typo may become, ``rank`` orders several candidates (lower first: the
    index's idf, so the more common word of the knowledge base wins).
    """

    def __init__(
        self,
        synonyms: SynonymTable | None = None,
        known: Callable[[str], bool] | None = None,
        targets: Iterable[str] = (),
        rank: Callable[[str], float] | None = None,
    ) -> None:
        self.synonyms = synonyms if synonyms is not None else SynonymTable()
        self.known = known or (lambda _s: False)
        self.rank = rank or (lambda _s: 0.0)
        names = sorted(self.synonyms.entries, key=len, reverse=True)
        self._names = re.compile("|".join(map(re.escape, names))) if names else None
        # a word with one character masked → the words it could be: "低保" under "低_" and "_保", so a
        # typo differing in one character finds its candidates without comparing against every word
        self._masked: dict[tuple[int, str], list[str]] = {}
        for word in set(targets) | self.synonyms.words():
            if 2 <= len(word) <= 4 and _HAN.fullmatch(word):
                for i in range(len(word)):
                    self._masked.setdefault((len(word), word[:i] + "_" + word[i + 1 :]), []).append(word)

    @staticmethod
    def is_word(text: str) -> bool:
        """Whether jieba's dictionary knows the text as a word (a bigram of the index may straddle two)."""
        return _frequency(text) > 0

    def normalize(self, question: str) -> str:
        """The written form of a question, for retrieval and answer scoring; never shown to the citizen."""
        text = fold(question)
        text = _LEAD_INS.sub(" ", text)
        text = _PARTICLES.sub("", text)
        text = _CLOSING_NOT.sub("吗", text)
        text = _TENTHS.sub(lambda m: f"{_CN_DIGITS[m.group(1)]}0%", text)
        for pattern, written in _SPOKEN:
            text = pattern.sub(written, text)
        text = self.correct(text)
        text = self.expand(text)
        return _SPACES.sub(" ", text).strip() or question.strip()

    def correct(self, text: str) -> str:
        """Typos and homophones replaced by a word of the knowledge base that sounds the same and differs
        in one character (two in a four-character word); words the knowledge base knows stay."""
        return _HAN.sub(lambda m: self._correct_run(m.group()), text)

    def _correct_run(self, run: str) -> str:
        out = list(run)
        taken = [False] * len(run)
        common = _common_positions(run)
        for size in (4, 3, 2):
            for start in range(len(run) - size + 1):
                if any(taken[start : start + size]) or common.intersection(range(start, start + size)):
                    continue  # part of a word the citizen typed on purpose
                piece = "".join(out[start : start + size])
                if self.known(piece) or _common(piece):
                    continue
                better = self._candidate(piece)
                if better is not None:
                    out[start : start + size] = list(better)
                    taken[start : start + size] = [True] * size
        return "".join(out)

    def _candidate(self, piece: str) -> str | None:
        found: set[str] = set()
        for i in range(len(piece)):
            for word in self._masked.get((len(piece), piece[:i] + "_" + piece[i + 1 :]), ()):
                if word != piece and _sounds_alike(word[i], piece[i]):
                    found.add(word)
        return min(found, key=lambda w: (self.rank(w), w)) if found else None

    def expand(self, text: str) -> str:
        """Everyday names → the documents' terms: replaced, or kept with the term added after them when
        the knowledge base also uses the name itself (an FAQ asking about 房产证)."""
        if self._names is None:
            return text

        def swap(match: re.Match[str]) -> str:
            name, terms = match.group(), self.synonyms.entries[match.group()]
            around = text[max(0, match.start() - 8) : match.end() + 8]
            if any(term in around for term in terms):
                return name  # "居民身份证" already says what "身份证" would add
            added = " ".join(terms)
            return f"{name} {added} " if self.known(name) else f" {added} "

        return self._names.sub(swap, text)


def load_synonyms(path: str | Path = "") -> SynonymTable:
    """The configured table (a path), or the shipped one when none is set."""
    return SynonymTable.load(Path(path)) if str(path) else SynonymTable.shipped()
