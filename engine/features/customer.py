"""The per-customer feature table as of a date T (DESIGN §4).

Every aggregation over raw events for scoring, RFM, pyramid, risk and
lifecycle happens in one SQL query, `customer.sql` beside this file, run by
DuckDB with T bound as `$as_of`. Everything downstream works on its result,
one row per customer.

Conventions (DESIGN §4 preamble): only events on or before T count, by
calendar date (an interaction's `ts` counts on its date). Windows:
last 6 months (T−182 d, T]; last 90 days (T−90 d, T]; previous 90 days
(T−180 d, T−90 d]; last 30 days (T−30 d, T]; last 12 months = the 12
calendar months ending with T's month, up to T. Purchases count orders
(DESIGN §3): the lines sharing a txn_id are one order, a row without one an
order by itself. A *purchase* is an order whose net money is ≥ 0 and one of
whose lines is not refunded, cancelled or pending; spend and revenue are net
sums of money, a refund counting negative (a negative amount, or any amount
with status refunded) and cancelled or pending orders nothing. Money is summed as DECIMAL in
SQL, so sums are exact (0.10 + 0.20 equals 0.30), and arrives in pandas as
float64: equal sums give equal floats.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd
import pyarrow as pa

from engine import store

SQL = (Path(__file__).resolve().parent / "customer.sql").read_text(encoding="utf-8")


def marked(name: str) -> str:
    """The lines between "-- NAME: begin" and "-- NAME: end" of the query."""
    return re.search(rf"    -- {name}: begin\n.*?    -- {name}: end\n", SQL, re.S).group(0)


def _up_to(cte: str) -> str:
    """The query's CTEs up to `cte`, reading it: the same SQL text, run for one part."""
    following = SQL.index("\n\n", SQL.index(f"{cte} AS ("))
    return SQL[:following].rstrip().rstrip(",") + f"\nSELECT * FROM {cte}"


# Two parts of the query hold for every T: the purchase steps (a lag() window
# over every purchase, its most expensive part), and which customers without a
# first contact date have events at all (where a date-by-date look after T
# scans most events for an early T). Work over many dates reads them once
# (`event_history`, with the sources' first dates) and hands them in; the
# query then reads them from registered relations instead.
_STEPS, _EVENTFUL = "history_purchase_steps", "history_eventful_undated"
_SQL_ON_HISTORY = (SQL.replace(marked("steps"), f"    SELECT s.* FROM {_STEPS} AS s\n"
                                                 "    CROSS JOIN bounds AS b WHERE s.txn_date <= b.t\n")
                   .replace(marked("after"), f"    SELECT customer_id FROM {_EVENTFUL}\n")
                   .replace("SELECT\n    c.customer_id, name,",
                            "SELECT\n    c.ckey - 1 AS customer_key, c.customer_id, name,"))
# With the history, the query also gives each customer's position among all
# customer ids in ascending order (it numbers them so already): a key that
# joins many dates without hashing a million ids per date.
KEY_COLUMN = "customer_key"
# The T at which each part covers every event: all purchases lie on or before
# the last date, all events after a date in year 1.
_ALL_BEFORE, _ALL_AFTER = dt.date.max, dt.date(1, 12, 31)


@dataclass(frozen=True)
class EventHistory:
    """The parts of the feature query that hold for every T, read once for many dates."""
    purchase_steps: pa.Table
    eventful_undated: pa.Table
    source_dates: dict[str, dt.date | None]


MASTER_COLUMNS = ("customer_id", "name", "customer_type", "channel_type", "region",
                  "source", "owner", "first_contact_date", "contract_end", "referred_by")

FEATURE_COLUMNS = MASTER_COLUMNS + (
    "spend_6m", "purchases_6m", "aov_6m", "products_6m",
    "interactions_6m", "events_6m", "median_response_hours_6m",
    "first_purchase_date", "first_interaction_date", "first_contact", "tenure_days",
    "purchase_months_12m", "ontime_share", "renewal",
    "referred_customers", "referral_interactions",
    "last_purchase_12m", "recency_days_12m", "frequency_12m", "monetary_12m",
    "revenue_12m",
    "spend_90d", "spend_prev_90d", "complaints_90d", "interactions_30d",
    "interactions_90d", "last_txn_date", "last_interaction_date",
    "last_consultation_date", "last_purchase_date", "purchase_days",
    "median_gap_days", "days_since_last_purchase",
)

