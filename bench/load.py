"""Load benchmark of the web chat API: simulated citizens ask questions concurrently for a fixed time.

    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 [--users 20] [--duration 30]
    .venv/bin/python bench/load.py --spawn          # start Rasa, the action server and the API itself
    .venv/bin/python bench/load.py --spawn --pairs 2 --ingest 300 --duration 20
                                                    # two Rasa + action-server pairs; quiet load, then load
                                                    # while another process ingests 300 FAQs

Against a running API, warm it up first (one question) so the action server's model load is not measured.

Prints throughput, latency percentiles, errors by status, and whether every answered turn reached the
conversation log (read from ``--log-url``, by default the one AppSettings names). With ``--ingest N`` the
load runs twice, quiet and while ``python -m knowledge ingest`` adds N FAQs (from the shared Taipei FAQ set),
and the run passes when neither has an error or a lost turn and the ingest's p95 is within 1.5× the quiet p95.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from api.settings import AppSettings  # noqa: E402
from knowledge.index import current_generation  # noqa: E402
from knowledge.settings import Settings  # noqa: E402
from knowledge.writer import KnowledgeWriter  # noqa: E402
from monitor.log import ConversationLog  # noqa: E402
from tests.servers import assistant_stack, serving_api  # noqa: E402

SAMPLE_DIR = ROOT / "knowledge" / "sample"
FAQ_FILE = ROOT.parent / "shared" / "data" / "tpe" / "faq.jsonl"
P95_BOUND = 1.5  # p95 during an ingest may be at most this multiple of the quiet p95
MAX_TURNS_PER_USER = 10_000  # a bound on top of the duration, in case the server answers absurdly fast

# What citizens of the sample county ask: loans, subsidies, insurance, housing, schools, hotline, and some chat.
QUESTIONS = [
    "个人创业担保贷款最高能贷多少？",
    "创业担保贷款的贴息期限是多久？",
    "创业补贴怎么申请",
    "大学生创业补贴有多少钱？",
    "返乡创业补贴需要什么条件？",
    "高校毕业生就业有哪些扶持政策？",
    "灵活就业人员社保补贴怎么领？",
    "城乡居民医保每年交多少钱？",
    "居民医保住院报销比例是多少？",
    "异地就医备案怎么办理？",
    "门诊费用可以报销吗？",
    "低保怎么申请？",
    "最低生活保障标准是多少？",
    "80岁以上老人有高龄补贴吗？",
    "养老服务补贴发放标准是什么？",
    "公积金可以提取来付房租吗？",
    "租房提取公积金每年能取多少？",
    "保障性租赁住房谁可以申请？",
    "保租房的租金怎么定？",
    "老旧小区改造包括哪些内容？",
    "孩子上小学要准备哪些材料？",
    "义务教育阶段招生怎么划片？",
    "耕地地力保护补贴每亩多少钱？",
    "户口迁移需要什么手续？",
    "不动产登记要带什么材料？",
    "开办企业要跑几次？",
    "12345热线是干什么的？",
    "社保局的电话是多少？",
    "疫情期间小微企业的减免政策还有效吗？",
    "你好",
]


@dataclass
class Results:
    """What the simulated citizens saw."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    answered: int = 0

    @property
    def ok(self) -> int:
        return self.statuses["200"]


async def citizen(
    client: httpx.AsyncClient,
    url: str,
    done: Callable[[], bool],
    rng: random.Random,
    results: Results,
    think_s: float = 0.0,
    session_turns: int = 0,
) -> None:
    """One citizen in their own session, asking one question after another until ``done()``; with ``think_s``
    they read each answer for 0.5–1.5 × that long first, as people do (0: back to back, a saturating load).

    With ``session_turns`` the citizen leaves after that many questions and another arrives in a new
    session: Rasa reads and writes a session's whole tracker on every turn, and one read and write costs CPU in
    proportion to its events (26 ms after 100 turns, 86 ms after 300; bench/rasa_cost.py), so one session kept
    through a 13-minute ingest measures the session's length, not the ingest's interference. 0 keeps one
    session for the whole phase."""
    session_id = f"bench-{uuid.uuid4().hex}"
    for turn in range(MAX_TURNS_PER_USER):
        if done():
            return
        if session_turns and turn and turn % session_turns == 0:
            session_id = f"bench-{uuid.uuid4().hex}"
        body = {"session_id": session_id, "text": rng.choice(QUESTIONS)}
        start = time.perf_counter()
        try:
            response = await client.post(f"{url}/api/chat", json=body)
        except httpx.HTTPError as error:
            results.statuses[type(error).__name__] += 1
            continue
        results.latencies_ms.append((time.perf_counter() - start) * 1000)
        results.statuses[str(response.status_code)] += 1
        if response.status_code == 200 and response.json().get("answered"):
            results.answered += 1
        if think_s:
            await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))


