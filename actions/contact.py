"""Phone numbers, addresses and office hours, from the contact directory and service guides."""

from __future__ import annotations

import re

from knowledge.base import KnowledgeBase
from knowledge.document import Answer, Kind, Passage
from knowledge.retrieval import Filters

from . import replies
from .answering import KnowledgeAction, no_answer_reply, reply_to_question
from .clarify import label, naming_words
from .conversation import Turn
from .payload import CitationRole, Reply, ReplyKind, cite, make_payload

GUIDES = Filters(kinds=(Kind.SERVICE_GUIDE,))
CONTACT_PASSAGES = 8  # a guide's hours and the directory's entry are often 6th–8th
DETAILS_MAX_CHARS = 300
# words that ask *how* to reach someone, not *whom*: a question made only of these needs the current department
CONTACT_WORDS = frozenset(
    "电话 号码 电话号码 联系 联系方式 联系电话 咨询 咨询电话 地址 办公 办公地址 地点 位置 在哪 在哪儿 哪儿 几点 时间 "
    "办公时间 上班 下班 工作日 周末 窗口 怎么走 怎么 找谁 打给 部门 单位 热线 多少 是多少 那个 这个".split()
)


ASPECT_WORDS = {
    "phone": ("电话", "号码", "热线", "打"),
    "address": ("地址", "在哪", "哪里", "哪儿", "位置", "怎么走", "窗口"),
    "hours": ("几点", "时间", "上班", "下班", "周末", "周六", "节假日"),
}
ASPECT_MARKERS = {"address": ("地址", "位于", "地点"), "hours": ("办公时间", "周一至周五", "工作日")}
PHONE_NUMBER = re.compile(r"\d{3,4}-\d{7,8}|123\d{2}")


def contact_query(kb: KnowledgeBase, turn: Turn) -> tuple[str, str]:
    """What to search for and the department to prefer: the one named in the question, else the current one."""
    docs = kb.documents()
    current = docs.get(turn.current_doc_id)
    department = (current.department or current.issuer) if current is not None else ""
    names = (" ".join((label(doc), doc.department, doc.issuer)) for doc in docs.values())
    names_someone = bool(naming_words(turn.text, names, CONTACT_WORDS))
    if department and not names_someone:
        return f"{department} 咨询电话 办公地址 办公时间", department
    return turn.text or department, "" if names_someone else department


def asked_aspects(question: str) -> list[str]:
    """Which of phone, address and office hours the question asks for (all three when it says none)."""
    asked = [aspect for aspect, words in ASPECT_WORDS.items() if any(word in question for word in words)]
    return asked or list(ASPECT_WORDS)


def covers(passage: Passage, aspect: str) -> bool:
    text = " ".join((*passage.chunk.heading_path, passage.chunk.text))
    if aspect == "phone":
        return PHONE_NUMBER.search(text) is not None
    return any(marker in text for marker in ASPECT_MARKERS[aspect])


def best_passage(answer: Answer, question: str, department: str) -> Passage:
    """Among the answer's passages, the first covering most of what was asked, preferring the department's."""
    aspects = asked_aspects(question)

    def fit(passage: Passage) -> int:
        named = bool(department) and department in " ".join(passage.chunk.heading_path)
        return sum(covers(passage, aspect) for aspect in aspects) + int(named)

    best = max(answer.passages, key=fit, default=answer.passage)  # max keeps the first of equals: the best ranked
    assert best is not None
    return best


def beyond_guides(kb: KnowledgeBase, answer: Answer, turn: Turn) -> Reply:
    """No service guide or directory entry fits: a policy or notice may still give the number or place
    ("发热门诊的咨询热线是多少"); otherwise the honest no-answer."""
    return reply_to_question(kb, turn, turn.text) if turn.text else no_answer_reply(kb, answer, turn, turn.text)


def reply_on_contact(kb: KnowledgeBase, turn: Turn) -> Reply:
    query, department = contact_query(kb, turn)
    if not query:
        return no_answer_reply(kb, None, turn, turn.text)
    answer = kb.answer(query, GUIDES, top_k=CONTACT_PASSAGES)
    if answer.passage is None:  # no service guide at all
        return beyond_guides(kb, answer, turn)
    passage = best_passage(answer, turn.text, department)
    # a directory entry is a list of names and numbers, which sentence-level answer confidence rates
    # poorly; an entry that carries the department or place the question names is the answer
    entry = " ".join((*passage.chunk.heading_path, passage.chunk.text))
    named = (department and department in entry) or naming_words(turn.text, [entry], CONTACT_WORDS)
    if not answer.answered and not named:
        return beyond_guides(kb, answer, turn)
    heading = passage.chunk.heading_path[-1] if passage.chunk.heading_path else ""
    details = "\n".join(line.strip() for line in passage.chunk.text.splitlines() if line.strip())
    if len(details) > DETAILS_MAX_CHARS:
        details = details[: DETAILS_MAX_CHARS - 1] + "…"
    payload = make_payload(
        ReplyKind.CONTACT,
        turn.intent,
        answered=True,
        confidence=answer.confidence,
        citations=[cite(passage.citation, CitationRole.QUOTED)],
    )
    return Reply(replies.contact_text(heading, details, passage.citation), payload)


class ActionAnswerContact(KnowledgeAction):
    def name(self) -> str:
        return "action_answer_contact"

    def reply(self, kb: KnowledgeBase, turn: Turn) -> Reply:
        return reply_on_contact(kb, turn)
