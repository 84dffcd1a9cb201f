"""The feature SQL gives the same table on DuckDB and on Spark (local[2]).

~20,000 synthetic transactions (a thousand orders of three lines among them, and
cancelled and pending ones) plus hand-written edge customers are written
as Parquet; `customer_features` runs on DuckDB over views of the files and
the committed Spark transpilation on Spark, and the two tables must have the
same columns, types (Spark's mapped to DuckDB's pandas types) and values,
exactly (the SQL rounds the one median whose engines could differ in the
last bit). Needs pyspark (requirements-spark.txt) and Java 17; without them
the test is skipped, except in CI (env CI set), where it fails.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from engine import store
from engine.export_parquet import export_parquet
from engine.features import FEATURE_COLUMNS, parquet_source


def _require(ok: bool, why: str) -> None:
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{why} (required in CI)")
        pytest.skip(why)


try:
    import pyspark  # noqa: F401
    HAVE_PYSPARK = True
except ImportError:
    HAVE_PYSPARK = False

T = dt.date(2024, 6, 30)


@pytest.fixture(scope="module")
def spark():
    _require(HAVE_PYSPARK, "pyspark is not installed (pip install -r requirements-spark.txt)")
    _require(shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME")),
             "Java is not installed (Debian: apt-get install openjdk-17-jre-headless)")
    from engine.spark_features import spark_session
    session = spark_session("local[2]", shuffle_partitions=2)
    yield session
    session.stop()


def _day(offset: int) -> dt.date:
    return T + dt.timedelta(days=offset)


def _data() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    n_cust, n_txn, n_int = 2_000, 20_000, 6_000
    ids = [f"C{i:05d}" for i in range(n_cust)]
    customers = pd.DataFrame({
        "customer_id": ids,
        "name": [f"Customer {i}" for i in range(n_cust)],
        "customer_type": rng.choice(["retail", "wholesale", None], n_cust),
        "channel_type": rng.choice(["online", "store"], n_cust),
        "region": rng.choice(["north", "south", "east", None], n_cust),
        "source": rng.choice(["ads", "referral", "walk-in"], n_cust),
        "first_contact_date": [_day(int(d)) if d > -700 else None
                               for d in rng.integers(-800, 30, n_cust)],
        "owner": rng.choice(["ann", "bo", None], n_cust),
        "referred_by": [ids[int(j)] if j < n_cust else None
                        for j in rng.integers(0, n_cust * 5, n_cust)],
        "contract_end": [_day(int(d)) if d % 3 == 0 else None
                         for d in rng.integers(-200, 200, n_cust)],
    })
    due_offsets = rng.integers(-5, 40, n_txn)
    paid_offsets = rng.integers(-3, 60, n_txn)
    txn_days = rng.integers(-500, 20, n_txn)
    transactions = pd.DataFrame({
        "customer_id": rng.choice(ids, n_txn),
        "txn_date": [_day(int(d)) for d in txn_days],
        "amount": [f"{a / 100:.2f}" for a in rng.integers(-5_000, 50_000, n_txn)],
        "txn_id": [f"T{i}" for i in range(n_txn)],
        "product": rng.choice(["p1", "p2", "p3", "", None], n_txn),
        "category": rng.choice(["c1", "c2", "", None], n_txn),
        "due_date": [_day(int(d + o)) if o % 4 else None for d, o in zip(txn_days, due_offsets)],
        "paid_date": [_day(int(d + o)) if o % 5 else None for d, o in zip(txn_days, paid_offsets)],
        "status": rng.choice(["paid", "refunded", "open", "cancelled", "pending", None], n_txn),
        "unit_price": [f"{a / 100:.2f}" for a in rng.integers(1, 9_000, n_txn)],
    })
    # The first 3,000 rows become 1,000 orders of three lines: one txn_id, customer and
    # dates per order (as the import keeps them), the lines numbered 1-3.
    lines = np.arange(3_000)
    first = lines - lines % 3
    for column in ("customer_id", "txn_date", "txn_id", "due_date", "paid_date"):
        transactions.loc[lines, column] = transactions.loc[first, column].to_numpy()
    transactions["order_line"] = pd.array([i % 3 + 1 if i < 3_000 else None
                                           for i in range(n_txn)], dtype="Int64")
    int_seconds = rng.integers(-500 * 86400, 20 * 86400, n_int)
    interactions = pd.DataFrame({
        "customer_id": rng.choice(ids, n_int),
        "ts": [dt.datetime.combine(T, dt.time(12)) + dt.timedelta(seconds=int(s))
               for s in int_seconds],
        "kind": rng.choice(["event", "referral", "complaint", "consultation", "visit"], n_int),
        "satisfaction": [int(s) if s > 0 else None for s in rng.integers(0, 6, n_int)],
        "response_hours": [round(float(h), 2) if h > 1 else None
                           for h in rng.uniform(0, 48, n_int)],
    })

    # Hand-written edge customers.
    edge_c, edge_t, edge_i = [], [], []

    def cust(cid, first_contact=None, referred_by=None):
        edge_c.append({"customer_id": cid, "name": cid, "first_contact_date": first_contact,
                       "referred_by": referred_by})

    def txn(cid, offset, amount, status="paid", product="p1", order=None, line=None):
        edge_t.append({"customer_id": cid, "txn_date": _day(offset), "amount": amount,
                       "txn_id": order or f"{cid}-{len(edge_t)}", "product": product,
                       "status": status, "order_line": line})

    def inter(cid, when, kind="visit", hours=None, satisfaction=None):
        edge_i.append({"customer_id": cid, "ts": when, "kind": kind, "response_hours": hours,
                       "satisfaction": satisfaction})

    for offset in (0, -90, -180, -181, -182, -183, -30, -31):
        cust(f"E_AT_{-offset}")
        txn(f"E_AT_{-offset}", offset, "10.00")
        inter(f"E_AT_{-offset}", dt.datetime.combine(_day(offset), dt.time(23, 59, 59)), "complaint")
    cust("E_AFTER")                       # events only after T, no first contact: not known
    txn("E_AFTER", 1, "5.00")
    cust("E_AFTER_KNOWN", first_contact=_day(-10))
    txn("E_AFTER_KNOWN", 3, "5.00")
    cust("E_FUTURE_CONTACT", first_contact=_day(5))  # not known yet
    cust("E_SAME_DAY")
    for amount in ("1.00", "2.00", "3.00"):
        txn("E_SAME_DAY", -10, amount)
    txn("E_SAME_DAY", -40, "4.00")
    txn("E_SAME_DAY", -41, "-4.00", status="refunded")
    cust("E_SINGLE")
    txn("E_SINGLE", -5, "99.99")
    cust("E_INTERACTION_ONLY", referred_by="E_SINGLE")
    inter("E_INTERACTION_ONLY", dt.datetime.combine(_day(-3), dt.time(9)), "event", 1.5)
    cust("E_TIE_A")                       # 0.1 + 0.2 ...
    txn("E_TIE_A", -20, "0.10")
    txn("E_TIE_A", -21, "0.20")
    cust("E_TIE_B")                       # ... ties 0.3
    txn("E_TIE_B", -20, "0.30")
    cust("E_TIED_TS")
    same = dt.datetime.combine(_day(-7), dt.time(8, 30))
    for kind, hours in (("event", 2.0), ("consultation", 3.0), ("visit", None)):
        inter("E_TIED_TS", same, kind, hours)
    cust("E_NULL_SATISFACTION")
    inter("E_NULL_SATISFACTION", dt.datetime.combine(_day(-1), dt.time(10)), "visit", 0.25, None)
    inter("E_NULL_SATISFACTION", dt.datetime.combine(_day(-2), dt.time(10)), "visit", 0.35, None)
    cust("E_NOTHING")                     # no events, no first contact: known
    cust("E_LINES")                       # one order of three lines, one of one
    for line, (amount, product) in enumerate((("10.00", "p1"), ("20.00", "p2"),
                                              ("30.00", "p3")), start=1):
        txn("E_LINES", -15, amount, product=product, order="E_LINES-O1", line=line)
    txn("E_LINES", -15, "5.00", product="p4")
    cust("E_VOID")                        # cancelled and unpaid orders count nothing
    txn("E_VOID", -12, "50.00", status="cancelled")
    txn("E_VOID", -11, "60.00", status="pending", product="p2")
    txn("E_VOID", -10, "7.00")
    customers = pd.concat([customers, pd.DataFrame(edge_c)], ignore_index=True)
    transactions = pd.concat([transactions, pd.DataFrame(edge_t)], ignore_index=True)
    interactions = pd.concat([interactions, pd.DataFrame(edge_i)], ignore_index=True)
    return customers, transactions, interactions


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark")
    db = root / "synthetic.duckdb"
    customers, transactions, interactions = _data()
    with store.write(db) as con:
        for table, frame in (("customers", customers), ("transactions", transactions),
                             ("interactions", interactions)):
            con.register("frame", frame)
            columns = ", ".join(frame.columns)
            con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM frame")
            con.unregister("frame")
    export_parquet(db, root / "parquet")
    return root / "parquet"


def test_features_are_the_same_on_duckdb_and_spark(spark, source):
    from engine.spark_features import spark_features

    on_duckdb, _ = parquet_source.duckdb_features(source, as_of=T)
    on_spark = spark_features(spark, source, as_of=T)

    assert list(on_spark.columns) == list(on_duckdb.columns) == list(FEATURE_COLUMNS)
    assert on_spark.dtypes.astype(str).to_dict() == on_duckdb.dtypes.astype(str).to_dict()
    assert len(on_duckdb) > 2_000
    ids = set(on_duckdb["customer_id"])
    assert "E_AFTER" not in ids and "E_FUTURE_CONTACT" not in ids
    assert {"E_AFTER_KNOWN", "E_NOTHING", "E_INTERACTION_ONLY"} <= ids
    pdt.assert_frame_equal(on_spark, on_duckdb, check_exact=True)

    row = on_duckdb.set_index("customer_id")
    assert row.loc["E_TIE_A", "spend_6m"] == row.loc["E_TIE_B", "spend_6m"] == 0.3
    assert row.loc["E_AT_182", "spend_6m"] == 0 and row.loc["E_AT_181", "spend_6m"] == 10
    assert row.loc["E_AT_90", "complaints_90d"] == 0 and row.loc["E_AT_0", "complaints_90d"] == 1
    assert row.loc["E_SAME_DAY", "purchase_days"] == 2
    assert (row.loc["E_LINES", "purchases_6m"], row.loc["E_LINES", "spend_6m"],
            row.loc["E_LINES", "aov_6m"], row.loc["E_LINES", "products_6m"]) == (2, 65.0, 32.5, 4)
    assert (row.loc["E_VOID", "purchases_6m"], row.loc["E_VOID", "spend_6m"],
            row.loc["E_VOID", "products_6m"]) == (1, 7.0, 1)
    assert row.loc["E_VOID", "last_txn_date"] == pd.Timestamp(_day(-10))