async def run_load(
    url: str, users: int, duration: float, seed: int, think_s: float = 0.0, session_turns: int = 0
) -> tuple[Results, float]:
    """All citizens at once; returns what they saw and the wall time taken."""
    results = Results()
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0), limits=limits) as client:
        start = time.monotonic()
        deadline = start + duration

        def done() -> bool:
            return time.monotonic() >= deadline

        citizens = (
            citizen(client, url, done, random.Random(seed + i), results, think_s, session_turns) for i in range(users)
        )
        await asyncio.gather(*citizens)
        return results, time.monotonic() - start


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100), nearest-rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def wait_for_log(log: ConversationLog, expected: int, timeout: float = 10.0) -> int:
    """Poll until the log holds the expected number of turns (the writer is asynchronous) or time runs out."""
    deadline = time.monotonic() + timeout
    count = log.count()
    while count < expected and time.monotonic() < deadline:
        time.sleep(0.2)
        count = log.count()
    return count


def report(results: Results, wall_s: float, users: int, logged: int | None = None, label: str = "") -> bool:
    """Print the numbers; True when every answered turn was logged (or the log is checked elsewhere)."""
    lat = results.latencies_ms
    if label:
        print(f"-- {label}")
    print(f"users {users}, {wall_s:.1f} s, {sum(results.statuses.values())} requests")
    rate = results.ok / wall_s
    print(f"throughput   {rate:.2f} turns/s ({results.ok} turns with status 200, {results.answered} answered)")
    print(
        f"latency ms   p50 {percentile(lat, 50):.0f}  p95 {percentile(lat, 95):.0f}  p99 {percentile(lat, 99):.0f}"
        f"  mean {statistics.fmean(lat) if lat else float('nan'):.0f}  max {max(lat, default=float('nan')):.0f}"
    )
    errors = {status: n for status, n in sorted(results.statuses.items()) if status != "200"}
    print(f"errors       {sum(errors.values())} {errors if errors else ''}".rstrip())
    if logged is None:
        return True
    verdict = "OK" if logged == results.ok else "MISMATCH"
    print(f"logged turns {logged} of {results.ok} sent  {verdict}")
    return logged == results.ok


def measure(
    url: str, log_url: str, users: int, duration: float, seed: int, session_turns: int = 0, think_s: float = 0.0
) -> bool:
    """Run the load against a running API and check its conversation log gained one row per answered request."""
    log = ConversationLog.open(log_url)
    try:
        before = log.count()
        results, wall_s = asyncio.run(run_load(url.rstrip("/"), users, duration, seed, think_s, session_turns))
        logged = wait_for_log(log, before + results.ok) - before
    finally:
        log.close()
    return report(results, wall_s, users, logged)


def faq_batch(path: Path, count: int) -> Path:
    """The first ``count`` FAQs of the shared Taipei set, in a file of their own."""
    if not FAQ_FILE.is_file():
        raise SystemExit(f"--ingest needs the shared FAQ set at {FAQ_FILE}")
    with open(FAQ_FILE, encoding="utf-8") as lines, open(path, "w", encoding="utf-8") as out:
        for _, line in zip(range(count), lines, strict=False):
            out.write(line)
    return path


def new_documents(index_dir: Path, before: int) -> int:
    """How many more documents CURRENT carries than ``before`` (what readers can answer from)."""
    generation = current_generation(index_dir)
    if generation is None:
        return 0
    return len(json.loads((generation / "manifest.json").read_text(encoding="utf-8"))["documents"]) - before


async def load_during_ingest(
    url: str,
    users: int,
    seed: int,
    ingest: list[str],
    env: dict[str, str],
    index_dir: Path,
    think_s: float = 0.0,
    session_turns: int = 0,
) -> tuple[Results, float, float, float | None]:
    """Load that lasts as long as an ingest process; returns what citizens saw, the wall time, the ingest's
    time and when its first documents were published (seconds after it started, None if never seen)."""
    before = new_documents(index_dir, 0)
    started = time.monotonic()
    process = subprocess.Popen(ingest, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first_published: float | None = None

    async def watch() -> None:
        nonlocal first_published
        while process.poll() is None:
            if first_published is None and new_documents(index_dir, before) > 0:
                first_published = time.monotonic() - started
            await asyncio.sleep(0.2)

    results = Results()
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0), limits=limits) as client:
        watcher = asyncio.create_task(watch())

        def done() -> bool:
            return process.poll() is not None  # each citizen finishes the question it is asking

        citizens = (
            citizen(client, url, done, random.Random(seed + i), results, think_s, session_turns) for i in range(users)
        )
        await asyncio.gather(*citizens)
        await watcher
        ingest_s = time.monotonic() - started
    if process.returncode != 0:
        raise RuntimeError(f"the ingest failed: {process.stderr.read().decode()[-2000:] if process.stderr else ''}")
    return results, time.monotonic() - started, ingest_s, first_published


