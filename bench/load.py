"""Load benchmark of the web chat API: simulated citizens ask questions concurrently for a fixed time.

    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 [--users 20] [--duration 30]
    .venv/bin/python bench/load.py --spawn          # start Rasa, the action server and the API itself

Against a running API, warm it up first (one question) so the action server's model load is not measured.

Prints throughput, latency percentiles, errors by status, and whether every answered turn reached the
conversation log (read from ``--log-url``, by default the one AppSettings names).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.app import create_app  # noqa: E402
from api.settings import AppSettings  # noqa: E402
from knowledge.base import KnowledgeBase  # noqa: E402
from knowledge.settings import Settings  # noqa: E402
from monitor.log import ConversationLog  # noqa: E402
from tests.servers import assistant_stack, serving_api  # noqa: E402

SAMPLE_DIR = ROOT / "knowledge" / "sample"
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


async def citizen(client: httpx.AsyncClient, url: str, deadline: float, rng: random.Random, results: Results) -> None:
    """One citizen in their own session, asking one question after another until the deadline."""
    session_id = f"bench-{uuid.uuid4().hex}"
    for _ in range(MAX_TURNS_PER_USER):
        if time.monotonic() >= deadline:
            return
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


async def run_load(url: str, users: int, duration: float, seed: int) -> tuple[Results, float]:
    """All citizens at once; returns what they saw and the wall time taken."""
    results = Results()
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0), limits=limits) as client:
        start = time.monotonic()
        deadline = start + duration
        await asyncio.gather(*(citizen(client, url, deadline, random.Random(seed + i), results) for i in range(users)))
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


def report(results: Results, wall_s: float, users: int, logged: int) -> bool:
    """Print the numbers; True when every answered turn was logged."""
    lat = results.latencies_ms
    print(f"users {users}, {wall_s:.1f} s, {sum(results.statuses.values())} requests")
    rate = results.ok / wall_s
    print(f"throughput   {rate:.2f} turns/s ({results.ok} turns with status 200, {results.answered} answered)")
    print(
        f"latency ms   p50 {percentile(lat, 50):.0f}  p95 {percentile(lat, 95):.0f}  p99 {percentile(lat, 99):.0f}"
        f"  mean {statistics.fmean(lat) if lat else float('nan'):.0f}  max {max(lat, default=float('nan')):.0f}"
    )
    errors = {status: n for status, n in sorted(results.statuses.items()) if status != "200"}
    print(f"errors       {sum(errors.values())} {errors if errors else ''}".rstrip())
    verdict = "OK" if logged == results.ok else "MISMATCH"
    print(f"logged turns {logged} of {results.ok} sent  {verdict}")
    return logged == results.ok


def measure(url: str, log_url: str, users: int, duration: float, seed: int) -> bool:
    """Run the load against a running API and check its conversation log gained one row per answered request."""
    log = ConversationLog.open(log_url)
    try:
        before = log.count()
        results, wall_s = asyncio.run(run_load(url.rstrip("/"), users, duration, seed))
        logged = wait_for_log(log, before + results.ok) - before
    finally:
        log.close()
    return report(results, wall_s, users, logged)


def serving(settings: AppSettings) -> AbstractContextManager[str]:
    """The API on a free loopback port in a background thread; yields its base URL."""
    return serving_api(create_app(settings))


@contextmanager
def spawned_stack(workdir: Path) -> Iterator[tuple[str, str]]:
    """The sample knowledge base ingested afresh, Rasa, the action server and the API; yields (url, log URL)."""
    kb_settings = Settings()
    kb_settings.store.url = f"sqlite:///{workdir}/kb.db"
    kb_settings.index.dir = workdir / "index"
    print("ingesting the sample knowledge base …", file=sys.stderr, flush=True)
    kb = KnowledgeBase.open(kb_settings)
    ingest = kb.ingest([SAMPLE_DIR])
    kb.close()
    if ingest.errors:
        raise RuntimeError(f"sample ingest failed: {ingest.errors}")
    env = {"POLICY_STORE__URL": kb_settings.store.url, "POLICY_INDEX__DIR": str(kb_settings.index.dir)}
    print("starting the action server and Rasa …", file=sys.stderr, flush=True)
    with assistant_stack(workdir, env) as stack:
        # the action server loads the model on its first question: not part of the measurement, nor of the log
        warm_up = {"sender": "warm-up", "message": QUESTIONS[0]}
        httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=warm_up, timeout=180).raise_for_status()
        settings = AppSettings()
        settings.store.url = kb_settings.store.url
        settings.index.dir = kb_settings.index.dir
        settings.rasa.url = stack.rasa_url
        settings.rasa.actions_url = stack.actions_url
        settings.chat.rate_limit = "100000/minute"
        settings.conversation_log.url = f"sqlite:///{workdir}/conversations.db"
        settings.conversation_log.spool = str(workdir / "log-spool.jsonl")
        with serving(settings) as url:
            yield url, settings.conversation_log.url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="base URL of a running API")
    parser.add_argument("--users", type=int, default=20, help="concurrent citizens (default 20)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load (default 30)")
    parser.add_argument("--log-url", default=None, help="conversation log URL (default: from AppSettings)")
    parser.add_argument("--spawn", action="store_true", help="start the whole stack on the sample knowledge base")
    parser.add_argument("--seed", type=int, default=12345, help="seed of the question draws")
    args = parser.parse_args()
    if not 1 <= args.users <= 1000 or not 0 < args.duration <= 3600:
        parser.error("--users must be 1–1000 and --duration 0–3600 s")
    if args.spawn:
        with tempfile.TemporaryDirectory(prefix="load-") as tmp, spawned_stack(Path(tmp)) as (url, log_url):
            print(f"load: {args.users} users for {args.duration:.0f} s against {url}", file=sys.stderr, flush=True)
            ok = measure(url, log_url, args.users, args.duration, args.seed)
    else:
        ok = measure(args.url, args.log_url or AppSettings().log_url, args.users, args.duration, args.seed)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
