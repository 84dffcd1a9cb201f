"""Value score, tiers, RFM, pyramid and Pareto on tiny hand-made feature tables.

Every expected number is worked out by hand in the comments (DESIGN §4.1–4.3).
"""
import numpy as np
import pandas as pd
import pytest

from engine import scoring, store
from engine.presets import PRESET_KIND, load_presets, save_preset
from engine.scoring import (DEFAULT_THRESHOLDS, DEFAULT_WEIGHTS, SUB_METRICS, pareto,
                            percentile_score, pyramid, rfm, score_customers, scoring_plan)

NAN = np.nan


def features(n: int, **columns) -> pd.DataFrame:
    """A feature table of n customers c1..cn: every sub-metric 0 (optional ones
    NaN) unless given."""
    frame = pd.DataFrame({"customer_id": [f"c{i + 1}" for i in range(n)]})
    for m in SUB_METRICS:
        default = NAN if m.column in ("median_response_hours_6m", "ontime_share",
                                      "renewal", "tenure_days") else 0
        frame[m.column] = columns.pop(m.column, [default] * n)
    for name, values in columns.items():
        frame[name] = values
    return frame


# --- percentile scores ---------------------------------------------------------------

def test_percentile_ties_and_all_customers_in_n():
    # N = 6; the customer without a value counts as 0, so as ≤ any x > 0.
    # 5: all six ≤ 5 -> 100; 3: five (3, 3, 0, NaN, -2) -> 500/6;
    # 0, NaN and the negative score 0.
    got = percentile_score([5, 3, 3, 0, NAN, -2])
    assert got == pytest.approx([100, 500 / 6, 500 / 6, 0, 0, 0])


def test_percentile_of_a_sub_metric_few_customers_have_data_for():
    # DESIGN §4.1's example in small: 2 of 8 customers have due dates; the one
    # who paid every bill on time scores 100, not 2/8 × 100 = 25. The other,
    # on time half the time, has 7 customers ≤ 0.5 (itself and the 6 without
    # data) -> 87.5.
    got = percentile_score([1.0, 0.5] + [NAN] * 6)
    assert got.tolist() == [100, 87.5, 0, 0, 0, 0, 0, 0]


def test_percentile_best_scores_100():
    assert percentile_score([1, 2, 3, 4]).tolist() == [25, 50, 75, 100]


def test_percentile_reversed_with_missing_values():
    # response hours, lower is better. N = 6, two without a value count as worst.
    # 0: four values ≥ 0, + 2 -> 100; 1: three + 2 -> 500/6; 2: two + 2 -> 400/6;
    # no value -> 0.
    got = percentile_score([1, 2, 2, NAN, NAN, 0], higher_is_better=False)
    assert got == pytest.approx([500 / 6, 400 / 6, 400 / 6, 0, 0, 100])


def test_percentile_exact_ties_of_money():
    # 0.10 + 0.20 summed as DECIMAL reaches pandas as the float 0.3: a tie
    assert percentile_score(pd.Series([0.3, 0.3, 0.5])).tolist() == [pytest.approx(200 / 3)] * 2 + [100]


def test_percentile_of_nothing():
    assert percentile_score([]).size == 0
    assert percentile_score([NAN, NAN], higher_is_better=False).tolist() == [0, 0]
    assert percentile_score(pd.Series([0, 0], dtype="Int64")).tolist() == [0, 0]


def test_percentile_large_values_and_decimals():
    # values outside the bincount fast path take the factorising path, same rule
    values = [1e12, 0.123456, 0.123456, 5e11]
    assert percentile_score(values).tolist() == [100, 50, 50, 75]


# --- value score ---------------------------------------------------------------------

def test_tiers_at_exact_boundaries():
    # every consumption sub-metric 1..5 -> scores 20, 40, 60, 80, 100; with all
    # weight on consumption the score is the same
    f = features(5, spend_6m=[1, 2, 3, 4, 5], aov_6m=[1, 2, 3, 4, 5], products_6m=[1, 2, 3, 4, 5])
    weights = {"consumption": 100, "interaction": 0, "stability": 0, "referral": 0}
    s = score_customers(f, weights=weights)
    assert s["score"].tolist() == [20, 40, 60, 80, 100]
    assert s["tier"].tolist() == ["ordinary", "ordinary", "potential", "high", "high"]
    moved = score_customers(f, weights=weights, thresholds=(100, 40))
    assert moved["tier"].tolist() == ["ordinary", "potential", "potential", "potential", "high"]


