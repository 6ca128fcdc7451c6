"""What a turn and a reload cost: a question is embedded once however often a turn searches it, and a reader
that reuses the last generation's token ids scores exactly as one that loads the generation from nothing."""

from __future__ import annotations

import dataclasses

import numpy as np

from knowledge.base import KnowledgeBase
from knowledge.document import Document
from knowledge.embedding import Embedder
from knowledge.index import TokenIds, current_generation
from knowledge.reader import KnowledgeReader, load_snapshot
from knowledge.retrieval import Filters, QueryVectors
from knowledge.supersede import check_question

from .samples import MEDICAL

QUESTIONS = ["城乡居民医保每年交多少钱", "15万的创业贷款政策还有效吗", "贷款利息谁来出", "医保住院能报多少"]


class CountingEmbedder:
    """The real model, counting the questions it embeds."""

    def __init__(self, embedder: Embedder) -> None:
        self.inner = embedder
        self.name = embedder.name
        self.queries: list[str] = []

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.queries += texts
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self.inner.embed_passages(texts, batch_size)


def test_a_turn_embeds_its_question_once_and_a_repeated_question_not_at_all(kb: KnowledgeBase) -> None:
    counting = CountingEmbedder(kb.embedder)
    reader = KnowledgeReader.open(kb.settings, counting)
    plain = KnowledgeReader.open(kb.settings, kb.embedder)
    question = "城乡居民医保每年交多少钱"
    before = len(counting.queries)
    # what a turn does (actions.answering.reply_to_question): the answer, then the validity check's own search
    answer = reader.pinned().answer(question)
    check_question(reader.pinned(), question, answer)
    assert len(counting.queries) - before == 1
    reader.pinned().answer(question)
    reader.pinned().search(question, 8, Filters(include_retired=True))
    assert len(counting.queries) - before == 1
    assert reader.answer(question) == plain.answer(question)  # the cached vector is the one embedding gives


def test_query_vectors_keep_the_most_recent_questions(embedder: Embedder) -> None:
    counting = CountingEmbedder(embedder)
    vectors = QueryVectors(counting, size=2)
    first = vectors.vector("低保")
    vectors.vector("医保")
    vectors.vector("低保")  # recently used: kept
    vectors.vector("公积金")  # evicts 医保, the least recent
    assert np.array_equal(vectors.vector("低保"), first) and not first.flags.writeable
    vectors.vector("医保")
    assert counting.queries == ["低保", "医保", "公积金", "医保"]


def test_a_reload_reusing_token_ids_scores_exactly_as_a_fresh_load(kb: KnowledgeBase) -> None:
    older = current_generation(kb.index_dir)
    assert older is not None
    # the next generation changes one document and adds another, as an ingest or an edit does
    kb.upsert(dataclasses.replace(MEDICAL, body=MEDICAL.body + "\n三、异地就医\n异地就医需先办理备案。"))
    kb.upsert(Document(id="bike", title="青禾县公共自行车租赁办法", body="公共自行车首小时免费，之后每小时1元。"))
    newer = current_generation(kb.index_dir)
    assert newer is not None and newer != older
    token_ids = TokenIds()
    load_snapshot(kb.settings, kb.embedder, older, token_ids=token_ids)
    reused = load_snapshot(kb.settings, kb.embedder, newer, token_ids=token_ids)
    fresh = load_snapshot(kb.settings, kb.embedder, newer)
    for question in [*QUESTIONS, "自行车怎么收费", "异地就医备案"]:
        tokens = fresh.retriever.tokenizer(fresh.retriever.rewrite(question))
        assert reused.retriever.rewrite(question) == fresh.retriever.rewrite(question)
        assert reused.index.search_bm25(tokens, 10) == fresh.index.search_bm25(tokens, 10)
        by_document = reused.retriever.document_bm25.scores(tokens, None)
        assert by_document == fresh.retriever.document_bm25.scores(tokens, None) and by_document
        assert [reused.index.idf(t) for t in tokens] == [fresh.index.idf(t) for t in tokens]
        assert reused.retriever.search(question, 5) == fresh.retriever.search(question, 5)
    assert set(reused.index.terms()) == {t for tokens in fresh.index.tokens.values() for t in tokens}


def test_token_ids_of_departed_chunks_are_renumbered_away() -> None:
    token_ids = TokenIds()
    for generation in range(50):
        # every generation replaces all chunks with new words: the ids of the old ones must not pile up
        tokens = {generation * 10 + i: [f"词{generation}-{i}-{j}" for j in range(100)] for i in range(10)}
        ids, vocabulary, frequencies = token_ids.convert(tokens)
        assert all(vocabulary[t] == i for fid, chunk in tokens.items() for t, i in zip(chunk, ids[fid], strict=True))
        assert int(frequencies.sum()) == 1000 and len(frequencies) == len(vocabulary)
        assert len(vocabulary) <= 2 * 1000 + 4096 + 1000 + 1  # bounded by the live words, not by history
