"""The caller's questions and requests, distinct, each rewritten to stand alone with the call's context.

The rules, in the order they apply to each sentence the caller says:

1. *Which sentences.* A question has a question word, a particle or a question mark (``roles.is_question``);
   a request says 投诉 / 举报 / 反映 / 求助 / 建议 / 希望 / 帮我 / 麻烦 / 要求. A sentence that is only a
   lead-in ("我想问一下", "我要投诉") makes the caller's next sentence a question (or that request).
   Back-channel ("能听到吗", "是吗", "好吗") and anything with fewer than 3 characters of content is not.
   Speech recognised without punctuation loses the question mark of a question without question words
   ("…的受理范围？"): an unpunctuated sentence of 8 or more characters asks when the caller says it answering
   the operator's offer (请问有什么可以帮您, 还有其他问题吗) or moving on (还有就是 / 另外 / 对了), unless it
   only gives a name, a place or a number; and a caller's turn ending on "我想问一下 + 6 or more characters"
   asks them when the operator then answers (not when the operator only prompts: 请讲).
2. *Lead-ins off.* 请问 / 我想问一下 / 我想咨询一下 / 另外 / 还有 / 对了 / 那 are dropped from the front.
3. *References.* 那个 / 这个 / 该 / 这项 / 刚才说的 + the end of a subject named earlier in the call
   ("那个补贴" after "一次性创业补贴") becomes that subject; a bare 这个 / 它 / 该 opening a clause before a
   verb becomes the last subject. A question naming no subject of its own ("需要什么材料", "报销比例是多少":
   only aspect and question words) gets the last subject in front.
4. *Places.* A question naming no place gets the place named last before it (by caller or operator:
   "青禾县", "柳溪镇"), so "低保怎么申请" after "我是青禾县柳溪镇的" asks about 青禾县柳溪镇.
5. *Distinct.* Two questions whose character-bigram sets overlap by Jaccard ≥ 0.6, or one of which holds
   ≥ 90 % of the other's bigrams, are one question: the longer wording is kept, at the first one's place.

A subject is the front of a question up to its first predicate or aspect word (怎么, 需要, 多少, 条件, 材料…),
after the place and lead-ins: "创业担保贷款最高能贷多少" names 创业担保贷款.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import jieba.posseg

from .roles import OFFER, Role, is_question
from .spoken import TERMINATORS
from .transcript import Transcript, Turn

_LEAD_IN = re.compile(
    r"^(?:(?:那么|那(?![个些种样边里])|另外|还有就是|还有|对了|对|是的|好的|然后|再|就是|其实|我说|你好|您好)[，,、\s]*)*"
    r"(?:(?:请问|我(?:还|再|就|就是)?想(?:问|咨询|了解|请教|打听)|我(?:还|再|就|就是)?问|想问|问|咨询)(?:一下|下|个事|一个事|个问题|一个问题)?(?:就是)?[，,、：:\s]*)?"
)
_REQUEST = re.compile(r"投诉|举报|反映|求助|建议|希望|帮(?:我|忙|帮)|麻烦(?:你们|您)|要求|申请")
_BACKCHANNEL = re.compile(
    r"^(?:喂|你好|您好)?(?:能听到|听得到|听得见|听到|是|对|好|可以|行|明白|在)(?:吗|不|了吗|没有)?[？?。！!]*$"
)
_PREDICATE = re.compile(
    r"的?(?:怎么|怎样|如何|咋|需要|要|能|可以|可不可以|是否|是不是|是|有没有|有哪些|有什么|哪些|哪个|什么|多少|几|每年|每月|每个月|"
    r"每人|最高|最多|最少|在哪|去哪|到哪|什么时候|何时|由|归|申请条件|申请材料|条件|材料|流程|手续|标准|期限|比例|额度|"
    r"范围|对象|时间|地址|电话|还|吗|呢)"
)
_ASPECT_WORDS = frozenset(
    "需要 什么 材料 条件 手续 流程 程序 标准 时间 期限 地点 地址 电话 多少 多少钱 钱 费用 要求 资格 "
    "额度 比例 报销 办理 申请 领取 交 缴 发 领 办 去 哪里 哪儿 哪 哪些 多久 几 可以 能 能否 要 吗 "
    "呢 吧 的 是 有 还 都 带 怎么 怎样 如何 咋 每年 每月 每个 月 年 最高 最多 一下 那 这 它 这个 "
    "那个 呀 么 不 没有 范围 对象 谁 具体 一般 现在 今年 标准是 些 应该 应当 得".split()
)
_REFERENCE = re.compile(r"(?:刚才(?:说的|那个)?|你说的|上面说的|那个|这个|(?<![应活本])该|这项|那项|这种|那种|它)")
_BARE_REFERENCE_VERB = re.compile(r"^(?:怎么|如何|要|需要|能|可以|是|在哪|多少|有|什么时候|哪里|去哪|到哪|还)")
# A place name is 1–8 characters that are not function words, then an administrative unit: "到县里" names none.
_FUNCTION_CHARS = "我你您他她它们的是在到去和与了吗呢吧啊个这那哪有可以能要想问请说给从把被对向为就都也还很好么什么怎样"
_ADMIN_PLACE = re.compile(rf"[^\W\d{_FUNCTION_CHARS}]{{1,8}}?(?:自治州|街道|省|市|州|盟|县|区|旗|镇|乡|村)")
_NOT_PLACE = frozenset(
    "城市 超市 全市 本市 我市 该市 市区 小区 社区 地区 城区 郊区 园区 景区 辖区 农村 乡村 全县 "
    "本县 我县 县城 全区 本区 我区 街区 新区 开发区 山区 牧区 灾区 校区 老区 城乡 家乡 老乡 下乡 各省 各市 各县 各区 "
    "回乡 入乡 返乡 乡镇 城镇 集镇 全省 本省 外省 外市 外县 哪个区 哪个县".split()
)
_PLACE_PREFIX_NOISE = re.compile(r"^(?:我是|我在|我们|咱们|住在|住|在|是|我|来自|从|到|去|就|那|这|的|请问|问一下)+")
# "我是青禾县柳溪镇的，低保怎么申请": the opening clause only says where the caller is; its place is carried.
_SELF_INTRODUCTION = re.compile(r"^(?:我是|我在|我住在?|我们是|我这边是|我家在)[^，,？?]{0,16}[，,]")
_LEADING_DEMONSTRATIVE = re.compile(r"^(?:那个|这个)")
_PUNCT = re.compile(r"[\s，,、。！？；!?;：:“”\"'（）()《》]")


@dataclass(frozen=True)
class Question:
    """One question or request of the caller: standalone wording, what was said, and where in the call."""

    text: str
    said: str
    kind: str  # question | request
    turn: int
    start_ms: int | None = None


def find_places(sentence: str) -> list[str]:
    """Places a sentence names: dictionary place names (上海, 天津市) and names ending in 省/市/县/区/镇/乡/村."""
    found: list[tuple[int, str]] = []
    # without punctuation a lead-in runs into the place ("我想咨询个事海陵区"): look for places after it
    opening = _LEAD_IN.match(sentence)
    lead_in = opening.end() if opening else 0
    sentence = " " * lead_in + sentence[lead_in:]
    for match in _ADMIN_PLACE.finditer(sentence):
        name = _PLACE_PREFIX_NOISE.sub("", match[0])
        if len(name) >= 2 and name not in _NOT_PLACE and not any(name.endswith(n) for n in _NOT_PLACE):
            found.append((match.start() + len(match[0]) - len(name), name))
    for start, word in _dictionary_places(sentence):
        if not any(s <= start < s + len(n) for s, n in found):
            found.append((start, word))
    return [name for _, name in _join_adjacent(sorted(found))]


@lru_cache(maxsize=4096)
def _dictionary_places(sentence: str) -> tuple[tuple[int, str], ...]:
    places, position = [], 0
    for pair in jieba.posseg.cut(sentence, HMM=False):  # dictionary words only: HMM guesses tag 入乡 a place
        if pair.flag == "ns" and len(pair.word) >= 2 and pair.word not in _NOT_PLACE:
            places.append((position, pair.word))
        position += len(pair.word)
    return tuple(places)


def _join_adjacent(found: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """青禾县 + 柳溪镇 said together is one place, 青禾县柳溪镇."""
    joined: list[tuple[int, str]] = []
    for start, name in found:
        if joined and joined[-1][0] + len(joined[-1][1]) == start:
            joined[-1] = (joined[-1][0], joined[-1][1] + name)
        else:
            joined.append((start, name))
    return joined


def subject_of(text: str, places: list[str]) -> str:
    """What a question is about: its front up to the first predicate or aspect word, places and lead-ins off."""
    clauses = [c for c in re.split(r"[，,]", text) if c.strip()]
    body = _LEAD_IN.sub("", next((c for c in clauses if is_question(c)), text))
    for place in places:
        body = body.replace(place, "", 1)
    body = re.sub(r"^(?:的|在|关于|对于)+", "", body)
    match = _PREDICATE.search(body)
    subject = body[: match.start()] if match else body.rstrip(TERMINATORS)
    subject = _REFERENCE.sub("", subject) if _REFERENCE.match(subject) else subject
    return subject if len(subject) >= 2 and not _only_aspects(subject) else ""


def _only_aspects(text: str) -> bool:
    words = [w for w in jieba.lcut(_PUNCT.sub("", text)) if w.strip()]
    return all(w in _ASPECT_WORDS or len(w) == 1 for w in words)


def _resolve(text: str, subjects: list[str]) -> tuple[str, bool]:
    """Replace a reference (那个补贴, 这个) with the subject it points to; True when one was resolved."""
    for match in _REFERENCE.finditer(text):
        after = text[match.end() :]
        for subject in reversed(subjects):
            for cut in range(len(subject) - 1):  # longest tail first: "创业补贴" before "补贴"
                tail = subject[cut:]
                if len(tail) >= 2 and after.startswith(tail):
                    return text[: match.start()] + subject + after[len(tail) :], True
        # a bare 该 / 这个 / 它 opens its clause; inside one ("是否有病毒该怎么消毒") it means 应该 or points nowhere
        opens = match.start() == 0 or text[match.start() - 1] in "，,、；;：:"
        if subjects and opens and _BARE_REFERENCE_VERB.match(after):
            return text[: match.start()] + subjects[-1] + after, True
    return text, False


def _standalone(said: str, subjects: list[str], place: str) -> str:
    text = _SELF_INTRODUCTION.sub("", _LEAD_IN.sub("", said)).strip("，,、 ")
    text, resolved = _resolve(text, subjects)
    if not resolved:
        text = _LEADING_DEMONSTRATIVE.sub("", text)  # "那个城乡居民医保…": nothing earlier to point at
        if subjects and _only_aspects(text):
            text = subjects[-1] + text.lstrip("那")
    if place and not find_places(text) and place not in text:
        text = place + text
    body = text.rstrip(TERMINATORS)
    text = body + ("？" if is_question(body) else text[len(body) :] or "。")
    return text


def _bigrams(text: str) -> set[str]:
    plain = _PUNCT.sub("", text)
    return {plain[i : i + 2] for i in range(len(plain) - 1)}


def same_question(a: str, b: str) -> bool:
    """Two wordings of one question (rule 5 of the module)."""
    x, y = _bigrams(a), _bigrams(b)
    if not x or not y:
        return a == b
    common = len(x & y)
    return common / len(x | y) >= 0.6 or common / min(len(x), len(y)) >= 0.9


_REQUEST_LEAD_IN = re.compile(
    r"^我?(?:要|想|是想|来)?(?:投诉|举报|反映|求助|建议)(?:一下|个事|一个事|个问题|一个问题|一件事)?[，,。：:！!\s]*$"
)


_ASKING = re.compile(r"问|咨询|了解|请教|打听")
# what an operator says to let the caller go on (the lead-in before it still introduces the caller's next words)
_PROMPT = re.compile(r"^(?:嗯|好的?|是的?|对|您请?说|请说|您?请?讲|我在听)[，,。！!\s]*(?:您说|请讲)?[。！!]*$")
_CONTACT = re.compile(r"我的?(?:电话|手机|号码|联系方式)|我叫|[0-9零〇一二三四五六七八九幺两]{7,}")
_MOVING_ON = re.compile(r"^(?:还有就是|还有一个|另外|对了|然后|再就是)")
UNPUNCTUATED_QUESTION_CHARS = 8  # content characters for an unpunctuated sentence without question words to ask
WHOLE_QUESTION_CHARS = 6  # content characters after the lead-in for a turn-ending "我想问一下…" to be a question


def _content(sentence: str) -> str:
    return _PUNCT.sub("", _LEAD_IN.sub("", sentence)).rstrip("吗呢吧啊呀")


def _classify(sentence: str, pending: str | None, invited: bool = False) -> tuple[str | None, str, str | None]:
    """(kind or None, the sentence to rewrite, the lead-in now pending) for one sentence of the caller;
    ``invited``: it opens the caller's answer to 请问有什么可以帮您 (or 还有其他问题吗)."""
    if _REQUEST_LEAD_IN.match(sentence):
        return None, sentence, sentence
    lead_in = _LEAD_IN.match(sentence)
    introduces = bool(lead_in and _ASKING.search(lead_in[0]))
    if not _content(sentence):  # "我想问一下" introduces what comes next; 好的 / 对 introduce nothing
        return None, sentence, sentence if introduces else pending
    asked = is_question(sentence) and not _BACKCHANNEL.match(sentence)
    if introduces and not asked and pending is None and not _REQUEST.search(sentence):
        return None, sentence, sentence  # "我想问一下，为解决复工出行难题" + "重庆推出哪些出行方式？"
    kind = "request" if _REQUEST.search(sentence) and not asked else "question" if asked else None
    if _BACKCHANNEL.match(sentence):
        kind = None
    elif kind is None and pending is None and _unpunctuated_ask(sentence, invited):
        kind = "question"
    if pending is not None and (kind is None or _REQUEST_LEAD_IN.match(pending)):
        kind = "request" if _REQUEST_LEAD_IN.match(pending) else "question"
    if pending is not None and kind is not None and (kind == "request" or _content(pending)):
        sentence = pending.rstrip(TERMINATORS + "，,、 ") + ("" if kind == "request" else "，") + sentence
    if kind is not None and len(_content(sentence)) < 3:
        kind = None
    return kind, sentence, None


