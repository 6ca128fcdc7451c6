"""What a question asks for — materials, an amount, a time, a place, eligibility, a procedure, validity — and
how much a piece of text looks like that kind of answer.

Citizens seldom name the answer's form ("孩子上小学要准备什么" wants the list of documents, "几点上班" the hours
line), so extraction reads it from the question's wording: a list for a list question, a figure with its
unit for an amount, the hours line for a time question. Patterns are matched on the normalised question
(width and script folded), spoken forms included (带啥, 咋办, 能…不).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from .document import Passage
from .text import normalize


class QType(StrEnum):
    """The kind of answer a question asks for; the values are the colloquial question set's ``type`` labels."""

    MATERIALS = "materials"  # 材料、证件、带啥、准备什么: a list
    AMOUNT = "amount"  # 多少钱、最高、标准: a figure with its unit
    TIME = "time"  # 什么时候、几点、几天: a date, a period, office hours
    PLACE = "place"  # 在哪、电话、窗口: an address, a phone number, a window
    ELIGIBILITY = "eligibility"  # 能不能、能…不、条件: who may, on what conditions
    PROCEDURE = "procedure"  # 怎么办、咋办、流程: the steps
    VALIDITY = "validity"  # 还有效吗: whether a rule is still in force
    OTHER = "other"


# Checked in this order: the first type whose pattern matches wins. Validity and amount come first because
# their words are the most specific ("还有效吗" also says 有; "最高能贷多少" also says 能), time and place before
# materials and eligibility ("几点能办" is a time question), procedure last: 怎么 and 办 occur in almost any
# question, and only a question that asks nothing more specific wants the steps.
_QUESTION_PATTERNS: tuple[tuple[QType, re.Pattern[str]], ...] = (
    (
        QType.VALIDITY,
        re.compile(
            r"还有效|有效吗|有效不|是否有效|是否还|是不是还|还能用|还算数|还管用|还执行|过期|失效|废止|作废|"
            r"还在执行|还实行|还适用|仍然有效|继续有效|有效期|现在还有|还是[^，。？?]{1,14}(?:吗|不|么)[？?]?$"
        ),
    ),
    # "电话多少" asks for a number to call, not an amount
    (QType.PLACE, re.compile(r"电话|号码|热线|联系方式|咨询方式|地址")),
    (
        QType.AMOUNT,
        re.compile(
            r"多少钱|多少元|多少万|几万|几千|几百|多少块|多少补贴|补多少|补贴多少|领多少|拿多少|发多少|给多少|贷多少|"
            r"交多少|缴多少|报销多少|报多少|能报销?几成|比例|标准是|什么标准|标准多少|多少标准|最高|最多|上限|额度|金额|"
            r"怎么计算|怎么算|如何计算|咋算|怎样计算|计算方法|费用|收费|要钱|收钱|花钱|免费[吗不么]|是否免费|按[啥什么]{1,2}标准|多少|几成|几条|几项|几种|几个(?!工作日|月|小时|星期)"
        ),
    ),
    (
        QType.TIME,
        re.compile(
            r"什么时候|啥时候|何时|几点|几号|几日|几月|哪天|哪一天|多久|多长时间|几天|几个工作日|期限|截止|时限|"
            r"上班|下班|办公时间|工作时间|营业时间|开门|关门|周末|周六|周日|节假日|晚上|夜里|夜间|半夜|中午|午休|早上|时间"
        ),
    ),
    (
        QType.PLACE,
        re.compile(
            r"在哪|去哪|到哪|哪里|哪儿|什么地方|啥地方|地址|地点|位置|怎么走|窗口|电话|号码|热线|联系方式|联系谁|找谁|"
            r"哪个部门|什么部门|哪个单位|哪个窗口"
        ),
    ),
    (
        QType.MATERIALS,
        re.compile(
            r"材料|证件|资料|手续|带啥|带什么|带哪些|拿啥|拿什么|准备啥|准备什么|准备哪些|需要啥(?!条件)|要啥(?!条件)|要什么证|"
            r"提交什么|提供什么|提交哪些|提供哪些|清单"
        ),
    ),
    (
        QType.ELIGIBILITY,
        re.compile(
            r"能不能|可不可以|可以不|能否|是否可以|是否能|有没有资格|资格|条件|符合|够不够|算不算|行不行|行吗|"
            r"可以吗|能吗|能[^，。？?]{1,12}不[？?]?$|可以[^，。？?]{1,12}不[？?]?$|谁能|哪些人|什么人|享受|哪些情况|什么情况|"
            r"什么要求|哪些要求|年龄要求|年龄限制|多大年龄|"
            # "在外地可以办理青禾县户籍的身份证吗？" asks whether one may, though it says 办理
            r"(?:可以|能)[^，。？?\s]{1,14}吗"
        ),
    ),
    (
        QType.PROCEDURE,
        re.compile(
            r"怎么办|咋办|怎么弄|咋弄|怎么申请|咋申请|如何申请|怎么办理|如何办理|咋整|流程|步骤|程序|怎么|咋|如何|办理"
        ),
    ),
)


