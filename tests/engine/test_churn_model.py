"""The learned churn model: snapshots without leakage, labels, out-of-time evaluation."""
import shutil
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from engine.months import month_ends
from engine import churn_model as cm
from engine import demo, store
from engine.features.customer import customer_features

M = date(2024, 3, 31)   # the snapshot of the hand-made base


@pytest.fixture
def base(tmp_path):
    """Two buyers and a prospect, with events up to the snapshot M."""
    path = tmp_path / "base.duckdb"
    with store.write(path) as con:
        con.execute("INSERT INTO customers (customer_id, customer_type, first_contact_date) VALUES"
                    " ('C1', 'enterprise', DATE '2023-06-01'), ('C2', 'individual', NULL),"
                    " ('C3', 'individual', DATE '2024-01-05')")
        con.execute("INSERT INTO transactions (customer_id, txn_date, amount, status) VALUES"
                    " ('C1', DATE '2023-07-01', 500, 'paid'), ('C1', DATE '2023-12-20', 300, 'paid'),"
                    " ('C1', DATE '2024-03-31', 200, 'paid'), ('C2', DATE '2024-01-10', 80, 'paid'),"
                    " ('C2', DATE '2024-02-10', 90, 'paid')")
        con.execute("INSERT INTO interactions (customer_id, ts, kind) VALUES"
                    " ('C1', TIMESTAMP '2024-03-30 09:00', 'complaint'),"
                    " ('C3', TIMESTAMP '2024-02-01 10:00', 'consultation')")
    return path


def test_snapshot_uses_only_events_up_to_its_date(base):
    with store.connect(base) as con:
        before = cm.snapshot(con, M)
    assert before.customer_id.tolist() == ["C1", "C2"]          # buyers only
    with store.write(base) as con:
        con.execute("INSERT INTO customers (customer_id, first_contact_date) VALUES"
                    " ('C4', DATE '2024-04-02')")
        con.execute("INSERT INTO transactions (customer_id, txn_date, amount, status) VALUES"
                    " ('C1', DATE '2024-04-01', 999, 'paid'), ('C2', DATE '2024-04-01', -90, 'refunded'),"
                    " ('C3', DATE '2024-05-01', 50, 'paid'), ('C4', DATE '2024-04-03', 70, 'paid')")
        con.execute("INSERT INTO interactions (customer_id, ts, kind) VALUES"
                    " ('C1', TIMESTAMP '2024-04-01 00:00', 'complaint'),"
                    " ('C2', TIMESTAMP '2024-04-01 00:00:01', 'consultation')")
    with store.connect(base) as con:
        after = cm.snapshot(con, M)
        later = cm.snapshot(con, date(2024, 5, 31))
    pd.testing.assert_frame_equal(before, after)
    assert later.customer_id.tolist() == ["C1", "C2", "C3", "C4"]


def test_model_inputs_are_the_features_as_of_the_snapshot(base):
    with store.connect(base) as con:
        got = cm.snapshot(con, M).set_index("customer_id")
    c1 = got.loc["C1"]
    assert c1.days_since_last_purchase == 0 and c1.days_since_last_interaction == 1
    assert c1.complaints_90d == 1 and c1.enterprise == 1.0 and c1.risk_level == "medium"
    assert c1.spend_fall == pytest.approx(1 / 3)                    # 300 -> 200 in 90 days
    assert list(got.columns[2:]) == list(cm.MODEL_FEATURES)


@pytest.mark.parametrize("day, amount, status, churned", [
    (M, 50, "paid", True),                                 # on the snapshot day: not after it
    (M + timedelta(days=1), 50, "paid", False),
    (M + timedelta(days=90), 50, "paid", False),           # the window's last day
    (M + timedelta(days=91), 50, "paid", True),
    (M + timedelta(days=10), -50, "paid", True),           # a refund is no purchase
    (M + timedelta(days=10), 50, "refunded", True),
])
def test_churn_label_is_no_purchase_in_the_next_90_days(base, day, amount, status, churned):
    with store.write(base) as con:
        con.execute("INSERT INTO transactions (customer_id, txn_date, amount, status) "
                    "VALUES ('C2', ?, ?, ?)", [day, amount, status])
    with store.connect(base) as con:
        labels = cm.churn_labels(con, M)
    assert bool(labels["C2"]) is churned


@pytest.fixture(scope="module")
def demo_rows(demo_db):
    """The shared demo base's training rows (T, rows), built once for this file."""
    with store.connect(demo_db) as con:
        as_of = store.date_range(con)[1]
        return as_of, cm.labelled_snapshots(con, as_of=as_of)


