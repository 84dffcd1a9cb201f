"""Plotly figures shared by the pages. Inputs are engine frames, labels come translated."""
from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

PALETTE = ["#2E6F9E", "#E07B39", "#3AA17E", "#C44E52", "#8172B2", "#937860",
           "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD"]


def apply_layout(fig: go.Figure, *, height: int = 360) -> go.Figure:
    """Size, legend and font shared by every figure. Axes make room for their tick labels
    and titles (automargin): Streamlit's template leaves that to its own page, so a
    figure written out as HTML (the review report) would cut 物流延迟 to 迟 otherwise."""
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
                      font=dict(family="Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif"))
    return fig


def revenue_and_buyers(monthly: pd.DataFrame, *, revenue: str, buyers: str, month: str) -> go.Figure:
    """Bars of monthly revenue with a line of monthly buyers on a second axis."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    months = pd.to_datetime(monthly["month"]).dt.strftime("%Y-%m")
    fig.add_bar(x=months, y=monthly["revenue"].astype(float), name=revenue,
                marker_color=PALETTE[0])
    fig.add_scatter(x=months, y=monthly["active_customers"], name=buyers,
                    mode="lines+markers", marker_color=PALETTE[1], secondary_y=True)
    fig.update_xaxes(title_text=month, type="category")
    fig.update_yaxes(title_text=revenue, secondary_y=False)
    # Ticks of its own: Streamlit lines a second axis up with the first ("sync"), which
    # puts its ticks at odd numbers (720, 1,440, 2,170).
    fig.update_yaxes(title_text=buyers, secondary_y=True, rangemode="tozero", tickmode="auto",
                     showgrid=False)
    return apply_layout(fig)


def horizontal_bars(frame: pd.DataFrame, *, label: str, value: str, value_title: str) -> go.Figure:
    """Largest first, top to bottom."""
    frame = frame.sort_values(value)
    fig = go.Figure(go.Bar(x=frame[value].astype(float), y=frame[label], orientation="h",
                           marker_color=PALETTE[0]))
    fig.update_xaxes(title_text=value_title)
    return apply_layout(fig, height=max(240, 36 * len(frame) + 80))


def count_columns(frame: pd.DataFrame, *, x: str, y: str, x_title: str,
                  y_title: str) -> go.Figure:
    """Columns of `y` for each value of `x`, in `x` order (a small histogram of counts)."""
    fig = go.Figure(go.Bar(x=frame[x].astype(str), y=frame[y], marker_color=PALETTE[0],
                           hovertemplate="%{x}: %{y:,}<extra></extra>"))
    fig.update_xaxes(title_text=x_title, type="category")
    fig.update_yaxes(title_text=y_title, tickformat=",d")
    return apply_layout(fig, height=300)


def pareto_curve(curve: pd.DataFrame, *, share_at_80: float | None, x_title: str,
                 y_title: str) -> go.Figure:
    """Cumulative revenue share against customer share, with the 80 % mark."""
    fig = go.Figure(go.Scatter(x=curve["customer_share"], y=curve["revenue_share"],
                               mode="lines", line=dict(color=PALETTE[0], width=3)))
    fig.add_hline(y=0.8, line_dash="dot", line_color=PALETTE[3])
    if share_at_80 is not None:
        fig.add_vline(x=share_at_80, line_dash="dot", line_color=PALETTE[3])
    fig.update_xaxes(title_text=x_title, tickformat=".0%", range=[0, 1])
    fig.update_yaxes(title_text=y_title, tickformat=".0%")
    return apply_layout(fig)

# --- scoring, profile, RFM -----------------------------------------------------------

TIER_COLORS = {"high": PALETTE[2], "potential": PALETTE[0], "ordinary": PALETTE[7]}


def score_histogram(histogram: pd.DataFrame, *, names: dict, thresholds: tuple,
                    x_title: str, y_title: str, proposed: tuple | None = None,
                    proposed_name: str = "") -> go.Figure:
    """Customers per score band, stacked by tier, with the two thresholds marked.

    histogram: bin_start, bin_end, tier, customers; names: {tier code: label};
    proposed: thresholds offered but not applied, drawn dashed and labelled
    `proposed_name` with their value.
    """
    bars = [go.Bar(x=(part["bin_start"] + part["bin_end"]) / 2, y=part["customers"],
                   width=(part["bin_end"] - part["bin_start"]) * 0.95, name=names[tier],
                   marker_color=color)
            for tier, color in TIER_COLORS.items()
            for part in [histogram[histogram["tier"] == tier]]]
    # Lines as layout shapes, not add_vline: it costs 10 ms a line, and this figure is
    # drawn again on every slider move.
    line = dict(type="line", xref="x", yref="paper", y0=0, y1=1)
    shapes = [line | dict(x0=v, x1=v, line=dict(dash="dot", color=PALETTE[3])) for v in thresholds]
    shapes += [line | dict(x0=v, x1=v, line=dict(dash="dash", color=PALETTE[4], width=2))
               for v in proposed or ()]
    notes = [dict(x=v, xref="x", y=1, yref="paper", text=f"{proposed_name} {v:g}",
                  showarrow=False, xanchor="right", yanchor="top", font=dict(color=PALETTE[4]))
             for v in proposed or ()]
    fig = go.Figure(bars, layout=dict(barmode="stack", shapes=shapes, annotations=notes))
    fig.update_xaxes(title_text=x_title, range=[0, 100])
    fig.update_yaxes(title_text=y_title)
    return apply_layout(fig)


def tier_history(history: pd.DataFrame, *, names: dict, thresholds: tuple,
                 x_title: str, y_title: str) -> go.Figure:
    """A customer's score at each date, the marker coloured by the tier it gave."""
    known = history[history["known"]]
    dates = pd.to_datetime(known["as_of"]).dt.strftime("%Y-%m-%d")
    fig = go.Figure(go.Scatter(x=dates, y=known["score"], mode="lines", showlegend=False,
                               line=dict(color=PALETTE[7], width=1)))
    for tier, color in TIER_COLORS.items():
        part = known["tier"] == tier
        fig.add_scatter(x=dates[part], y=known.loc[part, "score"], mode="markers",
                        name=names[tier], marker=dict(color=color, size=12))
    for threshold in thresholds:
        fig.add_hline(y=threshold, line_dash="dot", line_color=PALETTE[3])
    fig.update_xaxes(title_text=x_title, type="category")
    fig.update_yaxes(title_text=y_title, range=[0, 100])
    return apply_layout(fig, height=320)