NULLABLE_INT_COLUMNS = ("tenure_days", "renewal", "recency_days_12m",
                        "days_since_last_purchase")

# Keys of `optional_columns_present`: the sources a scoring sub-metric can
# lack. A source "holds no value" when no row up to T carries it.
SOURCES = ("transactions", "product_or_category", "interactions", "event_interactions",
           "response_hours", "due_paid_dates", "contract_end", "referred_by",
           "referral_interactions")

# The first date on which a row carries each source (NULL: never). A source
# holds a value up to T when that date is on or before T, so one read of the
# first dates answers for every T. Master data without a date counts from the
# first day there is (DATE '0001-01-01') when any customer carries it.
_SOURCE_DATES_SQL = """
SELECT
    (SELECT min(txn_date) FROM transactions)                              AS transactions,
    (SELECT min(txn_date) FROM transactions
      WHERE coalesce(nullif(product, ''), nullif(category, '')) IS NOT NULL)
                                                                          AS product_or_category,
    (SELECT min(CAST(ts AS DATE)) FROM interactions)                      AS interactions,
    (SELECT min(CAST(ts AS DATE)) FROM interactions WHERE kind = 'event') AS event_interactions,
    (SELECT min(CAST(ts AS DATE)) FROM interactions
      WHERE response_hours IS NOT NULL)                                   AS response_hours,
    (SELECT CASE WHEN min(due) IS NOT NULL AND min(paid) IS NOT NULL
                 THEN greatest(min(due), min(paid)) END
       FROM (SELECT CASE WHEN due_date IS NOT NULL THEN txn_date END AS due,
                    CASE WHEN paid_date IS NOT NULL THEN txn_date END AS paid
               FROM transactions))                                        AS due_paid_dates,
    (SELECT CASE WHEN count(*) > 0 THEN DATE '0001-01-01' END
       FROM customers WHERE contract_end IS NOT NULL)                     AS contract_end,
    (SELECT CASE WHEN count(*) > 0 THEN DATE '0001-01-01' END
       FROM customers WHERE referred_by <> '')                            AS referred_by,
    (SELECT min(CAST(ts AS DATE)) FROM interactions WHERE kind = 'referral')
                                                                          AS referral_interactions
"""


def _as_date(as_of) -> dt.date:
    if isinstance(as_of, dt.datetime):  # also pandas.Timestamp
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    raise TypeError(f"as_of must be a date, not {type(as_of).__name__} ({as_of!r}).")


def latest_event_date(con) -> dt.date | None:
    """The default T: the latest transaction or interaction date, None without events."""
    row = store.first_row(
        con, "SELECT max(d) FROM ("
             " SELECT max(txn_date) AS d FROM transactions"
             " UNION ALL SELECT max(CAST(ts AS DATE)) FROM interactions)")
    return row[0] if row else None


def event_history(con) -> EventHistory:
    """The T-independent parts of the feature query, for `customer_features(history=...)`.

    Valid for the data they were read from: a write to the file calls for
    them again.
    """
    def part(cte, as_of):
        return con.sql(_up_to(cte), params={"as_of": as_of}).to_arrow_table()
    return EventHistory(part("purchase_steps", _ALL_BEFORE), part("events_after_t", _ALL_AFTER),
                        source_dates(con))


