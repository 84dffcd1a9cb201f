"""Scoring 价值评分: weights, thresholds, the tier mix and who moves (DESIGN §4.1–4.2)."""
import streamlit as st

from engine.scoring import (DEFAULT_THRESHOLDS, DEFAULT_WEIGHTS, DIMENSIONS, SMALL_TIER_SHARE,
                            TIERS, rebalance_weights, small_tiers)
from report import charts
from ui import auth, context, format, threshold_target
from ui.data import scoring as scoring_data
from ui.settings import keep_scoring_settings, scoring_settings
from ui.widgets import keep_value

DEFAULT = "__default__"  # the baseline and preset that stands for the built-in weights
MOVERS_SHOWN = 500       # movers listed; the sentence above the list counts them all
ss = st.session_state


def weight_key(dimension: str) -> str:
    return f"scoring.weight.{dimension}"


def rebalance(dimension: str) -> None:
    """One weight moved: the others share the rest in proportion, so the total stays 100.

    The proportions are those from before this slider started moving, so a
    step at a time ends where one long move would (whole numbers drift otherwise).
    """
    moving, anchor = ss.get("scoring.anchor") or (None, None)
    if moving != dimension:  # the weights before this move: the others sum to 100 without it
        anchor = {d: ss[weight_key(d)] for d in DIMENSIONS if d != dimension}
        anchor[dimension] = 100 - sum(anchor.values())
        ss["scoring.anchor"] = (dimension, anchor)
    for d, w in rebalance_weights(anchor, dimension, ss[weight_key(dimension)]).items():
        ss[weight_key(d)] = w


def order_thresholds(moved: str) -> None:
    """Keep potential ≤ high: the other slider follows the one moved. Thresholds set by
    hand no longer come from a target."""
    ss[threshold_target.TARGET] = None
    if ss["scoring.potential"] > ss["scoring.high"]:
        other = "scoring.potential" if moved == "scoring.high" else "scoring.high"
        ss[other] = ss[moved]


def load_preset(name: str, presets: dict) -> None:
    weights, thresholds = presets[name]["weights"], presets[name]["thresholds"]
    ss["scoring.clv"] = presets[name]["clv"]
    first = DIMENSIONS[0]  # whole numbers summing to 100 whatever the preset holds
    for d, w in rebalance_weights(weights, first, weights[first]).items():
        ss[weight_key(d)] = w
    ss["scoring.high"], ss["scoring.potential"] = (round(v) for v in thresholds)
    threshold_target.restore(presets[name].get("target"))
    ss["scoring.baseline_name"] = name
    ss["scoring.anchor"] = None


def save_preset(ctx: context.Context, weights: tuple, thresholds: tuple, clv: bool) -> None:
    """Save the working settings under the typed name; "Compare with" keeps the baseline the
    user chose (the new preset equals the working settings: comparing with it shows nothing)."""
    name = ss["scoring.preset_name"].strip()
    scoring_data.save_preset(ctx.db, name, weights, thresholds, clv, ss.get(threshold_target.TARGET))
    st.toast(ctx.t("scoring.preset.saved", name=name))


ctx = context.require()
t = ctx.t
st.title(t("scoring.title"))
st.caption(t("scoring.caption", as_of=ctx.as_of))
presets = {DEFAULT: {"weights": DEFAULT_WEIGHTS, "thresholds": DEFAULT_THRESHOLDS, "clv": False,
                     "target": None}} | \
    scoring_data.presets(ctx.db, ctx.version)
(weights, thresholds, clv) = scoring_settings()
for key, value in zip([weight_key(d) for d in DIMENSIONS] + ["scoring.high", "scoring.potential",
                                                            "scoring.clv"],
                      [*weights, *thresholds, clv]):
    keep_value(key, value)
if ss.get("scoring.baseline_name") not in presets:
    ss["scoring.baseline_name"] = DEFAULT
preset_name = ({n: n for n in presets} | {DEFAULT: t("scoring.preset.default")}).get


def clv_problem():
    """Why the CLV sub-metric cannot join the score (a ClvUnavailable), or None; a
    refusal turns the toggle off."""
    # The models are fitted only once CLV is asked for (a large base takes seconds);
    # when they cannot serve, the toggle stays off and says why.
    problem = None
    if ctx.feature_table:   # the models are fitted on purchase histories, which it lacks
        ss["scoring.clv"] = False
    elif ss["scoring.clv"] or ss.get("scoring.clv_refused"):
        with st.spinner(t("clv.fitting")):
            problem = scoring_data.clv_score_problem(ctx.db, ctx.version, ctx.as_of)
        ss["scoring.clv_refused"] = problem is not None
        if problem is not None:
            ss["scoring.clv"] = False
    return problem