def purchase_timeline(orders: pd.DataFrame, *, amount: str, date: str,
                      refund: str, purchase: str) -> go.Figure:
    """One bar per order on its date (its lines as one): purchases above zero, refunds in
    red below, as they count (DESIGN §3); cancelled and pending orders count nothing and
    draw nothing. `orders` has txn_date, money and purchase (1 or 0)."""
    fig = go.Figure()
    for part, name, color in ((orders["purchase"] == 1, purchase, PALETTE[0]),
                              (orders["money"] < 0, refund, PALETTE[3])):
        rows = orders[part]
        if len(rows):
            fig.add_bar(x=pd.to_datetime(rows["txn_date"]), y=rows["money"], name=name,
                        marker_color=color)
    fig.update_xaxes(title_text=date, tickformat="%Y-%m")
    fig.update_yaxes(title_text=amount)
    return apply_layout(fig, height=320)


def rfm_heatmap(cells: pd.DataFrame, *, value: str, text: str, x_title: str, y_title: str,
                colorscale: str = "Blues") -> go.Figure:
    """A 5 × 5 grid coloured by `value`, each cell showing its `text`, by R (rows, 5 on
    top) and F (columns, 5 on the right)."""
    grid = cells.pivot(index="r", columns="f", values=value)  # R = 1 at the bottom, 5 on top
    labels = cells.pivot(index="r", columns="f", values=text)
    fig = go.Figure(go.Heatmap(z=grid.to_numpy(dtype=float), x=[str(f) for f in grid.columns],
                               y=[str(r) for r in grid.index], colorscale=colorscale,
                               text=labels.to_numpy(), texttemplate="%{text}", showscale=False,
                               xgap=2, ygap=2))
    fig.update_xaxes(title_text=x_title, type="category")
    fig.update_yaxes(title_text=y_title, type="category")
    return apply_layout(fig, height=380)


