"""Demand tags, churn risk and lifecycle (DESIGN §4.4–4.6) on hand-made feature rows.

Each case is one customer whose features are written out by hand, as of
T = 2024-06-30, at the boundaries of the rules.
"""
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from engine.months import month_ends
from engine import risk

T = date(2024, 6, 30)


def ago(days):
    return pd.Timestamp(T - timedelta(days=days))


def row(**values):
    """One customer's features: a steady buyer unless told otherwise."""
    base = dict(customer_id="C1", name="n", owner="o",
                last_txn_date=ago(10), last_interaction_date=pd.NaT,
                interactions_30d=0, last_consultation_date=pd.NaT,
                last_purchase_date=ago(10), first_purchase_date=ago(200),
                spend_90d=100.0, spend_prev_90d=100.0, complaints_90d=0,
                purchase_days=10, median_gap_days=20.0, days_since_last_purchase=10,
                tenure_days=200, purchase_months_12m=6, revenue_12m=1000.0)
    base.update(values)
    return base


def frame(*rows):
    out = pd.DataFrame(rows)
    for column in ("last_txn_date", "last_interaction_date", "last_consultation_date",
                   "last_purchase_date", "first_purchase_date"):
        out[column] = pd.to_datetime(out[column])
    return out


def one(**values):
    return risk.assess(frame(row(**values)), as_of=T).iloc[0]


def bought(days, first=200, **values):
    """A customer whose last purchase (and transaction) was `days` ago."""
    return one(last_purchase_date=ago(days), last_txn_date=ago(days),
               days_since_last_purchase=days, first_purchase_date=ago(first), **values)


# --- churn risk -------------------------------------------------------------

@pytest.mark.parametrize("prev, last, level, pct", [
    (200.0, 100.0, "high", 50),        # exactly 50 %
    (100.10, 50.05, "high", 50),       # exactly 50 % in cents (0.4999… in floating point)
    (10000.0, 5001.0, "medium", 49),   # 49.99 %
    (100.0, 0.0, "high", 100),         # a fall to nothing is 100 %
    (100.0, -30.0, "high", 100),       # refunds beyond nothing: still 100 %
    (100.0, 75.0, "medium", 25),       # exactly 25 %
    (100.0, 75.01, "low", None),       # 24.99 %
    (0.0, 0.0, "low", None),           # previous = 0: no fall
    (0.0, -10.0, "low", None),
    (-50.0, 0.0, "low", None),         # previous not positive
    (100.0, 300.0, "low", None),       # a rise
])
def test_spend_fall(prev, last, level, pct):
    got = one(spend_prev_90d=prev, spend_90d=last)
    assert got.risk_level == level
    assert (pd.isna(got.reason_spend_fall_pct) if pct is None
            else got.reason_spend_fall_pct == pct)


def test_spend_fall_fraction_is_kept_where_previous_is_positive():
    got = risk.assess(frame(row(spend_prev_90d=200.0, spend_90d=260.0),
                            row(spend_prev_90d=0.0, spend_90d=10.0)), as_of=T)
    assert got.spend_fall.iloc[0] == pytest.approx(-0.3)
    assert np.isnan(got.spend_fall.iloc[1])


@pytest.mark.parametrize("complaints, level", [(0, "low"), (1, "medium"), (2, "high"), (5, "high")])
def test_complaints(complaints, level):
    got = one(complaints_90d=complaints)
    assert got.risk_level == level
    assert (pd.isna(got.reason_complaints) if complaints == 0
            else got.reason_complaints == complaints)


