"""Answers from the knowledge base: a new question, a follow-up about the current document, a chosen document."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from knowledge.answer import extract_answer
from knowledge.answer_parts import Part, answer_parts, answers_both, split_question
from knowledge.clarify import ambiguous_documents, label, question_words, subject_id
from knowledge.departments import closest_department, responsible_department
from knowledge.document import Answer, Citation, Document, Kind, Validity
from knowledge.errors import InvalidQuery, KnowledgeError
from knowledge.provider import KnowledgeProvider
from knowledge.reader import KnowledgeReader
from knowledge.retrieval import Filters
from knowledge.spans import clip
from knowledge.supersede import Supersession, check_question

from . import replies
from .conversation import Turn
from .payload import ButtonPayload, CitationRole, Reply, ReplyKind, button, cite, make_payload, slots

log = logging.getLogger(__name__)

OFFER_HUMAN_AFTER = 2  # consecutive unanswered turns before a 转人工 button is offered
FOLLOWUP_PASSAGES = 5
# each answer of a two-part reply is quoted up to this length, so that WeChat's ~600-character passive reply
# (api/render.py cuts longer ones, linking the original) still shows both
PART_MAX_CHARS = 220


def human_button() -> ButtonPayload:
    return button(replies.HUMAN_BUTTON, "request_human")


def related_ids(kb: KnowledgeReader, doc: Document) -> tuple[str, ...]:
    """A document with its current 解读 and, when amended, its amendment: what "this policy" covers."""
    ids = [doc.id]
    interpretation = kb.interpretation_of(doc.id)
    if interpretation is not None:
        ids.append(interpretation.id)
    if doc.validity is Validity.AMENDED and doc.replaced_by in kb.documents():
        ids.append(doc.replaced_by)
    return tuple(ids)


def answer_reply(kb: KnowledgeReader, answer: Answer, turn: Turn, question: str) -> Reply:
    """The quoted answer with its citation, status warnings, the 解读 pointer, and the new context slots."""
    assert answer.passage is not None
    docs = kb.documents()
    doc = docs.get(answer.passage.doc_id) or kb.get(answer.passage.doc_id)
    subject = docs.get(subject_id(doc.id, docs), doc) if doc.kind is Kind.INTERPRETATION else doc
    replacement = docs.get(doc.replaced_by) if doc.replaced_by else None
    interpreted = Citation.of(subject) if subject is not doc else None
    interpretation = kb.interpretation_of(doc.id) if doc.kind is Kind.POLICY else None
    notice = replies.status_notice(doc, replacement)
    citations = [cite(answer.passage.citation, CitationRole.QUOTED)]
    if interpreted is not None:
        citations.append(cite(interpreted, CitationRole.INTERPRETED))
    buttons = []
    if replacement is not None and notice:
        citations.append(cite(Citation.of(replacement), CitationRole.REPLACEMENT))
        buttons.append(button("查看现行规定", "choose_document", doc_id=replacement.id))
    text = replies.answer_text(
        answer.text, answer.passage.citation, notice=notice, interpreted=interpreted, interpretation=interpretation
    )
    payload = make_payload(
        ReplyKind.ANSWER, turn.intent, answered=True, confidence=answer.confidence, citations=citations, buttons=buttons
    )
    events = slots(current_doc_id=subject.id, current_topic=subject.title, last_question=question, failed_turns=0.0)
    return Reply(text, payload, events)


def dated_title(doc: Document) -> str:
    """《title》 with its year when the title does not say it: how a citizen tells two versions apart."""
    when = doc.published_date or doc.written_date
    title = replies.quoted_title(doc.title)
    return f"{title}（{when.year}年）" if when and str(when.year) not in doc.title else title


def superseded_text(supersession: Supersession, answer: Answer) -> str:
    """ "《…（2019年）》已废止，现行规定是《…（2023年修订）》：「…」", the sources, then what the old rule was."""
    old, current = supersession.old, supersession.current
    if old.validity is Validity.AMENDED:
        state = "的有关规定已修改"
    else:
        state = "已废止" if old.validity is Validity.REPEALED else "已失效"
    if current is None:
        lines = [f"{dated_title(old)}{state}，目前没有替代它的现行文件。以下是它当时的规定，不再执行，仅供了解："]
    elif answer.answered:
        lines = [f"{dated_title(old)}{state}，现行规定是{dated_title(current)}："]
    else:
        lines = [f"{dated_title(old)}{state}，现行规定是{dated_title(current)}，请以现行规定为准。"]
    if answer.answered and answer.passage is not None:
        lines.append(f"「{answer.text}」")
        lines += replies.source_lines(answer.passage.citation)
    elif current is not None:
        lines += replies.source_lines(Citation.of(current), "现行规定")
    lines += replies.source_lines(Citation.of(old), "原规定")
    return "\n".join(lines)


def superseded_reply(
    kb: KnowledgeReader, supersession: Supersession, answer: Answer, turn: Turn, question: str
) -> Reply:
    """A question naming a retired or amended rule: its state first, then the rules in force, both cited."""
    old, current = supersession.old, supersession.current
    citations = []
    if answer.answered and answer.passage is not None:
        citations.append(cite(answer.passage.citation, CitationRole.QUOTED))
    if current is not None and (answer.passage is None or answer.passage.doc_id != current.id or not answer.answered):
        citations.append(cite(Citation.of(current), CitationRole.REPLACEMENT))
    citations.append(cite(Citation.of(old), CitationRole.SUBJECT))
    buttons = [button("查看现行规定", "choose_document", doc_id=current.id)] if current and not answer.answered else []
    payload = make_payload(
        ReplyKind.ANSWER,
        turn.intent,
        answered=True,
        confidence=answer.confidence if answer.answered else 1.0,
        citations=citations,
        buttons=buttons,
    )
    subject = current or old
    events = slots(current_doc_id=subject.id, current_topic=subject.title, last_question=question, failed_turns=0.0)
    log.info("superseded: %s → %s (%s)", old.id, current.id if current else None, supersession.reason)
    return Reply(superseded_text(supersession, answer), payload, events)


def two_part_text(parts: list[tuple[Part, Answer]]) -> str:
    """Each sub-question in the citizen's words, its quote and its source, numbered."""
    lines = []
    for number, (part, answer) in enumerate(parts, 1):
        assert answer.passage is not None
        quote = clip(answer.text, PART_MAX_CHARS)
        quote += "……" if len(quote) < len(answer.text) else ""
        lines += [f"{number}. {part.typed}", f"「{quote}」", *replies.source_lines(answer.passage.citation)]
    return "\n".join(lines)


