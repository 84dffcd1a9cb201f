"""What happened during each calendar month: the raw-event side of the monthly review.

The monthly review (DESIGN §4.8) compares month-end snapshots, which come
from the per-customer feature table, with what customers and the team did
*during* a month: transactions, purchases, interactions and follow-ups per
customer, complaints per topic, and satisfaction ratings. Those are
aggregations over raw events, so they live here as SQL (`monthly.sql`, one
query per concept after a `-- name:` line) in the same portable subset as
the customer features. Events count by calendar date, both ends of the
range included.
"""
from __future__ import annotations

import calendar
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa

from engine.features import orders

_TEXT = (Path(__file__).resolve().parent / "monthly.sql").read_text(encoding="utf-8")


def _split_queries(text: str) -> dict[str, str]:
    """{name: query} from the `-- name: <query>` sections of monthly.sql."""
    parts = re.split(r"^-- name: (\w+)\s*$", text, flags=re.MULTILINE)
    return {name: body.strip().rstrip(";") for name, body in zip(parts[1::2], parts[2::2])}


QUERIES = _split_queries(_TEXT)

ACTIVITY_COLUMNS = ("customer_id", "month", "transactions", "purchases", "revenue",
                    "interactions", "followups")
UNSPECIFIED_TOPIC = "unspecified"


def _bounds(first_month: date, last_month: date) -> dict[str, date]:
    """The first day of `first_month` and the last day of `last_month`."""
    if last_month < first_month:
        raise ValueError(f"last_month ({last_month:%Y-%m}) is before first_month "
                         f"({first_month:%Y-%m}).")
    last_day = calendar.monthrange(last_month.year, last_month.month)[1]
    return {"first": first_month.replace(day=1),
            "last": date(last_month.year, last_month.month, last_day)}


def _months(frame: pd.DataFrame) -> pd.DataFrame:
    frame["month"] = pd.to_datetime(frame["month"]).dt.date
    return frame


def customer_month_activity(con, *, first_month: date, last_month: date) -> pd.DataFrame:
    """Per customer and calendar month, what happened during the month.

    Parameters
    ----------
    con : an open DuckDB connection to a migrated database.
    first_month, last_month : any day of the first and of the last month
        (whole months are counted, first to last day).

    Returns
    -------
    DataFrame with ACTIVITY_COLUMNS, one row per customer and month with any
    transaction, interaction or follow-up in it, ordered by month and
    customer_id: month (a date, the month's first day), transactions (orders of
    any kind, refunds and cancelled ones included), purchases (orders that are
    purchases), revenue (net sum of the orders' money, float), interactions
    (any kind), followups (any action or status). Counts are int64.
    """
    orders.install(con)
    frame = con.execute(QUERIES["customer_month_activity"],
                        _bounds(first_month, last_month)).df()
    frame["revenue"] = frame["revenue"].astype("float64")
    for column in ("transactions", "purchases", "interactions", "followups"):
        frame[column] = frame[column].astype("int64")
    return _months(frame)[list(ACTIVITY_COLUMNS)]


def complaints_by_topic(con, *, first_month: date, last_month: date) -> pd.DataFrame:
    """Complaints per calendar month and topic ('unspecified' when the topic is empty).

    Returns
    -------
    DataFrame: month (first day), topic, complaints (int64); only pairs
    with a complaint, by month, then most complaints first, then topic.
    """
    frame = con.execute(QUERIES["complaints_by_topic"], _bounds(first_month, last_month)).df()
    frame["complaints"] = frame["complaints"].astype("int64")
    return _months(frame)


def interactions_by_month(con, *, first_month: date, last_month: date) -> pd.DataFrame:
    """Interactions, complaints and satisfaction ratings per calendar month.

    Returns
    -------
    DataFrame: month (first day), interactions, complaints, rated (int64:
    interactions carrying a satisfaction rating), mean_satisfaction (mean
    of those ratings, NaN when none is rated). Months without any
    interaction have no row.
    """
    frame = con.execute(QUERIES["interactions_by_month"], _bounds(first_month, last_month)).df()
    for column in ("interactions", "complaints", "rated"):
        frame[column] = frame[column].astype("int64")
    frame["mean_satisfaction"] = frame["mean_satisfaction"].astype("float64")
    return _months(frame)


def customer_index(con) -> pa.Array:
    """Every customer id, ascending, as an Arrow string array.

    A customer's position in it is a stable integer key for one data version
    (the review joins month-end snapshots and activity on it).
    """
    ids = con.execute(QUERIES["customer_index"]).df()["customer_id"]
    return pa.array(ids.array).cast(pa.large_string())
