"""The demo generator: sizes, integrity, determinism and the planted behaviours."""
from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

import cli.main as cli
from cli.common import EXIT_OK, EXIT_USAGE
from engine import demo, store

END = date(2026, 6, 30)
START = date(2024, 7, 1)   # 24 months ending with END
LAST_90 = END - timedelta(days=90)
PREV_90 = END - timedelta(days=180)
SIZE = dict(customers=300, seed=3)
TABLES = {"customers": "customer_id", "transactions": "txn_id",
          "interactions": "customer_id, ts, kind", "followups": "followup_id"}


def read_tables(path) -> dict[str, pd.DataFrame]:
    """The four event tables, in a stable row order."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.sql(f"SELECT * FROM {t} ORDER BY {key}").df()
                for t, key in TABLES.items()}
    finally:
        con.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """A 300-customer demo in chunks of 128, so ids and referrals cross chunks."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(demo, "CHUNK", 128)
        demo.generate_demo(path, **SIZE)
    return path


@pytest.fixture(scope="module")
def con(db):
    con = duckdb.connect(str(db), read_only=True)
    yield con
    con.close()


def scalar(con, sql: str):
    return con.execute(sql).fetchall()[0][0]


def test_counts_are_near_the_requested_sizes(con):
    counts = store.table_counts(con)
    assert counts["customers"] == 300
    assert 300 * 30 * 0.85 < counts["transactions"] < 300 * 30 * 1.15
    assert 300 * 8 * 0.8 < counts["interactions"] < 300 * 8 * 1.2
    assert 30 < counts["followups"] < 300


def test_default_size_gives_about_150k_transactions_and_40k_interactions(tmp_path):
    counts = demo.generate_demo(tmp_path / "full.duckdb")
    assert counts["customers"] == 5000
    assert 140_000 < counts["transactions"] < 160_000
    assert 36_000 < counts["interactions"] < 44_000
    with store.connect(tmp_path / "full.duckdb") as con:
        assert store.table_counts(con) == counts


def test_event_dates_fall_in_the_window(con):
    columns = {"transactions": ["txn_date", "paid_date"], "interactions": ["CAST(ts AS DATE)"],
               "followups": ["CAST(ts AS DATE)"], "customers": ["first_contact_date"]}
    for table, exprs in columns.items():
        for expr in exprs:
            low, high = con.execute(f"SELECT min({expr}), max({expr}) FROM {table}").fetchall()[0]
            assert START <= low and high <= END, (table, expr, low, high)
    assert scalar(con, "SELECT max(txn_date) FROM transactions") == END


def test_first_contact_comes_before_every_event(con):
    assert scalar(con, """
        SELECT count(*) FROM customers c JOIN (
            SELECT customer_id, txn_date AS d FROM transactions
            UNION ALL SELECT customer_id, CAST(ts AS DATE) FROM interactions) e
          USING (customer_id)
        WHERE e.d < c.first_contact_date""") == 0


def test_every_event_belongs_to_a_known_customer(con):
    for table in ("transactions", "interactions", "followups"):
        assert scalar(con, f"SELECT count(*) FROM {table} "
                           "WHERE customer_id NOT IN (SELECT customer_id FROM customers)") == 0


def test_referrals_point_to_an_earlier_other_customer(con):
    referred = con.sql("""
        SELECT c.customer_id, c.referred_by, c.source, r.customer_id AS found,
               r.first_contact_date <= c.first_contact_date AS earlier
        FROM customers c LEFT JOIN customers r ON r.customer_id = c.referred_by
        WHERE c.referred_by IS NOT NULL""").df()
    assert len(referred) > 10
    assert referred["found"].notna().all()
    assert (referred["referred_by"] != referred["customer_id"]).all()
    assert referred["earlier"].all()
    assert (referred["source"] == "referral").all()
    # referrals cross chunks of 128 customers
    assert (referred["customer_id"].str[1:].astype(int) > 128).any()


