"""The monthly review (月度复盘, DESIGN §4.8) and `python -m engine review`.

A month M is reviewed by comparing month-end snapshots (DESIGN §4.8: the
metrics as of each month end, over the customers known by then) with what
happened during M:

- a *snapshot* at a month end E is the feature table as of E
  (`customer_features(con, as_of=E)`, so only events on or before E count)
  reduced to one row per customer: score, tier, demand tag, churn risk and
  whether the customer bought in the 90 days up to E;
- *activity* during a calendar month comes from SQL over raw events
  (`engine.features.month_activity`): transactions, purchases, revenue,
  interactions and follow-ups per customer, complaints per topic,
  satisfaction ratings.

The figures are pure functions of those pieces, so the dashboard can cache
each snapshot and each month's activity on its own (a month switch then
computes one new snapshot at most) and the command line runs them straight:

    month_end_snapshot(s)   one month end, or many (24 for the benchmark)
    month_activity_for      what each customer did during one month
    month_summary           tier mix and revenue by tier of one month
    month_changes           transitions M−1 → M, wake-up, win-back, retention
    build_review            everything for M from the pieces of its 12 months
    monthly_review          the same straight from the database (CLI, tests)
    review_json             the figures in the form of DESIGN §5
    summary_lines           the month's notable changes in words (catalogue templates)
    review_tables, review_workbook   the tables of the Excel workbook

Snapshots are not stored in the database: a dashboard process keeps them in
its cache keyed on the data version (which every import, undo and follow-up
bumps), and the command line computes them each run.
"""
from __future__ import annotations

import argparse
import calendar
import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine import export, i18n, risk, scoring, store
from engine.features import (FEATURE_COLUMNS, customer_features, optional_columns_present,
                             event_history)
from engine.features.customer import KEY_COLUMN, MASTER_COLUMNS, EventHistory, sources_at
from engine.features import month_activity

TIERS = scoring.TIERS
DEFAULT_MONTHS = 12          # the trends run over the 12 months up to M
RETENTION_DAYS = 90          # retention: a purchase in the 90 days up to each month end

SNAPSHOT_COLUMNS = ("customer_id", "key", "score", "tier", "demand_tag", "risk_level",
                    "bought_recently")
SUMMARY_COLUMNS = ("month", "tier", "customers", "share", "revenue", "buyers")


# --- months -----------------------------------------------------------------------------

def parse_month(text) -> date:
    """The first day of a month given as "YYYY-MM" (a date is taken as its month)."""
    if isinstance(text, date):
        return text.replace(day=1)
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", str(text).strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"a month is written YYYY-MM (for example 2024-06), got {text!r}.")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_key(month: date) -> str:
    """"YYYY-MM" of a month."""
    return f"{month:%Y-%m}"


def month_end(month: date) -> date:
    """The last day of the month of `month`."""
    return date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])


def shift_month(month: date, months: int) -> date:
    """The first day of the month `months` after (negative: before) `month`'s month."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def review_months(month, count: int = DEFAULT_MONTHS) -> list[date]:
    """The first days of the `count` months ending with M, oldest first."""
    if count < 2:
        raise ValueError(f"a review needs at least 2 months (M−1 and M), got {count}.")
    first = parse_month(month)
    return [shift_month(first, k) for k in range(1 - count, 1)]


def reviewable_months(first_event: date | None, last_date: date | None) -> list[date]:
    """Months a review can cover, newest first.

    A month M is reviewable when it is complete by `last_date` (its last day
    is on or before it) and the month before it ends on or after the first
    event, so M−1 has a snapshot with customers in it.
    """
    if first_event is None or last_date is None:
        return []
    newest = parse_month(last_date) if month_end(last_date) == last_date \
        else shift_month(last_date, -1)
    oldest = shift_month(first_event, 1)
    months = []
    while newest >= oldest:
        months.append(newest)
        newest = shift_month(newest, -1)
    return months


# --- snapshots --------------------------------------------------------------------------
# Snapshots and activity carry an integer `key`: the customer's position in
# `month_activity.customer_index` (every customer id, ascending) of the same
# data version. Joining a million customers of two month ends then takes a
# few array look-ups instead of hashing their ids on every month switch.

def customer_keys(customer_ids, index: pa.Array) -> np.ndarray:
    """Each id's position in `index` as int64, −1 for an id the index lacks."""
    ids = pa.array(pd.Series(customer_ids, dtype="str").array).cast(pa.large_string())
    positions = pc.index_in(ids, value_set=index.cast(pa.large_string()))
    return pc.fill_null(positions, -1).to_numpy().astype(np.int64)