def segment_treemap(segments: pd.DataFrame, *, label: str, value: str) -> go.Figure:
    """Rectangles sized by `value`, one per segment with any (empty segments left out)."""
    shown = segments[segments[value] > 0]
    fig = go.Figure(go.Treemap(labels=shown[label], parents=[""] * len(shown),
                               values=shown[value], textinfo="label+value+percent root",
                               marker=dict(colors=PALETTE * 2)))
    return apply_layout(fig, height=420)


# --- segments ---------------------------------------------------------------------------


def segment_color(segment: int) -> str:
    """Segment n's colour, the same in every segment chart."""
    return PALETTE[(int(segment) - 1) % len(PALETTE)]


def elbow_silhouette(curve: pd.DataFrame, *, chosen: int, inertia: str, silhouette: str,
                     k_title: str, chosen_text: str) -> go.Figure:
    """Inertia per k (the elbow) and the silhouette per k on a second axis; chosen k marked.

    curve: k, inertia, silhouette.
    """
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_scatter(x=curve["k"], y=curve["inertia"], name=inertia, mode="lines+markers",
                    marker_color=PALETTE[0])
    fig.add_scatter(x=curve["k"], y=curve["silhouette"], name=silhouette, mode="lines+markers",
                    marker_color=PALETTE[1], secondary_y=True)
    fig.add_vline(x=chosen, line_dash="dot", line_color=PALETTE[3],
                  annotation_text=chosen_text, annotation_position="bottom right")
    fig.update_xaxes(title_text=k_title, dtick=1)
    fig.update_yaxes(title_text=inertia, secondary_y=False, rangemode="tozero")
    # Ticks of its own, like revenue_and_buyers' second axis (0.3632, 0.3513 … otherwise).
    fig.update_yaxes(title_text=silhouette, secondary_y=True, tickmode="auto", showgrid=False)
    return apply_layout(fig, height=360)


def plain(values) -> list[str]:
    """User text (a customer id, a complaint topic) for plotly labels and hover text.

    Plotly reads <b>, <br>, <a href=…> in them as markup; escaped, they show
    as typed (plotly turns &lt; back into <).
    """
    return [html.escape(str(v), quote=False) for v in values]


def segment_scatter(points: pd.DataFrame, *, labels: dict, x_title: str,
                    y_title: str) -> go.Figure:
    """One point per drawn customer (x, y), coloured by segment; labels {segment: text}."""
    fig = go.Figure()
    for segment, label in labels.items():
        part = points[points["segment"] == segment]
        fig.add_trace(go.Scattergl(x=part["x"], y=part["y"], mode="markers", name=label,
                                   text=plain(part["customer_id"]), hovertemplate="%{text}",
                                   marker=dict(color=segment_color(segment), size=5,
                                               opacity=0.6)))
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return apply_layout(fig, height=460)


def profile_heatmap(index: pd.DataFrame, *, value_title: str) -> go.Figure:
    """Segments (rows, first on top) × features, coloured by index (100 = average).

    The colour is log2(index / 100), clipped to ±2 (a quarter to four times
    the average), so half and double the average look equally strong; the
    cell shows the index.
    """
    values = index.to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        colour = np.clip(np.log2(np.maximum(values, 1e-9) / 100.0), -2, 2)
    text = [["" if np.isnan(v) else f"{v:,.0f}" for v in row] for row in values]
    fig = go.Figure(go.Heatmap(z=colour, x=list(index.columns), y=list(index.index), text=text,
                               texttemplate="%{text}", customdata=values, zmid=0, zmin=-2, zmax=2,
                               colorscale="RdBu", reversescale=True, showscale=False,
                               hovertemplate="%{y}<br>%{x}<br>" + value_title
                               + " %{customdata:,.0f}<extra></extra>", xgap=2, ygap=2))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category", side="top")
    return apply_layout(fig, height=max(260, 48 * len(index) + 120))


