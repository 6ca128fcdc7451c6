"""Training the answer selector on annotated questions: the tune half trains, the held-out half is only reported.

Each question's candidate spans (as ``extract_answer`` reads them with a selector) are labelled by whether
they hold the annotated answer span and would be given rather than refused; conditional logistic
regression then learns which features make a question's right span win over its rivals. Retrieval for
training may be BM25 alone (``lexical_retriever``): the selector reads passages, not vectors, and the
shared corpus indexes in about a minute that way instead of embedding 4,169 chunks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .answer import ExtractionSettings, read_candidates
from .chunking import chunk_document
from .document import Chunk, Document, Passage
from .errors import IngestError
from .evaluation import holds_answer
from .index import HybridIndex
from .normalize import load_synonyms
from .parsers import parse_file
from .retrieval import Filters, Retriever
from .selector import Selector, span_features
from .settings import Settings
from .spans import Idf, NextChunk, confidence
from .text import tokenize

TRAINING_PASSAGES = 10  # retrieved per question; the selector reads the spans of the first few


def split_of(question_id: str) -> str:
    """``tune`` (trains the selector) or ``held-out`` (only reported), by the parity of sha1 of the id."""
    return "held-out" if int(hashlib.sha1(question_id.encode()).hexdigest(), 16) % 2 else "tune"


@dataclass
class TrainingSet:
    """Feature rows of every candidate span of the training questions, their labels and question groups."""

    rows: list[np.ndarray] = field(default_factory=list)
    labels: list[np.ndarray] = field(default_factory=list)

    def add(self, features: np.ndarray, labels: Iterable[bool]) -> None:
        """One question's candidates; a question none of whose candidates holds the answer teaches nothing."""
        label = np.fromiter(labels, dtype=bool)
        if len(label) and label.any():
            self.rows.append(features)
            self.labels.append(label)

    @property
    def questions(self) -> int:
        return len(self.rows)


def _listwise_loss(
    weights: np.ndarray, groups: list[tuple[np.ndarray, np.ndarray]], penalty: float
) -> tuple[float, np.ndarray]:
    """Negative log-likelihood that each question's chosen span is a right one, and its gradient.

    A question's spans compete: the chance of span i is softmax(features · weights)_i over that question's
    candidates (conditional logistic regression), and every span holding the answer counts as right.
    """
    loss, grad = penalty * weights @ weights, 2 * penalty * weights
    for features, right in groups:
        scores = features @ weights
        chance = np.exp(scores - scores.max())
        chance /= chance.sum()
        held = chance[right].sum()
        loss -= np.log(held + 1e-12)
        grad += chance @ features - (chance[right] @ features[right]) / (held + 1e-12)
    return float(loss), grad


def fit(training: TrainingSet, meta: dict[str, Any], penalty: float = 1.0) -> Selector:
    """Conditional logistic regression over each question's spans (scipy's L-BFGS, imported here: serving
    never needs it). Conditional beat pointwise logistic regression (0.682 vs 0.654–0.668 answer_hit@1 in a
    two-fold cross-validation inside the tune half). The L2 ``penalty`` of 1 beat 3 and 10 on the tune rows once
    the hand-weighted features joined (formal tune answer_hit@1 0.688 vs 0.685 and 0.681; colloquial equal or
    better); before them, 10 had won that cross-validation."""
    from scipy.optimize import minimize

    if not training.questions:
        raise ValueError("no training question has a candidate span holding its answer")
    x = np.vstack(training.rows)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0  # a feature constant on the training set carries no weight
    groups = [((rows - mean) / scale, labels) for rows, labels in zip(training.rows, training.labels, strict=True)]
    result = minimize(_listwise_loss, np.zeros(x.shape[1]), args=(groups, penalty), jac=True, method="L-BFGS-B")
    meta = {**meta, "training_questions": training.questions, "training_spans": int(len(x)), "penalty": penalty}
    return Selector(mean, scale, result.x.astype(np.float64), 0.0, meta)


