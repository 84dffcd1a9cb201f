"""Value score, tiers, RFM, pyramid and Pareto (DESIGN §4.1–4.3).

Pure functions of the feature table of `engine.features.customer_features`
(one row per customer) and settings: DataFrames in, DataFrames out,
vectorised. Settings are declared once here as data and validated at compute
time with a ValueError that says what to change. Presets of weights and
thresholds live in the `settings` table.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Mapping, Sequence

import numpy as np
import pandas as pd


DIMENSIONS = ("consumption", "interaction", "stability", "referral")
DEFAULT_WEIGHTS = {"consumption": 40, "interaction": 30, "stability": 20, "referral": 10}
DEFAULT_THRESHOLDS = (80, 60)  # (high, potential): high >= 80, potential >= 60, ordinary below
SMALL_TIER_SHARE = 0.05        # a tier with fewer customers than this share is pointed out
# Thresholds from a target: what the shares count, and the page's first offer for each
# basis in percent (high value; high value and potential together).
TARGET_BASES = ("customers", "revenue")
DEFAULT_TARGETS = {"customers": (10, 40), "revenue": (50, 80)}
TIERS = ("high", "potential", "ordinary")

RFM_SEGMENTS = ("champions", "loyal", "potential_loyalist", "new", "promising",
                "need_attention", "about_to_sleep", "at_risk", "cannot_lose",
                "hibernating", "lost")
# DESIGN §4.3: row R = 5, 4, ..., 1; column FM = 1, ..., 5.
RFM_GRID = {
    5: ("new", "potential_loyalist", "potential_loyalist", "champions", "champions"),
    4: ("promising", "potential_loyalist", "loyal", "champions", "champions"),
    3: ("about_to_sleep", "need_attention", "loyal", "loyal", "loyal"),
    2: ("hibernating", "about_to_sleep", "at_risk", "at_risk", "cannot_lose"),
    1: ("lost", "hibernating", "at_risk", "cannot_lose", "cannot_lose"),
}
NON_BUYER_SEGMENT = "lost"

PYRAMID_LEVELS = ("platinum", "gold", "iron", "lead")
DEFAULT_PYRAMID_CUTOFFS = (5, 20, 80)  # rank / all customers ≤ 5 %, 20 %, 80 %; the rest lead
DEFAULT_PARETO_SHARE = 0.8

# Dimension scores and the total are rounded to this many decimals, so float
# noise (about 1e-13) never moves a customer across a threshold (a mean of
# exactly 80 is high), while the scores stay within 1e-9 of DESIGN's exact
# values: at 6 decimals a score less than 5e-7 below 80, possible with many
# customers, was high.
SCORE_DECIMALS = 10


@dataclass(frozen=True)
class SubMetric:
    """One scored feature: its column, dimension, direction, data source and unit.

    `source` is a key of `engine.features.optional_columns_present`; when
    that source holds no value up to T the sub-metric is left out of its
    dimension's mean. None: always scored. `unit` says how its value reads:
    count, money, hours, share (0–1) or flag (1 yes, 0 no).
    """
    column: str
    dimension: str
    higher_is_better: bool = True
    source: str | None = None
    unit: str = "count"

    @property
    def score_column(self) -> str:
        return f"{self.column}_score"


SUB_METRICS = (
    SubMetric("spend_6m", "consumption", source="transactions", unit="money"),
    SubMetric("aov_6m", "consumption", source="transactions", unit="money"),
    SubMetric("products_6m", "consumption", source="product_or_category"),
    SubMetric("interactions_6m", "interaction", source="interactions"),
    SubMetric("events_6m", "interaction", source="event_interactions"),
    SubMetric("median_response_hours_6m", "interaction", higher_is_better=False,
              source="response_hours", unit="hours"),
    SubMetric("tenure_days", "stability"),
    SubMetric("purchase_months_12m", "stability", source="transactions"),
    SubMetric("ontime_share", "stability", source="due_paid_dates", unit="share"),
    SubMetric("renewal", "stability", source="contract_end", unit="flag"),
    SubMetric("referred_customers", "referral", source="referred_by"),
    SubMetric("referral_interactions", "referral", source="referral_interactions"),
)

SCORE_COLUMNS = ("customer_id", *(m.score_column for m in SUB_METRICS), *DIMENSIONS,
                 "score", "tier")

# Optional consumption sub-metric, off by default (DESIGN §4.9): the 12-month
# customer lifetime value of `engine.clv`, scored by percentile rank like the
# others. It joins the consumption mean only when asked for (`clv=` of
# `score_customers` / `sub_metric_scores`); its source "clv" counts as
# present when any customer has a value.
CLV_SUB_METRIC = SubMetric("clv_12m", "consumption", source="clv", unit="money")


# --- settings ------------------------------------------------------------------

def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{what} must be a number, got {value!r}.")
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}.")
    return float(value)


def validate_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """The weights as {dimension: float}, or a ValueError saying what is wrong.

    Every dimension of DIMENSIONS needs a weight ≥ 0, and the weights sum to 100.
    """
    if not isinstance(weights, Mapping):
        raise ValueError(f"weights must map each dimension to a number, got {weights!r}.")
    if set(weights) != set(DIMENSIONS):
        missing = [d for d in DIMENSIONS if d not in weights]
        extra = sorted(str(k) for k in weights if k not in DIMENSIONS)
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + \
                ([f"unknown {', '.join(extra)}"] if extra else [])
        raise ValueError(f"weights must give one number for each of {', '.join(DIMENSIONS)} "
                         f"({'; '.join(parts)}).")
    clean = {d: _number(weights[d], f"the weight of {d}") for d in DIMENSIONS}
    for d, w in clean.items():
        if w < 0:
            raise ValueError(f"the weight of {d} must be 0 or more, got {w:g}.")
    total = sum(clean.values())
    if abs(total - 100) > 1e-9:
        terms = " + ".join(f"{w:g}" for w in clean.values())
        raise ValueError(f"weights must sum to 100, got {total:g} ({terms}).")
    return clean


def validate_thresholds(thresholds: Sequence[float]) -> tuple[float, float]:
    """(high, potential) as floats with 0 ≤ potential ≤ high ≤ 100, or a ValueError."""
    try:
        high, potential = thresholds
    except (TypeError, ValueError):
        raise ValueError(f"thresholds must be two numbers (high, potential), got "
                         f"{thresholds!r}.") from None
    high = _number(high, "the high threshold")
    potential = _number(potential, "the potential threshold")
    if not 0 <= potential <= high <= 100:
        raise ValueError(f"thresholds must satisfy 0 ≤ potential ≤ high ≤ 100, got high "
                         f"{high:g} and potential {potential:g}.")
    return high, potential


def validate_target(target: Mapping | None) -> dict | None:
    """A threshold target as {"basis", "high", "potential"} (percent, 0 < high ≤ potential
    ≤ 100), None for none, or a ValueError saying what is wrong."""
    if target is None:
        return None
    if not isinstance(target, Mapping) or target.get("basis") not in TARGET_BASES:
        raise ValueError(f"a threshold target needs a basis of {', '.join(TARGET_BASES)}, "
                         f"got {target!r}.")
    high = _number(target.get("high"), "the high-value target")
    potential = _number(target.get("potential"), "the potential target")
    if not 0 < high <= potential <= 100:
        raise ValueError(f"a threshold target needs 0 < high ≤ potential ≤ 100 (percent), got "
                         f"high {high:g} and potential {potential:g}.")
    return {"basis": target["basis"], "high": high, "potential": potential}


def thresholds_for_target(scores, revenue, target: Mapping) -> tuple[int, int]:
    """Whole-number thresholds (high, potential) whose tiers come closest to a target.

    target : `validate_target`'s form. With basis "customers", `high` is the share of
    customers (percent) the high tier should hold and `potential` the share the high and
    potential tiers should hold together ("top 10 %", "top 40 %"); with basis "revenue",
    the shares of the 12-month revenue those customers make ("the best-scored customers
    making half the revenue").
    scores, revenue : one per customer (NaN score counts as 0, NaN revenue as 0).

    Of the 101 whole-number thresholds, the high one is that whose share (of customers
    or revenue with a score ≥ it) is nearest the target; the potential one, at or below
    it, likewise. A tie goes to the higher threshold (the smaller tier). Raises
    ValueError without customers, or for a revenue target without positive revenue.
    """
    target = validate_target(target)
    s = np.clip(np.nan_to_num(_as_float_array(scores)), 0, 100)
    if not len(s):
        raise ValueError("thresholds from a target need customers to score.")
    weight = (np.ones(len(s)) if target["basis"] == "customers"
              else np.nan_to_num(_as_float_array(revenue)))
    total = weight.sum()
    if total <= 0:
        raise ValueError("a revenue target needs customers with revenue in the last 12 months.")
    # reach[t]: the share with a score ≥ t, for t = 0 … 100 (a score ≥ t ⟺ its floor ≥ t)
    reach = np.bincount(np.floor(s).astype(np.int64), weights=weight, minlength=101)
    reach = np.cumsum(reach[::-1])[::-1] / total

    def nearest(share: float, highest: int) -> int:
        gaps = np.abs(reach[:highest + 1] - share / 100)
        return int(np.flatnonzero(gaps <= gaps.min() + 1e-12)[-1])   # a tie, in floats too

    high = nearest(target["high"], 100)
    return high, nearest(target["potential"], high)


def small_tiers(mix: pd.DataFrame, *, below: float = SMALL_TIER_SHARE) -> list[str]:
    """Tiers of a `category_mix` holding fewer than `below` of the customers, in its order."""
    return [key for key, share in zip(mix["key"], mix["customer_share"]) if share < below]


@dataclass(frozen=True)
class ScoringPlan:
    """What a scoring run keeps and leaves out, and the weights it applies.

    weights: the effective weight of every kept dimension, rescaled to sum
    to 100 (a left-out dimension has none). The page reports the left-out
    sub-metrics and dimensions.
    """
    sub_metrics: tuple[SubMetric, ...]
    left_out_sub_metrics: tuple[str, ...]
    left_out_dimensions: tuple[str, ...]
    weights: dict[str, float]


class NoWeightLeft(ValueError):
    """Every dimension with weight is left out for lack of data: nobody can be scored."""


def scoring_plan(weights: Mapping[str, float] = DEFAULT_WEIGHTS,
                 available: Mapping[str, bool] | None = None, *,
                 clv: bool = False) -> ScoringPlan:
    """Which sub-metrics and dimensions are scored given the data's sources.

    available : {source: bool} as from `optional_columns_present`; a source
        missing from the mapping (or available=None) counts as present.
    clv : consider CLV_SUB_METRIC too (its source is "clv").
    """
    clean = validate_weights(weights)
    available = available or {}
    metrics = SUB_METRICS + ((CLV_SUB_METRIC,) if clv else ())
    kept = tuple(m for m in metrics if m.source is None or available.get(m.source, True))
    left_out = tuple(m.column for m in metrics if m not in kept)
    kept_dims = [d for d in DIMENSIONS if any(m.dimension == d for m in kept)]
    dropped = tuple(d for d in DIMENSIONS if d not in kept_dims)
    total = sum(clean[d] for d in kept_dims)
    if total <= 0:
        raise NoWeightLeft(
            f"all the weight is on dimensions left out for lack of data "
            f"({', '.join(dropped)}); give weight to {', '.join(kept_dims)}.")
    effective = {d: clean[d] * 100 / total for d in kept_dims}
    return ScoringPlan(kept, left_out, dropped, effective)


# --- percentile scores ---------------------------------------------------------------

def _codes_of(values, categories: Sequence[str]) -> np.ndarray:
    """Each value's position in `categories`, -1 for one outside them or missing. A
    categorical of exactly these categories (a tier column) gives its codes as they are."""
    if isinstance(values, pd.Series):
        values = values.array
    wanted = pd.Index(list(categories))
    if isinstance(values, pd.Categorical):   # recode through its categories, not per value
        if values.categories.equals(wanted):
            return values.codes
        return np.append(wanted.get_indexer(values.categories), -1)[values.codes]
    return wanted.get_indexer(np.asarray(values, dtype=object))


def _as_float_array(values) -> np.ndarray:
    if isinstance(values, pd.Series):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(values, dtype=float)


def _value_codes(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of x's distinct values in ascending order, and how many share each.

    x holds no NaN. Whole numbers and amounts in cents within a modest range
    (counts, days, flags, money) are coded by value and counted with
    bincount; anything else is factorised (hashing). Both are exact: equal
    floats share a code, different floats never do.
    """
    limit = 4 * x.size + 1024
    low, high = x.min(), x.max()
    for scale in (1, 100):
        if (high - low) * scale > limit:
            break
        scaled = np.rint(x * scale) if scale != 1 else np.floor(x)
        if np.array_equal(scaled / scale if scale != 1 else scaled, x):
            codes = (scaled - scaled.min()).astype(np.int64)
            return codes, np.bincount(codes)
    codes, uniques = pd.factorize(x, sort=True)
    return codes, np.bincount(codes, minlength=len(uniques))


def _rank_counts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each element of the NaN-free x: how many elements are ≤ it, and ≥ it."""
    if x.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    codes, per_value = _value_codes(x)
    at_most = np.cumsum(per_value)
    at_least = x.size - at_most + per_value
    return at_most[codes], at_least[codes]


def percentile_score(values, *, higher_is_better: bool = True) -> np.ndarray:
    """Score 0–100 by percentile rank among all customers (DESIGN §4.1).

    N = all customers (NaN included). Higher is better: a value x > 0 scores
    100 × (customers with a value ≤ x) / N, where a customer without a value
    counts as 0 and so as ≤ x: the best always scores 100, even when only
    some customers have data. 0, negative or NaN scores 0.
    Lower is better: a customer with a value x (0 included) scores
    100 × (customers with a value ≥ x + customers without a value) / N, one
    without a value scores 0. Ties share a score.
    """
    v = _as_float_array(values)
    n = len(v)
    out = np.zeros(n)
    if higher_is_better:
        positive = v > 0                          # NaN compares False
        not_above_zero = n - int(positive.sum())  # ≤ 0 or no value: ≤ any x > 0
        at_most, _ = _rank_counts(v[positive])
        out[positive] = 100.0 * (not_above_zero + at_most) / n
    else:
        known = ~np.isnan(v)
        missing = n - int(known.sum())
        _, at_least = _rank_counts(v[known])
        out[known] = 100.0 * (at_least + missing) / n
    return out


def sub_metric_scores(features: pd.DataFrame, *,
                      available: Mapping[str, bool] | None = None,
                      clv: pd.Series | None = None) -> pd.DataFrame:
    """The percentile score of every sub-metric, the part of scoring that no
    weight or threshold changes (cache it to re-score quickly).

    clv : optional 12-month CLV by customer_id (a Series indexed by
        customer_id); customers missing from it, or NaN, have no value and
        score 0. None (the default) leaves CLV out entirely.

    Returns
    -------
    DataFrame in the features' row order: customer_id and one
    `<sub-metric>_score` per SUB_METRICS entry, 0–100, NaN for a sub-metric
    left out (its source holds no value); with `clv`, also
    `clv_12m_score` (all NaN when no customer has a CLV).
    """
    kept = scoring_plan(DEFAULT_WEIGHTS, available).sub_metrics
    n = len(features)
    out = {"customer_id": features["customer_id"]}
    for m in SUB_METRICS:
        if m in kept:
            out[m.score_column] = percentile_score(features[m.column],
                                                   higher_is_better=m.higher_is_better)
        else:
            out[m.score_column] = np.full(n, np.nan)
    if clv is not None:
        values = _as_float_array(clv.reindex(features["customer_id"].to_numpy()))
        out[CLV_SUB_METRIC.score_column] = (percentile_score(values)
                                            if np.isfinite(values).any() else np.full(n, np.nan))
    return pd.DataFrame(out, index=features.index)


def assign_tiers(scores, thresholds: Sequence[float] = DEFAULT_THRESHOLDS) -> pd.Categorical:
    """'high' for score ≥ high, 'potential' for ≥ potential, else 'ordinary'."""
    high, potential = validate_thresholds(thresholds)
    s = _as_float_array(scores)
    # 2 (ordinary), less one at each threshold reached (potential ≤ high, so reaching high
    # means reaching both); a missing score reaches none. Twice as fast as nested wheres,
    # which this runs on every slider move.
    codes = np.full(len(s), 2, dtype=np.int8)
    codes -= s >= potential
    codes -= s >= high
    return pd.Categorical.from_codes(codes, categories=TIERS)


def combine_scores(sub_scores: pd.DataFrame, *,
                   weights: Mapping[str, float] = DEFAULT_WEIGHTS,
                   thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                   available: Mapping[str, bool] | None = None) -> pd.DataFrame:
    """Dimension scores, total and tier from `sub_metric_scores` (see `score_customers`).

    A `clv_12m_score` column in `sub_scores` (from `sub_metric_scores(clv=...)`)
    joins the consumption dimension unless it is all NaN.
    """
    plan = scoring_plan(weights, _with_clv_source(sub_scores, available),
                        clv=CLV_SUB_METRIC.score_column in sub_scores)
    validate_thresholds(thresholds)
    n = len(sub_scores)
    added: dict = {}
    total, weighted = np.zeros(n), np.empty(n)
    # In place where the arithmetic allows (the same operations in the same order): each
    # temporary array costs a pass over a million floats on every slider move.
    for d in DIMENSIONS:
        kept = [sub_scores[m.score_column].to_numpy() for m in plan.sub_metrics
                if m.dimension == d]
        if not kept:
            added[d] = np.full(n, np.nan)
            continue
        mean = sum(kept) / len(kept)
        added[d] = np.round(mean, SCORE_DECIMALS)
        total += np.multiply(mean, plan.weights[d], out=weighted)
    total /= 100
    added["score"] = np.round(total, SCORE_DECIMALS, out=total)
    added["tier"] = assign_tiers(added["score"], thresholds)
    # Joined, not set column by column: each column set on the sub-scores' frame copied
    # its block of floats again (0.07 s of a slider move at a million customers).
    kept = sub_scores.drop(columns=[c for c in added if c in sub_scores.columns])  # re-scored
    return pd.concat([kept, pd.DataFrame(added, index=sub_scores.index, copy=False)], axis=1)


def _with_clv_source(sub_scores: pd.DataFrame,
                     available: Mapping[str, bool] | None) -> Mapping[str, bool] | None:
    """`available` plus whether the CLV source holds a value, when CLV was scored."""
    column = CLV_SUB_METRIC.score_column
    if column not in sub_scores:
        return available
    return {**(available or {}), "clv": bool(sub_scores[column].notna().any())}


def score_customers(features: pd.DataFrame, *,
                    weights: Mapping[str, float] = DEFAULT_WEIGHTS,
                    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                    available: Mapping[str, bool] | None = None,
                    clv: pd.Series | None = None) -> pd.DataFrame:
    """Value score and tier of every customer (DESIGN §4.1, §4.2).

    Parameters
    ----------
    features : the feature table (reads customer_id and the columns of SUB_METRICS).
    weights : {dimension: weight}, ≥ 0, summing to 100.
    thresholds : (high, potential).
    available : {source: bool} from `optional_columns_present`; sub-metrics
        whose source holds no value are left out, and a dimension with none
        left is left out with the other weights rescaled to 100 (see
        `scoring_plan` for what was left out). None: every source present.
    clv : optional sub-metric, off by default (DESIGN §4.9): 12-month CLV
        by customer_id (`engine.clv`, clv_12m indexed by customer_id). When
        given, it is scored by percentile rank (no value scores 0) as
        `clv_12m_score` and joins the consumption mean; when every value is
        NaN (no spend model) it is left out like a source without data.

    Returns
    -------
    DataFrame in the features' row order, columns SCORE_COLUMNS:
    customer_id; one `<sub-metric>_score` per SUB_METRICS entry (0–100, NaN
    when left out); consumption, interaction, stability, referral (mean of
    the dimension's kept sub-metric scores, NaN for a left-out dimension);
    score (0–100, weighted by the effective weights); tier (categorical of
    TIERS). With `clv`, clv_12m_score follows the SUB_METRICS scores.
    Dimension scores and the score are rounded to SCORE_DECIMALS.
    """
    scoring_plan(weights, available)  # validate before the work
    validate_thresholds(thresholds)
    return combine_scores(sub_metric_scores(features, available=available, clv=clv),
                          weights=weights, thresholds=thresholds, available=available)


# --- RFM ---------------------------------------------------------------------------

def _quintile(counts: np.ndarray, buyers: int) -> np.ndarray:
    """⌈5 × counts / buyers⌉ in exact integer arithmetic."""
    return (5 * counts + buyers - 1) // buyers


def rfm(features: pd.DataFrame) -> pd.DataFrame:
    """R, F, M scores 1–5 and the segment of every customer (DESIGN §4.3).

    Buyers are customers with a purchase in the last 12 months
    (frequency_12m > 0). Among buyers: F = ⌈5 × (buyers with frequency_12m
    ≤ x) / buyers⌉, M likewise on monetary_12m, R reversed on
    recency_days_12m (buyers with ≥ x days). FM = mean of F and M rounded
    half up; the segment comes from RFM_GRID[R][FM]. Non-buyers have empty
    R, F, M, FM and the segment 'lost'.

    Returns
    -------
    DataFrame in the features' row order: customer_id, r, f, m, fm (Int64,
    NA for non-buyers), rfm_segment (categorical of RFM_SEGMENTS).
    """
    n = len(features)
    frequency = _as_float_array(features["frequency_12m"])
    buyer = np.nan_to_num(frequency) > 0
    b = int(buyer.sum())
    r = np.zeros(n, dtype=np.int64)
    f = np.zeros(n, dtype=np.int64)
    m = np.zeros(n, dtype=np.int64)
    if b:
        _, at_least = _rank_counts(_as_float_array(features["recency_days_12m"])[buyer])
        r[buyer] = _quintile(at_least, b)
        at_most, _ = _rank_counts(frequency[buyer])
        f[buyer] = _quintile(at_most, b)
        at_most, _ = _rank_counts(_as_float_array(features["monetary_12m"])[buyer])
        m[buyer] = _quintile(at_most, b)
    fm = (f + m + 1) // 2
    code = {name: i for i, name in enumerate(RFM_SEGMENTS)}
    lost = code[NON_BUYER_SEGMENT]
    grid = np.array([[lost] * 6] + [[lost, *(code[s] for s in RFM_GRID[i])] for i in range(1, 6)],
                    dtype=np.int8)
    segment = pd.Categorical.from_codes(grid[r, fm], categories=RFM_SEGMENTS)
    # row and column 0 of the grid (non-buyers) hold 'lost'

    return pd.DataFrame({"customer_id": features["customer_id"],
                         "r": _masked(r, buyer), "f": _masked(f, buyer),
                         "m": _masked(m, buyer), "fm": _masked(fm, buyer),
                         "rfm_segment": segment}, index=features.index)


def _masked(values: np.ndarray, keep: np.ndarray) -> pd.arrays.IntegerArray:
    return pd.arrays.IntegerArray(values.astype(np.int64), ~keep)


# --- pyramid and Pareto ------------------------------------------------------------

def pyramid(features: pd.DataFrame, *,
            cutoffs: Sequence[float] = DEFAULT_PYRAMID_CUTOFFS) -> pd.DataFrame:
    """The customer pyramid by 12-month revenue (DESIGN §4.2).

    Customers are ranked by revenue_12m, highest first, ties sharing the
    better rank (rank = 1 + customers with more revenue). With N = all
    customers, rank / N ≤ 5 % is platinum, ≤ 20 % gold, ≤ 80 % iron, the
    rest lead; revenue ≤ 0 is always lead. `cutoffs` are the three percents.

    Returns
    -------
    DataFrame in the features' row order: customer_id, revenue_12m,
    revenue_rank (int64), pyramid (categorical of PYRAMID_LEVELS).
    """
    if len(cutoffs) != 3 or not 0 <= cutoffs[0] <= cutoffs[1] <= cutoffs[2] <= 100:
        raise ValueError(f"pyramid cutoffs must be three percents, rising, between 0 and "
                         f"100 (platinum, gold, iron), got {tuple(cutoffs)!r}.")
    revenue = np.nan_to_num(_as_float_array(features["revenue_12m"]))
    n = len(revenue)
    at_most, _ = _rank_counts(revenue)
    rank = n - at_most + 1
    level = np.full(n, 3)
    for i, pct in reversed(list(enumerate(cutoffs))):
        # rank / n ≤ pct / 100, exactly: rank × 100 × den ≤ num × n
        p = Fraction(pct).limit_denominator(10_000)
        level = np.where(rank * 100 * p.denominator <= p.numerator * n, i, level)
    level = np.where(revenue > 0, level, 3)
    return pd.DataFrame({"customer_id": features["customer_id"],
                         "revenue_12m": revenue, "revenue_rank": rank.astype(np.int64),
                         "pyramid": pd.Categorical.from_codes(level.astype(np.int8),
                                                              categories=PYRAMID_LEVELS)},
                        index=features.index)


@dataclass(frozen=True)
class Pareto:
    """The Pareto view of 12-month revenue.

    curve: customers sorted by revenue_12m, highest first, from the origin:
        customers (k), customer_share (k / all customers), revenue
        (cumulative, a customer whose refunds outweigh the purchases counting
        0) and revenue_share (cumulative / the revenue of the customers who
        brought any, so it never passes 100 %; NaN when nobody did).
    share: the revenue share asked about (0.8).
    customers: the fewest top customers whose revenue reaches `share` of the
        revenue of the customers who brought any (None when nobody did).
    customer_share: customers / all customers (None likewise).
    total_revenue: the net 12-month revenue of all customers.
    """
    curve: pd.DataFrame
    share: float
    customers: int | None
    customer_share: float | None
    total_revenue: float


def pareto(features: pd.DataFrame, *, share: float = DEFAULT_PARETO_SHARE,
           points: int | None = None) -> Pareto:
    """Share of customers that make `share` of the 12-month revenue.

    Revenue is summed in cents as integers, so "reaches 80 %" is exact. A
    customer with net refunds makes none of the revenue: counted as 0, not
    below, so the top customers' share cannot rise over 100 % (the net total
    is smaller than the top customers' revenue) and fall back.
    `points` thins the curve to about that many evenly spaced customers
    (the first and last kept) for drawing; None keeps every customer.
    """
    if not 0 < share <= 1:
        raise ValueError(f"share must be a fraction above 0 and at most 1, got {share!r}.")
    net = np.rint(np.nan_to_num(_as_float_array(features["revenue_12m"])) * 100).astype(np.int64)
    cents = np.sort(np.maximum(net, 0))[::-1]
    n = len(cents)
    cumulative = np.concatenate([[0], np.cumsum(cents)])
    total = int(cumulative[-1])
    k = None
    if total > 0:
        p = Fraction(share).limit_denominator(10_000)
        reached = cumulative * p.denominator >= total * p.numerator
        k = int(np.argmax(reached))
    customers = np.arange(n + 1)
    curve = pd.DataFrame({
        "customers": customers,
        "customer_share": customers / n if n else np.zeros(1),
        "revenue": cumulative / 100,
        "revenue_share": cumulative / total if total > 0 else np.full(n + 1, np.nan),
    })
    if points is not None and n + 1 > points:
        keep = np.unique(np.linspace(0, n, max(points, 2)).round().astype(np.int64))
        curve = curve.iloc[keep].reset_index(drop=True)
    return Pareto(curve, share, k, (k / n) if k is not None else None, int(net.sum()) / 100)


# --- summaries the pages draw ------------------------------------------------------

def rebalance_weights(weights: Mapping[str, float], dimension: str,
                      value: float) -> dict[str, int]:
    """Whole-number weights summing to 100 after one dimension is set to `value`.

    The other dimensions share the rest (100 − value) in proportion to their
    current weights, or equally when they are all 0. Shares are rounded by
    largest remainder (a tie goes to the dimension listed first in
    DIMENSIONS), so the total is exactly 100. `value` is rounded and clamped
    to 0–100; a weight missing from `weights` counts as 0.
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {', '.join(DIMENSIONS)}, got {dimension!r}.")
    value = int(round(min(max(_number(value, f"the weight of {dimension}"), 0), 100)))
    others = [d for d in DIMENSIONS if d != dimension]
    current = [Fraction(max(_number(weights.get(d, 0), f"the weight of {d}"), 0))
               for d in others]
    rest, base = 100 - value, sum(current)
    ideal = ([rest * w / base for w in current] if base > 0
             else [Fraction(rest, len(others))] * len(others))
    shares = [math.floor(x) for x in ideal]
    order = sorted(range(len(others)), key=lambda i: (shares[i] - ideal[i], i))
    for i in order[:rest - sum(shares)]:
        shares[i] += 1
    result = dict(zip(others, shares)) | {dimension: value}
    return {d: result[d] for d in DIMENSIONS}


def category_mix(codes, revenue, *, categories: Sequence[str]) -> pd.DataFrame:
    """Customers and revenue per category (tier, segment, level), in `categories` order.

    codes : one code per customer (a value outside `categories`, or NA, is not counted).
    revenue : the customers' revenue, same length (NaN counts as 0).

    Returns
    -------
    DataFrame with one row per category: key, customers (int64),
    customer_share (of all customers given), revenue, revenue_share (of
    the total revenue; NaN when the total is not positive).
    """
    # Codes shifted by one, so that what is not counted falls in a slot of its own, dropped
    # after: no mask to pick the counted rows (this runs twice per slider move).
    slot = _codes_of(codes, categories).astype(np.intp) + 1
    money = np.nan_to_num(_as_float_array(revenue))
    k = len(categories)
    customers = np.bincount(slot, minlength=k + 1)[1:]
    total_revenue = np.bincount(slot, weights=money, minlength=k + 1)[1:]
    n, total = len(slot), float(money.sum())
    return pd.DataFrame({
        "key": list(categories),
        "customers": customers.astype(np.int64),
        "customer_share": customers / n if n else np.zeros(k),
        "revenue": total_revenue,
        "revenue_share": total_revenue / total if total > 0 else np.full(k, np.nan),
    })


def score_histogram(scores, tiers, *, bins: int = 20) -> pd.DataFrame:
    """Customers per score band and tier, for a stacked histogram.

    The 0–100 range is cut into `bins` equal bands, each holding its lower
    edge (the last also holds 100).

    Returns
    -------
    DataFrame of bins × TIERS rows: bin_start, bin_end, tier, customers (int64).
    """
    s = np.clip(np.nan_to_num(_as_float_array(scores)), 0, 100)
    width = 100 / bins
    # floor(s / width), not s // width: the same band for a width of 5 (exact in binary, so
    # a division cannot round across a band's edge), and a tenth of the time (fmod).
    band = np.minimum(np.floor(s / width).astype(np.intp), bins - 1)
    k = len(TIERS)
    # A customer without a tier lands in slot 0 of its band, dropped after (see category_mix).
    slot = band * (k + 1) + (_codes_of(tiers, TIERS).astype(np.intp) + 1)
    counts = np.bincount(slot, minlength=bins * (k + 1)).reshape(bins, k + 1)[:, 1:].ravel()
    starts = np.arange(bins) * width
    return pd.DataFrame({
        "bin_start": np.repeat(starts, len(TIERS)),
        "bin_end": np.repeat(starts + width, len(TIERS)),
        "tier": np.tile(TIERS, bins),
        "customers": counts.astype(np.int64),
    })


@dataclass(frozen=True)
class TierMoves:
    """Customers whose tier differs between two scorings of the same customers.

    movers: customer_id, tier_before, tier_after, score_before, score_after,
        direction ('up' towards high, 'down' towards ordinary); ups first,
        then downs, each by the largest score change first.
    up, down: how many moved each way.
    """
    movers: pd.DataFrame
    up: int
    down: int


def tier_moves(before: pd.DataFrame, after: pd.DataFrame, *,
               carry: pd.DataFrame | None = None, rows: int | None = None) -> TierMoves:
    """Who changes tier from `before` to `after` (both from `score_customers`).

    Both frames hold the same customers in the same order (as two scorings
    of one feature table do); a ValueError says so otherwise. `carry`: more
    columns in that row order (such as the name) to show beside each mover.
    With `rows`, `movers` holds only the first `rows` of them (`up` and `down`
    still count all): a slider step at a million customers moves tens of
    thousands, more than a page shows or should send on every step.
    """
    tier_before, tier_after = _tiers_of_both(before, after)
    moved = tier_before.codes != tier_after.codes
    ids = before["customer_id"].array
    movers = pd.DataFrame({
        "customer_id": ids[moved],
        **({} if carry is None else {c: carry[c].array[moved] for c in carry}),
        "tier_before": tier_before[moved],
        "tier_after": tier_after[moved],
        "score_before": before["score"].to_numpy()[moved],
        "score_after": after["score"].to_numpy()[moved],
        "direction": np.where(tier_after.codes[moved] < tier_before.codes[moved], "up", "down"),
    })
    movers["_change"] = (movers["score_after"] - movers["score_before"]).abs()
    movers = (movers.sort_values(["direction", "_change", "customer_id"],
                                 ascending=[False, False, True])
              .drop(columns="_change").reset_index(drop=True))
    up = int((movers["direction"] == "up").sum())
    return TierMoves(movers.head(rows), up, len(movers) - up)


def tier_move_counts(before: pd.DataFrame, after: pd.DataFrame) -> tuple[int, int]:
    """(up, down): how many customers `tier_moves` counts each way, without listing them.
    The Scoring page's sentence needs only these; listing and sorting the movers takes
    longer than scoring at a million customers, so the page sends the sentence first."""
    tier_before, tier_after = _tiers_of_both(before, after)
    up = int(np.count_nonzero(tier_after.codes < tier_before.codes))
    return up, int(np.count_nonzero(tier_after.codes > tier_before.codes))


def _tiers_of_both(before: pd.DataFrame, after: pd.DataFrame) -> tuple:
    """Both scorings' tiers, after checking they hold the same customers in the same order.
    The ids are compared in their own array type, never turned into a million Python
    strings: this runs on every slider move."""
    ids = before["customer_id"].array
    if len(ids) != len(after) or not bool((ids == after["customer_id"].array).all()):
        raise ValueError("both scorings must hold the same customers in the same order.")
    return (pd.Categorical(before["tier"], categories=TIERS),
            pd.Categorical(after["tier"], categories=TIERS))


def rfm_grid(rfm_frame: pd.DataFrame, revenue) -> pd.DataFrame:
    """Buyers and their revenue in each R × F cell, all 25 cells.

    rfm_frame : the output of `rfm`; revenue: one value per row of it.

    Returns
    -------
    DataFrame of 25 rows, R from 5 down to 1 and F from 1 to 5: r, f,
    customers (int64), revenue (their summed `revenue`). Non-buyers are
    not counted.
    """
    r = rfm_frame["r"].to_numpy(dtype=float, na_value=np.nan)
    f = rfm_frame["f"].to_numpy(dtype=float, na_value=np.nan)
    buyer = ~np.isnan(r) & ~np.isnan(f)
    cell = ((5 - r[buyer]) * 5 + (f[buyer] - 1)).astype(np.int64)
    money = np.nan_to_num(_as_float_array(revenue))[buyer]
    return pd.DataFrame({
        "r": np.repeat(np.arange(5, 0, -1), 5),
        "f": np.tile(np.arange(1, 6), 5),
        "customers": np.bincount(cell, minlength=25).astype(np.int64),
        "revenue": np.bincount(cell, weights=money, minlength=25),
    })