def test_ids_are_unique_and_well_formed(con):
    assert scalar(con, "SELECT count(DISTINCT customer_id) = count(*) FROM customers")
    # an order's lines share its txn_id and are numbered 1, 2, …; an order of one row is not
    assert scalar(con, "SELECT count(DISTINCT txn_id) = count(*) FROM transactions "
                       "WHERE order_line IS NULL")
    assert scalar(con, """SELECT bool_and(n = lines AND top = n AND one AND alike) FROM (
        SELECT txn_id, count(*) AS n, count(order_line) AS lines, max(order_line) AS top,
               min(order_line) = 1 AS one,
               count(DISTINCT customer_id) = 1 AND count(DISTINCT txn_date) = 1 AS alike
        FROM transactions WHERE txn_id IN (SELECT txn_id FROM transactions
                                           WHERE order_line IS NOT NULL)
        GROUP BY txn_id)""")
    assert scalar(con, "SELECT bool_and(regexp_full_match(customer_id, 'C[0-9]{6}')) "
                       "FROM customers")
    assert scalar(con, "SELECT bool_and(txn_id LIKE 'T%') FROM transactions")
    ids = con.sql("SELECT followup_id FROM followups ORDER BY 1").df()["followup_id"]
    assert ids.tolist() == list(range(1, len(ids) + 1))
    for table in TABLES:
        assert scalar(con, f"SELECT count(batch_id) FROM {table}") == 0


def test_customer_master_data_is_consistent(con):
    df = con.sql("SELECT * FROM customers").df()
    assert set(df["customer_type"]) == {"enterprise", "individual"}
    assert ((df["customer_type"] == "enterprise") == (df["channel_type"] == "B")).all()
    assert set(df["region"]) <= set(demo.REGIONS)
    assert set(df["source"]) == set(demo.SOURCES)
    assert 8 <= df["owner"].nunique() <= 12
    companies = df[df["customer_type"] == "enterprise"]
    assert companies["name"].str.endswith("有限公司").all()
    assert df.loc[df["customer_type"] == "individual", "contract_end"].isna().all()
    ends = companies["contract_end"].dt.date
    assert (ends < END).any() and (ends > END).any()


def test_same_seed_gives_identical_data_and_another_seed_differs(db, tmp_path):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(demo, "CHUNK", 128)
        demo.generate_demo(tmp_path / "again.duckdb", **SIZE)
    demo.generate_demo(tmp_path / "other.duckdb", customers=300, seed=4)
    first, again, other = (read_tables(p) for p in
                           (db, tmp_path / "again.duckdb", tmp_path / "other.duckdb"))
    for table in TABLES:
        pd.testing.assert_frame_equal(first[table], again[table])
    assert not first["transactions"]["amount"].equals(other["transactions"]["amount"])
    assert not first["customers"]["name"].equals(other["customers"]["name"])


def test_every_kind_channel_action_and_status_occurs(con):
    def values(sql):
        return {row[0] for row in con.execute(sql).fetchall()}
    assert values("SELECT DISTINCT kind FROM interactions") == set(demo.KINDS)
    assert values("SELECT DISTINCT channel FROM interactions") == {
        "phone", "email", "online", "visit", "wechat"}
    assert values("SELECT DISTINCT topic FROM interactions WHERE kind = 'complaint'") \
        >= {"物流延迟", "质量问题", "售后服务"}
    assert values("SELECT DISTINCT action FROM followups") == set(demo.ACTIONS)
    assert values("SELECT DISTINCT status FROM followups") == {"in_progress", "done", "paused"}
    assert values("SELECT DISTINCT satisfaction FROM interactions") == {1, 2, 3, 4, 5, None}


def test_refunds_are_negative_and_rare(con):
    by_status = dict(con.execute(
        "SELECT status, count(DISTINCT txn_id) FROM transactions GROUP BY status").fetchall())
    assert set(by_status) == {"paid", "refunded", "cancelled", "pending"}
    orders = sum(by_status.values())
    assert 0.01 < by_status["refunded"] / orders < 0.04
    assert 0.015 < by_status["cancelled"] / orders < 0.05   # some orders cancelled, some
    assert 0 < by_status["pending"] < by_status["cancelled"]  # of the last days unpaid
    assert scalar(con, "SELECT min(txn_date) FROM transactions WHERE status = 'pending'") > \
        scalar(con, "SELECT max(txn_date) FROM transactions") - timedelta(days=10)
    assert scalar(con, "SELECT count(*) FROM transactions WHERE status IN ('cancelled', "
                       "'pending') AND paid_date IS NOT NULL") == 0
    assert scalar(con, "SELECT count(*) FROM transactions "
                       "WHERE (amount < 0) <> (status = 'refunded')") == 0
    assert scalar(con, "SELECT count(*) FROM transactions WHERE amount <> round(amount)") > 0


