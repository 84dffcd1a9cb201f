"""engine.profile: the customer list, one customer's rows, the score explained, tier history."""
from datetime import date, datetime

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.months import last_month_ends
from engine import profile, scoring, store
from engine.features import customer_features

T = date(2024, 6, 15)


@pytest.fixture
def con():
    con = duckdb.connect()
    store.migrate(con)
    con.executemany(
        "INSERT INTO customers (customer_id, name, customer_type, region, source, owner, "
        "first_contact_date) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [("A", "Alpha 公司", "enterprise", "华东", "store", "王芳", date(2023, 1, 1)),
         ("O'B", "O'Brien", "individual", "华北", "referral", "李娜", date(2024, 3, 1)),
         ("N", "New", "individual", None, None, None, date(2024, 6, 1))])
    con.executemany(
        "INSERT INTO transactions (customer_id, txn_date, amount, txn_id, status) "
        "VALUES (?, ?, ?, ?, ?)",
        [("A", date(2023, 5, 1), "100.00", "t1", "paid"),
         ("A", date(2024, 6, 15), "50.00", "t2", "paid"),      # on T: counts
         ("A", date(2024, 6, 16), "70.00", "t3", "paid"),      # after T: not shown
         ("A", date(2024, 2, 1), "-20.00", "t4", "refunded"),
         ("O'B", date(2024, 3, 5), "30.00", "t5", "paid")])
    con.executemany(
        "INSERT INTO interactions (customer_id, ts, kind, channel, topic) VALUES (?, ?, ?, ?, ?)",
        [("A", datetime(2024, 6, 15, 23, 0), "complaint", "phone", "delivery"),  # on T's date
         ("A", datetime(2024, 6, 16, 8, 0), "complaint", "phone", "late"),       # after T
         ("A", datetime(2024, 1, 3, 9, 0), "consultation", "email", "price"),
         ("O'B", datetime(2024, 3, 2, 9, 0), "event", "visit", None)])
    con.executemany(
        "INSERT INTO followups (customer_id, ts, action, status) VALUES (?, ?, ?, ?)",
        [("A", datetime(2024, 6, 1, 10, 0), "visit", "done"),
         ("A", datetime(2024, 6, 20, 10, 0), "care", "in_progress")])
    return con


def test_customer_record(con):
    record = profile.customer_record(con, "O'B")
    assert record["name"] == "O'Brien" and record["region"] == "华北"
    assert record["first_contact_date"] == date(2024, 3, 1)
    assert profile.customer_record(con, "nobody") is None


def test_customer_events_up_to_t(con):
    events = profile.customer_events(con, "A", as_of=T)
    assert list(events["transactions"]["txn_id"]) == ["t1", "t4", "t2"]  # oldest first, t3 after T
    assert list(events["transactions"]["amount"]) == [100.0, -20.0, 50.0]
    assert list(events["interactions"]["topic"]) == ["delivery", "price"]  # newest first
    assert list(events["complaints"]["topic"]) == ["delivery"]
    assert list(events["followups"]["action"]) == ["visit"]
    quoted = profile.customer_events(con, "O'B", as_of=T)  # bound parameters, not text
    assert list(quoted["transactions"]["txn_id"]) == ["t5"]
    assert len(profile.customer_events(con, "nobody", as_of=T)["interactions"]) == 0


def test_the_last_month_ends_up_to_t():
    assert last_month_ends(T)[0] == date(2023, 6, 30)
    assert last_month_ends(T)[-1] == date(2024, 5, 31)
    assert len(last_month_ends(T)) == 12
    assert last_month_ends(date(2024, 6, 30))[-1] == date(2024, 6, 30)  # T a month end
    assert last_month_ends(date(2024, 3, 1), 3) == [
        date(2023, 12, 31), date(2024, 1, 31), date(2024, 2, 29)]


def test_tier_history_scores_each_date_and_skips_unknown_customers(con):
    snapshots = [(day, *profile.month_end_sub_scores(con, as_of=day))
                 for day in (date(2024, 2, 29), date(2024, 5, 31))]
    history = profile.tier_history(snapshots, "O'B")
    assert list(history["known"]) == [False, True]  # first contact 2024-03-01
    assert np.isnan(history["score"].iloc[0]) and pd.isna(history["tier"].iloc[0])
    # the same score as scoring every customer at that date
    sub, available = snapshots[1][1:]
    everyone = scoring.combine_scores(sub.reset_index(), available=available)
    expected = everyone.loc[everyone["customer_id"] == "O'B", "score"].iloc[0]
    assert history["score"].iloc[1] == expected
    assert history["tier"].iloc[1] == scoring.assign_tiers([expected])[0]


