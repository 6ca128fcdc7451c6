"""CPU cost of one chat turn in the action server, stage by stage, and of a reader's reload of a generation.

    .venv/bin/python bench/turn_cost.py                       # turns on the sample index (var/index)
    .venv/bin/python bench/turn_cost.py --profile 25          # and cProfile's 25 most expensive functions
    .venv/bin/python bench/turn_cost.py --dump before.json    # every reply, to compare after a change
    .venv/bin/python bench/turn_cost.py --compare before.json # exit 1 when any reply differs
    .venv/bin/python bench/turn_cost.py --reload --grow 300   # and a reader's reload, sample and grown

A turn is ``actions.answering.reply_to_question`` (what action_answer_policy_question runs in its worker
thread) on every sample-corpus question of bench/data/colloquial.jsonl and every question bench/load.py
asks. Stages are inclusive CPU times of the functions named (``search`` holds ``rewrite``, ``embed``
and both BM25s), summed per turn. The reload rows load the newest generation of an index as the reader's
poller does: ``cold`` from nothing, ``incremental`` given the snapshot of the generation before it (what a
serving reader holds when the writer publishes). The grown index is the sample plus the first ``--grow``
Taipei FAQs that bench/load.py ingests, built once into var/bench/turn-cost-grown with stand-in vectors
(seeded by the chunk text): a reload's cost does not depend on what the vectors say, and building it then
takes seconds instead of embedding 2,500 chunks.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import pstats
import shutil
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import actions.answering as answering  # noqa: E402
import knowledge.reader as reader_module  # noqa: E402
from actions.conversation import Turn  # noqa: E402
from bench.load import FAQ_FILE, QUESTIONS, SAMPLE_DIR  # noqa: E402
from knowledge.embedding import Embedder, load_embedder  # noqa: E402
from knowledge.index import HybridIndex, current_generation  # noqa: E402
from knowledge.normalize import QueryNormalizer  # noqa: E402
from knowledge.reader import KnowledgeReader, load_snapshot  # noqa: E402
from knowledge.retrieval import DocumentBM25, Retriever  # noqa: E402
from knowledge.settings import Settings  # noqa: E402

COLLOQUIAL = ROOT / "bench" / "data" / "colloquial.jsonl"
GROWN_DIR = ROOT / "var" / "bench" / "turn-cost-grown"
LAST_FAQS = 10  # the grown index's last generation adds these FAQs to the one before it


class Stages:
    """Inclusive CPU time of named functions, summed per turn (a stage called twice in a turn counts twice)."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.turns: list[dict[str, float]] = []
        self.rounds: list[int] = []

    def wrap(self, owner: Any, name: str, stage: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.current[stage] += time.thread_time() - started

        setattr(owner, name, timed)

    def end_turn(self, total: float, round_: int) -> None:
        self.current["turn"] = total
        self.turns.append(dict(self.current))
        self.rounds.append(round_)
        self.current = defaultdict(float)


def instrument(stages: Stages, embedder: Embedder) -> None:
    """Time the stages a turn goes through, where the answer path calls them."""
    stages.wrap(Retriever, "search", "search")
    stages.wrap(QueryNormalizer, "normalize", "rewrite (normalise + typos)")
    stages.wrap(embedder, "embed_queries", "embed query")
    stages.wrap(HybridIndex, "search_bm25", "bm25 chunks")
    stages.wrap(HybridIndex, "search_dense", "dense search")
    stages.wrap(DocumentBM25, "scores", "bm25 documents")
    stages.wrap(reader_module, "extract_answer", "extract answer")
    stages.wrap(answering, "check_question", "validity (supersede)")
    stages.wrap(answering, "ambiguous_documents", "clarify")
    stages.wrap(answering, "answer_reply", "reply + payload")


def questions() -> list[str]:
    """The sample corpus's colloquial questions, then what bench/load.py's citizens ask."""
    rows = [json.loads(line) for line in COLLOQUIAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows if r["corpus"] == "sample"] + QUESTIONS


def turn(text: str) -> Turn:
    return Turn("turn-cost", text, "ask_policy", "", "", "", "", 0)


def reply_record(reply: answering.Reply) -> dict[str, Any]:
    return {"text": reply.text, "payload": reply.payload, "events": reply.events}


def ms(seconds: list[float], q: float) -> float:
    ordered = sorted(seconds)
    return 1000 * ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def print_turns(stages: Stages) -> None:
    """One table per round: the first asks each question for the first time, later ones ask it again."""
    names = sorted({name for t in stages.turns for name in t}, key=lambda n: (n != "turn", n))
    for round_ in sorted(set(stages.rounds)):
        turns = [t for t, r in zip(stages.turns, stages.rounds, strict=True) if r == round_]
        label = "first time asked" if round_ == 0 else "asked again"
        print(f"{'CPU ms per turn, ' + label:36} {'p50':>7} {'p95':>7} {'mean':>7}")
        for name in names:
            values = [t.get(name, 0.0) for t in turns]
            mean = 1000 * statistics.fmean(values)
            print(f"  {name:34} {ms(values, 50):7.1f} {ms(values, 95):7.1f} {mean:7.1f}")


def run_turns(reader: KnowledgeReader, texts: list[str], rounds: int, profile: int) -> tuple[Stages, list[dict]]:
    """Every question ``rounds`` times (the first round warms caches a long-running server has warm)."""
    for text in ("你好", "创业担保贷款", "医保报销"):  # not among the questions: jieba, OpenCC, the model load once
        answering.reply_to_question(reader, turn(text), text)
    stages = Stages()
    instrument(stages, reader.embedder)
    profiler = cProfile.Profile() if profile else None
    replies: list[dict] = []
    for round_ in range(rounds):
        replies = []
        for text in texts:
            if profiler:
                profiler.enable()
            started = time.thread_time()
            reply = answering.reply_to_question(reader, turn(text), text)
            stages.end_turn(time.thread_time() - started, round_)
            if profiler:
                profiler.disable()
            replies.append({"question": text, **reply_record(reply)})
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(profile)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(profile)
    return stages, replies


class StandInEmbedder:
    """Unit vectors seeded by the text: an index that loads and searches like a real one, built in seconds."""

    name = "stand-in"

    def __init__(self, dim: int) -> None:
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    def _vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(self._dim).astype(np.float32)
        return vector / np.linalg.norm(vector)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self._vector(t) for t in texts])

    def embed_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return np.vstack([self._vector(t) for t in texts]) if texts else np.zeros((0, self._dim), np.float32)