def settings_panel(weights: tuple, thresholds: tuple, clv: bool, problem) -> None:
    """Weights, thresholds, the CLV toggle and presets (the left column)."""
    st.subheader(t("scoring.weights"))
    for d in DIMENSIONS:
        st.slider(ctx.label("dimension", d), 0, 100, key=weight_key(d), on_change=rebalance,
                  args=(d,), help=t(f"scoring.weight_help.{d}"))
    st.caption(t("scoring.weights_total", total=sum(weights)))
    st.subheader(t("scoring.thresholds"))
    st.slider(t("scoring.high"), 0, 100, key="scoring.high", on_change=order_thresholds,
              args=("scoring.high",), help=t("scoring.high_help"))
    st.slider(t("scoring.potential"), 0, 100, key="scoring.potential",
              on_change=order_thresholds, args=("scoring.potential",), help=t("scoring.potential_help"))
    st.subheader(t("scoring.clv.title"))
    st.toggle(t("scoring.clv.toggle"), key="scoring.clv",
              disabled=ctx.feature_table or problem is not None, help=t("scoring.clv.help"),
              wrap=True)
    if ctx.feature_table:
        st.caption(t("source.needs.clv_score"))
    elif problem is not None:
        st.caption(t("scoring.clv.unavailable", reason=problem.message(ctx.lang)))
    st.subheader(t("scoring.presets"))
    editable = auth.allowed("edit_presets")   # loading a preset is for everyone
    choice = st.selectbox(t("scoring.preset.choose"), list(presets), format_func=preset_name,
                          key="scoring.preset_choice")
    load, delete = st.columns(2)
    load.button(t("scoring.preset.load"), on_click=load_preset, args=(choice, presets),
                width="stretch", key="scoring.load")
    if delete.button(t("scoring.preset.delete"), disabled=choice == DEFAULT or not editable,
                     width="stretch", key="scoring.delete"):
        scoring_data.delete_preset(ctx.db, choice)
        st.rerun()
    st.text_input(t("scoring.preset.name"), key="scoring.preset_name", max_chars=60,
                  disabled=ctx.feature_table or not editable)
    st.button(t("scoring.preset.save"), on_click=save_preset, args=(ctx, weights, thresholds, clv),
              disabled=ctx.feature_table or not editable
              or ss["scoring.preset_name"].strip() in ("", DEFAULT),
              type="primary", key="scoring.save")
    if ctx.feature_table:
        st.caption(t("source.needs.presets"))
    elif not editable:
        st.caption(":material/lock: " + t("access.presets_admin_only"))