def snapshot_from_features(features: pd.DataFrame, *, as_of: date, index: pa.Array,
                           available: Mapping[str, bool] | None = None,
                           weights: Mapping[str, float] = scoring.DEFAULT_WEIGHTS,
                           thresholds: Sequence[float] = scoring.DEFAULT_THRESHOLDS,
                           rules: risk.RiskRules = risk.DEFAULT_RULES,
                           retention_days: int = RETENTION_DAYS,
                           clv: pd.Series | None = None) -> pd.DataFrame:
    """One customer per row of the feature table as of `as_of`, reduced to what a review reads.

    index : `month_activity.customer_index` of the same data (for the keys,
        unless the features carry them: KEY_COLUMN, from a query on the history).
    clv : the 12-month CLV by customer_id as of `as_of` when it joins the
        score (`scoring.score_customers`); None leaves it out (DESIGN §4.1).

    Returns
    -------
    DataFrame with SNAPSHOT_COLUMNS in the features' order (by customer_id):
    customer_id; key (int64, the position in `index`); score (0–100) and
    tier (categorical of scoring.TIERS) of `scoring.score_customers`, NaN and NA
    where the weights sit on dimensions without data at that month end;
    demand_tag and risk_level (categoricals of risk.DEMAND_TAGS /
    risk.RISK_LEVELS) of DESIGN §4.4–4.5; bought_recently (a purchase in the
    `retention_days` days up to as_of, the window (as_of − days, as_of]).
    No customer known yet: no rows.
    """
    keys = (features[KEY_COLUMN].to_numpy(dtype=np.int64) if KEY_COLUMN in features
            else customer_keys(features["customer_id"], index))
    if features.empty:     # a month end before anyone is known: nothing to score
        return pd.DataFrame({
            "customer_id": features["customer_id"].array, "key": keys, "score": np.zeros(0),
            "tier": pd.Categorical([], categories=TIERS),
            "demand_tag": pd.Categorical([], categories=risk.DEMAND_TAGS),
            "risk_level": pd.Categorical([], categories=risk.RISK_LEVELS),
            "bought_recently": np.zeros(0, dtype=bool)})
    try:
        scores = scoring.score_customers(features, weights=weights, thresholds=thresholds,
                                         available=available, clv=clv)
    except scoring.NoWeightLeft:
        # the weights sit on dimensions this month end has no data for (a month before the
        # first transaction, say): its customers are known but have no score or tier,
        # and the months that can be scored are still reviewed
        scores = pd.DataFrame({"score": np.full(len(features), np.nan),
                               "tier": pd.Categorical.from_codes(np.full(len(features), -1),
                                                                 categories=TIERS)})
    levels, _ = risk.risk_levels(features, rules=rules)
    since = risk.days_since(features["last_purchase_date"], as_of)
    return pd.DataFrame({
        "customer_id": features["customer_id"].array,
        "key": keys,
        "score": scores["score"].to_numpy(),
        "tier": scores["tier"].array,
        "demand_tag": risk.demand_tags(features, as_of=as_of, rules=rules),
        "risk_level": levels,
        "bought_recently": since < retention_days,   # NaN (never bought) compares False
    })


# The feature columns a snapshot reads: all but the master data's text, which
# scores, tags and risk never read (leaving it out spares DuckDB carrying it).
SNAPSHOT_FEATURES = tuple(c for c in FEATURE_COLUMNS
                          if c == "customer_id" or c not in MASTER_COLUMNS)


def month_end_snapshot(con, *, month_end: date, index: pa.Array | None = None,
                       weights: Mapping[str, float] = scoring.DEFAULT_WEIGHTS,
                       thresholds: Sequence[float] = scoring.DEFAULT_THRESHOLDS,
                       rules: risk.RiskRules = risk.DEFAULT_RULES,
                       clv: pd.Series | None = None,
                       history: EventHistory | None = None) -> pd.DataFrame:
    """The snapshot of every customer known at `month_end` (see `snapshot_from_features`).

    Only events on or before `month_end` count, and the score's percentiles
    and left-out sub-metrics are those of the customers and data of that day.
    `index` defaults to the database's `month_activity.customer_index`;
    `history`, the `engine.features.event_history` of the same data, spares
    the feature query its most expensive parts when many month ends are due.
    """
    features, available = _features_at(con, month_end, history)
    if index is None:
        index = month_activity.customer_index(con)
    return snapshot_from_features(features, as_of=month_end, index=index, available=available,
                                  weights=weights, thresholds=thresholds, rules=rules, clv=clv)


def _features_at(con, day: date, history: EventHistory | None
                 ) -> tuple[pd.DataFrame, dict[str, bool]]:
    """What a snapshot is made of as of `day`: the features of the customers known by then,
    and the sources present. With the history, the keys come from the query too."""
    if history is None:
        features = customer_features(con, as_of=day, columns=SNAPSHOT_FEATURES)
        available = optional_columns_present(con, as_of=day)
    else:
        features = customer_features(con, as_of=day, history=history,
                                     columns=SNAPSHOT_FEATURES + (KEY_COLUMN,))
        available = sources_at(history.source_dates, as_of=day)
    return _known_by_then(features), available


def _known_by_then(features: pd.DataFrame) -> pd.DataFrame:
    """The customers DESIGN §4.8 reviews at a month end: a first contact or an event on or
    before it. The feature table also holds customers with neither a first contact date
    nor any event, so that a customer master imported alone shows in the customer list
    (and the profile ranks as its header does); a month end does not know them, so its
    snapshot neither counts nor ranks them."""
    known = features["first_contact"].notna() | features["last_txn_date"].notna()
    return features if known.all() else features[known].reset_index(drop=True)