def grown_settings(count: int) -> Settings:
    settings = Settings()
    directory = GROWN_DIR / f"faq-{count}"
    settings.store.url = f"sqlite:///{directory}/kb.db"
    settings.index.dir = directory / "index"
    settings.index.publish_interval_s = 3600.0  # one generation per ingest below, as the reload rows need
    return settings


def build_grown(count: int, dim: int) -> Settings:
    """The sample plus ``count`` FAQs in two ingests (all but the last few, then those): two generations."""
    from knowledge.writer import KnowledgeWriter

    settings = grown_settings(count)
    directory = settings.index.dir.parent
    if (directory / "done").is_file():
        return settings
    if not FAQ_FILE.is_file():
        raise SystemExit(f"--grow needs the shared FAQ set at {FAQ_FILE}")
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    lines = FAQ_FILE.read_text(encoding="utf-8").splitlines()[:count]
    first, last = directory / "faq-first.jsonl", directory / "faq-last.jsonl"
    first.write_text("\n".join(lines[:-LAST_FAQS]) + "\n", encoding="utf-8")
    last.write_text("\n".join(lines[-LAST_FAQS:]) + "\n", encoding="utf-8")
    print(f"building the grown index in {directory} …", file=sys.stderr, flush=True)
    writer = KnowledgeWriter.open(settings, StandInEmbedder(dim))
    try:
        for paths in ([SAMPLE_DIR, first], [last]):
            report = writer.ingest(paths)
            if report.errors:
                raise SystemExit(f"building the grown index failed: {report.errors[:3]}")
    finally:
        writer.close()
    (directory / "done").write_text("ok\n")
    return settings


