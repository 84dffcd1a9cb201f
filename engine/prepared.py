"""The results the pages need that cost most, kept in the file per data version
(engine.derived) and prepared ahead of the pages after the data changes (issue 21).

At a million customers: the feature table as of T (about 10 s), the
Overview's scans of every event (10 s), the sub-metric scores (1 s), the task
list (3 s), the lifetime-value fit (9 s), the risk trend and the profile's tier
history over 12 month ends (a minute or two each) and the Review's months (a
few minutes for 12). Each page asks for them through the functions below,
which read them from the file when they were kept, else compute and keep them.
`prepare` computes those of the default view (T the last day with data,
the default scoring settings, the latest month the Review offers), so that
the first visit of each page after a restart or an import finds them: the
dashboard runs it in the background when it sees a new data version, the
command line as `engine prepare`.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date

import pandas as pd

from engine import (clv, clv_page, derived, plan, plan_page, profile, review, risk, scoring,
                    segments, store)
from engine.clv.compute import from_parts, result_parts
from engine.features import (activity, customer_features, event_history, month_activity,
                             optional_columns_present)
from engine.features.followup_state import followup_state
from engine.months import last_month_ends, month_end, month_key, parse_month, shift_month
from engine.scoring_settings import DEFAULT_SETTINGS, weight_map


def features(db, version: int, as_of: date, *, keep: bool = True) -> pd.DataFrame:
    """The per-customer feature table as of T (engine.features.customer_features).

    Kept only with `keep`, which the dashboard gives for the T it opens on (the
    last day with data): a million customers' table takes some 50 MB, and every
    other date a reader picks would add as much to the file until the data changes.
    """
    def compute():
        with store.connect(db) as con:
            return customer_features(con, as_of=as_of)
    return derived.kept(db, version, "features", {"as_of": as_of}, compute, keep=keep)


def sub_scores(db, version: int, as_of: date,
               compute: Callable[[], tuple[pd.DataFrame, dict]] | None = None, *,
               keep: bool = True) -> tuple[pd.DataFrame, dict[str, bool]]:
    """(every customer's sub-metric scores, the optional sources present) as of T
    (engine.scoring.sub_metric_scores): the part of scoring no slider changes, a second
    at a million customers. `compute` gives it (the dashboard's, from its cached feature
    table); by default from the kept one. Kept only with `keep`, like `features`."""
    def from_features():
        with store.connect(db) as con:
            available = optional_columns_present(con, as_of=as_of)
        return scoring.sub_metric_scores(features(db, version, as_of, keep=keep),
                                         available=available), available
    found = derived.kept(db, version, "sub_scores", {"as_of": as_of},
                         lambda: dict(zip(("scores", "available"), (compute or from_features)())),
                         keep=keep)
    return found["scores"], found["available"]


def overview(db, version: int, as_of: date) -> dict:
    """What the Overview draws from the events (engine.features.activity): KPIs, months,
    revenue by region and by source; four scans of every event, small to keep."""
    def compute():
        with store.connect(db) as con:
            return {"kpis": activity.overview_kpis(con, as_of=as_of),
                    "monthly": activity.monthly_activity(con, as_of=as_of),
                    "by_region": activity.revenue_by(con, as_of=as_of, column="region"),
                    "by_source": activity.revenue_by(con, as_of=as_of, column="source")}
    return derived.kept(db, version, "overview", {"as_of": as_of}, compute)


def month_end_tiers(db, version: int, as_of: date, settings: tuple,
                    compute: Callable[[], pd.DataFrame] | None = None, *,
                    keep: bool = True) -> pd.DataFrame:
    """Every customer's score and tier at the 12 month ends up to T under `settings`
    (engine.profile.month_end_tiers): the profile's tier history of any customer.

    `compute` gives it (the dashboard's, from its cached sub-scores); by default
    the feature query runs at each month end, one at a time. Kept only with
    `keep`: the dashboard gives it for its opening view (T the last day with data,
    the default settings), since each other view would add some 30 MB per
    million customers to the file.
    """
    return derived.kept(db, version, "month_end_tiers", {"as_of": as_of, "settings": settings},
                        compute or functools.partial(_month_end_tiers, db, as_of, settings),
                        keep=keep)


def _without_clv(settings: tuple) -> tuple[dict[str, float], tuple]:
    """(weights by dimension, thresholds) of `settings`; the engine alone cannot score with
    the CLV sub-metric, which needs the dashboard's fitted models."""
    weights, thresholds, clv = settings
    if clv:
        raise ValueError("the CLV sub-metric needs the dashboard's fitted models")
    return weight_map(weights), thresholds


def _month_end_tiers(db, as_of: date, settings: tuple) -> pd.DataFrame:
    weights, thresholds = _without_clv(settings)
    with store.connect(db) as con:
        history = event_history(con)

    def snapshots():
        for day in last_month_ends(as_of):
            with store.connect(db) as con:
                yield day, *profile.month_end_sub_scores(con, as_of=day, history=history)
    return profile.month_end_tiers(snapshots(), weights=weights, thresholds=thresholds)


def tasks(db, version: int, as_of: date, settings: tuple,
          compute: Callable[[], pd.DataFrame] | None = None, *, keep: bool = True) -> pd.DataFrame:
    """The task list as of T under the saved playbook and the tiers of `settings`
    (engine.plan.task_list): the Plan, Segments and Lifetime value pages read it.

    `compute` gives it (the dashboard's, from its cached tables); by default from the
    kept feature table. Kept only with `keep` (the opening view), like `features`.
    """
    return derived.kept(db, version, "tasks", {"as_of": as_of, "settings": settings},
                        compute or functools.partial(_tasks, db, version, as_of, settings),
                        keep=keep)


def _tasks(db, version: int, as_of: date, settings: tuple) -> pd.DataFrame:
    weights, thresholds = _without_clv(settings)
    table = features(db, version, as_of)
    with store.connect(db) as con:
        available = optional_columns_present(con, as_of=as_of)
        state = followup_state(con, as_of=as_of)
        try:
            rules = plan.load_playbook(con)
        except plan.PlaybookError:
            rules = plan.DEFAULT_PLAYBOOK
    scores = scoring.score_customers(table, weights=weights, thresholds=thresholds,
                                     available=available)
    return plan.task_list(table, tiers=plan_page.tiers_by_customer(scores),
                          followup_state=state, as_of=as_of, playbook=rules)


def clv_fit(db, version: int, as_of: date, *, keep: bool = True
            ) -> clv.ClvResult | clv.ClvUnavailable:
    """The lifetime-value models fitted on the purchases up to T and every customer's
    prediction (engine.clv), or the reason there are none. Kept only with `keep` (the
    opening view: a million customers' predictions take some 40 MB), like `features`."""
    return from_parts(derived.kept(db, version, "clv_fit", {"as_of": as_of},
                                   lambda: result_parts(_fitted(db, as_of, as_of)), keep=keep))


def clv_holdout(db, version: int, as_of: date, calibration_end: date) -> dict:
    """The holdout check of the models fitted on the purchases up to `calibration_end`:
    {"holdout": ClvResult.holdout, "by_frequency": its holdout_frequency} or {"error":
    ClvUnavailable}. A few rows, so kept for every date asked."""
    def compute():
        fitted = _fitted(db, as_of, calibration_end)
        if isinstance(fitted, clv.ClvUnavailable):
            return result_parts(fitted)
        return {"holdout": fitted.holdout, "by_frequency": fitted.holdout_frequency}
    check = derived.kept(db, version, "clv_holdout",
                         {"as_of": as_of, "calibration_end": calibration_end}, compute)
    return {"error": from_parts(check)} if "error" in check else check


def _fitted(db, as_of: date, calibration_end: date) -> clv.ClvResult | clv.ClvUnavailable:
    with store.connect(db) as con:
        calibration, current = clv.load_inputs(con, as_of=as_of, calibration_end=calibration_end)
    try:
        return clv.fit_and_predict(calibration, current, as_of=as_of,
                                   calibration_end=calibration_end)
    except clv.ClvUnavailable as exc:
        return exc


def segmentation(db, version: int, as_of: date,
                 columns: tuple = segments.DEFAULT_FEATURES, k: int | None = None,
                 compute: Callable[[], segments.Segmentation] | None = None, *,
                 keep: bool = True) -> segments.Segmentation:
    """K-means segments of every customer as of T on `columns` (engine.segments), `k`
    None for automatic. `compute` gives them (the dashboard's, with its progress bar);
    by default from the kept feature table. Kept only with `keep` (the opening view's
    automatic segments on the default columns; a million customers' take some 5 MB)."""
    def from_features():
        return segments.segment_customers(features(db, version, as_of, keep=keep),
                                          columns=columns, k=k)
    return segments.from_parts(derived.kept(
        db, version, "segmentation", {"as_of": as_of, "columns": list(columns), "k": k},
        lambda: segments.segmentation_parts((compute or from_features)()), keep=keep))


def risk_trend(db, version: int, as_of: date) -> pd.DataFrame:
    """Risk and dormancy counts at each of the last 12 month ends and at T
    (engine.risk.flagged_by_month: the file is opened once per month end)."""
    return derived.kept(db, version, "risk_trend", {"as_of": as_of},
                        lambda: risk.flagged_by_month(db, as_of=as_of))


def review_month(db, version: int, month: str, settings: tuple,
                 snapshot: Callable[[str], pd.DataFrame]) -> dict:
    """What the Review needs of `month` ("YYYY-MM") under `settings` (weights, thresholds,
    clv): {"summary": review.month_summary, "changes": review.month_changes (its rates
    included), "complaints", "interactions": that month's}. `snapshot(month)` gives the
    month-end snapshot under the same settings: the caller's, so that a month end shared
    by two months is computed once."""
    def compute():
        first = parse_month(month)
        with store.connect(db) as con:
            activity = review.month_activity_for(con, month=first)
            complaints = month_activity.complaints_by_topic(con, first_month=first,
                                                            last_month=first)
            interactions = month_activity.interactions_by_month(con, first_month=first,
                                                                last_month=first)
        after = snapshot(month)
        before = snapshot(month_key(shift_month(first, -1)))
        return {"summary": review.month_summary(first, after, activity),
                "changes": review.month_changes(before, after, activity),
                "complaints": complaints, "interactions": interactions}
    return derived.kept(db, version, "review_month", _review_key(month, settings), compute)


def review_months_kept(db, version: int, months: list[str], settings: tuple) -> list:
    """The `review_month` of each of `months` kept in the file, None for one not kept (yet):
    read through one opening of the file, where asking month by month opened it 12 times."""
    found = derived.load_many(db, "review_month", [_review_key(m, settings) for m in months],
                              version)
    return [None if piece is derived.MISSING else piece for piece in found]


def _review_key(month: str, settings: tuple) -> dict:
    return {"month": month, "settings": settings}


def month_rates(piece: dict) -> dict:
    """The wake-up, win-back and retention of a `review_month` piece (review.month_rates)."""
    return {k: piece["changes"][k] for k in ("wake_up", "win_back", "retention")}


def snapshots_in_order(db, settings: tuple = DEFAULT_SETTINGS) -> Callable[[str], pd.DataFrame]:
    """A `snapshot` for `review_month` without the CLV, for months asked oldest first: it
    reads the event history once, when first asked, and keeps the last two month ends."""
    weights, thresholds = _without_clv(settings)
    recent: dict[str, pd.DataFrame] = {}
    read: dict[str, object] = {}

    def snapshot(month: str) -> pd.DataFrame:
        if month not in recent:
            with store.connect(db) as con:
                if not read:
                    read.update(history=event_history(con),
                                index=month_activity.customer_index(con))
                recent[month] = review.month_end_snapshot(
                    con, month_end=month_end(parse_month(month)), **read,
                    weights=weights, thresholds=thresholds)
            while len(recent) > 2:
                recent.pop(next(iter(recent)))
        return recent[month]
    return snapshot


def prepare(db, *, progress: Callable[[int, int], None] | None = None) -> int:
    """Compute and keep what the pages show first for the file's current data; return
    the data version prepared. `progress(done, total)` after each step."""
    version = store.data_version(db)
    with store.connect(db) as con:
        first, last = store.date_range(con)
    if last is None or is_prepared(db, version):
        return version
    months = _review_months(first, last)
    steps = [functools.partial(features, db, version, last),
             functools.partial(sub_scores, db, version, last),
             functools.partial(segmentation, db, version, last),
             functools.partial(overview, db, version, last),
             functools.partial(risk_trend, db, version, last),
             functools.partial(month_end_tiers, db, version, last, DEFAULT_SETTINGS),
             functools.partial(tasks, db, version, last, DEFAULT_SETTINGS),
             functools.partial(clv_fit, db, version, last)]
    holdout = clv_page.calibration_choice(first, last)
    if holdout:
        steps.append(functools.partial(clv_holdout, db, version, last, holdout[0]))
    if months:
        snapshot = snapshots_in_order(db)
        steps += [functools.partial(review_month, db, version, month, DEFAULT_SETTINGS,
                                    snapshot) for month in months]
    _report(progress, 0, len(steps))
    for done, step in enumerate(steps, start=1):
        step()
        _report(progress, done, len(steps))
    derived.save(db, PREPARED, {}, version, {"as_of": last})
    return version


PREPARED = "prepared"   # the mark `prepare` leaves when it is done


def is_prepared(db, version: int) -> bool:
    """Whether `prepare` has run to its end for data `version` (with this engine code)."""
    with store.connect(db) as con:
        return derived.load(con, PREPARED, {}, version) is not derived.MISSING


def _review_months(first: date, last: date) -> list[str]:
    """The months of the review the Review page opens on (the latest it offers), oldest
    first; none when the data has no complete month with one before it."""
    offered = review.reviewable_months(first, last)
    return [month_key(m) for m in review.review_months(offered[0])] if offered else []


def _report(progress, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
