"""Reply quality: working days across national holidays, completeness parts, the signing department, weakest first."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from knowledge.workdays import working_days_after
from monitor.exports import read_rows
from monitor.messages import Message, row_to_message
from monitor.replies import (
    UNSIGNED,
    assess_reply,
    department_summary,
    missing_parts,
    reply_department,
    reply_gist,
    weakest_replies,
)

from ..conftest import shared_file

FULL_REPLY = (
    "网友“A0001”：您好！您的留言已收悉。现将有关情况回复如下：经调查核实，该小区电梯由物业公司负责维保，"
    "根据《特种设备安全监察条例》第三十一条规定，我局已责令物业公司于5月15日前完成检修并公示维保记录，"
    "下一步将加强日常巡查。如有疑问，请联系A3区市场监督管理局，联系电话：0731-88888888。感谢您对我们工作的支持！"
    "A3区市场监督管理局 2019年5月9日"
)


def replied(asked: datetime, answered: datetime, reply: str = FULL_REPLY, title: str = "A3区某小区电梯故障") -> Message:
    return Message("t", "1", "U", asked, title, "电梯经常坏", reply=reply, reply_at=answered)


def test_a_message_before_national_day_answered_after_it_counts_working_days_only() -> None:
    # 2019-10-01..07 were holidays; 2019-09-29 (Sunday) and 2019-10-12 (Saturday) were make-up workdays
    assert working_days_after(date(2019, 9, 30), date(2019, 10, 8)) == (1, True)
    assert working_days_after(date(2019, 9, 28), date(2019, 10, 8)) == (3, True)
    assert working_days_after(date(2019, 10, 11), date(2019, 10, 14)) == (2, True)  # Saturday 12th counts
    assessment = assess_reply(replied(datetime(2019, 9, 30, 16), datetime(2019, 10, 8, 10)), cosine=None)
    assert assessment.working_days == 1 and assessment.timeliness == 1.0


def test_a_late_reply_scores_lower_on_timeliness() -> None:
    quick = assess_reply(replied(datetime(2019, 5, 6), datetime(2019, 5, 9)), cosine=None)
    late = assess_reply(replied(datetime(2019, 5, 6), datetime(2019, 7, 30)), cosine=None)
    assert late.working_days is not None and late.working_days > 15 and late.timeliness is not None
    assert quick.timeliness == 1.0 and late.timeliness < 0.5 and late.score < quick.score


def test_a_complete_reply_has_all_four_parts_and_a_bare_acknowledgement_lacks_them() -> None:
    assert missing_parts(FULL_REPLY, 60) == ()
    assert missing_parts("网友：您好！留言已收悉", 60) == ("substance", "basis", "closing")


def test_department_is_read_from_the_signature_and_the_body() -> None:
    assert reply_department(FULL_REPLY) == "A3区市场监督管理局"
    body = "网友“UU0082”：您好！针对您反映的问题，A3区洋湖街道高度重视，立即组织人员调查。感谢您的监督！2019年5月9日"
    assert reply_department(body) == "A3区洋湖街道"
    assert reply_department("您好，已转相关部门处理。") == UNSIGNED


def test_gist_skips_the_greeting_and_acknowledgement() -> None:
    assert reply_gist(FULL_REPLY).startswith("经调查核实，该小区电梯由物业公司负责维保")


def test_weakest_real_replies_come_first_with_their_department() -> None:
    _, rows = read_rows(shared_file("tipdm", "messages_with_replies.xlsx"))
    messages = [m for number, row in rows if (m := row_to_message("real", row, number)[0]) is not None][:400]
    assessed = [assess_reply(m, cosine=None) for m in messages]
    weakest = weakest_replies(assessed, 10)
    assert [a.score for a in weakest] == sorted(a.score for a in weakest)
    assert weakest[-1].score <= min(a.score for a in assessed if a not in weakest)
    assert all(a.department for a in weakest)
    # each weak reply is weak for a reason staff can see: late, incomplete or off the message's subject
    assert all((a.timeliness or 0) < 1 or a.missing_parts or a.relevance < 0.5 for a in weakest)
    bare = [a for a in assessed if len(a.missing_parts) == 4]
    assert bare and all(a in weakest for a in bare[:1])
    assert all(a.working_days is not None and a.working_days <= (a.replied_at - a.asked_at).days + 1  # type: ignore[operator]
               for a in assessed)
    named = sum(1 for a in assessed if a.department != UNSIGNED)
    assert named / len(assessed) > 0.6
    summary = department_summary(assessed)
    assert sum(int(row["replies"]) for row in summary) == len(assessed)


@pytest.mark.parametrize("cosine", [0.95, 0.80])
def test_relevance_follows_the_cosine(cosine: float) -> None:
    message = replied(datetime(2019, 5, 6), datetime(2019, 5, 9))
    high = assess_reply(message, cosine=0.95)
    this = assess_reply(message, cosine=cosine)
    assert this.relevance <= high.relevance and this.cosine == cosine