def month_end_snapshots(con, *, months: Sequence[date], **settings) -> dict[date, pd.DataFrame]:
    """{month (first day): its month-end snapshot} for each month, e.g. 24 for the benchmark.

    The cost is one run of the customer feature query per month end, on
    the event history read once for all of them. While DuckDB computes the
    features of one month end, a second thread scores those of the month
    before: the scoring is pandas on one core, the query leaves a core idle
    at times.
    """
    index, history = month_activity.customer_index(con), event_history(con)
    snapshots: dict[date, pd.DataFrame] = {}
    waiting = None   # (month, its snapshot being scored): one at most, so memory stays flat
    with ThreadPoolExecutor(max_workers=1) as scorer:
        for month in map(parse_month, months):
            day = month_end(month)
            features, available = _features_at(con, day, history)
            if waiting is not None:
                snapshots[waiting[0]] = waiting[1].result()
            waiting = (month, scorer.submit(snapshot_from_features, features, as_of=day,
                                            index=index, available=available, **settings))
        if waiting is not None:
            snapshots[waiting[0]] = waiting[1].result()
    return snapshots


def keyed_activity(activity: pd.DataFrame, index: pa.Array) -> pd.DataFrame:
    """`month_activity.customer_month_activity` rows with the customers' `key` added."""
    return activity.assign(key=customer_keys(activity["customer_id"], index))


ACTIVITY_COUNTS = ("transactions", "purchases", "revenue", "interactions", "followups")


def month_activity_for(con, *, month, index: pa.Array | None = None) -> pd.DataFrame:
    """Per-customer activity during one calendar month, for caching: key and ACTIVITY_COUNTS.

    The rows of `month_activity.customer_month_activity` for the month, with
    the customer's `key` instead of its id and month (a compact frame that a
    cache stores and reloads quickly).
    """
    first = parse_month(month)
    frame = month_activity.customer_month_activity(con, first_month=first, last_month=first)
    keyed = keyed_activity(frame, month_activity.customer_index(con) if index is None else index)
    return keyed[["key", *ACTIVITY_COUNTS]]


def month_activity_by_month(con, *, months: Sequence[date],
                            index: pa.Array | None = None) -> dict[date, pd.DataFrame]:
    """{month: keyed per-customer activity during it} for consecutive `months`, in one query."""
    months = [parse_month(m) for m in months]
    index = month_activity.customer_index(con) if index is None else index
    frame = keyed_activity(month_activity.customer_month_activity(
        con, first_month=min(months), last_month=max(months)), index)
    groups = dict(tuple(frame.groupby("month", sort=False)))
    empty = frame.iloc[0:0]
    return {m: groups.get(m, empty).reset_index(drop=True) for m in months}


# --- figures of one month ---------------------------------------------------------------

def _rate(eligible: int, count: int) -> float | None:
    return count / eligible if eligible else None


def _tier_codes(snapshot: pd.DataFrame) -> np.ndarray:
    """Each row's place in TIERS; −1 for a customer without a tier at that month end."""
    return pd.Categorical(snapshot["tier"], categories=TIERS).codes.astype(np.int64)


def _keys(frame: pd.DataFrame) -> np.ndarray:
    return frame["key"].to_numpy(dtype=np.int64)


def _size(*frames: pd.DataFrame) -> int:
    """One more than the largest key of the frames (the length of a look-up array)."""
    return 1 + max((int(_keys(f).max()) for f in frames if len(f)), default=-1)


def _rows_by_key(frame: pd.DataFrame, size: int) -> np.ndarray:
    """A look-up array: for each key, the frame's row holding it, −1 where none."""
    rows = np.full(size, -1, dtype=np.int64)
    keys = _keys(frame)
    valid = keys >= 0
    rows[keys[valid]] = np.flatnonzero(valid)
    return rows


def _did(keys: np.ndarray, activity: pd.DataFrame, columns: Sequence[str], size: int) -> np.ndarray:
    """For each key, whether the activity counts any of `columns` for that customer."""
    flag = np.zeros(size, dtype=bool)
    act = _keys(activity)
    did = (activity[list(columns)].to_numpy() > 0).any(axis=1) & (act >= 0)
    flag[act[did]] = True
    return flag[keys]


def month_summary(month: date, snapshot: pd.DataFrame, activity: pd.DataFrame) -> pd.DataFrame:
    """Tier mix at the end of a month and revenue during it by that tier.

    snapshot : the month-end snapshot of `month`.
    activity : keyed per-customer activity during `month` (`month_activity_for`).

    Returns
    -------
    DataFrame with SUMMARY_COLUMNS, one row per tier in TIERS order: month
    ("YYYY-MM"), tier, customers (known at the month end, with a tier), share (of all of
    them; NaN without customers), revenue (net revenue during the month of
    the customers in that tier at its end), buyers (of them, with a purchase
    during the month).
    """
    codes = _tier_codes(snapshot)
    customers = np.bincount(codes[codes >= 0], minlength=len(TIERS))
    rows = _rows_by_key(snapshot, _size(snapshot, activity))
    act = _keys(activity)
    position = np.where(act >= 0, rows[np.maximum(act, 0)], -1)
    known = position >= 0     # every customer with a transaction in the month is known by its end
    tier_of = np.full(len(activity), -1)
    tier_of[known] = codes[position[known]]
    tiered = tier_of >= 0
    revenue = np.bincount(tier_of[tiered],
                          weights=activity["revenue"].to_numpy(dtype=float)[tiered],
                          minlength=len(TIERS))
    buyers = np.bincount(tier_of[tiered & (activity["purchases"].to_numpy() > 0)],
                         minlength=len(TIERS))
    total = int(customers.sum())
    return pd.DataFrame({
        "month": month_key(month), "tier": list(TIERS), "customers": customers.astype(np.int64),
        "share": customers / total if total else np.full(len(TIERS), np.nan),
        "revenue": revenue, "buyers": buyers.astype(np.int64)})


