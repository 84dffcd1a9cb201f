"""The feature table as of a past date over the three sets of customers (engine.features.past).

A hand-made base at T = 2024-06-30:
  N  no first contact, no event       in the feature table, so EVERY; not KNOWN
  C  first contact 2024-01-01 only    EVERY and KNOWN; not a BUYER
  I  an interaction on 2024-03-01     EVERY and KNOWN; not a BUYER
  B  a purchase on 2024-02-01         all three sets
  L  a purchase after T only          in none (not known at T)
"""
from datetime import date

import duckdb
import pytest

from engine import store
from engine.features import event_history, past

T = date(2024, 6, 30)


@pytest.fixture
def con():
    con = duckdb.connect()
    store.migrate(con)
    con.executemany("INSERT INTO customers (customer_id, name, first_contact_date) VALUES (?, ?, ?)",
                    [("B", "b", None), ("C", "c", date(2024, 1, 1)), ("I", "i", None),
                     ("L", "l", None), ("N", "n", None)])
    con.executemany("INSERT INTO transactions (customer_id, txn_date, amount) "
                    "VALUES (?, ?, CAST(? AS DECIMAL(18,2)))",
                    [("B", date(2024, 2, 1), "10.00"), ("L", date(2024, 7, 1), "5.00")])
    con.execute("INSERT INTO interactions (customer_id, ts, kind) "
                "VALUES ('I', TIMESTAMP '2024-03-01 10:00:00', 'consultation')")
    return con


@pytest.mark.parametrize("customers, expected", [
    (past.EVERY, ["B", "C", "I", "N"]),
    (past.KNOWN, ["B", "C", "I"]),
    (past.BUYERS, ["B"]),
])
def test_each_set_of_customers(con, customers, expected):
    plain = past.features_as_of(con, T, customers=customers)
    read_once = past.features_as_of(con, T, customers=customers, history=event_history(con))
    assert plain["customer_id"].tolist() == expected
    assert read_once["customer_id"].tolist() == expected


def test_an_earlier_day_knows_fewer_customers(con):
    assert past.features_as_of(con, date(2024, 1, 31), customers=past.KNOWN)[
        "customer_id"].tolist() == ["C"]


def test_an_unknown_set_is_refused(con):
    with pytest.raises(ValueError, match="unknown set of customers"):
        past.features_as_of(con, T, customers="everyone")


def test_sources_from_the_history_equal_the_query(con):
    for day in (date(2024, 1, 31), date(2024, 2, 29), T):
        assert past.sources_as_of(con, day, event_history(con)) == past.sources_as_of(con, day)
    assert past.sources_as_of(con, date(2024, 1, 31))["transactions"] is False
    assert past.sources_as_of(con, T)["transactions"] is True
