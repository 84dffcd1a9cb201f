"""How much one imported file may hold: declared once, documented, overridable.

A file past a limit is refused with a message that names the limit and what
to do (split the file, import it from the command line with a higher limit),
before anything large is read: sizes come from the file system and the
workbook's zip directory, rows from the pass that hashes a CSV in chunks.
So one oversized upload cannot tie up the dashboard's process for the other
sessions. Each limit is read from its environment variable when set (for a
server with more memory, or a test), else from its default; the README
lists them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Limit:
    """One limit: its name, default and what it guards against."""
    name: str
    default: int
    help: str

    @property
    def env(self) -> str:
        return f"CRM_{self.name.upper()}"

    def value(self) -> int:
        return int(os.environ.get(self.env) or self.default)


LIMITS: dict[str, Limit] = {limit.name: limit for limit in (
    Limit("max_file_mb", 1024, "largest file, in MB"),
    Limit("max_upload_mb", 200, "largest file the dashboard accepts, in MB (server.maxUploadSize "
                                "in .streamlit/config.toml is the same): 2 million rows of an "
                                "8-column order export; larger files go through the command line"),
    Limit("max_session_upload_mb", 400, "most MB of uploads one dashboard session holds at once"),
    Limit("max_columns", 200, "most columns in a file"),
    Limit("max_rows", 5_000_000, "most data rows in one file"),
    Limit("max_sheet_cells", 20_000_000, "most cells in a workbook's sheet, as declared and "
                                         "as read"),
    Limit("max_sheet_mb", 500, "largest unpacked workbook (every part: sheets, shared strings, "
                               "styles), in MB (a small .xlsx can unpack to gigabytes)"),
)}


def limit(name: str) -> int:
    """The value of the limit called `name` now."""
    return LIMITS[name].value()


# Dates a record may hold (issue 19, part 8): none before the business began, none
# decades ahead. A date outside is a typo or a placeholder (1900-01-01, 9999-12-31)
# that would stretch every month list; imports and restores refuse it.
EARLIEST_DATE = Limit("earliest_date", 1990, "no date before 1 January of this year "
                                             "(CRM_EARLIEST_DATE may also be YYYY-MM-DD)")
LATEST_YEARS = Limit("latest_years", 10, "no date (a due date, a contract end) more than "
                                         "this many years after today")


def date_bounds(today: date) -> tuple[date, date]:
    """(earliest, latest) date a stored record may hold, as of `today`."""
    text = os.environ.get(EARLIEST_DATE.env) or str(EARLIEST_DATE.default)
    earliest = date(int(text), 1, 1) if text.isdigit() else date.fromisoformat(text)
    years = LATEST_YEARS.value()
    try:
        latest = today.replace(year=today.year + years)
    except ValueError:   # 29 February
        latest = today.replace(year=today.year + years, day=28)
    return earliest, latest