def month_changes(before: pd.DataFrame, after: pd.DataFrame,
                  activity: pd.DataFrame) -> dict:
    """What changed from the end of M−1 to the end of M, and who responded during M.

    before, after : the snapshots at the ends of M−1 and M.
    activity : keyed per-customer activity during M (`month_activity_for`).

    Returns
    -------
    dict with
    transitions : DataFrame, index = tier at the end of M−1, columns = tier
        at the end of M (both in TIERS order), customers known at both ends.
    new_customers : {tier: customers known at the end of M but not of M−1}.
    wake_up, win_back, retention : see `month_rates`.
    """
    size = _size(before, after, activity)
    at_m = _rows_by_key(after, size)[_keys(before)]   # -1: not known at M (known stays known)
    both = at_m >= 0
    codes_before, codes_after = _tier_codes(before), _tier_codes(after)
    tiered_both = both.copy()     # with a tier at both ends (one may be unscored)
    tiered_both[both] = (codes_before[both] >= 0) & (codes_after[at_m[both]] >= 0)
    cells = np.bincount(codes_before[tiered_both] * len(TIERS) + codes_after[at_m[tiered_both]],
                        minlength=len(TIERS) ** 2).reshape(len(TIERS), len(TIERS))
    transitions = pd.DataFrame(cells.astype(np.int64), index=pd.Index(TIERS, name="before"),
                               columns=pd.Index(TIERS, name="after"))
    is_new = np.ones(len(after), dtype=bool)
    is_new[at_m[both]] = False
    new = np.bincount(codes_after[is_new & (codes_after >= 0)], minlength=len(TIERS))
    return {"transitions": transitions,
            "new_customers": dict(zip(TIERS, (int(n) for n in new)))} \
        | month_rates(before, after, activity)


def month_rates(before: pd.DataFrame, after: pd.DataFrame, activity: pd.DataFrame) -> dict:
    """Wake-up, win-back and retention of month M (DESIGN §4.8) from the snapshots at the
    ends of M−1 and M and the keyed activity during M; small, so a trend of 12 months
    keeps one per month instead of its snapshots.

    Returns
    -------
    dict with
    wake_up : {"eligible": dormant at the end of M−1, "woken": of them, with
        a transaction or interaction during M, "rate"}.
    win_back : {"eligible": high risk at the end of M−1, "won": of them, with
        a purchase during M, "rate", "with_followup" and "without_followup":
        the same split by whether any follow-up was logged for them during M}.
    retention : {"eligible": with a purchase in the 90 days up to the end of
        M−1, "retained": of them, with one in the 90 days up to the end of M,
        "rate"}.
    Rates are fractions, None where nobody is eligible.
    """
    size = _size(before, after, activity)
    keys = _keys(before)
    at_m = _rows_by_key(after, size)[keys]
    both = at_m >= 0

    dormant = (before["demand_tag"] == "dormant").to_numpy()
    woken = dormant & _did(keys, activity, ["transactions", "interactions"], size)

    high = (before["risk_level"] == "high").to_numpy()
    won = high & _did(keys, activity, ["purchases"], size)
    followed = high & _did(keys, activity, ["followups"], size)

    recent = before["bought_recently"].to_numpy(dtype=bool)
    again = np.zeros(len(before), dtype=bool)
    again[both] = after["bought_recently"].to_numpy(dtype=bool)[at_m[both]]
    retained = recent & again

    def split(mask):
        n, k = int(mask.sum()), int((won & mask).sum())
        return {"eligible": n, "won": k, "rate": _rate(n, k)}

    return {
        "wake_up": {"eligible": int(dormant.sum()), "woken": int(woken.sum()),
                    "rate": _rate(int(dormant.sum()), int(woken.sum()))},
        "win_back": split(high) | {"with_followup": split(followed),
                                   "without_followup": split(high & ~followed)},
        "retention": {"eligible": int(recent.sum()), "retained": int(retained.sum()),
                      "rate": _rate(int(recent.sum()), int(retained.sum()))},
    }


