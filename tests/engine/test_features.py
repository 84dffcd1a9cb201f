"""The customer feature table on a hand-made base (answers worked out by hand).

T = 2024-06-30, day 182 of the leap year 2024, so:
  T-30 = 2024-05-31   T-89 = 2024-04-02   T-90 = 2024-04-01   T-91 = 2024-03-31
  T-180 = 2024-01-02  T-181 = 2024-01-01  T-182 = 2023-12-31  T-183 = 2023-12-30
  last 6 months (2023-12-31, 2024-06-30]; last 90 days (2024-04-01, T];
  previous 90 days (2024-01-02, 2024-04-01]; last 30 days (2024-05-31, T];
  the 12 months run from 2023-07-01 to T.
"""
from datetime import date, timedelta

import duckdb
import pandas as pd
import pytest

from engine import store
from engine.features import (FEATURE_COLUMNS, customer_features, latest_event_date,
                             optional_columns_present, event_history)

T = date(2024, 6, 30)


def d(days_before: int) -> date:
    return T - timedelta(days=days_before)


CUSTOMERS = [
    # id, first_contact_date, referred_by, contract_end
    ("A", date(2023, 1, 1), None, d(-1)),      # contract ends after T: renewal 1
    ("B", None, None, T),                      # contract ends on T: renewal 0
    ("C", None, None, None),
    ("D", None, None, None),
    ("E", None, None, None),
    ("F", d(-1), "A", None),                   # first contact after T, no events: not known
    ("G", None, "A", None),                    # only an event after T: not known
    ("H", None, None, None),                   # no events, no first contact: known
    ("I", d(-10), None, None),                 # first contact after T but a purchase before: known
    ("J", T, None, None),                      # first contact on T: known
    ("K", date(2024, 1, 1), "A", None),        # referred by A and known
    ("L", None, None, None),
    ("M", None, None, None),
]

TRANSACTIONS = [
    # customer, date, amount, product, category, due, paid, status
    # A: one purchase on every window edge; amounts are powers of two so each
    # sum names its rows.
    ("A", T, "1.00", "p1", None, None, None, "paid"),
    ("A", d(30), "2.00", "p2", None, None, None, "paid"),
    ("A", d(90), "4.00", "p1", None, None, None, "paid"),
    ("A", d(91), "8.00", "p3", None, None, None, "paid"),
    ("A", d(180), "256.00", "p1", None, None, None, "paid"),
    ("A", d(181), "16.00", "p1", None, None, None, "paid"),
    ("A", d(182), "32.00", "p9", None, None, None, "paid"),
    ("A", d(183), "64.00", "p9", None, None, None, "paid"),
    ("A", d(-1), "128.00", "p1", None, None, None, "paid"),   # after T: ignored
    # B: same-day purchases, a category standing in, refunds of both kinds
    ("B", date(2024, 3, 1), "10.00", "x", None, None, None, "paid"),
    ("B", date(2024, 6, 10), "0.10", "x", None, None, None, "paid"),
    ("B", date(2024, 6, 10), "0.20", "y", None, None, None, "paid"),
    ("B", date(2024, 6, 20), "0.30", "", "c1", None, None, "paid"),
    ("B", date(2024, 6, 25), "-0.30", "x", None, None, None, "refunded"),
    ("B", date(2024, 6, 26), "-1.00", "y", None, None, None, "paid"),
    # C: one purchase of 0.30; D: 0.10 + 0.20, which must tie with C exactly
    ("C", date(2024, 5, 5), "0.30", None, None, None, None, "paid"),
    ("D", date(2024, 5, 5), "0.10", None, "c2", None, None, None),  # no status: a purchase
    ("D", date(2024, 5, 6), "0.20", None, "c2", None, None, "paid"),
    ("G", d(-5), "50.00", "p1", None, None, None, "paid"),           # G's only event, after T
    ("I", d(10), "0.00", "p1", None, None, None, "paid"),            # a free purchase is a purchase
    # L: payments. Due on or before T: 5 (T-10 on time, T-5 on time on the
    # day, T-3 late, T-2 unpaid, T-20 paid after T); due after T: left out.
    ("L", d(40), "5.00", "p1", None, d(10), d(12), "paid"),
    ("L", d(40), "5.00", "p1", None, d(5), d(5), "paid"),
    ("L", d(40), "5.00", "p1", None, d(3), d(1), "paid"),
    ("L", d(40), "5.00", "p1", None, d(2), None, "paid"),
    ("L", d(40), "5.00", "p1", None, d(20), d(-3), "paid"),
    ("L", d(40), "5.00", "p1", None, d(-5), d(1), "paid"),
    ("L", d(-1), "5.00", "p1", None, d(3), d(3), "paid"),          # after T: ignored
    # M: the 12-month edge
    ("M", date(2023, 6, 30), "7.00", "p1", None, None, None, "paid"),  # before the 12 months
    ("M", date(2023, 7, 1), "3.00", "p1", None, None, None, "paid"),   # first day of them
]

