"""The customer list and one customer's profile and tier history."""
from __future__ import annotations

from datetime import date

import streamlit as st

from engine import i18n, prepared, profile, scoring, store
from engine.months import last_month_ends
from engine.scoring_settings import DEFAULT_SETTINGS, weight_map
from engine.words import LIST_CODES, in_words
from ui.data.clv_fit import clv_for_scoring
from ui.data.common import download_file, for_reader, owned, shared_frames
from ui.data.scoring import scores, scoring_plan
from ui.data.sources import event_history, features, opening_view


@shared_frames(max_entries=4)
def customer_table(db: str, version: int, as_of: date, weights: tuple, thresholds: tuple,
                   clv: bool = False):
    """Every customer with score, tier, RFM, pyramid and master data (engine.profile.LIST_COLUMNS).
    Shared, not unpickled per call: five calls of a page run read it, each a million rows."""
    table = features(db, version, as_of)
    return profile.customer_table(table, scores(db, version, as_of, weights, thresholds, clv),
                                  scoring.rfm(table), scoring.pyramid(table))


@for_reader
@st.cache_data(show_spinner=False, max_entries=16)
def customer_filter_options(db: str, version: int, as_of: date, *, owner=None) -> dict[str, list]:
    """The values each filter of the customer list offers (no weight changes them)."""
    return profile.filter_options(owned(customer_table(db, version, as_of, *DEFAULT_SETTINGS),
                                       owner))


@for_reader
@st.cache_data(show_spinner=False, max_entries=16)
def customer_count(db: str, version: int, as_of: date, *, owner=None) -> int:
    """How many customers the reader may see (known at T)."""
    return len(owned(customer_table(db, version, as_of, *DEFAULT_SETTINGS), owner))


@for_reader
@st.cache_data(show_spinner=False, max_entries=32)
def customer_list(db: str, version: int, as_of: date, weights: tuple, thresholds: tuple,
                  filters: dict, search: str, lang: str, clv: bool = False,
                  rows: int | None = None, *, owner=None) -> dict:
    """The filtered customer list, best score first: {"table": its first `rows` (all for
    None) with codes in the reader's words, "count": how many match}. A page draws the
    first rows of a million; only those are put in words and cached."""
    table = profile.filter_customers(
        owned(customer_table(db, version, as_of, weights, thresholds, clv), owner),
        search=search, **filters)
    return {"table": in_words(table.head(rows), lang, LIST_CODES), "count": len(table)}


@for_reader
@st.cache_data(show_spinner=False, max_entries=16)
def customer_list_file(db: str, version: int, as_of: date, weights: tuple, thresholds: tuple,
                       filters: dict, search: str, lang: str, kind: str, clv: bool = False, *,
                       owner=None) -> bytes:
    """The filtered list as a CSV or Excel file (`kind`), headed in the reader's language,
    formula-safe."""
    table = customer_list.scoped(db, version, as_of, weights, thresholds, filters, search, lang,
                                 clv, owner=owner)["table"]
    return download_file(table, {c: i18n.t(f"customers.col.{c}", lang) for c in table.columns},
                         i18n.t("nav.customers", lang), lang, kind)


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
    result = {"record": record, "events": events, "summary": None}
    if not (table["customer_id"] == customer_id).any():   # not known at T: nothing to explain
        return result
    return result | profile.explained_score(
        customer_id, customers=table, features=features(db, version, as_of),
        scores=scores(db, version, as_of, weights, thresholds, clv),
        plan=scoring_plan(db, version, as_of, weights, clv),
        clv=clv_for_scoring(db, version, as_of) if clv else None)


@st.cache_data(show_spinner=False, max_entries=26)
def month_end_sub_scores(db: str, version: int, day: date, clv: bool = False):
    """Sub-metric scores of every customer at a past date (the feature query once per date;
    with `clv`, the CLV models fitted as of that date join them)."""
    lifetime = clv_for_scoring(db, version, day) if clv else None
    history = event_history(db, version)
    with store.connect(db) as con:
        return profile.month_end_sub_scores(con, as_of=day, clv=lifetime, history=history)


@shared_frames(max_entries=2)
def month_end_tiers(db: str, version: int, as_of: date, weights: tuple, thresholds: tuple,
                    clv: bool = False):
    """Every customer's score and tier at the last 12 month ends, with today's settings
    (engine.profile.month_end_tiers); kept in the file for the opening view."""
    def compute():
        return profile.month_end_tiers(
            ((day, *month_end_sub_scores(db, version, day, clv)) for day in last_month_ends(as_of)),
            weights=weight_map(weights), thresholds=thresholds)
    settings = (weights, thresholds, clv)
    return prepared.month_end_tiers(db, version, as_of, settings, compute,
                                    keep=opening_view(db, version, as_of, settings))


@st.cache_data(show_spinner=False, max_entries=64)
def tier_history(db: str, version: int, as_of: date, customer_id: str, weights: tuple,
                 thresholds: tuple, clv: bool = False):
    """The customer's score and tier at the last 12 month ends, with today's settings."""
    return profile.customer_tier_history(
        month_end_tiers(db, version, as_of, weights, thresholds, clv), customer_id)


@for_reader
@st.cache_data(show_spinner=False, max_entries=32)
def customer_choices(db: str, version: int, as_of: date, weights: tuple, thresholds: tuple,
                     search: str, limit: int = 100, clv: bool = False, *, owner=None) -> dict:
    """{customer_id: "id · name"} of up to `limit` customers matching `search`, best first."""
    return profile.customer_choices(
        owned(customer_table(db, version, as_of, weights, thresholds, clv), owner), search, limit)
