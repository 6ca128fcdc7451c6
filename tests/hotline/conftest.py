"""Fixtures for the hotline assistant: the sample knowledge base and the real classifier (TF-IDF, for speed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.assist import HotlineAssistant
from hotline.settings import HotlineSettings
from knowledge.base import KnowledgeBase
from knowledge.embedding import Embedder
from monitor.classify import Classifier, ClassifySettings

from ..conftest import ROOT, SHARED_DATA, copy_sample


def classify_settings(features: str = "tfidf") -> ClassifySettings:
    """The real taxonomy and labelled messages (when the shared data is present) and the shipped department table."""
    return ClassifySettings(
        taxonomy=SHARED_DATA / "tipdm" / "taxonomy.xlsx",
        training=SHARED_DATA / "tipdm" / "messages_labelled_sample.xlsx",
        departments=ROOT / "monitor" / "departments.yml",
        features=features,
    )


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    """Trained once; without the shared data it classifies request types only."""
    return Classifier.from_settings(classify_settings())


@pytest.fixture(scope="session")
def hotline_kb(
    sample_template: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[KnowledgeBase]:
    """A read-only copy of the 青禾县 sample knowledge base."""
    base = KnowledgeBase.open(copy_sample(sample_template, tmp_path_factory.mktemp("hotline-kb")), embedder)
    yield base
    base.close()


@pytest.fixture
def assistant(hotline_kb: KnowledgeBase, classifier: Classifier) -> HotlineAssistant:
    return HotlineAssistant(hotline_kb, classifier, HotlineSettings())
