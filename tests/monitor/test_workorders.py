"""Work orders on SQLite (embedded default) and PostgreSQL (production), through one contract."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete

from knowledge.db import open_engine
from monitor.schema import work_orders
from monitor.workorders import (
    InvalidTransition,
    WorkOrderKind,
    WorkOrderNotFound,
    WorkOrderRequest,
    WorkOrderStatus,
    WorkOrderStore,
    WorkOrderUnavailable,
    idempotency_key,
    session_key,
)

from ..conftest import ROOT
from ..postgres import throwaway_schema

# 2026-11-28 17:30 UTC is already 2026-11-29 01:30 in Beijing
LATE_EVENING_UTC = datetime(2026, 11, 28, 17, 30, tzinfo=UTC)


class Clock:
    """A settable clock, so numbering by date can be tested across midnight."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 28, 2, 0, tzinfo=UTC))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[WorkOrderStore]:
    if request.param == "sqlite":
        sqlite = WorkOrderStore(open_engine(f"sqlite:///{tmp_path}/workorders.db"), clock)
        yield sqlite
        sqlite.close()
        return
    with throwaway_schema("wo_test") as engine:
        postgres = WorkOrderStore(engine, clock)
        yield postgres
        postgres.close()


def _new(kind: WorkOrderKind | str = WorkOrderKind.HANDOFF, **values: str) -> WorkOrderRequest:
    return WorkOrderRequest.of(kind, **values)


def test_numbers_count_up_per_beijing_day(store: WorkOrderStore, clock: Clock) -> None:
    first = store.create(_new(summary="转人工"))
    second = store.create(_new("complaint", what="补贴一直没发放"))
    clock.now = LATE_EVENING_UTC
    next_day = store.create(_new(WorkOrderKind.NO_ANSWER))
    assert [first.number, second.number, next_day.number] == ["GD20261128-0001", "GD20261128-0002", "GD20261129-0001"]


def test_create_returns_what_get_reads_back(store: WorkOrderStore, clock: Clock) -> None:
    created = store.create(
        _new(
            WorkOrderKind.COMPLAINT, sender_id="wx-openid-1", summary="补贴未发放",
            transcript="用户：补贴一直没发\n助手：请问发生在哪里？", what="补贴一直没发", where="青禾镇民政所",
            name="张先生", phone="13812345678", department="县民政局",
        )
    )
    fetched = store.get(created.number)
    assert fetched == created
    assert fetched.kind is WorkOrderKind.COMPLAINT and fetched.status is WorkOrderStatus.OPEN
    assert fetched.created_at == clock.now
    assert fetched.session == session_key("wx-openid-1") != "wx-openid-1"
    assert (fetched.where, fetched.name, fetched.department) == ("青禾镇民政所", "张先生", "县民政局")


def test_a_hotline_draft_keeps_its_classification(store: WorkOrderStore) -> None:
    draft = store.create(
        _new(
            WorkOrderKind.HOTLINE, status="draft", phone="13900001111", appeal_type="投诉", category="物业管理",
            where="青禾镇幸福小区", summary="物业乱收费", suggested_department="县住房和城乡建设局",
        )
    )
    stored = store.get(draft.number)
    assert stored.status is WorkOrderStatus.DRAFT and stored.kind is WorkOrderKind.HOTLINE
    labels = (stored.appeal_type, stored.category, stored.suggested_department)
    assert labels == ("投诉", "物业管理", "县住房和城乡建设局")
    assert store.list(status=WorkOrderStatus.DRAFT) == [stored] and store.list(status="open") == []


def test_texts_are_masked_but_the_callback_phone_is_kept(store: WorkOrderStore) -> None:
    order = store.create(
        _new(
            WorkOrderKind.COMPLAINT,
            transcript="用户：我电话13812345678，身份证110101199003071234，卡号6222021234567890123",
            what="打13812345678没人接",
            phone="13812345678",
        )
    )
    stored = store.get(order.number)
    assert "13812345678" not in stored.transcript and "138****5678" in stored.transcript
    assert "110101199003071234" not in stored.transcript and "6222021234567890123" not in stored.transcript
    assert stored.what == "打138****5678没人接"
    assert stored.phone == "13812345678"


def test_the_same_idempotency_key_returns_the_first_order(store: WorkOrderStore) -> None:
    key = idempotency_key("wx-openid-1", "handoff", "message-17")
    first = store.create(_new(sender_id="wx-openid-1", key=key, summary="第一次"))
    retried = store.create(_new(sender_id="wx-openid-1", key=key, summary="重试"))
    other = store.create(_new(sender_id="wx-openid-1", key=idempotency_key("wx-openid-1", "handoff", "message-18")))
    assert retried == first and retried.summary == "第一次"
    assert other.number != first.number
    assert len(store.list()) == 2


