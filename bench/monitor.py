"""Opinion-monitoring bench: time and memory per report stage over the real messages and ×10 / ×100 copies.

    .venv/bin/python bench/monitor.py --scales 1                      # import + embed, import rate, ×1 month and year
    .venv/bin/python bench/monitor.py --stages report --scales 10     # ×10 month and year
    .venv/bin/python bench/monitor.py --stages report --scales 100 --periods month

Run each scale in a process of its own, so the peak RSS printed is that scale's. Stages:

- ``import``: the real exports imported and embedded into ``--work``/x1.db once (kept and reused by later runs;
  each measurement kept in import.json), then imported again (adds nothing): all 4,326 rows of
  ``messages_2019.xlsx`` and of ``messages_with_replies.xlsx`` all 2,816 rows (``--replies all``) or only those
  of the month (``--replies month``: each row embeds its message and its reply, so all of them take twice as long).
- ``rate``: rows/s importing 60 distinct texts vs 60 rows repeating 6 texts (each text's vector is computed
  once and reused; the rows differ in 留言编号, user and time, so none is a duplicate).
- ``report``: per scale and period, the report exactly as ``python -m monitor report`` builds it
  (``monitor.report.build_report``), each stage timed through its progress callback: load, 事项分类 (TF-IDF),
  hot issues, bursts + rising topics, knowledge gaps, risk signals, reply quality, actions; then each format
  rendered (HTML with its charts, PDF, XLSX, JSON). The month is July 2019 (the busiest: 417 + 79 messages).

Copies ×N are written straight into a store of their own (``xN.db``): every message of both exports N times,
with the real vectors plus Gaussian noise (σ 0.002 per dimension, renormalised: cosine to the original ≈ 0.999)
and times jittered by up to ±3 days (the first copy keeps the real times), so nothing is embedded again. The
conversation log of a scale holds one unanswered question per 40 messages (the message's 主题, at its time),
repeated with each copy: the knowledge-gap stage embeds each distinct question once, as the report does. The
gaps list no closest documents here (no knowledge index is loaded). Each row printed is one JSON object; every
row of a run is also written to ``--work``/results-<scales>.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.embedding import Embedder, load_embedder  # noqa: E402
from knowledge.settings import Settings  # noqa: E402
from monitor.classify import ClassifySettings  # noqa: E402
from monitor.exports import parse_time, read_rows  # noqa: E402
from monitor.log import ConversationLog  # noqa: E402
from monitor.messages import (  # noqa: E402
    MessageStore,
    _digest,
    _to_blob,
    import_messages,
    message_row,
    messages_table,
)
from monitor.report import build_report  # noqa: E402
from monitor.report_formats import render_html, render_json, render_pdf  # noqa: E402
from monitor.report_sources import Period, ReportSources, report_classifier  # noqa: E402
from monitor.report_workbook import render_xlsx  # noqa: E402
from monitor.schema import turns  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "tipdm"
EXPORTS = ("messages_2019.xlsx", "messages_with_replies.xlsx")
CHINA = ZoneInfo("Asia/Shanghai")
PERIODS = {"month": Period(date(2019, 7, 1), date(2019, 7, 31)), "year": Period(date(2019, 1, 1), date(2019, 12, 31))}
NOISE = 0.002
QUESTION_EVERY = 40


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def emit(row: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
    """Print one result row as JSON and keep it."""
    print(json.dumps(row, ensure_ascii=False), flush=True)
    results.append(row)
    return row


def measure(label: str, work: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    """Run work() and return its result with a row: wall time, RSS after, the process's peak RSS so far.

    No tracemalloc: it hooks every allocation and made jieba's tokenising several times slower.
    """
    started = time.perf_counter()
    result = work()
    seconds = round(time.perf_counter() - started, 2)
    return result, {"stage": label, "seconds": seconds, "rss_mb": round(_rss_mb(), 1), "peak_rss_mb": _peak_mb()}


class TimedEmbedder:
    """The embedder with the time spent inside it counted, so an import's seconds split into embedding and the rest
    (reading, masking, duplicate checks, database writes): the import's profile."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name = inner, inner.name
        self.seconds, self.texts = 0.0, 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self.inner.embed_passages(texts, batch_size)
        finally:
            self.seconds += time.perf_counter() - started
            self.texts += len(texts)

    def split(self, row: dict[str, Any]) -> dict[str, Any]:
        """The row with its embedding seconds and the rest, then reset for the next measurement."""
        embed = round(self.seconds, 2)
        row.update(embed_s=embed, other_s=round(row["seconds"] - embed, 2), embedded_texts=self.texts)
        row.update(texts_per_s=round(self.texts / self.seconds, 1) if self.seconds else None)
        self.seconds, self.texts = 0.0, 0
        return row


