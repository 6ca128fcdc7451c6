"""Hotline operator routes (``/api/hotline/*``): a call's transcript in; questions, answers with sources,
classification, similar past cases and a draft 工单 out; live calls; work orders from drafts.

Every route is the operator's (``api.auth.Operator``: an account with the operator role, the
``POLICY_HOTLINE__API_KEY`` in ``X-API-Key``, or, while that setting is empty, a loopback client); the
export also admits analysts, who get phone numbers masked. Errors are ``{"error": code, "message": text}``.

JSON contract (H12b's console codes against it; keep it stable)
-----------------------------------------------------------------
``transcript`` (every input below) is one of: plain text (labelled ``坐席：…`` / ``市民：…`` lines or not,
punctuated or not); FunASR's offline JSON ``{"sentence_info": [{"text","start","end","spk"}]}``; FunASR's
streaming messages ``[{"mode","text","is_final","stamp_sents"}]`` (2pass ``*-online`` partials are ignored
on live calls); a segment list ``[{"speaker","text","start_ms","end_ms"}]``. Either as a JSON value or as a
string holding that JSON.

``POST /api/hotline/assist`` ``{"transcript": …}`` → 200 **Assist**::

    {"questions": [{"question": "青禾县创业担保贷款最高能贷多少？",   # standalone wording, masked
                    "said": "…", "kind": "question" | "request",
                    "answered": true, "answer": "…" ("" when not answered),
                    "text": answer, or the no-answer advice to read out,
                    "confidence": 0.83,
                    "citations": [{"doc_id","title","doc_number","issuer","date","validity","url",
                                   "retired": bool, "replaced_by","replaced_by_title",
                                   "warning": "注意：该文件已废止，已由《…》替代。" or ""}]}],
     "request_type": "咨询|求助|投诉|举报|建议|表扬",
     "category": "一级/二级/三级" ("" when unknown), "category_confidence": 0.7,
     "department": "建议承办单位 (after past cases)", "category_department": "the table's choice",
     "department_basis": "category" | "similar_cases",
     "similar_cases": [{"message_id","title","gist","department","date": "YYYY-MM-DD","asked_at","score"}],
     "work_order": {"来电时间": ISO, "来电人": "", "联系电话": full number (operator), "诉求类型": "",
                    "事项分类": "", "地点": "", "诉求摘要": "", "已答复内容": "", "建议承办单位": "",
                    "是否需要转办": bool},
     "turns": [{"role": "caller" | "operator", "label": "来电人" | "坐席", "text": masked}],
     "source": "text" | "funasr" | "funasr_stream" | "segments", "roles_inferred": bool,
     "timings_ms": {"parse","questions","answers","classify_and_draft"}}

Errors: 400 ``empty_transcript``; 413 ``transcript_too_large`` (over ``POLICY_HOTLINE__MAX_CHARS``) or
``body_too_large`` (over ``POLICY_HOTLINE__MAX_BODY_BYTES``); 415 ``binary_transcript``; 422
``control_characters`` / ``malformed_transcript`` / ``invalid_request``; 401 / 403 from auth.

Live calls (state in the database: any API process serves any call):

- ``POST /api/hotline/calls`` (no body) → 201 **Call** ``{"call_id": 32 hex, "status": "open", "revision": 0,
  "work_order": null, "result": null}``
- ``POST /api/hotline/calls/{call_id}/segments`` ``{"transcript": …}`` (one or more segments, any input style)
  → 200 **Call** with ``"accepted": n`` and ``"result"``: the Assist of the call so far (null before any
  content). 404 ``call_not_found``, 409 ``call_closed``, and the transcript errors above.
- ``GET /api/hotline/calls/{call_id}`` → 200 **Call** (the latest stored result).
- ``GET /api/hotline/calls/{call_id}/events`` → ``text/event-stream``: ``event: suggestions`` with
  ``data`` = **Call** JSON and ``id`` = its revision, once at connect (when there is a result) and each time
  the result changes; ``event: closed`` with the final **Call** when the call is closed, then the stream
  ends. ``Last-Event-ID`` resumes without repeating. Pings every 15 s.
- ``POST /api/hotline/calls/{call_id}/close`` → 200 **Call** with ``"status": "closed"`` and the final draft
  in ``result.work_order``. Idempotent.

Work orders:

- ``POST /api/hotline/workorders`` ``{"call_id": optional, "status": "open" (default) | "draft",
  "work_order": {the draft's Chinese keys as in Assist.work_order; "诉求摘要" required}}`` → 201 (new) or
  200 (the order saved before for the same call, or the same draft) **Order**. ``联系电话``: a full number, or
  the masked one shown (kept as the call's number), or "". 422 ``invalid_phone``.
- ``GET /api/hotline/workorders?status=&kind=&category=&department=&from=YYYY-MM-DD&to=YYYY-MM-DD&limit=``
  → ``{"work_orders": [Order]}`` newest first. category matches a level and everything under it; department
  matches the assigned or the suggested one; from/to are Beijing dates, both inclusive.
- ``GET /api/hotline/workorders/export?format=csv|xlsx`` (+ the same filters) → a file download.

**Order**: ``{"number": "GD20261201-0001", "status": "open", "kind": "hotline", "created_at": ISO,
"call_id": str | null, "created": bool, "work_order": {the Chinese draft keys}}``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sse_starlette import EventSourceResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from hotline.calls import CONTROL, Call
from hotline.desk import HotlineDesk, OrderFilter, SavedOrder
from hotline.errors import TranscriptError
from hotline.wire import AssistJson
from knowledge.privacy import mask_phone
from monitor.exports import EXPORT_FORMATS
from monitor.workorders import BEIJING, WorkOrderKind, WorkOrderStatus

from .auth import Operator, Role, User, require_role
from .edge import BodyLimit
from .errors import ApiError, ErrorBody, error_responses
from .services import Services

log = logging.getLogger(__name__)

PREFIX = "/api/hotline"
POLL_SECONDS = 0.25  # how often an event stream looks for a newer result (written by any process)
PING_SECONDS = 15

TranscriptValue = str | dict[str, Any] | list[Any]
CallId = Annotated[str, Path(min_length=1, max_length=64, description="the call's id (32 hex digits)")]


def _responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    extra = {409: "The call is closed", 415: "Not text: binary data or control characters"}
    known = error_responses(*[s for s in statuses if s not in extra])
    known.update({s: {"model": ErrorBody, "description": extra[s]} for s in statuses if s in extra})
    return known


class TranscriptRejected(ApiError):
    """A transcript the hotline cannot read, with the status its domain error carries."""

    def __init__(self, error: TranscriptError) -> None:
        super().__init__(error.message)
        self.code = error.code
        self.status = error.status


class InvalidPhone(ApiError):
    status = 422
    code = "invalid_phone"


class TranscriptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transcript: TranscriptValue = Field(
        description="text, FunASR JSON (offline or streaming messages) or [{speaker, text, start_ms, end_ms}]"
    )


class CallResponse(BaseModel):
    call_id: str
    status: Literal["open", "closed"]
    revision: int = Field(description="segments stored so far")
    work_order: str | None = Field(None, description="number of the work order saved from this call")
    accepted: int | None = Field(None, description="segments stored from this request")
    result: AssistJson | None = Field(None, description="the assistance of the call so far")


class DraftFields(BaseModel):
    """The draft 工单 as the operator edited it, under the Chinese names Assist.work_order uses."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    called_at: datetime | None = Field(None, alias="来电时间")
    caller_name: str = Field("", max_length=50, alias="来电人")
    phone: str = Field("", max_length=32, alias="联系电话")
    request_type: Literal["咨询", "求助", "投诉", "举报", "建议", "表扬"] = Field("咨询", alias="诉求类型")
    category: str = Field("", max_length=100, alias="事项分类")
    location: str = Field("", max_length=200, alias="地点")
    summary: str = Field(min_length=1, max_length=2000, pattern=r"\S", alias="诉求摘要")
    answered_content: str = Field("", max_length=5000, alias="已答复内容")
    department: str = Field("", max_length=200, alias="建议承办单位")
    needs_transfer: bool = Field(True, alias="是否需要转办")

    @field_validator("*")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        if isinstance(value, str) and CONTROL.search(value):  # tabs and line breaks are text
            raise ValueError("contains control characters")
        return value


class SaveOrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call_id: str | None = Field(None, pattern=r"^[a-f0-9]{32}$", description="the live call the draft came from")
    status: Literal["open", "draft"] = Field("open", description="open: submitted; draft: kept for later")
    work_order: DraftFields


class OrderResponse(BaseModel):
    number: str
    status: str
    kind: str
    created_at: datetime
    call_id: str | None = None
    created: bool = Field(True, description="False when the order was saved before (same call or same draft)")
    work_order: dict[str, Any]


class OrderList(BaseModel):
    work_orders: list[OrderResponse]


# -- wiring ----------------------------------------------------------------------------------------------


@asynccontextmanager
async def lifespan(app: FastAPI, services: Services) -> AsyncIterator[None]:
    """The desk for the app's lifetime: the model, classifier and past cases load on a background thread
    (``POLICY_HOTLINE__WARM_UP``) or on the first call; the database is first touched by a route."""
    settings = services.settings
    desk = HotlineDesk.from_settings(settings, settings.hotline, settings.classify)
    app.state.hotline = desk
    if settings.hotline.warm_up:  # an operator's first call should not wait for the model to load
        threading.Thread(target=desk.warm_up, name="hotline-warm-up", daemon=True).start()
    try:
        yield
    finally:
        await asyncio.to_thread(desk.close)