@pytest.mark.parametrize("since, purchase_days, level", [
    (60, 10, "low"),      # exactly twice the median gap of 30: not more
    (61, 10, "medium"),   # one day more
    (61, 2, "medium"),    # two purchase days are enough
    (400, 1, "low"),      # one purchase day has no gap
])
def test_days_since_last_purchase_against_twice_the_median_gap(since, purchase_days, level):
    got = bought(since, first=500, median_gap_days=30.0 if purchase_days > 1 else np.nan,
                 purchase_days=purchase_days)
    assert got.risk_level == level
    if level == "medium":
        assert (got.reason_gap_days, got.reason_gap_median) == (since, 30.0)
    else:
        assert pd.isna(got.reason_gap_days)


def test_half_day_median_gap():
    assert bought(45, median_gap_days=22.5).risk_level == "low"
    assert bought(46, median_gap_days=22.5).risk_level == "medium"


def test_high_beats_medium_and_every_reason_is_kept():
    got = bought(200, first=900, median_gap_days=30.0, spend_prev_90d=500.0, spend_90d=190.0,
                 complaints_90d=1)
    assert got.risk_level == "high"
    assert risk.reason_list(got) == [("spend_fall", {"pct": 62}), ("complaints", {"n": 1}),
                                     ("purchase_gap", {"days": 200, "gap": 30})]


# --- reasons in words -------------------------------------------------------

def test_reasons_in_english_and_chinese():
    got = one(spend_prev_90d=500.0, spend_90d=190.0, complaints_90d=2)
    reasons = risk.reason_list(got)
    assert reasons == [("spend_fall", {"pct": 62}), ("complaints", {"n": 2})]
    assert risk.render_reasons(reasons, "en") == "spend −62 % vs previous 90 days; 2 complaints"
    assert risk.render_reasons(reasons, "zh") == "消费较前90天下降 62%；近90天投诉 2 次"
    assert risk.render_reasons([("complaints", {"n": 1})], "en") == "1 complaint"
    assert risk.render_reasons([], "en") == ""


def test_gap_reason_words_show_a_half_day_but_not_a_trailing_zero():
    assert risk.render_reasons([("purchase_gap", {"days": 61, "gap": 30})], "en") == \
        "no purchase for 61 days (usual gap 30 days)"
    got = bought(50, median_gap_days=22.5)
    assert risk.reasons_text(pd.DataFrame([got]), "zh").iloc[0] == "已 50 天未购买（通常间隔 22.5 天）"


def test_reasons_text_matches_the_row_by_row_rendering():
    rows = frame(row(), row(complaints_90d=1), row(spend_prev_90d=100.0, spend_90d=0.0),
                 row(spend_prev_90d=100.0, spend_90d=70.0, complaints_90d=3),
                 row(last_purchase_date=ago(70), days_since_last_purchase=70,
                     median_gap_days=30.0, complaints_90d=2),
                 row(complaints_90d=2))
    assessed = risk.assess(rows, as_of=T)
    for lang in ("en", "zh"):
        fast = risk.reasons_text(assessed, lang).tolist()
        slow = [risk.render_reasons(risk.reason_list(r), lang) for _, r in assessed.iterrows()]
        assert fast == slow
    assert fast[0] == ""


# --- demand tags ------------------------------------------------------------

@pytest.mark.parametrize("days, tag", [(89, "general"), (90, "dormant"), (91, "dormant")])
def test_dormant_after_90_days_without_a_transaction(days, tag):
    assert bought(days, median_gap_days=np.nan, purchase_days=1).demand_tag == tag


@pytest.mark.parametrize("days, tag", [(89, "general"), (90, "dormant")])
def test_an_interaction_keeps_a_customer_awake(days, tag):
    got = bought(300, median_gap_days=np.nan, purchase_days=1, last_interaction_date=ago(days))
    assert got.demand_tag == tag


def test_dormant_with_no_events_at_all():
    got = one(last_txn_date=pd.NaT, last_interaction_date=pd.NaT, last_purchase_date=pd.NaT,
              first_purchase_date=pd.NaT, days_since_last_purchase=None, purchase_days=0,
              median_gap_days=np.nan, spend_90d=0.0, spend_prev_90d=0.0, tenure_days=None,
              purchase_months_12m=0)
    assert (got.demand_tag, got.risk_level, got.lifecycle) == ("dormant", "low", "prospect")


