"""The pages' only door to the engine: cached calls keyed on their inputs.

Every cached function takes the database path and its data version first,
so results are reused until an import, undo, reset or follow-up bumps the
version, and never leak between two databases. Each call opens the file
for the duration of one query and closes it (DESIGN §2).
"""
from __future__ import annotations

import functools
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from engine import (audit, backup, churn_model, demo, export, i18n, ingest, profile, scoring,
                    store)
from engine import clv as clv_engine
from engine import clv_page
from engine import plan as plan_engine
from engine import presets as preset_store
from engine import review as review_engine
from engine import risk as risk_engine
from engine import segments as segment_engine
from engine.features import (activity, customer_features, month_activity,
                             optional_columns_present, parquet_source)
from engine.features import event_history as read_event_history
from engine.features.followup_state import followup_state as read_followup_state
from engine.features.followup_state import no_followups
from engine.months import last_month_ends, month_end, month_key, parse_month, shift_month
from report import review as review_report
from ui import auth


def for_reader(cached):
    """`cached`, called with this session's owner scope (auth.scope(): None for every
    customer) as its `owner` argument. The scope is part of the cache key, so one reader's
    rows never serve another, and no page can forget to pass it (issue 11: a rep sees only
    the customers they own)."""
    @functools.wraps(cached)
    def call(*args, **kwargs):
        return cached(*args, owner=auth.scope(), **kwargs)
    return call


def shared_frames(max_entries: int):
    """Cache like `st.cache_data`, but keep one copy of the result and hand each caller a
    shallow copy of its frames instead of unpickling a new one.

    For the per-customer tables a slider move reads: at a million customers,
    unpickling the feature table took 0.3 s on every call. Under pandas'
    copy-on-write a shallow copy costs nothing and a caller's change to it
    copies the data first, so the cached frame can never be altered.
    """
    def decorate(compute):
        cached = st.cache_resource(show_spinner=False, max_entries=max_entries)(compute)

        @functools.wraps(compute)
        def call(*args, **kwargs):
            return _fresh(cached(*args, **kwargs))
        return call
    return decorate


def _fresh(result):
    """`result` with each DataFrame (alone or in a tuple) and dict shallow-copied."""
    if isinstance(result, tuple):
        return tuple(_fresh(part) for part in result)
    if isinstance(result, pd.DataFrame):
        return result.copy(deep=False)
    return dict(result) if isinstance(result, dict) else result


def _own(table: pd.DataFrame, owner: str | None) -> pd.DataFrame:
    """The rows whose `owner` is `owner` (every row for None). Scores and tiers were computed
    on the whole base before: scoping never re-scores a subset."""
    return table if owner is None else table[table["owner"] == owner].reset_index(drop=True)


@st.cache_data(show_spinner=False, max_entries=16)
def source_summary(db: str, version: int) -> dict:
    """Row counts and the first and last event dates, for the sidebar."""
    with store.connect(db) as con:
        first, last = store.date_range(con)
        return {"counts": store.table_counts(con), "first": first, "last": last}


@st.cache_data(show_spinner=False, max_entries=16)
def overview(db: str, version: int, as_of: date) -> dict:
    """Everything the Overview page draws, in one visit to the file."""
    with store.connect(db) as con:
        return {
            "kpis": activity.overview_kpis(con, as_of=as_of),
            "monthly": activity.monthly_activity(con, as_of=as_of),
            "by_region": activity.revenue_by(con, as_of=as_of, column="region"),
            "by_source": activity.revenue_by(con, as_of=as_of, column="source"),
        }


def is_feature_table(db: str) -> bool:
    """Whether the source passed as `db` is a feature table folder rather than a database file.

    With a feature table (the sidebar's other source) `db` is its folder and
    `version` parquet_source.feature_table_version, so every cache below stays
    keyed right; only the functions that read the file itself look here.
    """
    return Path(db).is_dir()


@st.cache_data(show_spinner=False, max_entries=4)
def feature_table_summary(folder: str, version: int) -> dict:
    """customers, as_of, engine and available of a feature table folder (the frame is
    left to `features`, so a large table is not cached twice); FeatureTableError when bad."""
    table = parquet_source.load_feature_table(folder)
    return {"customers": len(table.frame), "as_of": table.as_of, "engine": table.engine,
            "available": table.available}


@shared_frames(max_entries=8)
def features(db: str, version: int, as_of: date):
    """The per-customer feature table as of T: the one expensive query, cached on T and version.

    From a feature table folder, its table (computed for its own T, which the sidebar shows).
    """
    if is_feature_table(db):
        return parquet_source.load_feature_table(db).frame
    with store.connect(db) as con:
        return customer_features(con, as_of=as_of)


@st.cache_data(show_spinner=False, max_entries=8)
def customer_base(db: str, version: int, as_of: date) -> dict:
    """Customer count and the Pareto curve, from the feature table."""
    table = features(db, version, as_of)
    result = scoring.pareto(table, points=400)
    return {"kpis": {"customers": len(table)}, "pareto_curve": result.curve,
            "pareto_share": result.customer_share}


def create_demo(db: str, progress=None) -> None:
    """Fill the file with the built-in demo data (a write: bumps the version; admins only)."""
    auth.actor("reset")
    demo.generate_demo(db, progress=progress)

# --- scoring, customer list, profile, RFM -------------------------------------------
# Settings travel as (weights, thresholds, clv): weights a tuple in
# scoring.DIMENSIONS order, thresholds (high, potential), clv whether the
# 12-month CLV joins the consumption score, so they key the caches. Scores
# are cached on them; the feature query only on T and the data version, so
# a slider move re-scores without touching the file, and the CLV fit
# (clv_fit) only on the file, version and T.

SETTINGS_KEY = "scoring.settings"
DEFAULT_SETTINGS = (tuple(scoring.DEFAULT_WEIGHTS[d] for d in scoring.DIMENSIONS),
                    tuple(scoring.DEFAULT_THRESHOLDS), False)


# The settings also live in the URL's query parameters (?weights=50,25,17,8&thresholds=70,50
# &clv=1), so a browser reload, which starts a new session, keeps them, and a link shares
# the view. Defaults are left out of the URL.
QUERY_WEIGHTS, QUERY_THRESHOLDS, QUERY_CLV = "weights", "thresholds", "clv"


def settings_from_query(params) -> tuple | None:
    """(weights, thresholds, clv) written in query parameters; None when absent or not valid
    (a link typed by hand: the defaults then serve). The sliders hold whole numbers, so
    the URL must too."""
    if not any(name in params for name in (QUERY_WEIGHTS, QUERY_THRESHOLDS, QUERY_CLV)):
        return None
    try:
        weights = scoring.validate_weights(dict(zip(scoring.DIMENSIONS, _whole_numbers(
            params.get(QUERY_WEIGHTS), DEFAULT_SETTINGS[0]))))
        thresholds = scoring.validate_thresholds(_whole_numbers(params.get(QUERY_THRESHOLDS),
                                                                DEFAULT_SETTINGS[1]))
    except ValueError:
        return None
    return (tuple(int(weights[d]) for d in scoring.DIMENSIONS),
            tuple(int(v) for v in thresholds), params.get(QUERY_CLV) == "1")


def _whole_numbers(text: str | None, default: tuple) -> list[float]:
    """Comma-separated whole numbers of a query parameter, `default` when it is absent."""
    if text is None:
        return list(default)
    values = [float(v) for v in str(text).split(",")]
    if len(values) != len(default) or not all(v.is_integer() for v in values):
        raise ValueError(f"expected {len(default)} whole numbers, got {text!r}")
    return values


