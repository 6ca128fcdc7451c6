"""Answers from the sample knowledge base: citations, retired documents, clarification, follow-ups, no-answers."""

from __future__ import annotations

from actions.answering import (
    ActionAnswerChosenDocument,
    ActionAnswerFollowup,
    ActionAnswerPolicyQuestion,
    answer_reply,
)
from actions.conversation import Turn
from knowledge.base import KnowledgeBase
from knowledge.errors import IndexMismatch
from knowledge.provider import KnowledgeProvider
from knowledge.retrieval import Filters

from .conversations import run, tracker

LOAN_2019 = "qh-policy-entrepreneurship-loan-2019"
LOAN_2023 = "qh-policy-entrepreneurship-loan-2023"
LOAN_2023_NUMBER = "青人社发〔2023〕9号"
LOAN_2023_TITLE = "青禾县创业担保贷款实施办法（2023年修订）"
LOAN_INTERPRETATION = "qh-interp-entrepreneurship-loan-2023"
GRADUATE = "qh-policy-graduate-startup-subsidy-2024"
RURAL = "qh-policy-rural-return-startup-subsidy-2024"
HOTLINE = "12345政务服务便民热线"


def test_answer_quotes_the_current_policy_and_cites_its_doc_number(knowledge: KnowledgeProvider) -> None:
    result = run(ActionAnswerPolicyQuestion(knowledge), tracker("个人创业担保贷款最高能贷多少"))
    assert len(result.messages) == 1
    assert "30万元" in result.text and "15万元" not in result.text
    assert LOAN_2023_NUMBER in result.text and "【现行有效】" in result.text
    payload = result.payload
    assert payload["reply"] == "answer" and payload["answered"] is True and payload["intent"] == "ask_policy"
    assert payload["confidence"] >= 0.3
    assert LOAN_2023 in payload["doc_ids"]
    cited = {c["doc_id"]: c for c in payload["citations"]}
    # quoted from the policy itself, or from its 解读 with the policy cited as the one explained
    assert payload["citations"][0]["role"] == "quoted"
    assert cited[LOAN_2023]["role"] in ("quoted", "interpreted")
    assert cited[LOAN_2023]["doc_number"] == LOAN_2023_NUMBER and cited[LOAN_2023]["validity"] == "现行有效"
    assert cited[LOAN_2023]["url"].startswith("https://")
    # the context for follow-ups is the policy, even when the quoted passage came from its 解读
    assert result.slot("current_doc_id") == LOAN_2023
    assert result.slot("current_topic") == LOAN_2023_TITLE
    assert result.slot("last_question") == "个人创业担保贷款最高能贷多少"
    assert result.slot("failed_turns") == 0


def test_answer_from_a_policy_points_to_its_interpretation(sample_kb: KnowledgeBase) -> None:
    answer = sample_kb.answer("创业担保贷款到期可以展期吗", Filters(doc_ids=(LOAN_2023,)))
    assert answer.passage is not None and answer.passage.doc_id == LOAN_2023
    reply = answer_reply(sample_kb, answer, Turn.of(tracker("创业担保贷款到期可以展期吗")), answer.question)
    assert f"出处：《{LOAN_2023_TITLE}》 {LOAN_2023_NUMBER}" in reply.text
    assert f"政策解读：《{LOAN_2023_TITLE}》政策解读，回复“政策解读”可查看要点。" in reply.text
    assert [c["role"] for c in reply.payload["citations"]] == ["quoted"]


