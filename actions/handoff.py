"""Handing the conversation to a person: a work order with the (masked) transcript, and the hotline."""

from __future__ import annotations

import asyncio
import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from knowledge.workorders import WorkOrderKind, WorkOrderStore, WorkOrderUnavailable

from . import replies
from .conversation import Turn, transcript
from .payload import Reply, ReplyKind, make_payload, slots
from .provider import KnowledgeProvider

log = logging.getLogger(__name__)


def current_department(knowledge: KnowledgeProvider, turn: Turn) -> tuple[str, str]:
    """Department and title of the current document — only if the knowledge base is already open:
    a handoff is the way out when answering fails, so it must never wait for (or fail on) the model."""
    kb = knowledge.peek()
    doc = kb.documents().get(turn.current_doc_id) if kb is not None and turn.current_doc_id else None
    if doc is None:
        return "", ""
    return doc.department or doc.issuer, doc.title


def summary(kind: WorkOrderKind, question: str, title: str) -> str:
    reason = "群众申请转人工" if kind is WorkOrderKind.HANDOFF else "连续多次未能回答，自动转人工"
    parts = [reason]
    if question:
        parts.append(f"最近的问题：{question}")
    if title:
        parts.append(f"当前文件：{replies.quoted_title(title)}")
    return "；".join(parts)


def hand_off(
    work_orders: WorkOrderStore,
    knowledge: KnowledgeProvider,
    tracker: Tracker,
    kind: WorkOrderKind,
    question: str,
) -> Reply:
    """Store a work order holding the conversation so far and tell the user its number."""
    turn = Turn.of(tracker)
    department, title = current_department(knowledge, turn)
    doc_ids = [turn.current_doc_id] if turn.current_doc_id else []
    try:
        order = work_orders.create(
            kind,
            sender_id=turn.sender_id,
            summary=summary(kind, question, title),
            transcript=transcript(tracker),
            department=department,
        )
    except WorkOrderUnavailable as error:
        log.error("handoff without a work order: %s", error.message)
        payload = make_payload(ReplyKind.HANDOFF, turn.intent, doc_ids=doc_ids)
        return Reply(replies.handoff_unrecorded_text(department), payload, slots(failed_turns=0.0))
    log.info("work order %s (%s) created for department %r", order.number, kind.value, department)
    payload = make_payload(ReplyKind.HANDOFF, turn.intent, doc_ids=doc_ids, work_order=order.number)
    return Reply(replies.handoff_text(order.number, department), payload, slots(failed_turns=0.0))


class ActionHandoff(Action):
    def __init__(self, work_orders: WorkOrderStore, knowledge: KnowledgeProvider) -> None:
        self.work_orders = work_orders
        self.knowledge = knowledge

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        question = Turn.of(tracker).last_question
        # a database write: kept off the event loop like the knowledge base work
        reply = await asyncio.to_thread(
            hand_off, self.work_orders, self.knowledge, tracker, WorkOrderKind.HANDOFF, question
        )
        return reply.send(dispatcher)