# (key of the rate in the catalogue's review.rate.*, how to read it from `month_rates`'
# dict, the key of its count): the rates a review shows, in the order it shows them.
RATES = (
    ("wake_up", lambda r: r["wake_up"], "woken"),
    ("win_back", lambda r: r["win_back"], "won"),
    ("win_back_with", lambda r: r["win_back"]["with_followup"], "won"),
    ("win_back_without", lambda r: r["win_back"]["without_followup"], "won"),
    ("retention", lambda r: r["retention"], "retained"),
)
RATE_TREND_COLUMNS = ("month", "figure", "eligible", "count", "rate")


def rate_trend(months: Sequence[date], rates: Sequence[dict]) -> pd.DataFrame:
    """The rates of each month in long form: RATE_TREND_COLUMNS, one row per month and
    figure of RATES (months oldest first); rate NaN where nobody was eligible (a gap in a
    chart, not a zero)."""
    rows = [(month_key(m), key, figure_of(r)["eligible"], figure_of(r)[count],
             np.nan if figure_of(r)["rate"] is None else figure_of(r)["rate"])
            for m, r in zip(months, rates, strict=True) for key, figure_of, count in RATES]
    frame = pd.DataFrame(rows, columns=list(RATE_TREND_COLUMNS))
    return frame.astype({"eligible": "int64", "count": "int64", "rate": "float64"})


# --- the whole review -------------------------------------------------------------------

@dataclass(frozen=True)
class MonthlyReview:
    """Every figure of DESIGN §4.8 for month M.

    Attributes
    ----------
    month, previous : first days of M and M−1; months : the months of the
        trends, oldest first, M last.
    data_end : the last event date in the data (None without events);
        `complete` says whether M's last day is on or before it.
    summaries : `month_summary` of every month of `months`, concatenated
        (tier mix and revenue by tier, by month).
    transitions, new_customers, wake_up, win_back, retention : see `month_changes`.
    rate_trend : the rates of every month of `months` (`rate_trend`), M's last.
    complaints : topic, previous, current (complaints in M−1 and M), change;
        topics of either month, most complaints in M first.
    satisfaction : month ("YYYY-MM"), interactions, complaints, rated,
        mean_satisfaction (NaN when nothing was rated), one row per month.
    """
    month: date
    previous: date
    months: tuple[date, ...]
    data_end: date | None
    summaries: pd.DataFrame
    transitions: pd.DataFrame
    new_customers: dict
    wake_up: dict
    win_back: dict
    retention: dict
    rate_trend: pd.DataFrame
    complaints: pd.DataFrame
    satisfaction: pd.DataFrame

    def rates(self) -> dict:
        """M's wake_up, win_back and retention, as `month_rates` returns them."""
        return {"wake_up": self.wake_up, "win_back": self.win_back, "retention": self.retention}

    @property
    def complete(self) -> bool:
        return self.data_end is not None and month_end(self.month) <= self.data_end

    def tier_counts(self, month: date) -> dict[str, int]:
        rows = self.summaries[self.summaries["month"] == month_key(month)]
        return {tier: int(n) for tier, n in zip(rows["tier"], rows["customers"])}

    def customers(self, month: date) -> int:
        return sum(self.tier_counts(month).values())

    def high_share(self) -> dict:
        """Share of customers in the high tier at the ends of M−1 and M, and the change."""
        def share(month):
            total = self.customers(month)
            return self.tier_counts(month).get("high", 0) / total if total else None
        before, now = share(self.previous), share(self.month)
        return {"previous": before, "current": now,
                "change": now - before if before is not None and now is not None else None}

    def revenue(self, month: date) -> float:
        return float(self.summaries.loc[self.summaries["month"] == month_key(month),
                                        "revenue"].sum())

    def mean_satisfaction(self, month: date) -> float | None:
        rows = self.satisfaction[self.satisfaction["month"] == month_key(month)]
        value = rows["mean_satisfaction"].iloc[0] if len(rows) else np.nan
        return None if pd.isna(value) else float(value)

    def complaints_in(self, month: date) -> int:
        column = "current" if month == self.month else "previous"
        return int(self.complaints[column].sum())

    def moves(self) -> dict[str, int]:
        """Customers who moved up (towards high), down, or stayed in their tier."""
        cells = self.transitions.to_numpy()
        return {"up": int(np.tril(cells, -1).sum()), "down": int(np.triu(cells, 1).sum()),
                "stayed": int(np.trace(cells))}


def complaints_table(complaints: pd.DataFrame, *, month: date, previous: date) -> pd.DataFrame:
    """topic, previous, current, change from `month_activity.complaints_by_topic` rows."""
    wide = {}
    for column, m in (("previous", previous), ("current", month)):
        rows = complaints[complaints["month"] == m]
        wide[column] = pd.Series(rows["complaints"].to_numpy(), index=rows["topic"].to_numpy())
    table = pd.DataFrame(wide).fillna(0).astype("int64").rename_axis("topic").reset_index()
    if table.empty:
        table = pd.DataFrame({"topic": pd.Series(dtype=object),
                              "previous": pd.Series(dtype="int64"),
                              "current": pd.Series(dtype="int64")})
    table["change"] = table["current"] - table["previous"]
    return table.sort_values(["current", "previous", "topic"], ascending=[False, False, True],
                             ignore_index=True)