def test_score_of_exactly_80_stays_high_after_rescaling():
    # c4 holds the 4th of 5 values everywhere -> 80 on every sub-metric (for
    # response hours, lower is better: 2 -> values ≥ 2 are 2, 3, 4, 5 -> 80).
    # Referral is left out, so the weights become 400/9, 300/9, 200/9; the
    # float sum must still give exactly 80.
    ranks = [1, 2, 3, 4, 5]
    f = features(5, spend_6m=ranks, aov_6m=ranks, products_6m=ranks, interactions_6m=ranks,
                 events_6m=ranks, median_response_hours_6m=[5, 4, 3, 2, 1], tenure_days=ranks,
                 purchase_months_12m=ranks, ontime_share=ranks, renewal=ranks)
    s = score_customers(f, available={"referred_by": False, "referral_interactions": False})
    assert s.loc[3, ["consumption", "interaction", "stability"]].tolist() == [80, 80, 80]
    assert s.loc[3, "score"] == 80
    assert s.loc[3, "tier"] == "high"


def hand_made():
    """Four customers P, Q, R, S (N = 4); sub-metric scores by hand:

    consumption: spend, aov, products 4, 3, 2, 1 -> 100, 75, 50, 25 each
    interaction: interactions 2, 4, 0, 0 -> 75, 100, 0, 0; events all 0 -> 0;
                 response hours: no value anywhere
    stability:   tenure 10, 10, 5, none -> 100, 100, 50, 0 (none counts as ≤ x)
                 months 12, 6, 6, 0 -> 100, 75, 75, 0
                 on time 1.0, 0.5, none, none -> 100, 75, 0, 0
                 renewal 1, 0, none, 1 -> 100, 0, 0, 100
    referral:    nothing anywhere
    """
    return features(4, spend_6m=[4, 3, 2, 1], aov_6m=[4.0, 3.0, 2.0, 1.0],
                    products_6m=[4, 3, 2, 1], interactions_6m=[2, 4, 0, 0],
                    tenure_days=pd.array([10, 10, 5, None], dtype="Int64"),
                    purchase_months_12m=[12, 6, 6, 0], ontime_share=[1.0, 0.5, NAN, NAN],
                    renewal=pd.array([1, 0, None, 1], dtype="Int64"))


NO_REFERRAL = {"response_hours": False, "referred_by": False, "referral_interactions": False}


def test_sub_metric_with_no_value_is_left_out():
    s = score_customers(hand_made(), available={"response_hours": False})
    assert s["median_response_hours_6m_score"].isna().all()
    assert s["interactions_6m_score"].tolist() == [75, 100, 0, 0]
    # interaction = mean of interactions and events only: 37.5, 50, 0, 0
    assert s["interaction"].tolist() == [37.5, 50, 0, 0]
    # stability = mean of four: (100+100+100+100)/4, (100+75+75+0)/4, (50+75)/4, 100/4
    assert s["stability"].tolist() == [100, 62.5, 31.25, 25]
    # referral is kept (referral interactions may exist): 0 for everyone
    assert s["referral"].tolist() == [0, 0, 0, 0]


def test_whole_dimension_left_out_rescales_weights():
    plan = scoring_plan(DEFAULT_WEIGHTS, NO_REFERRAL)
    assert plan.left_out_dimensions == ("referral",)
    assert plan.left_out_sub_metrics == ("median_response_hours_6m", "referred_customers",
                                         "referral_interactions")
    assert plan.weights == pytest.approx({"consumption": 400 / 9, "interaction": 300 / 9,
                                          "stability": 200 / 9})
    s = score_customers(hand_made(), available=NO_REFERRAL)
    assert s["referral"].isna().all()
    assert s["consumption"].tolist() == [100, 75, 50, 25]
    # (40·100 + 30·37.5 + 20·100) / 90 = 7125/90; (40·75 + 30·50 + 20·62.5) / 90 = 5750/90;
    # (40·50 + 20·31.25) / 90 = 2625/90; (40·25 + 20·25) / 90 = 1500/90
    assert s["score"].tolist() == pytest.approx([7125 / 90, 5750 / 90,
                                                 2625 / 90, 1500 / 90], abs=1e-9)
    assert s["tier"].tolist() == ["potential", "potential", "ordinary", "ordinary"]
    assert list(s.columns) == list(scoring.SCORE_COLUMNS)


