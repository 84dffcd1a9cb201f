"""Demand tags, churn risk with its reasons, and lifecycle stages (DESIGN §4.4–4.6).

Everything here reads the per-customer feature table of
`engine.features.customer` (one row per customer, as of a date T) and never
the raw events, so it is the same whatever engine computed the features.
The rules are vectorised with numpy: a million customers take well under a
second (see the benchmark), and no function loops over rows.

Every threshold is a field of `RiskRules`, declared once with DESIGN's
defaults. Codes are the English words of DESIGN §4 (`dormant`, `high`,
`at_risk`, ...); the UI shows them through `i18n.label("demand" | "risk" |
"lifecycle", code, lang)`.

Reasons are data, not text: `assess` returns them as columns (one group of
columns per reason code, <NA> where the reason does not hold), `reason_list`
turns one customer's row into ``[(code, params), ...]``, and
`render_reasons` / `reasons_text` write them in 中文 or English through the
catalogue (`engine/locales/risk.json`).
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date
from typing import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine import i18n, store
from engine.features.customer import customer_features, event_history
from engine.months import month_ends, shift_month

DEMAND_TAGS = ("dormant", "active", "potential", "general")
RISK_LEVELS = ("high", "medium", "low")
LIFECYCLE_STAGES = ("prospect", "churned", "at_risk", "new", "loyal", "active")


@dataclass(frozen=True)
class RiskRules:
    """The numbers of DESIGN §4.4–4.6; every one is a setting.

    The windows of the counts (spend in the last and previous 90 days,
    complaints in 90 days, interactions in 30 days, purchase months in the
    last 12 months) are those of the feature table; the day counts below
    are measured here from the feature table's dates.
    """
    dormant_days: int = 90              # dormant: no transaction or interaction for >= this many days
    active_interactions_30d: int = 2    # active: at least this many interactions in 30 days
    high_spend_fall: float = 0.50       # high risk: spend fell by at least this share ...
    high_complaints: int = 2            # ... or at least this many complaints in 90 days
    medium_spend_fall: float = 0.25     # medium risk: spend fell by at least this share ...
    medium_complaints: int = 1          # ... or at least this many complaints ...
    gap_multiple: float = 2.0           # ... or days since last purchase > this × median gap
    gap_min_purchase_days: int = 2      # (the gap rule needs this many purchase days)
    churned_after_days: int = 180       # churned: last purchase more than this many days ago
    at_risk_from_days: int = 90         # at risk: last purchase this many days ago up to churned_after_days
    new_within_days: int = 90           # new: first purchase fewer than this many days ago
    loyal_tenure_days: int = 365        # loyal: tenure of at least this many days ...
    loyal_months_12m: int = 6           # ... and purchases in at least this many of the last 12 months


DEFAULT_RULES = RiskRules()

# Reasons as data: code -> {param: column of `assess`}. A reason holds where
# its first column is not <NA>. `complaints` has a singular text for n == 1.
REASONS: dict[str, dict[str, str]] = {
    "spend_fall": {"pct": "reason_spend_fall_pct"},
    "complaints": {"n": "reason_complaints"},
    "purchase_gap": {"days": "reason_gap_days", "gap": "reason_gap_median"},
}
SINGULAR = {"complaints": "n"}
REASON_COLUMNS = tuple(c for params in REASONS.values() for c in params.values())

_FORMATTER = string.Formatter()
_STR = pd.StringDtype("pyarrow", na_value=np.nan)   # pandas' default "str" dtype

# Fractions are compared with this tolerance, so a fall of exactly 50 % that
# floating point computes as 0.49999999999999994 still counts as 50 %.
_EPS = 1e-9

ASSESS_COLUMNS = ("customer_id", "demand_tag", "risk_level", "lifecycle", "spend_fall",
                  *REASON_COLUMNS)


def days_since(values, as_of: date) -> np.ndarray:
    """Whole days from each date to `as_of` as floats, NaN where there is no date."""
    dates = pd.to_datetime(pd.Series(values)).to_numpy(dtype="datetime64[D]")
    days = (np.datetime64(as_of, "D") - dates).astype("float64")
    days[np.isnat(dates)] = np.nan
    return days


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A feature column as float64, NaN for missing values."""
    return pd.to_numeric(frame[column]).to_numpy(dtype="float64", na_value=np.nan)


