"""An action server keeps answering, citations included, while the document store is unreachable."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from actions.answering import ActionAnswerPolicyQuestion
from knowledge.embedding import Embedder
from knowledge.provider import KnowledgeProvider
from knowledge.reader import KnowledgeReader
from knowledge.store import DocumentStore

from ..conftest import copy_sample
from .conversations import run, tracker

LOAN_2023 = "qh-policy-entrepreneurship-loan-2023"
LOAN_2023_NUMBER = "青人社发〔2023〕9号"


def test_answers_carry_citations_while_the_store_is_unreachable(
    sample_template: Path, tmp_path: Path, embedder: Embedder
) -> None:
    settings = copy_sample(sample_template, tmp_path / "kb")
    knowledge = KnowledgeProvider(lambda: KnowledgeReader.open(settings, embedder))
    knowledge.warm_up()  # as the action server does at start
    database = Path(settings.store.url.removeprefix("sqlite:///"))
    for path in database.parent.glob(f"{database.name}*"):
        path.unlink()
    database.write_bytes(b"not a database any more " * 100)
    with pytest.raises(DBAPIError):
        DocumentStore.open(settings.store.url).count()
    result = run(ActionAnswerPolicyQuestion(knowledge), tracker("个人创业担保贷款最高能贷多少"))
    assert result.payload["reply"] == "answer" and result.payload["answered"] is True
    assert "30万元" in result.text and LOAN_2023_NUMBER in result.text and "【现行有效】" in result.text
    cited = {c["doc_id"]: c for c in result.payload["citations"]}
    assert cited[LOAN_2023]["doc_number"] == LOAN_2023_NUMBER and cited[LOAN_2023]["url"].startswith("https://")
    knowledge.close()