def extract_questions(transcript: Transcript, limit: int = 8) -> list[Question]:
    """The caller's distinct questions and requests in the order first asked, at most ``limit``."""
    found: list[Question] = []
    subjects: list[str] = []
    place = ""
    pending: str | None = None  # a lead-in said alone ("我想问一下"): the caller's next sentence is what it introduces
    turns = transcript.turns
    for number, turn in enumerate(turns):
        for sentence in turn.sentences:
            places = find_places(sentence)
            if turn.role is Role.CALLER:
                invited = sentence is turn.sentences[0] and _invites(turns[number - 1 : number])
                kind, said, pending = _classify(sentence, pending, invited)
                if kind is not None:
                    _ask(
                        found,
                        subjects,
                        Question(said, said, kind, number, turn.start_ms),
                        places[-1] if places else place,
                    )
            place = places[-1] if places else place
        if pending is not None and turn.role is Role.CALLER and _asked_whole(pending, turns[number + 1 : number + 2]):
            _ask(found, subjects, Question(pending, pending, "question", number, turn.start_ms), place)
            pending = None
    if pending is not None and len(_content(pending)) >= 3:  # the call ended on "我想问一下低保的事"
        _ask(found, subjects, Question(pending, pending, "question", len(transcript.turns) - 1), place)
    return found[:limit]


