"""Hot issues over the real 2019 messages, embedded once for the session (tests/monitor/conftest.py: year_store):
the whole year's top ten, December's known campaign, and the place rules on the export's anonymised names."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

import numpy as np
import pytest

from knowledge.embedding import Embedder
from monitor.hotspots import HotIssue, extract_places, find_hot_issues, heat_index
from monitor.messages import Message, MessageStore

YEAR_START, YEAR_END = datetime(2019, 1, 1), datetime(2020, 1, 1)
START, END = datetime(2019, 12, 1), datetime(2020, 1, 1)
# what a staff member would not accept as a 地点/人群 label: a doubled suffix (和平路路), a date or house number
# (2019年…, 65号…), a lower-case Latin fragment (p2p公司)
NOT_A_NAME = re.compile(r"(路|村|镇|组|站|桥|园|街)\1$|^\d|[a-z]")


@pytest.fixture(scope="module")
def year(year_store: MessageStore) -> tuple[list[Message], np.ndarray]:
    return year_store.load(YEAR_START, YEAR_END)


@pytest.fixture(scope="module")
def year_issues(year: tuple[list[Message], np.ndarray]) -> list[HotIssue]:
    messages, vectors = year
    return find_hot_issues(messages, vectors, end=YEAR_END)


@pytest.fixture(scope="module")
def period(year_store: MessageStore) -> tuple[list[Message], np.ndarray]:
    """December 2019."""
    return year_store.load(START, END)


@pytest.fixture(scope="module")
def issues(period: tuple[list[Message], np.ndarray]) -> list[HotIssue]:
    messages, vectors = period
    return find_hot_issues(messages, vectors, end=END)


def test_every_top_ten_issue_of_the_year_shares_its_place_and_falls_in_its_time_range(
    year_issues: list[HotIssue], year: tuple[list[Message], np.ndarray]
) -> None:
    by_id = {m.external_id: m for m in year[0]}
    assert len(year[0]) > 4000 and len(year_issues) >= 10
    for issue in year_issues[:10]:
        assert YEAR_START <= issue.start <= issue.end < YEAR_END
        assert issue.time_range == f"{issue.start:%Y/%m/%d} 至 {issue.end:%Y/%m/%d}"
        # several people, or one message thousands liked (汇金路五矿万境: 2,097 likes)
        attention = issue.likes + issue.dislikes
        assert (len(issue.messages) >= 2 and issue.users >= 2) or attention >= 100, issue.table_row()
        for row in issue.messages:
            message = by_id[row.message_id]
            # a label is the message's own words, up to the case of a bus route (n108路 → N108路)
            assert issue.place_or_group.casefold() in message.text.casefold(), (issue.place_or_group, message.title)
            assert issue.start <= message.at <= issue.end and row.title == message.title


def test_the_years_labels_read_as_names_and_tell_every_issue_apart(year_issues: list[HotIssue]) -> None:
    places = [i.place_or_group for i in year_issues]
    assert not [place for place in places if NOT_A_NAME.search(place)], places
    labels = [i.label for i in year_issues]
    assert len(set(labels)) == len(labels), labels
    shared = [place for place, n in Counter(places).items() if n > 1]
    for issue in (i for i in year_issues if i.place_or_group in shared and i.key_words):
        # a problem's label word is one its titles share, not one message's word
        word = issue.key_words[0]
        assert sum(word in row.title for row in issue.messages) >= min(2, len(issue.messages)), (issue.label, word)


def test_the_years_known_campaigns_rank_at_the_top(year_issues: list[HotIssue]) -> None:
    # residents of 丽发新城 wrote again and again about a concrete mixing plant built beside their compound
    top = [i for i in year_issues[:5] if "丽发新城" in i.place_or_group]
    assert top, [i.table_row() for i in year_issues[:5]]
    assert sum("搅拌" in row.title for row in top[0].messages) >= 0.8 * len(top[0].messages)


def test_a_message_belongs_to_one_issue_and_issues_are_ranked_by_heat(
    issues: list[HotIssue], year_issues: list[HotIssue]
) -> None:
    for found in (issues, year_issues):
        ids = [row.message_id for issue in found for row in issue.messages]
        assert len(ids) == len(set(ids))
        assert [i.rank for i in found] == list(range(1, len(found) + 1))
        assert [i.heat for i in found] == sorted((i.heat for i in found), reverse=True)


def test_every_top_issue_of_december_names_its_place_and_falls_in_its_time_range(
    issues: list[HotIssue], period: tuple[list[Message], np.ndarray]
) -> None:
    by_id = {m.external_id: m for m in period[0]}
    assert len(issues) >= 10
    for issue in issues[:10]:
        assert START <= issue.start <= issue.end < END
        for row in issue.messages:
            assert issue.place_or_group.casefold() in by_id[row.message_id].text.casefold()


def test_decembers_known_campaign_ranks_at_the_top(issues: list[HotIssue]) -> None:
    top = issues[:3]
    assert any("丽发新城" in i.place_or_group for i in top), [i.table_row() for i in top]
    campaign = next(i for i in top if "丽发新城" in i.place_or_group)
    assert campaign.users >= 3 and sum("搅拌" in m.title for m in campaign.messages) >= 3


def test_json_has_the_report_fields(issues: list[HotIssue]) -> None:
    entry = issues[0].to_json()
    assert {"rank", "issue_id", "heat", "time_range", "place_or_group", "description", "message_ids"} <= set(entry)
    assert entry["message_ids"] == [m.message_id for m in issues[0].messages]
    assert entry["label"] == issues[0].label and entry["label"].startswith(entry["place_or_group"])
    assert set(issues[0].table_row()) == {"热度排名", "问题ID", "热度指数", "时间范围", "地点/人群", "问题描述"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A2区丽发新城附近修建搅拌厂，严重污染环境", "丽发新城"),
        ("A市伊景园·滨河苑欺诈消费者", "伊景园"),
        ("A4区楚家湖路捞刀河刀剪厂宿舍对面施工极其扰民", "楚家湖路"),
        ("A3区中海国际社区空地夜间施工噪音太大了", "中海国际社区"),
        ("广铁集团职工购房时被强制捆绑购买车位", "广铁集团职工"),
        ("西地省鑫庆医药有限公司拖欠员工工资200多万", "医药有限公司"),
        ("A市经济学院学生被强制外出实习", "经济学院学生"),
        ("请提高A2区编外合同教师的待遇", "教师"),
        ("A2区向阳小区停车难", "向阳小区"),  # 向 starts the name here, it is not a glued preposition
        ("在麦芒国际小区门口乱停车", "麦芒国际小区"),
        # a brand before the name: 绿地城际空间站 and 地绿城际空间站 meet under 城际空间站
        ("A市绿地城际空间站建筑质量堪忧", "城际空间站"),
        ("举报A市地绿城际空间站的违法违规行为", "城际空间站"),
    ],
)
def test_places_and_groups_are_extracted_from_the_anonymised_forms(text: str, expected: str) -> None:
    assert expected in extract_places(text)


def test_a_crowd_is_hotter_than_one_persistent_writer() -> None:
    def message(user: str, day: int) -> Message:
        return Message("t", f"{user}{day}", user, datetime(2019, 6, day), "丽发新城搅拌站扰民", "")

    crowd = [message(f"U{i}", 1 + i) for i in range(6)]
    one_writer = [message("U0", 1 + i) for i in range(6)]
    assert heat_index(crowd, datetime(2019, 6, 30)) > heat_index(one_writer, datetime(2019, 6, 30))


def test_two_problems_at_one_place_are_two_issues_even_when_a_message_bridges_them(
    period: tuple[list[Message], np.ndarray], embedder: Embedder
) -> None:
    # the real campaign against the mixing plant beside 丽发新城, plus residents of the same compound writing about
    # their parking fees; one message names both, which single-linkage chaining would use to merge them
    parking = [
        ("A2区丽发新城小区停车费上涨太多", "物业把地下车库停车费从每月200元涨到400元"),
        ("丽发新城小区物业乱收停车费", "小区停车费收费标准不公开，业主不满"),
        ("A2区丽发新城停车收费不合理", "物业擅自提高停车收费，请物价部门核查"),
        ("丽发新城小区车位停车费谁来管", "停车费一年涨了两次"),
    ]
    bridge = ("丽发新城搅拌站和停车费的问题", "搅拌站噪音粉尘扰民，小区停车费又乱涨")
    written = [
        Message("test", f"p{i}", f"U-p{i}", datetime(2019, 12, 10 + 2 * i, 9), title, detail)
        for i, (title, detail) in enumerate([*parking, bridge])
    ]
    messages, vectors = period
    added = embedder.embed_passages([m.embed_text(64) for m in written])
    issues = find_hot_issues([*messages, *written], np.vstack([vectors, added]), end=END)
    fees = next(i for i in issues if any(row.message_id == "p0" for row in i.messages))
    assert {"p0", "p1", "p2", "p3"} <= {row.message_id for row in fees.messages}
    assert not any("搅拌" in row.title for row in fees.messages if not row.message_id.startswith("p"))
    plant = next(i for i in issues if "丽发新城" in i.place_or_group and i is not fees and i.rank <= 3)
    assert sum("搅拌" in row.title for row in plant.messages) >= 3
    assert not {"p0", "p1", "p2", "p3"} & {row.message_id for row in plant.messages}
    # and the chart and tables tell them apart: the same place, each with its own problem's words
    assert fees.label != plant.label and "停车" in fees.label and "搅拌" in plant.label, (fees.label, plant.label)


@pytest.mark.parametrize(
    ("text", "expected", "wrong"),
    [
        ("A4区凯乐国际城太平路路灯失修大半年未解决", "太平路", "太平路路"),  # 路|路灯
        ("和平路路口的红绿灯坏了一个月", "和平路", "和平路路"),
        ("本人系A市A5区莲湖村村民，拆迁遗留问题", "莲湖村", "莲湖村村"),  # 村|村民
        ("A3区莲花镇龙洞村毛塘组组级公路急需硬化", "毛塘组", "毛塘组组"),
        ("A4区p2p公司58车贷，非法经营近四年", None, "p2p公司"),  # a kind of company, not a name
        ("我们是A市A2区老虎塘路65号银杏嘉园9栋全体业主", "银杏嘉园", "65号银杏嘉园"),  # a house number
        ("本人2019年5月28日悦居星城app资料审核已通过", "悦居星城", "2019年5月28日悦居星城"),  # a date
        ("A8县市回龙铺镇建房秩序混乱", "回龙铺镇", "市回龙铺镇"),  # A8县市: a county-level city
        ("A7县市政道路人行道应得到重视", "市政道路", "政道路"),  # but A7县 + 市政道路
        ("前不久A8县n108路公交车开通了", "N108路", "n108路"),  # a bus route, written as the operator does
        ("A市地铁3号线星沙大道站出入口设置不合理", "地铁3号线", "线星沙大道站"),  # a line number stays
        ("A市绿地城际空间站严重误导消费者", "绿地城际空间站", "际空间站"),  # 绿地|城际|空间站, not 绿地城 + 际空间站
        ("作为一个政府部门应该管一管", None, "一个政府"),  # a quantity, not a name
    ],
)
def test_labels_are_names_not_doubled_suffixes_numbers_or_fragments(
    text: str, expected: str | None, wrong: str
) -> None:
    places = extract_places(text)
    assert wrong not in places, places
    assert expected is None or expected in places, places
    assert not [p for p in places if re.search(r"(路|村|镇|组|站|桥|园)\1$|^\d|[a-z]", p)], places
