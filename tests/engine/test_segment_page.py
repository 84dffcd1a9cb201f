"""What the Segments page shows (engine.segment_page) on six hand-made customers in two
plain groups: C1–C3 big buyers (segment 1, the higher revenue), C4–C6 small ones."""
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from engine import plan, scoring, segments
from engine.segment_page import actions_of, segment_labels, segment_page

COLUMNS = ("revenue_12m", "purchase_days")
FEATURES = pd.DataFrame({"customer_id": [f"C{i}" for i in range(1, 7)],
                         "revenue_12m": [1000.0, 1100.0, 900.0, 10.0, 20.0, 30.0],
                         "purchase_days": [20, 22, 18, 1, 2, 1]})
TIERS = pd.Series(pd.Categorical(["high", "high", "potential", "ordinary", "ordinary",
                                  "ordinary"], categories=scoring.TIERS))
TASKS = pd.DataFrame({"customer_id": ["C4", "C1", "C2"],
                      "action": pd.Categorical(["wake_up", "visit", "visit"],
                                               categories=plan.ACTIONS)})


@pytest.fixture(scope="module")
def two():
    """The fit with k = 2, and an automatic run that chose it off a hand-made curve."""
    fit = segments.segment_customers(FEATURES, columns=COLUMNS, k=2)
    curve = pd.DataFrame({"k": [2, 3], "inertia": [1.0, 0.5], "silhouette": [0.8, 0.4]})
    return fit, replace(fit, auto=True, curve=curve, silhouette=0.8)


def test_each_customers_next_action_in_the_features_order():
    actions = actions_of(FEATURES, TASKS)
    assert list(actions.categories) == list(plan.ACTIONS)
    assert [None if pd.isna(a) else a for a in actions] == ["visit", "visit", None, "wake_up",
                                                            None, None]


def test_the_page_in_words(two):
    fit, automatic = two
    page = segment_page(FEATURES, automatic, automatic, None, tiers=TIERS, tasks=TASKS,
                        lang="en")
    assert fit.labels.tolist() == [1, 1, 1, 2, 2, 2]
    assert (page["k"], page["auto"], page["auto_k"], page["customers"]) == (2, True, 2, 6)
    assert page["silhouette"] == 0.8 and page["silhouette_rows"] == 6
    names = segments.segment_names(segments.segment_profile(FEATURES, fit), "en")
    assert page["labels"] == {1: f"1 · {names[1]}", 2: f"2 · {names[2]}"}
    overview = page["overview"]
    assert overview["segment"].tolist() == list(page["labels"].values())
    assert overview["customers"].tolist() == [3, 3]
    assert overview["revenue"].tolist() == [3000.0, 60.0]
    assert overview["revenue_share"].iloc[0] == pytest.approx(3000 / 3060)
    assert overview["next_step"].tolist() == [
        "Exclusive visit (account manager) · 67% of members due",
        "Wake-up mail/SMS, then a call (service rep) · 33% of members due"]
    assert page["crosstab"].to_dict("list") == {"High value": [2, 0], "Potential": [1, 0],
                                                "Ordinary": [0, 3]}
    assert list(page["heatmap"].columns) == [segments.feature_label(c, "en") for c in COLUMNS]
    assert page["heatmap"].iloc[0, 0] == pytest.approx(100 * 1000 / 510)   # mean over base


def test_a_k_set_by_hand_reads_its_silhouette_off_the_automatic_curve(two):
    fit, automatic = two
    page = segment_page(FEATURES, automatic, fit, 2, tiers=TIERS, tasks=TASKS, lang="zh")
    assert page["silhouette"] == 0.8 and not page["auto"]
    assert list(page["crosstab"].columns) == ["高价值", "潜力", "普通"]
    off = segment_page(FEATURES, automatic, fit, 5, tiers=TIERS, tasks=TASKS, lang="en")
    assert np.isnan(off["silhouette"])


def test_segment_labels():
    assert segment_labels({2: "Small", 1: "Big"}, "en") == {1: "1 · Big", 2: "2 · Small"}
