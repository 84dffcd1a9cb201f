"""Overview figures on a hand-made base, T = 2024-06-15 (answers worked out by hand)."""
from datetime import date

import duckdb
import pytest

from engine import store
from engine.features import activity

T = date(2024, 6, 15)


@pytest.fixture
def con():
    con = duckdb.connect()
    store.migrate(con)
    con.execute("INSERT INTO customers (customer_id, region) VALUES ('A', '华东'), ('B', NULL), ('C', '华东')")
    con.executemany(
        "INSERT INTO transactions (customer_id, txn_date, amount, status) VALUES (?, ?, ?, ?)",
        [("A", "2024-06-15", 100, "paid"),     # on T: counts
         ("A", "2024-03-17", 50, "paid"),      # T - 90: outside the 90 days, inside 12 months
         ("A", "2023-07-01", 10, "paid"),      # first day of the 12 calendar months
         ("A", "2023-06-30", 20, "paid"),      # last day of the 12 months before
         ("A", "2024-06-16", 999, "paid"),     # after T: ignored everywhere
         ("B", "2024-04-01", -30, "refunded"), # a refund: revenue, not a purchase
         ("B", "2022-07-01", 5, "paid"),       # first day of the earlier year
         ("C", "2024-03-18", 40, "paid")])     # T - 89: inside the 90 days
    con.executemany(
        "INSERT INTO interactions (customer_id, ts, kind, satisfaction) VALUES (?, ?, ?, ?)",
        [("A", "2024-06-15 23:59:00", "complaint", None),  # on T by calendar date
         ("B", "2024-03-17 10:00:00", "complaint", 1),     # T - 90: outside
         ("C", "2024-05-01 09:00:00", "feedback", 4),
         ("C", "2024-05-02 09:00:00", "consultation", 2),
         ("C", "2024-06-16 09:00:00", "visit", 5)])        # after T
    return con


def test_kpis(con):
    k = activity.overview_kpis(con, as_of=T)
    assert k["active_90d"] == 2                   # A (on T) and C (T - 89); B only refunded
    assert k["revenue_12m"] == 170                # 100 + 50 + 10 - 30 + 40
    assert k["revenue_prev_12m"] == 25           # 20 + 5
    assert k["prev_12m_complete"] is True
    assert k["complaints_90d"] == 1
    assert k["satisfaction_90d"] == pytest.approx(3.0)  # (4 + 2) / 2, the unrated complaint left out
    assert k["rated_90d"] == 2


def test_previous_year_incomplete_when_data_starts_later(con):
    con.execute("DELETE FROM transactions WHERE txn_date = DATE '2022-07-01'")
    assert activity.overview_kpis(con, as_of=T)["prev_12m_complete"] is False


def test_monthly(con):
    m = activity.monthly_activity(con, as_of=T)
    got = {(r.month.strftime("%Y-%m"), float(r.revenue), r.active_customers) for r in m.itertuples()}
    assert got == {("2022-07", 5, 1), ("2023-06", 20, 1), ("2023-07", 10, 1),
                   ("2024-03", 90, 2), ("2024-04", -30, 0), ("2024-06", 100, 1)}


def test_revenue_by_region(con):
    r = activity.revenue_by(con, as_of=T, column="region")
    assert dict(zip(r["key"], r["revenue"].astype(float))) == {"华东": 200.0, "": -30.0}


def test_a_refund_written_as_a_positive_amount_counts_negative(con):
    # DESIGN §3: a refund is a negative amount or status refunded, whatever the sign
    con.execute("INSERT INTO transactions (customer_id, txn_date, amount, status) "
                "VALUES ('C', '2024-04-02', 15, 'refunded')")
    assert activity.overview_kpis(con, as_of=T)["revenue_12m"] == 155     # 170 - 15
    april = activity.monthly_activity(con, as_of=T).set_index("month").loc["2024-04-01"]
    assert (float(april["revenue"]), april["purchases"]) == (-45.0, 0)    # -30 - 15
    r = activity.revenue_by(con, as_of=T, column="region")
    assert dict(zip(r["key"], r["revenue"].astype(float))) == {"华东": 185.0, "": -30.0}


def test_revenue_by_refuses_other_columns(con):
    with pytest.raises(ValueError, match="must be one of"):
        activity.revenue_by(con, as_of=T, column="name; DROP TABLE customers")