def test_without_left_out_dimension_weights_apply_as_given():
    s = score_customers(hand_made(), available={"response_hours": False})
    # P: (40·100 + 30·37.5 + 20·100 + 10·0) / 100 = 71.25
    assert s.loc[0, "score"] == 71.25


def test_recombining_cached_sub_scores_matches():
    f = hand_made()
    subs = scoring.sub_metric_scores(f, available=NO_REFERRAL)
    weights = {"consumption": 10, "interaction": 10, "stability": 70, "referral": 10}
    again = scoring.combine_scores(subs, weights=weights, available=NO_REFERRAL)
    pd.testing.assert_frame_equal(again, score_customers(f, weights=weights,
                                                         available=NO_REFERRAL))


@pytest.mark.parametrize("weights, message", [
    ({"consumption": 40, "interaction": 30, "stability": 15, "referral": 10},
     r"weights must sum to 100, got 95 \(40 \+ 30 \+ 15 \+ 10\)\."),
    ({"consumption": 40, "interaction": 30, "stability": 30},
     r"one number for each of consumption, interaction, stability, referral \(missing referral\)"),
    ({"consumption": 110, "interaction": -10, "stability": 0, "referral": 0},
     r"the weight of interaction must be 0 or more, got -10\."),
    ({"consumption": "40", "interaction": 30, "stability": 20, "referral": 10},
     r"the weight of consumption must be a number, got '40'\."),
])
def test_bad_weights(weights, message):
    with pytest.raises(ValueError, match=message):
        score_customers(hand_made(), weights=weights)


@pytest.mark.parametrize("thresholds, message", [
    ((60, 80), r"0 ≤ potential ≤ high ≤ 100, got high 60 and potential 80\."),
    ((120, 60), r"got high 120 and potential 60"),
    ((80,), r"thresholds must be two numbers \(high, potential\)"),
])
def test_bad_thresholds(thresholds, message):
    with pytest.raises(ValueError, match=message):
        score_customers(hand_made(), thresholds=thresholds)


def test_all_weight_on_a_left_out_dimension():
    weights = {"consumption": 0, "interaction": 0, "stability": 0, "referral": 100}
    with pytest.raises(ValueError, match=r"all the weight is on dimensions left out for lack "
                                         r"of data \(referral\); give weight to consumption, "
                                         r"interaction, stability\."):
        score_customers(hand_made(), weights=weights, available=NO_REFERRAL)


def test_empty_feature_table():
    s = score_customers(features(0))
    assert s.empty and list(s.columns) == list(scoring.SCORE_COLUMNS)


# --- RFM -----------------------------------------------------------------------------

def test_rfm_scores_ties_and_segments():
    # 7 buyers (B = 7) and one non-buyer c8.
    # R, reversed on recency 0 0 15 40 40 100 300: values ≥ x are 7 7 5 4 4 2 1
    #   -> ⌈5·k/7⌉ = 5 5 4 3 3 2 1
    # F on frequency 9 1 3 3 3 1 2: values ≤ x are 7 2 6 6 6 2 3 -> 5 2 5 5 5 2 3
    # M on monetary 900 20 150 150 90 60 60: values ≤ x are 7 1 6 6 4 3 3 -> 5 1 5 5 3 3 3
    # FM = mean rounded half up: 5, (2+1)/2=1.5->2, 5, 5, 4, (2+3)/2=2.5->3, 3
    f = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(1, 9)],
        "recency_days_12m": pd.array([0, 0, 15, 40, 40, 100, 300, None], dtype="Int64"),
        "frequency_12m": [9, 1, 3, 3, 3, 1, 2, 0],
        "monetary_12m": [900, 20, 150, 150, 90, 60, 60, NAN]})
    got = rfm(f)
    assert got["r"].tolist()[:7] == [5, 5, 4, 3, 3, 2, 1]
    assert got["f"].tolist()[:7] == [5, 2, 5, 5, 5, 2, 3]
    assert got["m"].tolist()[:7] == [5, 1, 5, 5, 3, 3, 3]
    assert got["fm"].tolist()[:7] == [5, 2, 5, 5, 4, 3, 3]
    assert got["rfm_segment"].tolist() == [
        "champions",           # R5 FM5
        "potential_loyalist",  # R5 FM2
        "champions",           # R4 FM5
        "loyal",               # R3 FM5
        "loyal",               # R3 FM4
        "at_risk",             # R2 FM3
        "at_risk",             # R1 FM3
        "lost"]                # no purchase in the 12 months
    assert got.loc[7, ["r", "f", "m", "fm"]].isna().all()