def spend_fall(features: pd.DataFrame) -> np.ndarray:
    """(previous − last) / previous 90-day spend, NaN where previous ≤ 0.

    Negative values are rises. A fall to nothing is 1.0, and so is a fall
    below nothing (refunds exceeding purchases): the fall is at most 100 %.
    """
    prev = _numbers(features, "spend_prev_90d")
    last = np.maximum(_numbers(features, "spend_90d"), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(prev > 0, (prev - last) / prev, np.nan)


def first_match(conditions: list[np.ndarray], codes: tuple[str, ...]) -> pd.Categorical:
    """The code of the first condition that holds, else the last code (the default).

    A Categorical with `codes` as its categories, in that order.
    """
    index = np.select(conditions, np.arange(len(conditions)), default=len(conditions))
    return pd.Categorical.from_codes(index.astype("int8"), categories=list(codes))


def demand_tags(features: pd.DataFrame, *, as_of: date,
                rules: RiskRules = DEFAULT_RULES) -> pd.Categorical:
    """DESIGN §4.4, first match wins: dormant, active, potential, general.

    Reads last_txn_date, last_interaction_date, interactions_30d,
    last_consultation_date, last_purchase_date.
    """
    since_txn = days_since(features["last_txn_date"], as_of)
    since_interaction = days_since(features["last_interaction_date"], as_of)
    recent = (since_txn < rules.dormant_days) | (since_interaction < rules.dormant_days)
    consulted = pd.to_datetime(features["last_consultation_date"]).to_numpy()
    bought = pd.to_datetime(features["last_purchase_date"]).to_numpy()
    # NaT compares False, so "no purchase" must be tested on its own
    no_later_purchase = np.isnat(bought) | ~(bought > consulted)
    return first_match(
        [~recent,
         _numbers(features, "interactions_30d") >= rules.active_interactions_30d,
         ~np.isnat(consulted) & no_later_purchase], DEMAND_TAGS)


def risk_levels(features: pd.DataFrame, *, rules: RiskRules = DEFAULT_RULES
                ) -> tuple[pd.Categorical, pd.DataFrame]:
    """DESIGN §4.5: the level and the reason columns of every customer.

    Returns (levels, reasons): levels `high` / `medium` / `low`; reasons has
    REASON_COLUMNS, <NA> where that reason does not hold:
    reason_spend_fall_pct (the fall in whole percent, rounded down so it
    never shows a threshold that was not reached), reason_complaints (the
    complaints in 90 days), reason_gap_days and reason_gap_median (days
    since the last purchase and the median gap between purchase days).
    """
    fall = spend_fall(features)
    complaints = _numbers(features, "complaints_90d")
    since = _numbers(features, "days_since_last_purchase")
    gap = _numbers(features, "median_gap_days")
    purchase_days = _numbers(features, "purchase_days")

    fall_high = fall >= rules.high_spend_fall - _EPS
    fall_medium = fall >= rules.medium_spend_fall - _EPS
    complaints_high = complaints >= rules.high_complaints
    complaints_medium = complaints >= rules.medium_complaints
    slow = (purchase_days >= rules.gap_min_purchase_days) & (since > rules.gap_multiple * gap)
    levels = first_match([fall_high | complaints_high, fall_medium | complaints_medium | slow],
                         RISK_LEVELS)

    def where(mask, values, dtype):
        return pd.array(np.where(mask, values, np.nan), dtype=dtype)

    with np.errstate(invalid="ignore"):
        pct = np.floor(np.where(fall_medium, fall, np.nan) * 100 + 100 * _EPS)
    reasons = pd.DataFrame({
        "reason_spend_fall_pct": where(fall_medium, pct, "Int64"),
        "reason_complaints": where(complaints_medium, complaints, "Int64"),
        "reason_gap_days": where(slow, since, "Int64"),
        "reason_gap_median": where(slow, gap, "Float64"),
    }, index=features.index)
    return levels, reasons


def lifecycle_stages(features: pd.DataFrame, risk, *, as_of: date,
                     rules: RiskRules = DEFAULT_RULES) -> pd.Categorical:
    """DESIGN §4.6, first match wins: prospect, churned, at_risk, new, loyal, active.

    `risk` holds the customers' risk levels (from `risk_levels`). Reads
    last_purchase_date, days_since_last_purchase, first_purchase_date,
    tenure_days, purchase_months_12m.
    """
    since_last = days_since(features["last_purchase_date"], as_of)
    since_first = days_since(features["first_purchase_date"], as_of)
    return first_match(
        [np.isnan(since_last),
         since_last > rules.churned_after_days,
         (since_last >= rules.at_risk_from_days) | np.asarray(risk == "high"),
         since_first < rules.new_within_days,
         (_numbers(features, "tenure_days") >= rules.loyal_tenure_days)
         & (_numbers(features, "purchase_months_12m") >= rules.loyal_months_12m)],
        LIFECYCLE_STAGES)


def assess(features: pd.DataFrame, *, as_of: date, rules: RiskRules = DEFAULT_RULES
           ) -> pd.DataFrame:
    """Demand tag, churn risk with its reasons, and lifecycle of every customer as of T.

    Parameters
    ----------
    features : the feature table of `engine.features.customer.customer_features`
        as of `as_of`; reads customer_id, last_txn_date, last_interaction_date,
        interactions_30d, last_consultation_date, last_purchase_date,
        first_purchase_date, spend_90d, spend_prev_90d, complaints_90d,
        purchase_days, median_gap_days, days_since_last_purchase, tenure_days,
        purchase_months_12m.
    as_of : the date T the features were computed for.

    Returns
    -------
    DataFrame in the features' row order, columns ASSESS_COLUMNS:
    customer_id, demand_tag, risk_level, lifecycle (Categoricals whose
    categories are DEMAND_TAGS, RISK_LEVELS, LIFECYCLE_STAGES in that
    order; they compare with == "high" like strings), spend_fall (fraction,
    NaN where the previous 90 days had no positive spend) and the reason
    columns of `risk_levels`.
    """
    levels, reasons = risk_levels(features, rules=rules)
    out = pd.DataFrame({
        "customer_id": features["customer_id"].array,
        "demand_tag": demand_tags(features, as_of=as_of, rules=rules),
        "risk_level": levels,
        "lifecycle": lifecycle_stages(features, levels, as_of=as_of, rules=rules),
        "spend_fall": spend_fall(features),
    }, index=features.index)
    return pd.concat([out, reasons], axis=1).reset_index(drop=True)


# --- reasons in words -------------------------------------------------------

def reason_list(row: Mapping) -> list[tuple[str, dict]]:
    """One customer's reasons as [(code, params), ...] in REASONS order.

    `row` is a row of `assess` (a Series or a dict). Example:
    [("spend_fall", {"pct": 62}), ("complaints", {"n": 2})].
    """
    reasons = []
    for code, params in REASONS.items():
        values = {name: row[column] for name, column in params.items()}
        if not pd.isna(next(iter(values.values()))):
            reasons.append((code, {k: _plain(v) for k, v in values.items()}))
    return reasons


def _plain(value):
    """A number as a Python int when whole, else a float (for JSON and for text)."""
    value = float(value)
    return int(value) if value.is_integer() else round(value, 1)


def reason_key(code: str, params: Mapping) -> str:
    """The catalogue key of a reason's text."""
    singular = SINGULAR.get(code)
    if singular and params.get(singular) == 1:
        return f"risk.reason.{code}_one"
    return f"risk.reason.{code}"


def render_reasons(reasons, lang: str = "en") -> str:
    """[(code, params), ...] as one line: "spend −62 % vs previous 90 days; 2 complaints"."""
    sep = i18n.t("risk.reason.separator", lang)
    return sep.join(i18n.t(reason_key(code, params), lang, **params) for code, params in reasons)


def reasons_text(assessed: pd.DataFrame, lang: str = "en") -> pd.Series:
    """The reasons of every row of `assess` in words ("" for none), without a row loop.

    Each distinct value of a reason's parameter is worded once; the pieces
    are joined as whole Arrow arrays, so a million customers take about a
    second.
    """
    sep = i18n.t("risk.reason.separator", lang)
    text = None
    for code, params in REASONS.items():
        part = _reason_words(assessed, code, params, lang)
        if text is None:
            text = part
        else:   # (binary_join's null_handling="skip" drops all-null rows: join by hand)
            both = pc.and_(pc.is_valid(text), pc.is_valid(part))
            text = pc.if_else(both, pc.binary_join_element_wise(text, part, sep),
                              pc.coalesce(text, part))
    text = pc.fill_null(text, "")
    return pd.Series(text, index=assessed.index, name="risk_reasons", dtype=_STR)


def _reason_words(assessed, code, params, lang) -> pa.Array:
    """One reason's words for every row (null where it does not hold)."""
    values = {name: assessed[column].to_numpy(dtype="float64", na_value=np.nan)
              for name, column in params.items()}
    holds = ~np.isnan(next(iter(values.values())))
    groups = [(holds, f"risk.reason.{code}")]
    if code in SINGULAR:
        one = holds & (values[SINGULAR[code]] == 1)
        groups = [(holds & ~one, f"risk.reason.{code}"), (one, f"risk.reason.{code}_one")]
    out = pa.nulls(len(assessed), pa.string())
    for mask, key in groups:
        if mask.any():
            template = i18n.catalogue()[key][lang]
            words = _fill(template, {name: v[mask] for name, v in values.items()})
            out = pc.replace_with_mask(out, pa.array(mask), words)
    return out


def _fill(template: str, values: dict[str, np.ndarray]) -> pa.Array:
    """`template` filled row by row from `values`, formatting each distinct value once.

    The template is cut into fields, each with the literal text before it
    (the text after the last field goes with that field); each field's
    column is worded through its distinct values and the pieces are joined
    as whole Arrow arrays, so the cost does not grow with combinations.
    """
    n = len(next(iter(values.values())))
    fields = []                                  # [literal before, name, spec, conversion]
    tail = ""
    for literal, name, spec, conversion in _FORMATTER.parse(template):
        if name is None:
            tail = literal
        else:
            fields.append([literal, name, spec or "", conversion])
    if not fields:
        return pa.array([tail] * n, pa.string())
    pieces = []
    for i, (before, name, spec, conversion) in enumerate(fields):
        after = tail if i == len(fields) - 1 else ""
        codes, uniques = pd.factorize(values[name])
        words = [before + _FORMATTER.format_field(
            _FORMATTER.convert_field(_plain(u), conversion), spec) + after for u in uniques]
        pieces.append(pa.array(words, pa.string()).take(pa.array(codes)))
    return pieces[0] if len(pieces) == 1 else pc.binary_join_element_wise(*pieces, "")


# --- summaries for the Risk page --------------------------------------------

def counts(assessed: pd.DataFrame, column: str) -> pd.Series:
    """Customers per code of `column` (demand_tag, risk_level or lifecycle), every code shown."""
    order = {"demand_tag": DEMAND_TAGS, "risk_level": RISK_LEVELS,
             "lifecycle": LIFECYCLE_STAGES}[column]
    return assessed[column].value_counts().reindex(order, fill_value=0).rename("customers")


def risk_by_demand(assessed: pd.DataFrame) -> pd.DataFrame:
    """Customers by risk level (rows: high, medium, low) and demand tag (columns)."""
    table = pd.crosstab(assessed["risk_level"], assessed["demand_tag"])
    return table.reindex(index=list(RISK_LEVELS), columns=list(DEMAND_TAGS), fill_value=0)


def value_at_risk(features: pd.DataFrame, assessed: pd.DataFrame) -> dict:
    """12-month revenue of high-risk customers.

    Returns {"customers": high-risk customers, "revenue_12m": their revenue
    of the last 12 months, "share": that revenue over the revenue of all
    customers (None when the total is not positive)}. `assessed` comes from
    `assess(features, ...)` (same rows, same order).
    """
    revenue = _numbers(features, "revenue_12m")
    high = (assessed["risk_level"] == "high").to_numpy()
    total, at_risk = float(np.nansum(revenue)), float(np.nansum(revenue[high]))
    return {"customers": int(high.sum()), "revenue_12m": at_risk,
            "share": at_risk / total if total > 0 else None}


def flagged_by_month(source, *, as_of: date, months: int = 12,
                     rules: RiskRules = DEFAULT_RULES) -> pd.DataFrame:
    """Risk and dormancy counts at each month end over `months` months up to T.

    `source` is a connection or a database path (`store.session`: with a
    path the file is opened once per month end, not for the whole job).

    One snapshot per month end before T and one at T itself (the current,
    possibly partial month), each over the customers known by then.
    Columns: month ("YYYY-MM"), as_of (the snapshot date), customers, high,
    medium, low, dormant, value_at_risk (12-month revenue of the high-risk
    customers).
    """
    first = shift_month(as_of, 1 - months)
    dates = [d for d in month_ends(first, as_of) if d < as_of] + [as_of]
    with store.session(source) as con:
        history = event_history(con)   # once for every month end
    rows = []
    for day in dates:
        with store.session(source) as con:
            features = customer_features(con, as_of=day, history=history)
        assessed = assess(features, as_of=day, rules=rules)
        levels = counts(assessed, "risk_level")
        rows.append({"month": day.strftime("%Y-%m"), "as_of": day,
                     "customers": len(assessed), **levels.to_dict(),
                     "dormant": int((assessed["demand_tag"] == "dormant").sum()),
                     "value_at_risk": value_at_risk(features, assessed)["revenue_12m"]})
    return pd.DataFrame(rows, columns=["month", "as_of", "customers", *RISK_LEVELS,
                                       "dormant", "value_at_risk"])
