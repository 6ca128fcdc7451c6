"""The 解读 of the current policy: its opening points, or an answer from the interpretations."""

from __future__ import annotations

from knowledge.chunking import opens_question
from knowledge.clarify import label, naming_words
from knowledge.document import Citation, Document, Kind
from knowledge.reader import KnowledgeReader
from knowledge.retrieval import Filters

from . import replies
from .answering import KnowledgeAction, answer_reply, changes_topic, reply_to_question
from .conversation import Turn
from .payload import CitationRole, Reply, ReplyKind, cite, make_payload

EXCERPT_MIN_CHARS = 120
EXCERPT_MAX_CHARS = 320
# words that ask for an interpretation itself; a question made only of these names no policy
INTERPRETATION_WORDS = frozenset(
    "政策 解读 政策解读 解释 说明 一下 讲讲 介绍 文件 这个 那个 内容 要点 重点 意思 什么 具体".split()
)


def excerpt(body: str) -> str:
    """The opening of a body, about two short paragraphs or 问/答 pairs, cut only where a new one begins."""
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    questions_and_answers = bool(lines) and opens_question(lines[0])
    kept: list[str] = []
    size = 0
    for line in lines:
        starts_unit = not questions_and_answers or opens_question(line)
        if kept and starts_unit and size >= EXCERPT_MIN_CHARS:
            break
        kept.append(line)
        size += len(line)
    text = "\n".join(kept)
    return text if len(text) <= EXCERPT_MAX_CHARS else text[: EXCERPT_MAX_CHARS - 1] + "…"


def interpretation_reply(interpretation: Document, policy: Document | None, turn: Turn) -> Reply:
    citations = [cite(Citation.of(interpretation), CitationRole.QUOTED)]
    if policy is not None:
        citations.append(cite(Citation.of(policy), CitationRole.INTERPRETED))
    payload = make_payload(ReplyKind.INTERPRETATION, turn.intent, answered=True, confidence=1.0, citations=citations)
    return Reply(replies.interpretation_text(interpretation, excerpt(interpretation.body), policy), payload)


def reply_on_interpretation(kb: KnowledgeReader, turn: Turn) -> Reply:
    """The current policy's 解读; without one (or when the user names another topic), search the 解读 documents."""
    docs = kb.documents()
    current = docs.get(turn.current_doc_id)
    named = naming_words(turn.text, (label(doc) for doc in docs.values()), INTERPRETATION_WORDS)
    question = turn.text if named else ""
    general = kb.answer(question, Filters(kinds=(Kind.INTERPRETATION,))) if question else None
    if current is not None and not (general and changes_topic(kb, question, general, current)):
        if current.kind is Kind.INTERPRETATION:
            return interpretation_reply(current, docs.get(current.interprets), turn)
        interpretation = kb.interpretation_of(current.id)
        if interpretation is not None:
            return interpretation_reply(interpretation, current, turn)
        payload = make_payload(
            ReplyKind.INTERPRETATION, turn.intent, citations=[cite(Citation.of(current), CitationRole.SUBJECT)]
        )
        return Reply(replies.no_interpretation_text(current), payload)
    if general is not None and general.answered:
        return answer_reply(kb, general, turn, question)
    if question:
        # the question names a subject no 解读 covers ("复工补贴怎么理解"): the policy itself may answer it
        return reply_to_question(kb, turn, question)
    # no policy in context and none named: ask which one rather than count a failure
    return Reply(replies.no_current_document_text(), make_payload(ReplyKind.INTERPRETATION, turn.intent))


class ActionAnswerInterpretation(KnowledgeAction):
    def name(self) -> str:
        return "action_answer_interpretation"

    def reply(self, kb: KnowledgeReader, turn: Turn) -> Reply:
        return reply_on_interpretation(kb, turn)
