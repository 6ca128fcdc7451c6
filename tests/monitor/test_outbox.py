"""The work-order outbox: an order the database cannot take is kept on disk and lands with its number later."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from knowledge.db import open_engine
from monitor.outbox import WorkOrderDesk
from monitor.schema import work_orders
from monitor.workorders import WorkOrderKind, WorkOrderRequest, WorkOrderStore

from ..postgres import throwaway_schema
from .conftest import Forwarder, wait_until


def _complaint(sender: str = "wx-openid-5", key: str = "k-1") -> WorkOrderRequest:
    return WorkOrderRequest.of(
        WorkOrderKind.COMPLAINT, sender_id=sender, key=key, what="路灯坏了一个月，电话13812345678", phone="13812345678"
    )


@pytest.mark.postgres
def test_an_order_filed_while_the_database_is_down_lands_and_its_number_is_told_once(
    tmp_path: Path, forwarder: Forwarder
) -> None:
    with throwaway_schema("outbox") as direct:
        translate = direct.get_execution_options()["schema_translate_map"]
        store = WorkOrderStore(open_engine(forwarder.url).execution_options(schema_translate_map=translate))
        desk = WorkOrderDesk(store, tmp_path / "outbox.jsonl", replay_interval_s=0.05)
        try:
            filing = desk.file(_complaint())
            assert filing.order is None and filing.kept and desk.outbox.pending() == 1
            outbox = "".join(p.read_text("utf-8") for p in desk.outbox.files())
            assert "路灯坏了一个月，电话138****5678" in outbox  # texts masked on disk too; the callback phone kept
            assert not desk.has_notices("wx-openid-5")

            forwarder.open()  # the database is back
            assert wait_until(lambda: desk.has_notices("wx-openid-5"))
            [order] = store.list()
            assert order.phone == "13812345678" and order.kind is WorkOrderKind.COMPLAINT
            assert desk.notices("wx-openid-5") == [order.number]
            assert desk.notices("wx-openid-5") == [] and not desk.has_notices("wx-openid-5")
            assert desk.outbox.pending() == 0
        finally:
            desk.close()
            store.close()


def test_opening_the_store_while_its_database_is_down_does_not_fail(forwarder: Forwarder) -> None:
    store = WorkOrderStore.open(forwarder.url)  # the action server starts; orders will wait in the outbox
    store.close()


def test_a_retried_order_already_stored_is_not_filed_twice_from_the_outbox(tmp_path: Path) -> None:
    """The commit went through but the caller saw an error: the outbox copy finds the stored order."""
    store = WorkOrderStore.open(f"sqlite:///{tmp_path}/wo.db")
    stored = store.create(_complaint())
    desk = WorkOrderDesk(store, tmp_path / "outbox.jsonl", replay_interval_s=0.05)
    desk.outbox.append([_complaint().record()])
    assert wait_until(lambda: desk.has_notices("wx-openid-5"))
    assert [o.number for o in store.list()] == [stored.number]
    assert desk.notices("wx-openid-5") == [stored.number]  # the citizen was not told it: now they are
    desk.close()


def test_every_process_outbox_is_replayed_and_a_corrupt_line_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = WorkOrderStore.open(f"sqlite:///{tmp_path}/wo.db")
    crashed = tmp_path / "outbox.4242.jsonl"  # left by an action server that died during an outage
    lines = [json.dumps(_complaint(key="k-a").record()), '{"kind": "complaint", "sess', json.dumps({"kind": "x"})]
    lines.append(json.dumps(_complaint(sender="wx-openid-6", key="k-b").record()))
    crashed.write_text("\n".join(lines) + "\n", "utf-8")
    with caplog.at_level(logging.ERROR, logger="monitor.spool"):
        desk = WorkOrderDesk(store, tmp_path / "outbox.jsonl", replay_interval_s=0.05)
        assert wait_until(lambda: len(store.list()) == 2)
        desk.close()
    assert f"{crashed}:2: corrupt spool line skipped" in caplog.text
    assert f"{crashed}:3: corrupt spool line skipped" in caplog.text
    assert desk.outbox.files() == [] and len(desk.outbox.corrupt.read_text("utf-8").splitlines()) == 2


def test_orders_wait_while_the_table_is_gone_and_land_in_order_when_it_is_back(tmp_path: Path) -> None:
    store = WorkOrderStore.open(f"sqlite:///{tmp_path}/wo.db")
    work_orders.drop(store.engine)
    desk = WorkOrderDesk(store, tmp_path / "outbox.jsonl", replay_interval_s=0.05)
    assert all(desk.file(_complaint(key=f"k-{i}")).kept for i in range(3))
    work_orders.create(store.engine)
    assert wait_until(lambda: len(store.list()) == 3)
    desk.close()
    assert sorted(o.number[-4:] for o in store.list()) == ["0001", "0002", "0003"]
