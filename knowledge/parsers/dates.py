"""Dates as government documents write them: 2023-03-01, 2023/3/1, 2023年3月1日, 二〇二三年三月一日."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

_NUMERAL = "0-9〇○零一二三四五六七八九十"
_DATE = re.compile(
    rf"(?P<year>[{_NUMERAL}]{{4}})\s*[-/.年]\s*(?P<month>[{_NUMERAL}]{{1,3}})\s*[-/.月]\s*"
    rf"(?P<day>[{_NUMERAL}]{{1,3}})(?:\s*日)?"
)
# a time may follow (2015-01-06 00:00:00, 2023-03-01T10:00+08:00); anything else is not a date
_TRAILER = re.compile(r"(?:[T\s]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_DIGITS = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7}
_DIGITS.update({"八": 8, "九": 9})


def _to_int(numeral: str) -> int:
    """Read 2023, 二〇二三, 十二 or 二十五 as an integer."""
    if numeral.isdigit():
        return int(numeral)
    if "十" in numeral:
        tens, _, ones = numeral.partition("十")
        return _DIGITS.get(tens, 1) * 10 + _DIGITS.get(ones, 0)
    return int("".join(str(_DIGITS[char]) for char in numeral))


def _match_date(text: str) -> date | None:
    """The date at the start of ``text`` when the whole text is a date (plus an optional time)."""
    folded = unicodedata.normalize("NFKC", text).strip()
    match = _DATE.match(folded)
    if match is None or not _TRAILER.fullmatch(folded[match.end() :]):
        return None
    try:
        return date(_to_int(match["year"]), _to_int(match["month"]), _to_int(match["day"]))
    except (ValueError, KeyError):
        return None


def parse_date(value: object) -> date | None:
    """Read a metadata date; empty means unknown, anything unreadable raises ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    parsed = _match_date(str(value))
    if parsed is None:
        raise ValueError(f"日期无法识别：{value}")
    return parsed


def is_date_line(line: str) -> bool:
    """Whether a line holds nothing but a date, like the 成文日期 under a signature."""
    return _match_date(line) is not None


def find_date_line(lines: list[str]) -> date | None:
    """The first line that is only a date: where official documents put their 成文日期."""
    for line in lines:
        found = _match_date(line)
        if found is not None:
            return found
    return None