def test_rfm_grid_is_complete():
    assert set(scoring.RFM_GRID) == {1, 2, 3, 4, 5}
    assert {s for row in scoring.RFM_GRID.values() for s in row} == set(scoring.RFM_SEGMENTS)


def test_rfm_without_buyers():
    f = pd.DataFrame({"customer_id": ["a"], "recency_days_12m": pd.array([None], dtype="Int64"),
                      "frequency_12m": [0], "monetary_12m": [NAN]})
    assert rfm(f)["rfm_segment"].tolist() == ["lost"]


# --- pyramid and Pareto --------------------------------------------------------------

def test_pyramid_ranks_ties_and_levels():
    # N = 20: platinum rank ≤ 1, gold ≤ 4, iron ≤ 16, lead beyond.
    revenue = [1000, 900, 900, 800, 700] + [100] * 10 + [50, 50, 10, 0, -5]
    f = pd.DataFrame({"customer_id": [f"c{i:02d}" for i in range(20)], "revenue_12m": revenue})
    got = pyramid(f)
    assert got["revenue_rank"].tolist() == [1, 2, 2, 4, 5] + [6] * 10 + [16, 16, 18, 19, 20]
    assert got["pyramid"].tolist() == (
        ["platinum", "gold", "gold", "gold", "iron"] + ["iron"] * 10
        # the two at 50 share rank 16 = 80 % (the worse rank 17 would be lead)
        + ["iron", "iron", "lead", "lead", "lead"])


def test_pyramid_revenue_not_above_zero_is_lead():
    # ranks 1, 2, 2, 2 of N = 4: a at 25 % is iron; the zeros at 50 % would be
    # iron too but stay lead
    f = pd.DataFrame({"customer_id": list("abcd"), "revenue_12m": [10.0, 0.0, 0.0, 0.0]})
    assert pyramid(f)["pyramid"].tolist() == ["iron", "lead", "lead", "lead"]


def test_pareto_share():
    # sorted 50, 30, 10, 10, 0 of 100: the top 2 make exactly 80 %
    f = pd.DataFrame({"customer_id": list("abcde"), "revenue_12m": [10, 0, 50, 10, 30]})
    p = pareto(f)
    assert (p.customers, p.customer_share, p.total_revenue) == (2, 0.4, 100)
    assert p.curve["customer_share"].tolist() == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert p.curve["revenue_share"].tolist() == [0, 0.5, 0.8, 0.9, 1.0, 1.0]


def test_pareto_in_cents_and_with_refunds():
    # 0.4, 0.3, 0.2, 0.1 of 1.0: 0.7 < 0.8, 0.9 ≥ 0.8 -> 3 of 4
    f = pd.DataFrame({"customer_id": list("abcd"), "revenue_12m": [0.1, 0.2, 0.3, 0.4]})
    assert pareto(f).customers == 3
    # b's refunds outweigh its purchases: it makes none of the revenue (0, not -20),
    # so the revenue made is 100 and the top customer alone makes 80 % -> 1 of 3
    g = pd.DataFrame({"customer_id": list("abc"), "revenue_12m": [100.0, -20.0, 0.0]})
    assert pareto(g).customer_share == pytest.approx(1 / 3)
    assert pareto(g).total_revenue == 80   # the net revenue is still reported as such
    nothing = pareto(pd.DataFrame({"customer_id": ["a"], "revenue_12m": [0.0]}))
    assert nothing.customers is None and nothing.curve["revenue_share"].isna().all()


def test_pareto_curve_never_passes_100_percent_with_net_refunds():
    # 60, 30, 10 made and d refunded 25 more than it bought. Revenue made 100:
    # shares 0.6, 0.9, 1.0, 1.0, not 60/75 = 0.8, 1.2, 1.33 and back to 1.0.
    f = pd.DataFrame({"customer_id": list("abcd"), "revenue_12m": [30.0, 60.0, -25.0, 10.0]})
    p = pareto(f)
    assert p.curve["revenue_share"].tolist() == [0, 0.6, 0.9, 1.0, 1.0]
    assert p.customers == 2     # 90 % of 100 reaches 80 %; 2 of 4
    assert p.curve["revenue"].tolist() == [0, 60, 90, 100, 100]


