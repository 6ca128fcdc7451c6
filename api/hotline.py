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

The schema declares the transcript's shapes and limits (api/transcripts.py), so a transcript valid by it is
read. Errors: 400 ``empty_transcript``; 422 ``transcript_too_large`` (a text over ``POLICY_HOTLINE__MAX_CHARS``,
as its declared maxLength says), ``control_characters`` / ``malformed_transcript`` / ``invalid_request``; 413
``body_too_large`` (over ``POLICY_HOTLINE__MAX_BODY_BYTES``); 415 ``binary_transcript``; 401 / 403 from auth.

Live calls (state in the database: any API process serves any call):

- ``POST /api/hotline/calls`` (no body) → 201 **Call** ``{"call_id": 32 hex, "status": "open", "revision": 0,
  "work_order": null, "result": null}``
- ``POST /api/hotline/calls/{call_id}/segments`` ``{"transcript": …}`` (one or more segments, any input style)
  → 200 **Call** with ``"accepted": n`` and ``"result"``: the Assist of the call so far (null before any
  content). 404 ``call_not_found``, 409 ``call_closed``, ``too_many_segments`` (over
  ``POLICY_HOTLINE__MAX_SEGMENTS``) or ``call_too_long`` (the call's texts over MAX_CHARS), and the
  transcript errors above.
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
  the masked one shown (kept as the call's number; 409 ``masked_phone`` without a call that has one), or "".
  422 ``invalid_phone``. Times are RFC 3339 with their offset, dates YYYY-MM-DD, booleans JSON booleans.
- ``GET /api/hotline/workorders?status=&kind=&category=&department=&from=YYYY-MM-DD&to=YYYY-MM-DD&limit=``
  → ``{"work_orders": [Order]}`` newest first. category matches a level and everything under it; department
  matches the assigned or the suggested one; from/to are Beijing dates, both inclusive.
- ``GET /api/hotline/workorders/export?format=csv|xlsx`` (+ the same filters) → a file download.

**Order**: ``{"number": "GD20261201-0001", "status": "open", "kind": "hotline", "created_at": ISO,
"call_id": str | null, "created": bool, "work_order": {the Chinese draft keys}}``.
"""

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Request
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from hotline.calls import Call
from hotline.desk import HotlineDesk
from hotline.errors import TranscriptError
from hotline.settings import HotlineSettings
from hotline.wire import AssistJson

from .auth import API_KEY_HEADER, Operator
from .edge import BodyLimit
from .errors import ErrorBody, add_validation_translator, error_responses
from .services import Services
from .transcripts import TranscriptRejected, transcript_error, transcript_of, transcript_request

log = logging.getLogger(__name__)

PREFIX = "/api/hotline"
POLL_SECONDS = 0.25  # how often an event stream looks for a newer result (written by any process)
PING_SECONDS = 15

CallId = Annotated[str, Path(pattern=r"^[a-f0-9]{32}$", description="the call's id (32 hex digits)")]
# documents the operator key for integrators (api.auth decides who the caller is: key, session or loopback)
API_KEY = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    scheme_name="HotlineApiKey",
    description="POLICY_HOTLINE__API_KEY, or a key made by `python -m api keys add`",
)
EXTRA_STATUSES = {
    409: "Conflict with the call's state: closed, or holding its most segments or characters",
    415: "Not text: binary data",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of a hotline route, with the error body (409 and 415 described here)."""
    known = error_responses(*[s for s in statuses if s not in EXTRA_STATUSES])
    known.update({s: {"model": ErrorBody, "description": EXTRA_STATUSES[s]} for s in statuses if s in EXTRA_STATUSES})
    return known


class CallResponse(BaseModel):
    call_id: str
    status: Literal["open", "closed"]
    revision: int = Field(description="segments stored so far")
    work_order: str | None = Field(None, description="number of the work order saved from this call")
    accepted: int | None = Field(None, description="segments stored from this request")
    result: AssistJson | None = Field(None, description="the assistance of the call so far")


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


# -- routes ----------------------------------------------------------------------------------------------

router = APIRouter(prefix=PREFIX, tags=["hotline"], dependencies=[Depends(API_KEY)])
TRANSCRIPT_ERRORS = (400, 401, 403, 413, 415, 422, 503)


def install(app: FastAPI, settings: HotlineSettings) -> None:
    """The hotline's routes on ``app``, the transcript's schema declaring the deployment's limits, and its errors."""
    from . import hotline_orders  # it builds on this module's dependencies

    app.include_router(transcript_routes(settings))
    app.include_router(router)
    app.include_router(hotline_orders.router)
    add_validation_translator(app, transcript_error(settings.max_chars))
    add_validation_translator(app, hotline_orders.phone_error)


def transcript_routes(settings: HotlineSettings) -> APIRouter:
    """The routes that take a transcript, their body model built with MAX_CHARS and MAX_SEGMENTS."""
    routes = APIRouter(prefix=PREFIX, tags=["hotline"], dependencies=[Depends(API_KEY)])
    TranscriptBody = transcript_request(settings.max_chars, settings.max_segments)

    @routes.post(
        "/assist",
        response_model=AssistJson,
        summary="Assist one call from its transcript",
        responses=responses(*TRANSCRIPT_ERRORS),
    )
    def assist(body: TranscriptBody, desk: Desk, _: Operator) -> AssistJson:  # type: ignore[valid-type]
        return _read(desk.assist, transcript_of(body))  # type: ignore[no-any-return]

    @routes.post(
        "/calls/{call_id}/segments",
        response_model=CallResponse,
        summary="Add segments to a live call",
        responses=responses(*TRANSCRIPT_ERRORS, 404, 409),
    )
    def add_segments(call_id: CallId, body: TranscriptBody, desk: Desk, _: Operator) -> CallResponse:  # type: ignore[valid-type]
        before = desk.calls.get(call_id).revision
        call, result = _read(desk.add_segments, call_id, transcript_of(body))
        return _call_json(call, result, accepted=call.revision - before)

    return routes


@router.post(
    "/calls",
    status_code=201,
    response_model=CallResponse,
    summary="Start a live call",
    responses=responses(401, 403, 503),
)
def new_call(desk: Desk, _: Operator) -> CallResponse:
    return _call_json(desk.new_call(), None)


@router.get(
    "/calls/{call_id}",
    response_model=CallResponse,
    summary="A live call and its latest assistance",
    responses=responses(401, 403, 404, 503),
)
def get_call(call_id: CallId, desk: Desk, _: Operator) -> CallResponse:
    call, result = _read(desk.refresh, call_id)
    return _call_json(call, result)


@router.post(
    "/calls/{call_id}/close",
    response_model=CallResponse,
    summary="Close a live call and finalise its draft",
    responses=responses(401, 403, 404, 503),
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
        **responses(401, 403, 404, 503),
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
