"""Message exports as 问政 platforms and mailboxes write them (xlsx, csv): rows of cells, times, counts;
and the other direction, work orders exported as CSV and XLSX for staff.

Read in streaming mode (openpyxl read-only, csv line by line), so an export of any size is never held whole.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from knowledge.errors import IngestError
from knowledge.privacy import mask_phone

from .workorders import BEIJING

REQUIRED = ("留言编号", "留言主题", "留言时间", "留言详情")
OPTIONAL = ("留言用户", "点赞数", "反对数", "答复意见", "答复时间")
# Forms met in the real exports: 2019/2/28 11:25:05, 2019/06/20 20:38:47, 2019/9/17 4:25:00, 2018/4/24 (a date
# alone); also accepted: dashes or dots, 2019年5月9日 9时5分, minutes without seconds, and Excel serial numbers.
_TIME = re.compile(
    r"^(\d{4})\s*[/\-.年]\s*(\d{1,2})\s*[/\-.月]\s*(\d{1,2})\s*日?"
    r"(?:[\sT]+(\d{1,2})\s*[:：时]\s*(\d{1,2})\s*(?:[:：分]\s*(\d{1,2})(?:\.\d+)?\s*秒?)?)?$"
)
_EXCEL_EPOCH = datetime(1899, 12, 30)
_SPACE = re.compile(r"[\s\u3000\xa0]+")


def clean_text(value: Any) -> str:
    """A cell as one line of text: whitespace runs (tabs, ideographic spaces, newlines) become one space."""
    if value is None:
        return ""
    return _SPACE.sub(" ", str(value)).strip()


def parse_time(value: Any) -> datetime:
    """A 留言时间 / 答复时间 cell: a datetime cell, an Excel serial number or one of the text forms above."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value < 100000:
        return (_EXCEL_EPOCH + timedelta(days=float(value))).replace(microsecond=0)
    match = _TIME.match(clean_text(value))
    if match is None:
        raise ValueError(f"无法识别的时间：{clean_text(value)[:30]!r}")
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    return datetime(year, month, day, hour, minute, second)  # ValueError on 2019/2/30


def _count(value: Any, column: str) -> int:
    if value is None or clean_text(value) == "":
        return 0
    text = clean_text(value)
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if not text.isdigit():
        raise ValueError(f"{column}不是非负整数：{text[:20]!r}")
    return int(text)


def _reason(error: ValueError, value: Any) -> str:
    text = str(error)
    return text if text.startswith("无法识别") else f"不存在的日期 {clean_text(value)[:30]!r}"


def _external_id(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_text(value)


def _header(cells: Sequence[Any], path: Path) -> list[str]:
    names = [clean_text(c) for c in cells]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise IngestError(str(path), f"缺少列：{'、'.join(missing)}（需要 {'、'.join(REQUIRED)}）")
    return names


def _xlsx_rows(path: Path) -> tuple[int | None, Iterator[tuple[int, dict[str, Any]]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises zipfile, KeyError and its own errors for a bad file
        raise IngestError(str(path), f"无法读取 Excel 文件：{error}") from error
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = _header(next(rows, ()), path)
    total = sheet.max_row - 1 if sheet.max_row else None

    def generate() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            for number, cells in enumerate(rows, start=2):
                if any(c is not None and clean_text(c) for c in cells):
                    yield number, dict(zip(header, cells, strict=False))
        finally:
            workbook.close()

    return total, generate()


def _csv_encoding(path: Path) -> str:
    head = path.read_bytes()[:65536]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # a cut multi-byte character at the end is not a wrong guess
            return "gb18030"  # what Excel writes for CSV on Chinese Windows
    return "utf-8-sig"


def _csv_rows(path: Path) -> tuple[int | None, Iterator[tuple[int, dict[str, Any]]]]:
    encoding = _csv_encoding(path)
    with path.open(encoding=encoding, newline="") as handle:
        header = _header(next(csv.reader(handle), []), path)
    with path.open(encoding=encoding, newline="") as handle:
        total = max(sum(1 for _ in csv.reader(handle)) - 1, 0)

    def generate() -> Iterator[tuple[int, dict[str, Any]]]:
        with path.open(encoding=encoding, newline="") as handle:
            reader = csv.reader(handle)
            next(reader, None)
            for cells in reader:
                if any(c.strip() for c in cells):
                    yield reader.line_num, dict(zip(header, cells, strict=False))

    return total, generate()


def read_rows(path: Path) -> tuple[int | None, Iterator[tuple[int, dict[str, Any]]]]:
    """(row count if known, (row number, {column: cell}) pairs) of an xlsx or csv export."""
    if not path.is_file():
        raise IngestError(str(path), "文件不存在")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    if suffix == ".csv":
        return _csv_rows(path)
    raise IngestError(str(path), f"不支持的文件类型 {suffix}（支持 .xlsx、.csv）")


# -- work-order exports (the other direction: rows out, for staff and spreadsheets) ---------------------

WORK_ORDER_COLUMNS = (
    "工单编号", "状态", "类型", "创建时间", "来电时间", "来电人", "联系电话", "诉求类型", "事项分类", "地点",
    "诉求摘要", "已答复内容", "建议承办单位", "承办单位", "是否需要转办",
)
STATUS_NAMES = {"draft": "草稿", "open": "待处理", "assigned": "已派单", "replied": "已答复", "closed": "已办结"}
KIND_NAMES = {"handoff": "转人工", "complaint": "投诉表单", "no_answer": "未答复转办", "hotline": "热线来电"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
EXPORT_FORMATS = ("csv", "xlsx")


def work_order_rows(
    orders: Sequence[Any], details: dict[str, dict[str, Any]] | None = None, full_phone: bool = False
) -> list[list[Any]]:
    """Rows of WORK_ORDER_COLUMNS for monitor.workorders.WorkOrder objects; the phone masked unless ``full_phone``.

    ``details``: per number, the hotline's own fields (来电时间, 已答复内容, 是否需要转办)."""
    rows = []
    for order in orders:
        extra = (details or {}).get(order.number, {})
        called = extra.get("来电时间")
        transfer = extra.get("是否需要转办")
        rows.append([
            order.number, STATUS_NAMES.get(order.status.value, order.status.value),
            KIND_NAMES.get(order.kind.value, order.kind.value),
            f"{order.created_at.astimezone(BEIJING):%Y-%m-%d %H:%M:%S}",
            f"{called.astimezone(BEIJING):%Y-%m-%d %H:%M:%S}" if isinstance(called, datetime) else "",
            order.name, order.phone if full_phone else mask_phone(order.phone), order.appeal_type, order.category,
            order.where, order.summary or order.what, extra.get("已答复内容", ""), order.suggested_department,
            order.department, "" if transfer is None else ("是" if transfer else "否"),
        ])
    return rows


def _safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet will not run: a leading = + - @ makes a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_table(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> bytes:
    """A header and rows as CSV (UTF-8 with BOM, as Excel on Chinese Windows opens it) or XLSX bytes."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"export format must be one of {EXPORT_FORMATS}, not {fmt!r}")
    safe = [[_safe_cell(cell) for cell in row] for row in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(columns)
        writer.writerows(safe)
        return buffer.getvalue().encode("utf-8-sig")
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("工单")
    sheet.append(list(columns))
    for row in safe:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
