"""Opinion-monitoring bench: time and peak memory per stage over the real messages and ×10 / ×100 copies.

    .venv/bin/python bench/monitor.py --work var/bench-monitor --scales 1 10 [100]

Each scale runs best in a process of its own (``--scales 10``), so peak RSS belongs to that scale.
Stages: import+embed of the real export (measured once, the store is kept in --work and reused), re-import
(adds nothing), import rate with and without repeated texts, then per scale: hot issues, bursts, risk signals
and reply quality. Copies ×N are written straight into a store of their own with the real vectors plus small Gaussian
noise (σ 0.01, renormalised) and times jittered by up to ±3 days, so 432,600 texts are not re-embedded.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.embedding import load_embedder  # noqa: E402
from knowledge.settings import Settings  # noqa: E402
from monitor.classify import Classifier, ClassifySettings  # noqa: E402
from monitor.messages import (  # noqa: E402
    MessageStore,
    _digest,
    _to_blob,
    import_messages,
    message_row,
)

DATA = ROOT.parent / "shared" / "data" / "tipdm"


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def measure(label: str, work: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    """Run work() and return its result with wall time, RSS before/after and the process's peak RSS so far.

    No tracemalloc: it hooks every allocation and made jieba's tokenising several times slower.
    """
    before = _rss_mb()
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    row = {"stage": label, "seconds": round(seconds, 2), "rss_before_mb": round(before, 1),
           "rss_after_mb": round(_rss_mb(), 1),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    print(json.dumps(row, ensure_ascii=False), flush=True)
    return result, row


def import_real(work: Path, settings: Settings) -> list[dict[str, Any]]:
    """Import both real exports once (timings kept in work/import.json), then re-import to show it adds nothing."""
    record = work / "import.json"
    store = MessageStore.open(f"sqlite:///{work}/x1.db")
    embedder = load_embedder(settings.index.model)
    rows: list[dict[str, Any]] = json.loads(record.read_text()) if record.is_file() else []
    done = {r["stage"] for r in rows}
    for name in ("messages_2019.xlsx", "messages_with_replies.xlsx"):
        if f"import+embed {name}" not in done:
            report, row = measure(f"import+embed {name}", lambda n=name: import_messages(store, DATA / n, embedder))
            row.update(rows_read=report.rows, added=report.added, embedded=report.embedded,
                       bad_rows=len(report.bad_rows), rows_per_s=round(report.rows / row["seconds"], 1))
            rows.append(row)
            record.write_text(json.dumps(rows, ensure_ascii=False, indent=1))
        report, row = measure(f"re-import {name}", lambda n=name: import_messages(store, DATA / n, embedder))
        row.update(added=report.added, already_imported=report.already_imported)
        rows.append(row)
    store.close()
    return rows


def import_rate(work: Path, settings: Settings, n: int = 200) -> list[dict[str, Any]]:
    """Rows/s importing n distinct texts vs n rows that repeat 20 texts (vectors reused, not re-embedded)."""
    source_store = MessageStore.open(f"sqlite:///{work}/x1.db")
    messages, _ = source_store.load(datetime(2019, 1, 1), datetime(2020, 1, 1))
    source_store.close()
    embedder = load_embedder(settings.index.model)
    random.seed(7)
    picked = random.sample(messages, n)
    results = []
    for label, texts in (("distinct texts", picked), ("repeated texts", [picked[i % 20] for i in range(n)])):
        path = work / f"rate-{label.split()[0]}.csv"
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "点赞数", "反对数"])
            for i, m in enumerate(texts):
                # the date is randomised (a new 留言编号 and user each row), so repeats are not duplicates, only
                # a reused embedding (the embedded text is the same)
                writer.writerow([f"r{i}", f"U{i}", m.title, m.at.strftime("%Y/%m/%d %H:%M:%S"), m.detail, 0, 0])
        db = work / f"rate-{label.split()[0]}.db"
        db.unlink(missing_ok=True)
        store = MessageStore.open(f"sqlite:///{db}")
        report, row = measure(f"import rate, {label}", lambda p=path, s=store: import_messages(s, p, embedder))
        row.update(rows=report.rows, embedded=report.embedded, rows_per_s=round(report.rows / row["seconds"], 1))
        results.append(row)
        store.close()
    return results


def build_copies(work: Path, scale: int) -> Path:
    """A store holding the real messages ×scale: real vectors + noise, times jittered ±3 days."""
    target = work / f"x{scale}.db"
    if scale == 1 or target.is_file():
        return target
    source = MessageStore.open(f"sqlite:///{work}/x1.db")
    store = MessageStore.open(f"sqlite:///{target}")
    rng = np.random.default_rng(scale)
    # ×100 copies only the 问政 export: its reply-quality stage is skipped (see analyse)
    messages, vectors = source.load(source="messages_2019" if scale > 10 else None)
    reply_vectors = source.reply_vectors([m.id for m in messages])
    source.close()
    for copy in range(scale):
        rows = []
        noisy = vectors + rng.normal(0, 0.01, vectors.shape).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        for m, vector in zip(messages, noisy, strict=True):
            shift = timedelta(seconds=int(rng.integers(-3 * 86400, 3 * 86400))) if copy else timedelta(0)
            c = replace(m, external_id=f"{m.external_id}-c{copy}", user=f"{m.user}-c{copy}", at=m.at + shift,
                        reply_at=m.reply_at + shift if m.reply_at else None)
            rv = reply_vectors.get(m.id)
            reply_blob = _to_blob(rv) if rv is not None else None
            rows.append(message_row(c, "copy", _digest(c.id), _to_blob(vector), reply_blob))
        for start in range(0, len(rows), 5000):
            store.add(rows[start : start + 5000])
    store.close()
    return target


@lru_cache(maxsize=1)
def report_classifier() -> Classifier:
    """The hotline's classifier on TF-IDF features, trained once per process (a report embeds nothing)."""
    settings = ClassifySettings(taxonomy=DATA / "taxonomy.xlsx", training=DATA / "messages_labelled_sample.xlsx",
                                departments=ROOT / "monitor" / "departments.yml", features="tfidf")
    return Classifier.from_settings(settings)


