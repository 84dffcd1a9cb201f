"""Churn risk, demand tags, lifecycle and the learned churn model."""
from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from engine import churn_model, i18n
from engine import risk as risk_engine
from ui.data.common import download_files, in_words
from ui.data.scoring import scores
from ui.data.sources import features

# Settings travel as (weights, thresholds), so the tiers the plan acts on key the caches.
# The follow-up log is written through engine.plan, whose writes bump the data version:
# every result below is keyed on it and goes stale with the next follow-up.


# Code columns of the risk lists and the task list, and the label kind that names their codes.
RISK_CODES = {"tier": "tier", "risk_level": "risk", "demand_tag": "demand",
              "lifecycle": "lifecycle", "action": "action", "owner": "owner_role",
              "last_followup_status": "followup_status", "state": "task_state"}
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
    return download_files(table, {c: i18n.t(f"risk_page.col.{c}", lang) for c in table.columns},
                          i18n.t(f"risk_page.list.{kind}_sheet", lang), lang)