def test_numbers_are_not_reused_after_a_delete(store: WorkOrderStore) -> None:
    store.create(_new())
    second = store.create(_new())
    with store.engine.begin() as conn:  # an administrator removes the newest order
        conn.execute(delete(work_orders).where(work_orders.c.number == second.number))
    third = store.create(_new())
    assert third.number == "GD20261128-0003"


def test_concurrent_writers_get_distinct_consecutive_numbers(store: WorkOrderStore) -> None:
    numbers: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def file_ten() -> None:
        start.wait()
        try:
            numbers.extend(store.create(_new(summary="并发")).number for _ in range(10))
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    writers = [threading.Thread(target=file_ten) for _ in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert errors == []
    assert sorted(numbers) == [f"GD20261128-{n:04d}" for n in range(1, 41)]


WRITER = """
import sys
from datetime import UTC, datetime
from knowledge.db import open_engine
from monitor.workorders import WorkOrderKind, WorkOrderRequest, WorkOrderStore
url, schema = sys.argv[1], sys.argv[2]
engine = open_engine(url)
if schema:
    engine = engine.execution_options(schema_translate_map={None: schema})
store = WorkOrderStore(engine, clock=lambda: datetime(2026, 11, 28, 2, 0, tzinfo=UTC))
print(" ".join(store.create(WorkOrderRequest.of(WorkOrderKind.HANDOFF)).number for _ in range(10)))
"""


def test_concurrent_processes_get_distinct_consecutive_numbers(store: WorkOrderStore) -> None:
    store.ensure()  # the schema exists before the writers start, as after make setup
    schema = (store.engine.get_execution_options().get("schema_translate_map") or {}).get(None) or ""
    url = store.engine.url.render_as_string(hide_password=False)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, url, schema], cwd=ROOT, stdout=subprocess.PIPE)
        for _ in range(3)
    ]
    numbers = [number for writer in writers for number in writer.communicate(timeout=120)[0].decode().split()]
    assert all(writer.returncode == 0 for writer in writers)
    assert sorted(numbers) == [f"GD20261128-{n:04d}" for n in range(1, 31)]


def test_status_follows_the_lifecycle(store: WorkOrderStore) -> None:
    order = store.create(_new())
    assert store.transition(order.number, WorkOrderStatus.ASSIGNED).status is WorkOrderStatus.ASSIGNED
    assert store.transition(order.number, "replied").status is WorkOrderStatus.REPLIED
    with pytest.raises(InvalidTransition) as refused:
        store.transition(order.number, WorkOrderStatus.DRAFT)
    assert refused.value.status == 409
    assert store.transition(order.number, WorkOrderStatus.CLOSED).status is WorkOrderStatus.CLOSED
    with pytest.raises(InvalidTransition):
        store.transition(order.number, WorkOrderStatus.OPEN)  # closed is final
    assert store.get(order.number).status is WorkOrderStatus.CLOSED


def test_list_returns_the_newest_first(store: WorkOrderStore) -> None:
    numbers = [store.create(_new()).number for _ in range(3)]
    assert [o.number for o in store.list(limit=2)] == numbers[::-1][:2]


def test_unknown_number_and_bad_arguments_are_rejected(store: WorkOrderStore) -> None:
    with pytest.raises(WorkOrderNotFound) as error:
        store.get("GD20000101-0001")
    assert error.value.status == 404
    with pytest.raises(ValueError):
        _new("phone_call")
    with pytest.raises(ValueError):
        _new(status="closed")  # an order starts open, or as a hotline draft
    with pytest.raises(ValueError):
        _new(colour="red")
    with pytest.raises(ValueError):
        store.list(limit=0)


def test_open_creates_the_tables_next_to_the_documents(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/kb.db"
    first = WorkOrderStore.open(url)
    number = first.create(_new()).number
    first.close()
    reopened = WorkOrderStore.open(url)
    assert [o.number for o in reopened.list()] == [number]
    reopened.close()


def test_a_late_order_is_announced_once(store: WorkOrderStore) -> None:
    request = _new(sender_id="wx-openid-3", key="k-late")
    order = store.create(request, late=True)
    assert store.pending_notices() == {session_key("wx-openid-3"): [order.number]}
    assert store.claim_notice(order.number) and not store.claim_notice(order.number)
    assert store.pending_notices() == {}


def test_a_failed_write_raises_without_leaking_the_phone(store: WorkOrderStore) -> None:
    store.ensure()
    work_orders.drop(store.engine)
    with pytest.raises(WorkOrderUnavailable) as error:
        store.create(_new(WorkOrderKind.COMPLAINT, phone="13812345678", transcript="用户：13812345678"))
    assert error.value.status == 503
    assert "13812345678" not in str(error.value) and error.value.__cause__ is None
