"""Command line: ``python -m knowledge ingest|search|ask|show|history|retire|reindex|eval|terms``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tqdm import tqdm

from .base import KnowledgeBase
from .document import Answer, Passage, parse_kind, parse_validity
from .errors import KnowledgeError
from .evaluation import evaluate, load_questions, peak_memory_mb
from .index import HybridIndex
from .reader import KnowledgeReader
from .retrieval import Filters
from .settings import Settings
from .terms import write_user_dictionary
from .writer import KnowledgeWriter, Progress


def _progress(label: str) -> Progress:
    bars: dict[str, tqdm] = {}

    def update(done: int, total: int, stage: str) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=f"{label} {stage}", unit="doc", file=sys.stderr, leave=False)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


def _passage_json(p: Passage) -> dict[str, Any]:
    return {
        "doc_id": p.doc_id, "chunk_id": p.chunk.id, "heading_path": list(p.chunk.heading_path),
        "text": p.chunk.text, "score": round(p.score, 4), "dense_score": p.dense_score, "bm25_score": p.bm25_score,
        "citation": asdict(p.citation),
    }


def _print_answer(answer: Answer, hotline: str) -> None:
    if not answer.answered or answer.citation is None:
        print(f"（未找到可靠答案，置信度 {answer.confidence:.2f}）请拨打{hotline}咨询。")
        return
    print(f"答：{answer.text}")
    print(f"出处：{answer.citation.format()}  置信度 {answer.confidence:.2f}")
    if answer.citation.replaced_by:
        print(f"注意：该文件已由 {answer.citation.replaced_by} 替代。")


def _filters(args: argparse.Namespace) -> Filters:
    kinds = tuple(parse_kind(k) for k in (args.kind or []))
    return Filters(include_retired=args.include_retired, kinds=kinds, regions=tuple(args.region or []))


def cmd_ingest(kb: KnowledgeWriter, args: argparse.Namespace) -> int:
    report = kb.ingest([Path(p) for p in args.paths], _progress("ingest"))
    for error in report.errors:
        print(f"未导入 {error.path}：{error.reason}", file=sys.stderr)
    for problem in report.problems:
        print(f"跳过 {problem}", file=sys.stderr)
    for duplicate in report.duplicates:
        print(f"已导入，但 {duplicate}", file=sys.stderr)
    counts = {a: report.count(a) for a in ("created", "updated", "relabelled", "unchanged")}
    print(f"导入完成：新增 {counts['created']}，更新 {counts['updated'] + counts['relabelled']}，"
          f"未变 {counts['unchanged']}，失败文件 {len(report.errors)}，跳过记录 {len(report.problems)}")
    return 1 if report.errors and not report.changes else 0


def cmd_search(kb: KnowledgeReader, args: argparse.Namespace) -> int:
    passages = kb.search(args.question, args.top_k, _filters(args))
    if args.json:
        print(json.dumps([_passage_json(p) for p in passages], ensure_ascii=False, indent=2, default=str))
        return 0
    if not passages:
        print("没有找到相关内容。")
    for rank, p in enumerate(passages, 1):
        print(f"{rank}. {p.citation.format()}  score={p.score:.3f}")
        print(f"   {' > '.join(p.chunk.heading_path)}" if p.chunk.heading_path else "", end="")
        print(f"   {p.chunk.text[:160]}")
    return 0


def cmd_ask(kb: KnowledgeReader, args: argparse.Namespace) -> int:
    if args.question:
        _print_answer(kb.answer(args.question, _filters(args)), kb.settings.service.hotline)
        return 0
    print("政策咨询（输入问题后回车，Ctrl-D 退出）")
    for line in sys.stdin:
        if line.strip():
            try:
                _print_answer(kb.answer(line.strip(), _filters(args)), kb.settings.service.hotline)
            except KnowledgeError as error:
                print(error.message)
        kb.refresh()
    return 0


def cmd_show(kb: KnowledgeWriter, args: argparse.Namespace) -> int:
    doc = kb.get(args.id)
    data = asdict(doc)
    data["history"] = [
        {"version": v.version, "action": v.action, "note": v.note, "changed_at": v.changed_at} for v in kb.history(doc.id)
    ]
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    return 0


def cmd_retire(kb: KnowledgeWriter, args: argparse.Namespace) -> int:
    change = kb.retire(args.id, parse_validity(args.validity), args.replaced_by or "", args.note or "")
    print(f"{change.doc_id}：{change.action}（版本 {change.version}）")
    return 0


def cmd_reindex(kb: KnowledgeWriter, args: argparse.Namespace) -> int:
    if args.if_outdated:
        reason = HybridIndex.outdated(kb.index_dir, kb.settings.index.model)
        if reason is None:
            print("索引无需重建")
            return 0
        print(f"索引需要重建：{reason}")
    count = kb.reindex(_progress("reindex"))
    print(f"索引已重建：{count} 个片段")
    return 0


def cmd_terms(kb: KnowledgeReader, args: argparse.Namespace) -> int:
    count = write_user_dictionary(kb.documents().values(), Path(args.out))
    print(f"已写入 {count} 个词条到 {args.out}")
    return 0


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    questions = load_questions(Path(args.questions))
    with tempfile.TemporaryDirectory(prefix="knowledge-eval-") as tmp:
        scratch = settings.model_copy(deep=True)
        scratch.store.url = f"sqlite:///{tmp}/eval.db"
        scratch.index.dir = Path(tmp) / "index"
        kb = KnowledgeBase.open(scratch)
        kb.ingest([Path(args.documents)], _progress("eval"))
        bar = tqdm(total=len(questions), desc="eval questions", file=sys.stderr, leave=False)
        result = evaluate(kb, questions, args.top_k, progress=lambda done, total: bar.update(1))
        bar.close()
        result["chunks"] = len(kb.index)
        result["peak_memory_mb"] = round(peak_memory_mb(), 1)
        kb.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key:>16}  {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge", description="政策知识库：导入、检索、问答、评测")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ingest", help="import files or folders (md, txt, html, docx, pdf, jsonl, csv, xlsx)")
    p.add_argument("paths", nargs="+")
    for name, helptext in (("search", "show the best passages"), ("ask", "answer a question (no question: interactive)")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("question", nargs="?" if name == "ask" else None, default="")
        p.add_argument("--top-k", type=int, default=5)
        p.add_argument("--json", action="store_true")
        p.add_argument("--include-retired", action="store_true", help="also return 已废止 / 失效 documents")
        p.add_argument("--kind", action="append", help="policy, interpretation, faq, service_guide, notice")
        p.add_argument("--region", action="append")
    p = sub.add_parser("show", help="a document with its history")
    p.add_argument("id")
    p = sub.add_parser("retire", help="relabel a document 已废止 / 失效 / 已修改")
    p.add_argument("id")
    p.add_argument("--validity", required=True)
    p.add_argument("--replaced-by")
    p.add_argument("--note")
    p = sub.add_parser("reindex", help="rebuild the index from the store (after changing the model or the chunker)")
    p.add_argument("--if-outdated", action="store_true", help="only when built for another model or an older chunker")
    p = sub.add_parser("terms", help="write a jieba user dictionary of the knowledge base's terms")
    p.add_argument("out")
    p = sub.add_parser("eval", help="measure retrieval and answers on annotated questions")
    p.add_argument("--documents", required=True)
    p.add_argument("--questions", required=True)
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--json", action="store_true")
    return parser


# the commands that only read open a reader over the published index and never touch the store
WRITER_COMMANDS = {"ingest": cmd_ingest, "show": cmd_show, "retire": cmd_retire, "reindex": cmd_reindex}
READER_COMMANDS = {"search": cmd_search, "ask": cmd_ask, "terms": cmd_terms}


def _run(settings: Settings, args: argparse.Namespace) -> int:
    if args.command in READER_COMMANDS:
        reader = KnowledgeReader.open(settings)
        try:
            return READER_COMMANDS[args.command](reader, args)
        finally:
            reader.close()
    writer = KnowledgeWriter.open(settings)
    try:
        return WRITER_COMMANDS[args.command](writer, args)
    finally:
        writer.close()


def main(argv: Sequence[str] | None = None, settings: Settings | None = None) -> int:
    """Entry point; returns the exit status (2 for a clear error)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = settings or Settings()
    try:
        if args.command == "eval":
            return cmd_eval(settings, args)
        return _run(settings, args)
    except KnowledgeError as error:
        print(f"错误：{error.message}", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"错误：{error}", file=sys.stderr)
        return 2
    except OSError as error:  # a file named on the command line that cannot be read
        print(f"错误：无法读取 {error.filename or ''}：{error.strerror or error}", file=sys.stderr)
        return 2
