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