def settings_query(settings: tuple) -> dict[str, str]:
    """The query parameters of `settings`: only those that differ from the defaults."""
    weights, thresholds, clv = settings
    query = {}
    if tuple(weights) != DEFAULT_SETTINGS[0]:
        query[QUERY_WEIGHTS] = ",".join(f"{w:g}" for w in weights)
    if tuple(thresholds) != DEFAULT_SETTINGS[1]:
        query[QUERY_THRESHOLDS] = ",".join(f"{v:g}" for v in thresholds)
    if clv:
        query[QUERY_CLV] = "1"
    return query


def scoring_settings() -> tuple[tuple[float, ...], tuple[float, float], bool]:
    """(weights, thresholds, clv) of this session's Scoring page: those set in the session,
    else those of the URL (a reload or a shared link), else the defaults."""
    if SETTINGS_KEY not in st.session_state:
        st.session_state[SETTINGS_KEY] = settings_from_query(st.query_params) or DEFAULT_SETTINGS
    return st.session_state[SETTINGS_KEY]


def keep_scoring_settings(weights: tuple, thresholds: tuple, clv: bool = False) -> None:
    """Remember the Scoring page's settings for the other pages of this session, and in the
    URL."""
    st.session_state[SETTINGS_KEY] = (tuple(weights), tuple(thresholds), bool(clv))
    show_settings_in_url()


def show_settings_in_url() -> None:
    """Write the session's settings into the URL (run on every page: a page switch clears
    the query parameters); other parameters are left as they are."""
    wanted = settings_query(scoring_settings())
    for name in (QUERY_WEIGHTS, QUERY_THRESHOLDS, QUERY_CLV):
        if name in wanted and st.query_params.get(name) != wanted[name]:
            st.query_params[name] = wanted[name]
        elif name not in wanted and name in st.query_params:
            del st.query_params[name]


def weight_map(weights: tuple) -> dict[str, float]:
    return dict(zip(scoring.DIMENSIONS, weights))


@shared_frames(max_entries=16)
def sub_scores(db: str, version: int, as_of: date, clv: bool = False):
    """(sub-metric scores, sources present) as of T: the part no slider changes.

    With `clv`, the 12-month CLV sub-metric too, and the source "clv" counts
    as present only when the fit gave values (else the score leaves it out).
    A feature table holds no purchase histories to fit on: CLV stays out.
    """
    table, available = features(db, version, as_of), _sources_present(db, version, as_of)
    if not clv or is_feature_table(db):
        return scoring.sub_metric_scores(table, available=available), available
    values = clv_for_scoring(db, version, as_of)
    subs = scoring.sub_metric_scores(table, available=available, clv=values)
    column = scoring.CLV_SUB_METRIC.score_column
    return subs, {**available, "clv": column in subs and bool(subs[column].notna().any())}


def _sources_present(db: str, version: int, as_of: date) -> dict[str, bool]:
    """Which optional sources hold a value as of T (a feature table records its own)."""
    if is_feature_table(db):
        return feature_table_summary(db, version)["available"]
    with store.connect(db) as con:
        return optional_columns_present(con, as_of=as_of)


def scoring_plan(db: str, version: int, as_of: date, weights: tuple,
                 clv: bool = False) -> scoring.ScoringPlan:
    """What is scored and the effective weights; ValueError when no weight is left."""
    return scoring.scoring_plan(weight_map(weights), sub_scores(db, version, as_of, clv)[1],
                                clv=clv)


def combined_scores(db: str, version: int, as_of: date, weights: tuple, thresholds: tuple,
                    clv: bool = False):
    """Dimension scores, score and tier of every customer: cheap, from the cached sub-scores.

    Not cached: a slider move's scores serve one view (scoring_view caches that), and
    keeping a million-row frame per slider position would only fill the memory.
    """
    subs, available = sub_scores(db, version, as_of, clv)
    return scoring.combine_scores(subs, weights=weight_map(weights), thresholds=thresholds,
                                  available=available)


# The scores of the settings the pages use (a session's own and the baselines), cached.
scores = shared_frames(max_entries=8)(combined_scores)


@st.cache_data(show_spinner=False, max_entries=16)
def clv_score_problem(db: str, version: int, as_of: date):
    """Why the 12-month CLV cannot join the score as of T (an engine.clv.ClvUnavailable:
    no fit, or a partial one without the spend model), or None when it can. Cached on its
    own, like clv_for_scoring, so the answer outlives the fit in clv_fit's cache."""
    fit = clv_fit(db, version, as_of)
    if fit["error"] is not None:
        return fit["error"]
    return fit["result"].spend_error


@st.cache_data(show_spinner=False, max_entries=32)
def scoring_view(db: str, version: int, as_of: date, settings: tuple, baseline: tuple) -> dict:
    """The Scoring page: tier mix under `settings` and under `baseline` (each weights,
    thresholds, clv), movers, histogram."""
    table = features(db, version, as_of)
    now = combined_scores(db, version, as_of, *settings)
    before = scores(db, version, as_of, *baseline)
    moves = scoring.tier_moves(before, now, carry=table[["name"]])
    return {"mix": scoring.category_mix(now["tier"], table["revenue_12m"], categories=scoring.TIERS),
            "mix_before": scoring.category_mix(before["tier"], table["revenue_12m"],
                                               categories=scoring.TIERS),
            "up": moves.up, "down": moves.down, "movers": moves.movers,
            "histogram": scoring.score_histogram(now["score"], now["tier"])}


@st.cache_data(show_spinner=False, max_entries=32)
def threshold_offer(db: str, version: int, as_of: date, settings: tuple, target: tuple) -> dict:
    """The thresholds a target (basis, high %, potential %) gives under `settings`' weights
    (engine.scoring.thresholds_for_target) and the tier mix they would make; ValueError
    when it cannot be met (a revenue target without revenue)."""
    table = features(db, version, as_of)
    score = combined_scores(db, version, as_of, *settings)["score"]
    thresholds = scoring.thresholds_for_target(
        score, table["revenue_12m"], dict(zip(("basis", "high", "potential"), target)))
    return {"thresholds": thresholds,
            "mix": scoring.category_mix(scoring.assign_tiers(score, thresholds),
                                        table["revenue_12m"], categories=scoring.TIERS)}


@st.cache_data(show_spinner=False, max_entries=16)
def presets(db: str, version: int) -> dict:
    """Saved presets {name: {"weights": {...}, "thresholds": (high, potential), "clv": bool}};
    none without a database (they are saved in it)."""
    if is_feature_table(db):
        return {}
    with store.connect(db) as con:
        return preset_store.load_presets(con)


def save_preset(db: str, name: str, weights: tuple, thresholds: tuple, clv: bool = False,
                target: dict | None = None) -> None:
    """Save a named preset, with the target its thresholds came from (a write: bumps the
    data version; auth.Forbidden for a non-admin)."""
    actor = auth.actor("edit_presets")
    with store.write(db) as con:
        preset_store.save_preset(con, name, weight_map(weights), thresholds, clv=clv,
                                 target=target, actor=actor)


def delete_preset(db: str, name: str) -> None:
    actor = auth.actor("edit_presets")
    with store.write(db) as con:
        preset_store.delete_preset(con, name, actor=actor)


@st.cache_data(show_spinner=False, max_entries=16)
def rfm_view(db: str, version: int, as_of: date) -> dict:
    """The RFM page: R × F cells, segment mix, buyers."""
    table = features(db, version, as_of)
    grid = scoring.rfm(table)
    return {"cells": scoring.rfm_grid(grid, table["revenue_12m"]),
            "segments": scoring.category_mix(grid["rfm_segment"], table["revenue_12m"],
                                             categories=scoring.RFM_SEGMENTS),
            "buyers": int(grid["r"].notna().sum()), "customers": len(table)}


