"""Shared fixtures: the real embedding model (once per session) and paths to the shared data."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.embedding import Embedder, load_embedder
from knowledge.settings import Settings

from .servers import RASA, Stack, assistant_stack

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SAMPLE_DIR = ROOT / "knowledge" / "sample"


def shared_file(*parts: str) -> Path:
    """A file of the shared real data set, or a clean skip when the data is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"shared data not present: {path}")
    return path


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real default model, loaded once for the whole test session."""
    model = load_embedder(Settings().index.model)
    model.embed_queries(["预热"])
    return model


@pytest.fixture(scope="session")
def sample_template(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    """The sample knowledge base ingested once (SQLite + index); tests copy it instead of re-embedding."""
    from knowledge.base import KnowledgeBase

    root = tmp_path_factory.mktemp("sample-kb")
    settings = Settings()
    settings.store.url = f"sqlite:///{root}/kb.db"
    settings.index.dir = root / "index"
    kb = KnowledgeBase.open(settings, embedder)
    report = kb.ingest([SAMPLE_DIR])
    assert not report.errors, report.errors
    kb.close()
    return root


def copy_sample(template: Path, target: Path) -> Settings:
    """A private, writable copy of the ingested sample knowledge base, and settings pointing at it."""
    shutil.copytree(template, target, dirs_exist_ok=True)
    settings = Settings()
    settings.store.url = f"sqlite:///{target}/kb.db"
    settings.index.dir = target / "index"
    return settings


@pytest.fixture(scope="session")
def stack(sample_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The real action server and Rasa server, over a private copy of the sample knowledge base."""
    if not RASA.exists():
        pytest.skip("Rasa is not installed in .venv-rasa (make setup installs it)")
    work = tmp_path_factory.mktemp("stack")
    settings = copy_sample(sample_template, work / "kb")
    knowledge_env = {"POLICY_STORE__URL": settings.store.url, "POLICY_INDEX__DIR": str(settings.index.dir)}
    with assistant_stack(work, knowledge_env) as running_stack:
        yield running_stack
