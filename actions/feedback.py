"""Thanks for 有用, an apology and a way to a person for 没用; the payload records which."""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import replies
from .answering import human_button
from .conversation import Turn
from .payload import Reply, ReplyKind, make_payload

log = logging.getLogger(__name__)

POSITIVE_INTENTS = frozenset({"feedback_positive"})


class ActionRecordFeedback(Action):
    def name(self) -> str:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        turn = Turn.of(tracker)
        positive = turn.intent in POSITIVE_INTENTS
        feedback = "positive" if positive else "negative"
        payload = make_payload(
            ReplyKind.FEEDBACK,
            turn.intent,
            doc_ids=[turn.current_doc_id] if turn.current_doc_id else [],
            buttons=[] if positive else [human_button()],
            feedback=feedback,
        )
        log.info("feedback %s on %s", feedback, turn.current_doc_id or "-")
        return Reply(replies.feedback_text(positive), payload).send(dispatcher)