INTERACTIONS = [
    # customer, ts, kind, response_hours
    ("E", f"{T} 23:59:59", "event", 2.0),           # on T by calendar date
    ("E", f"{d(29)} 08:00:00", "consultation", None),
    ("E", f"{d(30)} 10:00:00", "complaint", 4.0),
    ("E", f"{d(89)} 10:00:00", "referral", None),
    ("E", f"{d(90)} 10:00:00", "complaint", 9.0),
    ("E", f"{d(181)} 10:00:00", "event", 1.0),
    ("E", f"{d(182)} 10:00:00", "event", 100.0),   # T-182: outside the 6 months
    ("E", "2020-05-01 10:00:00", "referral", None),
    ("E", f"{d(-1)} 00:00:00", "complaint", 0.5),  # after T: ignored
    ("A", "2022-12-01 09:00:00", "visit", None),   # before A's first contact date
]


@pytest.fixture
def con():
    con = duckdb.connect()
    store.migrate(con)
    con.executemany("INSERT INTO customers (customer_id, name, first_contact_date, referred_by, "
                    "contract_end) VALUES (?, 'n ' || ?, ?, ?, ?)",
                    [(c, c, fc, ref, end) for c, fc, ref, end in CUSTOMERS])
    con.executemany("INSERT INTO transactions (customer_id, txn_date, amount, product, category, "
                    "due_date, paid_date, status) VALUES (?, ?, CAST(? AS DECIMAL(18,2)), ?, ?, ?, ?, ?)",
                    TRANSACTIONS)
    con.executemany("INSERT INTO interactions (customer_id, ts, kind, response_hours) "
                    "VALUES (?, ?, ?, ?)", INTERACTIONS)
    return con


@pytest.fixture
def f(con):
    return customer_features(con, as_of=T).set_index("customer_id")


def test_columns_and_known_customers(con):
    features = customer_features(con, as_of=T)
    assert tuple(features.columns) == FEATURE_COLUMNS
    # F (first contact after T) and G (only an event after T) are not known yet
    assert list(features["customer_id"]) == ["A", "B", "C", "D", "E", "H", "I", "J", "K", "L", "M"]


def test_known_customers_move_with_t(con):
    later = customer_features(con, as_of=d(-5))["customer_id"].tolist()
    assert "F" in later and "G" in later         # F's first contact and G's purchase have come
    earlier = customer_features(con, as_of=date(2023, 12, 1))["customer_id"].tolist()
    # by 2023-12-01: A (first contact), E (the 2020 referral), H (nothing at all), M (purchases)
    assert earlier == ["A", "E", "H", "M"]


