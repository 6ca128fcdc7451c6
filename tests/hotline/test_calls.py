"""Live calls in the database (SQLite and PostgreSQL): masked segments, the callback number, concurrent writers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.assist import refine_department
from hotline.calls import CallClosed, CallNotFound, CallStore, Segment, call_input, segments_of, segments_table
from hotline.errors import TranscriptError
from knowledge.db import open_engine
from monitor.cases import PastCase

from ..postgres import throwaway_schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def calls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CallStore]:
    if request.param == "sqlite":
        store = CallStore(open_engine(f"sqlite:///{tmp_path}/calls.db"))
        yield store
        store.close()
        return
    with throwaway_schema("calls") as engine:
        yield CallStore(engine)


def test_segments_are_stored_masked_and_the_callback_number_apart(calls: CallStore) -> None:
    call = calls.create()
    said = [Segment("市民", "我电话是幺三八零零一二三四五六"), Segment("坐席", "好的，已为您登记。")]
    assert calls.append(call.id, said, phone="13800123456") == 2
    stored = calls.segments(call.id)
    assert stored[0].text == "我电话是138****3456" and stored[1] == said[1]
    assert calls.get(call.id).phone == "13800123456"
    calls.append(call.id, [Segment("市民", "换个号码幺三九零零一二三四五六")], phone="13900123456")
    assert calls.get(call.id).phone == "13800123456"  # the first number given stays the callback number
    with calls.engine.connect() as conn:
        texts = " ".join(conn.execute(select(segments_table.c.text)).scalars())
    assert "幺三八零零" not in texts and "13900123456" not in texts


def test_a_closed_call_takes_no_more_segments(calls: CallStore) -> None:
    call = calls.create()
    calls.append(call.id, [Segment("", "低保怎么申请？")])
    closed = calls.finish(call.id)
    assert closed.closed and closed.closed_at is not None and closed.revision == 1
    assert calls.finish(call.id).closed_at == closed.closed_at  # closing again changes nothing
    with pytest.raises(CallClosed):
        calls.append(call.id, [Segment("", "还有一个问题")])


def test_unknown_and_impossible_call_ids_are_not_found(calls: CallStore) -> None:
    for call_id in ("a" * 32, "../../etc", "", "A" * 32):
        with pytest.raises(CallNotFound):
            calls.get(call_id)


def test_concurrent_writers_get_consecutive_places(calls: CallStore) -> None:
    call = calls.create()
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(5):
                calls.append(call.id, [Segment(f"spk{n}", f"第{n}路第{i}句")])
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(3)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert not errors
    assert calls.get(call.id).revision == 15
    assert sorted(s.text for s in calls.segments(call.id)) == sorted(
        f"第{n}路第{i}句" for n in range(3) for i in range(5)
    )
    with calls.engine.connect() as conn:
        seqs = list(conn.execute(select(segments_table.c.seq).where(segments_table.c.call_id == call.id)).scalars())
    assert sorted(seqs) == list(range(1, 16))


def test_an_older_result_never_replaces_a_newer_one(calls: CallStore) -> None:
    call = calls.create()
    calls.append(call.id, [Segment("", "低保怎么申请？"), Segment("", "需要什么材料？")])
    assert calls.save_result(call.id, 2, {"questions": ["new"]})
    assert not calls.save_result(call.id, 1, {"questions": ["old"]})
    stored = calls.get(call.id)
    assert stored.result == {"questions": ["new"]} and stored.result_revision == 2


def test_posted_pieces_in_every_style_become_segments() -> None:
    labelled = segments_of("坐席：您好，请问有什么可以帮您？\n市民：低保怎么申请？", 10_000)
    assert [(s.speaker, s.text) for s in labelled] == [
        ("坐席", "您好，请问有什么可以帮您？"),
        ("市民", "低保怎么申请？"),
    ]
    funasr = segments_of({"sentence_info": [{"text": "低保怎么申请？", "start": 10, "end": 900, "spk": 1}]}, 10_000)
    assert funasr == [Segment("spk1", "低保怎么申请？", 10, 900)]
    assert segments_of([{"mode": "2pass-online", "text": "低保怎"}], 10_000) == []
    assert segments_of('{"mode": "2pass-online", "text": "低保怎"}', 10_000) == []
    with pytest.raises(TranscriptError) as caught:
        segments_of([{"speaker": "A", "text": "低保\x1b怎么申请"}], 10_000)
    assert caught.value.status == 422 and caught.value.code == "control_characters"


def test_a_call_is_read_again_as_one_transcript() -> None:
    unlabelled = [Segment("", "您好，请问有什么可以帮您？"), Segment("", "低保怎么申请？")]
    assert call_input(unlabelled) == "您好，请问有什么可以帮您？\n低保怎么申请？"
    mixed = [Segment("坐席", "您好"), Segment("", "低保怎么申请？")]
    assert call_input(mixed) == [
        {"speaker": "坐席", "text": "您好", "start_ms": None, "end_ms": None},
        {"speaker": "", "text": "低保怎么申请？", "start_ms": None, "end_ms": None},
    ]


def _case(department: str, score: float) -> PastCase:
    return PastCase("m", "t", datetime(2026, 1, 1), "gist", department, None, score)


def test_past_cases_refine_the_department_when_the_closest_and_another_close_one_agree() -> None:
    table = "县住房和城乡建设局"
    agree = [_case("柳溪镇人民政府", 0.95), _case("县民政局", 0.93), _case("柳溪镇人民政府", 0.91)]
    assert refine_department(table, agree, 0.9) == ("柳溪镇人民政府", "similar_cases")
    assert refine_department(table, agree, 0.92) == (table, "category")  # the second one is not close enough
    not_closest = [_case("县民政局", 0.95), _case("柳溪镇人民政府", 0.93), _case("柳溪镇人民政府", 0.92)]
    assert refine_department(table, not_closest, 0.9) == (table, "category")
    far = [_case("柳溪镇人民政府", 0.85), _case("柳溪镇人民政府", 0.84)]  # unrelated texts score ~0.84
    assert refine_department(table, far, 0.9) == (table, "category")
    unsigned = [_case("未署名", 0.95), _case("未署名", 0.95)]
    assert refine_department(table, unsigned, 0.9) == (table, "category")
    assert refine_department(table, [], 0.9) == (table, "category")