def test_enterprises_have_invoices_some_paid_late_some_unpaid(con):
    row = con.execute("""
        SELECT count(*) FILTER (WHERE customer_type = 'individual' AND due_date IS NOT NULL),
               count(*) FILTER (WHERE paid_date > due_date),
               count(*) FILTER (WHERE customer_type = 'enterprise' AND status = 'paid'
                                AND paid_date IS NULL)
        FROM transactions JOIN customers USING (customer_id)""").fetchall()[0]
    assert row[0] == 0 and row[1] > 0 and row[2] > 0


def test_spend_peaks_in_november_and_december(con):
    daily = dict(con.execute("""
        SELECT month(txn_date) >= 11, count(*) / count(DISTINCT txn_date)
        FROM transactions WHERE txn_date BETWEEN DATE '2025-08-01' AND DATE '2025-12-31'
        GROUP BY 1""").fetchall())
    assert daily[True] > 1.25 * daily[False]


def test_new_customers_arrive_every_month(con):
    months = scalar(con, """
        SELECT count(DISTINCT date_trunc('month', first_buy)) FROM (
            SELECT min(txn_date) AS first_buy FROM transactions GROUP BY customer_id)""")
    assert months == 24


def test_planted_behaviours_are_there(con):
    falls = scalar(con, f"""
        SELECT count(*) FROM (
            SELECT sum(amount) FILTER (WHERE txn_date > DATE '{LAST_90}') AS last,
                   sum(amount) FILTER (WHERE txn_date > DATE '{PREV_90}'
                                       AND txn_date <= DATE '{LAST_90}') AS prev
            FROM transactions GROUP BY customer_id)
        WHERE prev > 0 AND coalesce(last, 0) < prev / 2""")
    complainers = scalar(con, f"""
        SELECT count(*) FROM (
            SELECT customer_id FROM interactions
            WHERE kind = 'complaint' AND CAST(ts AS DATE) > DATE '{LAST_90}'
            GROUP BY customer_id HAVING count(*) >= 2)""")
    dormant = scalar(con, f"""
        SELECT count(*) FROM customers c WHERE NOT EXISTS (
            SELECT 1 FROM transactions t WHERE t.customer_id = c.customer_id
              AND t.txn_date > DATE '{LAST_90}')
          AND NOT EXISTS (
            SELECT 1 FROM interactions i WHERE i.customer_id = c.customer_id
              AND CAST(i.ts AS DATE) > DATE '{LAST_90}')""")
    assert 0.05 * 300 < falls < 0.35 * 300
    assert 0.01 * 300 < complainers < 0.10 * 300
    assert 0.12 * 300 < dormant < 0.30 * 300


def test_some_follow_ups_woke_sleepers_and_won_customers_back(con):
    worked = dict(con.execute("""
        SELECT f.action, count(DISTINCT f.followup_id) FROM followups f
        JOIN transactions t ON t.customer_id = f.customer_id
          AND t.txn_date > CAST(f.ts AS DATE)
          AND t.txn_date <= CAST(f.ts AS DATE) + INTERVAL 14 DAY
        WHERE f.action IN ('wake_up', 'win_back') AND f.result LIKE '已%'
        GROUP BY 1""").fetchall())
    assert worked.get("wake_up", 0) > 0 and worked.get("win_back", 0) > 0
    asleep_when_called = scalar(con, """
        SELECT count(*) FROM followups f WHERE action = 'wake_up' AND NOT EXISTS (
            SELECT 1 FROM (SELECT customer_id, txn_date AS d FROM transactions
                           UNION ALL SELECT customer_id, CAST(ts AS DATE) FROM interactions) e
            WHERE e.customer_id = f.customer_id
              AND e.d BETWEEN CAST(f.ts AS DATE) - INTERVAL 90 DAY AND CAST(f.ts AS DATE))""")
    assert asleep_when_called == scalar(
        con, "SELECT count(*) FROM followups WHERE action = 'wake_up'")


