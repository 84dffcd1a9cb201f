"""Purchase-day summaries per customer: the inputs of the lifetime-value models.

The BG/NBD and Gamma-Gamma models (DESIGN §4.9, `engine.clv`) read one row
per customer: how many repeat purchase days (x), when the last one was
(recency t_x) and how long the customer has been known (age T), both from
the first purchase day, and the mean spend of the repeat purchase days. The
SQL in `clv.sql` derives them from raw transactions as of a calibration end,
with the purchase days of a later holdout period for checking predictions.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from engine.features import orders

SUMMARY_SQL = (Path(__file__).resolve().parent / "clv.sql").read_text(encoding="utf-8")

SUMMARY_COLUMNS = ("customer_id", "first_purchase_date", "last_purchase_date", "x",
                   "t_x_days", "age_days", "mean_repeat_spend", "holdout_purchase_days")


def purchase_summary(con, *, calibration_end: date, as_of: date | None = None) -> pd.DataFrame:
    """One row per customer with a purchase on or before `calibration_end`.

    Parameters
    ----------
    con : duckdb connection holding the `transactions` table.
    calibration_end : the last day whose purchases the models see.
    as_of : the end of the holdout period (calibration_end, as_of]; defaults
        to `calibration_end` (no holdout). Must not be before it.

    Returns
    -------
    DataFrame ordered by customer_id with columns

    - customer_id
    - first_purchase_date, last_purchase_date: first and last purchase day
      up to calibration_end (dates)
    - x: repeat purchase days up to calibration_end (int)
    - t_x_days: days from the first to the last purchase day (recency; 0
      when x is 0)
    - age_days: days from the first purchase day to calibration_end (T)
    - mean_repeat_spend: mean spend of the repeat purchase days (NaN when
      x is 0); a purchase day's spend is the sum of that day's purchases
    - holdout_purchase_days: purchase days in (calibration_end, as_of]
    """
    as_of = calibration_end if as_of is None else as_of
    if as_of < calibration_end:
        raise ValueError(f"as_of ({as_of}) is before calibration_end ({calibration_end})")
    orders.install(con)
    frame = con.execute(SUMMARY_SQL, {"calibration_end": calibration_end,
                                      "as_of": as_of}).df()
    for column in ("x", "t_x_days", "age_days", "holdout_purchase_days"):
        frame[column] = frame[column].astype("int64")
    frame["mean_repeat_spend"] = frame["mean_repeat_spend"].astype("float64")
    return frame[list(SUMMARY_COLUMNS)]
