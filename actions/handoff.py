"""Handing the conversation to a person: a work order with the (masked) transcript, and the hotline.

Also the wrapper that tells a citizen the number of an order that waited in the outbox (``AnnounceLateWorkOrders``).
"""

from __future__ import annotations

import asyncio
import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from knowledge.departments import responsible_department
from knowledge.provider import KnowledgeProvider
from monitor.outbox import WorkOrderDesk
from monitor.workorders import WorkOrderKind, WorkOrderRequest, idempotency_key

from . import replies
from .conversation import Turn, transcript
from .payload import Reply, ReplyKind, make_payload, slots

log = logging.getLogger(__name__)


def current_department(knowledge: KnowledgeProvider, turn: Turn) -> tuple[str, str]:
    """Department and title of the current document — only if the knowledge base is already open:
    a handoff is the way out when answering fails, so it must never wait for (or fail on) the model."""
    kb = knowledge.peek()
    doc = kb.documents().get(turn.current_doc_id) if kb is not None and turn.current_doc_id else None
    if doc is None:
        return "", ""
    return responsible_department(doc), doc.title


def summary(kind: WorkOrderKind, question: str, title: str) -> str:
    reason = "群众申请转人工" if kind is WorkOrderKind.HANDOFF else "连续多次未能回答，自动转人工"
    parts = [reason]
    if question:
        parts.append(f"最近的问题：{question}")
    if title:
        parts.append(f"当前文件：{replies.quoted_title(title)}")
    return "；".join(parts)


def trigger_key(tracker: Tracker, kind: WorkOrderKind) -> str:
    """The idempotency key of the work order this message triggers: a retried action finds the same key."""
    users = [event for event in tracker.events if event.get("event") == "user"]
    last = users[-1] if users else {}
    # Rasa gives each user message an id (and a timestamp); without them, its position and text stand in
    message = str(last.get("message_id") or last.get("timestamp") or f"{len(users)}:{last.get('text') or ''}")
    return idempotency_key(tracker.sender_id or "", kind.value, message)


# -- what the citizen is told when an order waits in the outbox (lead: move next to replies.handoff_text) --


def handoff_kept_text(department: str = "") -> str:
    """The order is in the outbox: honest about the delay, the hotline now, the number on the next reply."""
    lines = [
        "好的，已为您转人工服务。工单系统暂时繁忙，您的诉求已保存，系统恢复后会自动登记，工单号将在您下次发消息时告知。",
        f"如需马上处理，请直接拨打{replies.hotline()}（24小时人工服务）。",
    ]
    if department:
        lines.append(f"您咨询的事项由{department}负责，也可以直接向该部门咨询。")
    return "\n".join(lines)


def late_number_text(number: str) -> str:
    """Said before the next reply once an order from the outbox is stored."""
    return f"您之前的诉求已登记，工单号：{number}。可拨打{replies.hotline()}，凭工单号查询办理进度。"


def hand_off(
    desk: WorkOrderDesk,
    knowledge: KnowledgeProvider,
    tracker: Tracker,
    kind: WorkOrderKind,
    question: str,
) -> Reply:
    """File a work order holding the conversation so far and tell the user its number (or when it comes)."""
    turn = Turn.of(tracker)
    department, title = current_department(knowledge, turn)
    doc_ids = [turn.current_doc_id] if turn.current_doc_id else []
    request = WorkOrderRequest.of(
        kind,
        sender_id=turn.sender_id,
        key=trigger_key(tracker, kind),
        summary=summary(kind, question, title),
        transcript=transcript(tracker),
        department=department,
    )
    filing = desk.file(request)
    done = slots(failed_turns=0.0)
    if filing.order is None:
        payload = make_payload(ReplyKind.HANDOFF, turn.intent, doc_ids=doc_ids)
        if filing.kept:
            return Reply(handoff_kept_text(department), payload, done)
        log.error("handoff without a work order")
        return Reply(replies.handoff_unrecorded_text(department), payload, done)
    number = filing.order.number
    log.info("work order %s (%s) for department %r", number, kind.value, department)
    payload = make_payload(ReplyKind.HANDOFF, turn.intent, doc_ids=doc_ids, work_order=number)
    return Reply(replies.handoff_text(number, department), payload, done)


class ActionHandoff(Action):
    def __init__(self, desk: WorkOrderDesk, knowledge: KnowledgeProvider) -> None:
        self.desk = desk
        self.knowledge = knowledge

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        question = Turn.of(tracker).last_question
        # a database write: kept off the event loop like the knowledge base work
        reply = await asyncio.to_thread(hand_off, self.desk, self.knowledge, tracker, WorkOrderKind.HANDOFF, question)
        return reply.send(dispatcher)


class AnnounceLateWorkOrders(Action):
    """Runs an action, first telling the citizen the numbers of their orders that landed from the outbox."""

    def __init__(self, action: Action, desk: WorkOrderDesk) -> None:
        self.action = action
        self.desk = desk

    def name(self) -> str:
        return self.action.name()

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        if self.desk.has_notices(tracker.sender_id or ""):
            for number in await asyncio.to_thread(self.desk.notices, tracker.sender_id or ""):
                payload = make_payload(ReplyKind.HANDOFF, Turn.of(tracker).intent, work_order=number)
                Reply(late_number_text(number), payload).send(dispatcher)
        return await self.action.run(dispatcher, tracker, domain)