@dataclass(frozen=True)
class Example:
    """One annotated question for training: its id (which decides its half), text and answer span; or, for a
    colloquial question (``expect``), the strings a right answer must all hold."""

    id: str
    question: str
    answer: str
    expect: tuple[str, ...] = ()

    def held_by(self, text: str) -> bool:
        if self.answer:
            return holds_answer(text, self.answer)
        return bool(self.expect) and all(e in text for e in self.expect)


@dataclass(frozen=True)
class Corpus:
    """How a corpus is read when answering: its search, the question's written form (the retriever's
    rewrite), idf, the chunk after a chunk, and a document's chunks (for a typed question's parts)."""

    search: Callable[[str], list[Passage]]
    idf: Idf
    following: NextChunk | None = None
    rewrite: Callable[[str], str] = str
    chunks_of: Callable[[str], list[Chunk]] | None = None

    @classmethod
    def of(cls, retriever: Retriever, index: HybridIndex, passages: int, filters: Filters | None = None) -> Corpus:
        return cls(
            lambda q: retriever.search(q, passages, filters),
            index.idf,
            retriever.next_chunk,
            retriever.rewrite,
            lambda doc_id: [index.chunks[f] for f in index.doc_rows.get(doc_id, ())],
        )


def add_question(training: TrainingSet, example: Example, corpus: Corpus, settings: ExtractionSettings) -> None:
    """One question's candidate spans, read as ``extract_answer`` reads them with a selector (the rewrite
    searched and scored, the type from the citizen's words), labelled by whether each holds the answer."""
    passages = corpus.search(example.question)
    passages, context, hand = read_candidates(
        corpus.rewrite(example.question),
        passages,
        corpus.idf,
        settings,
        corpus.following,
        learned=True,
        asked=example.question,
        chunks_of=corpus.chunks_of,
    )
    holds = np.array([example.held_by(span.text) for span in context.spans], dtype=bool)
    confident = np.array([confidence(context, span) >= settings.threshold for span in context.spans], dtype=bool)
    # a right span is one that holds the answer and would be given, not refused; failing any such, any
    # span that holds it
    labels = holds & confident if (holds & confident).any() else holds
    training.add(span_features(context, settings.title_overlap, hand), labels)


def train_selector(
    examples: Iterable[Example],
    search: Callable[[str], list[Passage]] | Corpus,
    idf: Idf | None = None,
    following: NextChunk | None = None,
    settings: ExtractionSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
    also: Iterable[tuple[Iterable[Example], Corpus]] = (),
) -> Selector:
    """Fit the selector on the ``tune`` half of the examples: every candidate span of each question's passages
    (as ``extract_answer`` would read them with a selector) is labelled by whether it holds the answer.

    ``also`` adds questions of other corpora whole, already chosen for tuning (the colloquial set's tune rows
    on the sample county: Q&A pairs and everyday wording, which the formal dev questions lack)."""
    settings = settings or ExtractionSettings()
    if not isinstance(search, Corpus) and idf is None:
        raise ValueError("a search function needs the index's idf")
    corpus = search if isinstance(search, Corpus) else Corpus(search, idf, following)  # type: ignore[arg-type]
    tune = [e for e in examples if split_of(e.id) == "tune"]
    more = [(list(chosen), other) for chosen, other in also]
    total = len(tune) + sum(len(chosen) for chosen, _ in more)
    training = TrainingSet()
    done = 0
    for chosen, source in [(tune, corpus), *more]:
        for example in chosen:
            add_question(training, example, source, settings)
            done += 1
            if progress:
                progress(done, total)
    meta = {
        "trained_on": "the tune half (even sha1 of the question id) of the shared dev questions"
        + (", and the colloquial set's tune rows on the sample county" if more else ""),
        "tune_questions": len(tune),
        "colloquial_questions": sum(len(chosen) for chosen, _ in more),
    }
    return fit(training, meta)