def two_part_reply(parts: list[tuple[Part, Answer]], turn: Turn, question: str) -> Reply:
    """Two questions in one message ("创业贷款最多贷多少 要啥条件"): both answered, both cited."""
    citations, seen = [], set()
    for _, answer in parts:
        assert answer.passage is not None
        if answer.passage.doc_id not in seen:
            seen.add(answer.passage.doc_id)
            citations.append(cite(answer.passage.citation, CitationRole.QUOTED))
    confidence = min(answer.confidence for _, answer in parts)
    payload = make_payload(ReplyKind.ANSWER, turn.intent, answered=True, confidence=confidence, citations=citations)
    first = parts[0][1].passage
    assert first is not None
    events = slots(
        current_doc_id=first.doc_id, current_topic=first.citation.title, last_question=question, failed_turns=0.0
    )
    return Reply(two_part_text(parts), payload, events)


def no_answer_reply(
    kb: KnowledgeReader, answer: Answer | None, turn: Turn, question: str, document: Document | None = None
) -> Reply:
    """The honest no-answer; counts the failure and offers a person after repeated ones."""
    failed = turn.failed_turns + 1
    offer = failed >= OFFER_HUMAN_AFTER
    department = (
        responsible_department(document) if document is not None else closest_department(kb.documents(), answer)
    )
    payload = make_payload(
        ReplyKind.NO_ANSWER,
        turn.intent,
        confidence=answer.confidence if answer else 0.0,
        buttons=[human_button()] if offer else [],
    )
    events = slots(failed_turns=float(failed), last_question=question)
    return Reply(replies.no_answer_text(department, document, offer), payload, events)


def clarify_reply(candidates: list[Document], answer: Answer, turn: Turn, question: str) -> Reply:
    """Ask which policy is meant; the answer waits for action_answer_chosen_document."""
    buttons = [button(replies.quoted_title(doc.title), "choose_document", doc_id=doc.id) for doc in candidates]
    payload = make_payload(
        ReplyKind.CLARIFY,
        turn.intent,
        confidence=answer.confidence,
        citations=[cite(Citation.of(doc), CitationRole.CHOICE) for doc in candidates],
        buttons=buttons,
    )
    events = slots(current_doc_id=None, current_topic=question, last_question=question, failed_turns=0.0)
    return Reply(replies.clarify_text(candidates), payload, events)


def reply_to_question(kb: KnowledgeReader, turn: Turn, question: str) -> Reply:
    """A new question: clarify between close policies, answer with a citation, or say honestly there is none."""
    answer = kb.answer(question)
    # a question naming an old amount, 文号 or year of a retired rule is told so first, never answered
    # from the old rule as if it applied (nor from the new one as if nothing had changed)
    supersession, current = check_question(kb, question, answer)
    if supersession is not None and current is not None:
        return superseded_reply(kb, supersession, current, turn, question)
    # two kinds of thing asked at once ("最多贷多少 要啥条件"): one quote would answer one of them
    if len(split_question(question)) == 2:
        parts = answer_parts(question, kb.answer)
        if answers_both(parts):
            return two_part_reply(parts, turn, question)
    # before the confidence check: a vague question ("创业补贴怎么申请") often has no confident answer
    # precisely because it fits two policies; the choice makes it answerable
    candidates = ambiguous_documents(question, answer.passages, kb.documents())
    if candidates:
        return clarify_reply(candidates, answer, turn, question)
    if not answer.answered:
        return no_answer_reply(kb, answer, turn, question)
    return answer_reply(kb, answer, turn, question)