def serving(settings: AppSettings) -> AbstractContextManager[str]:
    """The API on a free loopback port in a background thread; yields its base URL."""
    return serving_api(create_app(settings))


@dataclass(frozen=True)
class Spawned:
    """The spawned product: the API's URL, its conversation log, and where the knowledge base lives."""

    url: str
    log_url: str
    knowledge_env: dict[str, str]
    index_dir: Path


@contextmanager
def spawned_stack(workdir: Path, pairs: int = 1, serving_env: dict[str, str] | None = None) -> Iterator[Spawned]:
    """The sample knowledge base ingested afresh, ``pairs`` Rasa servers each with its own action server
    (their environment plus ``serving_env``), and the API routing sessions across them."""
    kb_settings = Settings()
    kb_settings.store.url = f"sqlite:///{workdir}/kb.db"
    kb_settings.index.dir = workdir / "index"
    print("ingesting the sample knowledge base …", file=sys.stderr, flush=True)
    writer = KnowledgeWriter.open(kb_settings)
    ingest = writer.ingest([SAMPLE_DIR])
    writer.close()
    if ingest.errors:
        raise RuntimeError(f"sample ingest failed: {ingest.errors}")
    env = {"POLICY_STORE__URL": kb_settings.store.url, "POLICY_INDEX__DIR": str(kb_settings.index.dir)}
    print(f"starting {pairs} action server(s) and Rasa server(s) …", file=sys.stderr, flush=True)
    with ExitStack() as servers:
        stacks = []
        for number in range(pairs):
            (workdir / f"pair-{number}").mkdir()
            pair_env = {**env, **(serving_env or {})}
            stacks.append(servers.enter_context(assistant_stack(workdir / f"pair-{number}", pair_env)))
        for stack in stacks:
            # each action server loads the model on its first question, and keeps each question's vector once it
            # has embedded it: every question is asked once, so that no phase is measured on a cold cache
            for number, question in enumerate(QUESTIONS):
                warm_up = {"sender": f"warm-up-{number}", "message": question}
                httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=warm_up, timeout=180).raise_for_status()
        settings = AppSettings()
        settings.store.url = kb_settings.store.url
        settings.index.dir = kb_settings.index.dir
        settings.rasa.url = ",".join(stack.rasa_url for stack in stacks)
        settings.rasa.actions_url = ",".join(stack.actions_url for stack in stacks)
        settings.chat.rate_limit = "100000/minute"
        settings.chat.address_rate_limit = "1000000/minute"  # every simulated citizen comes from 127.0.0.1
        settings.conversation_log.url = f"sqlite:///{workdir}/conversations.db"
        settings.conversation_log.spool = str(workdir / "log-spool.jsonl")
        with serving(settings) as url:
            yield Spawned(url, settings.conversation_log.url, env, kb_settings.index.dir)