def test_chosen_retired_policy_is_flagged_and_names_its_replacement(knowledge: KnowledgeProvider) -> None:
    conversation = tracker(
        f'/choose_document{{"doc_id":"{LOAN_2019}"}}',
        "choose_document",
        entities={"doc_id": LOAN_2019},
        slots={"current_doc_id": LOAN_2019, "last_question": "个人创业担保贷款最高能贷多少"},
    )
    result = run(ActionAnswerChosenDocument(knowledge), conversation)
    first_line, quote = result.text.splitlines()[:2]
    # the warning comes before the old figure, so the 15万元 is never read as current
    assert "已废止" in first_line and LOAN_2023_TITLE in first_line and "现行规定" in first_line
    assert "15万元" in quote
    quoted, replacement = result.payload["citations"]
    assert (quoted["role"], replacement["role"]) == ("quoted", "replacement")
    assert quoted["doc_id"] == LOAN_2019 and quoted["validity"] == "已废止" and quoted["replaced_by"] == LOAN_2023
    assert replacement["doc_id"] == LOAN_2023 and replacement["doc_number"] == LOAN_2023_NUMBER
    assert result.payload["buttons"] == [
        {"title": "查看现行规定", "payload": f'/choose_document{{"doc_id":"{LOAN_2023}"}}'}
    ]


def test_ambiguous_question_offers_both_subsidies_then_answers_the_choice(knowledge: KnowledgeProvider) -> None:
    asked = run(ActionAnswerPolicyQuestion(knowledge), tracker("创业补贴怎么申请"))
    assert asked.payload["reply"] == "clarify" and asked.payload["answered"] is False
    assert "您想了解的是以下哪一项？" in asked.text and "「" not in asked.text
    payloads = {b["payload"] for b in asked.payload["buttons"]}
    assert payloads == {f'/choose_document{{"doc_id":"{GRADUATE}"}}', f'/choose_document{{"doc_id":"{RURAL}"}}'}
    assert {c["role"] for c in asked.payload["citations"]} == {"choice"}
    assert {b["title"] for b in asked.payload["buttons"]} == {
        "《青禾县大学生创业补贴实施办法》",
        "《青禾县返乡入乡创业补贴办法》",
    }
    assert asked.slot("last_question") == "创业补贴怎么申请"
    assert asked.slot("current_doc_id") is None

    chose = tracker(
        f'/choose_document{{"doc_id":"{RURAL}"}}',
        "choose_document",
        entities={"doc_id": RURAL},
        slots={"current_doc_id": RURAL, "last_question": asked.slot("last_question")},
    )
    answered = run(ActionAnswerChosenDocument(knowledge), chose)
    assert answered.payload["reply"] == "answer"
    assert set(answered.payload["doc_ids"]) <= {RURAL, "qh-interp-rural-return-startup-2024"}
    assert "青农发〔2024〕21号" in answered.text
    assert answered.slot("current_doc_id") == RURAL


def test_question_naming_one_programme_is_answered_without_asking(knowledge: KnowledgeProvider) -> None:
    result = run(ActionAnswerPolicyQuestion(knowledge), tracker("大学生创业补贴怎么申请"))
    assert result.payload["reply"] == "answer"
    assert result.payload["doc_ids"][0] == GRADUATE


LOAN_CONTEXT = {
    "current_doc_id": LOAN_2023,
    "current_topic": LOAN_2023_TITLE,
    "last_question": "创业担保贷款最高能贷多少",
}


def test_followup_is_answered_from_the_current_policy(knowledge: KnowledgeProvider) -> None:
    result = run(ActionAnswerFollowup(knowledge), tracker("需要担保吗", "ask_followup", slots=LOAN_CONTEXT))
    assert result.payload["reply"] == "answer"
    assert set(result.payload["doc_ids"]) <= {LOAN_2023, LOAN_INTERPRETATION}
    assert "担保" in result.text
    assert result.slot("current_doc_id") == LOAN_2023


