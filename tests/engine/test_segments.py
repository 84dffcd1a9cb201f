"""K-means segments: the right k and members on planted groups, stable numbering and
names, and profile maths worked out by hand on a six-customer frame."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from engine import segments


@pytest.fixture(scope="module")
def blobs():
    return segments.synthetic_features(6_000, seed=1)


def test_automatic_k_finds_the_planted_groups(blobs):
    result = segments.segment_customers(blobs)
    assert result.auto and result.k == len(segments.PLANTED_GROUPS)
    assert adjusted_rand_score(blobs["planted_segment"], result.labels) >= 0.95
    assert list(result.curve["k"]) == list(range(3, 9))     # the range a manager can act on
    assert result.curve["silhouette"].idxmax() == result.curve.index[result.curve["k"] == 4][0]
    assert result.silhouette == pytest.approx(result.curve["silhouette"].max())
    # the elbow: inertia falls with k, steeply up to the planted k
    inertia = result.curve.set_index("k")["inertia"]
    assert inertia.is_monotonic_decreasing
    assert inertia[3] - inertia[4] > 5 * (inertia[4] - inertia[5])


def test_fit_on_a_sample_assigns_everyone_to_the_nearest_centroid():
    frame = segments.synthetic_features(40_000, seed=2)
    seen = []
    result = segments.segment_customers(frame, sample_size=5_000, progress=seen.append)
    assert result.fit_rows == 5_000 and len(result.labels) == 40_000
    assert result.k == 4
    assert adjusted_rand_score(frame["planted_segment"], result.labels) >= 0.95
    z = result.model.transform(frame)
    distances = ((z[:, None, :] - result.model.centers_[None, :, :]) ** 2).sum(axis=2)
    assert np.array_equal(result.labels, distances.argmin(axis=1) + 1)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0) and len(seen) > 5


def test_manual_k(blobs):
    result = segments.segment_customers(blobs, k=4)
    assert not result.auto and result.k == 4 and result.curve.empty
    assert adjusted_rand_score(blobs["planted_segment"], result.labels) >= 0.95
    six = segments.segment_customers(blobs, k=6)
    assert sorted(np.unique(six.labels)) == [1, 2, 3, 4, 5, 6]


def test_segments_are_numbered_by_mean_revenue(blobs):
    result = segments.segment_customers(blobs, k=5)
    means = blobs.groupby(result.labels)["revenue_12m"].mean()
    assert list(means.index) == [1, 2, 3, 4, 5]
    assert means.is_monotonic_decreasing


def test_same_data_same_segments_and_names(blobs):
    first = segments.segment_customers(blobs)
    again = segments.segment_customers(blobs)
    assert np.array_equal(first.labels, again.labels)
    names = segments.segment_names(segments.segment_profile(blobs, first), "en")
    assert names.equals(segments.segment_names(segments.segment_profile(blobs, again), "en"))
    # another row order draws another sample; every customer keeps segment and name
    shuffled = blobs.sample(frac=1.0, random_state=7).reset_index(drop=True)
    other = segments.segment_customers(shuffled)
    other_names = segments.segment_names(segments.segment_profile(shuffled, other), "en")
    before = pd.Series(names.reindex(first.labels).to_numpy(), index=blobs["customer_id"])
    after = pd.Series(other_names.reindex(other.labels).to_numpy(), index=shuffled["customer_id"])
    assert (pd.Series(first.labels, index=blobs["customer_id"])
            .reindex(shuffled["customer_id"]).to_numpy() == other.labels).all()
    assert before.reindex(after.index).equals(after)


def test_planted_groups_get_plain_names(blobs):
    result = segments.segment_customers(blobs)
    profile = segments.segment_profile(blobs, result)
    names = segments.segment_names(profile, "en")
    planted = pd.crosstab(result.labels, blobs["planted_segment"]).idxmax(axis=1)
    by_group = dict(zip(planted, names))
    assert by_group[0].startswith("big spenders")        # planted: big spenders, active
    assert by_group[2] == "new, active"                  # planted: new and active
    assert by_group[3].startswith("no purchase yet")     # planted: never bought
    assert len(set(names)) == len(names)
    zh = segments.segment_names(profile, "zh")
    assert zh[planted[planted == 2].index[0]] == "新客户、近期活跃"


# --- profile maths by hand ---------------------------------------------------------------

def tiny():
    """Six customers, two obvious groups: A–C buy a lot, D never bought, E–F a little."""
    return pd.DataFrame({
        "customer_id": list("ABCDEF"),
        "monetary_12m": [1000.0, 2000.0, 3000.0, np.nan, 10.0, 20.0],
        "frequency_12m": [10, 12, 14, 0, 1, 1],
        "revenue_12m": [1000.0, 2000.0, 3000.0, 0.0, 10.0, 20.0],
        "purchase_days": [10, 12, 14, 0, 1, 1],
    })


def test_profile_index_and_shares_by_hand():
    frame = tiny()
    result = segments.segment_customers(frame, columns=("monetary_12m", "frequency_12m"), k=2)
    assert list(result.labels) == [1, 1, 1, 2, 2, 2]
    tiers = pd.Categorical(["high", "high", "potential", "ordinary", "ordinary", "potential"],
                           categories=["high", "potential", "ordinary"])
    p = segments.segment_profile(frame, result, tiers=tiers)
    assert list(p["customers"]) == [3, 3]
    assert list(p["customer_share"]) == [0.5, 0.5]
    assert list(p["revenue"]) == [6000.0, 30.0]
    assert p["revenue_share"].tolist() == pytest.approx([6000 / 6030, 30 / 6030])
    # monetary: D's empty cell counts as 0; base mean 6030 / 6 = 1005
    assert p["mean_monetary_12m"].tolist() == pytest.approx([2000.0, 10.0])
    assert p["index_monetary_12m"].tolist() == pytest.approx([100 * 2000 / 1005, 100 * 10 / 1005])
    # frequency: base mean 38 / 6
    assert p["index_frequency_12m"].tolist() == pytest.approx([100 * 12 / (38 / 6),
                                                              100 * (2 / 3) / (38 / 6)])
    # mid-percentiles: values 0,10,20,1000,2000,3000 -> 0.5/6 ... 5.5/6
    assert p["rank_monetary_12m"].tolist() == pytest.approx([13.5 / 18, 4.5 / 18])
    # frequency 0,1,1,10,12,14: the two 1s share (1 + 2/2) / 6
    assert p["rank_frequency_12m"].tolist() == pytest.approx([13.5 / 18, 4.5 / 18])
    assert p["never_bought_share"].tolist() == pytest.approx([0, 1 / 3])
    assert p["tier_high"].tolist() == pytest.approx([2 / 3, 0])
    assert p["tier_potential"].tolist() == pytest.approx([1 / 3, 1 / 3])
    assert p["tier_ordinary"].tolist() == pytest.approx([0, 2 / 3])
    crosstab = segments.tier_crosstab(result, tiers)
    assert crosstab.to_numpy().tolist() == [[2, 1, 0], [0, 1, 2]]
    assert segments.segment_names(p, "en").tolist() == ["big spenders, frequent buyers",
                                                       "low spend, rare buyers"]
    assert segments.segment_names(p, "zh").tolist() == ["高消费、高频购买", "低消费、低频购买"]


def test_empty_cells_and_negative_spend():
    frame = pd.DataFrame({
        "days_since_last_purchase": pd.array([5, None, 40], dtype="Int64"),
        "ontime_share": [1.0, np.nan, 0.5],
        "interactions_6m": [1, 2, 3],
        "monetary_12m": [np.nan, -50.0, 100.0],
    })
    columns = tuple(frame.columns)
    fills = segments.fill_values(frame, columns)
    assert fills == (40.0, 0.75, 0.0, 0.0)   # most lapsed; median rate; nothing
    raw = segments.filled_matrix(frame, columns, fills)
    assert raw[:, 0].tolist() == [5, 40, 40] and raw[:, 3].tolist() == [0, -50, 100]
    logged = segments.signed_log1p(np.array([-50.0, 0.0, 100.0]))
    assert logged.tolist() == pytest.approx([-np.log1p(50), 0.0, np.log1p(100)])


def test_percentile_ranks_share_ties():
    ranks = segments.percentile_ranks(np.array([5.0, 1.0, 1.0, 3.0]))
    assert ranks.tolist() == pytest.approx([3.5 / 4, 1 / 4, 1 / 4, 2.5 / 4])
    assert segments.percentile_ranks(np.ones(3)).tolist() == [0.5, 0.5, 0.5]


@given(st.lists(st.one_of(st.sampled_from([0.0, 1.0, 2.5, -3.0, np.nan]),
                          st.floats(-1e6, 1e6)), max_size=60))
def test_percentile_ranks_are_the_mid_rank_of_the_definition(values):
    x = np.array(values, dtype=float)
    n = len(x)
    same = [(np.isnan(x) & np.isnan(v)) | (x == v) for v in x]
    # values below (NaN is above every number, as np.sort puts it) + equal values / 2
    expected = [((x < v).sum() if not np.isnan(v) else (~np.isnan(x)).sum()) + s.sum() / 2
                for v, s in zip(x, same)]
    assert segments.percentile_ranks(x).tolist() == pytest.approx(
        [e / n for e in expected], abs=1e-12)


def test_names_that_clash_take_another_trait():
    profile = pd.DataFrame({
        "rank_monetary_12m": [0.9, 0.9, 0.5],
        "rank_interactions_6m": [0.8, 0.8, 0.5],
        "rank_tenure_days": [0.7, 0.2, 0.5],
        "never_bought_share": [0.0, 0.0, 0.0],
    }, index=pd.RangeIndex(1, 4, name="segment"))
    codes = segments.segment_name_codes(profile)
    assert codes[1] == (("spend", "high"), ("tenure", "high"), ("engagement", "high"))
    assert codes[2] == (("spend", "high"), ("tenure", "low"), ("engagement", "high"))
    assert codes[3] == ()
    names = segments.segment_names(profile, "en")
    assert names[1] == "big spenders, long-standing, engaged"
    assert names[3] == "mainstream"


def test_recency_always_names_a_segment_and_180_days_is_lapsed():
    """Spend and engagement are stronger traits than recency, yet recency joins the name;
    past 180 days on average (DESIGN §4.6's churned) lapsing reads lapsed."""
    profile = pd.DataFrame({
        "rank_monetary_12m": [0.1, 0.1, 0.9],
        "rank_interactions_6m": [0.05, 0.05, 0.5],
        "rank_days_since_last_purchase": [0.7, 0.7, 0.3],
        "mean_days_since_last_purchase": [181.0, 180.0, 12.0],
        "never_bought_share": [0.0, 0.0, 0.0],
    }, index=pd.RangeIndex(1, 4, name="segment"))
    names = segments.segment_names(profile, "en")
    assert names.to_dict() == {1: "low spend, lapsed, quiet", 2: "low spend, lapsing, quiet",
                               3: "big spenders, active"}
    assert segments.segment_names(profile, "zh")[1] == "低消费、已流失、互动较少"


def test_the_planted_lapsing_group_is_named_lapsed(blobs):
    result = segments.segment_customers(blobs)
    profile = segments.segment_profile(blobs, result)
    planted = pd.crosstab(result.labels, blobs["planted_segment"]).idxmax(axis=1)
    lapsing = planted[planted == 1].index[0]          # planted: 300 days since, on average
    assert profile.loc[lapsing, "mean_days_since_last_purchase"] > segments.LAPSED_DAYS
    assert segments.segment_names(profile, "en")[lapsing] == "low spend, lapsed, quiet"


def test_next_step_is_the_action_most_members_are_due():
    """Six customers in two segments (tiny(): A–C and D–F); A, B visit, C care; D, E wake
    up, F none; a plain list of codes: alphabetical on a tie."""
    result = segments.segment_customers(tiny(), columns=("monetary_12m", "frequency_12m"), k=2)
    assert result.labels.tolist() == [1, 1, 1, 2, 2, 2]
    actions = pd.Categorical(["visit", "visit", "care", "wake_up", "wake_up", None],
                             categories=["win_back", "wake_up", "visit", "care"])
    steps = segments.segment_next_steps(result, actions)
    assert steps["action"].tolist() == ["visit", "wake_up"]
    assert steps["share"].tolist() == [2 / 3, 2 / 3]
    tie = segments.segment_next_steps(result, ["visit", "care", None, None, None, None])
    assert tie["action"].iloc[0] == "care" and pd.isna(tie["action"].iloc[1])  # nobody due
    assert tie["share"].tolist() == [1 / 3, 0.0]


def test_assign_segments_for_the_scorecard(blobs):
    out = segments.assign_segments(blobs)
    assert list(out.columns) == ["customer_id", "segment", "segment_name"]
    assert out["customer_id"].equals(blobs["customer_id"])
    assert out["segment"].between(1, 4).all()
    assert out.groupby("segment")["segment_name"].nunique().eq(1).all()


def test_scatter_points_sample_and_pca(blobs):
    result = segments.segment_customers(blobs, k=4)
    points, ratio = segments.scatter_points(blobs, result, max_points=500)
    assert len(points) == 500 and list(points.columns) == ["customer_id", "x", "y", "segment"]
    assert ratio[0] >= ratio[1] > 0
    pair, ratio = segments.scatter_points(blobs, result, x="frequency_12m", y="tenure_days",
                                          max_points=10_000)
    assert len(pair) == len(blobs) and np.isnan(ratio[0])
    assert pair["x"].tolist() == blobs["frequency_12m"].astype(float).tolist()


def test_members_of_one_segment(blobs):
    result = segments.segment_customers(blobs, k=4)
    names = segments.segment_names(segments.segment_profile(blobs, result), "en")
    two = segments.members(blobs, result, names, segment=2)
    assert len(two) == int((result.labels == 2).sum())
    assert set(two["segment_name"]) == {names[2]}
    assert list(two.columns[:3]) == ["customer_id", "segment", "segment_name"]


@pytest.mark.parametrize("columns, message", [
    (("monetary_12m",), "at least 2"),
    (("monetary_12m", "nope"), "unknown feature column"),
    (("monetary_12m", "customer_id"), "not numeric"),
])
def test_bad_columns_say_what_to_change(blobs, columns, message):
    with pytest.raises(ValueError, match=message):
        segments.segment_customers(blobs, columns=columns)


def test_too_few_distinct_customers():
    frame = tiny().iloc[:1]
    with pytest.raises(ValueError, match="at least 2 customers"):
        segments.segment_customers(frame, columns=("monetary_12m", "frequency_12m"))
    with pytest.raises(ValueError, match="smaller k"):
        segments.segment_customers(tiny(), columns=("monetary_12m", "frequency_12m"), k=9)


def test_small_base_caps_automatic_k():
    result = segments.segment_customers(tiny(), columns=("monetary_12m", "frequency_12m"))
    assert result.curve["k"].max() <= 5 and 2 <= result.k <= 5
