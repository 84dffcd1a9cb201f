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
from ui.widgets import keep_value

TARGET = "scoring.target"          # the target the current thresholds came from, or None
BASIS = "scoring.target.basis"
SHOWN_BASIS = "scoring.target.shown_basis"   # the basis the widgets showed in the last run
ss = st.session_state


def restore(target: dict | None) -> None:
    """Show a saved target in the widgets (a preset loaded) and remember it as applied."""
    ss[TARGET] = target
    if target is not None:
        ss[BASIS] = ss[SHOWN_BASIS] = target["basis"]
        ss["scoring.target.high"] = int(target["high"])
        ss["scoring.target.potential"] = int(target["potential"])


def _basis(ctx) -> str:
    """The basis widget; a new basis starts from its own first offer (10 / 40 % of
    customers, 50 / 80 % of revenue): a share of customers and a share of revenue are
    different scales.

    The browser can hand the widget back empty although it is required (seen after a
    weight slider moved in Streamlit 1.67), so the basis shown last stands in for an
    empty one; the check runs in the script, before the widgets, not in a callback that
    would meet the empty value first. The value is set on every run, as `keep_value`
    does and for its reason.
    """
    shown = ss.get(SHOWN_BASIS, TARGET_BASES[0])
    ss[BASIS] = ss.get(BASIS) or shown
    if ss[BASIS] != shown:
        ss["scoring.target.high"], ss["scoring.target.potential"] = DEFAULT_TARGETS[ss[BASIS]]
    basis = st.segmented_control(ctx.t("scoring.target.basis"), TARGET_BASES, key=BASIS,
                                 required=True,
                                 format_func=lambda b: ctx.t(f"scoring.target.basis.{b}"))
    ss[SHOWN_BASIS] = basis
    return basis


def _apply(thresholds: tuple[int, int], target: dict) -> None:
    ss["scoring.high"], ss["scoring.potential"] = thresholds
    ss[TARGET] = target


def choose(ctx, settings: tuple) -> dict | None:
    """The target widgets; returns {"target", "thresholds", "mix"} of the offer, or None
    when the target cannot be met (no revenue for a revenue target), said in words."""
    t = ctx.t
    basis = _basis(ctx)
    first = DEFAULT_TARGETS[basis]
    keep_value("scoring.target.high", first[0])
    keep_value("scoring.target.potential", first[1])
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
