"""Phone numbers, addresses and office hours: the contact reply (the lookup is knowledge.contacts)."""

from __future__ import annotations

from knowledge.contacts import ContactEntry, find_contact
from knowledge.document import Answer
from knowledge.reader import KnowledgeReader

from . import replies
from .answering import KnowledgeAction, no_answer_reply, reply_to_question
from .conversation import Turn
from .payload import CitationRole, Reply, ReplyKind, cite, make_payload


def beyond_guides(kb: KnowledgeReader, answer: Answer | None, turn: Turn) -> Reply:
    """No service guide or directory entry fits: a policy or notice may still give the number or place
    ("发热门诊的咨询热线是多少"); otherwise the honest no-answer."""
    return reply_to_question(kb, turn, turn.text) if turn.text else no_answer_reply(kb, answer, turn, turn.text)


def contact_reply(entry: ContactEntry, turn: Turn) -> Reply:
    """The entry's heading and lines with its citation."""
    payload = make_payload(
        ReplyKind.CONTACT,
        turn.intent,
        answered=True,
        confidence=entry.confidence,
        citations=[cite(entry.citation, CitationRole.QUOTED)],
    )
    return Reply(replies.contact_text(entry.heading, entry.details, entry.citation), payload)


def reply_on_contact(kb: KnowledgeReader, turn: Turn) -> Reply:
    """How to reach the department the question names (else the current document's), from the guides."""
    search = find_contact(kb, turn.text, turn.current_doc_id)
    if search is None:
        return no_answer_reply(kb, None, turn, turn.text)
    if search.entry is None:
        return beyond_guides(kb, search.answer, turn)
    return contact_reply(search.entry, turn)


class ActionAnswerContact(KnowledgeAction):
    def name(self) -> str:
        return "action_answer_contact"

    def reply(self, kb: KnowledgeReader, turn: Turn) -> Reply:
        return reply_on_contact(kb, turn)
