"""The complaint form: validating what, where, name and phone, then filing a complaint work order."""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from knowledge.privacy import mask_phone
from knowledge.workorders import WorkOrderKind, WorkOrderStore, WorkOrderUnavailable

from . import replies
from .conversation import Turn, transcript
from .payload import Reply, ReplyKind, make_payload, slots

log = logging.getLogger(__name__)

WHAT_MIN_CHARS = 5
NAME_MAX_CHARS = 30
ANONYMOUS_WORDS = ("匿名", "不留", "跳过", "不方便", "不想说", "不用", "保密")
# a mobile (1[3-9] + 9 digits) or a landline with its area code (0 + 2–3 digits, then 7–8 digits)
PHONE = re.compile(r"(?<!\d)(?:\+?86)?(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
FORM_SLOTS = ("complaint_what", "complaint_where", "complaint_name", "complaint_phone")


def _clean(value: Any) -> str:
    """Slot text without surrounding spaces; the citizen's own punctuation is kept."""
    return value.strip() if isinstance(value, str) else ""


def parse_phone(value: Any) -> str | None:
    """The phone number in a reply such as ``13812345678`` or ``我的电话是0631-5201234``, else None."""
    half_width = unicodedata.normalize("NFKC", _clean(value))  # the IME may give full-width digits
    text = re.sub(r"(?<=\d)[ ()-](?=\d)", "", half_width)
    found = PHONE.search(text)
    return found[1] if found else None


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
    def __init__(self, work_orders: WorkOrderStore) -> None:
        self.work_orders = work_orders

    def name(self) -> str:
        return "action_submit_complaint"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        reply = await asyncio.to_thread(file_complaint, self.work_orders, tracker)
        return reply.send(dispatcher)


def file_complaint(work_orders: WorkOrderStore, tracker: Tracker) -> Reply:
    """Store the filled-in form as a complaint work order; on failure keep the form and say so."""
    turn = Turn.of(tracker)
    what = _clean(tracker.get_slot("complaint_what"))
    phone = _clean(tracker.get_slot("complaint_phone"))
    try:
        order = work_orders.create(
            WorkOrderKind.COMPLAINT,
            sender_id=turn.sender_id,
            summary=what[:100],
            transcript=transcript(tracker),
            what=what,
            where=_clean(tracker.get_slot("complaint_where")),
            name=_clean(tracker.get_slot("complaint_name")) or replies.ANONYMOUS,
            phone=phone,
        )
    except WorkOrderUnavailable as error:
        log.error("complaint not filed: %s", error.message)
        # the slots stay filled: saying 投诉 again submits the same form without retyping it
        return Reply(replies.COMPLAINT_UNRECORDED, make_payload(ReplyKind.COMPLAINT, turn.intent))
    log.info("complaint work order %s created (phone %s)", order.number, mask_phone(phone))
    payload = make_payload(ReplyKind.COMPLAINT, turn.intent, work_order=order.number)
    # the next complaint starts from an empty form
    events = slots(**{name: None for name in FORM_SLOTS})
    return Reply(replies.complaint_text(order.number, mask_phone(phone)), payload, events)
