"""Dialogue benchmark over Rasa's REST channel: latency per turn, and how often the bot's reply holds the gold answer.

    .venv/bin/python bench/dialogue.py --spawn [--skip-ncp] [--limit N] [--rounds R] [--colloquial [--misses]]
    .venv/bin/python bench/dialogue.py --rasa-url http://127.0.0.1:5005 [--kb DIR]

``--spawn`` starts the real action server and Rasa server (tests/servers.py) twice: over a copy of the
sample knowledge base, for p50/p95 latency of realistic conversations, and over a knowledge base of the
599 shared ncp documents, for the share of the 628 dev questions whose bot reply contains the gold answer,
next to ``knowledge eval``'s answer_hit@1 computed in-process on the same store and index. The ncp
knowledge base is cached under var/bench/dialogue-<model>-ncp/ (copied from bench/retrieval.py's
var/bench/<model>-ncp/ when that exists, else built: ~4,300 chunks, several minutes), with the default
embedding model unless POLICY_INDEX__MODEL names another.

``--rasa-url`` measures the conversations on a running server instead; with ``--kb DIR`` (the store and
index that server's action server uses) it also runs the dev questions. Each dev question is a fresh
conversation, so it is answered without context, as ``knowledge eval`` does. ``--colloquial`` also sends
the sample county's colloquial questions (bench/data/colloquial.jsonl), each as a new citizen, and prints
right / wrongful-refusal shares per split as bench/colloquial.py does in-process.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from colloquial import Row, load_rows  # noqa: E402  (bench/ is this script's directory)
from tune import refresh_tokens  # noqa: E402

from api.rasa import BotReply, parse_rest_messages  # noqa: E402
from knowledge.base import KnowledgeBase  # noqa: E402
from knowledge.evaluation import Question, evaluate, holds_answer, load_questions  # noqa: E402
from knowledge.settings import Settings  # noqa: E402
from tests.servers import RASA, assistant_stack  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
DOCUMENTS = DATA / "ncp" / "documents.jsonl"
QUESTIONS = DATA / "ncp" / "questions_dev.jsonl"
SAMPLE = ROOT / "knowledge" / "sample"
CACHE = ROOT / "var" / "bench"
MODEL = Settings().index.model  # the default embedding model (POLICY_INDEX__MODEL overrides it)
NCP_CACHE = CACHE / f"dialogue-{MODEL}-ncp"
RETRIEVAL_CACHE = CACHE / f"{MODEL}-ncp"  # built by bench/retrieval.py with the same model
SAMPLE_CACHE = CACHE / f"dialogue-{MODEL}-sample"
TIMEOUT_S = 120.0

# Realistic conversations on the sample knowledge base: questions, follow-ups, buttons, feedback, a handoff.
CONVERSATIONS: tuple[tuple[str, ...], ...] = (
    ("你好", "创业担保贷款个人最高能贷多少", "那需要什么材料？", "这个文件还有效吗", "有解读吗", "有用"),
    ("创业补贴怎么申请", '/choose_document{"doc_id":"qh-policy-graduate-startup-subsidy-2024"}'),
    ("城乡居民医保个人缴费标准是多少", "住院报销比例是多少"),
    ("高龄津贴一个月多少钱", "90岁的老人能领多少"),
    ("耕地地力保护补贴每亩多少钱", "什么时候发放"),
    ("孩子上小学需要准备哪些材料",),
    ("低保标准是多少", "民政局电话多少"),
    ("公积金租房提取每年能取多少",),
    ("保障性租赁住房租金是市场价的多少",),
    ("老旧小区加装电梯有补贴吗",),
    ("失业保险金每月能领多少",),
    ("异地就医怎么备案",),
    ("开办企业要几天",),
    ("火星基地的停车费怎么收", "转人工"),
)


@dataclass
class Turns:
    """What the bot replied, and how long each turn took."""

    latencies_ms: list[float] = field(default_factory=list)
    replies: list[BotReply] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        return round(float(np.percentile(self.latencies_ms, q)), 1) if self.latencies_ms else float("nan")


def send(client: httpx.Client, sender: str, text: str, turns: Turns) -> BotReply:
    """One message through the REST channel, timed from request to the full reply."""
    start = time.perf_counter()
    response = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    turns.latencies_ms.append((time.perf_counter() - start) * 1000)
    response.raise_for_status()
    reply = parse_rest_messages(response.json())
    turns.replies.append(reply)
    return reply


def converse(rasa_url: str, conversations: Sequence[Sequence[str]], rounds: int) -> Turns:
    """Play the conversations ``rounds`` times, each time as new citizens."""
    turns = Turns()
    with httpx.Client(base_url=rasa_url, timeout=TIMEOUT_S) as client:
        send(client, f"bench-warm-{uuid.uuid4().hex}", "创业担保贷款", Turns())  # first use loads the model
        for _ in range(rounds):
            for conversation in conversations:
                sender = f"bench-{uuid.uuid4().hex}"
                for text in conversation:
                    send(client, sender, text, turns)
    return turns


def ask_questions(
    rasa_url: str, questions: Sequence[Question], progress: bool = True
) -> tuple[Turns, dict[str, float]]:
    """Each dev question as a new conversation; the share of replies that hold the gold answer, and why not."""
    turns = Turns()
    with httpx.Client(base_url=rasa_url, timeout=TIMEOUT_S) as client:
        send(client, f"bench-warm-{uuid.uuid4().hex}", questions[0].question, Turns())
        for number, q in enumerate(questions, 1):
            send(client, f"bench-{uuid.uuid4().hex}", q.question, turns)
            if progress and number % 25 == 0:
                print(f"\r  dev questions through Rasa: {number}/{len(questions)}", end="", file=sys.stderr)
    if progress:
        print(file=sys.stderr)
    n = len(questions)
    hits = [
        holds_answer(r.text, q.answer) for q, r in zip(questions, turns.replies, strict=True)
    ]
    kinds = Counter(str(r.payload.get("reply", "(no payload)")) for r in turns.replies)
    intents = Counter(r.intent or "(no payload)" for r in turns.replies)
    policy_turns = [hit for hit, r in zip(hits, turns.replies, strict=True) if r.intent == "ask_policy"]
    result = {
        "n": n,
        "bot_answer_hit": round(sum(hits) / n, 4),
        "bot_answered": round(sum(r.answered for r in turns.replies) / n, 4),
        "bot_hit_when_ask_policy": round(sum(policy_turns) / len(policy_turns), 4) if policy_turns else float("nan"),
    }
    print("  reply kinds:", dict(kinds.most_common()), file=sys.stderr)
    print("  NLU intents:", dict(intents.most_common()), file=sys.stderr)
    return turns, result


def ask_colloquial(
    rasa_url: str, rows: Sequence[Row], misses: list[str] | None = None
) -> dict[str, dict[str, float]]:
    """The sample county's colloquial questions through Rasa, each as a new citizen, judged per split
    like bench/colloquial.py: right, wrongful refusal, and refusals of the rows expecting none; ``misses``
    collects a line for each tune row not judged as it should be (the held rows stay unread)."""
    tally: dict[str, Counter[str]] = {}
    with httpx.Client(base_url=rasa_url, timeout=TIMEOUT_S) as client:
        for row in rows:
            if row.exclude:
                continue  # a chat cannot exclude documents; bench/colloquial.py measures those
            turns = Turns()
            reply = send(client, f"bench-{uuid.uuid4().hex}", row.question, turns)
            answered = reply.answered
            if not answered:
                verdict = "refused"
            elif not row.expect:
                verdict = "answered"
            else:
                verdict = "right" if all(e in reply.text for e in row.expect) else "wrong"
            tally.setdefault(f"{row.split} {row.group}", Counter())[verdict] += 1
            expected = "right" if row.expect else "refused"
            if misses is not None and row.split == "tune" and verdict != expected:
                first = reply.text.replace("\n", " / ")[:100]
                expect = list(row.expect)
                misses.append(f"  {verdict:8s} {row.id} [{row.split}] {row.question} | expect {expect} | {first}")
    out = {}
    for key, counts in sorted(tally.items()):
        n = sum(counts.values())
        out[key] = {"n": n} | {k: round(v / n, 3) for k, v in counts.items()}
    return out


# -- knowledge bases ----------------------------------------------------------------------------


def settings_for(directory: Path) -> Settings:
    settings = Settings()
    settings.index.model = MODEL
    settings.store.url = f"sqlite:///{directory}/kb.db"
    settings.index.dir = directory / "index"
    return settings


def knowledge_env(directory: Path) -> dict[str, str]:
    settings = settings_for(directory)
    return {
        "POLICY_STORE__URL": settings.store.url,
        "POLICY_INDEX__DIR": str(settings.index.dir),
        "POLICY_INDEX__MODEL": MODEL,
    }


def copy_kb(source: Path, target: Path) -> None:
    """The store and the current index generation only (older generations are dead weight)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("kb.db", "kb.db-wal", "kb.db-shm"):
        if (source / name).is_file():
            shutil.copy2(source / name, target / name)
    current = (source / "index" / "CURRENT").read_text().strip()
    (target / "index").mkdir(exist_ok=True)
    shutil.copytree(source / "index" / current, target / "index" / current, dirs_exist_ok=True)
    shutil.copy2(source / "index" / "CURRENT", target / "index" / "CURRENT")


