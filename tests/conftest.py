"""Shared fixtures: the real embedding model (once per session) and paths to the shared data."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from knowledge.embedding import Embedder, load_embedder
from knowledge.settings import Settings

from .netguard.loopback_guard import LOG_VARIABLE, Guard
from .servers import RASA, Stack, assistant_stack

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SAMPLE_DIR = ROOT / "knowledge" / "sample"


GUARD_DIR = Path(__file__).resolve().parent / "netguard"  # holds the sitecustomize child processes load


@dataclass
class Refusals:
    """What the loopback-only guard refused during the current test, in this process and in its children."""

    guard: Guard
    log: Path
    offset: int

    def take(self) -> list[str]:
        """The refusals so far (oldest first), forgotten once taken: a test expecting one takes it."""
        taken = list(self.guard.attempts)
        self.guard.clear()
        with self.log.open(encoding="utf-8") as log:
            log.seek(self.offset)
            taken += log.read().splitlines()
            self.offset = log.tell()
        return taken


@pytest.fixture(scope="session", autouse=True)
def loopback_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guard]:
    """Every test package: refuse any connection or lookup outside 127.0.0.0/8 and ::1, before it is made,
    here and (through PYTHONPATH and sitecustomize) in every Python process the tests start."""
    log = tmp_path_factory.getbasetemp() / "network-refusals.log"
    log.touch()
    guard = Guard()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(GUARD_DIR), os.environ.get("PYTHONPATH")])))
        patch.setenv(LOG_VARIABLE, str(log))
        guard.install()
        try:
            yield guard
        finally:
            guard.uninstall()


@pytest.fixture(autouse=True)
def network_refusals(loopback_only: Guard) -> Iterator[Refusals]:
    """Fail the test during which anything tried to leave the machine, even where the error was swallowed."""
    loopback_only.clear()
    log = Path(os.environ[LOG_VARIABLE])
    refusals = Refusals(loopback_only, log, log.stat().st_size)
    yield refusals
    refused = refusals.take()
    assert not refused, f"real network access attempted: {refused}"


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