def changes_topic(kb: KnowledgeReader, question: str, answer: Answer, current: Document) -> bool:
    """Whether a general answer is about another subject the question names (``那低保呢``) than the current one."""
    if not answer.answered or answer.passage is None:
        return False
    docs = kb.documents()
    other = docs.get(subject_id(answer.passage.doc_id, docs))
    if other is None or other.id in related_ids(kb, current):
        return False
    return any(word in label(other) and word not in label(current) for word in question_words(question))


def reply_to_followup(kb: KnowledgeReader, turn: Turn) -> Reply:
    """A follow-up answered from the current document, unless it names another topic."""
    current = kb.documents().get(turn.current_doc_id)
    if current is None:
        return reply_to_question(kb, turn, turn.text)
    filters = Filters(doc_ids=related_ids(kb, current), include_retired=current.validity.is_retired)
    answer = kb.answer(turn.text, filters)
    if not answer.answered:
        # the topic helps find the passages, but only the follow-up's own words may decide the answer:
        # judged on the combined text, the topic's words alone would make any passage look relevant
        passages = kb.search(f"{turn.current_topic or current.title} {turn.text}", FOLLOWUP_PASSAGES, filters)
        answer = extract_answer(turn.text, passages, kb.index.idf, kb.extraction, kb.retriever().next_chunk)
    if answer.answered:
        return answer_reply(kb, answer, turn, turn.text)
    general = kb.answer(turn.text)
    if changes_topic(kb, turn.text, general, current):
        return reply_to_question(kb, turn, turn.text)
    return no_answer_reply(kb, answer, turn, turn.text, document=current)


def reply_to_choice(kb: KnowledgeReader, turn: Turn) -> Reply:
    """The pending question answered from the document the user picked (retired ones included, and flagged)."""
    doc = kb.documents().get(turn.chosen_doc_id or turn.current_doc_id)
    if doc is None:
        payload = make_payload(ReplyKind.NO_ANSWER, turn.intent)
        return Reply(replies.unknown_document_text(), payload, slots(current_doc_id=None))
    question = turn.last_question or doc.title
    answer = kb.answer(question, Filters(doc_ids=related_ids(kb, doc), include_retired=True))
    if answer.answered:
        return answer_reply(kb, answer, turn, question)
    reply = no_answer_reply(kb, answer, turn, question, document=doc)
    return Reply(reply.text, reply.payload, [*reply.events, *slots(current_doc_id=doc.id, current_topic=doc.title)])


async def consult(knowledge: KnowledgeProvider, work: Callable[[KnowledgeReader], Reply], turn: Turn) -> Reply:
    """Run ``work`` on the knowledge base; a bad question or an unavailable knowledge base still gets a reply."""
    try:
        return await knowledge.run(work)
    except InvalidQuery as error:
        return Reply(f"{error.message}。请换个简短的说法再问。", make_payload(ReplyKind.NO_ANSWER, turn.intent))
    except KnowledgeError as error:
        log.error("knowledge base unavailable (%s): %s", error.code, error.message)
        payload = make_payload(ReplyKind.ERROR, turn.intent, buttons=[human_button()])
        return Reply(replies.unavailable_text(), payload)


def log_reply(action: str, reply: Reply) -> None:
    """One line per reply, without any user text: what kind, whether answered, which documents."""
    p = reply.payload
    log.info(
        "%s: %s answered=%s confidence=%.2f docs=%s", action, p["reply"], p["answered"], p["confidence"], p["doc_ids"]
    )


class KnowledgeAction(Action, ABC):
    """An action that replies from the knowledge base, which it refreshes first."""

    def __init__(self, knowledge: KnowledgeProvider) -> None:
        self.knowledge = knowledge

    @abstractmethod
    def reply(self, kb: KnowledgeReader, turn: Turn) -> Reply:
        """The reply to this turn (runs in a worker thread)."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        turn = Turn.of(tracker)
        reply = await consult(self.knowledge, lambda kb: self.reply(kb, turn), turn)
        log_reply(self.name(), reply)
        return reply.send(dispatcher)


class ActionAnswerPolicyQuestion(KnowledgeAction):
    def name(self) -> str:
        return "action_answer_policy_question"

    def reply(self, kb: KnowledgeReader, turn: Turn) -> Reply:
        return reply_to_question(kb, turn, turn.text)


class ActionAnswerFollowup(KnowledgeAction):
    def name(self) -> str:
        return "action_answer_followup"

    def reply(self, kb: KnowledgeReader, turn: Turn) -> Reply:
        return reply_to_followup(kb, turn)


class ActionAnswerChosenDocument(KnowledgeAction):
    def name(self) -> str:
        return "action_answer_chosen_document"

    def reply(self, kb: KnowledgeReader, turn: Turn) -> Reply:
        return reply_to_choice(kb, turn)