def test_pareto_points_thin_the_curve():
    f = pd.DataFrame({"customer_id": range(1000), "revenue_12m": np.arange(1000.0)})
    curve = pareto(f, points=11).curve
    assert curve["customers"].tolist() == list(range(0, 1001, 100))


# --- thresholds from a target ---------------------------------------------------------

# Ten customers: scores (NaN counts as 0) and 12-month revenue (total 1,000).
TARGET_SCORES = [95, 85.5, 81, 79.9, 70, 65, 60, 40, 20, np.nan]
TARGET_REVENUE = [500, 300, 100, 50, 20, 10, 10, 5, 5, 0]


@pytest.mark.parametrize("target, expected", [
    # top 10 %: only 95 has a score ≥ t for t = 86 … 95; the tie goes to the highest.
    # top 40 %: 95, 85.5, 81, 79.9 for t = 80 … 79 → t = 71 … 79: 79
    ({"basis": "customers", "high": 10, "potential": 40}, (95, 79)),
    # 15 % lies halfway between 10 % (t ≤ 95) and 20 % (t ≤ 85): the smaller tier, 95;
    # 100 %: everyone, NaN as 0 too, only at t = 0
    ({"basis": "customers", "high": 15, "potential": 100}, (95, 0)),
    # half the revenue: 500 of 1,000 at t = 86 … 95; 80 %: 500 + 300 at t = 82 … 85
    ({"basis": "revenue", "high": 50, "potential": 80}, (95, 85)),
    # 65 % of revenue: 50 % (t 86 … 95) and 80 % (t 82 … 85) are as near: 95; 90 %: 95, 85.5,
    # 81 make exactly 900 for t = 80 … 81
    ({"basis": "revenue", "high": 65, "potential": 90}, (95, 81)),
])
def test_thresholds_for_a_target_by_hand(target, expected):
    assert scoring.thresholds_for_target(TARGET_SCORES, TARGET_REVENUE, target) == expected
    high, potential = expected
    tiers = scoring.assign_tiers(np.nan_to_num(TARGET_SCORES), (high, potential))
    if target["basis"] == "customers" and target["high"] == 10:
        assert list(tiers).count("high") == 1 and list(tiers).count("potential") == 3


def test_a_target_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="high ≤ potential"):
        scoring.thresholds_for_target(TARGET_SCORES, TARGET_REVENUE,
                                      {"basis": "customers", "high": 50, "potential": 40})
    with pytest.raises(ValueError, match="basis of customers, revenue"):
        scoring.validate_target({"basis": "profit", "high": 10, "potential": 40})
    with pytest.raises(ValueError, match="positive revenue|with revenue"):
        scoring.thresholds_for_target([50, 60], [0, -10],
                                      {"basis": "revenue", "high": 50, "potential": 80})


def test_small_tiers_are_those_under_5_percent():
    mix = scoring.category_mix(["high"] * 4 + ["potential"] * 5 + ["ordinary"] * 91,
                               [0] * 100, categories=scoring.TIERS)
    assert scoring.small_tiers(mix) == ["high"]          # 4 % < 5 %; 5 % is not small
    assert scoring.small_tiers(mix, below=0.06) == ["high", "potential"]


# --- presets -------------------------------------------------------------------------

def test_presets_round_trip(tmp_path):
    db = tmp_path / "p.duckdb"
    before = store.data_version(db)
    with store.write(db) as con:
        save_preset(con, "稳定优先", {"consumption": 20, "interaction": 20, "stability": 50,
                                      "referral": 10}, (85, 65))
        save_preset(con, "default", DEFAULT_WEIGHTS, DEFAULT_THRESHOLDS)
    with store.write(db) as con:  # saving a name again replaces it
        save_preset(con, "default", DEFAULT_WEIGHTS, (90, 70))
    assert store.data_version(db) == before + 2
    with store.connect(db) as con:
        presets = load_presets(con)
    assert list(presets) == ["default", "稳定优先"]
    assert presets["default"]["thresholds"] == (90, 70)
    assert presets["稳定优先"]["weights"]["stability"] == 50