def satisfaction_table(interactions: pd.DataFrame, months: Sequence[date]) -> pd.DataFrame:
    """One row per month of `months` from `month_activity.interactions_by_month` rows.

    Months without interactions get zeros and a NaN mean.
    """
    by_month = interactions.set_index("month")
    frame = by_month.reindex(list(months))
    for column in ("interactions", "complaints", "rated"):
        frame[column] = frame[column].fillna(0).astype("int64")
    frame.insert(0, "month", [month_key(m) for m in months])
    return frame.reset_index(drop=True)[["month", "interactions", "complaints", "rated",
                                         "mean_satisfaction"]]


def build_review(month, *, summaries: Sequence[pd.DataFrame], changes: dict,
                 rates: Sequence[dict], complaints: pd.DataFrame, interactions: pd.DataFrame,
                 data_end: date | None, months: Sequence[date] | None = None) -> MonthlyReview:
    """The review of M from its pieces.

    summaries : `month_summary` of each month of the trends (oldest first).
    changes : `month_changes(snapshot M−1, snapshot M, activity during M)`.
    rates : `month_rates` of each month of the trends (oldest first), each from the
        snapshots at its own end and the end of the month before it.
    complaints, interactions : `month_activity.complaints_by_topic` and
        `interactions_by_month` over (at least) the months of the trends.
    months : the months of the trends (default: the 12 up to M).
    """
    month = parse_month(month)
    months = tuple(parse_month(m) for m in (months or review_months(month)))
    previous = shift_month(month, -1)
    return MonthlyReview(
        month=month, previous=previous, months=months, data_end=data_end,
        summaries=pd.concat(list(summaries), ignore_index=True),
        transitions=changes["transitions"], new_customers=changes["new_customers"],
        wake_up=changes["wake_up"], win_back=changes["win_back"],
        retention=changes["retention"], rate_trend=rate_trend(months, rates),
        complaints=complaints_table(complaints, month=month, previous=previous),
        satisfaction=satisfaction_table(interactions, months))


def monthly_review(con, *, month, months: int = DEFAULT_MONTHS,
                   weights: Mapping[str, float] = scoring.DEFAULT_WEIGHTS,
                   thresholds: Sequence[float] = scoring.DEFAULT_THRESHOLDS,
                   rules: risk.RiskRules = risk.DEFAULT_RULES) -> MonthlyReview:
    """The review of month M straight from the database: `months` + 1 snapshots (the
    rates of the trend's first month start from the end of the month before it) and one
    query per kind of activity.

    Raises scoring.NoWeightLeft when the weights sit on dimensions that have no data at
    the end of M itself; earlier months of the trend may lack it and stay without tiers.
    """
    ends = review_months(month, months + 1)
    trend = ends[1:]
    scoring.scoring_plan(weights, optional_columns_present(con, as_of=month_end(trend[-1])))
    snapshots = month_end_snapshots(con, months=ends, weights=weights,
                                    thresholds=thresholds, rules=rules)
    activity = month_activity_by_month(con, months=trend)   # the same customer index
    first, last = trend[0], trend[-1]
    return build_review(
        last, months=trend,
        summaries=[month_summary(m, snapshots[m], activity[m]) for m in trend],
        changes=month_changes(snapshots[trend[-2]], snapshots[last], activity[last]),
        rates=[month_rates(snapshots[before], snapshots[m], activity[m])
               for before, m in zip(ends, trend)],
        complaints=month_activity.complaints_by_topic(con, first_month=first, last_month=last),
        interactions=month_activity.interactions_by_month(con, first_month=first,
                                                          last_month=last),
        data_end=store.date_range(con)[1])


# --- outputs ----------------------------------------------------------------------------

def review_json(review: MonthlyReview) -> dict:
    """The figures in the form of DESIGN §5 (`review --json`); rates are fractions or None."""
    m, p = month_key(review.month), month_key(review.previous)

    def rate(figure, count):
        return {"eligible": figure["eligible"], count: figure[count], "rate": figure["rate"]}

    def topics(column):
        rows = review.complaints[review.complaints[column] > 0]
        return {str(t): int(n) for t, n in zip(rows["topic"], rows[column])}

    win = review.win_back
    return {
        "month": m,
        "wake_up": rate(review.wake_up, "woken"),
        "win_back": rate(win, "won") | {"with_followup": rate(win["with_followup"], "won"),
                                         "without_followup": rate(win["without_followup"], "won")},
        "retention": rate(review.retention, "retained"),
        "tier_counts": {p: review.tier_counts(review.previous),
                        m: review.tier_counts(review.month)},
        "transitions": {before: {after: int(review.transitions.loc[before, after])
                                 for after in TIERS} for before in TIERS},
        "complaints_by_topic": {p: topics("previous"), m: topics("current")},
        "mean_satisfaction": {p: review.mean_satisfaction(review.previous),
                              m: review.mean_satisfaction(review.month)},
    }


def _percent(value: float | None, lang: str) -> str:
    return i18n.t("review.na", lang) if value is None else f"{value:.1%}"


def _signed(value: float, decimals: int) -> float:
    """`value` rounded, with −0 made 0 (so a change shows as +0.0, never −0.0)."""
    return round(value, decimals) + 0.0