@st.cache_data(show_spinner=False, max_entries=16)
def customer_table(db: str, version: int, as_of: date, weights: tuple, thresholds: tuple,
                   clv: bool = False):
    """Every customer with score, tier, RFM, pyramid and master data (engine.profile.LIST_COLUMNS)."""
    table = features(db, version, as_of)
    return profile.customer_table(table, scores(db, version, as_of, weights, thresholds, clv),
                                  scoring.rfm(table), scoring.pyramid(table))


@for_reader
@st.cache_data(show_spinner=False, max_entries=16)
def customer_filter_options(db: str, version: int, as_of: date, *, owner=None) -> dict[str, list]:
    """The values each filter of the customer list offers (no weight changes them)."""
    return profile.filter_options(_own(customer_table(db, version, as_of, *DEFAULT_SETTINGS),
                                       owner))


@for_reader
@st.cache_data(show_spinner=False, max_entries=16)
def customer_count(db: str, version: int, as_of: date, *, owner=None) -> int:
    """How many customers the reader may see (known at T)."""
    return len(_own(customer_table(db, version, as_of, *DEFAULT_SETTINGS), owner))


def in_words(table: pd.DataFrame, lang: str, kinds: dict[str, str]) -> pd.DataFrame:
    """A copy of `table` whose code columns ({column: label kind}) read in `lang`."""
    table = table.copy()
    for column in set(kinds) & set(table.columns):
        values = table[column].astype(object)
        words = {code: i18n.label(kinds[column], code, lang) for code in values.dropna().unique()}
        table[column] = values.map(words).astype(object)
    return table


# Code columns of the customer list and the label kind that names their codes.
LIST_CODES = {"tier": "tier", "rfm_segment": "rfm", "pyramid": "pyramid",
              "customer_type": "customer_type", "source": "source"}


@for_reader
@st.cache_data(show_spinner=False, max_entries=32)
def customer_list(db: str, version: int, as_of: date, weights: tuple, thresholds: tuple,
                  filters: dict, search: str, lang: str, clv: bool = False, *, owner=None):
    """The filtered customer list, best score first, codes in the reader's words."""
    table = profile.filter_customers(
        _own(customer_table(db, version, as_of, weights, thresholds, clv), owner),
        search=search, **filters)
    return in_words(table, lang, LIST_CODES)


def _files(table: pd.DataFrame, headers: dict, sheet: str, lang: str) -> dict[str, bytes]:
    """`table` as CSV and Excel for people (engine.export), headed by `headers`."""
    return {"csv": export.to_csv_bytes(table, headers=headers, lang=lang),
            "xlsx": export.to_excel_bytes(table, sheet_name=sheet, headers=headers, lang=lang)}


@for_reader
@st.cache_data(show_spinner=False, max_entries=16)
def customer_list_files(db: str, version: int, as_of: date, weights: tuple, thresholds: tuple,
                        filters: dict, search: str, lang: str, clv: bool = False, *,
                        owner=None) -> dict[str, bytes]:
    """The filtered list as CSV and Excel, headed in the reader's language, formula-safe."""
    table = customer_list(db, version, as_of, weights, thresholds, filters, search, lang, clv)
    return _files(table, {c: i18n.t(f"customers.col.{c}", lang) for c in table.columns},
                  i18n.t("nav.customers", lang), lang)


@for_reader
@st.cache_data(show_spinner=False, max_entries=64)
def customer_profile(db: str, version: int, as_of: date, customer_id: str, weights: tuple,
                     thresholds: tuple, clv: bool = False, *, owner=None) -> dict | None:
    """One customer: master data, events up to T, and (when known at T) the score explained
    (with its 12-month CLV and that sub-metric's percentile when CLV joins the score).
    None when there is no such customer, or another owner looks after them."""
    with store.connect(db) as con:
        record = profile.customer_record(con, customer_id)
        if record is None or owner is not None and record["owner"] != owner:
            return None
        events = profile.customer_events(con, customer_id, as_of=as_of)
    table = customer_table(db, version, as_of, weights, thresholds, clv)
    row = table.index[table["customer_id"] == customer_id]
    result = {"record": record, "events": events, "summary": None}
    if len(row):
        i = row[0]  # the customer table keeps the features' row order
        values = features(db, version, as_of).iloc[i]
        lifetime = clv_for_scoring(db, version, as_of) if clv else None
        if lifetime is not None:
            values = values.copy()
            values[scoring.CLV_SUB_METRIC.column] = lifetime.get(customer_id, np.nan)
        breakdown = profile.score_breakdown(
            values, scores(db, version, as_of, weights, thresholds, clv).iloc[i],
            scoring_plan(db, version, as_of, weights, clv))
        result |= {"summary": table.iloc[i].to_dict(), "dimensions": breakdown[0],
                   "sub_metrics": breakdown[1]}
    return result


@st.cache_resource(show_spinner=False, max_entries=2)
def event_history(db: str, version: int):
    """The T-independent parts of the feature query (engine.features.event_history): read once
    per data version for every past date a page needs (tier history, review months). A
    resource, not data: the read-only Arrow tables are shared, never copied per use."""
    with store.connect(db) as con:
        return read_event_history(con)


@st.cache_data(show_spinner=False, max_entries=26)
def month_end_sub_scores(db: str, version: int, day: date, clv: bool = False):
    """Sub-metric scores of every customer at a past date (the feature query once per date;
    with `clv`, the CLV models fitted as of that date join them)."""
    lifetime = clv_for_scoring(db, version, day) if clv else None
    history = event_history(db, version)
    with store.connect(db) as con:
        return profile.month_end_sub_scores(con, as_of=day, clv=lifetime, history=history)


@st.cache_data(show_spinner=False, max_entries=64)
def tier_history(db: str, version: int, as_of: date, customer_id: str, weights: tuple,
                 thresholds: tuple, clv: bool = False):
    """The customer's score and tier at the last 12 month ends, with today's settings."""
    snapshots = [(day, *month_end_sub_scores(db, version, day, clv))
                 for day in last_month_ends(as_of)]
    return profile.tier_history(snapshots, customer_id, weights=weight_map(weights),
                                thresholds=thresholds)


@for_reader
@st.cache_data(show_spinner=False, max_entries=32)
def customer_choices(db: str, version: int, as_of: date, weights: tuple, thresholds: tuple,
                     search: str, limit: int = 100, clv: bool = False, *, owner=None) -> dict:
    """{customer_id: "id · name"} of up to `limit` customers matching `search`, best first."""
    table = _own(customer_table(db, version, as_of, weights, thresholds, clv), owner)
    found = profile.filter_customers(table, search=search).head(limit)
    return dict(zip(found["customer_id"], found["customer_id"] + " · " + found["name"].fillna("")))


# --- segments ---------------------------------------------------------------------------
# Feature columns travel as a tuple and k as an int, or None for automatic,
# so they key the caches. The k-means work is cached without the language;
# names, labels and tables in the reader's words are cached with it.

SEGMENT_FEATURES = segment_engine.DEFAULT_FEATURES


@st.cache_data(show_spinner=False, max_entries=8)
def segmentation(db: str, version: int, as_of: date, columns: tuple, k: int | None,
                 _progress_text: str | None = None) -> segment_engine.Segmentation:
    """K-means segments of every customer as of T (engine.segments.segment_customers).

    Automatic k (None) also yields the elbow/silhouette curve; a k set by
    hand is fitted alone. With `_progress_text` (not part of the key) a
    progress bar shows while it computes; bar and its removal happen inside
    the cached call, so a cache hit shows nothing. Raises ValueError when the
    features cannot form segments.
    """
    table = features(db, version, as_of)
    bar = st.progress(0.0, text=_progress_text) if _progress_text else None
    try:
        return segment_engine.segment_customers(
            table, columns=columns, k=k,
            progress=(lambda f: bar.progress(f, text=_progress_text)) if bar else None)
    finally:
        if bar is not None:
            bar.empty()


