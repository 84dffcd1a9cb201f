"""Finding customers and looking at one (客户档案, DESIGN §1 and §4.1–4.3).

The customer list: `customer_table` puts every lens of the scoring issue
side by side (one row per customer), `filter_options` and `filter_customers`
narrow it down. One customer: `customer_record` and `customer_events` read
the raw rows up to T with bound parameters, `score_breakdown` explains the
score, and `tier_history` gives the tier at the last 12 month ends from
`month_end_sub_scores` (the feature query at each date, scored once for all
customers, so any customer and any weights reuse them).
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from engine import scoring
from engine.features import orders, past
from engine.features.customer import EventHistory
from engine.words import id_and_name

# --- the customer list -------------------------------------------------------------

LIST_COLUMNS = ("customer_id", "name", "tier", "score", *scoring.DIMENSIONS, "rfm_segment",
                "r", "f", "m", "pyramid", "revenue_12m", "last_purchase_date",
                "customer_type", "region", "source", "owner")
# filter name -> column of the customer table
FILTER_COLUMNS = {"tiers": "tier", "rfm_segments": "rfm_segment", "pyramid": "pyramid",
                  "regions": "region", "sources": "source", "owners": "owner",
                  "customer_types": "customer_type"}


def customer_table(features: pd.DataFrame, scores: pd.DataFrame, rfm: pd.DataFrame,
                   pyramid: pd.DataFrame) -> pd.DataFrame:
    """One row per customer with score, tier, RFM, pyramid and master data.

    All four inputs are in the feature table's row order (as
    `scoring.score_customers`, `scoring.rfm` and `scoring.pyramid` return
    them).

    Returns
    -------
    DataFrame with LIST_COLUMNS in the features' order: customer_id, name,
    tier, score, the four dimension scores, rfm_segment, r, f, m, pyramid,
    revenue_12m, last_purchase_date, customer_type, region, source, owner.
    """
    table = pd.DataFrame({
        **{c: features[c] for c in ("customer_id", "name")},
        **{c: scores[c] for c in ("tier", "score", *scoring.DIMENSIONS)},
        **{c: rfm[c] for c in ("rfm_segment", "r", "f", "m")},
        "pyramid": pyramid["pyramid"], "revenue_12m": pyramid["revenue_12m"],
        **{c: features[c] for c in ("last_purchase_date", "customer_type", "region",
                                    "source", "owner")},
    }, index=features.index)
    return table.reset_index(drop=True)


def filter_options(table: pd.DataFrame) -> dict[str, list]:
    """For each filter of FILTER_COLUMNS, the values to offer: codes in their
    defined order (tiers, segments, levels), other columns' distinct
    non-empty values sorted."""
    options = {}
    for name, column in FILTER_COLUMNS.items():
        values = table[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            options[name] = list(values.cat.categories)
        else:
            options[name] = sorted(v for v in values.dropna().unique() if v != "")
    return options


def filter_customers(table: pd.DataFrame, *, search: str = "",
                     **filters: Sequence[str] | None) -> pd.DataFrame:
    """The customers matching every filter, best score first.

    filters : keyword arguments named after FILTER_COLUMNS (tiers,
        rfm_segments, pyramid, regions, sources, owners, customer_types),
        each a collection of allowed values; None or empty allows all.
    search : text found, ignoring case, in the customer id or the name; typed in full
        width (Ｃ００１, a Chinese input method's full-width mode) it also finds the ASCII
        the import stores ids in (C001).

    Returns
    -------
    The matching rows of `table`, sorted by score (highest first), then
    customer_id, with a fresh index.
    """
    unknown = sorted(set(filters) - set(FILTER_COLUMNS))
    if unknown:
        raise ValueError(f"unknown filter(s) {', '.join(unknown)}; "
                         f"use {', '.join(FILTER_COLUMNS)}.")
    keep = np.ones(len(table), dtype=bool)
    for name, allowed in filters.items():
        if allowed:
            keep &= table[FILTER_COLUMNS[name]].isin(list(allowed)).to_numpy()
    texts = {search.strip().casefold(), unicodedata.normalize("NFKC", search).strip().casefold()}
    if "" not in texts:
        ids, names = (table[c].astype("string").str.casefold() for c in ("customer_id", "name"))
        found = np.zeros(len(table), dtype=bool)
        for text in texts:
            found |= (ids.str.contains(text, regex=False) | names.str.contains(text, regex=False)
                      ).fillna(False).to_numpy(dtype=bool)
        keep &= found
    return (table[keep].sort_values(["score", "customer_id"], ascending=[False, True])
            .reset_index(drop=True))



def customer_choices(table: pd.DataFrame, search: str, limit: int = 100) -> dict[str, str]:
    """{customer_id: "id · name"} of up to `limit` customers of the customer table matching
    `search` (filter_customers), best score first: the profile's picker.

    Without a search only the customers scoring at least the `limit`-th best score
    (ties kept) are sorted, not a million of them.
    """
    if not search.strip():
        best = table["score"].nlargest(limit, keep="all").index
        if len(best) >= limit:
            table = table.loc[best]
    found = filter_customers(table, search=search).head(limit)
    return dict(zip(found["customer_id"], id_and_name(found)))

# --- one customer's rows -----------------------------------------------------------

RECORD_SQL = """
SELECT customer_id, name, customer_type, channel_type, region, source,
       first_contact_date, owner, referred_by, contract_end
FROM customers
WHERE customer_id = $customer_id
"""

TRANSACTIONS_SQL = """
SELECT txn_date, txn_id, order_line, product, category, quantity, unit_price, amount, status,
       due_date, paid_date
FROM transactions
WHERE customer_id = $customer_id AND txn_date <= $as_of
ORDER BY txn_date, txn_id, order_line
"""

# The customer's orders (engine.features.orders: an order's lines as one, its net money).
ORDERS_SQL = """
SELECT txn_date, txn_id, CAST(money AS DOUBLE) AS money, purchase
FROM orders
WHERE customer_id = $customer_id AND txn_date <= $as_of
ORDER BY txn_date, txn_id
"""

INTERACTIONS_SQL = """
SELECT ts, kind, channel, topic, satisfaction, response_hours, note, owner
FROM interactions
WHERE customer_id = $customer_id AND CAST(ts AS DATE) <= $as_of
ORDER BY ts DESC
"""

FOLLOWUPS_SQL = """
SELECT ts, action, channel, need, result, next_contact_date, owner, status
FROM followups
WHERE customer_id = $customer_id AND CAST(ts AS DATE) <= $as_of
ORDER BY ts DESC
"""


def customer_record(con, customer_id: str) -> dict | None:
    """The customer's master data as {column: value}, or None when there is no such customer.

    Keys: customer_id, name, customer_type, channel_type, region, source,
    first_contact_date, owner, referred_by, contract_end.
    """
    cur = con.execute(RECORD_SQL, {"customer_id": customer_id})
    rows = cur.fetchall()
    return dict(zip([d[0] for d in cur.description], rows[0])) if rows else None


def customer_events(con, customer_id: str, *, as_of: dt.date) -> dict[str, pd.DataFrame]:
    """The customer's raw events on or before T (interactions and follow-ups by their date).

    Returns
    -------
    {"transactions": the lines: txn_date, txn_id, order_line (1, 2, … in an
     order of several lines), product, category, quantity, unit_price and
     amount (float), status, due_date, paid_date — oldest first;
     "orders": txn_date, txn_id, money (net, float: refunds negative,
     cancelled and pending 0), purchase (1 or 0) — oldest first;
     "interactions": ts, kind, channel, topic, satisfaction, response_hours,
     note, owner — newest first;
     "complaints": the interactions of kind 'complaint';
     "followups": ts, action, channel, need, result, next_contact_date,
     owner, status — newest first}
    """
    params = {"customer_id": customer_id, "as_of": as_of}
    transactions = con.execute(TRANSACTIONS_SQL, params).df()
    for column in ("amount", "unit_price"):
        transactions[column] = transactions[column].astype(float)
    orders.install(con)
    interactions = con.execute(INTERACTIONS_SQL, params).df()
    complaints = interactions[interactions["kind"] == "complaint"].reset_index(drop=True)
    return {"transactions": transactions, "orders": con.execute(ORDERS_SQL, params).df(),
            "interactions": interactions,
            "complaints": complaints, "followups": con.execute(FOLLOWUPS_SQL, params).df()}


# --- the score explained -----------------------------------------------------------

def explained_score(customer_id: str, *, customers: pd.DataFrame, features: pd.DataFrame,
                    scores: pd.DataFrame, plan: scoring.ScoringPlan,
                    clv: Mapping | None = None) -> dict:
    """The customer's row of the customer table ("summary") and its score explained
    ("dimensions", "sub_metrics": score_breakdown), or {"summary": None} for a customer
    not known at T.

    customers (customer_table), features and scores share one row order (the
    customer table keeps the features'). clv: 12-month CLV by customer_id when
    CLV joins the score; the customer's value (NaN without one) is then the
    sub-metric's value.
    """
    row = customers.index[customers["customer_id"] == customer_id]
    if not len(row):
        return {"summary": None}
    i = row[0]
    values = features.iloc[i]
    if clv is not None:
        values = values.copy()
        values[scoring.CLV_SUB_METRIC.column] = clv.get(customer_id, np.nan)
    dimensions, sub_metrics = score_breakdown(values, scores.iloc[i], plan)
    return {"summary": customers.iloc[i].to_dict(), "dimensions": dimensions,
            "sub_metrics": sub_metrics}


def score_breakdown(features_row: Mapping, scores_row: Mapping,
                    plan: scoring.ScoringPlan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How one customer's score is made (DESIGN §4.1).

    features_row, scores_row : the customer's row of the feature table and
        of `scoring.score_customers`; plan : the `scoring.scoring_plan` used.

    Returns
    -------
    (dimensions, sub_metrics).
    dimensions: one row per DIMENSIONS entry: dimension, weight (effective,
    NaN when left out), score (0–100, NaN when left out), points (weight ×
    score / 100; they add up to the total score), left_out (bool).
    sub_metrics: one row per SUB_METRICS entry (and CLV_SUB_METRIC after the
    other consumption ones when `scores_row` holds its score, i.e. CLV joined
    the score; its value is then read from features_row["clv_12m"]): dimension, sub_metric,
    value (the feature), unit (`scoring.SubMetric.unit`), percentile (the sub-metric score
    0–100: the share of customers this one matches or beats; NaN when left out), left_out.
    """
    dimensions = pd.DataFrame({
        "dimension": list(scoring.DIMENSIONS),
        "weight": [plan.weights.get(d, np.nan) for d in scoring.DIMENSIONS],
        "score": [scores_row[d] for d in scoring.DIMENSIONS],
        "left_out": [d in plan.left_out_dimensions for d in scoring.DIMENSIONS],
    })
    dimensions["points"] = dimensions["weight"] * dimensions["score"] / 100
    left_out = set(plan.left_out_sub_metrics)
    metrics = scoring.SUB_METRICS + ((scoring.CLV_SUB_METRIC,)
                                     if scoring.CLV_SUB_METRIC.score_column in scores_row else ())
    metrics = sorted(metrics, key=lambda m: scoring.DIMENSIONS.index(m.dimension))  # stable
    sub_metrics = pd.DataFrame({
        "dimension": [m.dimension for m in metrics],
        "sub_metric": [m.column for m in metrics],
        "value": [_plain(features_row.get(m.column)) for m in metrics],
        "unit": [m.unit for m in metrics],
        "percentile": [scores_row[m.score_column] for m in metrics],
        "left_out": [m.column in left_out for m in metrics],
    })
    return dimensions[["dimension", "weight", "score", "points", "left_out"]], sub_metrics


def _plain(value) -> float:
    return np.nan if value is None or pd.isna(value) else float(value)


# --- tier history ------------------------------------------------------------------

def month_end_sub_scores(con, *, as_of: dt.date, clv: pd.Series | None = None,
                         history: EventHistory | None = None
                         ) -> tuple[pd.DataFrame, dict[str, bool]]:
    """Sub-metric scores of every customer known at a date, and its sources: the
    customers the profile's header ranks at T, so the last point of its tier history
    (T itself when T is a month end) is the header's tier.

    Runs the feature query as of the date (with `history`, the
    `event_history` of the same data, when given). clv : the 12-month CLV by
    customer_id at that date, when it joins the score (see
    `scoring.sub_metric_scores`). Returns
    (`scoring.sub_metric_scores` indexed by customer_id, `optional_columns_present`).
    """
    features = past.features_as_of(con, as_of, customers=past.EVERY, history=history)
    available = past.sources_as_of(con, as_of, history)
    return (scoring.sub_metric_scores(features, available=available, clv=clv)
            .set_index("customer_id"), available)


def month_end_tiers(snapshots: Iterable[tuple[dt.date, pd.DataFrame, Mapping[str, bool]]], *,
                    weights: Mapping[str, float] = scoring.DEFAULT_WEIGHTS,
                    thresholds: Sequence[float] = scoring.DEFAULT_THRESHOLDS) -> pd.DataFrame:
    """Every customer's score and tier at each date, with today's weights: the tier history
    of all customers at once, so that one table answers every profile.

    snapshots : (date, sub-metric scores indexed by customer_id, available) per date,
        as from `month_end_sub_scores`; read one at a time (a million customers' sub-scores
        at 12 dates would not fit in memory together).

    Returns
    -------
    DataFrame with one row per customer known at any of the dates (customer_id
    ascending) and, per date D in order, the columns `known D` (the customer existed
    then), `score D` and `tier D` (NaN / NA when not known, or when the weights sit on
    dimensions without data at that date).
    """
    columns = {}
    for day, sub_scores, available in snapshots:
        try:
            scored = scoring.combine_scores(sub_scores.reset_index(), weights=weights,
                                            thresholds=thresholds, available=available)
            score = pd.Series(scored["score"].to_numpy(float), index=sub_scores.index)
            tier = pd.Series(scored["tier"].to_numpy(), index=sub_scores.index)
        except scoring.NoWeightLeft:   # known, but no data then for the weighted dimensions
            score = pd.Series(np.nan, index=sub_scores.index)
            tier = pd.Series(None, index=sub_scores.index, dtype=object)
        columns[f"known {day}"] = pd.Series(True, index=sub_scores.index)
        columns[f"score {day}"], columns[f"tier {day}"] = score, tier
    table = pd.concat(columns, axis=1).sort_index() if columns else pd.DataFrame()
    for name in table.columns:
        if name.startswith("known "):
            table[name] = table[name].fillna(False).astype(bool)
        elif name.startswith("tier "):
            table[name] = pd.Categorical(table[name], categories=scoring.TIERS)
    return table.rename_axis("customer_id").reset_index()


def customer_tier_history(table: pd.DataFrame, customer_id: str) -> pd.DataFrame:
    """One customer's rows of `month_end_tiers`: as_of, known, score, tier, one row per date."""
    days = [name.removeprefix("known ") for name in table.columns if name.startswith("known ")]
    row = table[table["customer_id"] == customer_id] if len(table) else table
    found = len(row) > 0
    frame = pd.DataFrame({
        "as_of": [dt.date.fromisoformat(d) for d in days],
        "known": [bool(row[f"known {d}"].iloc[0]) if found else False for d in days],
        "score": [float(row[f"score {d}"].iloc[0]) if found else np.nan for d in days],
        "tier": [row[f"tier {d}"].iloc[0] if found else None for d in days]})
    frame["tier"] = pd.Categorical(frame["tier"], categories=scoring.TIERS)
    return frame


def tier_history(snapshots: Sequence[tuple[dt.date, pd.DataFrame, Mapping[str, bool]]],
                 customer_id: str, *,
                 weights: Mapping[str, float] = scoring.DEFAULT_WEIGHTS,
                 thresholds: Sequence[float] = scoring.DEFAULT_THRESHOLDS) -> pd.DataFrame:
    """One customer's score and tier at each date, with today's weights (`month_end_tiers`
    and `customer_tier_history` in one).

    snapshots : (date, sub-metric scores indexed by customer_id, available)
        per date, as from `month_end_sub_scores`.

    Returns
    -------
    DataFrame with one row per snapshot, in its order: as_of, known (the
    customer existed then), score and tier (NaN / NA when not known, or when
    the weights sit on dimensions without data at that date).
    """
    return customer_tier_history(
        month_end_tiers(snapshots, weights=weights, thresholds=thresholds), customer_id)
