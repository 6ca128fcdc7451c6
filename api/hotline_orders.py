"""Hotline work orders (``/api/hotline/workorders*``): an operator's edited draft saved through the work-order
store, listed, filtered and exported. The JSON contract is in api/hotline.py's docstring.

The request models say exactly what is accepted, so a body valid by the schema is saved: texts without control
characters, JSON booleans, RFC 3339 times with their offset, ISO dates, and 联系电话 as a mobile or landline
number (or the masked number shown for the call it came from).
"""

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

from hotline.desk import MaskedPhoneUnknown, OrderFilter, SavedOrder
from knowledge.privacy import mask_phone
from monitor.exports import EXPORT_FORMATS
from monitor.workorders import BEIJING, WorkOrderKind, WorkOrderStatus

from .auth import Operator, Role, User, require_role
from .errors import ApiError
from .hotline import API_KEY, PREFIX, Desk, responses
from .transcripts import CONTROL_CHARS, PLAIN

# mobile (+86 / 0086, grouped 3-4-4 by spaces or dashes), landline with its area code, or the masked number shown
PHONE = (
    r"^(?:|(?:\+86|0086)?[ -]?1[3-9][0-9](?:[ -]?[0-9]{4}){2}|0(?:10|2[0-9]|[3-9][0-9]{2})[ -]?[2-9][0-9]{6,7}"
    r"|1[3-9][0-9]\*{4}[0-9]{4})$"
)
# some character besides spaces; the spaces before it a class of their own, so matching stays linear
SUMMARY = f"^[^\\S{CONTROL_CHARS}]*[^\\s{CONTROL_CHARS}][^{CONTROL_CHARS}]*$"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class InvalidPhone(ApiError):
    status = 422
    code = "invalid_phone"


class MaskedPhone(ApiError):
    status = 409  # the number behind the mask is the call's: without a call that has one, there is none
    code = "masked_phone"


def phone_error(error: RequestValidationError) -> ApiError | None:
    """A translator of validation errors (api.errors): a 联系电话 outside its pattern is an invalid phone."""
    errors = list(error.errors())
    if errors and all(tuple(e.get("loc", ())) == ("body", "work_order", "联系电话") for e in errors):
        return InvalidPhone("联系电话不是有效的手机或固定电话号码。")
    return None


def _rfc3339(value: Any) -> Any:
    if not isinstance(value, str) or not RFC3339.match(value):
        raise ValueError("should be an RFC 3339 date-time with its offset, e.g. 2026-12-01T09:30:00+08:00")
    return value


def _iso_date(value: Any) -> Any:
    if value is not None and (not isinstance(value, str) or not ISO_DATE.match(value)):
        raise ValueError("should be a date, YYYY-MM-DD")
    return value


Text = Annotated[str, StringConstraints(pattern=PLAIN)]  # lone surrogates pydantic refuses itself
CalledAt = Annotated[datetime, BeforeValidator(_rfc3339)]
Day = Annotated[date | None, BeforeValidator(_iso_date)]


class DraftFields(BaseModel):
    """The draft 工单 as the operator edited it, under the Chinese names Assist.work_order uses."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, regex_engine="python-re")

    called_at: CalledAt | None = Field(None, alias="来电时间")
    caller_name: Text = Field("", max_length=50, alias="来电人")
    phone: str = Field("", max_length=32, pattern=PHONE, alias="联系电话", description="mobile, landline or masked")
    request_type: Literal["咨询", "求助", "投诉", "举报", "建议", "表扬"] = Field("咨询", alias="诉求类型")
    category: Text = Field("", max_length=100, alias="事项分类")
    location: Text = Field("", max_length=200, alias="地点")
    summary: str = Field(min_length=1, max_length=2000, pattern=SUMMARY, alias="诉求摘要")
    answered_content: Text = Field("", max_length=5000, alias="已答复内容")
    department: Text = Field("", max_length=200, alias="建议承办单位")
    needs_transfer: StrictBool = Field(True, alias="是否需要转办")


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


router = APIRouter(prefix=PREFIX, tags=["hotline"], dependencies=[Depends(API_KEY)])
Exporter = Annotated[User, Depends(require_role(Role.OPERATOR, Role.ANALYST))]


@router.post(
    "/workorders",
    status_code=201,
    response_model=OrderResponse,
    summary="Save an edited draft as a work order",
    responses={
        200: {"model": OrderResponse, "description": "Saved before (the same call, or the same draft): that order"},
        **responses(400, 401, 403, 404, 409, 422, 503),
    },
)
def save_order(body: SaveOrderRequest, desk: Desk, _: Operator, response: Response) -> OrderResponse:
    fields = body.work_order.model_dump()
    try:
        saved = desk.save_order(fields, body.call_id, body.status)
    except MaskedPhoneUnknown as error:
        raise MaskedPhone(str(error)) from None
    except ValueError as error:
        raise InvalidPhone(str(error)) from None
    if not saved.created:
        response.status_code = 200
    return _order_json(saved)


FilterStatus = Annotated[WorkOrderStatus | None, Query(description="draft, open, assigned, replied, closed")]
FilterKind = Annotated[WorkOrderKind | None, Query(description="hotline, handoff, complaint, no_answer")]
FilterCategory = Annotated[
    str, Query(max_length=100, pattern=PLAIN, description="事项分类: a level and everything under it")
]
FilterDepartment = Annotated[str, Query(max_length=200, pattern=PLAIN, description="assigned or suggested department")]
FilterFrom = Annotated[Day, Query(alias="from", description="first Beijing date, inclusive")]
FilterTo = Annotated[Day, Query(alias="to", description="last Beijing date, inclusive")]
FilterLimit = Annotated[int, Query(ge=1, le=5000, description="most orders returned")]


def order_filter(default_limit: int) -> Callable[..., OrderFilter]:
    """The query parameters a list and an export share, as one dependency; only the default limit differs."""

    def dependency(
        status: FilterStatus = None,
        kind: FilterKind = None,
        category: FilterCategory = "",
        department: FilterDepartment = "",
        since: FilterFrom = None,
        until: FilterTo = None,
        limit: FilterLimit = default_limit,
    ) -> OrderFilter:
        # Beijing days, the last one inclusive
        start = datetime.combine(since, time.min, BEIJING) if since else None
        end = datetime.combine(until + timedelta(days=1), time.min, BEIJING) if until else None
        return OrderFilter(status, kind, category.strip(), department.strip(), start, end, limit)

    return dependency


ListFilter = Annotated[OrderFilter, Depends(order_filter(200))]
ExportFilter = Annotated[OrderFilter, Depends(order_filter(5000))]


@router.get(
    "/workorders",
    response_model=OrderList,
    summary="List and filter work orders",
    responses=responses(401, 403, 422, 503),
)
def list_orders(desk: Desk, _: Operator, which: ListFilter) -> OrderList:
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
        **responses(401, 403, 422, 503),
    },
)
def export_orders(
    desk: Desk,
    user: Exporter,
    which: ExportFilter,
    format: Annotated[Literal["csv", "xlsx"], Query(description="csv or xlsx")] = "csv",
) -> Response:
    assert format in EXPORT_FORMATS
    content = desk.export_orders(which, format, full_phone=user.sees_full_numbers)
    name = f"workorders-{datetime.now(BEIJING):%Y%m%d-%H%M}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(content, media_type=EXPORT_TYPES[format], headers=headers)
