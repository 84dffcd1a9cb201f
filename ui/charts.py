"""Plotly figures shared by the pages. Inputs are engine frames, labels come translated."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

PALETTE = ["#2E6F9E", "#E07B39", "#3AA17E", "#C44E52", "#8172B2", "#937860",
           "#DA8BC3", "#8C8C8C", "#CCB974", "#64B5CD"]


def _layout(fig: go.Figure, *, height: int = 360) -> go.Figure:
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
    fig.update_yaxes(title_text=buyers, secondary_y=True, rangemode="tozero")
    return _layout(fig)


def horizontal_bars(frame: pd.DataFrame, *, label: str, value: str, value_title: str) -> go.Figure:
    """Largest first, top to bottom."""
    frame = frame.sort_values(value)
    fig = go.Figure(go.Bar(x=frame[value].astype(float), y=frame[label], orientation="h",
                           marker_color=PALETTE[0]))
    fig.update_xaxes(title_text=value_title)
    return _layout(fig, height=max(240, 36 * len(frame) + 80))


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
    return _layout(fig)

# --- scoring, profile, RFM -----------------------------------------------------------

TIER_COLORS = {"high": PALETTE[2], "potential": PALETTE[0], "ordinary": PALETTE[7]}


def score_histogram(histogram: pd.DataFrame, *, names: dict, thresholds: tuple,
                    x_title: str, y_title: str) -> go.Figure:
    """Customers per score band, stacked by tier, with the two thresholds marked.

    histogram: bin_start, bin_end, tier, customers; names: {tier code: label}.
    """
    fig = go.Figure()
    for tier, color in TIER_COLORS.items():
        part = histogram[histogram["tier"] == tier]
        fig.add_bar(x=(part["bin_start"] + part["bin_end"]) / 2, y=part["customers"],
                    width=(part["bin_end"] - part["bin_start"]) * 0.95, name=names[tier],
                    marker_color=color)
    for threshold in thresholds:
        fig.add_vline(x=threshold, line_dash="dot", line_color=PALETTE[3])
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text=x_title, range=[0, 100])
    fig.update_yaxes(title_text=y_title)
    return _layout(fig)


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
    return _layout(fig, height=320)


def purchase_timeline(transactions: pd.DataFrame, *, amount: str, date: str,
                      refund: str, purchase: str) -> go.Figure:
    """One bar per transaction on its date; refunds (negative amounts) in red."""
    fig = go.Figure()
    refunds = transactions["amount"] < 0
    for part, name, color in ((~refunds, purchase, PALETTE[0]), (refunds, refund, PALETTE[3])):
        rows = transactions[part]
        if len(rows):
            fig.add_bar(x=pd.to_datetime(rows["txn_date"]), y=rows["amount"], name=name,
                        marker_color=color)
    fig.update_xaxes(title_text=date, tickformat="%Y-%m")
    fig.update_yaxes(title_text=amount)
    return _layout(fig, height=320)


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
    return _layout(fig, height=380)


def segment_treemap(segments: pd.DataFrame, *, label: str, value: str) -> go.Figure:
    """Rectangles sized by `value`, one per segment with any (empty segments left out)."""
    shown = segments[segments[value] > 0]
    fig = go.Figure(go.Treemap(labels=shown[label], parents=[""] * len(shown),
                               values=shown[value], textinfo="label+value+percent root",
                               marker=dict(colors=PALETTE * 2)))
    return _layout(fig, height=420)

