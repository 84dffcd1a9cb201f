"""Scores, tiers and presets under the Scoring page's settings, and the RFM page."""
from __future__ import annotations

from datetime import date

import streamlit as st

from engine import presets as preset_store
from engine import prepared, scoring, store
from engine.features import optional_columns_present
from engine.scoring_settings import weight_map
from ui import auth
from ui.data.clv_fit import clv_fit, clv_for_scoring
from ui.data.common import shared_frames
from ui.data.sources import feature_table_summary, features, is_feature_table, opening_view

# Settings travel as (weights, thresholds, clv) (engine.scoring_settings), so they key the
# caches. Scores are cached on them; the feature query only on T and the data version, so
# a slider move re-scores without touching the file, and the CLV fit (clv_fit) only on the
# file, version and T.


@shared_frames(max_entries=16)
def sub_scores(db: str, version: int, as_of: date, clv: bool = False):
    """(sub-metric scores, sources present) as of T: the part no slider changes.

    With `clv`, the 12-month CLV sub-metric too, and the source "clv" counts
    as present only when the fit gave values (else the score leaves it out).
    A feature table holds no purchase histories to fit on: CLV stays out.
    """
    if is_feature_table(db):
        return _sub_scores(db, version, as_of)
    if not clv:   # kept in the file for the opening view
        return prepared.sub_scores(db, version, as_of, lambda: _sub_scores(db, version, as_of),
                                   keep=opening_view(db, version, as_of))
    table, available = features(db, version, as_of), _sources_present(db, version, as_of)
    values = clv_for_scoring(db, version, as_of)
    subs = scoring.sub_metric_scores(table, available=available, clv=values)
    column = scoring.CLV_SUB_METRIC.score_column
    return subs, {**available, "clv": column in subs and bool(subs[column].notna().any())}


def _sub_scores(db: str, version: int, as_of: date) -> tuple:
    available = _sources_present(db, version, as_of)
    return scoring.sub_metric_scores(features(db, version, as_of), available=available), available


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

    Not cached itself: `scores` keeps those of the pages' settings and `current_scores`
    those of the last slider positions; a million-row frame kept for every slider
    position would only fill the memory.
    """
    subs, available = sub_scores(db, version, as_of, clv)
    return scoring.combine_scores(subs, weights=weight_map(weights), thresholds=thresholds,
                                  available=available)


# The scores of the settings the pages use (a session's own and the baselines), cached.
scores = shared_frames(max_entries=8)(combined_scores)


@shared_frames(max_entries=2)
def current_scores(db: str, version: int, as_of: date, weights: tuple, thresholds: tuple,
                   clv: bool = False):
    """`combined_scores` of the settings a slider move has just set, which the Scoring
    page's view and its threshold offer both need in the same run: computed once, and
    only the last two positions kept. A function of its own, not a second cache over
    combined_scores: Streamlit keys a cache by the function, and two of different sizes
    over one function would replace each other on every call."""
    return combined_scores(db, version, as_of, weights, thresholds, clv)


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
def tier_changes(db: str, version: int, as_of: date, settings: tuple,
                 baseline: tuple) -> tuple[int, int]:
    """(up, down): customers whose tier `settings` moves up or down from `baseline`'s, for
    the sentence a slider move rewrites first; `scoring_view` lists them after."""
    return scoring.tier_move_counts(scores(db, version, as_of, *baseline),
                                    current_scores(db, version, as_of, *settings))


@st.cache_data(show_spinner=False, max_entries=32)
def scoring_view(db: str, version: int, as_of: date, settings: tuple, baseline: tuple,
                 movers: int | None = None) -> dict:
    """The Scoring page: tier mix under `settings` and under `baseline` (each weights,
    thresholds, clv), movers (the first `movers` of them), histogram."""
    table = features(db, version, as_of)
    now = current_scores(db, version, as_of, *settings)
    moves = scoring.tier_moves(scores(db, version, as_of, *baseline), now, carry=table[["name"]],
                               rows=movers)
    return {"mix": scoring.category_mix(now["tier"], table["revenue_12m"], categories=scoring.TIERS),
            "mix_before": tier_mix(db, version, as_of, baseline),
            "up": moves.up, "down": moves.down, "movers": moves.movers,
            "histogram": scoring.score_histogram(now["score"], now["tier"])}


@st.cache_data(show_spinner=False, max_entries=16)
def tier_mix(db: str, version: int, as_of: date, settings: tuple):
    """The tier mix under `settings`: the baseline's, the same on every slider move."""
    return scoring.category_mix(scores(db, version, as_of, *settings)["tier"],
                                features(db, version, as_of)["revenue_12m"],
                                categories=scoring.TIERS)


@st.cache_data(show_spinner=False, max_entries=32)
def threshold_offer(db: str, version: int, as_of: date, settings: tuple, target: tuple) -> dict:
    """The thresholds a target (basis, high %, potential %) gives under `settings`' weights
    (engine.scoring.thresholds_for_target) and the tier mix they would make; ValueError
    when it cannot be met (a revenue target without revenue)."""
    table = features(db, version, as_of)
    score = current_scores(db, version, as_of, *settings)["score"]
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
