"""The Churn risk page's lists (engine.risk_page.risk_list) on five hand-made customers:
who is listed, in which order, in words, with the learned model's columns."""
import numpy as np
import pandas as pd

from engine.risk_page import RISK_LIST_COLUMNS, risk_list

NA = np.nan
# C1 and C3 high risk, C4 dormant; C2 and C5 neither. Revenue orders C3 > C1.
FEATURES = pd.DataFrame({
    "customer_id": ["C1", "C2", "C3", "C4", "C5"],
    "name": ["Ann", "Bo", "Cy", "Di", "Ed"],
    "owner": ["x", "x", "y", "y", "x"],
    "revenue_12m": [100.0, 500.0, 300.0, 0.0, 50.0],
    "last_purchase_date": pd.to_datetime(["2024-06-01"] * 3 + ["2023-01-01", "2024-06-20"]),
    "last_interaction_date": pd.NaT,
    "complaints_90d": [2, 0, 1, 0, 0],
    "other": [9, 9, 9, 9, 9]})
ASSESSED = pd.DataFrame({
    "customer_id": FEATURES["customer_id"],
    "risk_level": ["high", "low", "high", "medium", "low"],
    "demand_tag": ["active", "active", "active", "dormant", "active"],
    "lifecycle": ["loyal", "loyal", "at_risk", "churned", "new"],
    "reason_spend_fall_pct": NA, "reason_complaints": [2, NA, 1, NA, NA],
    "reason_gap_days": NA, "reason_gap_median": NA})
TIERS = pd.Series(["high", "high", "potential", "ordinary", "ordinary"])


def test_the_high_risk_list_by_value_at_risk_in_words():
    table = risk_list(FEATURES, ASSESSED, TIERS, "high", "en")
    assert list(table.columns) == list(RISK_LIST_COLUMNS)
    assert table["customer_id"].tolist() == ["C3", "C1"]           # 300 before 100
    assert table["tier"].tolist() == ["Potential", "High value"]
    assert table["risk_level"].tolist() == ["High risk", "High risk"]
    assert table["lifecycle"].tolist() == ["At risk", "Loyal"]
    assert table["risk_reasons"].tolist() == ["1 complaint", "2 complaints"]


def test_rows_keeps_the_first_of_the_order_with_their_own_reasons():
    first = risk_list(FEATURES, ASSESSED, TIERS, "high", "en", rows=1)
    assert first["customer_id"].tolist() == ["C3"] and first["risk_reasons"].tolist() == ["1 complaint"]
    probability = pd.Series({"C1": 0.6, "C2": 0.9, "C3": 0.2, "C4": NA, "C5": 0.1})
    likeliest = risk_list(FEATURES, ASSESSED, TIERS, "high", "en", probability=probability,
                          order="probability", rows=1)
    assert likeliest["customer_id"].tolist() == ["C1"]
    assert likeliest["risk_reasons"].tolist() == ["2 complaints"]


def test_the_dormant_list():
    table = risk_list(FEATURES, ASSESSED, TIERS, "dormant", "en")
    assert table["customer_id"].tolist() == ["C4"]
    assert table["demand_tag"].tolist() == ["Dormant"] and table["risk_reasons"].tolist() == [""]


def test_with_the_model_the_likeliest_first_and_as_many_alerts_as_high_risks():
    # two customers are high risk, so the model alerts its top two: C2 (0.9) and C1 (0.6)
    probability = pd.Series({"C1": 0.6, "C2": 0.9, "C3": 0.2, "C4": NA, "C5": 0.1})
    by_value = risk_list(FEATURES, ASSESSED, TIERS, "high", "en", probability=probability)
    assert by_value["customer_id"].tolist() == ["C3", "C1"]
    assert by_value["churn_probability"].tolist() == [0.2, 0.6]
    assert by_value["model_alert"].tolist() == [False, True]
    likeliest = risk_list(FEATURES, ASSESSED, TIERS, "high", "en", probability=probability,
                          order="probability")
    assert likeliest["customer_id"].tolist() == ["C1", "C3"]


def test_customers_without_a_probability_come_last():
    probability = pd.Series({"C1": NA, "C3": 0.5})
    table = risk_list(FEATURES, ASSESSED, TIERS, "high", "en", probability=probability,
                      order="probability")
    assert table["customer_id"].tolist() == ["C3", "C1"]
    assert table["model_alert"].tolist() == [True, False]