def test_preset_keeps_whether_clv_joins_the_score(tmp_path):
    db = tmp_path / "p.duckdb"
    with store.write(db) as con:
        save_preset(con, "with CLV", DEFAULT_WEIGHTS, DEFAULT_THRESHOLDS, clv=True)
        save_preset(con, "without", DEFAULT_WEIGHTS, DEFAULT_THRESHOLDS)
        # a preset saved before the flag existed: no "clv" in its JSON
        con.execute("INSERT INTO settings (kind, name, value, saved_at) VALUES (?, ?, ?, now())",
                    [PRESET_KIND, "older", '{"weights": {"consumption": 70, '
                     '"interaction": 10, "stability": 10, "referral": 10}, "thresholds": [80, 60]}'])
    with store.connect(db) as con:
        presets = load_presets(con)
    assert {name: p["clv"] for name, p in presets.items()} == {
        "older": False, "with CLV": True, "without": False}
    assert presets["older"]["weights"]["consumption"] == 70
    assert presets["older"]["thresholds"] == (80, 60)


def test_preset_keeps_the_target_its_thresholds_came_from(tmp_path):
    db = tmp_path / "p.duckdb"
    target = {"basis": "revenue", "high": 50, "potential": 80}
    with store.write(db) as con:
        save_preset(con, "half the revenue", DEFAULT_WEIGHTS, (72, 55), target=target)
        save_preset(con, "by hand", DEFAULT_WEIGHTS, (80, 60))
    with store.connect(db) as con:
        presets = load_presets(con)
    assert presets["half the revenue"]["target"] == {"basis": "revenue", "high": 50.0,
                                                     "potential": 80.0}
    assert presets["half the revenue"]["thresholds"] == (72, 55)
    assert presets["by hand"]["target"] is None
    with pytest.raises(ValueError, match="threshold target"):
        with store.write(db) as con:
            save_preset(con, "bad", DEFAULT_WEIGHTS, (80, 60),
                        target={"basis": "customers", "high": 0, "potential": 40})


def test_bad_preset_is_not_saved(tmp_path):
    db = tmp_path / "p.duckdb"
    with pytest.raises(ValueError, match="weights must sum to 100"):
        with store.write(db) as con:
            save_preset(con, "x", {"consumption": 50, "interaction": 50, "stability": 50,
                                   "referral": 0}, (80, 60))
    with pytest.raises(ValueError, match="a preset needs a name"):
        with store.write(db) as con:
            save_preset(con, "  ", DEFAULT_WEIGHTS, (80, 60))
    with store.connect(db) as con:
        assert load_presets(con) == {}


def test_every_code_has_words_in_both_languages():
    from engine import i18n
    catalogue = i18n.catalogue()
    keys = ([f"code.tier.{t}" for t in scoring.TIERS]
            + [f"code.rfm.{s}" for s in scoring.RFM_SEGMENTS]
            + [f"rfm.stance.{s}" for s in scoring.RFM_SEGMENTS]
            + [f"code.pyramid.{p}" for p in scoring.PYRAMID_LEVELS]
            + [f"code.dimension.{d}" for d in scoring.DIMENSIONS]
            + [f"code.submetric.{m.column}" for m in SUB_METRICS])
    for key in keys:
        assert catalogue[key]["en"] and catalogue[key]["zh"], key


# --- CLV as an optional sub-metric (DESIGN §4.9), off by default ----------------------

def test_clv_off_by_default_leaves_the_score_exactly_as_defined():
    f = hand_made()
    default = score_customers(f, available=NO_REFERRAL)
    assert default.equals(score_customers(f, available=NO_REFERRAL, clv=None))
    assert list(default.columns) == list(scoring.SCORE_COLUMNS)
    assert "clv_12m_score" not in scoring.sub_metric_scores(f, available=NO_REFERRAL)
    plan = scoring_plan(DEFAULT_WEIGHTS, NO_REFERRAL)
    assert plan == scoring_plan(DEFAULT_WEIGHTS, NO_REFERRAL, clv=False)
    assert scoring.CLV_SUB_METRIC not in plan.sub_metrics
    assert [m.column for m in plan.sub_metrics if m.dimension == "consumption"] == [
        "spend_6m", "aov_6m", "products_6m"]
    # the numbers of test_whole_dimension_left_out_rescales_weights, unchanged
    assert default["consumption"].tolist() == [100, 75, 50, 25]
    assert default["score"].tolist() == pytest.approx([7125 / 90, 5750 / 90,
                                                       2625 / 90, 1500 / 90], abs=1e-9)


