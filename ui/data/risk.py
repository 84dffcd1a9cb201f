"""Churn risk, demand tags, lifecycle and the learned churn model."""
from __future__ import annotations

from datetime import date

import streamlit as st

from engine import churn_model, i18n, prepared
from engine import risk as risk_engine
from engine import risk_page
from ui.data.common import download_file
from ui.data.scoring import scores
from ui.data.sources import features

# Settings travel as (weights, thresholds), so the tiers the plan acts on key the caches.
# The follow-up log is written through engine.plan, whose writes bump the data version:
# every result below is keyed on it and goes stale with the next follow-up.


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
    """Risk and dormancy counts at each of the last 12 month ends and at T (kept in the file:
    over a minute at a million customers)."""
    return prepared.risk_trend(db, version, as_of)


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
              with_model: bool = False, order: str = "value", rows: int | None = None):
    """The high-risk (kind "high") or dormant ("dormant") customers in `order`, in the
    reader's words (engine.risk_page.risk_list; the first `rows`, all for None), with the
    learned model's churn probability and alert when `with_model` and the model could
    be trained."""
    model = churn_model_view(db, version, as_of) if with_model else {}
    return risk_page.risk_list(features(db, version, as_of), risk_assessment(db, version, as_of),
                               scores(db, version, as_of, *settings)["tier"], kind, lang,
                               probability=model.get("probability"), order=order, rows=rows)


@st.cache_data(show_spinner=False, max_entries=16)
def risk_list_file(db: str, version: int, as_of: date, kind: str, settings: tuple, lang: str,
                   file_kind: str, with_model: bool = False, order: str = "value") -> bytes:
    """A risk list as a CSV or Excel file (`file_kind`), headed in the reader's language, in
    the page's order."""
    table = risk_list(db, version, as_of, kind, settings, lang, with_model, order)
    return download_file(table, {c: i18n.t(f"risk_page.col.{c}", lang) for c in table.columns},
                         i18n.t(f"risk_page.list.{kind}_sheet", lang), lang, file_kind)
