"""The Churn risk page's customer lists, from the feature table and engine.risk.assess:
who is on the high-risk or the dormant list, in which order, in the reader's words."""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine import churn_model, risk
from engine.words import RISK_CODES, in_words

RISK_LIST_COLUMNS = ("customer_id", "name", "owner", "tier", "risk_level", "demand_tag",
                     "lifecycle", "revenue_12m", "last_purchase_date", "last_interaction_date",
                     "complaints_90d", "risk_reasons")


def risk_list(features: pd.DataFrame, assessed: pd.DataFrame, tiers: pd.Series, kind: str,
              lang: str, *, probability: pd.Series | None = None,
              order: str = "value", rows: int | None = None) -> pd.DataFrame:
    """The high-risk (kind "high") or dormant ("dormant") customers.

    `assessed` and `tiers` are row by row with `features`. Columns
    RISK_LIST_COLUMNS with codes in the reader's words; with the learned model's
    `probability` (by customer_id), + churn_probability and model_alert
    (engine.churn_model.model_alerts: among the model's top as many customers as
    the rules flag high). `order` "value": the value at risk (12-month revenue)
    first; "probability": the likeliest to stop buying first (then by value;
    customers without a probability last). Ties by customer_id. With `rows`, only the
    first `rows` of them: the reasons and words of what a page draws, not of a
    hundred thousand customers.
    """
    chosen = np.flatnonzero((assessed["risk_level"] == "high" if kind == "high"
                             else assessed["demand_tag"] == "dormant").to_numpy())
    members = features.iloc[chosen].assign(
        tier=tiers.to_numpy()[chosen],
        **{c: assessed[c].to_numpy()[chosen] for c in ("risk_level", "demand_tag", "lifecycle")},
        risk_reasons=None)
    members = members[list(RISK_LIST_COLUMNS)].assign(_row=chosen)
    if probability is not None:
        ids = members["customer_id"].to_numpy()
        members["churn_probability"] = probability.reindex(ids).to_numpy()
        alerts = churn_model.model_alerts(probability,
                                          int((assessed["risk_level"] == "high").sum()))
        members["model_alert"] = alerts.reindex(ids).fillna(False).to_numpy(dtype=bool)
    keys = (["churn_probability"] if order == "probability" and "churn_probability" in members
            else [])
    members = members.sort_values([*keys, "revenue_12m", "customer_id"],
                                  ascending=[False] * len(keys) + [False, True],
                                  kind="stable", na_position="last").head(rows)
    members["risk_reasons"] = risk.reasons_text(assessed.iloc[members.pop("_row")],
                                                lang).to_numpy()
    return in_words(members.reset_index(drop=True), lang, RISK_CODES)
