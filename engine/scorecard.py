"""One row per customer with every lens: the output of `python -m engine score`.

    python -m engine score --db DB [--as-of YYYY-MM-DD] [--weights 40,30,20,10]
                           [--thresholds 80,60] [--with-clv] [--lang en|zh] --out FILE.csv

The columns of DESIGN §5 in SCORECARD_COLUMNS. demand_tag, risk_level,
risk_reasons (in English, or Chinese with --lang zh), lifecycle, next_action
and next_action_due come from `engine.plan.risk_columns` under the saved
playbook; segment is the k-means segment of `engine.segments.assign_segments`
(automatic k, default features; empty when the base is too small to
segment). The last two, p_alive and
clv_12m, come from the lifetime-value models (`engine.clv`, DESIGN §4.9):
empty for a customer without a purchase, and for everyone when the data do
not support them (the command says why on stderr). With --with-clv the
12-month CLV joins the consumption dimension of the score (the optional
sub-metric `scoring.CLV_SUB_METRIC`, as the Scoring page's toggle does);
when the data do not support it the command refuses (exit 1) rather than
write a score that silently lacks it.
"""
from __future__ import annotations

import datetime as dt
from typing import Mapping, Sequence

import pandas as pd

from engine import clv, plan, scoring, segments

SCORECARD_COLUMNS = (
    "customer_id", "name", "score", "tier", "consumption", "interaction", "stability",
    "referral", "r", "f", "m", "rfm_segment", "pyramid", "demand_tag", "risk_level",
    "risk_reasons", "lifecycle", "segment", "next_action", "next_action_due", "owner",
    "p_alive", "clv_12m",
)
LATER_COLUMNS = ("demand_tag", "risk_level", "risk_reasons", "lifecycle",
                 "next_action", "next_action_due")


def build_scorecard(features: pd.DataFrame, *,
                    weights: Mapping[str, float] = scoring.DEFAULT_WEIGHTS,
                    thresholds: Sequence[float] = scoring.DEFAULT_THRESHOLDS,
                    available: Mapping[str, bool] | None = None,
                    lifetime: pd.DataFrame | None = None,
                    actions: Mapping | None = None,
                    clv_in_score: bool = False) -> pd.DataFrame:
    """The scorecard of every customer in the feature table, in its row order.

    lifetime : customer_id, p_alive and clv_12m (the `customers` frame of an
        `engine.clv.ClvResult`), or None when there are no lifetime values.
    clv_in_score : the 12-month CLV of `lifetime` joins the consumption
        dimension (`scoring.score_customers(clv=...)`); needs `lifetime`.
    actions : as_of, followup_state, playbook and lang for
        `plan.risk_columns`, which fills plan.RISK_COLUMNS; None leaves them empty.

    Returns
    -------
    DataFrame with SCORECARD_COLUMNS: customer_id, name, score, tier and the
    four dimension scores of `scoring.score_customers` (NaN for a left-out
    dimension); r, f, m and rfm_segment of `scoring.rfm` (NA for non-buyers);
    pyramid of `scoring.pyramid`; owner; LATER_COLUMNS (from `actions`, else empty); p_alive
    (6 decimals) and clv_12m (cents) from `lifetime`, NaN for a customer
    it does not hold.
    """
    if clv_in_score and lifetime is None:
        raise ValueError("the CLV cannot join the score without lifetime values.")
    clv = lifetime.set_index("customer_id")["clv_12m"] if clv_in_score else None
    scores = scoring.score_customers(features, weights=weights, thresholds=thresholds,
                                     available=available, clv=clv)
    grid = scoring.rfm(features)
    levels = scoring.pyramid(features)
    card = pd.DataFrame({
        "customer_id": features["customer_id"],
        "name": features["name"],
        **{c: scores[c] for c in ("score", "tier", *scoring.DIMENSIONS)},
        **{c: grid[c] for c in ("r", "f", "m", "rfm_segment")},
        "pyramid": levels["pyramid"],
        "segment": _segment_column(features),
        **{c: pd.Series(None, index=features.index, dtype=object) for c in LATER_COLUMNS},
        "owner": features["owner"],
        **_lifetime_columns(features, lifetime),
    }, index=features.index)
    if actions is not None:
        tiers = pd.Series(scores["tier"].to_numpy(), index=features["customer_id"].to_numpy())
        filled = plan.risk_columns(features, tiers=tiers, **actions)
        for column in plan.RISK_COLUMNS:
            card[column] = filled[column].to_numpy()
    return card[list(SCORECARD_COLUMNS)].reset_index(drop=True)


def _segment_column(features: pd.DataFrame) -> pd.Series:
    """Segment 1..k of each customer, the same numbering as the Segments page's default."""
    try:
        assigned = segments.assign_segments(features)
    except ValueError:  # too few distinct customers to form two segments
        return pd.Series(pd.NA, index=features.index, dtype="Int64")
    return pd.Series(assigned["segment"].to_numpy(), index=features.index, dtype="Int64")


def _lifetime_columns(features: pd.DataFrame, lifetime: pd.DataFrame | None) -> dict:
    ids = features["customer_id"]
    if lifetime is None:
        lifetime = pd.DataFrame({"customer_id": [], "p_alive": [], "clv_12m": []})
    by_id = lifetime.set_index("customer_id")
    return {"p_alive": ids.map(by_id["p_alive"].astype(float)).round(6),
            "clv_12m": ids.map(by_id["clv_12m"].astype(float)).round(2)}


def lifetime_values(summary: pd.DataFrame, *, as_of: dt.date
                    ) -> tuple[pd.DataFrame | None, str | None]:
    """P(alive) and 12-month CLV from a `clv_inputs.purchase_summary` as of T.

    Returns
    -------
    (customer_id, p_alive, clv_12m frame or None, a sentence saying what is
    left empty and why, or None when nothing is).
    """
    try:
        result = clv.fit_and_predict(summary, calibration_end=as_of, as_of=as_of)
    except clv.ClvUnavailable as exc:
        return None, f"p_alive and clv_12m are left empty: {exc}"
    frame = result.customers[["customer_id", "p_alive", "clv_12m"]]
    if result.spend_error is not None:
        return frame, f"clv_12m is left empty: {result.spend_error}"
    return frame, None