@pytest.mark.parametrize("as_of", [date(2023, 12, 1), d(183), d(91), d(30), T, d(-1), d(-5)])
def test_the_event_history_read_once_gives_the_same_table(con, as_of):
    """Steps of every purchase and the undated customers with events, read once for every T,
    give what the query works out at T itself (which undated customers are known, too)."""
    history = event_history(con)
    purchases = [r for r in TRANSACTIONS if float(r[2]) >= 0 and r[7] != "refunded"]
    assert history.purchase_steps.num_rows == len(purchases)   # every purchase, whatever T
    undated = {c for c, first_contact, _, _ in CUSTOMERS if first_contact is None}
    with_events = {r[0] for r in TRANSACTIONS} | {r[0] for r in INTERACTIONS}
    assert set(history.eventful_undated["customer_id"].to_pylist()) == undated & with_events
    pd.testing.assert_frame_equal(customer_features(con, as_of=as_of, history=history),
                                  customer_features(con, as_of=as_of), check_exact=True)


def test_chosen_columns_are_those_of_the_whole_table(con):
    columns = ["customer_id", "median_gap_days", "days_since_last_purchase", "spend_6m"]
    whole = customer_features(con, as_of=T)
    pd.testing.assert_frame_equal(customer_features(con, as_of=T, columns=columns),
                                  whole[columns], check_exact=True)
    with pytest.raises(ValueError, match="not feature columns"):
        customer_features(con, as_of=T, columns=["customer_id", "1; DROP TABLE customers"])


def test_window_edges_for_spend(f):
    a = f.loc["A"]
    assert a["spend_6m"] == 287       # T, T-30, T-90, T-91, T-180, T-181: 1+2+4+8+256+16
    assert a["purchases_6m"] == 6
    assert a["aov_6m"] == 47.833333   # 287 / 6, rounded to 6 decimals
    assert a["products_6m"] == 3      # p1, p2, p3 (p9 only before the 6 months)
    assert a["spend_90d"] == 3        # T and T-30; T-90 is outside
    assert a["spend_prev_90d"] == 12  # T-90 and T-91; T-180 is outside
    assert a["revenue_12m"] == 383    # everything up to T (all after 2023-07-01)
    assert a["frequency_12m"] == 8
    assert a["monetary_12m"] == 383
    assert a["last_purchase_12m"] == pd.Timestamp(T)
    assert a["recency_days_12m"] == 0
    assert a["last_txn_date"] == pd.Timestamp(T)  # the purchase after T is ignored


def test_purchase_days_months_and_gaps(f):
    a = f.loc["A"]
    # purchase days 2023-12-30, 12-31, 2024-01-01, 01-02, 03-31, 04-01, 05-31, 06-30
    assert a["purchase_days"] == 8
    # months Dec, Jan, Mar, Apr, May, Jun
    assert a["purchase_months_12m"] == 6
    # gaps 1, 1, 1, 89, 1, 60, 30 -> sorted 1 1 1 1 30 60 89 -> median 1
    assert a["median_gap_days"] == 1
    assert a["first_purchase_date"] == pd.Timestamp(d(183))
    assert a["days_since_last_purchase"] == 0
    b = f.loc["B"]
    # purchase days 03-01, 06-10 (twice), 06-20: gaps 101 and 10 -> median 55.5
    assert b["purchase_days"] == 3
    assert b["median_gap_days"] == 55.5
    assert b["days_since_last_purchase"] == 10
    assert b["purchase_months_12m"] == 2          # March and June
    c = f.loc["C"]
    assert c["purchase_days"] == 1
    assert pd.isna(c["median_gap_days"])          # fewer than 2 purchase days


def test_refunds_same_day_and_categories(f):
    b = f.loc["B"]
    # 10 + 0.10 + 0.20 + 0.30 - 0.30 (refunded) - 1.00 (negative amount)
    assert b["spend_6m"] == pytest.approx(9.30)
    assert b["purchases_6m"] == 4                 # the two refunds are no purchases
    assert b["aov_6m"] == 2.325                   # 9.30 / 4
    assert b["products_6m"] == 3                  # x, y and the category c1 for the empty product
    assert b["last_purchase_date"] == pd.Timestamp(2024, 6, 20)
    assert b["last_txn_date"] == pd.Timestamp(2024, 6, 26)
    assert b["spend_90d"] == pytest.approx(-0.70)  # 0.10 + 0.20 + 0.30 - 0.30 - 1.00
    assert b["spend_prev_90d"] == 10
    assert f.loc["D", "products_6m"] == 1          # both rows fall back to category c2
    assert f.loc["I", "purchases_6m"] == 1         # amount 0 is a purchase
    assert f.loc["I", "purchase_days"] == 1