def question_type(question: str) -> QType:
    """The kind of answer the question asks for (OTHER when its wording says none)."""
    text = normalize(question)
    for qtype, pattern in _QUESTION_PATTERNS:
        if pattern.search(text):
            return qtype
    return QType.OTHER


def question_types(question: str) -> set[QType]:
    """Every kind of answer the question's wording asks for ("小微企业能贷创业担保贷款吗 最多多少": eligibility and
    an amount); ``question_type`` is the first of them."""
    text = normalize(question)
    return {qtype for qtype, pattern in _QUESTION_PATTERNS if pattern.search(text)}


def asking_words(question: str) -> list[str]:
    """The words with which the question asks (多少, 最多, 怎么办, 什么时候, 在哪): they say what kind of answer is
    wanted, not what about, so they are no evidence that a heading ("个人申请创业担保贷款最多能贷多少？") is about
    the citizen's subject. Only short matches count: the long ones ("能…不") hold the subject itself."""
    text = normalize(question)
    return [text[start:end] for start, end in asking_spans(text)]


def asking_spans(normalized: str) -> list[tuple[int, int]]:
    """Where ``asking_words`` are in a question already normalised: (start, end) of each short match."""
    return [
        m.span() for _, pattern in _QUESTION_PATTERNS for m in pattern.finditer(normalized) if len(m.group()) <= 4
    ]


# What the answer must state, read from the question's words, more narrowly than its type: an hours question by an
# hours line, a how-long one by a period. The spans that name the service share more of the question's words
# ("周六能去办营业执照不": the 一窗通办 measure names 营业执照, the hours line only 周六), so the span chosen is
# checked against the kind its question asks (knowledge.answer).
@dataclass(frozen=True)
class Asked:
    """A narrow kind of answer: the words that ask for it and the text that states it."""

    name: str
    asks: re.Pattern[str]
    states: re.Pattern[str]
    not_asked: re.Pattern[str] | None = None  # words that look like asking but are not ("上班族")

    def asked_by(self, question: str) -> bool:
        text = normalize(question)
        return bool(self.asks.search(text)) and not (self.not_asked and self.not_asked.search(text))

    def stated_in(self, text: str) -> bool:
        return bool(self.states.search(text))


# when a service is open: a day, a part of the day, the opening itself; a worker's 上班 is none. "24小时内办结" is a
# deadline, not service round the clock (knowledge.contacts asks this kind too)
HOURS = Asked(
    "hours",
    re.compile(
        r"(?:周|星期|礼拜)[一二三四五六日天末]|周末|双休|节假日|晚上|夜里|夜间|半夜|中午|午休|早上|"
        r"几点|上班|下班|开门|关门|办公时间|工作时间|营业时间|服务时间|有人接|接听"
    ),
    re.compile(
        r"\d{1,2}\s*[:：]\s*\d{2}|全天|24小时(?:人工|服务|值班|在线|受理|接听|开放|营业)|全年无休|"
        r"节假日(?:照常|不休)|7\s*[×xX*]\s*24"
    ),
    re.compile(r"上班族|上班的人|去上班|上下班途中"),
)
ASKED: tuple[Asked, ...] = (
    HOURS,
    # how long ("0.5个工作日内办结", "有效期三个月"); a year (2020年) is no period
    Asked(
        "duration",
        re.compile(r"几天|多久|多长时间|几个工作日|多少个?工作日|多少天|几个月|多少个月|几周|几年"),
        re.compile(r"(?:(?<![\d.])\d{1,3}(?:\.\d+)?|[一二两三四五六七八九十百]+)\s*(?:个)?(?:工作日|自然日|日内|天|个月|小时|周|年)"),
    ),
    # where to go: a street number, a floor, a hall, a window ("政务服务中心二楼C区住房保障窗口"); a body's name
    # ("县住房保障服务中心负责受理") says who, not where; "到哪天" and "到哪些" ask no place
    Asked(
        "where",
        re.compile(r"(?:在|去|到)哪(?!些|天|年|月|种)|哪里办|哪儿|什么地方|啥地方|地址|地点|位置|怎么走"),
        re.compile(r"[路街巷道]\d+号|\d+楼|[一二三四五六七八九十]楼|[A-Z]区|窗口|大厅|地址[：:]"),
    ),
    # when: a date, a month or a recurring day ("3月25日至4月15日", "每季度首月1日至20日", "每月10日前")
    Asked(
        "date",
        re.compile(r"什么时候|啥时候|何时|几月|几号|哪天|哪一天"),
        re.compile(
            r"\d{1,2}\s*月\s*(?:\d{1,2}\s*日|份|底|初|中旬|上旬|下旬|、)|[一二三四五六七八九十]{1,2}月[初底份]?|"
            r"每(?:月|季度|年)|次月|当月|季度"
        ),
    ),
    # how much one pays in ("个人缴费标准为每人每年400元"), not another amount of the same scheme (its payment limit)
    Asked("contribution", re.compile(r"[交缴][^，。？?\s]{0,4}(?:多少|几)"), re.compile(r"缴|交纳|交费|个人[交缴]")),
)