def test_month_end_tiers_hold_each_customer_known_at_any_date(con):
    days = (date(2024, 2, 29), date(2024, 5, 31))
    snapshots = [(day, *profile.month_end_sub_scores(con, as_of=day)) for day in days]
    table = profile.month_end_tiers(snapshots)
    assert list(table["customer_id"]) == ["A", "O'B"]     # N: first contact 2024-06-01
    assert list(table["known 2024-02-29"]) == [True, False]
    assert list(table["known 2024-05-31"]) == [True, True]
    assert np.isnan(table["score 2024-02-29"].iloc[1]) and pd.isna(table["tier 2024-02-29"].iloc[1])
    assert list(profile.customer_tier_history(table, "N")["known"]) == [False, False]


def test_a_date_without_data_for_the_weighted_dimensions_leaves_its_customers_unscored(con):
    days = (date(2024, 2, 29), date(2024, 5, 31))
    snapshots = [(day, *profile.month_end_sub_scores(con, as_of=day)) for day in days]
    referral_only = {"consumption": 0, "interaction": 0, "stability": 0, "referral": 100}
    history = profile.customer_tier_history(
        profile.month_end_tiers(snapshots, weights=referral_only), "A")
    assert list(history["known"]) == [True, True]          # known, yet nobody was referred
    assert history["score"].isna().all() and history["tier"].isna().all()


def table():
    frame = pd.DataFrame({
        "customer_id": ["C1", "C2", "C3", "C4"],
        "name": ["张三", "Li Si", "alpha", None],
        "tier": pd.Categorical(["high", "potential", "ordinary", "high"], categories=scoring.TIERS),
        "score": [85.0, 70.0, 10.0, 90.0],
        "rfm_segment": pd.Categorical(["champions", "lost", "lost", "loyal"],
                                      categories=scoring.RFM_SEGMENTS),
        "pyramid": pd.Categorical(["gold", "lead", "lead", "platinum"],
                                  categories=scoring.PYRAMID_LEVELS),
        "region": ["华东", "华北", None, "华东"],
        "source": ["store", "store", "referral", ""],
        "owner": ["王芳", "李娜", "王芳", None],
        "customer_type": ["enterprise", "individual", "individual", "enterprise"],
    })
    return frame


def test_filter_customers_by_every_lens_best_score_first():
    frame = table()
    assert list(profile.filter_customers(frame)["customer_id"]) == ["C4", "C1", "C2", "C3"]
    assert list(profile.filter_customers(frame, tiers=["high"])["customer_id"]) == ["C4", "C1"]
    assert list(profile.filter_customers(frame, tiers=["high"], regions=["华东"],
                                         owners=["王芳"])["customer_id"]) == ["C1"]
    assert list(profile.filter_customers(frame, rfm_segments=("lost",), sources=["store"],
                                         customer_types=[])["customer_id"]) == ["C2"]
    assert list(profile.filter_customers(frame, pyramid=["lead", "platinum"])["customer_id"]) == \
        ["C4", "C2", "C3"]


def test_search_ignores_case_in_id_and_name():
    frame = table()
    assert list(profile.filter_customers(frame, search="ALPHA")["customer_id"]) == ["C3"]
    assert list(profile.filter_customers(frame, search=" c2 ")["customer_id"]) == ["C2"]
    assert list(profile.filter_customers(frame, search="张")["customer_id"]) == ["C1"]
    assert len(profile.filter_customers(frame, search="(")) == 0  # text, not a pattern
    # typed in full width, as a Chinese input method in that mode writes: the stored ASCII id
    assert list(profile.filter_customers(frame, search="ｃ２")["customer_id"]) == ["C2"]
    assert list(profile.filter_customers(frame, search="ＡＬＰＨＡ")["customer_id"]) == ["C3"]


def test_the_pickers_choices_best_score_first_up_to_the_limit():
    frame = table()
    assert profile.customer_choices(frame, "") == {"C4": "C4 · ", "C1": "C1 · 张三",
                                                   "C2": "C2 · Li Si", "C3": "C3 · alpha"}
    assert list(profile.customer_choices(frame, "", limit=2)) == ["C4", "C1"]
    assert profile.customer_choices(frame, "li") == {"C2": "C2 · Li Si"}


@given(scores=st.lists(st.one_of(st.none(), st.sampled_from([10.0, 55.5, 70.0, 90.0])),
                       min_size=0, max_size=30),
       limit=st.integers(1, 12), order=st.randoms(use_true_random=False))
