"""Base-wide activity as of a date T: the Overview's KPIs and monthly trends.

These are aggregations over raw events that are not per customer (a month's
revenue, a region's revenue), so they live here beside the per-customer
feature query and keep to the same portable SQL. Windows follow DESIGN §4:
"last 90 days" is (T − 90, T]; "the last 12 months" are the 12 calendar
months ending with T's month, nothing after T.
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from engine.features import orders

# Every query reads the orders (engine.features.orders): purchases count orders,
# revenue sums their net money (refunds negative, cancelled and pending nothing).
KPI_SQL = """
WITH bounds AS (
    SELECT CAST($as_of AS DATE) AS t,
           date_trunc('month', CAST($as_of AS DATE)) - INTERVAL 11 MONTH AS y_start,
           date_trunc('month', CAST($as_of AS DATE)) - INTERVAL 23 MONTH AS py_start
),
txn AS (
    SELECT
        count(DISTINCT CASE WHEN purchase = 1 AND txn_date > t - INTERVAL 90 DAY
                            THEN customer_id END) AS active_90d,
        sum(CASE WHEN txn_date >= y_start THEN money ELSE 0 END) AS revenue_12m,
        sum(CASE WHEN txn_date >= py_start AND txn_date < y_start
                 THEN money ELSE 0 END) AS revenue_prev_12m,
        min(txn_date) AS first_txn
    FROM orders, bounds
    WHERE txn_date <= t
),
itr AS (
    SELECT
        count(CASE WHEN kind = 'complaint' THEN 1 END) AS complaints_90d,
        avg(satisfaction) AS satisfaction_90d,
        count(satisfaction) AS rated_90d
    FROM interactions, bounds
    WHERE CAST(ts AS DATE) <= t AND CAST(ts AS DATE) > t - INTERVAL 90 DAY
)
SELECT txn.*, itr.*, (txn.first_txn <= bounds.py_start) AS prev_12m_complete
FROM txn, itr, bounds
"""

MONTHLY_SQL = """
SELECT
    date_trunc('month', txn_date) AS month,
    sum(money) AS revenue,
    count(DISTINCT CASE WHEN purchase = 1 THEN customer_id END) AS active_customers,
    CAST(sum(purchase) AS BIGINT) AS purchases
FROM orders
WHERE txn_date <= CAST($as_of AS DATE)
  AND txn_date >= date_trunc('month', CAST($as_of AS DATE)) - INTERVAL 23 MONTH
GROUP BY 1
ORDER BY 1
"""

# money is the order's (customers has no such column)
REVENUE_BY_SQL = """
SELECT coalesce(c.{column}, '') AS key, sum(o.money) AS revenue,
       count(DISTINCT o.customer_id) AS customers
FROM orders o
LEFT JOIN customers c ON c.customer_id = o.customer_id
WHERE o.txn_date <= CAST($as_of AS DATE)
  AND o.txn_date >= date_trunc('month', CAST($as_of AS DATE)) - INTERVAL 11 MONTH
GROUP BY 1
ORDER BY revenue DESC
"""
BREAKDOWNS = ("region", "source", "owner", "customer_type")


def overview_kpis(con, *, as_of: date) -> dict:
    """Headline figures as of T.

    Returns a dict: active_90d (customers with a purchase in the last 90
    days), revenue_12m and revenue_prev_12m (net, the 12 calendar months up
    to T and the 12 before), prev_12m_complete (whether the data reaches
    back over the whole earlier year, so a change is meaningful),
    complaints_90d, satisfaction_90d (mean over rated interactions, None
    when none is rated) and rated_90d.
    """
    orders.install(con)
    cur = con.execute(KPI_SQL, {"as_of": as_of})
    names = [d[0] for d in cur.description]
    row = dict(zip(names, cur.fetchall()[0]))
    row.pop("first_txn")
    return row


def monthly_activity(con, *, as_of: date) -> pd.DataFrame:
    """Revenue, buyers and purchases per calendar month, 24 months up to T.

    Columns: month (first day), revenue, active_customers, purchases. The
    month of T is partial when T is not its last day.
    """
    orders.install(con)
    return con.execute(MONTHLY_SQL, {"as_of": as_of}).df()


def revenue_by(con, *, as_of: date, column: str) -> pd.DataFrame:
    """Net revenue of the last 12 months by a customer attribute.

    `column` is one of BREAKDOWNS (checked, never user text). Columns: key
    ('' for customers without a value), revenue, customers.
    """
    if column not in BREAKDOWNS:
        raise ValueError(f"revenue_by: column must be one of {BREAKDOWNS}, not {column!r}")
    orders.install(con)
    return con.execute(REVENUE_BY_SQL.format(column=column), {"as_of": as_of}).df()
