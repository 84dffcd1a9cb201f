"""The monthly review (月度复盘, DESIGN §4.8): its figures, computed from month-end snapshots.

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

Its renderings (the changes in words, the Excel tables, the HTML report) are
in `report.review` and `report.html`.

Snapshots are not stored in the database: a dashboard process keeps them in
its cache keyed on the data version (which every import, undo and follow-up
bumps), and the command line computes them each run.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from engine import risk, scoring, store
from engine.features import (FEATURE_COLUMNS, optional_columns_present,
                             event_history)
from engine.features import past
from engine.features.customer import KEY_COLUMN, MASTER_COLUMNS, EventHistory
from engine.features import month_activity
from engine.months import month_end, month_key, parse_month, shift_month

TIERS = scoring.TIERS
DEFAULT_MONTHS = 12          # the trends run over the 12 months up to M
RETENTION_DAYS = 90          # retention: a purchase in the 90 days up to each month end

SNAPSHOT_COLUMNS = ("customer_id", "key", "score", "tier", "demand_tag", "risk_level",
                    "bought_recently")
SUMMARY_COLUMNS = ("month", "tier", "customers", "share", "revenue", "buyers")


# --- months -----------------------------------------------------------------------------

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
    """What a snapshot is made of as of `day`: the features of the customers known by then
    (DESIGN §4.8), and the sources present. With the history, the keys come from the query too."""
    columns = SNAPSHOT_FEATURES + ((KEY_COLUMN,) if history is not None else ())
    features = past.features_as_of(con, day, customers=past.KNOWN, history=history, columns=columns)
    return features, past.sources_as_of(con, day, history)


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
    matched = _Matched.of(before, after, activity)
    at_m, both = matched.at_m, matched.both
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
        | _rates(before, after, activity, matched)


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
    return _rates(before, after, activity, _Matched.of(before, after, activity))


@dataclass(frozen=True)
class _Matched:
    """The customers of the snapshot at the end of M−1 looked up in the one at the end of
    M: matched once for a month's transitions and its rates."""
    size: int           # the length of a key look-up array (`_size`)
    keys: np.ndarray    # the keys of `before`'s rows
    at_m: np.ndarray    # each `before` row's row in `after`, −1: not known at M
    both: np.ndarray    # known at both ends (known stays known)

    @classmethod
    def of(cls, before: pd.DataFrame, after: pd.DataFrame, activity: pd.DataFrame) -> _Matched:
        size = _size(before, after, activity)
        keys = _keys(before)
        at_m = _rows_by_key(after, size)[keys]
        return cls(size, keys, at_m, at_m >= 0)


def _rates(before: pd.DataFrame, after: pd.DataFrame, activity: pd.DataFrame,
           matched: _Matched) -> dict:
    """`month_rates` with the snapshots already matched."""
    size, keys, at_m, both = matched.size, matched.keys, matched.at_m, matched.both
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