def asked_kind(question: str) -> Asked | None:
    """The first narrow kind of answer the question asks for (``ASKED``), if any."""
    return next((kind for kind in ASKED if kind.asked_by(question)), None)


# What an answer of each kind looks like. Each pattern is one piece of evidence; a text's fit is the share
# of its type's patterns it matches, so "地址：…\n咨询电话：0631-…" fits a place question better than a text
# that merely says 地址 once.
_NUMBER = r"[\d一二两三四五六七八九十百千万]"
_AMOUNT_UNIT = re.compile(rf"{_NUMBER}+(?:\.\d+)?\s*(?:万元|元|万|千元|%|％|倍|成)")
_ITEM = re.compile(r"(?:^|\n)\s*(?:\d{1,2}[.．、)）]|[（(][一二三四五六七八九十\d]{1,3}[）)]|[①②③④⑤⑥⑦⑧⑨⑩]|[-•·])")
_HOURS = re.compile(r"\d{1,2}\s*[:：]\s*\d{2}|[上下]午|周[一二三四五六日]至周[一二三四五六日]|工作日")
_DATE = re.compile(rf"{_NUMBER}{{1,4}}\s*年|{_NUMBER}{{1,2}}\s*月\s*{_NUMBER}{{1,3}}\s*日|\d{{1,2}}月")
_PERIOD = re.compile(
    rf"{_NUMBER}+\s*(?:个)?(?:工作日|日内|天|个月|小时|周)|之前|以前|之日起|期间|截至|前完成|\d{{1,2}}日前|每月\d{{1,2}}日"
)
_PHONE = re.compile(r"(?<!\d)(?:0\d{2,3}-?\d{7,8}|1\d{10}|123\d{2})(?!\d)")
_ADDRESS = re.compile(r"地址|位于|[路街道巷]\d+号|\d+楼|[一二三四五六七八九十]楼|窗口|大厅|服务中心")
_TYPE_EVIDENCE: dict[QType, tuple[re.Pattern[str], ...]] = {
    QType.MATERIALS: (
        _ITEM,
        re.compile(r"材料|证件|证明|复印件|原件|申请表|身份证|户口簿|照片|合同|证书|执照"),
        re.compile(
            r"(?:以下|下列|如下|所需|提交|提供|携带|准备)[^。；]{0,10}(?:材料|证件|资料)|[：:]\s*(?:\n|1[.．、])"
        ),
        re.compile(r"[；;、]"),
    ),
    QType.AMOUNT: (
        # a share of a cost ("三分之二") or no cost at all ("不收费") answers "谁出" / "要钱不" as a figure does
        re.compile(rf"{_AMOUNT_UNIT.pattern}|[一二三四五六七八九十]分之[一二三四五六七八九十]|不收费|免费|免收|不收取"),
        re.compile(r"最高|不超过|上限|标准|每人每月|每月|每年|每人|按照?[^。]{0,8}(?:比例|标准)"),
        re.compile(r"\d"),
    ),
    QType.TIME: (_HOURS, _DATE, _PERIOD, re.compile(r"时间|期限|时限|截止|办结|办公")),
    QType.PLACE: (_PHONE, _ADDRESS, re.compile(r"电话|咨询|联系|热线|地点|办理地点|受理")),
    QType.ELIGIBILITY: (
        re.compile(r"条件|符合|具有|年满|周岁|户籍|以上|以下|满\d|不得|不予|应当|须|必须"),
        re.compile(r"可以|可|享受|纳入|范围|对象|人员"),
        _ITEM,
    ),
    QType.PROCEDURE: (
        re.compile(r"流程|步骤|程序|首先|然后|再|之后|第一步|第二步|→|审核|受理|审批|办结|公示"),
        re.compile(r"申请|提交|提出|办理|登记|持|向|到|通过|登录|网上|线上|现场"),
        _ITEM,
    ),
    QType.VALIDITY: (
        re.compile(r"废止|失效|有效期|施行|起执行|停止执行|同时废止|不再执行|现行有效|修订|修改"),
        re.compile(rf"自{_NUMBER}{{2,4}}年|{_NUMBER}{{1,4}}年{_NUMBER}{{1,2}}月{_NUMBER}{{1,3}}日起"),
    ),
}