def _money(value: float) -> str:
    return f"¥{value:,.0f}"


def summary_lines(review: MonthlyReview, lang: str = "en") -> list[str]:
    """The month's notable changes in words, one sentence each, from the catalogue's templates."""
    t = lambda key, **values: i18n.t(f"review.summary.{key}", lang, **values)  # noqa: E731
    m, p = month_key(review.month), month_key(review.previous)
    lines = []
    if not review.complete:
        lines.append(t("incomplete", month=m, end=review.data_end or "—"))
    high = review.high_share()
    counts_now = review.tier_counts(review.month)
    counts_before = review.tier_counts(review.previous)
    if high["current"] is not None:
        change = (t("high_change", pp=_signed(high["change"] * 100, 1), previous=p)
                  if high["change"] is not None else "")
        lines.append(t("high", n=counts_now["high"], share=high["current"] * 100,
                       month=m, change=change,
                       diff=counts_now["high"] - counts_before.get("high", 0)))
    moves = review.moves()
    lines.append(t("moves", up=moves["up"], down=moves["down"],
                   new=sum(review.new_customers.values())))
    wake = review.wake_up
    lines.append(t("wake_up", woken=wake["woken"], eligible=wake["eligible"],
                   rate=_percent(wake["rate"], lang)) if wake["eligible"]
                 else t("wake_up_none", previous=p))
    win = review.win_back
    if win["eligible"]:
        lines.append(t("win_back", won=win["won"], eligible=win["eligible"],
                       rate=_percent(win["rate"], lang),
                       with_rate=_percent(win["with_followup"]["rate"], lang),
                       with_n=win["with_followup"]["eligible"],
                       without_rate=_percent(win["without_followup"]["rate"], lang),
                       without_n=win["without_followup"]["eligible"]))
    else:
        lines.append(t("win_back_none", previous=p))
    ret = review.retention
    if ret["eligible"]:
        lines.append(t("retention", rate=_percent(ret["rate"], lang), retained=ret["retained"],
                       eligible=ret["eligible"]))
    now, before = review.complaints_in(review.month), review.complaints_in(review.previous)
    lines.append(t("complaints", n=now, diff=now - before, previous=p))
    rising = review.complaints[review.complaints["change"] > 0]
    if len(rising):
        top = rising.sort_values(["change", "current"], ascending=False).iloc[0]
        lines.append(t("complaints_rising", topic=i18n.label("topic", top["topic"], lang),
                       diff=int(top["change"]), n=int(top["current"])))
    sat_now, sat_before = review.mean_satisfaction(review.month), \
        review.mean_satisfaction(review.previous)
    if sat_now is None:
        lines.append(t("satisfaction_none", month=m))
    elif sat_before is None:
        lines.append(t("satisfaction", mean=sat_now, change=""))
    else:
        lines.append(t("satisfaction", mean=sat_now,
                       change=t("satisfaction_change", diff=_signed(sat_now - sat_before, 2),
                                        previous=p)))
    revenue, revenue_before = review.revenue(review.month), review.revenue(review.previous)
    rows = review.summaries[review.summaries["month"] == m]
    high_revenue = float(rows.loc[rows["tier"] == "high", "revenue"].sum())
    lines.append(t("revenue", revenue=_money(revenue),
                   change=(t("revenue_change", pct=_signed((revenue - revenue_before)
                                                            / abs(revenue_before) * 100, 1),
                             previous=p)
                           if revenue_before else ""),
                   share=high_revenue / revenue * 100 if revenue > 0 else 0.0))
    return lines


def _tier_wide(review: MonthlyReview, value: str, lang: str) -> pd.DataFrame:
    wide = review.summaries.pivot(index="month", columns="tier", values=value)
    wide = wide.reindex(index=[month_key(m) for m in review.months], columns=list(TIERS))
    wide.columns = [i18n.label("tier", c, lang) for c in wide.columns]
    return wide.rename_axis(i18n.t("review.col.month", lang)).reset_index()