def replies_slice(work: Path, period: Period) -> Path:
    """The rows of the export with replies written in ``period``, as a CSV of the same name (same source)."""
    target = work / "slice" / "messages_with_replies.csv"
    target.parent.mkdir(exist_ok=True)
    _, rows = read_rows(DATA / "messages_with_replies.xlsx")
    columns = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "答复意见", "答复时间"]
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(columns)
        for _, row in rows:
            at = parse_time(row["留言时间"])
            if period.start <= at < period.end:
                values = ["" if row.get(c) is None else row.get(c) for c in columns]
                values[3] = at.strftime("%Y/%m/%d %H:%M:%S")
                if row.get("答复时间"):
                    values[6] = parse_time(row["答复时间"]).strftime("%Y/%m/%d %H:%M:%S")
                writer.writerow(values)
    return target


def import_real(work: Path, embedder: Embedder, results: list[dict[str, Any]], replies: str) -> None:
    """Import and embed the real exports once (kept in x1.db; each measurement in import.json), then import them
    again: nothing is added. ``replies``: ``all`` of the export with replies, or only its ``month`` rows."""
    done = work / "import.json"
    measured = json.loads(done.read_text()) if done.is_file() else []
    store = MessageStore.open(f"sqlite:///{work}/x1.db")
    timed = TimedEmbedder(embedder)
    paths = [DATA / EXPORTS[0], DATA / EXPORTS[1] if replies == "all" else replies_slice(work, PERIODS["month"])]
    for path in paths:
        label = f"import+embed {path.name}"
        if any(row["stage"] == label for row in measured):
            emit(next(row for row in measured if row["stage"] == label) | {"note": "measured earlier"}, results)
            continue
        report, row = measure(label, lambda p=path: import_messages(store, p, timed))
        timed.split(row)
        row.update(
            rows=report.rows,
            added=report.added,
            duplicates=report.duplicates,
            embedded=report.embedded,
            reused_vectors=report.reused_vectors,
            bad_rows=len(report.bad_rows),
            rows_per_s=round(report.rows / row["seconds"], 1),
        )
        measured.append(emit(row, results))
        done.write_text(json.dumps(measured, ensure_ascii=False, indent=1))
    for path in paths:
        report, row = measure(f"re-import {path.name}", lambda p=path: import_messages(store, p, embedder))
        emit(
            row | {"added": report.added, "already_imported": report.already_imported, "embedded": report.embedded},
            results,
        )
    store.close()


def import_rate(work: Path, embedder: Embedder, results: list[dict[str, Any]], n: int = 60) -> None:
    """Rows/s importing n distinct texts vs n rows that repeat 6 texts (vectors reused, not recomputed)."""
    source = MessageStore.open(f"sqlite:///{work}/x1.db")
    messages, _ = source.load(datetime(2019, 1, 1), datetime(2020, 1, 1), source="messages_2019")
    source.close()
    picked = random.Random(7).sample(messages, n)
    timed = TimedEmbedder(embedder)
    for label, chosen in (("distinct texts", picked), ("repeated texts", [picked[i % 6] for i in range(n)])):
        path = work / f"rate-{label.split()[0]}.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "点赞数", "反对数"])
            for i, m in enumerate(chosen):
                # an hour apart: the same text within minutes would be one message exported twice, not a repeat
                when = (m.at + timedelta(hours=i)).strftime("%Y/%m/%d %H:%M:%S")
                writer.writerow([f"r{i}", f"U{i}", m.title, when, m.detail, 0, 0])
        db = work / f"rate-{label.split()[0]}.db"
        db.unlink(missing_ok=True)
        store = MessageStore.open(f"sqlite:///{db}")
        report, row = measure(f"import rate, {label}", lambda p=path, s=store: import_messages(s, p, timed))
        timed.split(row)
        store.close()
        emit(
            row
            | {
                "rows": report.rows,
                "embedded": report.embedded,
                "reused_vectors": report.reused_vectors,
                "rows_per_s": round(report.rows / row["seconds"], 1),
            },
            results,
        )