def lexical_retriever(
    documents: Mapping[str, Document], settings: Settings, progress: Callable[[int, int], None] | None = None
) -> tuple[Retriever, HybridIndex]:
    """A BM25-only retriever (chunk + document BM25 with the settings' weights and synonym table, no dense
    share, no vectors)."""
    index = HybridIndex("none", 1)
    for number, doc in enumerate(documents.values(), 1):
        chunks = chunk_document(doc, settings.index.chunk_chars)
        tokens = [tokenize(c.indexed_text) for c in chunks]
        index.put_document(doc.id, doc.content_hash, chunks, tokens, np.zeros((len(chunks), 1), np.float32))
        if progress:
            progress(number, len(documents))
    synonyms = load_synonyms(settings.retrieval.synonyms)
    retriever = Retriever.from_settings(index, None, lambda: documents, settings.retrieval, synonyms=synonyms)  # type: ignore[arg-type]
    retriever.dense_weight = retriever.mismatch_dense_weight = 0.0  # the embedder is never called
    return retriever, index


def _records(path: Path, read: Callable[[dict[str, Any]], Example | None], needs: str) -> list[Example]:
    """The examples ``read`` makes of a JSONL file's records (None: a record it skips); a bad line names its
    number and the fields a record ``needs``."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            example = read(json.loads(line))
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise IngestError(str(path), f"第{number}行不是有效的{needs}：{error}") from error
        if example is not None:
            examples.append(example)
    return examples


def load_examples(path: Path) -> list[Example]:
    """Annotated questions from JSONL with ``id``, ``question`` and ``answer``; a bad line names its number."""
    examples = _records(
        path, lambda r: Example(str(r["id"]), r["question"], r["answer"]), "问题记录（需要 id、question、answer）"
    )
    if not examples:
        raise IngestError(str(path), "没有问题记录")
    return examples


def load_colloquial(path: Path, corpus: str = "sample", split: str = "tune") -> list[Example]:
    """The answerable rows of one corpus and split of a colloquial question set (bench/data/colloquial.jsonl:
    ``id``, ``question``, ``corpus``, ``split``, ``expect``); a bad line names its number."""

    def read(r: dict[str, Any]) -> Example | None:
        if r["corpus"] == corpus and r["split"] == split and r["expect"]:
            return Example(str(r["id"]), r["question"], "", tuple(r["expect"]))
        return None

    return _records(path, read, "口语问题记录（需要 id、question、corpus、split、expect）")


def sample_corpus(folder: Path, settings: Settings) -> Corpus:
    """The sample county's documents (a folder of the files ``knowledge ingest`` reads), BM25 alone, read as
    the assistant reads them: its five passages, current and retired documents as the reader searches them."""
    from .writer import expand_paths  # the files ``knowledge ingest`` would read there

    docs = {doc.id: doc for path in expand_paths([folder]) for doc in parse_file(path).documents}
    if not docs:
        raise IngestError(str(folder), "没有可用的文档")
    retriever, index = lexical_retriever(docs, settings)
    return Corpus.of(retriever, index, 5)


def train_from_files(
    documents: Path,
    questions: Path,
    settings: Settings,
    progress: Callable[[str, int, int], None] | None = None,
    colloquial: Path | None = None,
    sample: Path | None = None,
) -> Selector:
    """Parse the documents, index them for BM25, and train the selector on the questions' tune half; with
    ``colloquial`` and ``sample``, on the colloquial set's tune rows about the sample county too."""
    parsed = parse_file(documents)
    if not parsed.documents:
        raise IngestError(str(documents), "没有可用的文档")
    docs = {doc.id: doc for doc in parsed.documents}
    examples = load_examples(questions)
    also = []
    if colloquial is not None and sample is not None:
        also.append((load_colloquial(colloquial), sample_corpus(sample, settings)))
    retriever, index = lexical_retriever(docs, settings, lambda d, t: progress("index", d, t) if progress else None)
    extraction = ExtractionSettings(threshold=settings.retrieval.answer_threshold)
    return train_selector(
        examples,
        Corpus.of(retriever, index, TRAINING_PASSAGES, Filters(include_retired=True)),
        settings=extraction,
        progress=lambda d, t: progress("questions", d, t) if progress else None,
        also=also,
    )