def test_a_refund_counts_negative_whichever_way_the_export_wrote_it():
    # DESIGN §3: refunds are negative amounts or status refunded; §4: they count negative.
    # P's export writes the refund as a positive amount with status refunded.
    con = duckdb.connect()
    store.migrate(con)
    con.executemany("INSERT INTO customers (customer_id) VALUES (?)", [("P",), ("Q",), ("R",)])
    con.executemany("INSERT INTO transactions (customer_id, txn_date, amount, status) "
                    "VALUES (?, ?, CAST(? AS DECIMAL(18,2)), ?)",
                    [("P", d(10), "40.00", "paid"), ("P", d(5), "30.00", "refunded"),
                     ("Q", d(10), "40.00", "paid"), ("Q", d(5), "-30.00", "refunded"),
                     ("R", d(10), "40.00", "paid"), ("R", d(5), "-30.00", "paid")])
    f = customer_features(con, as_of=T).set_index("customer_id")
    for money in ("spend_6m", "spend_90d", "revenue_12m", "monetary_12m"):
        assert f[money].to_dict() == {"P": 10.0, "Q": 10.0, "R": 10.0}, money
    assert f["purchases_6m"].to_dict() == {"P": 1, "Q": 1, "R": 1}
    assert f["aov_6m"].to_dict() == {"P": 10.0, "Q": 10.0, "R": 10.0}


def test_money_is_exact(f):
    # 0.10 + 0.20 summed as DECIMAL ties 0.30 exactly
    assert f.loc["D", "spend_6m"] == f.loc["C", "spend_6m"]
    assert f.loc["D", "revenue_12m"] == f.loc["C", "revenue_12m"]


def test_interaction_windows(f):
    e = f.loc["E"]
    assert e["interactions_6m"] == 6              # T, T-29, T-30, T-89, T-90, T-181
    assert e["events_6m"] == 2                    # T and T-181; T-182 is outside
    assert e["median_response_hours_6m"] == 3.0   # 2, 4, 9, 1 -> (2 + 4) / 2
    assert e["complaints_90d"] == 1               # T-30; T-90 is outside
    assert e["interactions_30d"] == 2             # T and T-29; T-30 is outside
    assert e["interactions_90d"] == 4             # T, T-29, T-30, T-89
    assert e["referral_interactions"] == 2        # all time up to T
    assert e["last_interaction_date"] == pd.Timestamp(T)
    assert e["last_consultation_date"] == pd.Timestamp(d(29))
    assert pd.isna(f.loc["A", "median_response_hours_6m"])


def test_customer_without_purchases(f):
    e = f.loc["E"]
    assert e["spend_6m"] == 0 and e["purchases_6m"] == 0 and e["aov_6m"] == 0
    assert e["purchase_days"] == 0 and e["frequency_12m"] == 0 and e["revenue_12m"] == 0
    assert pd.isna(e["first_purchase_date"]) and pd.isna(e["last_purchase_date"])
    assert pd.isna(e["recency_days_12m"]) and pd.isna(e["monetary_12m"])
    assert pd.isna(e["days_since_last_purchase"]) and pd.isna(e["median_gap_days"])
    h = f.loc["H"]                                # nothing at all
    assert pd.isna(h["tenure_days"]) and pd.isna(h["first_contact"])
    assert h["interactions_6m"] == 0 and h["referred_customers"] == 0


