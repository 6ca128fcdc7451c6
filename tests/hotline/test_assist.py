"""From a call transcript to answers with sources, classification and a draft 工单, on the sample knowledge base."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime

import pytest

from hotline.assist import NO_ANSWER, HotlineAssistant
from hotline.errors import TranscriptError
from hotline.settings import HotlineSettings
from knowledge.base import KnowledgeBase
from knowledge.document import Answer, Document
from knowledge.retrieval import Filters
from monitor.classify import Classifier, Departments, RequestType

from ..conftest import ROOT
from .test_questions import THREE_QUESTIONS

CALLED_AT = datetime.fromisoformat("2026-11-30T09:15:00+08:00")


def test_a_three_question_call_is_answered_with_sources(assistant: HotlineAssistant) -> None:
    result = assistant.assist(THREE_QUESTIONS, called_at=CALLED_AT)
    assert [s.question.text for s in result.suggestions][2] == "青禾县创业担保贷款最高能贷多少？"
    assert all(s.answered for s in result.suggestions)
    loan = result.suggestions[2]
    assert "30万元" in loan.answer
    source = loan.citations[0]
    assert source.doc_id.startswith("qh-") and "创业担保贷款" in source.title
    assert source.validity == "现行有效" and source.date and not source.retired
    subsidy = result.suggestions[1]
    assert "创业补贴" in subsidy.citations[0].title
    assert 0.4 <= subsidy.confidence <= 1.0
    assert result.request_type is RequestType.CONSULTATION


def test_a_materials_question_is_answered_with_the_list_of_materials(assistant: HotlineAssistant) -> None:
    subsidy = assistant.assist(THREE_QUESTIONS, called_at=CALLED_AT).suggestions[1]
    assert "材料" in subsidy.answer and "身份证" in subsidy.answer


def test_the_draft_work_order_has_every_field(assistant: HotlineAssistant) -> None:
    draft = assistant.assist(THREE_QUESTIONS, called_at=CALLED_AT).work_order.as_dict()
    assert list(draft) == [
        *("来电时间", "来电人", "联系电话", "诉求类型", "事项分类"),
        *("地点", "诉求摘要", "已答复内容", "建议承办单位", "是否需要转办"),
    ]
    assert draft["来电时间"] == "2026-11-30T09:15:00+08:00"
    assert draft["诉求类型"] == "咨询"
    assert draft["地点"] == "青禾县"
    assert draft["诉求摘要"].count("？") == 3
    assert "30万元" in str(draft["已答复内容"])
    assert draft["是否需要转办"] is False  # a consultation answered in full is closed on the call


def test_a_question_the_knowledge_base_cannot_answer_says_so(assistant: HotlineAssistant) -> None:
    call = "坐席：您好，请问有什么可以帮您？\n市民：请问西红柿炒鸡蛋先放鸡蛋还是先放西红柿？"
    result = assistant.assist(call)
    (suggestion,) = result.suggestions
    assert not suggestion.answered
    assert suggestion.answer == "" and suggestion.citations == ()
    assert suggestion.text == NO_ANSWER
    assert result.work_order.needs_transfer


def test_a_phone_number_in_chinese_numerals_is_in_the_draft_and_nowhere_else(
    assistant: HotlineAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    call = (
        "坐席：您好，12345热线，请问有什么可以帮您？\n市民：我想问一下低保怎么申请。\n"
        "坐席：请问您的联系电话？\n市民：我电话是幺三八零零一二三四五六，我叫王小明。"
    )
    with caplog.at_level(logging.DEBUG):
        result = assistant.assist(call)
    order = result.work_order
    assert order.phone == "13800123456"
    assert order.as_dict(for_operator=True)["联系电话"] == "13800123456"
    assert order.as_dict()["联系电话"] == "138****3456"
    assert order.caller_name == "王小明"
    assert "13800123456" not in repr(order) and "幺三八零零" not in repr(order)
    assert "幺三八零零" not in caplog.text and "13800123456" not in caplog.text


def test_a_complaint_is_classified_routed_and_marked_for_transfer(assistant: HotlineAssistant) -> None:
    call = (
        "坐席：您好，请问有什么可以帮您？\n来电人：我要投诉。\n坐席：请讲。\n"
        "来电人：我是青禾县柳溪镇幸福小区的，我们小区物业乱收费，每个月多收五十块钱，你们管不管？"
    )
    result = assistant.assist(call)
    assert result.request_type is RequestType.COMPLAINT
    order = result.work_order
    assert order.request_type == "投诉" and order.needs_transfer
    assert order.location == "青禾县柳溪镇幸福小区"
    assert result.department == Departments.load(ROOT / "monitor" / "departments.yml").department_for(result.category)
    assert order.department == result.department
    assert "乱收费" in order.summary


def test_funasr_json_is_assisted_like_text(assistant: HotlineAssistant) -> None:
    result = assistant.assist(
        {
            "sentence_info": [
                {"text": "您好，12345热线，请问有什么可以帮您？", "start": 0, "end": 2000, "spk": 0},
                {"text": "我想问一下创业担保贷款最高能贷多少？", "start": 2100, "end": 5000, "spk": 1},
            ]
        }
    )
    assert [s.question.text for s in result.suggestions] == ["创业担保贷款最高能贷多少？"]
    assert result.suggestions[0].answered


def test_unreadable_input_raises_the_transcript_error(assistant: HotlineAssistant) -> None:
    with pytest.raises(TranscriptError) as caught:
        assistant.assist("   ")
    assert caught.value.status == 400


class RetiredIncluded:
    """The sample knowledge base searched with retired documents included, the way a history lookup would."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def answer(self, question: str) -> Answer:
        return self.kb.answer(
            question, Filters(include_retired=True, doc_ids=("qh-policy-entrepreneurship-loan-2019",))
        )

    def documents(self) -> Mapping[str, Document]:
        return self.kb.documents()


def test_a_repealed_document_is_flagged_with_its_replacement(hotline_kb: KnowledgeBase, classifier: Classifier) -> None:
    assistant = HotlineAssistant(RetiredIncluded(hotline_kb), classifier, HotlineSettings())
    call = "坐席：您好。\n市民：请问创业担保贷款的贷款额度是多少？"
    (suggestion,) = assistant.assist(call).suggestions
    (source,) = suggestion.citations
    assert source.validity == "已废止" and source.retired
    assert source.replaced_by == "qh-policy-entrepreneurship-loan-2023"
    assert source.replaced_by_title == "青禾县创业担保贷款实施办法（2023年修订）"
    assert "已废止" in source.warning and "2023年修订" in source.warning
