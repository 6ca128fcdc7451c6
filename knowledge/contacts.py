"""Phone numbers, addresses and office hours, from the contact directory and service guides."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .clarify import label, naming_words
from .departments import department_of
from .document import Answer, Citation, Document, Kind, Passage
from .privacy import find_phones
from .qtypes import HOURS
from .reader import KnowledgeReader
from .retrieval import Filters
from .spans import break_fields

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
# 12345-style service lines: published numbers, not personal ones, so knowledge.privacy does not find them
SERVICE_LINE = re.compile(r"(?<!\d)123\d{2}(?!\d)")


@dataclass(frozen=True)
class ContactQuery:
    """What to search the service guides for, and the department whose entry to prefer (may be empty)."""

    text: str
    department: str


@dataclass(frozen=True)
class ContactEntry:
    """A directory or guide entry answering a contact question: its heading, its lines, where it is from."""

    heading: str
    details: str
    passage: Passage
    confidence: float

    @property
    def citation(self) -> Citation:
        return self.passage.citation


@dataclass(frozen=True)
class ContactSearch:
    """The search among service guides and the entry it found; no entry when none fits the question."""

    answer: Answer
    entry: ContactEntry | None


def contact_query(documents: Mapping[str, Document], question: str, current_doc_id: str = "") -> ContactQuery:
    """What to search for and the department to prefer: the one named in the question, else the current one."""
    department = department_of(documents, current_doc_id)
    names = (" ".join((label(doc), doc.department, doc.issuer)) for doc in documents.values())
    names_someone = bool(naming_words(question, names, CONTACT_WORDS))
    if department and not names_someone:
        return ContactQuery(f"{department} 咨询电话 办公地址 办公时间", department)
    return ContactQuery(question or department, "" if names_someone else department)


def asked_aspects(question: str) -> list[str]:
    """Which of phone, address and office hours the question asks for (all three when it says none); an hours
    question in any of qtypes' words ("12345晚上有人接不") asks for the hours."""
    asked = [aspect for aspect, words in ASPECT_WORDS.items() if any(word in question for word in words)]
    if "hours" not in asked and HOURS.asked_by(question):
        asked.append("hours")
    return asked or list(ASPECT_WORDS)


def covers(passage: Passage, aspect: str) -> bool:
    """Whether a passage gives the phone number, address or office hours (``aspect``)."""
    text = " ".join((*passage.chunk.heading_path, passage.chunk.text))
    if aspect == "phone":
        return bool(find_phones(text)) or SERVICE_LINE.search(text) is not None
    if aspect == "hours" and HOURS.stated_in(text):  # "12345（24小时人工服务）" states hours with no 办公时间
        return True
    return any(marker in text for marker in ASPECT_MARKERS[aspect])


def best_passage(answer: Answer, question: str, department: str) -> Passage:
    """Among the answer's passages, the first covering most of what was asked, preferring the department's."""
    aspects = asked_aspects(question)

    def fit(passage: Passage) -> int:
        heading = " ".join(passage.chunk.heading_path)
        named = bool(department) and department in heading
        # an entry titled with the service line the question names ("十三、县12345…工作中心" for "12345晚上有人接不")
        # over the directory's preamble, which gives the usual hours and mentions the hotline too; other words of
        # the question in a heading (申请 in "四、申请材料") say nothing of whose entry it is
        titled = any(line in heading for line in SERVICE_LINE.findall(question))
        return sum(covers(passage, aspect) for aspect in aspects) + int(named) + int(titled)

    best = max(answer.passages, key=fit, default=answer.passage)  # max keeps the first of equals: the best ranked
    assert best is not None
    return best


def contact_entry(answer: Answer, question: str, department: str) -> ContactEntry | None:
    """The entry of the guides' answer that gives what was asked, or None when none is about whom was asked."""
    if answer.passage is None:  # no service guide at all
        return None
    passage = best_passage(answer, question, department)
    # a directory entry is a list of names and numbers, which sentence-level answer confidence rates
    # poorly; an entry that carries the department or place the question names is the answer
    entry = " ".join((*passage.chunk.heading_path, passage.chunk.text))
    named = (department and department in entry) or naming_words(question, [entry], CONTACT_WORDS)
    if not answer.answered and not named:
        return None
    heading = passage.chunk.heading_path[-1] if passage.chunk.heading_path else ""
    lines = [line.strip() for line in passage.chunk.text.splitlines() if line.strip()]
    if lines and heading and lines[0].rstrip("：:") == heading.rstrip("：:"):
        lines = lines[1:]  # the chunk opens with the heading the reply already names
    # the chunker joins a section's paragraphs, so an entry's fields come run together: one line each
    details = "\n".join(break_fields(line) for line in lines)
    if len(details) > DETAILS_MAX_CHARS:
        details = details[: DETAILS_MAX_CHARS - 1] + "…"
    return ContactEntry(heading, details, passage, answer.confidence)


def find_contact(kb: KnowledgeReader, question: str, current_doc_id: str = "") -> ContactSearch | None:
    """Search the service guides for how to reach whom the question names (else the current document's
    department); None when there is nothing to search for."""
    query = contact_query(kb.documents(), question, current_doc_id)
    if not query.text:
        return None
    answer = kb.answer(query.text, GUIDES, top_k=CONTACT_PASSAGES)
    return ContactSearch(answer, contact_entry(answer, question, query.department))
