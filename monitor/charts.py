"""The report's charts (matplotlib, Agg), labelled in Chinese with Noto Sans CJK SC from Debian's fonts-noto-cjk.

``draw(name, report, fmt)`` returns PNG or SVG bytes. SVG keeps its text as paths, so a browser or WeasyPrint
without the font still shows the labels. A chart with nothing to show says so instead of drawing empty axes.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .report import Report

CJK_FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc"),
)
FAMILY = "Noto Sans CJK SC"  # the simplified-Chinese face of the collection (not the JP glyph forms)
CHARTS: dict[str, str] = {
    "volume": "每日数量趋势",
    "channels": "各渠道数量",
    "answer_rate": "各渠道解答率",
    "categories": "事项分类",
    "hot_issues": "热点问题热度",
}
FORMATS = ("png", "svg")
HALF_WIDTH = frozenset({"channels", "answer_rate"})
COLOURS = ("#1f5fa8", "#d9822b", "#3a8f5c", "#b8434b", "#7a5ea8")
WIDTH, HEIGHT = 8.0, 3.6  # inches: fits an A4 page's text width at 150 dpi


class ChartError(ValueError):
    """An unknown chart or format."""


@cache
def _pyplot() -> Any:
    """matplotlib on the Agg backend with the CJK font registered, once per process."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    font = next((p for p in CJK_FONTS if p.is_file()), None)
    if font is None:
        raise ChartError("没有找到 Noto Sans CJK 字体：请安装 Debian 的 fonts-noto-cjk（make setup 会安装）。")
    font_manager.fontManager.addfont(str(font))
    matplotlib.rcParams.update(
        {
            "font.family": [FAMILY],
            "axes.unicode_minus": False,
            "svg.fonttype": "path",
            "figure.dpi": 100,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 12,
            "font.size": 9,
        }
    )
    return plt


def _figure(height: float = HEIGHT, width: float = WIDTH) -> tuple[Figure, Any]:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(width, height), layout="constrained")
    return figure, axes


def _empty(axes: Any, title: str, reason: str) -> None:
    axes.set_title(title)
    axes.text(0.5, 0.5, reason, ha="center", va="center", transform=axes.transAxes, color="#555")
    axes.set_axis_off()


def _width(text: str) -> int:
    """Display width in half-width cells: a Chinese character takes two, a Latin letter or digit one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _short(text: str, limit: int = 16) -> str:
    """At most ``limit`` Chinese characters wide (Latin letters count half), cut with an ellipsis."""
    if _width(text) <= 2 * limit:
        return text
    kept = ""
    for ch in text:
        if _width(kept + ch) > 2 * limit - 2:
            break
        kept += ch
    return kept + "…"


def _label(text: str, limit: int = 16) -> str:
    """A bar's label: one line when it fits, else two, split before its bracket (问政留言 / （…）)."""
    head, bracket, tail = text.partition("（")
    if _width(text) <= 2 * limit or not (head and bracket):
        return _short(text, limit)
    return f"{_short(head, limit)}\n{_short(bracket + tail, limit)}"


def _volume(report: Report, axes: Any) -> None:
    days = report.overview.days
    title = CHARTS["volume"]
    series = [
        ("问政留言", [d.messages for d in days]),
        ("对话提问", [d.questions for d in days]),
        ("工单", [d.work_orders for d in days]),
    ]
    series = [(label, values) for label, values in series if any(values)]
    if not series:
        _empty(axes, title, "本期没有留言、提问或工单")
        return
    x = [d.day for d in days]
    weekly = len(days) > 62  # a year of daily points is noise: show weekly sums
    for (label, values), colour in zip(series, COLOURS, strict=False):
        if weekly:  # full weeks only: a last week of one or two days would read as a collapse
            sums = [sum(values[k : k + 7]) for k in range(0, len(values) - 6, 7)]
            axes.plot(x[: 7 * len(sums) : 7], sums, label=f"{label}（每周）", color=colour, linewidth=1.6)
        else:
            axes.plot(
                x, values, label=label, color=colour, linewidth=1.6, marker="o" if len(x) <= 31 else None, markersize=3
            )
    axes.set_title(title)
    axes.set_ylabel("条数")
    axes.yaxis.get_major_locator().set_params(integer=True)  # counts: no 17.5 messages
    axes.legend(frameon=False, loc="upper left")
    axes.grid(axis="y", color="#ddd", linewidth=0.6)
    axes.figure.autofmt_xdate()


