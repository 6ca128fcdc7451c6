"""Who is speaking: the hotline operator (坐席) or the caller (来电人), from labels or, without them, from what is said.

The rule when labels are missing or anonymous (A/B, 甲/乙, 说话人1, FunASR's ``spk`` numbers):

- Each sentence gets an *operator score*: + for what operators say — the greeting (您好…热线 / 请问有什么
  可以帮您 / 很高兴为您服务 / 工号), asking for details (请问您贵姓 / 您的联系电话 / 请您提供), answering
  from the rules (根据…规定 / 按照…政策), and closing (还有其他问题吗 / 感谢您的来电 / 为您登记 / 工单 /
  转交); − for what callers say — asking (我想问 / 我想咨询, and any question without 您: −1.5, enough to
  outweigh one 根据…规定), requesting (我要投诉 / 我想反映 / 帮帮忙), and speaking of themselves (我家 /
  我们村 / 我的电话是 / 你们), and moving on to another question (opening with 还有就是 / 另外 / 对了).
- Anonymous speakers: each speaker's scores are summed, the one who speaks first gets +1 (operators pick up
  and greet); the highest-scoring speaker is the operator, every other speaker a caller.
- Unlabelled lines (one turn a line): a line with a clear score (|score| ≥ 2) takes that role; any other
  line takes the role opposite to the line before (turns alternate); the first line defaults to operator.
- One unlabelled block (no line breaks): each sentence with a clear score takes that role; a question
  without 您, or what follows the operator's offer (请问有什么可以帮您), goes to the caller; any other
  sentence continues the previous speaker's turn.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Role(StrEnum):
    """The two sides of a hotline call."""

    CALLER = "caller"
    OPERATOR = "operator"

    @property
    def label(self) -> str:
        return "来电人" if self is Role.CALLER else "坐席"


OPERATOR_LABELS = ("坐席", "座席", "客服", "话务员", "接线员", "工作人员", "值班员", "热线", "operator", "agent")
CALLER_LABELS = (
    "市民",
    "来电人",
    "来电者",
    "来电",
    "群众",
    "用户",
    "居民",
    "客户",
    "咨询人",
    "投诉人",
    "caller",
    "customer",
)
_ANONYMOUS = r"[A-Da-d甲乙丙丁]|(?:说话人|发言人|讲话人|角色|speaker|spk)\s*\d+"
_KNOWN = "|".join(sorted(OPERATOR_LABELS + CALLER_LABELS, key=len, reverse=True))
# A speaker label at the start of a line, optionally after a time stamp: "[00:01:02] 坐席：", "A: ", "说话人1："
LABEL_LINE = re.compile(
    r"^\s*(?:[\[【(（]?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?[\]】)）]?\s*)?"
    rf"[\[【(（]?(?P<label>{_KNOWN}|{_ANONYMOUS})[\]】)）]?\s*[：:]\s*(?P<text>.*)$",
    re.IGNORECASE,
)

_QUESTION_WORDS = (
    r"(?:什么|怎么|怎样|如何|哪|多少|多久|多长时间|几|是否|能不能|可不可以|有没有|是不是"
    r"|要不要|会不会|咋|(?<![任])何(?!况))"
)
_OPERATOR_CUES = [
    (
        re.compile(
            r"您好.{0,8}(热线|服务|中心|平台)|请问有什么可以帮|有什么可以帮(您|你)|很高兴为您服务|为您服务|工号"
        ),
        3.0,
    ),
    (
        re.compile(
            r"请问您(贵姓|怎么称呼|的|是哪|在哪|所在|现在)|您的(联系|电话|手机|姓名|地址|身份证)|请您(提供|留|说|稍等)"
        ),
        3.0,
    ),
    (
        re.compile(
            r"还有(其他|别的|什么)(问题|需要|可以)|感谢(您的)?来电|为您(登记|记录|转|查询|反映)|工单|转交|转办|给您回复|回访"
        ),
        3.0,
    ),
    (re.compile(r"您稍等|帮您(查|看|转|登记|记录|问)|具体以.{0,8}为准"), 3.0),
    (re.compile(r"(根据|按照|依据).{0,24}(规定|政策|文件|办法|通知)"), 2.0),
    (re.compile(r"我们(会|这边|将)"), 1.0),
    (re.compile(r"您"), 0.5),
]
_CALLER_CUES = [
    (re.compile(r"我(想|要)(问|咨询|了解|反映|投诉|举报|求助|申请)|我问一下|想问一下|帮帮忙|救救"), 3.0),
    (
        re.compile(
            r"我(家|们家|们村|们小区|们单位|父亲|母亲|爸|妈|孩子|儿子|女儿|老公|老婆)|我的?(电话|手机|号码|联系方式)(是|号)|我叫"
        ),
        2.0,
    ),
    (re.compile(r"你们"), 1.0),
    # a caller moving on to another question ("还有就是请您监督专栏在哪开设"): operators answer, they do not ask
    (re.compile(r"^(?:还有就是|还有一个|另外|对了|然后呢?我?还想|我还想|再问一下)"), 3.0),
]
_QUESTION = re.compile(r"[吗呢？?]$|" + _QUESTION_WORDS)
# the operator offering the caller the turn: what is said next is the caller's
OFFER = re.compile(r"有什么(?:可以)?(?:帮|为您)|请讲|请说|您说|还有(?:其他|别的|什么)(?:问题|需要)")
QUESTION_WEIGHT = 1.5  # a question without 您 is what callers say; it outweighs one operator phrase such as 根据…规定
CLEAR = 2.0


def label_role(label: str) -> Role | None:
    """The role a speaker label names, or None for an anonymous label (A/B, 甲/乙, 说话人1)."""
    name = label.strip().lower()
    if any(name == known.lower() for known in OPERATOR_LABELS):
        return Role.OPERATOR
    if any(name == known.lower() for known in CALLER_LABELS):
        return Role.CALLER
    return None


def operator_score(sentence: str) -> float:
    """Positive for what an operator says, negative for what a caller says (see the module's rule)."""
    score = sum(weight for cue, weight in _OPERATOR_CUES if cue.search(sentence))
    score -= sum(weight for cue, weight in _CALLER_CUES if cue.search(sentence))
    if is_question(sentence) and "您" not in sentence and score < 3:  # 还有其他问题吗 stays the operator's
        score -= QUESTION_WEIGHT
    return score


def is_question(sentence: str) -> bool:
    """Whether a sentence asks something (question word, particle or question mark)."""
    return bool(_QUESTION.search(sentence.rstrip("。！!，,")))


def assign_speakers(speakers: list[str], sentences: list[list[str]]) -> dict[str, Role]:
    """Roles for anonymous speakers, in order of first appearance, from the sentences each one said."""
    totals: dict[str, float] = {}
    for speaker, said in zip(speakers, sentences, strict=True):
        first_bonus = 0.0 if totals else 1.0  # operators pick up and speak first
        totals[speaker] = totals.get(speaker, first_bonus) + sum(operator_score(s) for s in said)
    if len(totals) == 1:  # one voice: a caller's message unless it clearly is an operator speaking
        only = next(iter(totals))
        return {only: Role.OPERATOR if totals[only] >= CLEAR + 1 else Role.CALLER}
    operator = max(totals, key=totals.__getitem__)
    return {speaker: Role.OPERATOR if speaker == operator else Role.CALLER for speaker in totals}


def assign_lines(lines: list[list[str]]) -> list[Role]:
    """Roles for unlabelled lines: clear cues decide, otherwise turns alternate, the operator first."""
    roles: list[Role] = []
    for said in lines:
        score = sum(operator_score(s) for s in said)
        if score >= CLEAR:
            roles.append(Role.OPERATOR)
        elif score <= -CLEAR:
            roles.append(Role.CALLER)
        elif roles:
            roles.append(Role.CALLER if roles[-1] is Role.OPERATOR else Role.OPERATOR)
        else:
            roles.append(Role.OPERATOR)
    return roles


def assign_sentences(sentences: list[str]) -> list[Role]:
    """Roles for the sentences of one unlabelled block: clear cues decide, else questions are the caller's, and
    what follows the operator's offer (请问有什么可以帮您) is the caller's answer."""
    roles: list[Role] = []
    for number, sentence in enumerate(sentences):
        score = operator_score(sentence)
        offered = bool(roles) and roles[-1] is Role.OPERATOR and bool(OFFER.search(sentences[number - 1]))
        if score >= CLEAR:
            roles.append(Role.OPERATOR)
        elif score <= -CLEAR or (is_question(sentence) and "您" not in sentence) or offered:
            roles.append(Role.CALLER)
        else:
            roles.append(roles[-1] if roles else Role.CALLER)
    return roles