def test_the_pickers_shortcut_picks_what_sorting_everyone_would(scores, limit, order):
    ids = [f"C{i:02d}" for i in range(len(scores))]
    order.shuffle(ids)                           # rows in no particular order
    frame = pd.DataFrame({"customer_id": pd.array(ids, dtype="str"),
                          "name": pd.array(ids, dtype="str"),
                          "score": pd.array(scores, dtype="Float64").astype(float)})
    everyone = profile.filter_customers(frame).head(limit)
    assert profile.customer_choices(frame, "", limit=limit) == {
        c: f"{c} · {c}" for c in everyone["customer_id"]}


def test_filter_options_and_unknown_filter():
    options = profile.filter_options(table())
    assert options["tiers"] == list(scoring.TIERS)
    assert options["regions"] == sorted(["华东", "华北"])
    assert options["sources"] == ["referral", "store"]  # empty text is no value
    assert options["owners"] == sorted(["王芳", "李娜"])
    with pytest.raises(ValueError, match="unknown filter"):
        profile.filter_customers(table(), tier=["high"])


def test_customer_table_joins_the_lenses(con):
    features = customer_features(con, as_of=T)
    scores = scoring.score_customers(features)
    table = profile.customer_table(features, scores, scoring.rfm(features), scoring.pyramid(features))
    assert tuple(table.columns) == profile.LIST_COLUMNS
    row = table.set_index("customer_id").loc["A"]
    assert row["score"] == scores.set_index("customer_id").loc["A", "score"]
    assert row["revenue_12m"] == 30.0  # 50 on T, refund of 20 in the window, 100 before it
    assert row["region"] == "华东"


def two_customers():
    """Features of two customers, a and b, without the optional sources."""
    return pd.DataFrame({
        "customer_id": ["a", "b"], "spend_6m": [10.0, 20.0], "aov_6m": [10.0, 5.0],
        "products_6m": [1, 2], "interactions_6m": [0, 3], "events_6m": [0, 1],
        "median_response_hours_6m": [np.nan, np.nan], "tenure_days": pd.array([100, 50], "Int64"),
        "purchase_months_12m": [1, 2], "ontime_share": [np.nan, np.nan],
        "renewal": pd.array([pd.NA, pd.NA], "Int64"), "referred_customers": [0, 0],
        "referral_interactions": [0, 0]})


def test_score_breakdown_points_add_up_to_the_score():
    features = two_customers()
    available = {"response_hours": False, "due_paid_dates": False, "contract_end": False,
                 "referred_by": False, "referral_interactions": False}
    weights = {"consumption": 50, "interaction": 20, "stability": 20, "referral": 10}
    scores = scoring.score_customers(features, weights=weights, available=available)
    plan = scoring.scoring_plan(weights, available)
    dims, subs = profile.score_breakdown(features.iloc[1], scores.iloc[1], plan)
    assert dims.loc[dims["dimension"] == "referral", "left_out"].item()
    assert np.isnan(dims.loc[dims["dimension"] == "referral", "weight"].item())
    assert dims["weight"].sum() == pytest.approx(100)
    assert dims["points"].sum() == pytest.approx(scores["score"].iloc[1])
    spend = subs.set_index("sub_metric").loc["spend_6m"]
    assert spend["value"] == 20.0 and spend["percentile"] == 100.0
    assert subs.set_index("sub_metric").loc["renewal", "left_out"]
    assert subs.set_index("sub_metric").loc["aov_6m", "percentile"] == 50.0


def test_explained_score_of_a_customer_known_at_t_and_of_one_not():
    features = two_customers()
    available = {"response_hours": False, "due_paid_dates": False, "contract_end": False,
                 "referred_by": False, "referral_interactions": False, "clv": True}
    weights = {"consumption": 50, "interaction": 20, "stability": 20, "referral": 10}
    clv = pd.Series({"a": 300.0, "b": 100.0})
    scores = scoring.score_customers(features, weights=weights, available=available, clv=clv)
    plan = scoring.scoring_plan(weights, available, clv=True)
    customers = pd.DataFrame({"customer_id": ["a", "b"], "tier": ["high", "ordinary"]})
    explained = profile.explained_score("b", customers=customers, features=features,
                                        scores=scores, plan=plan, clv=clv)
    assert explained["summary"] == {"customer_id": "b", "tier": "ordinary"}
    assert explained["dimensions"]["points"].sum() == pytest.approx(scores["score"].iloc[1])
    lifetime = explained["sub_metrics"].set_index("sub_metric").loc["clv_12m"]
    assert lifetime["value"] == 100.0 and lifetime["percentile"] == 50.0   # b's CLV, below a's
    assert profile.explained_score("z", customers=customers, features=features, scores=scores,
                                   plan=plan) == {"summary": None}