def test_clv_when_given_joins_the_consumption_dimension_by_hand():
    # clv_12m by customer: P 100, Q 300, R 0, S none; X is not a customer of
    # the table. N = 4, S's missing value counts as 0: Q scores 100·4/4 = 100
    # (everyone is ≤ 300), P 100·3/4 = 75 (P, R, S), R and S nothing -> 0.
    f = hand_made().assign(customer_id=["P", "Q", "R", "S"])
    clv = pd.Series({"P": 100.0, "Q": 300.0, "R": 0.0, "X": 50.0})
    s = score_customers(f, available=NO_REFERRAL, clv=clv)
    assert s["clv_12m_score"].tolist() == [75, 100, 0, 0]
    assert list(s.columns) == [*scoring.SCORE_COLUMNS[:13], "clv_12m_score",
                               *scoring.SCORE_COLUMNS[13:]]
    # consumption = mean of four: (3·100 + 75)/4, (3·75 + 100)/4, (3·50 + 0)/4, (3·25 + 0)/4
    assert s["consumption"].tolist() == [93.75, 81.25, 37.5, 18.75]
    # score (weights 400/9, 300/9, 200/9 without referral):
    # P (40·93.75 + 30·37.5 + 20·100)/90 = 6875/90; Q (40·81.25 + 30·50 + 20·62.5)/90 = 6000/90;
    # R (40·37.5 + 20·31.25)/90 = 2125/90;         S (40·18.75 + 20·25)/90 = 1250/90
    assert s["score"].tolist() == pytest.approx([6875 / 90, 6000 / 90,
                                                 2125 / 90, 1250 / 90], abs=1e-9)
    assert s["tier"].tolist() == ["potential", "potential", "ordinary", "ordinary"]
    # the other dimensions do not move
    default = score_customers(f, available=NO_REFERRAL)
    pd.testing.assert_frame_equal(s[["interaction", "stability", "referral"]],
                                  default[["interaction", "stability", "referral"]])
    # cached sub-scores recombine to the same
    subs = scoring.sub_metric_scores(f, available=NO_REFERRAL, clv=clv)
    pd.testing.assert_frame_equal(scoring.combine_scores(subs, available=NO_REFERRAL), s)


def test_clv_without_any_value_is_left_out_like_a_source_without_data():
    # a partial lifetime-value result (no spend model) has no CLV for anyone
    f = hand_made()
    clv = pd.Series(NAN, index=f["customer_id"])
    s = score_customers(f, available=NO_REFERRAL, clv=clv)
    assert s["clv_12m_score"].isna().all()
    pd.testing.assert_frame_equal(s.drop(columns="clv_12m_score"),
                                  score_customers(f, available=NO_REFERRAL))
    plan = scoring_plan(DEFAULT_WEIGHTS, {**NO_REFERRAL, "clv": False}, clv=True)
    assert "clv_12m" in plan.left_out_sub_metrics
    assert scoring_plan(DEFAULT_WEIGHTS, NO_REFERRAL, clv=True).sub_metrics[-1] \
        == scoring.CLV_SUB_METRIC


# --- the slider's tallies against their plain definitions ------------------------------------

from hypothesis import given, strategies as st  # noqa: E402

_CODES = st.sampled_from([*scoring.TIERS, None, "vip"])   # "vip": outside the categories
_MONEY = st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.just(float("nan")))


@given(st.lists(st.tuples(_CODES, _MONEY), max_size=40),
       st.sampled_from([None, list(scoring.TIERS), ["vip", *reversed(scoring.TIERS)]]))
def test_category_mix_is_the_plain_tally(rows, categories):
    """Per category: its customers and their revenue (NaN as 0); shares of everyone given.
    Given as a list, or as a categorical column of the tiers or of other categories."""
    codes = [c for c, _ in rows]
    given_codes = codes if categories is None else pd.Series(pd.Categorical(
        [c if c in categories else None for c in codes], categories=categories))
    mix = scoring.category_mix(given_codes, [m for _, m in rows], categories=scoring.TIERS)
    total = sum(0.0 if np.isnan(m) else m for _, m in rows)
    for row in mix.itertuples():
        mine = [0.0 if np.isnan(m) else m for c, m in rows if c == row.key]
        assert row.customers == len(mine)
        assert row.customer_share == pytest.approx(len(mine) / len(rows) if rows else 0)
        assert row.revenue == pytest.approx(sum(mine), abs=1e-6)
        if total > 0:
            assert row.revenue_share == pytest.approx(sum(mine) / total, abs=1e-9)
        else:
            assert np.isnan(row.revenue_share)