def test_stability(f):
    a = f.loc["A"]
    # first contact: the visit of 2022-12-01 is earlier than the first contact date
    assert a["first_contact"] == pd.Timestamp(2022, 12, 1)
    assert a["tenure_days"] == 31 + 365 + 181     # 2022-12-01 -> 2024-06-30
    assert a["renewal"] == 1
    assert f.loc["B", "renewal"] == 0
    assert pd.isna(f.loc["C", "renewal"])
    assert f.loc["B", "tenure_days"] == 121       # from the first purchase 2024-03-01
    assert f.loc["E", "tenure_days"] == (T - date(2020, 5, 1)).days
    assert f.loc["I", "tenure_days"] == 10        # first contact date after T does not count
    assert f.loc["J", "tenure_days"] == 0
    assert f.loc["L", "ontime_share"] == 0.4      # 2 of the 5 due on or before T
    assert pd.isna(f.loc["A", "ontime_share"])    # nothing due
    m = f.loc["M"]
    assert m["revenue_12m"] == 3 and m["frequency_12m"] == 1 and m["purchase_months_12m"] == 1
    assert m["recency_days_12m"] == 365           # 2023-07-01 -> 2024-06-30


def test_referrals(f):
    # F and G name A too but are not known by T
    assert f.loc["A", "referred_customers"] == 1
    assert f.loc["K", "referred_customers"] == 0


def test_dtypes(f):
    for column in ("purchases_6m", "products_6m", "interactions_6m", "purchase_days",
                   "referred_customers", "frequency_12m"):
        assert f[column].dtype == "int64", column
    for column in ("tenure_days", "renewal", "recency_days_12m", "days_since_last_purchase"):
        assert f[column].dtype == "Int64", column
    assert f["spend_6m"].dtype == "float64"


def test_latest_event_date(con):
    assert latest_event_date(con) == d(-5)        # G's purchase after the interactions
    empty = duckdb.connect()
    store.migrate(empty)
    assert latest_event_date(empty) is None
    assert customer_features(empty, as_of=T).empty


def test_optional_columns_present(con):
    assert optional_columns_present(con, as_of=T) == dict.fromkeys(
        ["transactions", "product_or_category", "interactions", "event_interactions",
         "response_hours", "due_paid_dates", "contract_end", "referred_by",
         "referral_interactions"], True)
    early = optional_columns_present(con, as_of=date(2021, 1, 1))
    # by 2021 only E's referral of 2020 has happened; contract_end and
    # referred_by are master data without a date and count whatever T
    assert early == {"transactions": False, "product_or_category": False,
                     "interactions": True, "event_interactions": False,
                     "response_hours": False, "due_paid_dates": False,
                     "contract_end": True, "referred_by": True,
                     "referral_interactions": True}


def test_due_dates_without_paid_dates_are_absent(con):
    con.execute("UPDATE transactions SET paid_date = NULL")
    con.execute("UPDATE customers SET referred_by = ''")   # empty text is no value
    present = optional_columns_present(con, as_of=T)
    assert present["due_paid_dates"] is False and present["referred_by"] is False


def test_as_of_must_be_a_date(con):
    with pytest.raises(TypeError, match="as_of must be a date"):
        customer_features(con, as_of="2024-06-30")


def test_with_the_history_the_key_is_the_position_among_all_customer_ids(con):
    """The key a query on the history gives is each customer's place among every customer
    id in ascending order (A…M: F and G are not known yet at T but hold their places)."""
    keyed = customer_features(con, as_of=T, history=event_history(con),
                              columns=["customer_id", "customer_key"])
    everyone = sorted(c for c, *_ in CUSTOMERS)
    assert keyed["customer_key"].tolist() == [everyone.index(c) for c in keyed["customer_id"]]
    assert keyed["customer_id"].tolist() == ["A", "B", "C", "D", "E", "H", "I", "J", "K", "L", "M"]
    # asked for nothing, the table is the public one: no key
    assert tuple(customer_features(con, as_of=T, history=event_history(con)).columns) == \
        FEATURE_COLUMNS