def _invites(before: Sequence[Turn]) -> bool:
    """Whether the turn before the caller's was the operator offering help (请问有什么可以帮您, 还有其他问题吗)."""
    return bool(before) and before[0].role is Role.OPERATOR and bool(OFFER.search(before[0].sentences[-1]))


def _unpunctuated_ask(sentence: str, invited: bool) -> bool:
    """Speech recognised without punctuation loses the question mark of "黑龙江省确诊患者医疗费用补助政策？":
    a long unpunctuated sentence the caller says when invited to ask, or moving on to another question, asks it."""
    if any(mark in sentence for mark in TERMINATORS + "，,、") or len(_content(sentence)) < UNPUNCTUATED_QUESTION_CHARS:
        return False
    if _SELF_INTRODUCTION.match(sentence + "，") or _CONTACT.search(sentence):  # "我是柳溪镇的", "我电话是…"
        return False
    return invited or bool(_MOVING_ON.match(sentence))


def _asked_whole(pending: str, following: Sequence[Turn]) -> bool:
    """Whether a caller's turn that ended on "我想问一下 + words" asked those words: the operator took the turn
    to answer, not to prompt (请讲). Without punctuation "我还想问一下五级包干制是哪五级" has no question mark."""
    lead_in = _LEAD_IN.match(pending)
    if lead_in is None or not _ASKING.search(lead_in[0]) or len(_content(pending)) < WHOLE_QUESTION_CHARS:
        return False
    nxt = following[0] if following else None
    return nxt is not None and nxt.role is Role.OPERATOR and not _PROMPT.match("".join(nxt.sentences))


def _ask(found: list[Question], subjects: list[str], question: Question, place: str) -> None:
    """Rewrite a question to stand alone, add it unless already asked, and remember its subject."""
    said = question.said
    text = _standalone(said, subjects, place) if question.kind == "question" else said
    _add(found, replace(question, text=text))
    subject = subject_of(said, find_places(said))
    if subject and subject not in subjects[-1:]:
        subjects.append(subject)


def _add(found: list[Question], question: Question) -> None:
    for position, earlier in enumerate(found):
        if same_question(earlier.text, question.text):
            if len(_content(question.text)) > len(_content(earlier.text)):
                found[position] = replace(earlier, text=question.text, said=question.said)
            return
    found.append(question)
