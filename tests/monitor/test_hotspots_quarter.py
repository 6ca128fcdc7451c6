"""Hot issues over the largest slice of the real 2019 messages that imports in a few minutes: October–December.

Importing embeds every message with the real model, and that is this module's cost. On this 2-core machine the
year's 4,326 messages embed at 1.8–4.3 messages/s depending on what else runs (bench/monitor.py, 2026-12-01), 17
to 40 minutes; the last quarter (942 messages) takes about 4 minutes on a quiet machine (14 with four other
sessions testing: load average 15–17). December alone is tests/monitor/test_hotspots.py.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from knowledge.embedding import Embedder
from monitor.exports import parse_time, read_rows
from monitor.hotspots import HotIssue, find_hot_issues
from monitor.messages import Message, MessageStore, import_messages

from ..conftest import shared_file

START, END = datetime(2019, 10, 1), datetime(2020, 1, 1)
HEADER = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "点赞数", "反对数"]
# what a staff member would not accept as a 地点/人群 label: a doubled suffix (和平路路), a date or house number
# (2019年…, 65号…), a lower-case Latin fragment (p2p公司)
NOT_A_NAME = re.compile(r"(路|村|镇|组|站|桥|园|街)\1$|^\d|[a-z]")


@pytest.fixture(scope="module")
def quarter(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[tuple[list[Message], np.ndarray]]:
    """The real messages of the slice, imported through a CSV written from the real xlsx (times as it writes them)."""
    root: Path = tmp_path_factory.mktemp("quarter")
    _, rows = read_rows(shared_file("tipdm", "messages_2019.xlsx"))
    path = root / "messages_2019.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for _, row in rows:
            at = parse_time(row["留言时间"])
            if START <= at < END:
                writer.writerow([row[c] if c != "留言时间" else at.strftime("%Y/%m/%d %H:%M:%S") for c in HEADER])
    store = MessageStore.open(f"sqlite:///{root}/messages.db")
    report = import_messages(store, path, embedder)
    assert report.bad_rows == () and report.added > 900
    yield store.load(START, END)
    store.close()


@pytest.fixture(scope="module")
def issues(quarter: tuple[list[Message], np.ndarray]) -> list[HotIssue]:
    messages, vectors = quarter
    return find_hot_issues(messages, vectors, end=END)


def test_every_top_ten_issue_shares_its_place_and_falls_in_its_time_range(
    issues: list[HotIssue], quarter: tuple[list[Message], np.ndarray]
) -> None:
    by_id = {m.external_id: m for m in quarter[0]}
    assert len(quarter[0]) > 900 and len(issues) >= 10
    for issue in issues[:10]:
        assert START <= issue.start <= issue.end < END
        assert issue.time_range == f"{issue.start:%Y/%m/%d} 至 {issue.end:%Y/%m/%d}"
        assert len(issue.messages) >= 2 and issue.users >= 2, issue.table_row()
        for row in issue.messages:
            message = by_id[row.message_id]
            # a label is the message's own words, up to the case of a bus route (n108路 → N108路)
            assert issue.place_or_group.casefold() in message.text.casefold(), (issue.place_or_group, message.title)
            assert issue.start <= message.at <= issue.end and row.title == message.title


def test_the_labels_read_as_names(issues: list[HotIssue]) -> None:
    labels = [i.place_or_group for i in issues]
    assert not [label for label in labels if NOT_A_NAME.search(label)], labels


def test_the_quarters_known_campaign_ranks_at_the_top(issues: list[HotIssue]) -> None:
    # residents of 丽发新城 wrote again and again about a concrete mixing plant built beside their compound
    top = [i.place_or_group for i in issues[:5]]
    assert any("丽发新城" in place for place in top), [i.table_row() for i in issues[:5]]
    plant = next(i for i in issues[:5] if "丽发新城" in i.place_or_group)
    assert sum("搅拌" in row.title for row in plant.messages) >= 0.8 * len(plant.messages)


def test_a_message_belongs_to_one_issue_and_heat_falls_with_rank(issues: list[HotIssue]) -> None:
    ids = [row.message_id for issue in issues for row in issue.messages]
    assert len(ids) == len(set(ids))
    assert [i.heat for i in issues] == sorted((i.heat for i in issues), reverse=True)
