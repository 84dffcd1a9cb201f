"""Month arithmetic on dates: the one place for month starts, month ends and steps of months.

A month is named by the date of its first day; `month_end` gives its last.
"""
from __future__ import annotations

import calendar
import re
from datetime import date


def parse_month(text) -> date:
    """The first day of a month given as "YYYY-MM" (a date is taken as its month)."""
    if isinstance(text, date):
        return text.replace(day=1)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", str(text).strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"a month is written YYYY-MM (for example 2024-06), got {text!r}.")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_key(month: date) -> str:
    """"YYYY-MM" of a month."""
    return f"{month:%Y-%m}"


def month_end(month: date) -> date:
    """The last day of the month of `month`."""
    return date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])


def shift_month(month: date, months: int) -> date:
    """The first day of the month `months` after (negative: before) `month`'s month."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_ends(start: date, end: date) -> list[date]:
    """Every last day of a month in [start, end], in order."""
    out, month = [], parse_month(start)
    while month_end(month) <= end:
        if month_end(month) >= start:
            out.append(month_end(month))
        month = shift_month(month, 1)
    return out


def last_month_ends(as_of: date, count: int = 12) -> list[date]:
    """The last `count` month ends on or before `as_of`, oldest first.

    `as_of` counts as the last of them when it is itself a month end.
    """
    newest = parse_month(as_of) if month_end(as_of) == as_of else shift_month(as_of, -1)
    return [month_end(shift_month(newest, k)) for k in range(1 - count, 1)]