def results(plan, weights: tuple, thresholds: tuple, clv: bool) -> None:
    """The tier mix, who moves and the score distribution (the right column)."""
    if plan is None:
        st.error(t("scoring.no_weight_left"))
        return
    if plan.left_out_dimensions or plan.left_out_sub_metrics:
        sep = t("scoring.list_sep")
        st.warning(t("scoring.left_out",
                     sub_metrics=sep.join(ctx.label("submetric", m) for m in plan.left_out_sub_metrics)
                     or t("common.none"),
                     dimensions=sep.join(ctx.label("dimension", d) for d in plan.left_out_dimensions)
                     or t("common.none"),
                     weights=sep.join(f"{ctx.label('dimension', d)} {w:.1f}"
                                      for d, w in plan.weights.items())))
    st.subheader(t("scoring.mix"))
    mix_box = st.container()
    st.subheader(t("scoring.changed"))
    baseline_name = st.selectbox(t("scoring.baseline"), list(presets), format_func=preset_name,
                                 index=list(presets).index(ss["scoring.baseline_name"]))
    ss["scoring.baseline_name"] = baseline_name  # kept across pages and preset changes
    baseline = (tuple(presets[baseline_name]["weights"][d] for d in DIMENSIONS),
                tuple(presets[baseline_name]["thresholds"]), presets[baseline_name]["clv"])
    settings = (weights, thresholds, clv)
    try:   # the counts first: the sentence reaches the browser before the list is made
        up, down = scoring_data.tier_changes(ctx.db, ctx.version, ctx.as_of, settings, baseline)
    except ValueError:
        st.error(t("scoring.baseline_unusable"))
        return
    st.markdown(t("scoring.changed_summary", up=up, down=down,
                  baseline=preset_name(baseline_name)))
    view = scoring_data.scoring_view(ctx.db, ctx.version, ctx.as_of, settings, baseline,
                                     MOVERS_SHOWN)
    movers = view["movers"]
    if len(movers):
        st.dataframe(movers.assign(**{c: movers[c].map(lambda v: ctx.label("tier", v))
                                      for c in ("tier_before", "tier_after")},
                                   direction=movers["direction"].map(lambda v: t(f"scoring.move.{v}"))),
                     hide_index=True, height=300, column_config={
                         c: st.column_config.NumberColumn(t(f"scoring.col.{c}"), format="%.1f")
                         if c.startswith("score") else t(f"scoring.col.{c}") for c in movers.columns},
                     column_order=["customer_id", "name", "direction", "tier_before", "tier_after",
                                   "score_before", "score_after"])
        if up + down > len(movers):
            st.caption(t("scoring.movers_shown", shown=len(movers), total=up + down))

    mix, before = view["mix"], view["mix_before"]
    with mix_box:
        for card, tier, now, was in zip(st.columns(len(TIERS)), TIERS, mix.itertuples(),
                                        before.itertuples()):
            card.metric(ctx.label("tier", tier), f"{now.customers:,}", border=True,
                        delta=int(now.customers - was.customers) or None, delta_color="off",
                        help=t("scoring.tier_card_help", share=now.customer_share,
                               revenue=now.revenue_share))
        number = st.column_config.NumberColumn
        shares = ["customer_share", "revenue_share"]
        st.dataframe(format.in_points(mix, shares).assign(
                         key=mix["key"].map(lambda c: ctx.label("tier", c))),
                     hide_index=True, height="content", column_config={
                         "key": t("scoring.col.tier"),
                         "customers": number(t("scoring.col.customers"), format="localized"),
                         "customer_share": number(t("scoring.col.customer_share"), format=format.POINTS),
                         "revenue": number(t("scoring.col.revenue"), format="yen"),
                         "revenue_share": number(t("scoring.col.revenue_share"), format=format.POINTS)})
        for tier in small_tiers(mix):
            row = mix.set_index("key").loc[tier]
            st.warning(t("scoring.small_tier", tier=ctx.label("tier", tier),
                         n=int(row["customers"]), share=row["customer_share"],
                         revenue=row["revenue_share"], below=SMALL_TIER_SHARE),
                       icon=":material/info:")

    st.subheader(t("scoring.distribution"))
    st.caption(t("scoring.target.caption"))
    offer = threshold_target.choose(ctx, (weights, thresholds, clv))
    st.plotly_chart(charts.score_histogram(view["histogram"],
                                           names={c: ctx.label("tier", c) for c in TIERS},
                                           thresholds=thresholds, x_title=t("scoring.score"),
                                           y_title=t("scoring.col.customers"),
                                           proposed=offer and offer["thresholds"],
                                           proposed_name=t("scoring.target.proposed")),
                    key="scoring.histogram")
    if offer is not None:
        threshold_target.apply_button(ctx, offer, thresholds)


@st.fragment
def page_body():
    """Everything below the title: a slider move reruns this, not app.py and the sidebar.

    The results are drawn before the settings' widgets (in the right column, beside
    them), so that the movers sentence reaches the browser first; the widgets' values
    are already in the session state (a slider's callback ran before this rerun).
    """
    left, right = st.columns([1, 2], gap="large")
    with left:   # its spinner where the toggle is
        problem = clv_problem()
    weights = tuple(ss[weight_key(d)] for d in DIMENSIONS)
    thresholds = (ss["scoring.high"], ss["scoring.potential"])
    clv = ss["scoring.clv"]
    try:
        plan = scoring_data.scoring_plan(ctx.db, ctx.version, ctx.as_of, weights, clv)
        keep_scoring_settings(weights, thresholds, clv)  # the other pages score with them
    except ValueError:  # all the weight on dimensions without data: keep the last usable
        plan = None
    with right:
        results(plan, weights, thresholds, clv)
    with left:
        settings_panel(weights, thresholds, clv, problem)


page_body()