def analyse(
    work: Path, scale: int, start: datetime, end: datetime, label: str, skip_replies: bool = False
) -> list[dict[str, Any]]:
    """Hot issues, bursts and reply quality over one period of the ×scale store."""
    from monitor.bursts import detect_bursts, rising_topics
    from monitor.hotspots import find_hot_issues
    from monitor.replies import assess_replies, weakest_replies
    from monitor.risks import find_risks

    store = MessageStore.open(f"sqlite:///{build_copies(work, scale)}")
    # hot issues and bursts over the 问政 export (附件3), reply quality over the export with replies (附件4)
    (loaded, row) = measure(f"×{scale} {label} load", lambda: store.load(start, end, source="messages_2019"))
    rows = [row | {"messages": len(loaded[0])}]
    messages, vectors = loaded
    issues, row = measure(f"×{scale} {label} hot issues", lambda: find_hot_issues(messages, vectors, end=end))
    rows.append(row | {"issues": len(issues)})
    history, _ = store.load(start - timedelta(days=90), end, source="messages_2019")
    bursts, row = measure(f"×{scale} {label} bursts",
                          lambda: (detect_bursts(history, start, end), rising_topics(history, start, end)))
    rows.append(row | {"bursts": len(bursts[0]), "rising": len(bursts[1])})
    risks, row = measure(f"×{scale} {label} risks", lambda: find_risks(
        messages, vectors, start, end, issues=issues, classifier=report_classifier()))
    rows.append(row | {"listed": len(risks.messages), "negative": risks.negative, "turning": len(risks.issues)})
    if skip_replies:  # ×100: 281,600 replies would not fit the memory this bench allows itself
        store.close()
        return rows
    # the export with replies spans 2013–2020: its quality is measured over all of it, whatever the period
    replied, replied_vectors = store.load(replied_only=True, source="messages_with_replies")
    assessed, row = measure(f"×{scale} all replies: reply quality", lambda: assess_replies(
        replied, replied_vectors, store.reply_vectors([m.id for m in replied])))
    rows.append(row | {"replies": len(assessed), "weakest": [a.message_id for a in weakest_replies(assessed, 3)]})
    store.close()
    if scale == 1 and label == "2019":
        for issue in issues[:10]:
            print(json.dumps(issue.to_json(), ensure_ascii=False))
        for weak in weakest_replies(assessed, 5):
            print(json.dumps({"weak_reply": weak.message_id, "department": weak.department, "score": weak.score,
                              "working_days": weak.working_days, "missing": weak.missing_parts}, ensure_ascii=False))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench-monitor")
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--stages", nargs="+", default=["import", "rate", "analyse"])
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    results: list[dict[str, Any]] = []
    if "import" in args.stages:
        results += import_real(args.work, settings)
    if "rate" in args.stages:
        results += import_rate(args.work, settings)
    if "analyse" in args.stages:
        for scale in args.scales:
            results += analyse(args.work, scale, datetime(2019, 8, 1), datetime(2019, 9, 1), "2019-08", scale > 10)
            if scale <= 10:
                results += analyse(args.work, scale, datetime(2019, 1, 1), datetime(2020, 1, 1), "2019")
    (args.work / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