def customer_features(con, *, as_of: dt.date, history: EventHistory | None = None,
                      columns: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per customer known as of T, sorted by customer_id.

    Known by T: every customer except those whose first_contact_date is
    after T and who have no event on or before T, and those without a
    first_contact_date whose events all lie after T. A customer with no
    events and no first contact date is known.

    Parameters
    ----------
    con : an open DuckDB connection to a migrated database.
    as_of : the date T; only events on or before it count.
    history : `event_history(con)` of the same data, to skip the query's
        most expensive parts when computing many dates.
    columns : only these of FEATURE_COLUMNS, in this order (customer_id
        among them); DuckDB then skips the work of the others, such as
        carrying the master data's text through joins and sort. With
        `history`, KEY_COLUMN may be among them.

    Returns
    -------
    DataFrame with columns FEATURE_COLUMNS. Counts are int64 and 0 where
    nothing happened; money is float64 (exact DECIMAL sums in SQL); dates are
    datetime64 and NaT where nothing happened; day counts that need a date
    are nullable Int64.

    Master data: customer_id, name, customer_type, channel_type, region,
    source, owner, first_contact_date, contract_end, referred_by (as stored).

    Consumption, last 6 months (T−182 d, T]:
      spend_6m          net sum of the orders' money
      purchases_6m      number of purchases (orders)
      aov_6m            spend_6m / purchases_6m, 0 without purchases
                        (rounded to 6 decimals so equal ratios tie)
      products_6m       distinct `product` over purchase lines, `category` where
                        the product is empty or NULL
    Interaction, last 6 months:
      interactions_6m   interactions of any kind
      events_6m         interactions of kind 'event'
      median_response_hours_6m  median of response_hours, rounded to 6
                        decimals (NaN without one)
    Stability:
      first_purchase_date     first purchase on or before T
      first_interaction_date  first interaction on or before T
      first_contact           earlier of first_contact_date (when ≤ T) and
                              first_interaction_date
      tenure_days             days from the earlier of first_purchase_date
                              and first_contact to T (NA when neither)
      purchase_months_12m     how many of the 12 months have a purchase (0–12)
      ontime_share            of transactions on or before T with
                              due_date ≤ T, the share paid (paid_date ≤ T)
                              on or before due_date; NaN when none is due
      renewal                 1 if contract_end > T, 0 if ≤ T, NA without one
    Referral, all time up to T:
      referred_customers      known customers whose referred_by is this one
      referral_interactions   interactions of kind 'referral'
    RFM inputs, last 12 months (NA/NaN for customers without a purchase there):
      last_purchase_12m       date of the last purchase
      recency_days_12m        days from it to T
      frequency_12m           number of purchases (0 for non-buyers)
      monetary_12m            net spend (all orders' money) of buyers
      revenue_12m             net sum of the orders' money, 0 without transactions
    Risk, demand and lifecycle inputs:
      spend_90d, spend_prev_90d   net spend in the last / previous 90 days
      complaints_90d              interactions of kind 'complaint', last 90 days
      interactions_30d, interactions_90d
      last_txn_date               last transaction of any kind
      last_interaction_date, last_consultation_date (kind 'consultation')
      last_purchase_date
      purchase_days               distinct purchase dates
      median_gap_days             median of the gaps in days between
                                  consecutive purchase days (NaN with < 2)
      days_since_last_purchase    days from last_purchase_date to T (NA without)
    """
    sql = SQL if history is None else _SQL_ON_HISTORY
    if history is not None and columns is None:
        columns = FEATURE_COLUMNS   # not the key, unless asked for
    if columns is not None:
        unknown = set(columns) - set(FEATURE_COLUMNS) - ({KEY_COLUMN} if history else set())
        if unknown:
            raise ValueError(f"not feature columns: {sorted(unknown)}")
        sql = f"SELECT {', '.join(columns)} FROM ({sql})"  # names checked above
    if history is not None:
        con.register(_STEPS, history.purchase_steps)
        con.register(_EVENTFUL, history.eventful_undated)
    try:
        frame = store.frame(con, sql, {"as_of": _as_date(as_of)})
    finally:
        if history is not None:
            con.unregister(_STEPS)
            con.unregister(_EVENTFUL)
    # A whole-number column arrives as int64 when it happens to hold no NULL;
    # keep one dtype whatever the data.
    return frame.astype({c: "Int64" for c in NULLABLE_INT_COLUMNS if c in frame.columns})


def optional_columns_present(con, *, as_of: dt.date) -> dict[str, bool]:
    """For each source in SOURCES, whether any row up to T carries a value.

    Scoring leaves out a sub-metric whose source holds nothing (DESIGN §4.1):
    transactions (any transaction ≤ T), product_or_category, interactions,
    event_interactions and referral_interactions (kind 'event' / 'referral'),
    response_hours, due_paid_dates (a due_date and a paid_date on
    transactions up to T). contract_end and referred_by are master data
    without a date: they count for any customer in the table, so whether
    the column was filled does not flip with T.
    """
    return sources_at(source_dates(con), as_of=_as_date(as_of))


def source_dates(con) -> dict[str, dt.date | None]:
    """For each source in SOURCES, the first date a row carries it (None: never), so
    that `sources_at` answers `optional_columns_present` for any T without the file."""
    cur = con.execute(_SOURCE_DATES_SQL)
    names = [d[0] for d in cur.description]
    return dict(zip(names, cur.fetchall()[0]))


def sources_at(dates: dict[str, dt.date | None], *, as_of: dt.date) -> dict[str, bool]:
    """`optional_columns_present` as of T from `source_dates`."""
    return {name: first is not None and first <= as_of for name, first in dates.items()}
