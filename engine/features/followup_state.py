"""The follow-up log per customer and action, as of a date T.

Follow-ups (维护跟进记录) are raw events like transactions, so the
aggregation the maintenance plan needs lives here as SQL
(`followups.sql`), in the same portable subset as the customer features.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

FOLLOWUP_STATE_SQL = (Path(__file__).resolve().parent / "followups.sql").read_text(encoding="utf-8")

FOLLOWUP_STATE_COLUMNS = (
    "customer_id", "action", "followups", "last_active_date", "last_followup_id",
    "last_date", "last_status", "last_result", "last_channel", "last_need",
    "last_next_contact_date", "last_owner")


def followup_state(con, *, as_of: date) -> pd.DataFrame:
    """The last follow-up per customer and action, counting follow-ups dated on or before T.

    One row per (customer_id, action) with at least one follow-up by T
    (a missing action counts as `other`). Columns:

    - followups: how many were logged by T;
    - last_active_date: date of the last one that is not paused (done,
      in_progress, or without a status; NaT when all are paused) — the plan's cadence runs from here;
    - last_followup_id, last_date, last_status, last_result, last_channel,
      last_need, last_next_contact_date, last_owner: the latest one whatever
      its status (latest timestamp, then highest id).
    """
    return con.execute(FOLLOWUP_STATE_SQL, {"as_of": as_of}).df()


def no_followups() -> pd.DataFrame:
    """The state of a log without follow-ups, in the dtypes the query gives on an empty log.

    Where there is no database (a feature table as the source), the plan
    runs as if nobody had been followed up yet, and its task list must then
    equal that of a database without follow-ups, dtypes included.
    """
    dtypes = dict.fromkeys(("last_active_date", "last_date", "last_next_contact_date"),
                           "datetime64[us]") | dict.fromkeys(("followups", "last_followup_id"),
                                                             "int64")
    return pd.DataFrame({c: pd.Series([], dtype=dtypes.get(c, object))
                         for c in FOLLOWUP_STATE_COLUMNS})
