"""Command line for citizen messages and reports.

``python -m monitor import FILE [--source NAME]`` imports a 问政 export; ``python -m monitor report --from
YYYY-MM-DD --to YYYY-MM-DD --format html|pdf|xlsx|json --out DIR`` writes the period's opinion report
(several formats at once: ``--format html,pdf``), its stages shown on stderr.

``monitor/__main__.py`` dispatches here: ``add_commands(subparsers)`` registers the subcommands on its parser
and ``run(args, settings)`` runs the one parsed; ``main(argv)`` does both for a standalone call.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from knowledge.embedding import load_embedder
from knowledge.errors import KnowledgeError
from knowledge.settings import Settings

from .messages import DEFAULT_EMBED_CHARS, ImportReport, MessageStore, Progress, import_messages
from .report import STAGES, build_report
from .report_formats import FORMATS, write_report
from .report_sources import BadPeriod, Period, open_sources
from .settings import MonitorSettings

MAX_LISTED_BAD_ROWS = 50


def add_commands(sub: Any) -> None:
    """Register ``import`` and ``report`` on an argparse subparsers object."""
    p = sub.add_parser("import", help="import citizen messages (xlsx or csv: 留言编号, 留言主题, 留言时间, 留言详情…)")
    p.add_argument("paths", nargs="+", metavar="FILE", help="message export(s), .xlsx or .csv")
    p.add_argument("--source", help="source name the 留言编号 belong to (default: the file name without extension)")
    p.add_argument("--url", help="SQLAlchemy URL of the message store (default: the store's URL)")


    r = sub.add_parser("report", help="write the opinion report (舆情报告) of a period: html, pdf, xlsx or json")
    r.add_argument("--from", dest="first", required=True, metavar="YYYY-MM-DD", help="first day (China time)")
    r.add_argument("--to", dest="last", required=True, metavar="YYYY-MM-DD", help="last day, included")
    r.add_argument("--format", dest="formats", default="html", type=_formats,
                   help=f"one or more of {', '.join(FORMATS)}, comma-separated (default html)")
    r.add_argument("--out", type=Path, default=Path("var/reports"), help="folder to write to (default var/reports)")
    r.add_argument("--url", help="SQLAlchemy URL of the message store (default: the store's URL)")
    r.add_argument("--log-url", help="SQLAlchemy URL of the conversation log (default: the log's URL)")


def _formats(text: str) -> list[str]:
    wanted = [f.strip().lower() for f in text.split(",") if f.strip()]
    if not wanted or any(f not in FORMATS for f in wanted):
        raise argparse.ArgumentTypeError(f"格式只能是 {', '.join(FORMATS)}（可用逗号分隔多个），收到 {text!r}")
    return list(dict.fromkeys(wanted))


def _progress_bar(label: str) -> tuple[Progress, tqdm]:
    bar = tqdm(desc=label, unit="行", file=sys.stderr, leave=False)

    def update(done: int, total: int | None) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar


def print_report(report: ImportReport) -> None:
    """Bad rows to stderr (the first few with their row numbers), the summary to stdout."""
    for bad in report.bad_rows[:MAX_LISTED_BAD_ROWS]:
        action = "未导入" if bad.skipped else "已导入"
        where = f"{report.path} 第 {bad.row} 行（留言编号 {bad.external_id or '—'}）"
        print(f"{where}{action}：{bad.reason}", file=sys.stderr)
    if len(report.bad_rows) > MAX_LISTED_BAD_ROWS:
        print(f"……另有 {len(report.bad_rows) - MAX_LISTED_BAD_ROWS} 行有问题", file=sys.stderr)
    skipped = sum(1 for b in report.bad_rows if b.skipped)
    print(f"{report.path}：读取 {report.rows} 行，新增 {report.added}，已导入过 {report.already_imported}，"
          f"重复内容 {report.duplicates}，问题行 {len(report.bad_rows)}（未导入 {skipped}），"
          f"新嵌入 {report.embedded}，复用向量 {report.reused_vectors}")


def write_period_report(args: argparse.Namespace, settings: MonitorSettings) -> int:
    """Build the period's report and write each format asked for; 2 for a bad period."""
    try:
        period = Period.parse(args.first, args.last)
    except BadPeriod as error:
        print(f"无法生成报告：{error.message}", file=sys.stderr)
        return 2
    stages = tqdm(total=len(STAGES) + len(args.formats), desc="舆情报告", unit="步", file=sys.stderr, leave=False)

    started: list[str] = []

    def progress(stage: str) -> None:
        if started:  # the bar counts finished stages and names the one running
            stages.update(1)
        started.append(stage)
        stages.set_postfix_str(stage)

    sources = open_sources(settings, args.url, args.log_url)
    try:
        built = build_report(sources, period, progress)
        for fmt in args.formats:
            progress(f"写出 {fmt}")
            path = write_report(built, fmt, args.out)
            print(path)
        stages.update(1)
    finally:
        stages.close()
        sources.close()
    hot = len(built.hot_issues)
    print(f"{period.label}：问政留言 {built.overview.messages} 条，对话提问 {built.overview.questions} 次，"
          f"工单 {built.overview.work_orders} 件；热点问题 {hot} 个，处置建议 {len(built.actions)} 条", file=sys.stderr)
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run a parsed monitor command; 0 on success, 2 when a file could not be read at all."""
    if args.command == "report":
        return write_period_report(args, settings if isinstance(settings, MonitorSettings) else MonitorSettings())
    if args.command != "import":
        raise ValueError(f"unknown monitor command {args.command!r}")
    store = MessageStore.open(args.url or settings.store.url)
    embedder = load_embedder(settings.index.model)
    chars = settings.messages.embed_chars if isinstance(settings, MonitorSettings) else DEFAULT_EMBED_CHARS
    status = 0
    try:
        for path in args.paths:
            progress, bar = _progress_bar(Path(path).name)
            try:
                report = import_messages(store, Path(path), embedder, progress, args.source, chars)
            except KnowledgeError as error:
                print(f"未导入 {error.message}", file=sys.stderr)
                status = 2
                continue
            finally:
                bar.close()
            print_report(report)
    finally:
        store.close()
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m monitor", description="市民留言导入与舆情分析")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    """Parse and run; the entry point ``monitor/__main__.py`` calls."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    return run(args, settings or MonitorSettings())
