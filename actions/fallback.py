"""Low NLU confidence: try the message as a policy question; after repeated failures, hand over to a person."""

from __future__ import annotations

import asyncio

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from knowledge.provider import KnowledgeProvider
from monitor.outbox import WorkOrderDesk
from monitor.workorders import WorkOrderKind

from .answering import OFFER_HUMAN_AFTER, consult, log_reply, reply_to_question
from .conversation import Turn
from .handoff import hand_off
from .payload import ReplyKind


class ActionDefaultFallback(Action):
    def __init__(self, knowledge: KnowledgeProvider, desk: WorkOrderDesk) -> None:
        self.knowledge = knowledge
        self.desk = desk

    def name(self) -> str:
        return "action_default_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        turn = Turn.of(tracker)
        reply = await consult(self.knowledge, lambda kb: reply_to_question(kb, turn, turn.text), turn)
        if reply.payload["reply"] == ReplyKind.NO_ANSWER.value and turn.failed_turns + 1 >= OFFER_HUMAN_AFTER:
            # the no-answer text is replaced by the handoff: the citizen gets a person, not a third apology
            reply = await asyncio.to_thread(
                hand_off, self.desk, self.knowledge, tracker, WorkOrderKind.NO_ANSWER, turn.text
            )
        log_reply(self.name(), reply)
        return reply.send(dispatcher)