def progress_line(name: str):  # noqa: ANN201 — a knowledge.base progress callback
    return lambda done, total, stage: print(f"\r  {name}: {stage} {done}/{total}", end="", file=sys.stderr)


def sample_kb() -> Path:
    """The sample knowledge base, ingested once (re-ingesting unchanged files is a no-op)."""
    kb = KnowledgeBase.open(settings_for(SAMPLE_CACHE))
    report = kb.ingest([SAMPLE])
    kb.close()
    if report.errors:
        raise SystemExit(f"sample ingest failed: {report.errors}")
    return SAMPLE_CACHE


def ncp_kb() -> Path:
    """The 599 ncp documents with the default model: cached, copied from bench/retrieval.py's index, or built."""
    if not (NCP_CACHE / "index" / "CURRENT").is_file():
        if (RETRIEVAL_CACHE / "index" / "CURRENT").is_file():
            print(f"  copying {RETRIEVAL_CACHE.relative_to(ROOT)} → {NCP_CACHE.relative_to(ROOT)}", file=sys.stderr)
            copy_kb(RETRIEVAL_CACHE, NCP_CACHE)
        else:
            print(f"  building the ncp knowledge base ({MODEL}, several minutes) …", file=sys.stderr)
            kb = KnowledgeBase.open(settings_for(NCP_CACHE))
            kb.ingest([DOCUMENTS], progress_line("ncp"))
            print(file=sys.stderr)
            kb.close()
    kb = KnowledgeBase.open(settings_for(NCP_CACHE))
    refresh_tokens(kb)  # an index cached before a tokenizer change keeps its vectors
    kb.close()
    return NCP_CACHE


