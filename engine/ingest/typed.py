"""The fast path's typed read: columns that look clean are parsed by read_csv itself.

Reading a cell as text and then parsing it in SQL costs about as much again
as DuckDB's own reading of a typed column. So when the first rows of a CSV
show a date, amount or number column written in one plain form (ISO dates,
2024-01-15 or 2024-01-15 10:30[:00]; numbers like -12.5), the fast path asks
read_csv for that column typed, with a strict format. A cell further down
that does not fit is a record read_csv refuses, and a refused record sends
the import to the staged path, which reads every cell as text and parses it
as always. So the typed read may only ever be stricter than the parsing in
SQL, and where it accepts a cell it gives the same value as the exact cast
there (`parse.cast_sql`); the fast path's cell check (`validate._fast_error`)
refuses the two exceptions DuckDB's reader lets through (the words
"infinity" and "epoch" read as 1900-01-01 by a date format, and infinite or
NaN numbers).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from engine.ingest.validate import STORED_TYPES, Plan

_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_DATE = r"\d{4}-\d{2}-\d{2}"
# (DuckDB type, its format option, the format, what every sample cell must match)
_FORMS = (("DATE", "dateformat", "%Y-%m-%d", re.compile(_DATE)),
          ("TIMESTAMP", "timestampformat", "%Y-%m-%d %H:%M", re.compile(_DATE + r" \d{2}:\d{2}")),
          ("TIMESTAMP", "timestampformat", "%Y-%m-%d %H:%M:%S",
           re.compile(_DATE + r" \d{2}:\d{2}:\d{2}")))
_NUMBER_TYPES = {k: STORED_TYPES[k] for k in ("amount", "number", "hours", "rating")}


@dataclass(frozen=True)
class TypedRead:
    """Which raw columns (c{i}) read_csv reads typed, as which DuckDB type, and the
    date and timestamp formats it reads them with."""
    types: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)


def choose(plan: Plan, sample: pd.DataFrame) -> TypedRead:
    """The typed read for the mapped columns whose sample cells are all in one plain form.

    A date column with no filled cell in the sample (a due date most rows
    leave empty, say) is read in the form the file's first typed date
    column has, since one export writes its dates one way; other columns
    without a filled cell stay text, and so does a date column whose form
    needs a format another column already set.
    """
    types: dict[str, str] = {}
    formats: dict[str, str] = {}
    empty_dates = []
    for c, raw, header in plan.mapped:
        cells = [v for v in sample[header].dropna().tolist() if v != ""] \
            if header in sample.columns else []
        if not cells:
            if c.kind in ("date", "timestamp"):
                empty_dates.append(raw)
        elif c.kind in _NUMBER_TYPES and all(_NUMBER.fullmatch(v) for v in cells):
            types[raw] = _NUMBER_TYPES[c.kind]
        elif c.kind in ("date", "timestamp"):
            for duck, option, form, pattern in _FORMS:
                if formats.get(option, form) == form and all(pattern.fullmatch(v)
                                                             for v in cells):
                    types[raw], formats[option] = duck, form
                    break
    dated = [types[raw] for c, raw, _ in plan.mapped
             if c.kind in ("date", "timestamp") and raw in types]
    if dated:
        types.update((raw, dated[0]) for raw in empty_dates)
    return TypedRead(types, formats)