@st.cache_data(show_spinner=False, max_entries=16)
def segment_view(db: str, version: int, as_of: date, columns: tuple, k: int | None,
                 lang: str, settings: tuple, _progress_text: str | None = None) -> dict:
    """Everything the Segments page draws except the scatter, in the reader's words.

    settings: (weights, thresholds) of the tiers in the crosstab.
    Returns k, auto, silhouette, fit_rows, customers; curve (k, inertia,
    silhouette, from the automatic run) and auto_k; labels {segment: "n · name"};
    overview (segment label, customers, shares, revenue, next_step: the playbook action
    most members are due, in words, engine.segments.segment_next_steps); heatmap (index,
    segments × feature labels); crosstab (segment label × tier label counts).
    """
    automatic = segmentation(db, version, as_of, columns, None, _progress_text)
    result = automatic if k is None else segmentation(db, version, as_of, columns, k,
                                                      _progress_text)
    table = features(db, version, as_of)
    tiers = scores(db, version, as_of, *settings)["tier"]
    profile_ = segment_engine.segment_profile(table, result, tiers=tiers)
    names = segment_engine.segment_names(profile_, lang)
    labels = {s: i18n.t("segments.label", lang, number=s, name=n) for s, n in names.items()}
    feature_names = [segment_engine.feature_label(c, lang) for c in result.columns]
    heatmap = profile_[[f"index_{c}" for c in result.columns]].set_axis(feature_names, axis=1)
    crosstab = segment_engine.tier_crosstab(result, tiers)
    crosstab.columns = [i18n.label("tier", c, lang) for c in crosstab.columns]
    steps = segment_engine.segment_next_steps(result, _actions_of(table, tasks(
        db, version, as_of, settings)))
    profile_["next_step"] = [
        i18n.t("segments.step.none", lang) if pd.isna(action) else
        i18n.t("segments.step.share", lang, step=i18n.t(f"segments.step.{action}", lang),
               share=share) for action, share in zip(steps["action"], steps["share"])]
    # a k set by hand is the same fit as that k on the automatic curve (same sample and seed)
    on_curve = automatic.curve.set_index("k")["silhouette"]
    silhouette = result.silhouette if k is None else float(on_curve.get(k, float("nan")))
    return {"k": result.k, "auto": result.auto, "silhouette": silhouette,
            "fit_rows": result.fit_rows, "customers": len(result.labels),
            "silhouette_rows": min(result.fit_rows, segment_engine.DEFAULT_SILHOUETTE_SAMPLE),
            "curve": automatic.curve, "auto_k": automatic.k, "labels": labels,
            "overview": profile_[["customers", "customer_share", "revenue", "revenue_share",
                                  "next_step"]]
            .rename(index=labels).rename_axis("segment").reset_index(),
            "heatmap": heatmap.rename(index=labels),
            "crosstab": crosstab.rename(index=labels)}


def _actions_of(table: pd.DataFrame, tasks_: pd.DataFrame) -> pd.Categorical:
    """Each customer's next action (a code of the task list, NaN without a task), in the
    feature table's row order."""
    action = pd.Series(tasks_["action"].cat.codes.to_numpy(), index=tasks_["customer_id"].array)
    codes = action.reindex(table["customer_id"].array).fillna(-1).to_numpy(dtype=np.int64)
    return pd.Categorical.from_codes(codes, categories=tasks_["action"].cat.categories)


@st.cache_data(show_spinner=False, max_entries=16)
def segment_scatter(db: str, version: int, as_of: date, columns: tuple, k: int | None,
                    x: str | None, y: str | None) -> dict:
    """Points to draw (a sample): PCA when x and y are None, else the two features."""
    table = features(db, version, as_of)
    points, ratio = segment_engine.scatter_points(table, segmentation(db, version, as_of,
                                                                      columns, k), x=x, y=y)
    return {"points": points, "ratio": ratio, "total": len(table)}


def segment_feature_choices(db: str, version: int, as_of: date, lang: str) -> dict[str, str]:
    """{column: label} of the numeric feature columns a user may cluster on, in table order."""
    return {c: segment_engine.feature_label(c, lang)
            for c in segment_engine.numeric_features(features(db, version, as_of))}


@st.cache_data(show_spinner=False, max_entries=16)
def segment_members_file(db: str, version: int, as_of: date, columns: tuple, k: int | None,
                         segment: int | None, lang: str, kind: str) -> bytes:
    """Members of one segment (None: all) as CSV or Excel bytes (engine.export)."""
    table = features(db, version, as_of)
    result = segmentation(db, version, as_of, columns, k)
    names = segment_engine.segment_names(segment_engine.segment_profile(table, result), lang)
    frame = segment_engine.members(table, result, names, segment=segment)
    return (export.to_csv_bytes(frame, lang=lang) if kind == "csv"
            else export.to_excel_bytes(frame, sheet_name=i18n.t("nav.segments", lang), lang=lang))


@st.cache_data(show_spinner=False, max_entries=8)
def customer_segments(db: str, version: int, as_of: date, lang: str,
                      columns: tuple = segment_engine.DEFAULT_FEATURES,
                      k: int | None = None):
    """customer_id, segment (1..k) and segment_name of every customer, for the customer list."""
    table = features(db, version, as_of)
    result = segmentation(db, version, as_of, columns, k)
    names = segment_engine.segment_names(segment_engine.segment_profile(table, result), lang)
    out = result.assignment()
    out["segment_name"] = names.reindex(out["segment"]).to_numpy()
    return out


# --- monthly review ---------------------------------------------------------------------
# Months travel as "YYYY-MM" and settings as (weights in scoring.DIMENSIONS order,
# thresholds), so they key the caches. Each month-end snapshot and each month's
# activity is cached on its own, keyed on the data version (imports, undo and
# follow-ups bump it): switching months computes at most one new snapshot, and
# a month seen before is served whole from `monthly_review`. Nothing is stored
# in the database file.


def review_months(db: str, version: int, as_of: date) -> list[str]:
    """Months the Review page offers, newest first: complete by T, with a month before them."""
    first = source_summary(db, version)["first"]
    return [month_key(m) for m in review_engine.reviewable_months(first, as_of)]


@st.cache_data(show_spinner=False, max_entries=30)
def review_snapshot(db: str, version: int, month: str, settings: tuple):
    """Score, tier, demand tag and risk of every customer known at the end of `month`
    (with `settings`' clv, the CLV models fitted as of that day join the score)."""
    weights, thresholds, clv = settings
    day = month_end(parse_month(month))
    lifetime = clv_for_scoring(db, version, day) if clv else None
    history = event_history(db, version)
    with store.connect(db) as con:
        return review_engine.month_end_snapshot(
            con, month_end=day, weights=dict(zip(scoring.DIMENSIONS, weights)),
            thresholds=tuple(thresholds), clv=lifetime, history=history)


@st.cache_data(show_spinner=False, max_entries=30)
def review_activity(db: str, version: int, month: str):
    """Per-customer transactions, purchases, revenue, interactions and follow-ups during `month`."""
    with store.connect(db) as con:
        return review_engine.month_activity_for(con, month=month)


@st.cache_data(show_spinner=False, max_entries=64)
def review_month_summary(db: str, version: int, month: str, settings: tuple):
    """Tier mix at the end of `month` and revenue during it by tier (small: kept long)."""
    return review_engine.month_summary(parse_month(month),
                                       review_snapshot(db, version, month, settings),
                                       review_activity(db, version, month))


@st.cache_data(show_spinner=False, max_entries=64)
def review_month_rates(db: str, version: int, month: str, settings: tuple) -> dict:
    """Wake-up, win-back and retention of `month`, from the snapshots at its end and at the
    end of the month before it (small: kept long, so the 12-month trend is cheap)."""
    before = month_key(shift_month(parse_month(month), -1))
    return review_engine.month_rates(review_snapshot(db, version, before, settings),
                                     review_snapshot(db, version, month, settings),
                                     review_activity(db, version, month))


