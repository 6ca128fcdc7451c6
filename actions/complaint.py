"""The complaint form: validating what, where, name and phone, then filing a complaint work order."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from knowledge import privacy
from knowledge.privacy import mask_phone
from monitor.outbox import WorkOrderDesk
from monitor.workorders import WorkOrderKind, WorkOrderRequest

from . import replies
from .conversation import Turn, transcript
from .handoff import trigger_key
from .payload import Reply, ReplyKind, make_payload, slots

log = logging.getLogger(__name__)

WHAT_MIN_CHARS = 5
NAME_MAX_CHARS = 30
ANONYMOUS_WORDS = ("匿名", "不留", "跳过", "不方便", "不想说", "不用", "保密")
FORM_SLOTS = ("complaint_what", "complaint_where", "complaint_name", "complaint_phone")
# intents bot/data/rules.yml answers in the middle of the form, before the form asks again
ANSWERED_DURING_FORM = frozenset(
    {"ask_policy", "ask_followup", "ask_validity", "ask_interpretation", "ask_contact", "nlu_fallback"}
)
# intents of the buttons an answer offers, sent as payloads ("/feedback_positive")
BUTTON_INTENTS = frozenset({"choose_document", "feedback_positive", "feedback_negative", "request_human"})
QUESTION = re.compile(
    r"[？?]\s*$|[吗呢么]\s*[。！!]?\s*$|多少|怎么|怎样|如何|什么|哪些|哪个|哪里|哪儿|几[个年月天岁号次级点]"
    r"|能不能|能否|可不可以|是不是|是否|有没有|要不要"
)
# a complaint is often worded as a question ("补贴为什么还没发？"): words like these make it an answer
COMPLAINT_WORDS = re.compile(
    r"投诉|举报|反映|没人|没有人|没发|未发|不发|不给|乱收|多收|扣|拖欠|推诿|刁难|态度|不作为|不办|拒绝"
)


def _clean(value: Any) -> str:
    """Slot text without surrounding spaces; the citizen's own punctuation is kept."""
    return value.strip() if isinstance(value, str) else ""


def parse_phone(value: Any) -> str | None:
    """The phone number in a reply such as ``13812345678`` or ``我的电话是零六三一 520 1234``, as digits; else None."""
    return privacy.parse_phone(_clean(value))


def is_question_to_assistant(text: str, intent: str) -> bool:
    """Whether a reply to a form question is instead a question for the assistant (城乡居民医保每年交多少钱)."""
    return intent in ANSWERED_DURING_FORM and bool(QUESTION.search(text)) and not COMPLAINT_WORDS.search(text)


def is_aside(text: str, intent: str) -> bool:
    """Whether a reply to a form question is something rules.yml answers instead: a question for the
    assistant, a button's payload (/feedback_positive, /choose_document{…}) or a request for a person."""
    if text.startswith("/") and intent in BUTTON_INTENTS:
        return True
    if intent == "request_human" and not COMPLAINT_WORDS.search(text):
        return True
    return is_question_to_assistant(text, intent)


def parse_name(value: Any) -> str | None:
    """The caller's name, or 匿名 when they decline to give one."""
    text = _clean(value)
    if not text or any(word in text for word in ANONYMOUS_WORDS):
        return replies.ANONYMOUS
    return text[:NAME_MAX_CHARS]


def form_message(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> None:
    Reply(text, make_payload(ReplyKind.FORM, Turn.of(tracker).intent)).send(dispatcher)


class ValidateComplaintForm(FormValidationAction):
    def name(self) -> str:
        return "validate_complaint_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Refuse an aside instead of an answer (see ``is_aside``): rules.yml answers it, then the form asks again."""
        requested = tracker.get_slot("requested_slot")
        turn = Turn.of(tracker)
        # only a slot just filled from the message: coming back after the answer, the form validates nothing
        fresh = requested in FORM_SLOTS and requested in tracker.slots_to_validate()
        if fresh and is_aside(turn.text, turn.intent):
            log.info("%s during the complaint form, not taken as %s", turn.intent, requested)
            return [SlotSet(requested, None), ActionExecutionRejected(self.form_name())]
        return await super().run(dispatcher, tracker, domain)

    def validate_complaint_what(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = _clean(value)
        if len(text) < WHAT_MIN_CHARS:
            form_message(dispatcher, tracker, replies.WHAT_TOO_SHORT)
            return {"complaint_what": None}
        return {"complaint_what": text}

    def validate_complaint_where(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = _clean(value)
        if not text:
            form_message(dispatcher, tracker, replies.WHERE_MISSING)
            return {"complaint_where": None}
        return {"complaint_where": text}

    def validate_complaint_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"complaint_name": parse_name(value)}

    def validate_complaint_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        phone = parse_phone(value)
        if phone is None:
            form_message(dispatcher, tracker, replies.PHONE_INVALID)
            return {"complaint_phone": None}
        return {"complaint_phone": phone}


class ActionSubmitComplaint(Action):
    def __init__(self, desk: WorkOrderDesk) -> None:
        self.desk = desk

    def name(self) -> str:
        return "action_submit_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reply = await asyncio.to_thread(file_complaint, self.desk, tracker)
        return reply.send(dispatcher)


def complaint_kept_text(masked_phone: str) -> str:
    """The complaint waits in the outbox: honest about the delay, the number on the next reply, the hotline now."""
    return "\n".join(
        [
            "您的投诉已保存。工单系统暂时繁忙，恢复后会自动登记，工单号将在您下次发消息时告知。",
            f"工作人员将通过您留下的电话（{masked_phone}）与您联系核实；急事请直接拨打{replies.hotline()}反映。",
        ]
    )


def file_complaint(desk: WorkOrderDesk, tracker: Tracker) -> Reply:
    """File the filled-in form as a complaint work order; only when nothing could keep it, keep the form."""
    turn = Turn.of(tracker)
    what = _clean(tracker.get_slot("complaint_what"))
    phone = _clean(tracker.get_slot("complaint_phone"))
    request = WorkOrderRequest.of(
        WorkOrderKind.COMPLAINT,
        sender_id=turn.sender_id,
        key=trigger_key(tracker, WorkOrderKind.COMPLAINT),
        summary=what[:100],
        transcript=transcript(tracker),
        what=what,
        where=_clean(tracker.get_slot("complaint_where")),
        name=_clean(tracker.get_slot("complaint_name")) or replies.ANONYMOUS,
        phone=phone,
    )
    filing = desk.file(request)
    # the next complaint starts from an empty form (also when this one waits in the outbox)
    events = slots(**{name: None for name in FORM_SLOTS})
    if filing.kept:
        return Reply(complaint_kept_text(mask_phone(phone)), make_payload(ReplyKind.COMPLAINT, turn.intent), events)
    if filing.order is None:
        log.error("complaint not filed")
        # the slots stay filled: saying 投诉 again submits the same form without retyping it
        return Reply(replies.complaint_unrecorded_text(), make_payload(ReplyKind.COMPLAINT, turn.intent))
    number = filing.order.number
    log.info("complaint work order %s (phone %s)", number, mask_phone(phone))
    payload = make_payload(ReplyKind.COMPLAINT, turn.intent, work_order=number)
    return Reply(replies.complaint_text(number, mask_phone(phone)), payload, events)
