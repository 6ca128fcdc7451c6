"""Handing over to a person: a work order with the masked conversation, from a request or after failures."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from actions.fallback import ActionDefaultFallback
from actions.handoff import ActionHandoff, AnnounceLateWorkOrders
from knowledge.provider import KnowledgeProvider
from monitor.outbox import WorkOrderDesk
from monitor.schema import work_orders as table
from monitor.workorders import WorkOrderKind, WorkOrderStore

from .conversations import run, tracker

HISTORY = [
    ("user", "我的电话是13812345678，身份证110101199003071234，创业担保贷款怎么还没批"),
    ("bot", "抱歉，政策知识库中没有找到能够准确回答这个问题的内容。"),
]


def test_handoff_stores_the_masked_conversation_and_gives_its_number(
    knowledge: KnowledgeProvider, work_orders: WorkOrderStore, desk: WorkOrderDesk
) -> None:
    conversation = tracker(
        "转人工",
        "request_human",
        history=HISTORY,
        slots={
            "current_doc_id": "qh-policy-entrepreneurship-loan-2023",
            "last_question": "创业担保贷款怎么还没批",
            "failed_turns": 2.0,
        },
        sender_id="wx-openid-42",
    )
    result = run(ActionHandoff(desk, knowledge), conversation)
    number = result.payload["work_order"]
    assert result.payload["reply"] == "handoff" and number.startswith("GD")
    assert number in result.text and "12345政务服务便民热线" in result.text
    assert result.slot("failed_turns") == 0

    order = work_orders.get(number)
    assert order.kind is WorkOrderKind.HANDOFF and order.status == "open"
    assert "用户：我的电话是138****5678，身份证110***********1234" in order.transcript
    assert "13812345678" not in order.transcript and "110101199003071234" not in order.transcript
    assert "助手：抱歉" in order.transcript and order.transcript.endswith("用户：转人工")
    assert "创业担保贷款怎么还没批" in order.summary
    assert order.session and order.session != "wx-openid-42"


def test_handoff_does_not_wait_for_the_knowledge_base(work_orders: WorkOrderStore, desk: WorkOrderDesk) -> None:
    """The way out must work even when the model never loaded."""

    def never_opened() -> None:
        raise AssertionError("a handoff must not open the knowledge base")

    result = run(ActionHandoff(desk, KnowledgeProvider(never_opened)), tracker("转人工", "request_human"))  # type: ignore[arg-type]
    assert work_orders.get(result.payload["work_order"]).department == ""


def test_handoff_names_the_department_of_the_current_document(
    knowledge: KnowledgeProvider, work_orders: WorkOrderStore, desk: WorkOrderDesk
) -> None:
    knowledge.warm_up()  # as the server does at start; a handoff only uses an already open knowledge base
    current = {"current_doc_id": "qh-policy-rural-return-startup-subsidy-2024"}
    result = run(ActionHandoff(desk, knowledge), tracker("人工", "request_human", slots=current))
    assert "县农业农村局" in result.text
    assert work_orders.get(result.payload["work_order"]).department == "县农业农村局"


def test_fallback_answers_a_policy_question_it_can(
    knowledge: KnowledgeProvider, work_orders: WorkOrderStore, desk: WorkOrderDesk
) -> None:
    result = run(ActionDefaultFallback(knowledge, desk), tracker("个人创业担保贷款最高能贷多少", "nlu_fallback"))
    assert result.payload["reply"] == "answer" and "30万元" in result.text
    assert work_orders.list() == []


def test_fallback_is_honest_first_then_hands_over(
    knowledge: KnowledgeProvider, work_orders: WorkOrderStore, desk: WorkOrderDesk
) -> None:
    first = run(ActionDefaultFallback(knowledge, desk), tracker("今天天气怎么样", "nlu_fallback"))
    assert first.payload["reply"] == "no_answer" and first.slot("failed_turns") == 1
    assert work_orders.list() == []

    again = tracker(
        "火星移民有补贴吗", "nlu_fallback", slots={"failed_turns": 1.0}, history=[("user", "今天天气怎么样")]
    )
    second = run(ActionDefaultFallback(knowledge, desk), again)
    assert second.payload["reply"] == "handoff" and second.slot("failed_turns") == 0
    order = work_orders.get(second.payload["work_order"])
    assert order.kind is WorkOrderKind.NO_ANSWER and "火星移民有补贴吗" in order.summary


def test_a_retried_handoff_gives_one_work_order(
    knowledge: KnowledgeProvider, work_orders: WorkOrderStore, desk: WorkOrderDesk
) -> None:
    conversation = tracker("转人工", "request_human", history=HISTORY, sender_id="wx-openid-7")
    first = run(ActionHandoff(desk, knowledge), conversation)
    retried = run(ActionHandoff(desk, knowledge), conversation)
    assert first.payload["work_order"] == retried.payload["work_order"] is not None
    assert retried.payload["work_order"] in retried.text
    assert len(work_orders.list()) == 1


def test_handoff_during_an_outage_is_kept_and_its_number_told_on_the_next_reply(
    knowledge: KnowledgeProvider, work_orders: WorkOrderStore, desk: WorkOrderDesk
) -> None:
    table.drop(work_orders.engine)  # the database refuses every work order
    down = run(ActionHandoff(desk, knowledge), tracker("转人工", "request_human", history=HISTORY, sender_id="wx-9"))
    assert down.payload["reply"] == "handoff" and down.payload["work_order"] is None
    assert "已保存" in down.text and "12345政务服务便民热线" in down.text and "下次发消息时告知" in down.text
    assert desk.outbox.pending() == 1

    table.create(work_orders.engine)  # and takes them again
    assert wait_until(lambda: desk.has_notices("wx-9"))  # the outbox replayed and the order landed
    [order] = work_orders.list()
    assert order.kind is WorkOrderKind.HANDOFF and "用户：转人工" in order.transcript

    answer = AnnounceLateWorkOrders(ActionDefaultFallback(knowledge, desk), desk)
    later = run(answer, tracker("个人创业担保贷款最高能贷多少", "nlu_fallback", sender_id="wx-9"))
    assert later.messages[0]["text"].startswith(f"您之前的诉求已登记，工单号：{order.number}")
    assert later.payload["reply"] == "answer"  # the reply itself follows the notice
    again = run(answer, tracker("个人创业担保贷款最高能贷多少", "nlu_fallback", sender_id="wx-9"))
    assert order.number not in again.text  # told once
    other = run(answer, tracker("个人创业担保贷款最高能贷多少", "nlu_fallback", sender_id="someone-else"))
    assert "您之前的诉求" not in other.text


def test_handoff_still_gives_the_hotline_when_nothing_can_keep_the_work_order(
    knowledge: KnowledgeProvider, work_orders: WorkOrderStore, tmp_path: Path
) -> None:
    table.drop(work_orders.engine)
    (tmp_path / "not-a-folder").write_text("")
    stuck = WorkOrderDesk(work_orders, tmp_path / "not-a-folder" / "outbox.jsonl")
    try:
        result = run(ActionHandoff(stuck, knowledge), tracker("转人工", "request_human", history=HISTORY))
    finally:
        stuck.close()
    assert result.payload["reply"] == "handoff" and result.payload["work_order"] is None
    assert "工单暂时无法登记" in result.text and "12345政务服务便民热线" in result.text


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll a condition the background replay makes true (it runs every 50 ms in these tests)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
