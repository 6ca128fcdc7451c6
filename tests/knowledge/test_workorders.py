"""Work orders on SQLite (embedded default) and PostgreSQL (production), through one contract."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from knowledge.db import open_engine
from knowledge.privacy import mask_personal_data
from knowledge.workorders import (
    WorkOrderKind,
    WorkOrderNotFound,
    WorkOrderStore,
    WorkOrderUnavailable,
    session_key,
    work_orders,
)

from ..postgres import throwaway_schema

# 2026-11-28 17:30 UTC is already 2026-11-29 01:30 in Beijing
LATE_EVENING_UTC = datetime(2026, 11, 28, 17, 30, tzinfo=UTC)


class Clock:
    """A settable clock, so numbering by date can be tested across midnight."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _postgres_store(clock: Clock) -> Iterator[WorkOrderStore]:
    with throwaway_schema("wo_test") as engine:
        store = WorkOrderStore(engine, clock)
        yield store
        store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 28, 2, 0, tzinfo=UTC))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[WorkOrderStore]:
    if request.param == "sqlite":
        sqlite = WorkOrderStore(open_engine(f"sqlite:///{tmp_path}/workorders.db"), clock)
        yield sqlite
        sqlite.close()
    else:
        yield from _postgres_store(clock)


def test_numbers_count_up_per_beijing_day(store: WorkOrderStore, clock: Clock) -> None:
    first = store.create(WorkOrderKind.HANDOFF, summary="转人工")
    second = store.create("complaint", what="补贴一直没发放")
    clock.now = LATE_EVENING_UTC
    next_day = store.create(WorkOrderKind.NO_ANSWER)
    assert [first.number, second.number, next_day.number] == ["GD20261128-0001", "GD20261128-0002", "GD20261129-0001"]


def test_create_then_get_round_trips_every_field(store: WorkOrderStore, clock: Clock) -> None:
    created = store.create(
        WorkOrderKind.COMPLAINT,
        sender_id="wx-openid-1",
        summary="补贴未发放",
        transcript="用户：补贴一直没发\n助手：请问发生在哪里？",
        what="补贴一直没发",
        where="青禾镇民政所",
        name="张先生",
        phone="13812345678",
        department="县民政局",
    )
    fetched = store.get(created.number)
    assert fetched == created
    assert fetched.kind is WorkOrderKind.COMPLAINT and fetched.status == "open"
    assert fetched.created_at == clock.now
    assert fetched.session == session_key("wx-openid-1") != "wx-openid-1"
    assert (fetched.where, fetched.name, fetched.department) == ("青禾镇民政所", "张先生", "县民政局")


def test_texts_are_masked_but_the_callback_phone_is_kept(store: WorkOrderStore) -> None:
    order = store.create(
        WorkOrderKind.COMPLAINT,
        transcript="用户：我电话13812345678，身份证110101199003071234，卡号6222021234567890123",
        what="打13812345678没人接",
        phone="13812345678",
    )
    stored = store.get(order.number)
    assert "13812345678" not in stored.transcript and "138****5678" in stored.transcript
    assert "110101199003071234" not in stored.transcript and "6222021234567890123" not in stored.transcript
    assert stored.what == "打138****5678没人接"
    assert stored.phone == "13812345678"


def test_list_returns_the_newest_first(store: WorkOrderStore) -> None:
    numbers = [store.create(WorkOrderKind.HANDOFF).number for _ in range(3)]
    assert [o.number for o in store.list(limit=2)] == numbers[::-1][:2]


def test_unknown_number_and_bad_arguments_are_rejected(store: WorkOrderStore) -> None:
    with pytest.raises(WorkOrderNotFound) as error:
        store.get("GD20000101-0001")
    assert error.value.status == 404
    with pytest.raises(ValueError):
        store.create("phone_call")
    with pytest.raises(ValueError):
        store.list(limit=0)


def test_open_creates_the_table_next_to_the_documents(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/kb.db"
    first = WorkOrderStore.open(url)
    number = first.create(WorkOrderKind.HANDOFF).number
    first.close()
    reopened = WorkOrderStore.open(url)
    assert [o.number for o in reopened.list()] == [number]
    reopened.close()


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("我的手机13812345678", "我的手机138****5678"),
        ("电话 138 1234 5678 或 +86 13912345678", "电话 138****5678 或 +86 139****5678"),
        ("身份证号110101199003071234", "身份证号110***********1234"),
        ("身份证11010119900307123X。", "身份证110***********123X。"),
        ("银行卡6222 0212 3456 7890", "银行卡************7890"),
        ("座机0631-5201188", "座机0631-***1188"),
        ("全角１３８１２３４５６７８", "全角138****5678"),
    ],
)
def test_personal_numbers_are_masked(raw: str, masked: str) -> None:
    assert mask_personal_data(raw) == masked


def test_ordinary_numbers_are_left_alone() -> None:
    plain = "工单GD20261128-0001，2023-06-19发布，最高30万元（300000元），拨打12345或12329，青人社发〔2023〕9号"
    assert mask_personal_data(plain) == plain


def test_a_failed_write_raises_without_leaking_the_phone(store: WorkOrderStore) -> None:
    work_orders.drop(store.engine)
    with pytest.raises(WorkOrderUnavailable) as error:
        store.create(WorkOrderKind.COMPLAINT, phone="13812345678", transcript="用户：13812345678")
    assert error.value.status == 503
    assert "13812345678" not in str(error.value) and error.value.__cause__ is None
