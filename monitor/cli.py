"""Command line for citizen messages: ``python -m monitor import FILE [--source NAME]``.

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
from .settings import MonitorSettings

MAX_LISTED_BAD_ROWS = 50


def add_commands(sub: Any) -> None:
    """Register ``import`` on an argparse subparsers object."""
    p = sub.add_parser("import", help="import citizen messages (xlsx or csv: 留言编号, 留言主题, 留言时间, 留言详情…)")
    p.add_argument("paths", nargs="+", metavar="FILE", help="message export(s), .xlsx or .csv")
    p.add_argument("--source", help="source name the 留言编号 belong to (default: the file name without extension)")
    p.add_argument("--url", help="SQLAlchemy URL of the message store (default: the store's URL)")


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


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run a parsed monitor command; 0 on success, 2 when a file could not be read at all."""
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
    return run(args, settings or Settings())
