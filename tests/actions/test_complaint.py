"""The complaint form: Chinese validation messages, anonymous names, phone numbers, and the filed work order."""

from __future__ import annotations

from typing import Any

import pytest

from actions.complaint import ActionSubmitComplaint, ValidateComplaintForm, parse_name, parse_phone
from actions.replies import PHONE_INVALID, WHAT_TOO_SHORT
from knowledge.workorders import WorkOrderKind, WorkOrderStore
from knowledge.workorders import work_orders as table

from .conversations import Result, run, tracker

FORM = {"name": "complaint_form"}


def fill(slot: str, value: str, domain: dict[str, Any], **filled: str) -> Result:
    """What the form sends after the user answered ``value`` to the question for ``slot``."""
    conversation = tracker(
        value,
        "nlu_fallback",
        slots={**filled, "requested_slot": slot},
        extra_events=[{"event": "slot", "name": slot, "value": value}],
        active_loop=FORM,
    )
    return run(ValidateComplaintForm(), conversation, domain)


def test_invalid_phone_is_rejected_with_a_chinese_message(domain: dict[str, Any]) -> None:
    result = fill("complaint_phone", "12345", domain, complaint_what="补贴一直没有发放", complaint_where="青禾镇")
    assert result.slot("complaint_phone") is None
    assert result.text == PHONE_INVALID and "手机号" in result.text
    assert result.payload["reply"] == "form"


@pytest.mark.parametrize(
    ("reply", "phone"),
    [
        ("13812345678", "13812345678"),
        ("我的电话是 138 1234 5678", "13812345678"),
        ("0631-5201234", "06315201234"),
        ("１３９１２３４５６７８", "13912345678"),
        ("+8613812345678", "13812345678"),
    ],
)
def test_valid_phone_is_accepted(domain: dict[str, Any], reply: str, phone: str) -> None:
    result = fill("complaint_phone", reply, domain)
    assert result.slot("complaint_phone") == phone
    assert result.messages == []


@pytest.mark.parametrize("reply", ["12345", "1381234567", "23812345678", "电话不告诉你", "138123456789"])
def test_parse_phone_rejects_non_numbers(reply: str) -> None:
    assert parse_phone(reply) is None


def test_too_short_description_is_rejected(domain: dict[str, Any]) -> None:
    result = fill("complaint_what", "没发", domain)
    assert result.slot("complaint_what") is None and result.text == WHAT_TOO_SHORT
    assert fill("complaint_what", "养老补贴没发放", domain).slot("complaint_what") == "养老补贴没发放"


def test_place_must_not_be_empty(domain: dict[str, Any]) -> None:
    assert fill("complaint_where", "  ", domain).slot("complaint_where") is None
    assert fill("complaint_where", "青禾镇民政所", domain).slot("complaint_where") == "青禾镇民政所"


@pytest.mark.parametrize(
    ("reply", "name"), [("匿名", "匿名"), ("不留了", "匿名"), ("跳过", "匿名"), ("张先生", "张先生")]
)
def test_name_is_optional(domain: dict[str, Any], reply: str, name: str) -> None:
    assert parse_name(reply) == name
    assert fill("complaint_name", reply, domain).slot("complaint_name") == name


FILLED = {
    "complaint_what": "养老补贴三个月没发，打13912345678也没人接",
    "complaint_where": "青禾镇民政所",
    "complaint_name": "匿名",
    "complaint_phone": "13812345678",
}
HISTORY = [("user", "我要投诉"), ("user", FILLED["complaint_what"]), ("user", "13812345678")]


def test_submitted_complaint_becomes_a_work_order(work_orders: WorkOrderStore) -> None:
    result = run(
        ActionSubmitComplaint(work_orders), tracker("13812345678", "nlu_fallback", slots=FILLED, history=HISTORY)
    )
    number = result.payload["work_order"]
    assert result.payload["reply"] == "complaint" and number in result.text
    assert "138****5678" in result.text and "13812345678" not in result.text
    order = work_orders.get(number)
    assert order.kind is WorkOrderKind.COMPLAINT
    assert (order.where, order.name, order.phone) == ("青禾镇民政所", "匿名", "13812345678")
    assert order.what == "养老补贴三个月没发，打139****5678也没人接"
    assert "13812345678" not in order.transcript and "138****5678" in order.transcript
    # the form starts empty next time
    assert all(result.slot(slot) is None for slot in FILLED)


def test_complaint_that_cannot_be_stored_keeps_the_form(work_orders: WorkOrderStore) -> None:
    table.drop(work_orders.engine)
    result = run(
        ActionSubmitComplaint(work_orders), tracker("13812345678", "nlu_fallback", slots=FILLED, history=HISTORY)
    )
    assert result.payload["work_order"] is None and "12345政务服务便民热线" in result.text
    assert result.events == []  # the filled-in slots are not cleared
