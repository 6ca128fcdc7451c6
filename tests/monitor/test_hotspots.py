"""Hot issues over a real period (December 2019 of the real export, embedded once for the module)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import datetime

import numpy as np
import pytest

from knowledge.embedding import Embedder
from monitor.exports import parse_time, read_rows
from monitor.hotspots import HotIssue, extract_places, find_hot_issues, heat_index
from monitor.messages import Message, MessageStore, import_messages

from ..conftest import shared_file

START, END = datetime(2019, 12, 1), datetime(2020, 1, 1)


@pytest.fixture(scope="module")
def period(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[tuple[list[Message], np.ndarray]]:
    """The real messages of the period, imported through a CSV written from the real xlsx and embedded once."""
    root = tmp_path_factory.mktemp("hot")
    _, rows = read_rows(shared_file("tipdm", "messages_2019.xlsx"))
    path = root / "period.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "点赞数", "反对数"])
        for _, row in rows:
            at = parse_time(row["留言时间"])
            if START <= at < END:
                when = at.strftime("%Y/%m/%d %H:%M:%S")
                writer.writerow(
                    [
                        row["留言编号"],
                        row["留言用户"],
                        row["留言主题"],
                        when,
                        row["留言详情"],
                        row["点赞数"],
                        row["反对数"],
                    ]
                )
    store = MessageStore.open(f"sqlite:///{root}/messages.db")
    report = import_messages(store, path, embedder)
    assert report.bad_rows == () and report.added > 300
    yield store.load(START, END)
    store.close()


@pytest.fixture(scope="module")
def issues(period: tuple[list[Message], np.ndarray]) -> list[HotIssue]:
    messages, vectors = period
    return find_hot_issues(messages, vectors, end=END)


def test_every_top_issue_message_names_its_place_and_falls_in_its_time_range(
    issues: list[HotIssue], period: tuple[list[Message], np.ndarray]
) -> None:
    by_id = {m.external_id: m for m in period[0]}
    assert len(issues) >= 10
    for issue in issues[:10]:
        assert issue.place_or_group and issue.time_range == f"{issue.start:%Y/%m/%d} 至 {issue.end:%Y/%m/%d}"
        for row in issue.messages:
            message = by_id[row.message_id]
            assert issue.place_or_group in message.text, (issue.place_or_group, message.title)
            assert issue.start <= message.at <= issue.end and row.title == message.title


def test_a_message_belongs_to_one_issue_and_issues_are_ranked_by_heat(issues: list[HotIssue]) -> None:
    ids = [row.message_id for issue in issues for row in issue.messages]
    assert len(ids) == len(set(ids))
    assert [i.rank for i in issues] == list(range(1, len(issues) + 1))
    assert [i.heat for i in issues] == sorted((i.heat for i in issues), reverse=True)


def test_the_periods_known_campaign_ranks_at_the_top(issues: list[HotIssue]) -> None:
    # residents of 丽发新城 wrote again and again about a concrete mixing plant built beside it
    top = issues[:3]
    assert any("丽发新城" in i.place_or_group for i in top), [i.table_row() for i in top]
    campaign = next(i for i in top if "丽发新城" in i.place_or_group)
    assert campaign.users >= 3 and sum("搅拌" in m.title for m in campaign.messages) >= 3


def test_json_has_the_report_fields(issues: list[HotIssue]) -> None:
    entry = issues[0].to_json()
    assert {"rank", "issue_id", "heat", "time_range", "place_or_group", "description", "message_ids"} <= set(entry)
    assert entry["message_ids"] == [m.message_id for m in issues[0].messages]
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