@st.cache_data(show_spinner=False, max_entries=64)
def review_month_events(db: str, version: int, month: str) -> dict:
    """Complaints by topic and interactions with their ratings during `month` (small)."""
    first = parse_month(month)
    with store.connect(db) as con:
        return {"complaints": month_activity.complaints_by_topic(con, first_month=first,
                                                                 last_month=first),
                "interactions": month_activity.interactions_by_month(con, first_month=first,
                                                                     last_month=first)}


@st.cache_data(show_spinner=False, max_entries=16)
def monthly_review(db: str, version: int, month: str, settings: tuple,
                   _progress_text: str | None = None):
    """Every figure of the review of `month` (engine.review.MonthlyReview), from cached pieces.

    With `_progress_text` (not part of the key) a progress bar counts the
    months while their snapshots are computed (the rates of the first month also
    need the month end before it); bar and its removal happen inside the cached
    call, so a cache hit shows nothing.
    """
    months = review_engine.review_months(month)
    keys = [month_key(m) for m in months]
    bar = st.progress(0.0, text=_progress_text) if _progress_text else None
    try:
        summaries, rates = [], []
        for i, key in enumerate(reversed(keys), start=1):      # M and M−1 first
            summaries.insert(0, review_month_summary(db, version, key, settings))
            rates.insert(0, review_month_rates(db, version, key, settings))
            if bar is not None:
                bar.progress(i / len(keys), text=_progress_text)
    finally:
        if bar is not None:
            bar.empty()
    changes = review_engine.month_changes(review_snapshot(db, version, keys[-2], settings),
                                          review_snapshot(db, version, keys[-1], settings),
                                          review_activity(db, version, keys[-1]))
    events = [review_month_events(db, version, key) for key in keys]
    return review_engine.build_review(
        month, months=months, summaries=summaries, changes=changes, rates=rates,
        complaints=pd.concat([e["complaints"] for e in events], ignore_index=True),
        interactions=pd.concat([e["interactions"] for e in events], ignore_index=True),
        data_end=source_summary(db, version)["last"])


def review_report_html(review, lang: str) -> bytes:
    """The self-contained HTML report (built when its download button is pressed)."""
    from report.html import review_html
    return review_html(review, lang).encode("utf-8")


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def review_workbook(review, lang: str) -> bytes:
    """The Excel workbook, one sheet per table (built when its download button is pressed)."""
    return review_report.review_workbook(review, lang)


def review_summary(review, lang: str) -> list[str]:
    """The month's notable changes in words (report.review.summary_lines)."""
    return review_report.summary_lines(review, lang)

# --- import (the Data page) ---------------------------------------------------------------
# An upload is keyed on its file_id (a new one for every upload) and handed over as
# `_upload`, which the cache does not hash. A file the engine refuses comes back as
# {"rejected": (problems, total)} rather than raised, so the refusal is cached like a
# result. The writes below go through engine.ingest, which bumps the data version.
# Workbooks are read in a worker process (`in_worker`): openpyxl's parsing would
# otherwise hold the interpreter lock that every other session's page needs.


BATCH_COLUMNS = ("batch_id", "file_name", "table_name", "imported_at", "rows_inserted",
                 "rows_updated", "rows_unchanged", "rows_rejected", "customers_created",
                 "undone_at", "content_hash")


def _refusal(exc: ingest.ImportRejected) -> dict:
    return {"rejected": (exc.problems, exc.total)}


@st.cache_data(show_spinner=False, max_entries=32)
def inspect_upload(file_id: str, _upload, name: str, encoding: str | None = None,
                   delimiter: str | None = None, sheet: str | None = None) -> dict:
    """{"info": FileInfo} (format, encoding, separator, sheets, headers, sample) or
    {"rejected": (problems, total)} for an uploaded file."""
    try:
        return {"info": ingest.inspect_file(_upload, name=name, encoding=encoding,
                                            delimiter=delimiter, sheet=sheet, in_worker=True)}
    except ingest.ImportRejected as exc:
        return _refusal(exc)


@st.cache_data(show_spinner=False, max_entries=16)
def preview_upload(db: str, version: int, file_id: str, _upload, name: str, table: str,
                   mapping: tuple, options: tuple) -> dict:
    """{"report": the ImportReport of a dry run} or {"rejected": (problems, total)}.

    `mapping` is a tuple of (header, column or None) pairs, `options` of
    (name, value) pairs for engine.ingest.preview_import. Writes nothing.
    """
    try:
        return {"report": ingest.preview_import(db, _upload, table, name=name, mapping=dict(mapping),
                                                in_worker=True, **dict(options))}
    except ingest.ImportRejected as exc:
        return _refusal(exc)


@st.cache_data(show_spinner=False, max_entries=16)
def import_batches(db: str, version: int) -> pd.DataFrame:
    """The import history, newest first (engine.ingest.list_batches); empty without a file."""
    if not Path(db).exists():
        return pd.DataFrame(columns=list(BATCH_COLUMNS))
    return ingest.list_batches(db)


@st.cache_data(show_spinner=False, max_entries=16)
def saved_mappings(db: str, version: int, table: str) -> list[str]:
    """Names of the mappings saved for `table`, newest first."""
    if not Path(db).exists():
        return []
    return ingest.list_mappings(db, table)["name"].tolist()


@st.cache_data(show_spinner=False, max_entries=32)
def saved_mapping(db: str, version: int, name: str) -> dict:
    """The mapping saved under `name` ({file header: column or None})."""
    return ingest.load_mapping(db, name)[1]


def import_files(db: str, items: list, *, progress=None, **options) -> list:
    """Import files in one transaction (a write: bumps the version); ImportRejected
    (nothing written) or StoreLocked when refused. See engine.ingest.import_files.
    Admins only (auth.Forbidden), like every write of the Data page."""
    actor = auth.actor("import")
    return ingest.import_files(db, items, progress=progress, actor=actor, in_worker=True, **options)


def undo_import(db: str, batch_id: int):
    """Undo one import batch (a write); UndoRefused when later data builds on it."""
    return ingest.undo_batch(db, batch_id, actor=auth.actor("undo"))


def reset_data(db: str, *, demo: bool, progress=None) -> dict:
    """Empty the data and history, then load the demo or nothing (a write)."""
    options = {"progress": progress} if demo and progress is not None else {}
    return ingest.reset(db, demo=demo, actor=auth.actor("reset"), **options)


def save_import_mapping(db: str, name: str, table: str, mapping: dict) -> None:
    """Keep a mapping under `name` for later files of `table` (a write)."""
    ingest.save_mapping(db, name, table, mapping, actor=auth.actor("import"))


def on_click(content: bytes):
    """`content` as a callable for st.download_button: Streamlit then makes the file's
    /media link only when the button is clicked, and drops the file a couple of page
    runs later, rather than serving it from every run for as long as the session
    lives (issue 19, part 9)."""
    return lambda: content


# --- backups (engine.backup) ------------------------------------------------------------
# A backup is of the data at the moment it is asked for, so it is not cached; the
# check of an uploaded backup is cached on the upload, like the import's dry run.


@st.cache_data(show_spinner=False, max_entries=16)
def data_fingerprint(db: str, version: int) -> pd.DataFrame:
    """Rows and checksum of every table now (engine.backup.fingerprint)."""
    return backup.data_fingerprint(db)


def backup_file_maker(db: str, kind: str):
    """The download button's callable for a backup of the whole database ("duckdb" or
    "parquet"). Every owner's customers are in it, so auth.Forbidden for any reader but
    an admin, checked here, while the page runs: Streamlit calls the callable on the
    click, outside the session, where the reader is not known."""
    return functools.partial(backup_file, db, kind, auth.actor("backup"))


