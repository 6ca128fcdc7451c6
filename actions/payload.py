"""The machine-readable payload every bot message carries, and the reply that bundles text, payload and events.

Rasa's REST channel returns a message's ``json_message`` as a separate ``{"recipient_id": …, "custom": {…}}``
entry right after the text (and buttons) of the same message; channels read the payload from there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypedDict

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge.document import Citation

PAYLOAD_VERSION = 1


class ReplyKind(StrEnum):
    """What sort of message this is; ``no_answer`` marks an unanswered question."""

    ANSWER = "answer"
    CLARIFY = "clarify"
    NO_ANSWER = "no_answer"
    VALIDITY = "validity"
    INTERPRETATION = "interpretation"
    CONTACT = "contact"
    HANDOFF = "handoff"
    COMPLAINT = "complaint"
    FORM = "form"  # a complaint-form validation message
    FEEDBACK = "feedback"
    ERROR = "error"  # the knowledge base could not be queried
    # template responses in bot/domain.yml carry these (their ``intent`` is the user_intent slot)
    SMALLTALK = "smalltalk"  # greeting, goodbye, thanks, chit-chat, "anything else?"
    OUT_OF_SCOPE = "out_of_scope"  # not a question about the county's policies
    NOT_UNDERSTOOD = "not_understood"  # Rasa's utter_default


class CitationRole(StrEnum):
    """Why a document is cited, so a channel knows which one to show as the source of the quote."""

    QUOTED = "quoted"  # the quoted text comes from it
    INTERPRETED = "interpreted"  # the policy that a quoted 解读 explains
    REPLACEMENT = "replacement"  # the document in force instead of a retired or amended one
    CHOICE = "choice"  # offered in a clarifying question
    SUBJECT = "subject"  # what a validity or interpretation reply is about


class CitationPayload(TypedDict):
    """One cited document, with what a citizen needs to check it."""

    role: str  # a CitationRole value
    doc_id: str
    title: str
    kind: str
    doc_number: str  # 文号
    issuer: str  # 发文机关
    date: str  # ISO date of publication (or writing)
    validity: str  # 现行有效 / 已修改 / 已废止 / 失效 / 尚未生效
    url: str
    replaced_by: str  # id of the replacing document, "" if none


class ButtonPayload(TypedDict):
    """A Rasa button: what is shown and the message it sends."""

    title: str
    payload: str


class ReplyPayload(TypedDict):
    """The ``custom`` part of every message the action server sends."""

    version: int
    reply: str  # a ReplyKind value
    answered: bool  # the message answers from the knowledge base
    confidence: float  # answer-extraction confidence in [0, 1]; 0 when no answer was attempted
    intent: str  # the intent of the user message this replies to
    doc_ids: list[str]  # cited documents, first the one quoted
    citations: list[CitationPayload]
    buttons: list[ButtonPayload]
    work_order: str | None  # 工单 number for handoffs and complaints
    feedback: str | None  # "positive" / "negative" for feedback replies


def cite(citation: Citation, role: CitationRole) -> CitationPayload:
    """A citation as it goes into the payload."""
    return CitationPayload(
        role=role.value,
        doc_id=citation.doc_id,
        title=citation.title,
        kind=citation.kind,
        doc_number=citation.doc_number,
        issuer=citation.issuer,
        date=citation.date,
        validity=citation.validity,
        url=citation.url,
        replaced_by=citation.replaced_by,
    )


def button(title: str, intent: str, **entities: str) -> ButtonPayload:
    """A button that sends ``/intent{"entity":"value"}``, the form Rasa parses without NLU."""
    suffix = json.dumps(entities, ensure_ascii=False, separators=(",", ":")) if entities else ""
    return ButtonPayload(title=title, payload=f"/{intent}{suffix}")


def make_payload(
    reply: ReplyKind,
    intent: str,
    *,
    answered: bool = False,
    confidence: float = 0.0,
    citations: Iterable[CitationPayload] = (),
    buttons: Sequence[ButtonPayload] = (),
    doc_ids: Sequence[str] = (),
    work_order: str | None = None,
    feedback: str | None = None,
) -> ReplyPayload:
    """A payload; ``doc_ids`` defaults to the cited documents, in order, without repeats."""
    cited = list(citations)
    ids = list(doc_ids) or list(dict.fromkeys(c["doc_id"] for c in cited))
    return ReplyPayload(
        version=PAYLOAD_VERSION,
        reply=reply.value,
        answered=answered,
        confidence=round(float(confidence), 4),
        intent=intent,
        doc_ids=ids,
        citations=cited,
        buttons=list(buttons),
        work_order=work_order,
        feedback=feedback,
    )


@dataclass(frozen=True)
class Reply:
    """One bot message (text, buttons in the payload) and the events the action returns with it."""

    text: str
    payload: ReplyPayload
    events: list[EventType] = field(default_factory=list)

    def send(self, dispatcher: CollectingDispatcher) -> list[EventType]:
        """Utter the message with its payload; returns the events for the action to return."""
        custom: dict[str, Any] = dict(self.payload)
        dispatcher.utter_message(
            text=self.text, buttons=[dict(b) for b in self.payload["buttons"]], json_message=custom
        )
        return self.events


def slots(**values: Any) -> list[EventType]:
    """SlotSet events, in keyword order."""
    return [SlotSet(name, value) for name, value in values.items()]
