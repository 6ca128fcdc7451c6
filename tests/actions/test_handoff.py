"""Handing over to a person: a work order with the masked conversation, from a request or after failures."""

from __future__ import annotations

from actions.fallback import ActionDefaultFallback
from actions.handoff import ActionHandoff
from actions.provider import KnowledgeProvider
from knowledge.workorders import WorkOrderKind, WorkOrderStore
from knowledge.workorders import work_orders as table

from .conversations import run, tracker

HISTORY = [
    ("user", "我的电话是13812345678，身份证110101199003071234，创业担保贷款怎么还没批"),
    ("bot", "抱歉，政策知识库中没有找到能够准确回答这个问题的内容。"),
]


def test_handoff_stores_the_masked_conversation_and_gives_its_number(
    knowledge: KnowledgeProvider, work_orders: WorkOrderStore
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
    result = run(ActionHandoff(work_orders, knowledge), conversation)
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


def test_handoff_does_not_wait_for_the_knowledge_base(work_orders: WorkOrderStore) -> None:
    """The way out must work even when the model never loaded."""

    def never_opened() -> None:
        raise AssertionError("a handoff must not open the knowledge base")

    result = run(ActionHandoff(work_orders, KnowledgeProvider(never_opened)), tracker("转人工", "request_human"))  # type: ignore[arg-type]
    assert work_orders.get(result.payload["work_order"]).department == ""


def test_handoff_names_the_department_of_the_current_document(
    knowledge: KnowledgeProvider, work_orders: WorkOrderStore
) -> None:
    knowledge.warm_up()  # as the server does at start; a handoff only uses an already open knowledge base
    current = {"current_doc_id": "qh-policy-rural-return-startup-subsidy-2024"}
    result = run(ActionHandoff(work_orders, knowledge), tracker("人工", "request_human", slots=current))
    assert "县农业农村局" in result.text
    assert work_orders.get(result.payload["work_order"]).department == "县农业农村局"


def test_fallback_answers_a_policy_question_it_can(knowledge: KnowledgeProvider, work_orders: WorkOrderStore) -> None:
    result = run(ActionDefaultFallback(knowledge, work_orders), tracker("个人创业担保贷款最高能贷多少", "nlu_fallback"))
    assert result.payload["reply"] == "answer" and "30万元" in result.text
    assert work_orders.list() == []


def test_fallback_is_honest_first_then_hands_over(knowledge: KnowledgeProvider, work_orders: WorkOrderStore) -> None:
    first = run(ActionDefaultFallback(knowledge, work_orders), tracker("今天天气怎么样", "nlu_fallback"))
    assert first.payload["reply"] == "no_answer" and first.slot("failed_turns") == 1
    assert work_orders.list() == []

    again = tracker(
        "火星移民有补贴吗", "nlu_fallback", slots={"failed_turns": 1.0}, history=[("user", "今天天气怎么样")]
    )
    second = run(ActionDefaultFallback(knowledge, work_orders), again)
    assert second.payload["reply"] == "handoff" and second.slot("failed_turns") == 0
    order = work_orders.get(second.payload["work_order"])
    assert order.kind is WorkOrderKind.NO_ANSWER and "火星移民有补贴吗" in order.summary


def test_handoff_still_gives_the_hotline_when_no_work_order_can_be_stored(
    knowledge: KnowledgeProvider, work_orders: WorkOrderStore
) -> None:
    table.drop(work_orders.engine)
    result = run(ActionHandoff(work_orders, knowledge), tracker("转人工", "request_human", history=HISTORY))
    assert result.payload["reply"] == "handoff" and result.payload["work_order"] is None
    assert "工单暂时无法登记" in result.text and "12345政务服务便民热线" in result.text