# --- monthly review ---------------------------------------------------------------------

# The tiers' colours, as on the Scoring page; ordinary at the bottom of a stack.
REVIEW_TIER_COLORS = {"high": PALETTE[2], "potential": PALETTE[0], "ordinary": PALETTE[7]}


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def tier_stack(summaries: pd.DataFrame, *, value: str, names: dict, x_title: str,
               y_title: str) -> go.Figure:
    """Bars per month stacked by tier (high on top) of `value` (customers or revenue).

    summaries: month ("YYYY-MM"), tier, and the `value` column; names: {tier code: label}.
    """
    fig = go.Figure()
    for tier in reversed(list(REVIEW_TIER_COLORS)):    # ordinary at the bottom, high on top
        part = summaries[summaries["tier"] == tier]
        fig.add_bar(x=part["month"], y=part[value].astype(float), name=names[tier],
                    marker_color=REVIEW_TIER_COLORS[tier])
    fig.update_layout(barmode="stack", legend_traceorder="reversed")
    fig.update_xaxes(title_text=x_title, type="category")
    fig.update_yaxes(title_text=y_title)
    return apply_layout(fig)


def transition_heatmap(matrix: pd.DataFrame, *, names: dict, x_title: str,
                       y_title: str) -> go.Figure:
    """Customers by tier before (rows, first on top) and after (columns), counts in the cells.

    The colour is log10(1 + count), so the few who moved show beside the many who stayed.
    """
    counts = matrix.to_numpy(dtype=float)
    rows, columns = [names[t] for t in matrix.index], [names[t] for t in matrix.columns]
    fig = go.Figure(go.Heatmap(
        z=np.log10(1 + counts), x=columns, y=rows, customdata=counts,
        text=[[f"{v:,.0f}" for v in row] for row in counts], texttemplate="%{text}",
        colorscale="Blues", showscale=False, xgap=3, ygap=3,
        hovertemplate="%{y} → %{x}: %{customdata:,.0f}<extra></extra>"))
    fig.update_yaxes(title_text=y_title, autorange="reversed", type="category")
    fig.update_xaxes(title_text=x_title, type="category", side="top")
    return apply_layout(fig, height=340)


def transition_sankey(matrix: pd.DataFrame, *, names: dict, before: str, after: str,
                      movers_only: bool = False) -> go.Figure:
    """Flows from each tier at `before` (left) to each tier at `after` (right).

    With movers_only the customers who kept their tier are left out, so the
    shifts are not drowned by the many who stayed.
    """
    k = len(matrix.index)
    labels = ([f"{names[t]} · {before}" for t in matrix.index]
              + [f"{names[t]} · {after}" for t in matrix.columns])
    colours = [REVIEW_TIER_COLORS.get(t, PALETTE[0]) for t in [*matrix.index, *matrix.columns]]
    counts = matrix.to_numpy()
    links = [(i, k + j, int(counts[i, j])) for i in range(k) for j in range(len(matrix.columns))
             if counts[i, j] > 0 and not (movers_only and matrix.index[i] == matrix.columns[j])]
    fig = go.Figure(go.Sankey(
        node=dict(label=labels, color=colours, pad=18, thickness=18,
                  hovertemplate="%{label}: %{value:,}<extra></extra>"),
        link=dict(source=[s for s, _, _ in links], target=[t for _, t, _ in links],
                  value=[v for _, _, v in links],
                  color=[_rgba(colours[s], 0.5) for s, _, _ in links],
                  hovertemplate="%{source.label} → %{target.label}: %{value:,}<extra></extra>"),
        textfont=dict(color="#262730", size=13)))
    return apply_layout(fig, height=380)