def backup_file(db: str, kind: str, actor: str) -> bytes:
    """A backup as bytes, its download written to the audit log as `actor`'s."""
    content = backup.backup_bytes(db, kind)
    audit.log_event(db, actor, "backup_download", {"kind": kind, "bytes": len(content)})
    return content


@st.cache_data(show_spinner=False, max_entries=8)
def check_backup(file_id: str, _upload, name: str) -> dict:
    """{"report": what the backup holds} or {"rejected": BackupRejected's code and params}."""
    try:
        return {"report": backup.check_backup(_upload, name=name)}
    except backup.BackupRejected as exc:
        return {"rejected": (exc.code, exc.params)}


def restore_backup(db: str, upload):
    """Replace the data with a backup's (a write: bumps the version); BackupRejected
    (nothing changed) or StoreLocked when refused. See engine.backup.restore."""
    actor = auth.actor("restore")
    return backup.restore(db, upload, name=upload.name, actor=actor)


# --- lifetime value ---------------------------------------------------------------------
# The models are fitted once per data version, as-of date and calibration end
# (the file is closed before the fit); the lenses (tier under this session's
# weights, segment, pyramid level) and their labels are joined on in the
# reader's language. A ClvUnavailable is returned, not raised, so that it is
# cached like a result.


CLV_LENSES = ("tier", "segment", "pyramid")


@st.cache_data(show_spinner=False, max_entries=8)
def clv_fit(db: str, version: int, as_of: date, calibration_end: date | None = None) -> dict:
    """{"result": ClvResult or None, "error": ClvUnavailable or None}, fitted on the
    purchases up to `calibration_end` (None: the as-of date, no holdout)."""
    calibration_end = calibration_end or as_of
    with store.connect(db) as con:
        calibration, current = clv_engine.load_inputs(con, as_of=as_of,
                                                      calibration_end=calibration_end)
    try:
        result = clv_engine.fit_and_predict(calibration, current, as_of=as_of,
                                            calibration_end=calibration_end)
    except clv_engine.ClvUnavailable as exc:
        return {"result": None, "error": exc}
    return {"result": result, "error": None, "totals": clv_page.totals(result),
            "parameters": clv_page.parameter_table(result)}


@st.cache_data(show_spinner=False, max_entries=8)
def clv_small_data(db: str, version: int, as_of: date) -> dict:
    """Buyers, repeat buyers and each buyer's past when the models cannot be fitted
    (engine.clv_page.small_data)."""
    return clv_page.small_data(features(db, version, as_of))


def clv_calibration_range(db: str, version: int, as_of: date) -> tuple | None:
    """(default, earliest, latest) calibration end for the holdout check, or None."""
    span = clv_page.calibration_end_range(source_summary(db, version)["first"], as_of)
    if span is None:
        return None
    default = min(max(clv_page.default_calibration_end(as_of), span[0]), span[1])
    return default, *span


@st.cache_data(show_spinner=False, max_entries=8)
def clv_customers(db: str, version: int, as_of: date, settings: tuple, lang: str) -> dict:
    """Every modelled customer with name, lenses in the reader's words, 12-month revenue and
    its rank (engine.clv_page.with_lenses); "base" (all customers), "categories" (each lens's
    labels in order) and "segment_error" (why there are no segments, or None)."""
    result = clv_fit(db, version, as_of)["result"]
    table = features(db, version, as_of)
    levels = scoring.pyramid(table)
    tiers = scores(db, version, as_of, *settings)["tier"].astype(object)
    categories = {kind: [i18n.label(kind, code, lang) for code in codes]
                  for kind, codes in (("tier", scoring.TIERS), ("pyramid", scoring.PYRAMID_LEVELS))}
    lenses = pd.DataFrame({
        "customer_id": table["customer_id"].to_numpy(), "name": table["name"].to_numpy(),
        "tier": tiers.map(dict(zip(scoring.TIERS, categories["tier"]))).to_numpy(),
        "segment": None,
        "pyramid": levels["pyramid"].astype(object)
        .map(dict(zip(scoring.PYRAMID_LEVELS, categories["pyramid"]))).to_numpy(),
        "revenue_12m": levels["revenue_12m"].to_numpy(),
        "revenue_rank": levels["revenue_rank"].to_numpy()})
    segment_error = None
    try:
        found = customer_segments(db, version, as_of, lang)
    except ValueError as exc:
        segment_error, categories["segment"] = str(exc), []
    else:
        names = dict(zip(found["segment"], found["segment_name"]))
        words = {s: i18n.t("segments.label", lang, number=s, name=names[s]) for s in sorted(names)}
        lenses["segment"] = found.set_index("customer_id")["segment"].map(words) \
            .reindex(lenses["customer_id"]).to_numpy()
        categories["segment"] = list(words.values())
    return {"table": clv_page.with_lenses(result.customers, lenses), "base": len(table),
            "categories": categories, "segment_error": segment_error}


@st.cache_data(show_spinner=False, max_entries=16)
def clv_distribution(db: str, version: int, as_of: date, settings: tuple, lang: str,
                     lens: str):
    """P(alive) and CLV quantiles, means and totals per group of `lens` (CLV_LENSES)."""
    view = clv_customers(db, version, as_of, settings, lang)
    return clv_page.distribution_by(view["table"], lens, categories=view["categories"][lens])


def clv_top(db: str, version: int, as_of: date, settings: tuple, lang: str, n: int):
    """The n customers with the largest 12-month CLV (none in a partial result), with a
    "label" of id and name for charts."""
    top = clv_page.top_customers(clv_customers(db, version, as_of, settings, lang)["table"], n)
    return top.assign(label=top["customer_id"] + " · " + top["name"].fillna(""))


def clv_slipping(db: str, version: int, as_of: date, settings: tuple, lang: str,
                 top_share: float, max_p_alive: float):
    """Valuable and slipping customers (engine.clv_page.valuable_and_slipping)."""
    view = clv_customers(db, version, as_of, settings, lang)
    return clv_page.valuable_and_slipping(view["table"], base_size=view["base"],
                                            top_share=top_share, max_p_alive=max_p_alive)


@st.cache_data(show_spinner=False, max_entries=8)
def clv_file(db: str, version: int, as_of: date, settings: tuple, lang: str, kind: str,
             slipping: tuple | None = None) -> bytes:
    """Modelled customers (or, with slipping=(top_share, max_p_alive), the valuable and
    slipping ones) as CSV or Excel bytes, headed in the reader's language."""
    table = (clv_customers(db, version, as_of, settings, lang)["table"] if slipping is None
             else clv_slipping(db, version, as_of, settings, lang, *slipping))
    table = table.drop(columns="revenue_rank")
    return _files(table, {c: i18n.t(f"clv.col.{c}", lang) for c in table.columns},
                  i18n.t("nav.clv", lang), lang)[kind]


def clv_file_maker(*args, **kwargs):
    """`clv_file` bound to its arguments, for a download button that builds the file on click."""
    return functools.partial(clv_file, *args, **kwargs)


@st.cache_data(show_spinner=False, max_entries=16)
def clv_for_scoring(db: str, version: int, as_of: date):
    """12-month CLV by customer_id (a Series) for the value score's optional CLV sub-metric
    (engine.scoring.score_customers(clv=...)), or None when there are no lifetime values.
    In a partial result every value is NaN, and the scoring leaves the sub-metric out.
    Cached on its own (small) so that the 13 dates of a tier history, which push fits
    out of clv_fit's cache, never make the scores at T fit again."""
    result = clv_fit(db, version, as_of)["result"]
    if result is None:
        return None
    return result.customers.set_index("customer_id")[f"clv_{result.settings.horizon_months}m"]