@contextmanager
def cpu_timer() -> Iterator[Callable[[], tuple[float, float]]]:
    started_wall, started_cpu = time.perf_counter(), time.thread_time()
    result: list[float] = []
    yield lambda: (result[0], result[1])
    result += [time.perf_counter() - started_wall, time.thread_time() - started_cpu]


def kept_state(settings: Settings, embedder: Embedder) -> dict[str, Any]:
    """What a reader keeps from one generation to the next, as ``load_snapshot`` takes it (fewer on older code)."""
    from knowledge import index, retrieval
    from knowledge.duplicates import DuplicateFinder

    state: dict[str, Any] = {"finder": DuplicateFinder(settings.retrieval.duplicate_threshold)}
    if hasattr(retrieval, "QueryVectors"):
        state["query_vectors"] = retrieval.QueryVectors(embedder)
    if hasattr(index, "TokenIds"):
        state["token_ids"] = index.TokenIds()
    return state


def reload_rows(label: str, settings: Settings, embedder: Embedder, repeat: int) -> None:
    """Cold and incremental loads of the newest generation (the best of ``repeat`` runs each): cold with
    nothing kept, incremental with what the reader kept from loading the generation before it."""
    newest = current_generation(settings.index.dir)
    assert newest is not None, f"no index in {settings.index.dir}"
    older = sorted(p for p in settings.index.dir.glob("gen-*") if p.is_dir() and p.name < newest.name)
    for kind in ("cold", "incremental"):
        if kind == "incremental" and not older:
            continue
        best: tuple[float, float] | None = None
        for _ in range(repeat):
            state = kept_state(settings, embedder)
            if kind == "incremental":
                load_snapshot(settings, embedder, older[-1], **state)
            with cpu_timer() as took:
                snapshot = load_snapshot(settings, embedder, newest, **state)
            best = min(best or took(), took(), key=lambda t: t[1])
        assert best is not None
        print(
            f"reload {label:18} {kind:12} {len(snapshot.documents):4} documents {len(snapshot.index):5} chunks  "
            f"wall {1000 * best[0]:7.0f} ms  CPU {1000 * best[1]:7.0f} ms"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="times each question is asked (default 2)")
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's N most expensive functions")
    parser.add_argument("--dump", type=Path, help="write every reply to this JSON file")
    parser.add_argument("--compare", type=Path, help="compare every reply with a file written by --dump")
    parser.add_argument("--reload", action="store_true", help="also time a reader's reload")
    parser.add_argument("--grow", type=int, default=300, help="FAQs added for the grown reload (default 300)")
    parser.add_argument("--skip-turns", action="store_true", help="only the reload rows")
    args = parser.parse_args()
    settings = Settings()
    settings.index.query_threads = 1  # as bench/load.py --query-threads 1 and the default
    embedder = load_embedder(settings.index.model, settings.index.query_threads)
    reader = KnowledgeReader.open(settings, embedder)
    status = 0
    if not args.skip_turns:
        texts = questions()
        stages, replies = run_turns(reader, texts, args.rounds, args.profile)
        print(f"{len(texts)} questions × {args.rounds} rounds on {reader.generation}")
        print_turns(stages)
        if args.dump:
            args.dump.write_text(json.dumps(replies, ensure_ascii=False, indent=1), encoding="utf-8")
        if args.compare:
            expected = json.loads(args.compare.read_text(encoding="utf-8"))
            got = json.loads(json.dumps(replies, ensure_ascii=False))
            differ = [e["question"] for e, g in zip(expected, got, strict=True) if e != g]
            print(f"replies identical to {args.compare}: {len(got) - len(differ)} of {len(got)}")
            for question in differ[:10]:
                print(f"  differs: {question}")
            status = 1 if differ else 0
    if args.reload:
        reload_rows("sample", settings, embedder, repeat=3)
        grown = build_grown(args.grow, embedder.dim)
        reload_rows(f"sample+{args.grow} FAQs", grown, embedder, repeat=3)
    return status


if __name__ == "__main__":
    sys.exit(main())
