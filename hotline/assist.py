"""From a call transcript to what the operator needs: answers with sources, classification, a draft 工单."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from knowledge.document import Answer, Citation, Document
from knowledge.privacy import mask_personal_data
from monitor.cases import PastCase
from monitor.classify import Category, Classifier, RequestType
from monitor.replies import UNSIGNED

from . import draft
from .questions import Question, extract_questions
from .roles import Role
from .settings import HotlineSettings
from .transcript import Transcript, parse_transcript

log = logging.getLogger(__name__)

# ASR without punctuation can run a whole call into one "question"; retrieval reads its front, as the chat would
QUESTION_CHARS = 300
CLASSIFY_CHARS = 256
NO_ANSWER = "知识库中没有找到可靠的答案，请如实告知来电人，记录后转承办单位答复。"


class AnswerSource(Protocol):
    """What the assistant needs of the knowledge base: ``KnowledgeBase`` and ``KnowledgeReader`` both fit."""

    def answer(self, question: str) -> Answer: ...

    def documents(self) -> Mapping[str, Document]: ...


class CaseSource(Protocol):
    """What the assistant needs of past cases: ``monitor.cases.CaseBase`` fits."""

    def similar_cases(self, text: str, k: int = 3) -> list[PastCase]: ...


@dataclass(frozen=True)
class Source:
    """A cited document as the operator sees it: title, 文号, issuer, date, validity, and its replacement if retired."""

    doc_id: str
    title: str
    doc_number: str
    issuer: str
    date: str
    validity: str
    url: str
    retired: bool
    replaced_by: str = ""
    replaced_by_title: str = ""

    @property
    def warning(self) -> str:
        """已废止 / 失效 / 已修改 said plainly, with what replaced it."""
        if self.validity == "现行有效" or not self.validity:
            return ""
        if self.validity == "未标注":
            return "注意：该文件未标注有效性，答复前请核实是否现行有效。"
        then = f"，已由《{self.replaced_by_title}》替代" if self.replaced_by_title else ""
        return f"注意：该文件{self.validity}{then}。"


@dataclass(frozen=True)
class Suggestion:
    """One question of the caller and what the knowledge base says about it (or an explicit no-answer)."""

    question: Question
    answered: bool
    answer: str
    confidence: float
    citations: tuple[Source, ...]

    @property
    def text(self) -> str:
        """What the operator can read out: the answer, or the no-answer advice."""
        return self.answer if self.answered else NO_ANSWER


@dataclass(frozen=True)
class Assistance:
    """Everything the console shows for one call."""

    transcript: Transcript
    suggestions: tuple[Suggestion, ...]
    request_type: RequestType
    category: Category
    department: str
    work_order: draft.WorkOrderDraft
    timings_ms: Mapping[str, float]
    similar_cases: tuple[PastCase, ...] = ()
    category_department: str = ""  # the department table's choice, before past cases refined it
    department_basis: str = "category"  # category | similar_cases


def refine_department(by_category: str, cases: Sequence[PastCase], min_score: float) -> tuple[str, str]:
    """The department and why: the department of the closest past case, when another close one agrees.

    Close means a similarity of at least ``min_score`` (multilingual-e5 scores unrelated Chinese texts
    around 0.84 and the same complaint around 0.93, hence the default 0.9). The table's department holds
    unless the closest case and at least one more close case were answered by one department (a named one,
    not the unsigned placeholder): then that department answered this kind of call before."""
    close = sorted((c for c in cases if c.score >= min_score), key=lambda c: c.score, reverse=True)
    if not close or close[0].department in ("", UNSIGNED):
        return by_category, "category"
    best = close[0].department
    if best != by_category and sum(1 for case in close if case.department == best) >= 2:
        return best, "similar_cases"
    return by_category, "category"


def _source(citation: Citation, documents: Mapping[str, Document]) -> Source:
    replacement = documents.get(citation.replaced_by) if citation.replaced_by else None
    return Source(
        doc_id=citation.doc_id,
        title=citation.title,
        doc_number=citation.doc_number,
        issuer=citation.issuer,
        date=citation.date,
        validity=citation.validity,
        url=citation.url,
        retired=citation.validity in ("已废止", "失效"),
        replaced_by=citation.replaced_by,
        replaced_by_title=replacement.title if replacement else "",
    )


class HotlineAssistant:
    """Reads a call, answers its questions from the knowledge base, classifies it and drafts its 工单."""

    def __init__(
        self,
        knowledge: AnswerSource,
        classifier: Classifier,
        settings: HotlineSettings,
        cases: CaseSource | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.classifier = classifier
        self.settings = settings
        self.cases = cases

    def suggest(self, question: Question) -> Suggestion:
        """The answer to one question with its citation, or an explicit no-answer."""
        found = self.knowledge.answer(question.text[:QUESTION_CHARS])
        citation = found.citation
        sources = (_source(citation, self.knowledge.documents()),) if citation and found.answered else ()
        return Suggestion(
            question, found.answered, found.text if found.answered else "", round(found.confidence, 3), sources
        )

    def assist(
        self, raw: str | bytes | Mapping[str, Any] | Sequence[Any], called_at: datetime | None = None
    ) -> Assistance:
        """The console's view of a call; a ``TranscriptError`` (with its HTTP status) for unreadable input."""
        clock = time.perf_counter()
        transcript = parse_transcript(raw, self.settings.max_chars)
        parsed = time.perf_counter()
        questions = extract_questions(transcript, self.settings.max_questions)
        extracted = time.perf_counter()
        suggestions = tuple(self.suggest(q) for q in questions)
        answered = time.perf_counter()
        said = "".join(s for turn in transcript.said_by(Role.CALLER) for s in turn.sentences)
        # what a call is about shows in its opening; embedding all of a long call for the classifier and the
        # case search cost a second per call in the bench
        said = said[:CLASSIFY_CHARS]
        # the classifier and the case search each embed what the caller said (a passage, then a query): ~270 ms
        # apiece on one core, most of a call's time; the engine is reentrant and releases the GIL, so they run
        # side by side on the machine's two cores
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hotline-classify") as pool:
            classifying = pool.submit(self.classifier.classify, said)
            cases = self._similar(said)
            classification = classifying.result()
        department, basis = refine_department(classification.department, cases, self.settings.case_min_score)
        work_order = draft.WorkOrderDraft(
            called_at=called_at or datetime.now().astimezone(),
            request_type=classification.request_type.value,
            category=classification.category.path,
            location=draft.location(transcript),
            summary=draft.summary(transcript, questions),
            answered_content=_answered_content(suggestions),
            department=department,
            needs_transfer=draft.needs_transfer(classification.request_type, all(s.answered for s in suggestions)),
            caller_name=draft.caller_name(transcript),
            phone=draft.caller_phone(transcript),
        )
        done = time.perf_counter()
        timings = {
            "parse": round((parsed - clock) * 1000, 1),
            "questions": round((extracted - parsed) * 1000, 1),
            "answers": round((answered - extracted) * 1000, 1),
            "classify_and_draft": round((done - answered) * 1000, 1),
        }
        log.info(
            "hotline call: %d turns, %d questions, %.0f ms",
            len(transcript.turns),
            len(questions),
            (done - clock) * 1000,
        )
        return Assistance(
            transcript,
            suggestions,
            classification.request_type,
            classification.category,
            department,
            work_order,
            timings,
            tuple(cases),
            classification.department,
            basis,
        )

    def _similar(self, said: str) -> list[PastCase]:
        """Past cases like what the caller said (their personal data masked before the search sees it)."""
        if self.cases is None or self.settings.similar_cases == 0 or not said:
            return []
        return self.cases.similar_cases(mask_personal_data(said), k=self.settings.similar_cases)


def _answered_content(suggestions: Sequence[Suggestion]) -> str:
    """What the knowledge base answered, question by question, with the source's title (personal data masked)."""
    lines = []
    for suggestion in suggestions:
        if suggestion.answered:
            title = f"（{_quoted(suggestion.citations[0].title)}）" if suggestion.citations else ""
            lines.append(f"问：{suggestion.question.text} 答：{suggestion.answer}{title}")
    return mask_personal_data("\n".join(lines))


def _quoted(title: str) -> str:
    return title if title.startswith("《") else f"《{title}》"
