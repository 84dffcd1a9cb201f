"""Thresholds from a target on the Scoring page (DESIGN §4.2's sliders, helped).

A mean of percentiles bunches scores in the middle, so fixed thresholds
(80 / 60) can leave a tier nearly empty. The manager states a target
instead ("the top 10 % of customers", "the customers making half the
revenue"); engine.scoring.thresholds_for_target turns it into thresholds,
which the histogram shows beside the current ones before "Apply" moves the
sliders. The target applied is kept in session state (scoring.target) and
saved with a preset; moving a threshold slider by hand forgets it.
"""
from __future__ import annotations

import streamlit as st

from engine.scoring import DEFAULT_TARGETS, TARGET_BASES
from ui.data import scoring as scoring_data

TARGET = "scoring.target"          # the target the current thresholds came from, or None
ss = st.session_state


def restore(target: dict | None) -> None:
    """Show a saved target in the widgets (a preset loaded) and remember it as applied."""
    ss[TARGET] = target
    if target is not None:
        ss["scoring.target.basis"] = target["basis"]
        ss["scoring.target.high"] = int(target["high"])
        ss["scoring.target.potential"] = int(target["potential"])


def _basis_changed() -> None:
    """A new basis starts from its own first offer (10 / 40 % of customers, 50 / 80 % of
    revenue): a share of customers and a share of revenue are different scales."""
    ss["scoring.target.high"], ss["scoring.target.potential"] = \
        DEFAULT_TARGETS[ss["scoring.target.basis"]]


def _apply(thresholds: tuple[int, int], target: dict) -> None:
    ss["scoring.high"], ss["scoring.potential"] = thresholds
    ss[TARGET] = target


def choose(ctx, settings: tuple) -> dict | None:
    """The target widgets; returns {"target", "thresholds", "mix"} of the offer, or None
    when the target cannot be met (no revenue for a revenue target), said in words."""
    t = ctx.t
    ss.setdefault("scoring.target.basis", TARGET_BASES[0])
    basis = st.segmented_control(t("scoring.target.basis"), TARGET_BASES,
                                 key="scoring.target.basis", required=True,
                                 format_func=lambda b: t(f"scoring.target.basis.{b}"),
                                 on_change=_basis_changed)
    first = DEFAULT_TARGETS[basis]
    ss.setdefault("scoring.target.high", first[0])
    ss.setdefault("scoring.target.potential", first[1])
    left, right = st.columns(2)
    left.number_input(t(f"scoring.target.high.{basis}"), 1, 100, key="scoring.target.high",
                      step=5, help=t(f"scoring.target.high_help.{basis}"))
    right.number_input(t(f"scoring.target.potential.{basis}"), 1, 100,
                       key="scoring.target.potential", step=5,
                       help=t(f"scoring.target.potential_help.{basis}"))
    target = {"basis": basis, "high": ss["scoring.target.high"],
              "potential": max(ss["scoring.target.potential"], ss["scoring.target.high"])}
    try:
        offer = scoring_data.threshold_offer(ctx.db, ctx.version, ctx.as_of, settings,
                                             (target["basis"], target["high"], target["potential"]))
    except ValueError:
        st.info(t("scoring.target.no_revenue"))
        return None
    return offer | {"target": target}


def apply_button(ctx, offer: dict, thresholds: tuple) -> None:
    """What the offer would make, and the button that moves the sliders to it."""
    t = ctx.t
    high, potential = offer["thresholds"]
    mix = offer["mix"].set_index("key")
    st.caption(t("scoring.target.offer", high=high, potential=potential,
                 high_share=mix.loc["high", "customer_share"],
                 high_revenue=mix.loc["high", "revenue_share"],
                 potential_share=mix.loc["potential", "customer_share"],
                 potential_revenue=mix.loc["potential", "revenue_share"]))
    st.button(t("scoring.target.apply", high=high, potential=potential), key="scoring.target.apply",
              on_click=_apply, args=((high, potential), offer["target"]),
              disabled=tuple(thresholds) == (high, potential), icon=":material/done:")