def _barh(
    axes: Any, title: str, labels: Sequence[str], values: Sequence[float], xlabel: str, fmt: str = "{:g}"
) -> None:
    positions = list(range(len(labels)))[::-1]
    bars = axes.barh(positions, values, color=COLOURS[0], height=0.6)
    axes.set_yticks(positions, [_label(label) for label in labels])
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.bar_label(bars, labels=[fmt.format(v) for v in values], padding=3, fontsize=8)
    axes.margins(x=0.12)


def _channels(report: Report, axes: Any) -> None:
    channels = report.overview.channels[:10]
    if not channels:
        _empty(axes, CHARTS["channels"], "本期没有记录")
        return
    _barh(axes, CHARTS["channels"], [c for c, _ in channels], [n for _, n in channels], "条数")


def _answer_rate(report: Report, axes: Any) -> None:
    rows = [(c, a / (a + u)) for c, a, u in report.overview.answer_by_channel if a + u]
    if not rows:
        _empty(axes, CHARTS["answer_rate"], "本期对话日志中没有政策提问")
        return
    _barh(axes, CHARTS["answer_rate"], [c for c, _ in rows], [100 * r for _, r in rows], "解答率（%）", "{:.0f}%")
    axes.set_xlim(0, 110)


def _categories(report: Report, axes: Any) -> None:
    rows = report.overview.categories[:12]
    if not rows:
        _empty(axes, CHARTS["categories"], "本期没有可分类的留言或工单")
        return
    _barh(axes, CHARTS["categories"], [c for c, _ in rows], [n for _, n in rows], "条数")


def _hot(report: Report, axes: Any) -> None:
    issues = report.hot_issues[:10]
    if not issues:
        _empty(axes, CHARTS["hot_issues"], "本期没有形成热点问题")
        return
    labels = [f"{i.rank}. {i.label}" for i in issues]  # 1. 丽发新城 / （搅拌站）: two lines when it is long
    _barh(axes, CHARTS["hot_issues"], labels, [i.heat for i in issues], "热度指数", "{:.1f}")


_DRAW = {
    "volume": _volume,
    "channels": _channels,
    "answer_rate": _answer_rate,
    "categories": _categories,
    "hot_issues": _hot,
}


def _height(name: str, report: Report) -> float:
    rows = {
        "channels": len(report.overview.channels[:10]),
        "answer_rate": len(report.overview.answer_by_channel),
        "categories": len(report.overview.categories[:12]),
        "hot_issues": len(report.hot_issues[:10]),
    }
    return HEIGHT if name not in rows else max(2.2, 0.9 + 0.32 * rows[name])


def draw(name: str, report: Report, fmt: str = "png", dpi: int = 150) -> bytes:
    """One chart of the report as PNG or SVG bytes; ChartError for an unknown name or format."""
    if name not in _DRAW:
        raise ChartError(f"没有名为 {name!r} 的图表（可用：{', '.join(CHARTS)}）。")
    if fmt not in FORMATS:
        raise ChartError(f"图表格式只能是 {' 或 '.join(FORMATS)}。")
    plt = _pyplot()
    # channels and answer rate sit side by side on the page: half as wide, so their labels keep their size
    figure, axes = _figure(_height(name, report), WIDTH / 2 + 0.4 if name in HALF_WIDTH else WIDTH)
    try:
        _DRAW[name](report, axes)
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
        return buffer.getvalue()
    finally:
        plt.close(figure)
