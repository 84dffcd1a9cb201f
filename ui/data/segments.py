"""K-means segments: the Segments page and the segment of each customer."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import streamlit as st

from engine import export, i18n
from engine import segments as segment_engine
from ui.data.plan import tasks
from ui.data.scoring import scores
from ui.data.sources import features

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