@given(st.lists(st.tuples(st.one_of(st.integers(-50, 1050).map(lambda k: k / 10),
                                    st.just(float("nan"))), _CODES), max_size=40))
def test_score_histogram_is_the_plain_tally(rows):
    """Bands of 5 points holding their lower edge, 100 in the last; scores clipped to 0–100,
    NaN as 0; customers without one of the tiers not counted."""
    hist = scoring.score_histogram([s for s, _ in rows], [c for _, c in rows])
    counts = hist.set_index(["bin_start", "tier"])["customers"]

    def band(score):
        score = min(max(0.0 if np.isnan(score) else score, 0.0), 100.0)
        return min(int(score * 10) // 50, 19) * 5.0   # in tenths: exact
    for (start, tier), n in counts.items():
        assert n == sum(1 for s, c in rows if c == tier and band(s) == start)


def test_scoring_a_scored_frame_again_replaces_its_scores():
    """combine_scores on its own output: one column of each name, the new settings' values."""
    subs = scoring.sub_metric_scores(hand_made(), available=NO_REFERRAL)
    weights = {"consumption": 10, "interaction": 10, "stability": 70, "referral": 10}
    once = scoring.combine_scores(subs, available=NO_REFERRAL)
    twice = scoring.combine_scores(once, weights=weights, thresholds=(90, 10),
                                   available=NO_REFERRAL)
    assert not twice.columns.duplicated().any()
    pd.testing.assert_frame_equal(twice, scoring.combine_scores(
        subs, weights=weights, thresholds=(90, 10), available=NO_REFERRAL))


_SCORE = st.one_of(st.integers(0, 1000).map(lambda k: k / 10), st.just(float("nan")))


@given(st.lists(_SCORE, max_size=40), st.integers(0, 100), st.integers(0, 100))
def test_assign_tiers_is_the_plain_rule(scores, one, other):
    """DESIGN §4.2: high at or above the high threshold, potential at or above the potential
    one, ordinary below it and without a score."""
    high, potential = max(one, other), min(one, other)

    def tier(score):
        if score >= high:          # False for NaN
            return "high"
        return "potential" if score >= potential else "ordinary"
    assert list(scoring.assign_tiers(scores, (high, potential))) == [tier(s) for s in scores]


_TIER_PAIRS = st.lists(st.tuples(st.sampled_from(scoring.TIERS), st.sampled_from(scoring.TIERS)),
                       max_size=40)


@given(_TIER_PAIRS)
def test_tier_move_counts_are_the_plain_tally_and_those_of_the_list(pairs):
    """Up: towards high (high < potential < ordinary in TIERS' order); down: the other way;
    the same counts the movers list gives."""
    ids = [f"c{i}" for i in range(len(pairs))]
    before = pd.DataFrame({"customer_id": ids, "score": 50.0,
                           "tier": pd.Categorical([b for b, _ in pairs], categories=scoring.TIERS)})
    after = before.assign(tier=pd.Categorical([a for _, a in pairs], categories=scoring.TIERS))
    rank = {t: i for i, t in enumerate(scoring.TIERS)}
    up = sum(1 for b, a in pairs if rank[a] < rank[b])
    down = sum(1 for b, a in pairs if rank[a] > rank[b])
    assert scoring.tier_move_counts(before, after) == (up, down)
    moves = scoring.tier_moves(before, after)
    assert (moves.up, moves.down) == (up, down)


def test_tier_move_counts_refuse_scorings_of_other_customers():
    before = pd.DataFrame({"customer_id": ["a", "b"], "score": [1.0, 2.0],
                           "tier": pd.Categorical(["high", "ordinary"], categories=scoring.TIERS)})
    with pytest.raises(ValueError, match="same customers"):
        scoring.tier_move_counts(before, before.iloc[::-1])
    with pytest.raises(ValueError, match="same customers"):
        scoring.tier_move_counts(before, before.iloc[:1])