def build_copies(work: Path, scale: int, results: list[dict[str, Any]]) -> Path:
    """A store holding both real exports ×scale: real vectors + noise, times jittered ±3 days."""
    target = work / f"x{scale}.db"
    if scale == 1 or target.is_file():
        return target

    def write() -> int:
        source = MessageStore.open(f"sqlite:///{work}/x1.db")
        messages, vectors = source.load()
        reply_vectors = source.reply_vectors([m.id for m in messages])
        source.close()
        store = MessageStore.open(f"sqlite:///{target}.part")
        rng = np.random.default_rng(scale)
        for copy in range(scale):
            noisy = vectors + rng.normal(0, NOISE, vectors.shape).astype(np.float32)
            noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
            rows = []
            for m, vector in zip(messages, noisy, strict=True):
                shift = timedelta(seconds=int(rng.integers(-3 * 86400, 3 * 86400))) if copy else timedelta(0)
                c = replace(
                    m,
                    external_id=f"{m.external_id}-c{copy}",
                    user=f"{m.user}-c{copy}",
                    at=m.at + shift,
                    reply_at=m.reply_at + shift if m.reply_at else None,
                )
                rv = reply_vectors.get(m.id)
                rows.append(
                    message_row(c, "copy", _digest(c.id), _to_blob(vector), _to_blob(rv) if rv is not None else None)
                )
            store.add(rows)
        store.close()
        Path(f"{target}.part").rename(target)
        return len(messages) * scale

    written, row = measure(f"×{scale} write copies", write)
    emit(row | {"messages": written, "store_mb": round(target.stat().st_size / 2**20, 1)}, results)
    return target


def write_log(work: Path, scale: int, store: MessageStore, name: str) -> ConversationLog:
    """The scale's conversation log over the period and the one before it (what the gaps read): one unanswered
    question per QUESTION_EVERY original messages, at the message's time, repeated by each copy of it."""
    period = PERIODS[name]
    log = ConversationLog.open(f"sqlite:///{work}/log-x{scale}-{name}.db")
    if log.count():
        return log
    t = messages_table.c
    lo, hi = period.start - (period.end - period.start), period.end
    query = select(t.id, t.external_id, t.user, t.at, t.title).where(t.at >= lo, t.at < hi)
    rows = []
    with store.engine.connect() as conn:
        for key, external_id, user, at, title in conn.execute(query):
            original = re.sub(r"-c\d+$", "", external_id)
            if int(_digest(original)[:8], 16) % QUESTION_EVERY == 0:
                rows.append(
                    {
                        "id": key,
                        "at": at.replace(tzinfo=CHINA).astimezone(UTC),
                        "channel": "web",
                        "user_hash": _digest(user)[:16],
                        "question": title[:60],
                        "reply_kind": "no_answer",
                        "answered": False,
                        "confidence": 0.1,
                    }
                )
    with log.engine.begin() as conn:
        for first in range(0, len(rows), 5000):
            conn.execute(turns.insert(), rows[first : first + 5000])
    return log


