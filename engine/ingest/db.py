"""Small helpers for the DuckDB connection an import works on."""
from __future__ import annotations

import pandas as pd


def register(con, name: str, frame: pd.DataFrame) -> None:
    """Expose a DataFrame to SQL as `name`.

    DuckDB 2 refuses to (un)register while an earlier result is unread, so
    any pending result is finished first.
    """
    con.execute("SELECT 1").fetchall()
    con.register(name, frame)


def unregister(con, name: str) -> None:
    """Take a DataFrame registered with `register` away again."""
    con.execute("SELECT 1").fetchall()
    con.unregister(name)