# --- churn risk, the learned churn model, the maintenance plan and follow-ups -----------
# Settings travel as (weights, thresholds), so the tiers the plan acts on key the caches.
# The follow-up log is written through engine.plan, whose writes bump the data version:
# every result below is keyed on it and goes stale with the next follow-up.


# Code columns of the risk lists and the task list, and the label kind that names their codes.
RISK_CODES = {"tier": "tier", "risk_level": "risk", "demand_tag": "demand",
              "lifecycle": "lifecycle", "action": "action", "owner": "owner_role",
              "last_followup_status": "followup_status", "state": "task_state"}
TASK_STATES = ("overdue", "due", "upcoming")   # due before T, on T, after T
RISK_LIST_COLUMNS = ("customer_id", "name", "owner", "tier", "risk_level", "demand_tag",
                     "lifecycle", "revenue_12m", "last_purchase_date", "last_interaction_date",
                     "complaints_90d", "risk_reasons")


def _in_words(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A copy of `table` whose code columns (RISK_CODES) read in `lang`."""
    return in_words(table, lang, RISK_CODES)


@st.cache_data(show_spinner=False, max_entries=8)
def risk_assessment(db: str, version: int, as_of: date):
    """Demand tag, churn risk with reason columns and lifecycle of every customer (risk.assess)."""
    return risk_engine.assess(features(db, version, as_of), as_of=as_of)


@st.cache_data(show_spinner=False, max_entries=16)
def risk_summary(db: str, version: int, as_of: date) -> dict:
    """Customers per risk level, demand tag and lifecycle stage, risk × demand, value at risk."""
    assessed = risk_assessment(db, version, as_of)
    return {"risk": risk_engine.counts(assessed, "risk_level"),
            "demand": risk_engine.counts(assessed, "demand_tag"),
            "lifecycle": risk_engine.counts(assessed, "lifecycle"),
            "crosstab": risk_engine.risk_by_demand(assessed),
            "value_at_risk": risk_engine.value_at_risk(features(db, version, as_of), assessed)}


@st.cache_data(show_spinner=False, max_entries=8)
def flagged_by_month(db: str, version: int, as_of: date):
    """Risk and dormancy counts at each of the last 12 month ends and at T (a few seconds)."""
    return risk_engine.flagged_by_month(db, as_of=as_of)  # opens the file per month end


@st.cache_data(show_spinner=False, max_entries=4)
def churn_model_view(db: str, version: int, as_of: date) -> dict:
    """The learned churn model as of T: its evaluation and every customer's probability.

    Training takes seconds to a minute, so it is cached on the file, its
    version and T. Returns {"summary": ChurnModel.summary(), "importance":
    feature, importance, std (most important first), "probability": Series
    by customer_id} or, when the history is too short, {"error": (key, values)}
    for i18n.t.
    """
    try:
        model = churn_model.train_churn_model(db, as_of=as_of)  # the file per month end
    except churn_model.NotEnoughHistory as exc:
        return {"error": (exc.key, exc.values)}
    return {"summary": model.summary(), "importance": model.importance,
            "probability": churn_model.churn_probability(model, features(db, version, as_of),
                                                         as_of=as_of)}


@st.cache_data(show_spinner=False, max_entries=16)
def risk_list(db: str, version: int, as_of: date, kind: str, settings: tuple, lang: str,
              with_model: bool = False, order: str = "value"):
    """The high-risk (kind "high") or dormant ("dormant") customers.

    Columns RISK_LIST_COLUMNS in the reader's words, + churn_probability and model_alert
    (engine.churn_model.model_alerts: among the model's top as many customers as the rules
    flag high) when `with_model` and the model could be trained. `order` "value": the
    value at risk (12-month revenue) first; "probability": the likeliest to stop buying
    first (then by value; customers without a probability last).
    """
    table, assessed = features(db, version, as_of), risk_assessment(db, version, as_of)
    chosen = (assessed["risk_level"] == "high" if kind == "high"
              else assessed["demand_tag"] == "dormant").to_numpy()
    tiers = scores(db, version, as_of, *settings)["tier"]
    members = table.loc[chosen].assign(
        tier=tiers.to_numpy()[chosen],
        **{c: assessed[c].to_numpy()[chosen] for c in ("risk_level", "demand_tag", "lifecycle")},
        risk_reasons=risk_engine.reasons_text(assessed.loc[chosen], lang).to_numpy())
    members = members[list(RISK_LIST_COLUMNS)]
    if with_model:
        model = churn_model_view(db, version, as_of)
        if "probability" in model:
            ids = members["customer_id"].to_numpy()
            members["churn_probability"] = model["probability"].reindex(ids).to_numpy()
            alerts = churn_model.model_alerts(model["probability"],
                                              int((assessed["risk_level"] == "high").sum()))
            members["model_alert"] = alerts.reindex(ids).fillna(False).to_numpy(dtype=bool)
    keys = (["churn_probability"] if order == "probability" and "churn_probability" in members
            else [])
    members = members.sort_values([*keys, "revenue_12m", "customer_id"],
                                  ascending=[False] * len(keys) + [False, True],
                                  kind="stable", na_position="last")
    return _in_words(members.reset_index(drop=True), lang)


@st.cache_data(show_spinner=False, max_entries=16)
def risk_list_files(db: str, version: int, as_of: date, kind: str, settings: tuple, lang: str,
                    with_model: bool = False, order: str = "value") -> dict[str, bytes]:
    """A risk list as CSV and Excel, headed in the reader's language, in the page's order."""
    table = risk_list(db, version, as_of, kind, settings, lang, with_model, order)
    return _files(table, {c: i18n.t(f"risk_page.col.{c}", lang) for c in table.columns},
                  i18n.t(f"risk_page.list.{kind}_sheet", lang), lang)


@st.cache_data(show_spinner=False, max_entries=16)
def playbook(db: str, version: int) -> tuple:
    """The saved playbook (DEFAULT_PLAYBOOK when none, or without a database to save it in);
    PlaybookError when it cannot be read."""
    if is_feature_table(db):
        return plan_engine.DEFAULT_PLAYBOOK
    with store.connect(db) as con:
        return plan_engine.load_playbook(con)


def save_playbook(db: str, records) -> None:
    """Validate and save the playbook (a write: bumps the version); PlaybookError when invalid,
    auth.Forbidden for a non-admin."""
    plan_engine.save_playbook(db, records, actor=auth.actor("edit_playbook"))


@st.cache_data(show_spinner=False, max_entries=8)
def followup_state(db: str, version: int, as_of: date):
    """The follow-up log as of T (engine.features.followup_state); empty without a database."""
    if is_feature_table(db):
        return no_followups()
    with store.connect(db) as con:
        return read_followup_state(con, as_of=as_of)


def _tiers(db: str, version: int, as_of: date, settings: tuple) -> pd.Series:
    frame = scores(db, version, as_of, *settings)
    return pd.Series(frame["tier"].to_numpy(), index=frame["customer_id"].to_numpy())


@st.cache_data(show_spinner=False, max_entries=16)
def tasks(db: str, version: int, as_of: date, settings: tuple):
    """The task list as of T under the saved playbook and the tiers of `settings` (codes)."""
    try:
        rules = playbook(db, version)
    except plan_engine.PlaybookError:
        rules = plan_engine.DEFAULT_PLAYBOOK   # the page says so; the tasks still follow §4.7
    return plan_engine.task_list(features(db, version, as_of),
                                 tiers=_tiers(db, version, as_of, settings),
                                 followup_state=followup_state(db, version, as_of), as_of=as_of,
                                 playbook=rules, assessed=risk_assessment(db, version, as_of))


@for_reader
def task_options(db: str, version: int, as_of: date, settings: tuple, *,
                 owner=None) -> dict[str, list]:
    """The owners and actions the task filters offer, most tasks first."""
    table = _own(tasks(db, version, as_of, settings), owner)
    return {name: [v for v, n in table[name].value_counts().items() if n]
            for name in ("owner", "action")}


@for_reader
@st.cache_data(show_spinner=False, max_entries=32)
def task_view(db: str, version: int, as_of: date, settings: tuple, owners: tuple,
              actions: tuple, due: str, lang: str, *, owner=None) -> dict:
    """The filtered tasks (codes kept in "codes", words in "table") and their counts.

    due: "all", "due" (due on or before T) or "overdue". "names" maps each
    shown customer_id to "id · name · action" for a picker. A task's owner
    is the customer's owner (else a role code), so `owner` keeps a rep's own.
    """
    table = _own(tasks(db, version, as_of, settings), owner)
    keep = pd.Series(True, index=table.index)
    if owners:
        keep &= table["owner"].isin(owners)
    if actions:
        keep &= table["action"].isin(actions)
    if due == "due":
        keep &= table["due_date"] <= pd.Timestamp(as_of)
    elif due == "overdue":
        keep &= table["overdue"]
    shown = table[keep].reset_index(drop=True)
    today = (shown["due_date"] == pd.Timestamp(as_of)).to_numpy()
    shown.insert(0, "state", pd.Categorical.from_codes(
        np.select([shown["overdue"].to_numpy(), today], [0, 1], 2), categories=TASK_STATES))
    words = _task_words(shown, lang)
    names = (words["customer_id"].astype(str) + " · " + words["name"].fillna("").astype(str)
             + " · " + words["action"].astype(str))
    return {"codes": shown, "table": words, "names": dict(zip(shown["customer_id"], names)),
            "total": len(table),
            "overdue": int(table["overdue"].sum()),
            "due_today": int((table["due_date"] == pd.Timestamp(as_of)).sum())}


def _task_words(shown: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The tasks in the reader's words, an overdue state with its days ("Overdue by 553
    days"), and no "low" churn risk beside a churned lifecycle: the risk rules watch spend in
    the last 180 days and recent complaints, so a customer gone longer has nothing left for
    them to flag; the row says "already churned" instead of a reassuring "low"."""
    words = _in_words(shown, lang)
    late = shown["overdue"].to_numpy(dtype=bool)
    if late.any():
        days = shown.loc[late, "days_overdue"]
        said = {d: i18n.t("plan_page.overdue_days", lang, days=f"{d:,}") for d in days.unique()}
        words["state"] = words["state"].astype(object)
        words.loc[late, "state"] = days.map(said).to_numpy()
    gone = ((shown["lifecycle"] == "churned") & (shown["risk_level"] == "low")).to_numpy()
    if gone.any():
        words["risk_level"] = words["risk_level"].astype(object)
        words.loc[gone, "risk_level"] = i18n.t("plan_page.risk_churned", lang)
    return words


@for_reader
@st.cache_data(show_spinner=False, max_entries=16)
def task_files(db: str, version: int, as_of: date, settings: tuple, owners: tuple,
               actions: tuple, due: str, lang: str, *, owner=None) -> dict[str, bytes]:
    """The filtered task list as a call list (CSV and Excel), headed in the reader's language."""
    table = task_view(db, version, as_of, settings, owners, actions, due, lang)["table"]
    table = table.drop(columns=["owner_role", "last_followup_id"])
    return _files(table, {c: i18n.t(f"plan_page.col.{c}", lang) for c in table.columns},
                  i18n.t("plan_page.call_list_sheet", lang), lang)


@for_reader
def next_action(db: str, version: int, as_of: date, settings: tuple, customer_id: str, *,
                owner=None) -> dict | None:
    """The customer's task as {action, owner, due_date, overdue, ...}, or None without one."""
    table = _own(tasks(db, version, as_of, settings), owner)
    row = table.index[table["customer_id"] == customer_id]
    return table.loc[row[0]].to_dict() if len(row) else None


@for_reader
@st.cache_data(show_spinner=False, max_entries=64)
def customer_followups(db: str, version: int, customer_id: str, *, owner=None):
    """The customer's follow-ups with their ids, latest first (engine.plan.customer_followups);
    none for a customer another owner looks after."""
    with store.connect(db) as con:
        logged = plan_engine.customer_followups(con, customer_id)
        record = profile.customer_record(con, customer_id) if owner is not None else None
    return logged if owner is None or record and record["owner"] == owner else logged.head(0)


def log_followup(db: str, **fields) -> int:
    """Write one follow-up at once (a write: bumps the version); FollowupError when refused,
    also for a rep's customer of another owner."""
    return plan_engine.log_followup(db, actor=auth.actor("log_followup"),
                                    only_owner=auth.scope(), **fields)


def set_followup_status(db: str, followup_id: int, status: str) -> None:
    """Change a follow-up's status (a write: bumps the version); FollowupError when refused."""
    plan_engine.set_followup_status(db, followup_id, status, actor=auth.actor("log_followup"),
                                    only_owner=auth.scope())


# The playbook in a data editor: "applies to" joins a rule's column and value ("tier:high").
PLAYBOOK_TARGETS = tuple(f"{c}:{v}" for c, values in plan_engine.RULE_COLUMNS.items() for v in values)


def playbook_rows(rules) -> pd.DataFrame:
    """The rules as editor rows: action, applies_to, cadence_days, first_due_days, owner_role."""
    frame = pd.DataFrame(plan_engine.playbook_records(rules), columns=plan_engine.RULE_FIELDS)
    frame.insert(1, "applies_to", frame["column"] + ":" + frame["value"])
    return frame.drop(columns=["column", "value"])


def playbook_from_rows(rows: pd.DataFrame) -> list[dict]:
    """Editor rows back to playbook records (engine.plan validates them when saved)."""
    records = []
    for row in rows.to_dict("records"):
        column, _, value = str(row.pop("applies_to") or "").partition(":")
        records.append(row | {"column": column or None, "value": value or None})
    return records


def target_label(target: str, lang: str) -> str:
    """"tier:high" in words: "Value tier: High value"."""
    column, _, value = target.partition(":")
    return i18n.t("plan_page.target", lang, column=i18n.label("playbook_column", column, lang),
                  value=i18n.label(RISK_CODES[column], value, lang))


# --- audit log (admins only: the page is in no other role's navigation, and the data
# refuses anyone else) --------------------------------------------------------------------

def admins_only(function):
    """`function`, refused with auth.Forbidden unless the reader may see the audit log."""
    @functools.wraps(function)
    def call(*args, **kwargs):
        auth.actor("see_audit")
        return function(*args, **kwargs)
    return call


@admins_only
@st.cache_data(show_spinner=False, max_entries=8)
def audit_filters(db: str, version: int) -> dict:
    """Actors and actions in the log, and its first and last day (engine.audit.log_filters)."""
    with store.connect(db) as con:
        return audit.log_filters(con)


@admins_only
@st.cache_data(show_spinner=False, max_entries=16)
def audit_view(db: str, version: int, actors: tuple, actions: tuple, start: date | None,
               end: date | None, lang: str) -> pd.DataFrame:
    """The filtered log, newest first, actions in the reader's words."""
    with store.connect(db) as con:
        log = audit.read_log(con, actors=actors, actions=actions, start=start, end=end)
    log["detail"] = [audit.describe(a, d, lang) for a, d in zip(log["action"], log["detail"])]
    return in_words(log, lang, {"action": "audit_action"})


@admins_only
@st.cache_data(show_spinner=False, max_entries=8)
def audit_file(db: str, version: int, actors: tuple, actions: tuple, start: date | None,
               end: date | None, lang: str) -> bytes:
    """The filtered log as CSV, headed in the reader's language, formula-safe."""
    log = audit_view(db, version, actors, actions, start, end, lang)
    return export.to_csv_bytes(log, headers={c: i18n.t(f"audit.col.{c}", lang) for c in log.columns},
                               lang=lang)
