"""The operator's desk: one call assisted, live calls followed, drafts saved as work orders, orders listed.

What an API process holds for the hotline (built once, at its entry point): the knowledge reader, the
classifier and the past cases load lazily on the first call that needs them (an API process that never
serves the hotline never loads the model); calls and work orders live in the database, so every process
serving the console sees the same calls.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from knowledge.privacy import parse_phone
from monitor.cases import CaseBase
from monitor.classify import Classifier, ClassifySettings
from monitor.exports import WORK_ORDER_COLUMNS, work_order_rows, write_table
from monitor.settings import MonitorSettings
from monitor.workorders import (
    WorkOrder,
    WorkOrderKind,
    WorkOrderRequest,
    WorkOrderStatus,
    WorkOrderStore,
    idempotency_key,
)

from . import draft
from .assist import AnswerSource, CaseSource, HotlineAssistant
from .calls import Call, CallClosed, CallStore, OrderDetails, call_input, check_characters, segments_of
from .errors import TranscriptError
from .settings import HotlineSettings
from .transcript import parse_transcript
from .wire import AssistJson, assistance_json, with_phone

log = logging.getLogger(__name__)

KnowledgeOpener = Callable[[], AnswerSource]


class MaskedPhoneUnknown(ValueError):
    """A masked 联系电话 (138****5678) with no call whose number it masks."""


@dataclass(frozen=True)
class OrderFilter:
    """Which work orders a list or an export covers."""

    status: WorkOrderStatus | None = None
    kind: WorkOrderKind | None = None
    category: str = ""
    department: str = ""
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 200


@dataclass(frozen=True)
class SavedOrder:
    """A work order saved from a draft; ``created`` is False when a retry found the one saved before."""

    order: WorkOrder
    details: OrderDetails | None
    created: bool


class HotlineDesk:
    """Everything the hotline routes do, over the knowledge base, the classifier, past cases, calls and orders."""

    def __init__(
        self,
        settings: HotlineSettings,
        open_knowledge: KnowledgeOpener,
        open_classifier: Callable[[], Classifier],
        open_cases: Callable[[], CaseSource | None],
        calls: CallStore,
        orders: WorkOrderStore,
    ) -> None:
        self.settings = settings
        self._open_knowledge = open_knowledge
        self._open_classifier = open_classifier
        self._open_cases = open_cases
        self.calls = calls
        self.orders = orders
        self._lock = threading.Lock()
        self._parts: tuple[Classifier, CaseSource | None] | None = None

    @classmethod
    def from_settings(
        cls, settings: MonitorSettings, hotline: HotlineSettings, classify: ClassifySettings
    ) -> HotlineDesk:
        """The desk of a process: one embedding model shared by the reader, the classifier and the case base."""
        from knowledge.embedding import load_embedder
        from knowledge.provider import KnowledgeProvider
        from knowledge.reader import KnowledgeReader
        from monitor.messages import MessageStore

        embedder_lock = threading.Lock()
        embedders: list[Any] = []

        def embedder() -> Any:
            with embedder_lock:
                if not embedders:
                    embedders.append(load_embedder(settings.index.model, settings.index.query_threads))
                return embedders[0]

        provider = KnowledgeProvider(lambda: KnowledgeReader.open(settings, embedder()))

        def open_cases() -> CaseSource | None:
            try:
                store = MessageStore.open(settings.store.url)
                try:
                    cases = CaseBase.from_store(store, embedder())
                finally:
                    store.close()
            except Exception as error:  # noqa: BLE001 - past cases are a help, not a condition of answering
                log.warning("past cases unavailable (%s): calls are assisted without them", type(error).__name__)
                return None
            log.info("past cases: %d messages with replies", len(cases))
            return cases

        desk = cls(
            hotline,
            provider.current,
            lambda: Classifier.from_settings(classify, embedder() if classify.features == "hybrid" else None),
            open_cases,
            CallStore.open(settings.store.url),
            WorkOrderStore.open(settings.store.url),
        )
        desk._provider = provider  # type: ignore[attr-defined]  # closed with the desk
        return desk

    def close(self) -> None:
        provider = getattr(self, "_provider", None)
        if provider is not None:
            provider.close()
        self.calls.close()
        self.orders.close()

    # -- assistance ----------------------------------------------------------------------------------

    def knowledge(self) -> AnswerSource:
        """The knowledge base served now (opened on first use), shared with the admin pages: one index a process."""
        return self._open_knowledge()

    def assistant(self) -> HotlineAssistant:
        """The assistant over the generation served now; the classifier and cases load once, on first use."""
        if self._parts is None:
            with self._lock:
                if self._parts is None:
                    started = time.perf_counter()
                    self._parts = (self._open_classifier(), self._open_cases())
                    log.info("hotline assistant ready in %.1f s", time.perf_counter() - started)
        classifier, cases = self._parts
        return HotlineAssistant(self._open_knowledge(), classifier, self.settings, cases)

    def warm_up(self) -> None:
        """Load everything the first call needs (run on a background thread at start); failures are logged."""
        started = time.perf_counter()
        try:
            self.assistant().assist("来电人：低保怎么申请？")
        except Exception:  # noqa: BLE001 - the first real call reports the same failure to the operator
            log.exception("hotline warm-up failed")
            return
        log.info("hotline warmed up in %.1f s", time.perf_counter() - started)

    def assist(self, raw: Any) -> AssistJson:
        """One whole call → the console's JSON, with the full callback number (the routes are the operator's)."""
        check_characters(raw)
        assistance = self.assistant().assist(raw)
        return with_phone(assistance_json(assistance), assistance.work_order.phone, for_operator=True)

    # -- live calls ----------------------------------------------------------------------------------

    def new_call(self) -> Call:
        return self.calls.create()

    def add_segments(self, call_id: str, raw: Any) -> tuple[Call, AssistJson | None]:
        """Store the posted segments (masked), recognise the callback number, and assist the call so far."""
        call = self.calls.get(call_id)
        if call.closed:
            raise CallClosed(call_id)
        try:
            new = segments_of(raw, self.settings.max_chars)
        except TranscriptError as error:
            # "嗯。" alone is a real segment of a live call with nothing in it; a blank body is still an error
            if error.code != "empty_transcript" or not isinstance(raw, str) or not raw.strip():
                raise
            new = []
        stored = self.calls.segments(call_id)
        # what the call already holds decides these, not the request: a conflict with the call's state (409)
        if len(stored) + len(new) > self.settings.max_segments:
            raise TranscriptError("too_many_segments", f"一个通话最多 {self.settings.max_segments} 个片段。", 409)
        if self.calls.characters(call_id) + sum(len(s.text) for s in new) > self.settings.max_chars:
            limit = self.settings.max_chars
            raise TranscriptError("call_too_long", f"这个通话的转写已达上限（最多 {limit} 个字符）。", 409)
        phone = ""
        if new and not call.phone:
            # the number may only be recognised with the call's roles: read it from the whole call, unmasked part new
            phone = draft.caller_phone(parse_transcript(call_input([*stored, *new]), self.settings.max_chars))
        revision = self.calls.append(call_id, new, phone)
        return self.refresh(call_id, revision)

    def refresh(self, call_id: str, revision: int | None = None) -> tuple[Call, AssistJson | None]:
        """The call with its assistance at ``revision`` (now: the latest), computed and stored if it is not yet."""
        call = self.calls.get(call_id)
        revision = call.revision if revision is None else revision
        if call.result is not None and call.result_revision >= revision:
            return call, with_phone(call.result, call.phone, for_operator=True)  # type: ignore[arg-type]
        if revision == 0:
            return call, None
        segments = self.calls.segments(call_id, up_to=revision)
        assistance = self.assistant().assist(call_input(segments), called_at=call.created_at.astimezone())
        result = assistance_json(assistance)
        self.calls.save_result(call_id, revision, result)
        call = self.calls.get(call_id)
        return call, with_phone(result, call.phone, for_operator=True)

    def close_call(self, call_id: str) -> tuple[Call, AssistJson | None]:
        """Close the call (no more segments) with its final assistance and draft."""
        self.calls.get(call_id)
        call = self.calls.finish(call_id)
        return self.refresh(call_id, call.revision)

    def transcript_of(self, call: Call) -> str:
        """The call as labelled, masked text (坐席：… / 来电人：…), for the work order."""
        segments = self.calls.segments(call.id)
        if not segments:
            return ""
        try:
            return parse_transcript(call_input(segments), self.settings.max_chars).render()
        except TranscriptError:
            return ""

    # -- work orders ---------------------------------------------------------------------------------

    def save_order(self, fields: Mapping[str, Any], call_id: str | None = None, status: str = "open") -> SavedOrder:
        """Save an operator-edited draft through the work-order store (numbering, statuses, idempotency per call).

        ``fields``: the draft's English names (see ``draft.WorkOrderDraft``). A masked 联系电话 (138****5678)
        means "the number the call gave" (MaskedPhoneUnknown without one); another number must be a phone
        number (ValueError otherwise)."""
        call = self.calls.get(call_id) if call_id else None
        phone = str(fields.get("phone") or "").strip()
        if "*" in phone:
            if call is None or not call.phone:
                raise MaskedPhoneUnknown("联系电话是打了星号的号码，但没有对应的通话号码，请填写完整的回拨号码。")
            phone = call.phone
        elif phone:
            parsed = parse_phone(phone)
            if parsed is None:
                raise ValueError("联系电话不是有效的手机或固定电话号码。")
            phone = parsed
        if call_id:
            key = idempotency_key("hotline", call_id)
        else:  # the same draft saved twice (a retried click) is one order
            content = json.dumps({**fields, "phone": phone}, ensure_ascii=False, sort_keys=True, default=str)
            key = idempotency_key("hotline", "draft", hashlib.sha256(content.encode()).hexdigest())
        request = WorkOrderRequest.of(
            WorkOrderKind.HOTLINE,
            key=key,
            status=status,
            summary=str(fields.get("summary") or ""),
            transcript=self.transcript_of(call) if call else "",
            where=str(fields.get("location") or ""),
            name=str(fields.get("caller_name") or ""),
            phone=phone,
            appeal_type=str(fields.get("request_type") or ""),
            category=str(fields.get("category") or ""),
            suggested_department=str(fields.get("department") or ""),
        )
        started = self.orders.clock()
        order = self.orders.create(request)
        created = order.created_at >= started  # an order saved before under the same key is older
        called_at = fields.get("called_at") or (call.created_at if call else order.created_at)
        details = OrderDetails(
            order.number,
            call_id,
            called_at if isinstance(called_at, datetime) else order.created_at,
            str(fields.get("answered_content") or ""),
            bool(fields.get("needs_transfer", True)),
        )
        self.calls.save_details(details)
        if call is not None:
            self.calls.link_order(call.id, order.number)
        return SavedOrder(order, self.calls.details([order.number]).get(order.number), created)

    def list_orders(self, which: OrderFilter) -> list[tuple[WorkOrder, OrderDetails | None]]:
        """The newest work orders the filter covers, each with its hotline fields when it has them."""
        orders = self.orders.list(
            which.limit,
            which.status,
            kind=which.kind,
            category=which.category,
            department=which.department,
            since=_utc(which.since),
            until=_utc(which.until),
        )
        details = self.calls.details([order.number for order in orders])
        return [(order, details.get(order.number)) for order in orders]

    def export_orders(self, which: OrderFilter, fmt: str, full_phone: bool) -> bytes:
        """The orders the filter covers as CSV or XLSX; the phone in full only when ``full_phone``."""
        listed = self.list_orders(which)
        details = {
            order.number: {
                "来电时间": found.called_at,
                "已答复内容": found.answered_content,
                "是否需要转办": found.needs_transfer,
            }
            for order, found in listed
            if found is not None
        }
        rows = work_order_rows([order for order, _ in listed], details, full_phone)
        return write_table(WORK_ORDER_COLUMNS, rows, fmt)


def _utc(value: datetime | None) -> datetime | None:
    """SQLite keeps times as written: the store writes UTC, so filters compare in UTC too."""
    return None if value is None else value.astimezone(UTC)