def test_a_refund_is_a_transaction_for_dormancy():
    # the last purchase was long ago, but a refund 5 days ago counts as a transaction
    got = one(last_txn_date=ago(5), last_purchase_date=ago(300), days_since_last_purchase=300)
    assert got.demand_tag == "general"


@pytest.mark.parametrize("n, tag", [(1, "general"), (2, "active"), (7, "active")])
def test_active_with_two_interactions_in_30_days(n, tag):
    assert one(interactions_30d=n, last_interaction_date=ago(3)).demand_tag == tag


@pytest.mark.parametrize("consulted, purchased, tag", [
    (5, 10, "potential"),        # consulted after the last purchase
    (10, 10, "potential"),       # same day: no purchase on a LATER day
    (10, 5, "general"),          # bought after consulting
    (10, None, "potential"),     # never bought
    (None, 10, "general"),       # never consulted
])
def test_potential(consulted, purchased, tag):
    values = dict(last_interaction_date=ago(3),
                  last_consultation_date=ago(consulted) if consulted else pd.NaT)
    if purchased is None:
        values.update(last_purchase_date=pd.NaT, first_purchase_date=pd.NaT,
                      days_since_last_purchase=None, purchase_days=0, last_txn_date=pd.NaT)
    else:
        values.update(last_purchase_date=ago(purchased), days_since_last_purchase=purchased)
    assert one(**values).demand_tag == tag


def test_demand_precedence():
    # dormant beats potential (a consultation 100 days ago, nothing since)
    assert bought(120, median_gap_days=np.nan, purchase_days=1,
                  last_consultation_date=ago(100), last_interaction_date=ago(100)
                  ).demand_tag == "dormant"
    # active beats potential
    assert one(interactions_30d=2, last_interaction_date=ago(1),
               last_consultation_date=ago(1)).demand_tag == "active"


# --- lifecycle --------------------------------------------------------------

@pytest.mark.parametrize("days, stage", [
    (89, "loyal"),        # recent: falls through to loyal (tenure 400, 6 months)
    (90, "at_risk"), (120, "at_risk"), (180, "at_risk"),   # both ends included
    (181, "churned"),
])
def test_lifecycle_by_days_since_last_purchase(days, stage):
    got = bought(days, first=400, tenure_days=400, purchase_months_12m=6,
                 median_gap_days=np.nan, purchase_days=1)
    assert got.lifecycle == stage


def test_prospect_before_everything():
    got = one(last_purchase_date=pd.NaT, first_purchase_date=pd.NaT, days_since_last_purchase=None,
              purchase_days=0, median_gap_days=np.nan, complaints_90d=3,
              last_interaction_date=ago(1))
    assert (got.risk_level, got.lifecycle) == ("high", "prospect")


def test_churned_beats_high_risk_and_high_risk_makes_at_risk():
    assert bought(181, spend_prev_90d=100.0, spend_90d=0.0).lifecycle == "churned"
    assert bought(5, first=30, complaints_90d=2).lifecycle == "at_risk"   # would be new


@pytest.mark.parametrize("first, stage", [(89, "new"), (90, "active")])
def test_new_within_90_days_of_the_first_purchase(first, stage):
    assert bought(5, first=first, tenure_days=first, purchase_months_12m=3).lifecycle == stage


def test_new_beats_loyal():
    # first purchase 60 days ago, but an older first contact gives a long tenure
    assert bought(5, first=60, tenure_days=500, purchase_months_12m=6).lifecycle == "new"


@pytest.mark.parametrize("tenure, months, stage", [
    (365, 6, "loyal"), (364, 6, "active"), (365, 5, "active"), (900, 12, "loyal")])
def test_loyal(tenure, months, stage):
    assert bought(5, first=tenure, tenure_days=tenure, purchase_months_12m=months
                  ).lifecycle == stage


