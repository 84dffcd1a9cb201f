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