def knowledge_eval(directory: Path, questions: Sequence[Question]) -> tuple[dict[str, float], list[bool]]:
    """``knowledge eval`` on the same store and index, in-process (no re-embedding of the corpus), with
    whether each question's answer held the gold span."""
    kb = KnowledgeBase.open(settings_for(directory))
    hits: list[bool] = []
    try:
        return evaluate(kb, questions, 5, answer_hits=hits), hits
    finally:
        kb.close()


def print_differences(questions: Sequence[Question], eval_hits: Sequence[bool], turns: Turns) -> None:
    """The dev questions that one of the bot and ``knowledge eval`` answers and the other does not."""
    for q, by_eval, reply in zip(questions, eval_hits, turns.replies, strict=True):
        by_bot = holds_answer(reply.text, q.answer)
        if by_bot != by_eval:
            side, kind = "bot only" if by_bot else "eval only", reply.payload.get("reply", "(no payload)")
            print(f"  {side}: {q.question} (NLU {reply.intent}, reply {kind})", file=sys.stderr)


@contextmanager
def spawned(template: Path) -> Iterator[str]:
    """Action server + Rasa server over a private copy of a cached knowledge base; yields Rasa's URL."""
    scratch = ROOT / "var" / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench-dialogue-", dir=scratch) as work:
        copy_kb(template, Path(work) / "kb")
        started = time.perf_counter()
        with assistant_stack(Path(work), knowledge_env(Path(work) / "kb")) as stack:
            print(f"  stack up in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            yield stack.rasa_url


# -- report -----------------------------------------------------------------------------------

COLUMNS = ("kb", "turns", "p50_ms", "p95_ms", "answered", "bot_answer_hit", "eval_answer_hit@1", "eval_no_answer")


def row(kb: str, turns: Turns, **values: object) -> dict[str, object]:
    answered = round(sum(r.answered for r in turns.replies) / len(turns.replies), 4) if turns.replies else ""
    base = {"kb": kb, "turns": len(turns.latencies_ms), "p50_ms": turns.percentile(50), "p95_ms": turns.percentile(95)}
    return {column: "" for column in COLUMNS} | base | {"answered": answered} | values


def print_table(rows: Sequence[dict[str, object]]) -> None:
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in COLUMNS}
    print(" | ".join(c.ljust(widths[c]) for c in COLUMNS))
    print("-|-".join("-" * widths[c] for c in COLUMNS))
    for r in rows:
        print(" | ".join(str(r[c]).ljust(widths[c]) for c in COLUMNS))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--rasa-url", help="a running Rasa server with the REST channel (and its action server)")
    where.add_argument(
        "--spawn", action="store_true", help="start the servers over the sample and the ncp knowledge bases"
    )
    parser.add_argument("--kb", type=Path, help="with --rasa-url: the store+index directory the server answers from")
    parser.add_argument("--skip-ncp", action="store_true", help="only the sample conversations")
    parser.add_argument("--limit", type=int, default=0, help="only the first N dev questions")
    parser.add_argument("--rounds", type=int, default=2, help="times the sample conversations are played")
    parser.add_argument("--json", action="store_true", help="print rows as JSON lines instead of a table")
    parser.add_argument("--colloquial", action="store_true", help="also the sample's colloquial questions")
    parser.add_argument("--misses", action="store_true", help="with --colloquial: list the tune rows not right")
    args = parser.parse_args()
    if args.limit < 0 or args.rounds < 1:
        parser.error("--limit must be ≥ 0 and --rounds ≥ 1")
    if args.spawn and not RASA.exists():
        print(f"skipped: Rasa is not installed at {RASA}")
        return 0
    run_ncp = not args.skip_ncp and (args.spawn or args.kb is not None)
    if run_ncp and not DOCUMENTS.is_file():
        print(f"ncp part skipped: shared data not found at {DATA}", file=sys.stderr)
        run_ncp = False

    rows = []
    colloquial = [r for r in load_rows() if r.corpus == "sample"] if args.colloquial else []
    misses: list[str] | None = [] if args.misses else None
    if args.spawn:
        with spawned(sample_kb()) as rasa_url:
            rows.append(row("sample", converse(rasa_url, CONVERSATIONS, args.rounds)))
            measured = ask_colloquial(rasa_url, colloquial, misses) if colloquial else {}
    else:
        rows.append(row("running server", converse(args.rasa_url, CONVERSATIONS, args.rounds)))
        measured = ask_colloquial(args.rasa_url, colloquial, misses) if colloquial else {}
    for key, values in measured.items():
        print(f"colloquial sample through Rasa | {key} | {json.dumps(values, ensure_ascii=False)}")
    if misses:
        print("\n".join(misses))
    if run_ncp:
        questions = load_questions(QUESTIONS)[: args.limit or None]
        directory = ncp_kb() if args.spawn else args.kb
        measured, eval_hits = knowledge_eval(directory, questions)
        eval_values = {"eval_answer_hit@1": measured["answer_hit@1"], "eval_no_answer": measured["no_answer_rate"]}
        if args.spawn:
            with spawned(directory) as rasa_url:
                turns, bot = ask_questions(rasa_url, questions)
        else:
            turns, bot = ask_questions(args.rasa_url, questions)
        rows.append(row(f"ncp dev ({len(questions)} q)", turns, bot_answer_hit=bot["bot_answer_hit"], **eval_values))
        print(f"  bot answer hit among turns NLU classed ask_policy: {bot['bot_hit_when_ask_policy']}", file=sys.stderr)
        print(f"  knowledge eval on the same KB: {json.dumps(measured, ensure_ascii=False)}", file=sys.stderr)
        print_differences(questions, eval_hits, turns)
    if args.json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
    else:
        print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