def review_tables(review: MonthlyReview, lang: str = "en") -> dict[str, pd.DataFrame]:
    """{sheet name: table} for the workbook and the HTML report, headed in `lang`."""
    t = lambda key, **values: i18n.t(f"review.col.{key}", lang, **values)  # noqa: E731
    m, p = month_key(review.month), month_key(review.previous)
    rates = [(key, figure_of(review.rates()), count) for key, figure_of, count in RATES]
    rate_table = pd.DataFrame({
        t("figure"): [i18n.t(f"review.rate.{key}", lang) for key, _, _ in rates],
        t("eligible"): [f["eligible"] for _, f, _ in rates],
        t("count"): [f[count] for _, f, count in rates],
        t("rate"): [f["rate"] for _, f, _ in rates]})
    mix = _tier_wide(review, "customers", lang)
    mix[t("customers")] = mix.iloc[:, 1:].sum(axis=1)
    mix[t("high_share")] = _tier_wide(review, "share", lang).iloc[:, 1].to_numpy()
    names = [i18n.label("tier", c, lang) for c in TIERS]
    transitions = pd.DataFrame(
        np.vstack([review.transitions.to_numpy(), [review.new_customers[c] for c in TIERS]]),
        columns=names)
    transitions.insert(0, t("transition", previous=p, month=m), names + [t("new_customers")])
    complaints = pd.DataFrame({
        t("topic"): [i18n.label("topic", x, lang) for x in review.complaints["topic"]],
        p: review.complaints["previous"].to_numpy(), m: review.complaints["current"].to_numpy(),
        t("change"): review.complaints["change"].to_numpy()})
    satisfaction = review.satisfaction.rename(columns={
        "month": t("month"), "interactions": t("interactions"), "complaints": t("complaints"),
        "rated": t("rated"), "mean_satisfaction": t("mean_satisfaction")})
    summary = pd.DataFrame({i18n.t("review.sheet.summary", lang): summary_lines(review, lang)})
    return {
        i18n.t("review.sheet.summary", lang): summary,
        i18n.t("review.sheet.rates", lang): rate_table,
        i18n.t("review.sheet.rate_trend", lang): rate_trend_table(review, lang),
        i18n.t("review.sheet.tier_mix", lang): mix,
        i18n.t("review.sheet.transitions", lang): transitions,
        i18n.t("review.sheet.complaints", lang): complaints,
        i18n.t("review.sheet.satisfaction", lang): satisfaction,
        i18n.t("review.sheet.revenue", lang): _tier_wide(review, "revenue", lang),
    }


def rate_trend_table(review: MonthlyReview, lang: str = "en") -> pd.DataFrame:
    """One row per month of the trend: each rate of RATES, then its eligible customers and
    its count (won, woken, retained); an empty rate where nobody was eligible."""
    wide = review.rate_trend.pivot(index="month", columns="figure",
                                   values=["rate", "eligible", "count"])
    table = pd.DataFrame({i18n.t("review.col.month", lang): wide.index.to_numpy()})
    for key, _, _ in RATES:
        name = i18n.t(f"review.rate.{key}", lang)
        table[name] = wide[("rate", key)].to_numpy()
        for column in ("eligible", "count"):
            table[i18n.t(f"review.col.{column}_of", lang, rate=name)] = \
                wide[(column, key)].to_numpy(dtype=np.int64)
    return table


def percent_columns(lang: str = "en") -> set[str]:
    """Headers of the columns of `review_tables` that hold fractions shown as percents."""
    return {i18n.t("review.col.rate", lang), i18n.t("review.col.high_share", lang),
            *(i18n.t(f"review.rate.{key}", lang) for key, _, _ in RATES)}


def review_workbook(review: MonthlyReview, lang: str = "en") -> bytes:
    """An .xlsx workbook with one sheet per table of `review_tables`, formula-safe."""
    return export.workbook_bytes(review_tables(review, lang), percent_columns=percent_columns(lang),
                                 column_width=16)


# --- command line -----------------------------------------------------------------------

def _month_argument(text: str) -> date:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Review a month (DESIGN §4.8): tier shifts, wake-up, win-back and "
                          "retention rates, complaints, satisfaction, revenue by tier.")
    parser.add_argument("--month", type=_month_argument, required=True, metavar="YYYY-MM",
                        help="the month M to review (compared with M−1)")
    parser.add_argument("--out", type=Path, metavar="FILE.html",
                        help="write a self-contained HTML report (opens offline)")
    parser.add_argument("--xlsx", type=Path, metavar="FILE.xlsx",
                        help="write an Excel workbook, one sheet per table")
    parser.add_argument("--json", type=Path, metavar="FILE.json",
                        help="write the figures as JSON (DESIGN §5)")
    parser.add_argument("--lang", choices=i18n.LANGUAGES, default="en",
                        help="language of the report, workbook and summary (default: en)")


def run(args: argparse.Namespace) -> int:
    from engine.cli import InputRejected

    db = Path(args.db)
    if not db.exists():
        raise InputRejected(f"{db}: no such database file; import data first "
                            f"(python -m engine import) or make one (python -m engine demo).")
    with store.connect(db) as con:
        first, last = store.date_range(con)
        if last is None:
            raise InputRejected(f"{db}: the database holds no transactions or interactions.")
        if month_end(shift_month(args.month, -1)) < first or args.month > last:
            raise InputRejected(
                f"{db}: nothing to review for {month_key(args.month)}: the data runs from "
                f"{first} to {last}, and a review needs the month and the one before it.")
        review = monthly_review(con, month=args.month)
    if not review.complete:
        print(f"Note: the data ends on {last}, before the end of {month_key(args.month)}; "
              f"the month is not complete.", file=sys.stderr)
    for line in summary_lines(review, args.lang):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(review_json(review), ensure_ascii=False, indent=2) + "\n",
                             encoding="utf-8")
        print(f"Wrote {args.json}.")
    if args.xlsx:
        args.xlsx.write_bytes(review_workbook(review, args.lang))
        print(f"Wrote {args.xlsx}.")
    if args.out:
        from report.html import review_html   # plotly lives outside the engine
        args.out.write_text(review_html(review, args.lang), encoding="utf-8")
        print(f"Wrote {args.out}.")
    return 0


COMMAND = ("review", add_arguments, run)
