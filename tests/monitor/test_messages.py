"""Importing citizen messages: every timestamp form of the real exports, bad rows reported, re-import adds nothing,
personal data masked, each text embedded once; SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from collections import defaultdict
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
from monitor.messages import SAME_MESSAGE_WINDOW as WINDOW
from monitor.messages import MessageStore, import_messages, row_to_message
from monitor.report_sources import Period

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
    # five residents send one text, an hour apart (the same text within minutes would be one message twice)
    title, detail = "A7县星沙中茂城拖欠购房资金不退还", "开发商拖欠退款"
    rows = [[str(i), f"U{i}", title, f"2019/7/1 1{i}:00", detail, 0, 0] for i in range(5)]
    path = write_csv(tmp_path / "campaign.csv", rows)
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


def test_the_same_message_in_two_exports_under_two_user_ids_counts_once_and_keeps_its_reply(
    store: MessageStore, tmp_path: Path, embedder: Embedder
) -> None:
    # as the real exports hold 双凫铺碎石场: A00092026 at 14:59:04 in one, UU008850 at 14:54:51 in the other
    title, detail = "A8县双凫铺碎石场不顾反对强行开建", "村民多次反映，碎石场仍在施工"
    platform = write_csv(
        tmp_path / "messages_2019.csv",
        [
            ["241", "A00092026", title, "2019/9/24 14:59:04", detail, 5, 0],
            ["242", "A00092027", title, "2019/9/24 14:59:04", detail, 0, 0],  # the same export repeats it
            ["243", "A00092028", title, "2019/9/26 9:00:00", detail, 0, 0],  # a neighbour copies it two days later
        ],
    )
    header = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "答复意见", "答复时间"]
    reply = ["网友：您好！经核查，该碎石场已停工整改。", "2019/10/8 9:00"]
    replies = write_csv(
        tmp_path / "replies.csv", [["8850", "UU008850", title, "2019/9/24 14:54:51", detail, *reply]], header
    )
    first = import_messages(store, platform, embedder)
    second = import_messages(store, replies, embedder)
    messages, _ = store.load()
    assert (first.added, first.duplicates, second.added, second.duplicates) == (2, 1, 0, 1)
    assert sorted(m.external_id for m in messages) == ["241", "243"]
    original = next(m for m in messages if m.external_id == "241")
    assert original.reply == "网友：您好！经核查，该碎石场已停工整改。" and original.reply_at == datetime(
        2019, 10, 8, 9
    )
    assert set(store.reply_vectors([m.id for m in messages])) == {original.id}


def test_a_copy_that_comes_first_with_its_reply_keeps_it_when_the_platform_copy_follows(
    store: MessageStore, tmp_path: Path, embedder: Embedder
) -> None:
    header = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "答复意见", "答复时间"]
    row = ["A7县龙塘安置小区KTV噪音扰民严重", "2019/5/9 00:09:41", "每晚噪音到凌晨两点"]
    replied = [["2570", "UU0082228", *row, "网友：您好！已责令整改。", "2019/5/20 9:00"]]
    import_messages(store, write_csv(tmp_path / "replies.csv", replied, header), embedder)
    report = import_messages(store, write_csv(tmp_path / "platform.csv", [["4001", "A00094487", *row, 0, 0]]), embedder)
    [message], _ = store.load()
    assert (report.added, report.duplicates) == (0, 1) and message.reply == "网友：您好！已责令整改。"


class HashEmbedder:
    """Vectors from a text's hash: what a duplicate check needs (something to store), not what it tests."""

    name, dim = "hash", 8

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)

    def embed_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=self.dim) for t in texts]
        vectors = np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_the_real_exports_share_35_messages_that_count_once_with_their_replies(tmp_path: Path) -> None:
    # 7 of them under the same user id in both exports, 28 under two ids (UU008850 for A00092026, 4 minutes apart)
    store = MessageStore.open(f"sqlite:///{tmp_path}/both.db")
    platform = import_messages(store, shared_file("tipdm", "messages_2019.xlsx"), HashEmbedder())
    replies = import_messages(store, shared_file("tipdm", "messages_with_replies.xlsx"), HashEmbedder())
    assert replies.added + replies.duplicates + replies.already_imported == 2816 and replies.duplicates >= 35
    assert store.count() == platform.added + replies.added
    year = Period.parse("2019-01-01", "2019-12-31")
    messages, _ = store.load(year.start, year.end)
    times: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for m in messages:
        times[m.title, m.detail].append(m.at)
    [stone] = [m for m in messages if m.title.startswith("A8县双凫铺碎石场不顾反对强行开建")]
    assert stone.source == "messages_2019" and stone.reply  # the platform's copy, with the other export's reply
    assert sum(1 for m in messages if m.source == "messages_2019" and m.reply) == 35
    # messages_2019.xlsx itself repeats 19 texts to the second under a second user id: each is there once
    close = [k for k, at in times.items() for a, b in zip(sorted(at), sorted(at)[1:], strict=False) if b - a < WINDOW]
    assert close == []
    # written on 7/21 and again on 8/1, each time exported under two user ids: two messages, not four
    stall = [
        at for (title, _), at in times.items() if title.startswith("A5区劳动东路魅力之城小区一楼的夜宵摊严重污染附近")
    ]
    assert sum(len(at) for at in stall) == 2
    store.close()