def compare_bars(frame: pd.DataFrame, *, label: str, series: dict, value_title: str) -> go.Figure:
    """Horizontal bars per label (first row on top), one bar per series {column: name}.

    With two series (before, now) the earlier is grey and the later blue.
    """
    colours = [PALETTE[7], PALETTE[0]] if len(series) == 2 else PALETTE
    fig = go.Figure()
    for (column, name), colour in zip(series.items(), colours):
        fig.add_bar(x=frame[column], y=plain(frame[label]), name=name, orientation="h",
                    marker_color=colour)
    fig.update_layout(barmode="group", legend_traceorder="normal")
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title_text=value_title)
    return apply_layout(fig, height=max(260, 44 * len(frame) + 100))


def rate_lines(trend: pd.DataFrame, *, lines: dict, hover: list[str], month: str,
               rate: str) -> go.Figure:
    """One line per rate over the months, as percents; a month with nobody eligible is a
    gap in its line (its rate is NaN), never a zero.

    trend: month ("YYYY-MM"), figure, rate, one row per month and figure (engine.review's
    rate trend); lines: {figure: (name, colour, dash)} in drawing order; hover: one text
    per row of `trend` (who was eligible, who responded), shown under the rate.
    """
    fig = go.Figure()
    texts = pd.Series(hover, index=trend.index)
    for figure, (name, colour, dash) in lines.items():
        part = trend[trend["figure"] == figure]
        fig.add_scatter(x=part["month"], y=part["rate"], name=name, mode="lines+markers",
                        connectgaps=False, line=dict(color=colour, width=3, dash=dash),
                        customdata=plain(texts[part.index]),
                        hovertemplate=f"{html.escape(name)} · %{{x}}: %{{y:.1%}}<br>"
                                      "%{customdata}<extra></extra>")
    fig.update_xaxes(title_text=month, type="category")
    fig.update_yaxes(title_text=rate, tickformat=".0%", rangemode="tozero")
    return apply_layout(fig)


def satisfaction_trend(frame: pd.DataFrame, *, mean: str, rated: str, month: str) -> go.Figure:
    """Mean satisfaction per month (line) over the rated interactions (bars, second axis).

    The satisfaction axis shows the whole 1–5 scale, so a dip of 0.1 looks as
    small as it is. frame: month ("YYYY-MM"), rated, mean_satisfaction (NaN
    where nothing was rated).
    """
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=frame["month"], y=frame["rated"], name=rated,
                marker_color=_rgba(PALETTE[7], 0.35), secondary_y=True)
    fig.add_scatter(x=frame["month"], y=frame["mean_satisfaction"], name=mean,
                    mode="lines+markers", marker_color=PALETTE[1], line=dict(width=3))
    fig.update_xaxes(title_text=month, type="category")
    fig.update_yaxes(title_text=mean, secondary_y=False, range=[1, 5], dtick=1)
    fig.update_yaxes(title_text=rated, secondary_y=True, rangemode="tozero", showgrid=False,
                     tickmode="auto", nticks=5, tickformat=",d")
    return apply_layout(fig)


# --- lifetime value -----------------------------------------------------------------------

def quantile_boxes(distribution: pd.DataFrame, *, column: str, y_title: str,
                   tickformat: str | None = None, color: str = PALETTE[0]) -> go.Figure:
    """One box per group from precomputed quantiles (engine.clv_page.distribution_by).

    The box spans `column`'s 25th to 75th percentile with the median; the
    whiskers reach the 10th and 90th; the dashed line is the mean. Groups
    without customers or values are left out.
    """
    shown = distribution[(distribution["customers"] > 0)
                         & distribution[f"{column}_q50"].notna()]
    fig = go.Figure(go.Box(
        x=shown["key"], q1=shown[f"{column}_q25"], median=shown[f"{column}_q50"],
        q3=shown[f"{column}_q75"], lowerfence=shown[f"{column}_q10"],
        upperfence=shown[f"{column}_q90"], mean=shown[f"{column}_mean"],
        boxmean=True, marker_color=color, showlegend=False, hoverinfo="y"))
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text=y_title, tickformat=tickformat, rangemode="tozero")
    return apply_layout(fig, height=340)