def test_a_second_run_replaces_the_rows(tmp_path):
    path = tmp_path / "twice.duckdb"
    demo.generate_demo(path, customers=50, seed=1)
    counts = demo.generate_demo(path, customers=60, seed=2)
    with store.connect(path) as con:
        assert store.table_counts(con) == counts
        assert counts["customers"] == 60


def test_write_demo_works_on_an_open_connection_and_reports_progress(monkeypatch):
    monkeypatch.setattr(demo, "CHUNK", 40)
    seen = []
    con = duckdb.connect()
    store.migrate(con)
    counts = demo.write_demo(con, customers=100, months=6, progress=seen.append)
    assert seen == pytest.approx([0.4, 0.8, 1.0])
    assert counts == store.table_counts(con)
    assert scalar(con, "SELECT min(txn_date) FROM transactions") >= date(2026, 1, 1)


def test_bad_sizes_are_refused():
    con = duckdb.connect()
    with pytest.raises(ValueError, match="customers must be at least 1"):
        demo.write_demo(con, customers=0)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["demo", "--db", "unused.duckdb", "--months", "0"])
    assert exit_.value.code == EXIT_USAGE


def test_command_line_prints_a_summary(tmp_path, capsys):
    path = tmp_path / "cli.duckdb"
    code = cli.main(["demo", "--db", str(path), "--customers", "80", "--months", "12",
                     "--seed", "5", "--txns-per-customer", "10"])
    out = capsys.readouterr().out
    assert code == EXIT_OK
    assert "80 customers" in out and "transactions" in out and "follow-ups" in out
    with store.connect(path) as con:
        assert 80 * 10 * 0.7 < store.table_counts(con)["transactions"] < 80 * 10 * 1.3


def test_spend_per_purchase_varies_around_a_customer_mean_with_a_finite_spread(con):
    # Each customer orders around their own usual value, drawn around their
    # type's mean: customers' means differ by about one order of magnitude,
    # not five (the lifetime-value spend model needs a finite mean), and a
    # customer's own orders vary moderately around theirs.
    means = con.sql("""
        SELECT customer_type, avg(amount) AS mean, stddev_samp(amount) / avg(amount) AS cv
        FROM transactions JOIN customers USING (customer_id)
        WHERE status = 'paid' GROUP BY customer_id, customer_type
        HAVING count(*) >= 5""").df()
    assert len(means) > 200
    low, high = means["mean"].quantile([0.01, 0.99])
    assert 3 < high / low < 60
    assert 0.15 < means["cv"].median() < 0.6
    by_type = means.groupby("customer_type")["mean"].mean()
    assert 1.5 < by_type["enterprise"] / by_type["individual"] < 5


def test_customers_drop_out_for_good_at_a_steady_rate():
    cal = demo.make_calendar(END, 24)
    c = demo.make_customers(np.random.default_rng(0), cal, np.arange(20_000), 20_000, 6)
    stopped = c.stop < cal.last
    assert set(np.unique(c.segment[stopped])) == {demo.NORMAL, demo.SLEEPER}
    # sleepers are exactly those gone at least 120 days before the end
    assert ((c.segment == demo.SLEEPER) == (c.stop <= cal.last - 120)).all()
    # in each of the last four quarters, sleepers-to-be and the recently
    # stopped alike, about 1 - exp(-91 / 1600) = 5.5 % of the living leave
    for quarter in range(4):
        first, last = cal.last - 91 * (quarter + 1) + 1, cal.last - 91 * quarter
        living = (np.isin(c.segment, (demo.NORMAL, demo.SLEEPER)) & (c.start < first)
                  & (c.stop >= first))
        left = living & (c.stop <= last) & stopped
        assert 0.04 < left.sum() / living.sum() < 0.07, quarter