def _desk(request: Request) -> HotlineDesk:
    return request.app.state.hotline  # type: ignore[no-any-return]


Desk = Annotated[HotlineDesk, Depends(_desk)]
Exporter = Annotated[User, Depends(require_role(Role.OPERATOR, Role.ANALYST))]


class BodyLimits:
    """The edge's body cap, with the hotline's larger one on ``/api/hotline/*`` (a call's transcript)."""

    def __init__(self, app: ASGIApp, max_bytes: int, hotline_max_bytes: int) -> None:
        self.default = BodyLimit(app, max_bytes)
        self.hotline = BodyLimit(app, hotline_max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hotline = scope["type"] == "http" and str(scope.get("path", "")).startswith(PREFIX + "/")
        await (self.hotline if hotline else self.default)(scope, receive, send)


def _read(work: Any, *args: Any) -> Any:
    """Run desk work, its transcript errors turned into the API's."""
    try:
        return work(*args)
    except TranscriptError as error:
        raise TranscriptRejected(error) from None


def _call_json(call: Call, result: AssistJson | None, accepted: int | None = None) -> CallResponse:
    status: Literal["open", "closed"] = "closed" if call.closed else "open"
    return CallResponse(
        call_id=call.id,
        status=status,
        revision=call.revision,
        work_order=call.work_order,
        accepted=accepted,
        result=result,
    )


def _order_json(saved: SavedOrder, full_phone: bool = True) -> OrderResponse:
    order, details = saved.order, saved.details
    called_at = details.called_at if details else order.created_at
    fields: dict[str, Any] = {
        "来电时间": called_at.astimezone(BEIJING).isoformat(timespec="seconds"),
        "来电人": order.name,
        "联系电话": order.phone if full_phone else mask_phone(order.phone),
        "诉求类型": order.appeal_type,
        "事项分类": order.category,
        "地点": order.where,
        "诉求摘要": order.summary,
        "已答复内容": details.answered_content if details else "",
        "建议承办单位": order.suggested_department,
        "是否需要转办": details.needs_transfer if details else True,
    }
    return OrderResponse(
        number=order.number,
        status=order.status.value,
        kind=order.kind.value,
        created_at=order.created_at,
        call_id=details.call_id if details else None,
        created=saved.created,
        work_order=fields,
    )


def _filter(
    status: WorkOrderStatus | None,
    kind: WorkOrderKind | None,
    category: str,
    department: str,
    since: date | None,
    until: date | None,
    limit: int,
) -> OrderFilter:
    start = datetime.combine(since, time.min, BEIJING) if since else None
    end = datetime.combine(until + timedelta(days=1), time.min, BEIJING) if until else None
    return OrderFilter(status, kind, category.strip(), department.strip(), start, end, limit)


# -- routes ----------------------------------------------------------------------------------------------

router = APIRouter(prefix=PREFIX, tags=["hotline"])
TRANSCRIPT_ERRORS = (400, 401, 403, 413, 415, 422, 503)


@router.post(
    "/assist",
    response_model=AssistJson,
    summary="Assist one call from its transcript",
    responses=_responses(*TRANSCRIPT_ERRORS),
)
def assist(body: TranscriptRequest, desk: Desk, _: Operator) -> AssistJson:
    return _read(desk.assist, body.transcript)  # type: ignore[no-any-return]


@router.post(
    "/calls",
    status_code=201,
    response_model=CallResponse,
    summary="Start a live call",
    responses=_responses(401, 403, 503),
)
def new_call(desk: Desk, _: Operator) -> CallResponse:
    return _call_json(desk.new_call(), None)


@router.post(
    "/calls/{call_id}/segments",
    response_model=CallResponse,
    summary="Add segments to a live call",
    responses=_responses(*TRANSCRIPT_ERRORS, 404, 409),
)
def add_segments(call_id: CallId, body: TranscriptRequest, desk: Desk, _: Operator) -> CallResponse:
    before = desk.calls.get(call_id).revision
    call, result = _read(desk.add_segments, call_id, body.transcript)
    return _call_json(call, result, accepted=call.revision - before)


@router.get(
    "/calls/{call_id}",
    response_model=CallResponse,
    summary="A live call and its latest assistance",
    responses=_responses(401, 403, 404, 503),
)
def get_call(call_id: CallId, desk: Desk, _: Operator) -> CallResponse:
    call, result = _read(desk.refresh, call_id)
    return _call_json(call, result)


@router.post(
    "/calls/{call_id}/close",
    response_model=CallResponse,
    summary="Close a live call and finalise its draft",
    responses=_responses(401, 403, 404, 503),
)
def close_call(call_id: CallId, desk: Desk, _: Operator) -> CallResponse:
    call, result = _read(desk.close_call, call_id)
    return _call_json(call, result)


@router.get(
    "/calls/{call_id}/events",
    summary="Server-sent events: the call's assistance each time it changes",
    response_class=EventSourceResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "suggestions / closed events"},
        **_responses(401, 403, 404, 503),
    },
)
async def call_events(call_id: CallId, request: Request, desk: Desk, _: Operator) -> EventSourceResponse:
    await asyncio.to_thread(desk.calls.get, call_id)  # 404 before the stream starts
    last = request.headers.get("last-event-id", "")
    return EventSourceResponse(_events(desk, call_id, request, int(last) if last.isdigit() else -1), ping=PING_SECONDS)


