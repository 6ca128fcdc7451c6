"""The complaint form: Chinese validation messages, anonymous names, phone numbers, and the filed work order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from actions.complaint import ActionSubmitComplaint, ValidateComplaintForm, parse_name, parse_phone
from actions.replies import PHONE_INVALID, WHAT_TOO_SHORT
from monitor.outbox import WorkOrderDesk
from monitor.schema import work_orders as table
from monitor.workorders import WorkOrderKind, WorkOrderStore

from .conversations import Result, run, tracker

FORM = {"name": "complaint_form"}


def fill(slot: str, value: str, domain: dict[str, Any], intent: str = "nlu_fallback", **filled: str) -> Result:
    """What the form sends after the user answered ``value`` to the question for ``slot``."""
    conversation = tracker(
        value,
        intent,
        slots={**filled, "requested_slot": slot},
        extra_events=[{"event": "slot", "name": slot, "value": value}],
        active_loop=FORM,
    )
    return run(ValidateComplaintForm(), conversation, domain)


def rejected(result: Result) -> bool:
    """Whether the form refused the message, so that rules.yml answers it and the form asks again."""
    return {"event": "action_execution_rejected", "name": "complaint_form"} in [
        {key: event.get(key) for key in ("event", "name")} for event in result.events
    ]


@pytest.mark.parametrize(
    ("slot", "question", "intent"),
    [
        ("complaint_where", "城乡居民医保每年交多少钱", "ask_policy"),
        ("complaint_what", "城乡居民医保每年交多少钱", "ask_policy"),
        ("complaint_name", "创业担保贷款怎么申请？", "ask_policy"),
        ("complaint_where", "县人社局电话是多少", "ask_contact"),
        ("complaint_phone", "这个文件还有效吗", "ask_validity"),
        ("complaint_where", "低保一个月能领多少钱", "nlu_fallback"),
        ("complaint_where", "/feedback_positive", "feedback_positive"),  # 有用 clicked under the last answer
        ("complaint_name", '/choose_document{"doc_id":"qh-policy-001"}', "choose_document"),
        ("complaint_name", "转人工", "request_human"),
    ],
)
def test_asides_are_never_taken_as_form_answers(
    domain: dict[str, Any], slot: str, question: str, intent: str
) -> None:
    result = fill(slot, question, domain, intent=intent)
    assert rejected(result)  # rules.yml answers it as outside the form
    assert result.slot(slot) is None and result.messages == []  # the answer and the repeated question follow


@pytest.mark.parametrize(
    ("slot", "answer", "intent"),
    [
        ("complaint_what", "养老补贴为什么三个月还没发？", "ask_policy"),  # a complaint worded as a question
        ("complaint_what", "窗口工作人员态度很差，问什么都不理", "ask_policy"),
        ("complaint_where", "县政务服务中心二楼", "ask_contact"),
        ("complaint_where", "青禾镇民政所", "ask_policy"),
        ("complaint_name", "张先生", "ask_policy"),
        ("complaint_where", "哪里都一样，全县都这样吗", "chitchat"),  # no rule answers chitchat in the form
        ("complaint_what", "我要找人工反映窗口推诿的问题", "request_human"),
        ("complaint_where", "有用的那个窗口", "feedback_positive"),  # typed, not a button's payload
    ],
)
def test_answers_that_look_like_questions_are_still_answers(
    domain: dict[str, Any], slot: str, answer: str, intent: str
) -> None:
    result = fill(slot, answer, domain, intent=intent)
    assert not rejected(result)
    assert result.slot(slot) == answer


def test_number_misread_as_feedback_still_gets_the_phone_message(domain: dict[str, Any]) -> None:
    """NLU may read a bare "12345" as feedback; typed into the phone question it is a wrong phone number."""
    result = fill("complaint_phone", "12345", domain, intent="feedback_positive")
    assert not rejected(result) and result.slot("complaint_phone") is None and result.text == PHONE_INVALID


def test_form_coming_back_after_the_answer_asks_again_instead_of_refusing(domain: dict[str, Any]) -> None:
    """After rules.yml answered the question, the form runs again on the same message and must not refuse it."""
    question = "城乡居民医保每年交多少钱"
    conversation = tracker(
        question,
        "ask_policy",
        slots={"requested_slot": "complaint_where", "complaint_what": "物业乱收停车费"},
        extra_events=[{"event": "action", "name": "action_answer_policy_question"}],
        active_loop=FORM,
    )
    result = run(ValidateComplaintForm(), conversation, domain)
    assert not rejected(result) and not result.sets("complaint_where")


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
        ("幺三八 幺二三四 五六七八", "13812345678"),  # as speech recognition writes it
        ("电话是一三八１２３４五六七八", "13812345678"),
        ("（0631）5201234", "06315201234"),
        ("0086 139 1234 5678", "13912345678"),
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


def test_submitted_complaint_becomes_a_work_order(work_orders: WorkOrderStore, desk: WorkOrderDesk) -> None:
    result = run(ActionSubmitComplaint(desk), tracker("13812345678", "nlu_fallback", slots=FILLED, history=HISTORY))
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


def test_a_retried_complaint_gives_one_work_order(work_orders: WorkOrderStore, desk: WorkOrderDesk) -> None:
    """Rasa calling the action again for the same message (a timeout, a restart) must not file it twice."""
    conversation = tracker("13812345678", "nlu_fallback", slots=FILLED, history=HISTORY)
    first = run(ActionSubmitComplaint(desk), conversation)
    again = run(ActionSubmitComplaint(desk), conversation)
    assert first.payload["work_order"] == again.payload["work_order"] is not None
    assert [o.number for o in work_orders.list()] == [first.payload["work_order"]]
    later = tracker("13900001111", "nlu_fallback", slots=FILLED, history=[*HISTORY, ("user", "13812345678")])
    assert run(ActionSubmitComplaint(desk), later).payload["work_order"] != first.payload["work_order"]


def test_complaint_the_database_cannot_take_waits_in_the_outbox(
    work_orders: WorkOrderStore, desk: WorkOrderDesk
) -> None:
    table.drop(work_orders.engine)
    result = run(ActionSubmitComplaint(desk), tracker("13812345678", "nlu_fallback", slots=FILLED, history=HISTORY))
    assert result.payload["work_order"] is None and "12345政务服务便民热线" in result.text
    assert "已保存" in result.text and "下次发消息时告知" in result.text and "138****5678" in result.text
    assert desk.outbox.pending() == 1
    assert all(result.slot(slot) is None for slot in FILLED)  # it is kept: the form starts empty next time


def test_complaint_nothing_can_keep_keeps_the_form(work_orders: WorkOrderStore, tmp_path: Path) -> None:
    table.drop(work_orders.engine)
    (tmp_path / "not-a-folder").write_text("")
    stuck = WorkOrderDesk(work_orders, tmp_path / "not-a-folder" / "outbox.jsonl")
    try:
        result = run(
            ActionSubmitComplaint(stuck), tracker("13812345678", "nlu_fallback", slots=FILLED, history=HISTORY)
        )
    finally:
        stuck.close()
    assert result.payload["work_order"] is None and "12345政务服务便民热线" in result.text
    assert result.events == []  # the filled-in slots are not cleared: saying 投诉 again submits them
