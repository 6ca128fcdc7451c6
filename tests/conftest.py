"""Shared fixtures: the real embedding model (once per session) and paths to the shared data."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.embedding import Embedder, load_embedder
from knowledge.settings import M3E_SMALL

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
    model = load_embedder(M3E_SMALL)
    model.embed_queries(["预热"])
    return model