# A text gives the asked kind of answer when it shows half its kind's evidence, and a list of materials must name
# documents: any enumeration with 、 shows half a list's evidence ("修改后的主要规定如下：（一）申请条件…" is no answer
# to "申请保租房要啥材料"). No text gives a validity answer: the document's label does, which the validity step states
# (knowledge.supersede); counting an amendment's 施行 as one made it outscore the amended measures it was asked about.
_GIVES_FIT = 0.5
_MUST_SHOW: dict[QType, re.Pattern[str]] = {QType.MATERIALS: _TYPE_EVIDENCE[QType.MATERIALS][1]}


def gives(qtype: QType, text: str) -> bool:
    """Whether ``text`` gives an answer of kind ``qtype`` (never for OTHER or VALIDITY)."""
    if qtype is QType.VALIDITY:
        return False
    must = _MUST_SHOW.get(qtype)
    return type_fit(qtype, text) >= _GIVES_FIT and (must is None or bool(must.search(text)))


# What an answer of a kind is not, though it holds that kind's words: "符合条件的个人最高可申请30万元" names
# 条件 but states a limit, which is no answer to "要啥条件"; such a text loses one piece of evidence.
_COUNTER_EVIDENCE: dict[QType, re.Pattern[str]] = {
    QType.ELIGIBILITY: re.compile(
        rf"最高[^。；，]{{0,8}}?{_NUMBER}+(?:\.\d+)?\s*(?:万元|元)|{_NUMBER}+(?:\.\d+)?\s*(?:万元|元)的?(?:标准|额度)"
    ),
}


def type_fit(qtype: QType, text: str) -> float:
    """How much ``text`` looks like an answer of kind ``qtype``, in [0, 1] (0 for OTHER)."""
    evidence = _TYPE_EVIDENCE.get(qtype)
    if not evidence:
        return 0.0
    found = sum(1 for pattern in evidence if pattern.search(text))
    against = _COUNTER_EVIDENCE.get(qtype)
    if against is not None and against.search(text):
        found -= 1
    return max(found, 0) / len(evidence)


def is_list_block(text: str) -> bool:
    """Whether the text holds at least two enumerated items on their own lines (1. … 2. …, （一）… （二）…)."""
    return len(_ITEM.findall(text)) >= 2


def wants_list(qtype: QType) -> bool:
    """A materials or procedure answer is a list or a run of steps: it may be quoted whole, past the usual window."""
    return qtype in (QType.MATERIALS, QType.PROCEDURE)


# the kinds of answer a document gives a part of its own (所需材料, 补贴标准, 办理地点, 办理流程); a time or an
# eligibility rule is mostly stated inside the part it belongs to, and headings naming 时间 or 条件 are everywhere
# (reading them too lost shared dev questions of the tune half and gained no colloquial one)
HEADED = frozenset({QType.MATERIALS, QType.AMOUNT, QType.PLACE, QType.PROCEDURE})
# how a part's title names such content: "五、所需材料", "二、筹资标准和缴费", "七、咨询方式", "五、办理流程"
_HEADING_PATTERNS: dict[QType, re.Pattern[str]] = {
    QType.MATERIALS: re.compile(r"材料|要件|证件|资料|清单"),
    QType.AMOUNT: re.compile(r"标准|金额|额度|费用|收费|比例"),
    QType.PLACE: re.compile(r"地点|地址|咨询方式|联系方式|窗口|咨询电话|联系电话"),
    QType.PROCEDURE: re.compile(r"流程|程序|步骤|办理方式"),
}


def is_faq(passage: Passage) -> bool:
    """Whether the passage is a Q&A pair (the chunker writes it "问：…\n答：…", its question as its heading)."""
    return passage.chunk.is_qa_pair


def heading_asks(passage: Passage, qtype: QType) -> bool:
    """Whether the passage's own heading asks for the kind of answer ``qtype`` is: a Q&A pair's question
    ("报名需要准备哪些材料？") or a part's title ("五、所需材料", "三、办理时限").

    Such a part answers that kind of question even when another part of the document shares more of its
    words ("一、办理事项" for a 低保 materials question).
    """
    chunk = passage.chunk
    if qtype not in HEADED or not chunk.heading_path:
        return False
    heading = chunk.heading_path[-1]
    if is_faq(passage):
        return question_type(heading) is qtype
    return bool(_HEADING_PATTERNS[qtype].search(normalize(heading)))


def asks_the_same(passage: Passage, qtype: QType) -> bool:
    """Whether the passage is a Q&A pair whose own question asks for the same kind of answer as ``qtype``
    ("报名需要准备哪些材料？" for "孩子上小学要准备什么"): its answer is then of that kind."""
    chunk = passage.chunk
    if qtype is QType.OTHER or not is_faq(passage):
        return False
    return question_type(chunk.heading_path[0]) is qtype