async def _events(desk: HotlineDesk, call_id: str, request: Request, sent: int) -> AsyncIterator[dict[str, str]]:
    """Push the stored result whenever its revision passes the last one sent; end after the call closes."""
    while True:
        call = await asyncio.to_thread(desk.calls.get, call_id)
        if call.closed:
            call, result = await asyncio.to_thread(_read, desk.refresh, call_id)
            payload = _call_json(call, result).model_dump_json()
            if call.result_revision > sent:
                yield {"event": "suggestions", "id": str(call.result_revision), "data": payload}
            yield {"event": "closed", "id": str(call.result_revision), "data": payload}
            return
        if call.result is not None and call.result_revision > sent:
            call, result = await asyncio.to_thread(_read, desk.refresh, call_id, call.result_revision)
            sent = call.result_revision
            yield {"event": "suggestions", "id": str(sent), "data": _call_json(call, result).model_dump_json()}
        if await request.is_disconnected():
            return
        await asyncio.sleep(POLL_SECONDS)


@router.post(
    "/workorders",
    status_code=201,
    response_model=OrderResponse,
    summary="Save an edited draft as a work order",
    responses=_responses(401, 403, 404, 422, 503),
)
def save_order(body: SaveOrderRequest, desk: Desk, _: Operator, response: Response) -> OrderResponse:
    fields = body.work_order.model_dump()
    try:
        saved = desk.save_order(fields, body.call_id, body.status)
    except ValueError as error:
        raise InvalidPhone(str(error)) from None
    if not saved.created:
        response.status_code = 200
    return _order_json(saved)


FilterStatus = Annotated[WorkOrderStatus | None, Query(description="draft, open, assigned, replied, closed")]
FilterKind = Annotated[WorkOrderKind | None, Query(description="hotline, handoff, complaint, no_answer")]
FilterCategory = Annotated[str, Query(max_length=100, description="事项分类: a level and everything under it")]
FilterDepartment = Annotated[str, Query(max_length=200, description="assigned or suggested department")]
FilterFrom = Annotated[date | None, Query(alias="from", description="first Beijing date, inclusive")]
FilterTo = Annotated[date | None, Query(alias="to", description="last Beijing date, inclusive")]
FilterLimit = Annotated[int, Query(ge=1, le=5000, description="most orders returned")]


@router.get(
    "/workorders",
    response_model=OrderList,
    summary="List and filter work orders",
    responses=_responses(401, 403, 422, 503),
)
def list_orders(
    desk: Desk,
    _: Operator,
    status: FilterStatus = None,
    kind: FilterKind = None,
    category: FilterCategory = "",
    department: FilterDepartment = "",
    since: FilterFrom = None,
    until: FilterTo = None,
    limit: FilterLimit = 200,
) -> OrderList:
    which = _filter(status, kind, category, department, since, until, limit)
    listed = desk.list_orders(which)
    return OrderList(work_orders=[_order_json(SavedOrder(order, details, False)) for order, details in listed])


EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get(
    "/workorders/export",
    summary="Export work orders as CSV or XLSX (phones masked except for operators)",
    response_class=Response,
    responses={
        200: {"content": {t: {} for t in EXPORT_TYPES.values()}, "description": "the file"},
        **_responses(401, 403, 422, 503),
    },
)
def export_orders(
    desk: Desk,
    user: Exporter,
    format: Annotated[Literal["csv", "xlsx"], Query(description="csv or xlsx")] = "csv",
    status: FilterStatus = None,
    kind: FilterKind = None,
    category: FilterCategory = "",
    department: FilterDepartment = "",
    since: FilterFrom = None,
    until: FilterTo = None,
    limit: FilterLimit = 5000,
) -> Response:
    assert format in EXPORT_FORMATS
    which = _filter(status, kind, category, department, since, until, limit)
    content = desk.export_orders(which, format, full_phone=user.sees_full_numbers)
    name = f"workorders-{datetime.now(BEIJING):%Y%m%d-%H%M}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(content, media_type=EXPORT_TYPES[format], headers=headers)