def measure_with_ingest(
    spawned: Spawned,
    workdir: Path,
    users: int,
    duration: float,
    seed: int,
    count: int,
    nice: int = 0,
    think_s: float = 0.0,
    duty: float = 1.0,
    session_turns: int = 0,
) -> bool:
    """Quiet load, then load while another process ingests ``count`` FAQs; both compared with the log."""
    log = ConversationLog.open(spawned.log_url)
    try:
        before = log.count()
        quiet, quiet_s = asyncio.run(run_load(spawned.url, users, duration, seed, think_s, session_turns))
        report(quiet, quiet_s, users, label="quiet")  # each phase prints as it ends: a long ingest shows progress
        batch = faq_batch(workdir / "faq-batch.jsonl", count)
        env = {**os.environ, **spawned.knowledge_env, "PYTHONUNBUFFERED": "1"}
        ingest = [sys.executable, "-m", "knowledge", "ingest", str(batch)]
        if duty < 1.0:
            env["POLICY_INDEX__EMBED_DUTY"] = str(duty)
        if nice:
            # background work as an operator would run it: below the servers' priority, one embedding thread
            ingest = ["nice", "-n", str(nice), *ingest]
            env["OMP_NUM_THREADS"] = "1"
        print(f"load while ingesting {count} FAQs …", file=sys.stderr, flush=True)
        during, during_s, ingest_s, first = asyncio.run(
            load_during_ingest(spawned.url, users, seed + users, ingest, env, spawned.index_dir, think_s, session_turns)
        )
        report(during, during_s, users, label=f"during an ingest of {count} FAQs")
        # the same quiet load again on the grown index: the ingest's interference, apart from its size
        after, after_s = asyncio.run(run_load(spawned.url, users, duration, seed + 2 * users, think_s, session_turns))
        sent = quiet.ok + during.ok + after.ok
        logged = wait_for_log(log, before + sent, timeout=30) - before
    finally:
        log.close()
    report(after, after_s, users, label="quiet again, on the grown index")
    first_text = f"{first:.1f} s" if first is not None else "not seen"
    print(f"ingest       {ingest_s:.1f} s; its first documents answerable after {first_text}")
    errors = sum(n for r in (quiet, during, after) for status, n in r.statuses.items() if status != "200")
    ratio = percentile(during.latencies_ms, 95) / percentile(quiet.latencies_ms, 95)
    grown = percentile(during.latencies_ms, 95) / percentile(after.latencies_ms, 95)
    print(f"p95 during / quiet before  {ratio:.2f} (target ≤ {P95_BOUND})")
    print(f"p95 during / quiet after, same grown index  {grown:.2f}")
    print(f"logged turns {logged} of {sent} sent  {'OK' if logged == sent else 'MISMATCH'}")
    return errors == 0 and logged == sent and ratio <= P95_BOUND


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="base URL of a running API")
    parser.add_argument("--users", type=int, default=20, help="concurrent citizens (default 20)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load (default 30)")
    parser.add_argument("--log-url", default=None, help="conversation log URL (default: from AppSettings)")
    parser.add_argument("--spawn", action="store_true", help="start the whole stack on the sample knowledge base")
    parser.add_argument("--pairs", type=int, default=1, help="Rasa + action-server pairs to spawn (default 1)")
    parser.add_argument("--ingest", type=int, default=0, help="also measure while N FAQs are ingested (with --spawn)")
    parser.add_argument("--ingest-nice", type=int, default=0, help="run the ingest under nice -n N, one thread")
    parser.add_argument("--seed", type=int, default=12345, help="seed of the question draws")
    parser.add_argument("--ingest-duty", type=float, default=1.0, help="POLICY_INDEX__EMBED_DUTY for the ingest")
    parser.add_argument("--think", type=float, default=0.0, help="seconds each citizen reads an answer (default 0)")
    parser.add_argument(
        "--session-turns",
        type=int,
        default=0,
        help="questions per citizen's session before a new citizen arrives (default 0: one session per phase)",
    )
    parser.add_argument(
        "--query-threads", type=int, default=None, help="POLICY_INDEX__QUERY_THREADS of action servers (0: all cores)"
    )
    parser.add_argument(
        "--query-cache",
        type=int,
        default=None,
        help="POLICY_INDEX__QUERY_CACHE of action servers (1: every new question is embedded, as if none repeated)",
    )
    parser.add_argument(
        "--rasa-threads", type=int, default=0, help="TensorFlow intra/inter-op threads of the Rasa servers (0: default)"
    )
    args = parser.parse_args()
    if not 1 <= args.users <= 1000 or not 0 < args.duration <= 3600:
        parser.error("--users must be 1–1000 and --duration 0–3600 s")
    if (args.ingest or args.pairs != 1) and not args.spawn:
        parser.error("--ingest and --pairs need --spawn")
    if args.spawn:
        serving_env: dict[str, str] = {}
        if args.query_threads is not None:
            serving_env["POLICY_INDEX__QUERY_THREADS"] = str(args.query_threads)
        if args.query_cache is not None:
            serving_env["POLICY_INDEX__QUERY_CACHE"] = str(args.query_cache)
        if args.rasa_threads:
            # Rasa reads these when it sets TensorFlow up (rasa.utils.tensorflow.environment)
            serving_env["TF_INTRA_OP_PARALLELISM_THREADS"] = str(args.rasa_threads)
            serving_env["TF_INTER_OP_PARALLELISM_THREADS"] = str(args.rasa_threads)
        with (
            tempfile.TemporaryDirectory(prefix="load-") as tmp,
            spawned_stack(Path(tmp), args.pairs, serving_env) as spawned,
        ):
            print(f"load: {args.users} users, {args.duration:.0f} s, {spawned.url}", file=sys.stderr, flush=True)
            if args.ingest:
                ok = measure_with_ingest(
                    spawned,
                    Path(tmp),
                    args.users,
                    args.duration,
                    args.seed,
                    args.ingest,
                    args.ingest_nice,
                    args.think,
                    args.ingest_duty,
                    args.session_turns,
                )
            else:
                ok = measure(
                    spawned.url, spawned.log_url, args.users, args.duration, args.seed, args.session_turns, args.think
                )
    else:
        log_url = args.log_url or AppSettings().log_url
        ok = measure(args.url, log_url, args.users, args.duration, args.seed, args.session_turns, args.think)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