def report_stages(work: Path, scale: int, name: str, embedder: Embedder, results: list[dict[str, Any]]) -> None:
    """Build one period's report over the ×scale store, timing each stage, then render every format."""
    period = PERIODS[name]
    db = build_copies(work, scale, results)
    store = MessageStore.open(f"sqlite:///{db}")
    log, row = measure(f"×{scale} {name}: write log", lambda: write_log(work, scale, store, name))
    emit(row | {"questions": log.count()}, results)
    settings = ClassifySettings(
        taxonomy=DATA / "taxonomy.xlsx",
        training=DATA / "messages_labelled_sample.xlsx",
        departments=ROOT / "monitor" / "departments.yml",
    )
    classifier, row = measure(f"×{scale} {name}: train 事项分类 (TF-IDF)", lambda: report_classifier(settings))
    emit(row, results)
    sources = ReportSources(messages=store, log=log.engine, classifier=classifier, embedder=embedder)
    marks: list[tuple[str, float, float]] = []

    def progress(stage: str) -> None:
        marks.append((stage, time.perf_counter(), _rss_mb()))

    started = time.perf_counter()
    report = build_report(sources, period, progress)
    finished = time.perf_counter()
    for k, (stage, at, _) in enumerate(marks):
        until, rss = (marks[k + 1][1], marks[k + 1][2]) if k + 1 < len(marks) else (finished, _rss_mb())
        emit({"stage": f"×{scale} {name}: {stage}", "seconds": round(until - at, 2), "rss_mb": round(rss, 1)}, results)
    overview = report.overview
    emit(
        {
            "stage": f"×{scale} {name}: report built",
            "seconds": round(finished - started, 2),
            "peak_rss_mb": _peak_mb(),
            "messages": overview.messages,
            "log_questions": overview.questions,
            "hot_issues": len(report.hot_issues),
            "bursts": len(report.bursts),
            "rising": len(report.rising),
            "gap_clusters": len(report.gaps.clusters) if report.gaps else None,
            "replies": report.replies.replies,
            "risk_listed": len(report.risks.messages),
            "actions": len(report.actions),
            "store_mb": round(db.stat().st_size / 2**20, 1),
        },
        results,
    )
    out = work / f"report-x{scale}-{name}"
    out.mkdir(exist_ok=True)
    html, row = measure(f"×{scale} {name}: render html (charts)", lambda: render_html(report))
    (out / "report.html").write_text(html, encoding="utf-8")
    emit(row | {"kb": round(len(html.encode()) / 1024, 1)}, results)
    renders = {
        "pdf": lambda: render_pdf(report, html),
        "xlsx": lambda: render_xlsx(report),
        "json": lambda: render_json(report).encode("utf-8"),
    }
    for fmt, render in renders.items():
        data, row = measure(f"×{scale} {name}: render {fmt}", render)
        (out / f"report.{fmt}").write_bytes(data)
        emit(row | {"kb": round(len(data) / 1024, 1)}, results)
    if scale == 1:
        for issue in report.hot_issues[:10]:
            route = report.route_of(issue.issue_id)
            emit(
                {
                    "hot_issue": issue.rank,
                    "heat": issue.heat,
                    "place": issue.place_or_group,
                    "messages": len(issue.messages),
                    "users": issue.users,
                    "likes": issue.likes,
                    "time_range": issue.time_range,
                    "description": issue.description,
                    "department": route.department if route else None,
                },
                results,
            )
    log.close()
    store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench-monitor")
    parser.add_argument("--scales", type=int, nargs="+", default=[1])
    stages = ("import", "rate", "report")
    parser.add_argument("--stages", nargs="+", choices=stages, default=list(stages))
    parser.add_argument(
        "--replies",
        choices=("all", "month"),
        default="all",
        help="import all of messages_with_replies.xlsx, or only its rows of the month",
    )
    parser.add_argument("--periods", nargs="+", choices=tuple(PERIODS), default=list(PERIODS))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    embedder = load_embedder(Settings().index.model)
    results: list[dict[str, Any]] = []
    if "import" in args.stages:
        import_real(args.work, embedder, results, args.replies)
    if "rate" in args.stages:
        import_rate(args.work, embedder, results)
    if "report" in args.stages:
        for scale in args.scales:
            for name in args.periods:
                report_stages(args.work, scale, name, embedder, results)
    tag = "-".join(map(str, args.scales))
    (args.work / f"results-{tag}.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
