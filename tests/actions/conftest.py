"""Fixtures for action tests: the sample knowledge base (built once per session), work orders, the domain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge.base import KnowledgeBase
from knowledge.embedding import Embedder
from knowledge.provider import KnowledgeProvider
from knowledge.settings import Settings
from monitor.outbox import WorkOrderDesk
from monitor.workorders import WorkOrderStore

from ..conftest import ROOT, SAMPLE_DIR


def sample_settings(directory: Path) -> Settings:
    settings = Settings()
    settings.store.url = f"sqlite:///{directory}/kb.db"
    settings.index.dir = directory / "index"
    return settings


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sample-kb")


@pytest.fixture(scope="session")
def sample_kb(sample_dir: Path, embedder: Embedder) -> Iterator[KnowledgeBase]:
    """The 青禾县 sample knowledge base with the real model and index; read-only for the tests."""
    kb = KnowledgeBase.open(sample_settings(sample_dir), embedder)
    report = kb.ingest([SAMPLE_DIR])
    assert not report.errors and report.count("created") == 35
    yield kb
    kb.close()


@pytest.fixture(scope="session")
def knowledge(sample_kb: KnowledgeBase) -> KnowledgeProvider:
    return KnowledgeProvider(lambda: sample_kb)


@pytest.fixture
def work_orders(tmp_path: Path) -> Iterator[WorkOrderStore]:
    store = WorkOrderStore.open(f"sqlite:///{tmp_path}/workorders.db")
    yield store
    store.close()


@pytest.fixture
def desk(work_orders: WorkOrderStore, tmp_path: Path) -> Iterator[WorkOrderDesk]:
    """The work-order desk the actions file through, its outbox in tmp_path, replaying every 50 ms."""
    filing = WorkOrderDesk(work_orders, tmp_path / "outbox.jsonl", replay_interval_s=0.05)
    yield filing
    filing.close()


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """bot/domain.yml as Rasa sends it to the action server."""
    return yaml.safe_load((ROOT / "bot" / "domain.yml").read_text(encoding="utf-8"))
