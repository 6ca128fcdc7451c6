"""Answer extraction on hand-made passages: which sentences are quoted."""

from __future__ import annotations

import pytest

from knowledge.answer import extract_answer
from knowledge.document import Chunk, Citation, Document, Passage

TITLE = "重庆市税务局发布非接触式网上办税清单"


def passage(text: str) -> Passage:
    doc = Document(id="d", title=TITLE, body=text)
    return Passage(Chunk("d#0", "d", 0, text, TITLE), Citation.of(doc), 1.0, None, None, None, None)


HEADLINE = "重庆市税务局发布非接触式网上办税清单和线下预约办税清单。"
CHECKLIST = "非接触式网上办税清单涵盖发票领用代开、税收减免备案、税费申报缴纳等事项。"
REPORTING = "各建筑企业要落实日报告制度，每日向行业主管部门报告员工健康情况。"
FILLER = "各区县住房城乡建设部门将做好宣传辅导工作，督促企业做好防控。" * 6
REPORTING_QUESTION = "内江市住房和城乡建设局要求企业如何落实日报告制度？"


@pytest.mark.parametrize(
    ("question", "text", "answer_opening"),
    [
        # a news-style notice opens by restating its headline, which covers every question word
        (
            "重庆市税务局发布的非接触式网上办税清单涵盖哪些事项？",
            HEADLINE + "各区县税务局将做好宣传辅导工作，方便纳税人了解政策变化情况。" * 5 + CHECKLIST,
            "非接触式网上办税清单涵盖发票领用代开",
        ),
        # a question naming the issuing body matches the 落款 (body and date) closing the notice
        (REPORTING_QUESTION, REPORTING + FILLER + "内江市住房和城乡建设局\n2020年2月3日", REPORTING[:13]),
        (REPORTING_QUESTION, REPORTING + FILLER + "内江市住房和城乡建设局　　2020年2月3日", REPORTING[:13]),
    ],
    ids=["title restated", "signature on two lines", "signature on one line"],
)
def test_boilerplate_is_passed_over_for_the_answer(question: str, text: str, answer_opening: str) -> None:
    answer = extract_answer(question, [passage(text)], lambda _: 1.0)
    assert answer.text.startswith(answer_opening), answer.text
