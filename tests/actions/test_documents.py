"""Questions about the current document: is it still valid, what does its 解读 say, whom to call."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.contact import ActionAnswerContact
from actions.interpretation import ActionAnswerInterpretation, excerpt
from actions.validity import ActionAnswerValidity
from knowledge.base import KnowledgeBase
from knowledge.document import Document, Kind
from knowledge.embedding import Embedder
from knowledge.provider import KnowledgeProvider

from .conftest import sample_settings
from .conversations import run, tracker

LOAN_2019 = "qh-policy-entrepreneurship-loan-2019"
LOAN_2023 = "qh-policy-entrepreneurship-loan-2023"
RENTAL_2022 = "qh-policy-affordable-rental-housing-2022"
RENTAL_AMENDMENT = "qh-policy-affordable-rental-housing-amend-2025"
RURAL = "qh-policy-rural-return-startup-subsidy-2024"


def test_retired_current_document_is_stated_with_its_replacement(knowledge: KnowledgeProvider) -> None:
    result = run(
        ActionAnswerValidity(knowledge),
        tracker("这个文件还有效吗", "ask_validity", slots={"current_doc_id": LOAN_2019}),
    )
    assert "【已废止】" in result.text and "青人社发〔2019〕12号" in result.text
    assert "《青禾县创业担保贷款实施办法（2023年修订）》（青人社发〔2023〕9号）为准" in result.text
    assert "2019年7月1日" in result.text  # 施行日期
    assert result.payload["reply"] == "validity" and result.payload["doc_ids"] == [LOAN_2019, LOAN_2023]
    assert result.payload["buttons"][0]["payload"] == f'/choose_document{{"doc_id":"{LOAN_2023}"}}'


def test_amended_document_points_to_the_amendment(knowledge: KnowledgeProvider) -> None:
    result = run(
        ActionAnswerValidity(knowledge), tracker("还有效吗", "ask_validity", slots={"current_doc_id": RENTAL_2022})
    )
    assert "【已修改】" in result.text and "青政办发〔2025〕7号" in result.text
    assert "有效期至：2027年8月31日" in result.text
    assert result.payload["citations"][1]["doc_id"] == RENTAL_AMENDMENT


def test_current_document_is_stated_as_in_force(knowledge: KnowledgeProvider) -> None:
    result = run(
        ActionAnswerValidity(knowledge), tracker("还有效吗", "ask_validity", slots={"current_doc_id": LOAN_2023})
    )
    assert "【现行有效】" in result.text and "可以作为办事依据" in result.text
    assert result.payload["buttons"] == []


@pytest.mark.parametrize("current", [None, LOAN_2023, "qh-policy-elderly-care-subsidy-2024"])
def test_validity_question_naming_an_old_version_finds_that_version(
    knowledge: KnowledgeProvider, current: str | None
) -> None:
    conversation = tracker("2019年的创业担保贷款办法还有效吗", "ask_validity", slots={"current_doc_id": current})
    result = run(ActionAnswerValidity(knowledge), conversation)
    # the 2019 rules are said to be repealed first, both cited; the conversation goes on with the rules in force
    assert "已废止" in result.text.split("现行")[0] and "2019" in result.text
    cited = {c["doc_id"] for c in result.payload["citations"]}
    assert LOAN_2019 in cited and LOAN_2023 in cited
    assert result.slot("current_doc_id") == LOAN_2023


def test_validity_question_without_any_document_asks_which(knowledge: KnowledgeProvider) -> None:
    result = run(ActionAnswerValidity(knowledge), tracker("这个还有效吗", "ask_validity"))
    assert result.payload["answered"] is False and result.events == []
    assert "您想了解哪项政策" in result.text


def test_validity_question_naming_a_measure_finds_the_document_that_has_it(knowledge: KnowledgeProvider) -> None:
    # no title word is named, but only the 2022 relief notice speaks of 欠费不停供: it expired
    result = run(ActionAnswerValidity(knowledge), tracker("水电气欠费不停供的政策还执行不", "ask_validity"))
    assert "【失效】" in result.text and "青政办发〔2022〕11号" in result.text, result.text
    assert "其内容不再执行" in result.text and "以下内容" not in result.text  # nothing is quoted below
    assert result.payload["doc_ids"][0] == "qh-notice-covid-smb-relief-2022"


def test_interpretation_of_the_current_policy_shows_its_opening(knowledge: KnowledgeProvider) -> None:
    result = run(
        ActionAnswerInterpretation(knowledge),
        tracker("有政策解读吗", "ask_interpretation", slots={"current_doc_id": LOAN_2023}),
    )
    assert result.payload["doc_ids"] == ["qh-interp-entrepreneurship-loan-2023", LOAN_2023]
    assert "政策解读要点" in result.text and "问：新修订的创业担保贷款实施办法从什么时候开始执行？" in result.text
    assert "https://www.qinghe.gov.example/zwgk/zcjd/2023/qrsf-2023-9-jd.html" in result.text


def test_policy_without_interpretation_says_so(knowledge: KnowledgeProvider) -> None:
    current = {"current_doc_id": "qh-policy-business-environment-2024"}
    result = run(ActionAnswerInterpretation(knowledge), tracker("解读一下", "ask_interpretation", slots=current))
    assert "暂未发布配套的政策解读" in result.text and result.payload["answered"] is False


def test_interpretation_question_naming_a_topic_answers_from_the_interpretations(knowledge: KnowledgeProvider) -> None:
    result = run(ActionAnswerInterpretation(knowledge), tracker("低保政策解读", "ask_interpretation"))
    assert result.payload["citations"][0]["kind"] == "interpretation"
    assert result.slot("current_doc_id") == "qh-policy-minimum-living-assistance-2025"


def test_interpretation_question_on_a_policy_without_one_is_answered_from_the_policy(
    knowledge: KnowledgeProvider,
) -> None:
    result = run(ActionAnswerInterpretation(knowledge), tracker("新开办企业免费刻章怎么理解", "ask_interpretation"))
    assert result.payload["answered"] is True
    assert result.payload["doc_ids"][0] == "qh-policy-business-environment-2024"
    assert "共4枚" in result.text and "青政发〔2024〕8号" in result.text


def test_excerpt_cuts_between_question_and_answer_pairs() -> None:
    body = (
        "问：第一个问题？\n答：" + "甲" * 70 + "\n问：第二个问题？\n答：" + "乙" * 70 + "\n问：第三个问题？\n答：丙。"
    )
    assert excerpt(body).splitlines() == body.splitlines()[:4]


@pytest.mark.parametrize("mark", ["问：", "問：", "Q:", "提问："])
def test_excerpt_keeps_an_answer_whole_whatever_the_question_prefix(mark: str) -> None:
    # a Taipei FAQ writes 問：, others Q: or 提问：; an answer's second paragraph is no place to cut
    body = f"{mark}第一个问题？\n答：" + "甲" * 130 + "\n另有补充说明。\n" + f"{mark}第二个问题？\n答：乙。"
    assert excerpt(body).splitlines() == body.splitlines()[:3]


def test_contact_of_the_current_department(knowledge: KnowledgeProvider) -> None:
    result = run(ActionAnswerContact(knowledge), tracker("电话是多少", "ask_contact", slots={"current_doc_id": RURAL}))
    assert "县农业农村局" in result.text and "0631-5223318" in result.text and "农丰路23号" in result.text
    assert result.payload["reply"] == "contact" and result.payload["doc_ids"] == ["qh-guide-contact-directory"]


def test_contact_question_naming_another_department_and_asking_for_hours(knowledge: KnowledgeProvider) -> None:
    result = run(
        ActionAnswerContact(knowledge),
        tracker("公积金中心几点上班", "ask_contact", slots={"current_doc_id": LOAN_2023}),
    )
    assert "8:30-11:30" in result.text


def test_contact_question_naming_a_department_overrides_the_current_one(knowledge: KnowledgeProvider) -> None:
    result = run(
        ActionAnswerContact(knowledge), tracker("民政局在哪里", "ask_contact", slots={"current_doc_id": LOAN_2023})
    )
    assert "文化路15号" in result.text


def test_contact_question_no_guide_answers_is_answered_from_the_policy_that_gives_the_number(
    tmp_path: Path, embedder: Embedder
) -> None:
    # a knowledge base of notices only (as the shared ncp corpus is): no service guide or directory
    kb = KnowledgeBase.open(sample_settings(tmp_path), embedder)
    kb.upsert(
        Document(
            "fever-notice",
            "关于设立发热门诊咨询热线的通知",
            "一、开通时间\n自2月1日起，县人民医院开通发热门诊咨询热线0631-5288120，24小时有人接听。\n"
            "二、就诊要求\n出现发热、干咳等症状的居民应佩戴口罩前往发热门诊就诊。",
            kind=Kind.NOTICE,
            issuer="青禾县卫生健康局",
        )
    )
    provider = KnowledgeProvider(lambda: kb)
    result = run(ActionAnswerContact(provider), tracker("发热门诊的咨询热线是多少", "ask_contact"))
    assert result.payload["reply"] == "answer", result.text
    assert "0631-5288120" in result.text and result.payload["doc_ids"] == ["fever-notice"]
    kb.close()
