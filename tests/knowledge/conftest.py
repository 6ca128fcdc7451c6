"""Fixtures for knowledge tests: settings pointing into tmp_path and a knowledge base over small documents."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.embedding import Embedder
from knowledge.settings import Settings

from ..conftest import copy_sample
from .samples import SMALL_SET, make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def kb(settings: Settings, embedder: Embedder) -> Iterator[KnowledgeBase]:
    """A knowledge base on SQLite and FAISS under tmp_path, holding the small document set."""
    base = KnowledgeBase.open(settings, embedder)
    for doc in SMALL_SET:
        base.upsert(doc)
    yield base
    base.close()


@pytest.fixture(scope="session")
def sample_kb(
    sample_template: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[KnowledgeBase]:
    """The 青禾县 sample knowledge base (a copy of the session's ingest); read-only for the tests."""
    base = KnowledgeBase.open(copy_sample(sample_template, tmp_path_factory.mktemp("sample-kb")), embedder)
    yield base
    base.close()
