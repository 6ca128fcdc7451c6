"""Importing citizen messages: every timestamp form of the real exports, bad rows reported, re-import adds nothing,
personal data masked, each text embedded once; SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from openpyxl import Workbook

from knowledge.embedding import Embedder
from knowledge.errors import IngestError
from monitor.cli import main as cli_main
from monitor.exports import parse_time, read_rows
from monitor.messages import MessageStore, import_messages, row_to_message

from ..conftest import shared_file
from ..postgres import throwaway_schema

HEADER = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "点赞数", "反对数"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MessageStore]:
    if request.param == "sqlite":
        opened = MessageStore.open(f"sqlite:///{tmp_path}/messages.db")
        yield opened
        opened.close()
        return
    with throwaway_schema("messages_test") as engine:
        yield MessageStore(engine)


def write_csv(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2019/2/28 11:25:05", datetime(2019, 2, 28, 11, 25, 5)),
        ("2019/06/20 20:38:47", datetime(2019, 6, 20, 20, 38, 47)),
        ("2019/9/17 4:25:00", datetime(2019, 9, 17, 4, 25)),
        ("2018/4/24", datetime(2018, 4, 24)),
        (datetime(2019, 8, 1, 0, 0), datetime(2019, 8, 1)),
        ("2019-05-09 09:05", datetime(2019, 5, 9, 9, 5)),
        ("2019年5月9日", datetime(2019, 5, 9)),
        (43586.5, datetime(2019, 5, 1, 12)),
    ],
)
def test_every_timestamp_form_of_the_exports_is_read(cell: object, expected: datetime) -> None:
    assert parse_time(cell) == expected


def test_real_exports_convert_without_a_bad_row() -> None:
    for name, rows, replies in (("messages_2019.xlsx", 4326, 0), ("messages_with_replies.xlsx", 2816, 2816)):
        total, cells = read_rows(shared_file("tipdm", name))
        converted = [row_to_message("real", row, number) for number, row in cells]
        assert total == rows and len(converted) == rows
        assert [bad for _, problems in converted for bad in problems] == []
        messages = [m for m, _ in converted if m is not None]
        assert sum(1 for m in messages if m.reply and m.reply_at) == replies
        assert all(m.title and m.at.year >= 2010 for m in messages)


def test_bad_rows_are_reported_with_row_and_reason_and_the_rest_imported(
    store: MessageStore, tmp_path: Path, embedder: Embedder
) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        [
            ["1", "U1", "A3区某小区停水", "2019/2/28 11:25:05", "停水三天", "3", "0"],
            ["2", "U2", "日期不存在", "2019/2/30", "详情", "0", "0"],
            ["", "U3", "没有编号", "2019/3/1", "详情", "0", "0"],
            ["4", "U4", "点赞数错误", "2019/3/1", "详情", "很多", "0"],
            ["5", "U5", "", "2019/3/1", "", "0", "0"],
            ["1", "U9", "同一编号不同内容", "2019/3/2", "详情", "0", "0"],
            ["7", "U7", "时间乱写", "昨天下午", "详情", "0", "0"],
        ],
    )
    report = import_messages(store, path, embedder)
    assert report.added == 1 and store.count() == 1
    assert [(b.row, b.skipped) for b in report.bad_rows] == [
        (3, True),
        (4, True),
        (5, True),
        (6, True),
        (7, True),
        (8, True),
    ]
    reasons = " ".join(b.reason for b in report.bad_rows)
    for expected in ("2019/2/30", "缺少留言编号", "点赞数", "都为空", "重复", "昨天下午"):
        assert expected in reasons


def test_reimporting_adds_nothing_and_a_copied_message_counts_as_duplicate(
    store: MessageStore, tmp_path: Path, embedder: Embedder
) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append([188006, "A000102948", "A3区一米阳光婚纱摄影是否合法纳税", "2019/2/28 11:25:05", "\n\t\t影楼", 0, 0])
    sheet.append([188007, "A00074795", "咨询A6区道路命名规划", datetime(2019, 2, 14, 20), "何时转为正式成果", 1, 0])
    book.save(tmp_path / "export.xlsx")
    first = import_messages(store, tmp_path / "export.xlsx", embedder)
    again = import_messages(store, tmp_path / "export.xlsx", embedder)
    assert (first.added, again.added, again.already_imported, again.embedded) == (2, 0, 2, 0)
    copy = write_csv(
        tmp_path / "mailbox.csv",
        [["m-1", "A00074795", "咨询A6区道路命名规划", "2019/2/14 20:00", "何时转为正式成果", 0, 0]],
    )
    report = import_messages(store, copy, embedder)
    assert (report.added, report.duplicates, store.count()) == (0, 1, 2)


def test_personal_data_is_masked_before_it_is_stored(store: MessageStore, tmp_path: Path, embedder: Embedder) -> None:
    path = write_csv(
        tmp_path / "export.csv",
        [
            [
                "9",
                "13812345678",
                "请联系我 13812345678",
                "2019/5/1 9:00",
                "身份证 430102199001011234，卡号 6222021234567890123",
                0,
                0,
            ],
        ],
    )
    import_messages(store, path, embedder)
    [message], vectors = store.load()
    stored = f"{message.user} {message.title} {message.detail}"
    for secret in ("13812345678", "430102199001011234", "6222021234567890123"):
        assert secret not in stored
    assert "138****5678" in message.title and vectors.shape == (1, embedder.dim)


def test_identical_texts_are_embedded_once(store: MessageStore, tmp_path: Path, embedder: Embedder) -> None:
    text = ["A7县星沙中茂城拖欠购房资金不退还", "2019/7/1 10:00", "开发商拖欠退款", 0, 0]
    path = write_csv(tmp_path / "campaign.csv", [[str(i), f"U{i}", *text] for i in range(5)])
    report = import_messages(store, path, embedder)
    messages, vectors = store.load()
    assert (report.added, report.embedded, report.reused_vectors) == (5, 1, 4)
    assert np.allclose(vectors, vectors[0])


def test_cli_import_prints_the_summary_and_a_missing_column_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    good = write_csv(tmp_path / "good.csv", [["1", "U1", "A3区某小区停水", "2019/2/28 11:25:05", "停水三天", 0, 0]])
    bad = write_csv(tmp_path / "bad.csv", [["1", "x"]], header=["编号", "内容"])
    assert cli_main(["import", str(good), str(bad), "--url", url]) == 2
    out, err = capsys.readouterr()
    assert "新增 1" in out and "缺少列" in err and "留言时间" in err
    with pytest.raises(IngestError):
        read_rows(tmp_path / "missing.xlsx")


def test_a_message_exported_again_with_its_reply_gets_the_reply(
    store: MessageStore, tmp_path: Path, embedder: Embedder
) -> None:
    row = ["A00074795", "A6区道路命名规划何时公示", "2019/2/14 20:00", "希望加快完成路名规划"]
    import_messages(store, write_csv(tmp_path / "platform.csv", [["188007", *row, 0, 0]]), embedder)
    header = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "答复意见", "答复时间"]
    reply = ["网友：您好！规划已于3月公示。", "2019/3/1 9:00"]
    replies = write_csv(tmp_path / "replies.csv", [["2554", *row, *reply]], header)
    report = import_messages(store, replies, embedder)
    again = import_messages(store, replies, embedder)
    [message], _ = store.load()
    assert (report.duplicates, again.embedded, store.count()) == (1, 0, 1)
    assert message.reply == "网友：您好！规划已于3月公示。" and message.reply_at == datetime(2019, 3, 1, 9)
    assert set(store.reply_vectors([message.id])) == {message.id}


def test_a_reply_repeated_word_for_word_is_embedded_once(
    store: MessageStore, tmp_path: Path, embedder: Embedder
) -> None:
    header = [*HEADER, "答复意见", "答复时间"]
    form = "网友：您好！您反映的问题已转交相关部门办理，感谢您的关注。"
    rows = [
        ["31", "U1", "A3区某小区停水三天", "2019/2/28 11:25:05", "至今没有恢复供水", 0, 0, form, "2019/3/4 9:00"],
        ["32", "U2", "A5区某路段路灯不亮", "2019/3/1 20:00:00", "晚上出行不安全", 0, 0, form, "2019/3/5 9:00"],
    ]
    report = import_messages(store, write_csv(tmp_path / "replies.csv", rows, header), embedder)
    messages, _ = store.load()
    replies = store.reply_vectors([m.id for m in messages])
    assert (report.added, report.embedded) == (2, 3)  # two message texts, one reply text
    assert len(replies) == 2 and np.allclose(*replies.values())
