"""Bursts and rising topics over the real 2019 messages (read without embedding: topics are words and places)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from monitor.bursts import detect_bursts, message_topics, rising_topics
from monitor.exports import read_rows
from monitor.messages import Message, row_to_message

from ..conftest import shared_file

QUIET_START, QUIET_END = datetime(2019, 6, 1), datetime(2019, 7, 1)
SURGE_DAY = datetime(2019, 6, 17, 9)


@pytest.fixture(scope="module")
def real_messages() -> list[Message]:
    _, rows = read_rows(shared_file("tipdm", "messages_2019.xlsx"))
    return [m for number, row in rows if (m := row_to_message("real", row, number)[0]) is not None]


def surge(count: int = 6) -> list[Message]:
    """A compound's lift failures reported by different residents over two days."""
    titles = ["A3区桃花岭雅园小区电梯频繁故障困人", "桃花岭雅园小区电梯又坏了，老人被困",
              "A3区桃花岭雅园电梯安全隐患谁来管"]
    return [
        Message("test", f"surge-{i}", f"U-surge-{i}", SURGE_DAY + timedelta(hours=7 * i), titles[i % 3],
                "小区电梯多次停运困人，物业不作为")
        for i in range(count)
    ]


def test_a_surge_injected_into_a_quiet_period_is_flagged_within_two_days(real_messages: list[Message]) -> None:
    history = [m for m in real_messages if QUIET_START - timedelta(days=60) <= m.at < QUIET_END]
    before = detect_bursts(history, QUIET_START, QUIET_END)
    assert not any("桃花岭" in b.topic for b in before)
    bursts = detect_bursts(history + surge(), QUIET_START, QUIET_END)
    flagged = [b for b in bursts if "桃花岭" in b.topic or b.topic == "电梯"]
    assert flagged, [(b.topic, b.detected_on) for b in bursts]
    first = min(flagged, key=lambda b: b.detected_on)
    assert first.detected_on <= (SURGE_DAY + timedelta(days=1)).date()
    assert first.new and first.z >= 3 and {f"surge-{i}" for i in range(3)} <= set(first.message_ids)


def test_a_trickle_is_not_a_burst() -> None:
    # one message every four days about the same road: steady, never surprising
    steady = [Message("test", f"s{i}", f"U{i}", datetime(2019, 3, 1) + timedelta(days=4 * i), "A7县凉塘路路灯不亮", "")
              for i in range(30)]
    assert detect_bursts(steady, datetime(2019, 5, 1), datetime(2019, 7, 1)) == []


def test_a_new_topic_rises_against_the_previous_periods(real_messages: list[Message]) -> None:
    history = [m for m in real_messages if datetime(2019, 3, 1) <= m.at < QUIET_END] + surge()
    rising = rising_topics(history, QUIET_START, QUIET_END)
    lift = next(r for r in rising if "桃花岭" in r.topic)
    assert lift.new and lift.count == 6 and lift.previous_mean == 0
    assert all(r.z >= 3 for r in rising)


def test_topics_are_places_and_content_words_not_boilerplate() -> None:
    topics = message_topics(Message("t", "1", "U", SURGE_DAY, "反映A3区桃花岭雅园小区电梯故障问题", ""))
    assert {"桃花岭雅园小区", "电梯"} <= topics and not topics & {"问题", "反映", "A3区"}


@pytest.mark.parametrize("title", ["关于A3区相关部门工作人员服务态度的意见", "咨询A7县办理手续需要哪些材料和文件"])
def test_words_every_message_uses_are_no_topic(title: str) -> None:
    generic = {"相关部门", "工作人员", "服务", "意见", "手续", "材料", "文件"}
    topics = message_topics(Message("t", "1", "U", SURGE_DAY, title, ""))
    assert not topics & generic, topics