def test_followup_never_answers_from_another_document(knowledge: KnowledgeProvider) -> None:
    # on their own these words find the materials of 落户 or 过户; about the loan they must stay about the loan
    result = run(ActionAnswerFollowup(knowledge), tracker("那需要什么材料？", "ask_followup", slots=LOAN_CONTEXT))
    if result.payload["reply"] == "answer":
        assert set(result.payload["doc_ids"]) <= {LOAN_2023, LOAN_INTERPRETATION}
        assert result.slot("current_doc_id") == LOAN_2023
    else:
        assert result.payload["reply"] == "no_answer"
        assert LOAN_2023_TITLE in result.text and "县人力资源和社会保障局" in result.text
    unrestricted = run(ActionAnswerPolicyQuestion(knowledge), tracker("那需要什么材料？"))
    assert not set(unrestricted.payload["doc_ids"]) & {LOAN_2023, LOAN_INTERPRETATION}


def test_followup_naming_another_topic_answers_that_topic(knowledge: KnowledgeProvider) -> None:
    result = run(ActionAnswerFollowup(knowledge), tracker("低保标准呢", "ask_followup", slots=LOAN_CONTEXT))
    assert result.payload["answered"] is True
    assert result.slot("current_doc_id") == "qh-policy-minimum-living-assistance-2025"


def test_followup_without_a_current_document_is_a_new_question(knowledge: KnowledgeProvider) -> None:
    result = run(ActionAnswerFollowup(knowledge), tracker("个人创业担保贷款最高能贷多少", "ask_followup"))
    assert result.slot("current_doc_id") == LOAN_2023


def test_unanswerable_question_is_honest_and_counts_the_failure(knowledge: KnowledgeProvider) -> None:
    first = run(ActionAnswerPolicyQuestion(knowledge), tracker("今天天气怎么样"))
    assert first.payload["reply"] == "no_answer" and first.payload["answered"] is False
    assert first.payload["doc_ids"] == [] and first.payload["buttons"] == []
    assert "没有找到" in first.text and HOTLINE in first.text and "「" not in first.text
    assert "也可以向" not in first.text  # no department is related to the weather
    assert first.slot("failed_turns") == 1
    assert not first.sets("current_doc_id")

    second = run(ActionAnswerPolicyQuestion(knowledge), tracker("火星移民有补贴吗", slots={"failed_turns": 1.0}))
    assert second.payload["reply"] == "no_answer"
    assert second.slot("failed_turns") == 2
    assert second.payload["buttons"] == [{"title": "转人工", "payload": "/request_human"}]


def test_no_answer_names_the_department_of_the_closest_document(knowledge: KnowledgeProvider) -> None:
    result = run(ActionAnswerPolicyQuestion(knowledge), tracker("高龄津贴可以让邻居代领吗"))
    assert result.payload["reply"] == "no_answer"
    assert "向县民政局咨询" in result.text


def test_unavailable_knowledge_base_still_gets_a_reply() -> None:
    def broken() -> KnowledgeBase:
        raise IndexMismatch("index built with another model")

    result = run(ActionAnswerPolicyQuestion(KnowledgeProvider(broken)), tracker("创业担保贷款怎么申请"))
    assert result.payload["reply"] == "error" and result.payload["answered"] is False
    assert HOTLINE in result.text
    assert result.events == []


def test_overlong_question_is_rejected_with_a_reason(knowledge: KnowledgeProvider) -> None:
    result = run(ActionAnswerPolicyQuestion(knowledge), tracker("创业" * 1500))
    assert result.payload["reply"] == "no_answer" and "过长" in result.text


def test_two_questions_in_one_message_are_both_answered_and_cited(knowledge: KnowledgeProvider) -> None:
    result = run(ActionAnswerPolicyQuestion(knowledge), tracker("租房能取公积金不 一年能取多少"))
    lines = result.text.splitlines()
    assert "1. 租房能取公积金不" in lines and "2. 一年能取多少" in lines, lines
    second = result.text.split("2. 一年能取多少", 1)[1]
    assert "12000元" in second  # the amount answers the second part, under it
    payload = result.payload
    assert payload["reply"] == "answer" and payload["answered"] is True
    assert "qh-guide-housing-fund-rent-withdrawal" in payload["doc_ids"]
    assert result.text.count("出处：") == 2  # each answer with its source
