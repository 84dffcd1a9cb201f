"""K-means segments: the Segments page and the segment of each customer."""
from __future__ import annotations

from datetime import date

import streamlit as st

from engine import export, i18n, prepared
from engine import segment_page
from engine import segments as segment_engine
from ui.data.plan import tasks
from ui.data.scoring import scores
from ui.data.sources import features, opening_view

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
    def compute():
        bar = st.progress(0.0, text=_progress_text) if _progress_text else None
        try:
            return segment_engine.segment_customers(
                features(db, version, as_of), columns=columns, k=k,
                progress=(lambda f: bar.progress(f, text=_progress_text)) if bar else None)
        finally:
            if bar is not None:
                bar.empty()
    keep = (k is None and tuple(columns) == SEGMENT_FEATURES
            and opening_view(db, version, as_of))   # kept in the file: the opening view
    return prepared.segmentation(db, version, as_of, columns, k, compute, keep=keep)


@st.cache_data(show_spinner=False, max_entries=16)
def segment_view(db: str, version: int, as_of: date, columns: tuple, k: int | None,
                 lang: str, settings: tuple, _progress_text: str | None = None) -> dict:
    """Everything the Segments page draws except the scatter, in the reader's words
    (engine.segment_page.segment_page). settings: those of the tiers in the crosstab and
    of the tasks behind each segment's next step."""
    automatic = segmentation(db, version, as_of, columns, None, _progress_text)
    result = automatic if k is None else segmentation(db, version, as_of, columns, k,
                                                      _progress_text)
    return segment_page.segment_page(features(db, version, as_of), automatic, result, k,
                                     tiers=scores(db, version, as_of, *settings)["tier"],
                                     tasks=tasks(db, version, as_of, settings), lang=lang)


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
