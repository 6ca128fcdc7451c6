"""The conversation log: masked rows on SQLite and PostgreSQL; a database outage loses nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.log import ConversationLog, LogWriter, Turn, hash_user

from ..postgres import throwaway_schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def conversation_log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConversationLog]:
    if request.param == "sqlite":
        store = ConversationLog.open(f"sqlite:///{tmp_path}/log.db")
        yield store
        store.close()
        return
    with throwaway_schema("log_test") as engine:
        store = ConversationLog(engine)
        yield store
        store.close()


def _turn(question: str = "城乡居民医保每年交多少钱", **fields: object) -> Turn:
    return Turn(channel="web", user_hash=hash_user("salt", "web", "citizen-1"), question=question, **fields)  # type: ignore[arg-type]


def test_turn_is_stored_with_personal_data_masked(conversation_log: ConversationLog) -> None:
    turn = _turn("我的电话13812345678，身份证110101199003071234，卡号6222020200112233445，低保怎么申请", answered=True,
                 cited_doc_ids=("qh-guide-minimum-living-application",), confidence=0.71, intent="ask_policy")
    assert conversation_log.write(turn)
    row = conversation_log.get(turn.id)
    assert row is not None
    assert "138****5678" in row["question"] and "13812345678" not in row["question"]
    assert "110101199003071234" not in row["question"] and "6222020200112233445" not in row["question"]
    assert json.loads(row["cited_doc_ids"]) == ["qh-guide-minimum-living-application"]
    assert row["answered"] is True and row["intent"] == "ask_policy"


def test_user_id_is_only_stored_as_a_salted_hash(conversation_log: ConversationLog) -> None:
    conversation_log.write(_turn())
    row = conversation_log.recent(1)[0]
    assert "citizen-1" not in json.dumps(row, default=str)
    assert row["user_hash"] == hash_user("salt", "web", "citizen-1") != hash_user("other", "web", "citizen-1")


def test_same_channel_message_is_logged_once(conversation_log: ConversationLog) -> None:
    assert conversation_log.write(_turn(turn_key="wechat:msg-1"))
    assert not conversation_log.write(_turn(turn_key="wechat:msg-1"))
    assert conversation_log.count() == 1


def test_feedback_and_handoff_update_the_turn(conversation_log: ConversationLog) -> None:
    turn = _turn()
    conversation_log.write(turn)
    assert conversation_log.set_feedback(turn.id, "negative") and conversation_log.set_handoff(turn.id)
    row = conversation_log.get(turn.id)
    assert row is not None and row["feedback"] == "negative" and row["handoff"] is True
    assert not conversation_log.set_feedback("no-such-turn", "positive")


def test_writer_spools_during_an_outage_and_replays_on_restart(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    spool = tmp_path / "spool.jsonl"
    broken = ConversationLog.open(f"sqlite:///{db}")
    broken.engine.dispose()
    db.unlink()
    db.mkdir()  # the database path is now a directory: every write fails
    writer = LogWriter(broken, spool, retries=2, backoff_s=0.01)
    turns = [_turn(f"问题{i} 电话13912345678") for i in range(3)]
    for turn in turns:
        writer.record(turn)
    assert writer.flush(10)
    writer.close()
    spooled = spool.read_text("utf-8")
    assert spooled.count("\n") == 3 and "13912345678" not in spooled  # kept, and masked
    db.rmdir()
    healthy = ConversationLog.open(f"sqlite:///{db}")
    LogWriter(healthy, spool).close()
    assert healthy.count() == 3 and not spool.exists()
    assert {r["id"] for r in healthy.recent(10)} == {t.id for t in turns}


def test_writer_returns_at_once_and_writes_in_order(tmp_path: Path) -> None:
    store = ConversationLog.open(f"sqlite:///{tmp_path}/log.db")
    writer = LogWriter(store, tmp_path / "spool.jsonl")
    turn = _turn()
    writer.record(turn)
    writer.feedback(turn.id, "positive")
    assert writer.flush(10)
    row = store.get(turn.id)
    assert row is not None and row["feedback"] == "positive"
    writer.close()