def test_training_rows_do_not_change_when_later_events_are_removed(demo_db, demo_rows, tmp_path):
    _, rows = demo_rows
    first = rows["snapshot"].min().date()
    cut = tmp_path / "cut.duckdb"
    shutil.copy(demo_db, cut)
    with store.write(cut) as con:
        con.execute("DELETE FROM transactions WHERE txn_date > ?", [first])
        con.execute("DELETE FROM interactions WHERE CAST(ts AS DATE) > ?", [first])
        con.execute("DELETE FROM followups WHERE CAST(ts AS DATE) > ?", [first])
        con.execute("DELETE FROM customers WHERE first_contact_date > ?", [first])
        alone = cm.snapshot(con, first)
    seen = rows[rows["snapshot"].dt.date == first].drop(columns="churned").reset_index(drop=True)
    pd.testing.assert_frame_equal(seen, alone)


def test_not_enough_history(tmp_path):
    path = tmp_path / "short.duckdb"
    demo.generate_demo(path, customers=60, months=5, seed=2)
    with store.connect(path) as con, pytest.raises(cm.NotEnoughHistory) as err:
        cm.train_churn_model(con, as_of=store.date_range(con)[1])
    assert isinstance(err.value, ValueError)
    assert "Not enough history" in str(err.value) and "5 months" in str(err.value)
    assert "历史数据不足" in err.value.message("zh")


def test_empty_database_has_no_history(tmp_path):
    with store.connect(tmp_path / "empty.duckdb") as con, pytest.raises(cm.NotEnoughHistory):
        cm.train_churn_model(con, as_of=date(2024, 6, 30))


def test_split_is_out_of_time_with_an_embargo():
    ends = month_ends(date(2024, 1, 1), date(2025, 3, 31))[:12]     # Jan..Dec 2024
    train, test, embargo = cm.split_snapshots(ends)
    assert test == [date(2024, 10, 31), date(2024, 11, 30), date(2024, 12, 31)]
    assert embargo and train[-1] == date(2024, 7, 31)                 # 07-31 + 90 <= 10-31
    assert all(d + timedelta(days=90) <= test[0] for d in train)


def test_split_of_a_short_history_drops_the_embargo():
    ends = [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31)]
    assert cm.split_snapshots(ends) == (ends[:2], ends[2:], False)


def test_alert_quality_and_top_k():
    churned = np.array([True, True, False, False, True])
    assert cm.alert_quality(np.array([True, False, True, False, False]), churned) == {
        "alerts": 2, "precision": 0.5, "recall": 1 / 3}
    assert cm.alert_quality(np.zeros(5, bool), churned)["precision"] is None
    assert cm.top_k(np.array([0.2, 0.9, 0.5, 0.9, 0.1]), 2).tolist() == [
        False, True, False, True, False]
    assert not cm.top_k(np.array([0.2, 0.9]), 0).any()


def test_train_on_demo_history(demo_db, demo_rows):
    as_of, rows = demo_rows
    with store.connect(demo_db) as con:
        trained = cm.train_churn_model(con, as_of=as_of, random_state=3)
        again = cm.train_churn_model(con, as_of=as_of, random_state=3, rows=rows)
        features = customer_features(con, as_of=as_of)
    assert trained.embargo and len(trained.test_snapshots) == 3
    assert max(trained.train_snapshots) + timedelta(days=90) <= min(trained.test_snapshots)
    assert max(trained.test_snapshots) + timedelta(days=90) <= as_of
    assert 0.5 < trained.auc_model <= 1 and 0.5 < trained.auc_rules <= 1
    rules, model = trained.rules, trained.model_at_same_alerts
    assert rules["alerts"] == model["alerts"] > 0
    assert 0 <= rules["precision"] <= 1 and 0 <= model["recall"] <= 1
    assert set(trained.importance.feature) == set(trained.features) <= set(cm.MODEL_FEATURES)
    assert trained.importance.importance.is_monotonic_decreasing
    assert trained.summary()["auc_model"] == again.auc_model        # fixed random_state
    proba = cm.churn_probability(trained, features, as_of=as_of)
    assert proba.index.tolist() == features.customer_id.tolist()
    buyers = (features.purchase_days > 0).to_numpy()
    assert proba[buyers].between(0, 1).all() and proba[~buyers].isna().all()
    pd.testing.assert_series_equal(proba, cm.churn_probability(again, features, as_of=as_of))


def test_model_alerts_are_the_top_as_many_as_the_rules_raise():
    """Five customers, one never bought (NaN); the rules raise 2 alerts: the model's two
    highest probabilities alert, the tie at 0.4 going to the earlier row; more alerts than
    customers with a probability alert everyone who has one."""
    probability = pd.Series([0.1, 0.4, np.nan, 0.9, 0.4], index=list("ABCDE"))
    assert cm.model_alerts(probability, 2).to_dict() == {
        "A": False, "B": True, "C": False, "D": True, "E": False}
    assert cm.model_alerts(probability, 9).tolist() == [True, True, False, True, True]
    assert not cm.model_alerts(probability, 0).any()
