"""Working days on the mainland calendar: the State Council's holiday arrangements, with the weekend days made up
as workdays (chinese-calendar).

The package covers 2004 to its release year (1.11.0: 2026); a day past that is counted Monday to Friday, and every
count says whether the calendar covered all of its days, so a finding or a report can say it is an estimate.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=8192)
def is_workday(day: date) -> tuple[bool, bool]:
    """Whether ``day`` is a working day, and whether the holiday calendar knew (else Monday to Friday)."""
    try:
        return chinese_calendar.is_workday(day), True
    except NotImplementedError:  # a year the package has no holiday arrangements for yet
        return day.weekday() < 5, False


def working_days_after(start: date, end: date) -> tuple[int, bool]:
    """Working days d with ``start`` < d <= ``end``, and whether the holiday calendar covered them all."""
    count, known = 0, True
    day = start + timedelta(days=1)
    while day <= end:
        workday, covered = is_workday(day)
        count += workday
        known = known and covered
        day += timedelta(days=1)
    return count, known