# --- summaries --------------------------------------------------------------

def test_counts_value_at_risk_and_crosstab():
    features = frame(row(customer_id="A", complaints_90d=2, revenue_12m=300.0),
                     row(customer_id="B", complaints_90d=1, revenue_12m=100.0),
                     row(customer_id="C", revenue_12m=600.0),
                     row(customer_id="D", spend_prev_90d=10.0, spend_90d=0.0,
                         interactions_30d=2, last_interaction_date=ago(1), revenue_12m=0.0))
    assessed = risk.assess(features, as_of=T)
    assert risk.counts(assessed, "risk_level").to_dict() == {"high": 2, "medium": 1, "low": 1}
    assert risk.counts(assessed, "demand_tag").to_dict() == {
        "dormant": 0, "active": 1, "potential": 0, "general": 3}
    assert risk.value_at_risk(features, assessed) == {
        "customers": 2, "revenue_12m": 300.0, "share": 0.3}
    table = risk.risk_by_demand(assessed)
    assert table.loc["high", "active"] == 1 and table.loc["high", "general"] == 1
    assert table.to_numpy().sum() == 4 and list(table.index) == ["high", "medium", "low"]


def test_month_ends():
    assert month_ends(date(2024, 1, 31), date(2024, 4, 29)) == [
        date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31)]
    assert month_ends(date(2024, 12, 1), date(2025, 1, 31)) == [
        date(2024, 12, 31), date(2025, 1, 31)]


def test_assess_keeps_the_row_order_and_ignores_the_index():
    features = frame(row(customer_id="B", complaints_90d=2), row(customer_id="A"))
    features.index = [10, 3]
    got = risk.assess(features, as_of=T)
    assert got.customer_id.tolist() == ["B", "A"]
    assert got.risk_level.tolist() == ["high", "low"]
    assert list(got.columns) == list(risk.ASSESS_COLUMNS)


# --- on the feature table of a database ---------------------------------------

def test_flagged_by_month_on_the_demo_base(demo_db):
    from engine import store
    from engine.features.customer import customer_features

    with store.connect(demo_db) as con:
        as_of = store.date_range(con)[1]
        got = risk.flagged_by_month(con, as_of=as_of - timedelta(days=5), months=3)
        features = customer_features(con, as_of=as_of - timedelta(days=5))
    t = as_of - timedelta(days=5)                                    # 2026-06-25: mid-month
    assert got.month.tolist() == ["2026-04", "2026-05", "2026-06"]
    assert got.as_of.tolist() == [date(2026, 4, 30), date(2026, 5, 31), t]
    assert (got[["high", "medium", "low"]].sum(axis=1) == got.customers).all()
    assessed = risk.assess(features, as_of=t)
    last = got.iloc[-1]
    assert last.customers == len(features)
    assert last.high == (assessed.risk_level == "high").sum()
    assert last.dormant == (assessed.demand_tag == "dormant").sum()
    assert last.value_at_risk == pytest.approx(risk.value_at_risk(features, assessed)["revenue_12m"])


def test_flagged_by_month_from_a_path_holds_the_file_one_month_end_at_a_time(
        demo_db, monkeypatch):
    """Given a path, the job opens the file once for the purchase steps it shares, then once
    per month end (others get in between)."""
    from engine import store
    from engine.risk import flagged_by_month
    with store.connect(demo_db) as con:
        as_of = store.date_range(con)[1]
        expected = flagged_by_month(con, as_of=as_of, months=4)
    opened = []
    real = store.connect

    def counting(path=None, **kw):
        opened.append(path)
        return real(path, **kw)

    monkeypatch.setattr(store, "connect", counting)
    got = flagged_by_month(demo_db, as_of=as_of, months=4)
    pd.testing.assert_frame_equal(got, expected)
    assert len(got) == 4 and len(opened) == 1 + 4