def value_band(top: pd.DataFrame, *, label: str, value: str, low: str, high: str,
               x_title: str) -> go.Figure:
    """Horizontal bars of `value`, largest on top, with whiskers from `low` to `high`."""
    frame = top.iloc[::-1]
    fig = go.Figure(go.Bar(
        x=frame[value].astype(float), y=frame[label], orientation="h", marker_color=PALETTE[0],
        error_x=dict(type="data", symmetric=False, array=frame[high] - frame[value],
                     arrayminus=frame[value] - frame[low], color=PALETTE[3], thickness=2),
        hovertemplate="%{y}: %{x:,.0f}<extra></extra>"))
    fig.update_xaxes(title_text=x_title, rangemode="tozero")
    fig.update_yaxes(type="category")
    return apply_layout(fig, height=max(260, 26 * len(frame) + 90))


def holdout_check(table: pd.DataFrame, *, actual: str, predicted: str, x_title: str,
                  y_title: str, customers: str) -> go.Figure:
    """Actual against predicted holdout purchases per customer, by calibration frequency.

    table: label, customers, actual_mean, predicted_mean (engine.clv.holdout_by_frequency).
    """
    fig = go.Figure()
    for column, name, color in (("actual_mean", actual, PALETTE[0]),
                                ("predicted_mean", predicted, PALETTE[1])):
        fig.add_bar(x=table["label"], y=table[column], name=name, marker_color=color,
                    customdata=table["customers"],
                    hovertemplate=f"{name} %{{y:.2f}}<br>{customers} %{{customdata:,}}"
                                  "<extra></extra>")
    fig.update_layout(barmode="group")
    fig.update_xaxes(title_text=x_title, type="category")
    fig.update_yaxes(title_text=y_title, rangemode="tozero")
    return apply_layout(fig)


# --- churn risk ---------------------------------------------------------------------------
RISK_COLORS = {"high": PALETTE[3], "medium": PALETTE[1], "low": PALETTE[2], "dormant": PALETTE[7]}


def risk_demand_heatmap(crosstab: pd.DataFrame, *, x_title: str, y_title: str) -> go.Figure:
    """Customers by risk level (rows, first on top) and demand tag (columns), counts in the cells."""
    fig = go.Figure(go.Heatmap(z=crosstab.to_numpy(), x=list(crosstab.columns),
                               y=list(crosstab.index), text=crosstab.to_numpy(),
                               texttemplate="%{text:,}", colorscale="Reds", showscale=False,
                               hovertemplate="%{y} · %{x}: %{z:,}<extra></extra>",
                               xgap=2, ygap=2))
    fig.update_yaxes(title_text=y_title, autorange="reversed", type="category")
    # Each word of a tag on a line of its own: four columns in half a page at 1,280 px ran
    # "Active demand" into "Potential demand" (the hover keeps the tag whole).
    tags = list(crosstab.columns)
    fig.update_xaxes(title_text=x_title, type="category", side="top", tickangle=0,
                     tickvals=tags, ticktext=[html.escape(t).replace(" ", "<br>") for t in tags])
    return apply_layout(fig, height=300)


def flagged_trend(frame: pd.DataFrame, *, names: dict, month: str, customers: str) -> go.Figure:
    """Flagged customers at each month end: one line per column of `names` ({column: label}).

    frame: month ("YYYY-MM") and the counted columns (high, medium, dormant).
    """
    fig = go.Figure()
    for column, name in names.items():
        fig.add_scatter(x=frame["month"], y=frame[column], name=name, mode="lines+markers",
                        marker_color=RISK_COLORS.get(column, PALETTE[0]), line=dict(width=3))
    fig.update_xaxes(title_text=month, type="category")
    fig.update_yaxes(title_text=customers, rangemode="tozero", tickformat=",d")
    return apply_layout(fig)
